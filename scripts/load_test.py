"""Bounded load test of the production server with mixed traffic; writes docs/RELIABILITY.md.

Copies an indexed data directory (so the source stays untouched), creates an API token in the
copy, starts ``matcher-web`` (waitress) on a free loopback port and lets N simulated users run
for a fixed time. Each user repeatedly picks a request — result page of a search, JSON match,
profile page, Inno Slam plan, or a profile update through the API (every other one changes the
"needs" text, so the profile is embedded again) — then waits a think time. Afterwards it reports
sustained requests/s, latency percentiles per request type and every error, and stops the server.

Example: python scripts/load_test.py --data-dir /tmp/demo --clients 50 --duration 60
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import click

from matcher.districts import DISTRICTS
from matcher.docs import machine_summary, replace_section
from matcher.evaluation import load_eval_set
from matcher.settings import load_settings
from matcher.store import Store
from matcher.tokens import Tokens

ROOT = Path(__file__).resolve().parent.parent
MIX = {"search_page": 40, "match_api": 20, "profile_page": 28, "slam_plan": 10,
       "profile_update": 2}
DEFAULT_MIX = dict(MIX)
LABELS = {"search_page": "search result page `/?text=…`", "match_api": "`GET /api/match`",
          "profile_page": "profile page `/profile/<id>`", "slam_plan": "`GET /api/slam`",
          "profile_update": "`PATCH /api/profiles/<id>` (token)"}
NEED_VARIANTS = ("Außerdem suchen wir Unterstützung bei der Digitalisierung der Fertigung.",
                 "Zusätzlich interessiert uns die Prüfung von Schweißnähten mit Ultraschall.",
                 "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


@dataclass
class Results:
    """Latencies (ms) and errors per request type; thread-safe appends."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float, error: str | None) -> None:
        with self.lock:
            self.latencies[kind].append(ms)
            if error:
                self.errors[kind].append(error)


class Workload:
    """What the simulated users ask for."""

    def __init__(self, data_dir: Path, token: str, text_share: float) -> None:
        self.text_share = text_share
        self.queries = [q.text for q in load_eval_set(ROOT / "corpora" / "eval").queries]
        with Store(data_dir) as store:
            rows = store.table_rows()
            self.needs = {p.id: p.needs or "" for _, p in store.iter_profiles(("company",))}
        self.public = [r["id"] for r in rows if r["visibility"] == "public"]
        self.companies = sorted(self.needs)
        self.regions = [d.name for d in DISTRICTS]
        self.token = token

    def request(self, kind: str, rng: random.Random) -> tuple[str, str, bytes | None,
                                                              dict[str, str]]:
        """(method, path, body, headers) of one request of the given kind."""
        quote = urllib.parse.quote
        if kind == "search_page":
            return "GET", "/?text=" + quote(rng.choice(self.queries)), None, {}
        if kind == "match_api":
            return "GET", "/api/match?limit=10&text=" + quote(rng.choice(self.queries)), None, {}
        if kind == "profile_page":
            return "GET", "/profile/" + quote(rng.choice(self.public)), None, {}
        if kind == "slam_plan":
            return "GET", "/api/slam?region=" + quote(rng.choice(self.regions)), None, {}
        pid = rng.choice(self.companies)
        change: dict[str, object] = {"employees": rng.randint(5, 500)}
        if rng.random() < self.text_share:
            change["needs"] = (self.needs[pid] + " " + rng.choice(NEED_VARIANTS)).strip()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        return "PATCH", "/api/profiles/" + quote(pid), json.dumps(change).encode(), headers


def user(port: int, work: Workload, results: Results, deadline: float, think: tuple[float, float],
         seed: int, kinds: list[str], weights: list[int]) -> None:
    """One simulated user with its own keep-alive connection."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    time.sleep(rng.uniform(0, think[1]))  # users do not all start in the same instant
    while time.time() < deadline:
        kind = rng.choices(kinds, weights)[0]
        method, path, body, headers = work.request(kind, rng)
        started = time.perf_counter()
        error = None
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                error = f"{resp.status} {method} {path}"
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__} {method} {path}"
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        results.add(kind, (time.perf_counter() - started) * 1000, error)
        time.sleep(rng.uniform(*think))
    conn.close()


def warm_up(port: int, work: Workload) -> float:
    """Every search query, every Kreis's plan and every profile page once: the steady state of
    a long-lived server, whose answers stay cached until a change that can alter them."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    paths = (["/?text=" + urllib.parse.quote(q) for q in work.queries]
             + ["/api/match?limit=10&text=" + urllib.parse.quote(q) for q in work.queries]
             + ["/api/slam?region=" + urllib.parse.quote(r) for r in work.regions]
             + ["/profile/" + urllib.parse.quote(p) for p in work.public])
    for path in paths:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise click.ClickException(f"Aufwärmen: {resp.status} für {path}")
    conn.close()
    return time.perf_counter() - started


def start_server(data_dir: Path, port: int, threads: int) -> subprocess.Popen:
    server = str(Path(sys.executable).parent / "matcher-web")
    proc = subprocess.Popen([server, "--data-dir", str(data_dir), "--port", str(port),
                             "--threads", str(threads)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.time() + 300
    while time.time() < end:
        if proc.poll() is not None:
            raise click.ClickException("matcher-web ist beendet: "
                                       + (proc.stderr.read() if proc.stderr else b"").decode())
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            if resp.status == 200 and json.loads(resp.read())["warm"]:  # warm-up done
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise click.ClickException("matcher-web wurde nicht rechtzeitig bereit.")


def report(results: Results, seconds: float, args: dict[str, object], warm_s: float,
           load_before: str, load_after: str, command: str) -> str:
    total = sum(len(v) for v in results.latencies.values())
    errors = sum(len(v) for v in results.errors.values())
    every = [x for v in results.latencies.values() for x in v]
    lines = [
        f"Measured {dt.date.today()} on {machine_summary()}; load average before "
        f"{load_before}, after {load_after}. {args['profiles']} public profiles, embedder "
        f"`{args['embedder']}`, `matcher-web` (waitress, "
        f"{args['threads']} threads) on loopback, {args['clients']} simulated users for "
        f"{args['duration']:.0f} s, each waiting {args['think']} s between requests; server "
        f"warmed up first ({warm_s:.0f} s: every query, plan and profile page once). "
        f"{args['text_share']:.0%} of the updates change the needs text (the profile is "
        "embedded again; cached search results and partner lists it cannot change stay, every "
        "other answer is computed anew), the rest only the number of employees (cached "
        "answers stay valid).",
        "",
        f"Command: `{command}`",
        "",
        f"**{total / seconds:.1f} requests/s sustained, {total} requests, {errors} errors; "
        f"all requests p50 {pct(every, .5):.0f} ms, p95 {pct(every, .95):.0f} ms, "
        f"p99 {pct(every, .99):.0f} ms.**",
        "",
        "| request | share | count | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in MIX:
        lat = results.latencies.get(kind, [])
        lines.append(
            f"| {LABELS[kind]} | {MIX[kind]:.1f} % | {len(lat)} | {len(lat) / seconds:.1f} | "
            f"{pct(lat, .5):.0f} | {pct(lat, .95):.0f} | {pct(lat, .99):.0f} | "
            f"{max(lat) if lat else float('nan'):.0f} | {len(results.errors.get(kind, []))} |")
    shown = [e for v in results.errors.values() for e in v][:10]
    if shown:
        lines += ["", "First errors: " + "; ".join(f"`{e}`" for e in shown)]
    return "\n".join(lines)


@click.command()
@click.option("--data-dir", required=True, help="Indexed data directory (matcher ingest + index).")
@click.option("--clients", default=50, show_default=True, help="Simulated users.")
@click.option("--duration", default=60.0, show_default=True, help="Seconds of load.")
@click.option("--think", default="0.5:1.5", show_default=True,
              help="Think time between a user's requests, uniform MIN:MAX seconds (0:0 = none).")
@click.option("--threads", default=32, show_default=True, help="waitress worker threads.")
@click.option("--update-share", default=2.0, show_default=True,
              help="Percent of requests that update a profile.")
@click.option("--text-share", default=0.25, show_default=True,
              help="Share of updates that change the needs text (re-embedding).")
@click.option("--section", default="load_test", show_default=True,
              help="Section of docs/RELIABILITY.md to replace.")
@click.option("--seed", default=7, show_default=True)
@click.option("--out", default=str(ROOT / "docs" / "RELIABILITY.md"), show_default=True,
              help="Markdown file to write the section into.")
def main(data_dir: str, clients: int, duration: float, think: str, threads: int,
         update_share: float, text_share: float, section: str, seed: int, out: str) -> None:
    """Run the bounded mixed-traffic load test and record it in docs/RELIABILITY.md."""
    reads = sum(v for k, v in MIX.items() if k != "profile_update")
    for k in MIX:
        MIX[k] = (update_share if k == "profile_update"
                  else DEFAULT_MIX[k] * (100 - update_share) / reads)
    low, high = (float(x) for x in think.split(":"))
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="matcher-load-") as tmp:
        work_dir = Path(tmp) / "instance"
        shutil.copytree(data_dir, work_dir)
        with Store(work_dir) as store:
            token, _ = Tokens(store).create("Lasttest", ["profiles:write"])
        port = free_port()
        proc = start_server(work_dir, port, threads)
        try:
            work = Workload(work_dir, token, text_share)
            warm_s = warm_up(port, work)
            click.echo(f"Aufgewärmt in {warm_s:.0f} s; Last läuft {duration:.0f} s …", err=True)
            results = Results()
            kinds, weights = list(MIX), list(MIX.values())
            started = time.time()
            deadline = started + duration
            pool = [threading.Thread(target=user, args=(port, work, results, deadline,
                                                        (low, high), seed + i, kinds, weights))
                    for i in range(clients)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            seconds = time.time() - started
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    load_after = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    command = (f"python scripts/load_test.py --data-dir DATA --clients {clients} "
               f"--duration {duration:g} --think {think} --threads {threads} "
               f"--update-share {update_share:g} --text-share {text_share:g}")
    body = report(results, seconds, {"clients": clients, "duration": duration, "think": think,
                                     "threads": threads, "profiles": len(work.public),
                                     "text_share": text_share,
                                     "embedder": load_settings().embedder},
                  warm_s, load_before, load_after, command)
    click.echo(body, err=True)
    target = Path(out)
    if not target.exists():
        target.write_text("# Reliability and load\n", encoding="utf-8")
    replace_section(target, section, body)


if __name__ == "__main__":
    main()
