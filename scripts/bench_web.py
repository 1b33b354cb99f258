"""Page weight and server time of the web app, measured against the production server.

Starts ``matcher-web`` (waitress) on a free loopback port over an indexed data directory, requests
the first result page of every eval query plus every stylesheet and script it references, and
writes the bytes transferred and the server time (time to first byte on loopback) into
docs/WEB.md (section "bench_web").

Example: python scripts/bench_web.py --data-dir instance
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import click

from matcher.docs import machine_summary, replace_section
from matcher.evaluation import load_eval_set

ROOT = Path(__file__).resolve().parent.parent
ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str) -> tuple[int, float, float]:
    """(bytes, ms to first byte, ms total) of one GET."""
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as resp:
        first = resp.read(1)
        ttfb = (time.perf_counter() - t0) * 1000
        body = first + resp.read()
    return len(body) + sum(len(k) + len(v) + 4 for k, v in resp.headers.items()), ttfb, (
        time.perf_counter() - t0) * 1000


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise click.ClickException("matcher-web ist beendet, bevor es bereit war.")
        try:  # warm: models, index and every Kreis's demand loaded (matcher-web's warm-up)
            if json.loads(urllib.request.urlopen(base + "/healthz", timeout=2).read())["warm"]:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise click.ClickException("matcher-web wurde nicht rechtzeitig bereit.")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


@click.command()
@click.option("--data-dir", default="instance", show_default=True,
              help="Indexed data directory (make data).")
@click.option("--section", default="bench_web", show_default=True)
def main(data_dir: str, section: str) -> None:
    """Measure first-result-page weight and server time on the demo corpus."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = str(Path(sys.executable).parent / "matcher-web")
    proc = subprocess.Popen([server, "--data-dir", data_dir, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(base, proc)
        queries = [q.text for q in load_eval_set(ROOT / "corpora" / "eval").queries]
        fetch(f"{base}/?text=" + urllib.parse.quote(queries[0]))  # load the models once
        weights, first_ms, again_ms, assets_seen = [], [], [], {}
        for text in queries:
            url = f"{base}/?text=" + urllib.parse.quote(text)
            size, ttfb, _ = fetch(url)
            first_ms.append(ttfb)
            html = urllib.request.urlopen(url, timeout=120).read().decode("utf-8")
            again_ms.append(fetch(url)[1])
            total = size
            for asset in ASSET.findall(html):
                if asset not in assets_seen:
                    assets_seen[asset] = fetch(base + asset)[0]
                total += assets_seen[asset]
            weights.append(total)
        pages = {path: fetch(base + path) for path in
                 ("/", "/regionen", "/regionen/erzgebirgskreis", "/slam?region=Erzgebirgskreis")}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    kb = [w / 1024 for w in weights]
    lines = [
        f"Demo corpus in `{data_dir}`, `matcher-web` (waitress) on loopback, measured "
        f"{dt.date.today()} on {machine_summary()}, load average {load} at the end. "
        f"First result page = `/?text=…` for each of the {len(queries)} eval queries "
        "(10 results, map, explanations) plus its stylesheet and script, uncompressed; "
        "server time = time to the first byte.",
        "",
        "| measure | p50 | p95 | max |", "|---|---|---|---|",
        f"| transferred per first result page (KB) | {statistics.median(kb):.1f} | "
        f"{pct(kb, .95):.1f} | {max(kb):.1f} |",
        f"| server time, first request of a query (ms) | {statistics.median(first_ms):.0f} | "
        f"{pct(first_ms, .95):.0f} | {max(first_ms):.0f} |",
        f"| server time, same query again (ms) | {statistics.median(again_ms):.0f} | "
        f"{pct(again_ms, .95):.0f} | {max(again_ms):.0f} |",
        "", "| other page | KB | server time ms |", "|---|---|---|",
    ]
    lines += [f"| `{path}` | {size / 1024:.1f} | {ttfb:.0f} |"
              for path, (size, ttfb, _) in pages.items()]
    lines.append("")
    lines.append("Assets: " + ", ".join(f"`{a}` {n / 1024:.1f} KB"
                                        for a, n in sorted(assets_seen.items())) + ".")
    for line in lines:
        click.echo(line, err=True)
    target = ROOT / "docs" / "WEB.md"
    if not target.exists():
        target.write_text("# Web app: page weight and speed\n\nTargets (issue #7): first result "
                          "page under 300 KB transferred and under 200 ms server time on the "
                          "demo corpus. Generated by `scripts/bench_web.py`.\n", encoding="utf-8")
    replace_section(target, section, "\n".join(lines))


if __name__ == "__main__":
    main()
