"""Crash safety: SIGKILL ``matcher ingest``, ``matcher index`` and ``matcher-web`` at random
moments; afterwards the store is intact and holds the old or the new import, the index is the old
or the new build (never half), a stale index is detected and ``matcher index`` fixes it, and
nothing that was committed is lost.

Kills come at random delays over a process's lifetime and, to hit the short write phases on
purpose, right after the ingest starts writing (the WAL grows) or the index build folder appears.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from matcher.errors import IndexStateError
from matcher.indexer import index_root, load_index, read_manifest, staleness
from matcher.models import RecordValidator
from matcher.settings import load_settings
from matcher.store import DB_FILENAME, Store
from matcher.synthetic import generate_profiles
from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.slow
PROFILES = 1000
ROUNDS = 8  # corpus variants for the ingest rounds
MIN_KILLS = 7  # real kills of ingest and of index each; plus SERVER_ROUNDS server kills
SERVER_ROUNDS = 6
ENV = {**os.environ, "MATCHER_EMBEDDER": "hashing", "MATCHER_SENTENCE_EMBEDDER": "hashing",
       "PYTHONPATH": str(ROOT)}
kills: Counter[str] = Counter()


def cli(data_dir: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "matcher.cli", "--data-dir", str(data_dir),
                             *args], env=ENV, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float = 120) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode(errors="replace")
    return out.decode()


def kill_when(proc: subprocess.Popen, trigger: Callable[[], bool] | None, delay: float,
              what: str) -> bool:
    """SIGKILL ``proc`` ``delay`` s after start, or ``delay`` s after ``trigger()`` first holds.
    Returns whether it was still running (a real kill) or had finished on its own."""
    if trigger is not None:
        deadline = time.monotonic() + 120
        while proc.poll() is None and not trigger() and time.monotonic() < deadline:
            time.sleep(0.002)
    time.sleep(delay)
    if proc.poll() is not None:
        proc.communicate()
        return False
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    if proc.returncode == 0:  # it finished between the check and the signal
        return False
    assert proc.returncode == -signal.SIGKILL
    kills[what] += 1
    return True


# -- state of the store -------------------------------------------------------------------
def integrity(data_dir: Path) -> None:
    conn = sqlite3.connect(data_dir / DB_FILENAME)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        fts = conn.execute("INSERT INTO profiles_fts(profiles_fts) VALUES('integrity-check')")
        fts.fetchall()
    finally:
        conn.close()


def hashes(data_dir: Path) -> dict[str, str]:
    conn = sqlite3.connect(data_dir / DB_FILENAME)
    try:
        return dict(conn.execute("SELECT id, content_hash FROM profiles").fetchall())
    finally:
        conn.close()


def imports(data_dir: Path) -> int:
    conn = sqlite3.connect(data_dir / DB_FILENAME)
    try:
        return int(conn.execute("SELECT count(*) FROM import_log").fetchone()[0])
    finally:
        conn.close()


def sqlite_rows(data_dir: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(data_dir / DB_FILENAME)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def write_token(data_dir: Path) -> str:
    from matcher.tokens import Tokens

    with Store(data_dir) as store:
        secret, _ = Tokens(store).create("Absturztest", ["profiles:write"])
    return secret


def wal_size(data_dir: Path) -> int:
    try:
        return (data_dir / (DB_FILENAME + "-wal")).stat().st_size
    except OSError:
        return 0


# -- state of the index -------------------------------------------------------------------
def build_fingerprint(data_dir: Path) -> tuple[str, str] | None:
    """(name, digest of every file) of the current build, or None without one."""
    root = index_root(data_dir)
    if not (root / "CURRENT").exists():
        return None
    name = (root / "CURRENT").read_text(encoding="utf-8").strip()
    h = hashlib.sha256()
    for f in sorted((root / name).iterdir()):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return name, h.hexdigest()


def new_build_dir(data_dir: Path, current: str | None) -> Callable[[], bool]:
    root = index_root(data_dir)

    def appeared() -> bool:
        try:
            return any(p.name.startswith("build-") and p.name != current for p in root.iterdir())
        except OSError:
            return False
    return appeared


# -- corpus variants ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus(tmp_path_factory, gazetteer):
    base = list(generate_profiles(PROFILES, gazetteer, seed=11))
    rng = random.Random(5)
    folder = tmp_path_factory.mktemp("crash-corpus")
    validator = RecordValidator(gazetteer)
    files = []
    for r in range(ROUNDS + 1):
        records = [dict(rec) for rec in base]
        if r:  # every round changes 15 % of the profiles and adds 50 new ones
            for rec in rng.sample(records, len(records) * 15 // 100):
                rec["description"] += f" Stand der Runde {r}: {rng.randint(0, 10**6)}."
            extra = list(generate_profiles(50, gazetteer, seed=100 + r))
            records += [dict(x, id=f"neu-{r}-{i}") for i, x in enumerate(extra)]
        path = folder / f"runde-{r}.jsonl"
        path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in records),
                        encoding="utf-8")
        expected = {}
        for rec in records:
            check = validator.check(rec)
            assert check.profile is not None, check.errors
            expected[check.profile.id] = check.profile.content_hash()
        files.append((path, expected))
    for r in range(SERVER_ROUNDS):  # new profiles only, imported while the server writes
        records = [dict(x, id=f"srv-{r}-{i}")
                   for i, x in enumerate(generate_profiles(300, gazetteer, seed=200 + r))]
        path = folder / f"server-{r}.jsonl"
        path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in records),
                        encoding="utf-8")
        files.append((path, {x["id"]: "" for x in records}))
    return files


def test_sigkill_ingest_index_and_server(corpus, tmp_path):
    data_dir = tmp_path / "instance"
    settings = load_settings({"data_dir": str(data_dir), "embedder": "hashing",
                              "sentence_embedder": "hashing"}, environ={})
    rng = random.Random(2026)
    took: dict[str, float] = {}
    t0 = time.monotonic()
    finish(cli(data_dir, "ingest", str(corpus[0][0])))
    took["ingest"] = time.monotonic() - t0
    finish(cli(data_dir, "index"))
    took["index"] = time.monotonic() - t0 - took["ingest"]
    # A process can finish before its moment comes (more often on a busy machine): rounds go
    # on, over the corpus variants again, until each kind was really killed often enough.
    r = 0
    while (kills["ingest"] < MIN_KILLS or kills["index"] < MIN_KILLS) and r < 3 * ROUNDS:
        r += 1
        if kills["ingest"] < MIN_KILLS:
            ingest_round(data_dir, corpus[(r - 1) % ROUNDS + 1], rng, r, took, settings)
        index_round(data_dir, rng, r, took, settings)
    server = start_server(data_dir)
    for r in range(SERVER_ROUNDS):
        server = server_round(data_dir, server, rng, r, corpus[ROUNDS + 1 + r], settings)
    server[0].send_signal(signal.SIGKILL)
    server[0].communicate()

    assert sum(kills.values()) >= 20, kills
    assert kills["ingest"] >= MIN_KILLS and kills["index"] >= MIN_KILLS, kills
    assert kills["server"] >= 6, kills


def ingest_round(data_dir: Path, variant, rng: random.Random, r: int, took: dict[str, float],
                 settings) -> None:
    path, file_hashes = variant
    old, logged = hashes(data_dir), imports(data_dir)
    new = {**old, **file_hashes}
    assert new != old
    t0 = time.monotonic()
    proc = cli(data_dir, "ingest", str(path))
    if r % 3 == 0:  # right after the write transaction starts to reach the disk
        base = wal_size(data_dir)
        killed = kill_when(proc, lambda: wal_size(data_dir) > base, rng.uniform(0, 0.05),
                           "ingest")
    else:
        killed = kill_when(proc, None, rng.uniform(0.1, 1.0) * took["ingest"], "ingest")
    if not killed:
        took["ingest"] = time.monotonic() - t0
    integrity(data_dir)
    after = hashes(data_dir)
    assert after in (old, new), "the store holds a partial import"
    if not killed:
        assert after == new, "a finished import was lost"
    # the import log entry commits together with the profiles
    assert imports(data_dir) == logged + (after == new)
    with Store(data_dir) as store:
        why = staleness(read_manifest(data_dir), store, settings)
        if after == new:  # detected as stale, with the command that fixes it
            assert why and "veraltet" in why
            with pytest.raises(IndexStateError, match=r"matcher --data-dir .* index"):
                load_index(store, settings)
        else:
            assert why is None
    print(f"round {r}: ingest killed={killed} new={after == new}")


def index_round(data_dir: Path, rng: random.Random, r: int, took: dict[str, float],
                settings) -> None:
    before = build_fingerprint(data_dir)
    assert before is not None
    with Store(data_dir) as store:
        was_current = staleness(read_manifest(data_dir), store, settings) is None
    proc = cli(data_dir, "index", "--force")
    if r % 3 == 1:  # while the new build folder is being written or switched to
        killed = kill_when(proc, new_build_dir(data_dir, before[0]), rng.uniform(0, 0.3),
                           "index")
    else:
        killed = kill_when(proc, None, rng.uniform(0.1, 1.0) * took["index"], "index")
    integrity(data_dir)
    after = build_fingerprint(data_dir)
    with Store(data_dir) as store:
        if after == before:  # the old build, byte for byte
            assert killed, "a finished index build was lost"
            if not was_current:
                with pytest.raises(IndexStateError):
                    load_index(store, settings)
        else:  # the new build: complete and current
            assert after is not None
            assert load_index(store, settings).docs.ntotal == store.count()
    # The next run brings the index up to date; a run that builds leaves only its build behind
    # (folders of a killed run are unused until then).
    t0 = time.monotonic()
    report = json.loads(finish(cli(data_dir, "index", "--json")))
    if not report["up_to_date"]:
        took["index"] = time.monotonic() - t0
    with Store(data_dir) as store:
        assert staleness(read_manifest(data_dir), store, settings) is None
        assert load_index(store, settings).docs.ntotal == store.count()
    current = build_fingerprint(data_dir)
    assert current is not None
    builds = [p.name for p in index_root(data_dir).iterdir() if p.name.startswith("build-")]
    assert current[0] in builds
    if not report["up_to_date"]:
        assert builds == [current[0]], builds
    print(f"round {r}: index killed={killed} new={after != before} "
          f"recovery up_to_date={report['up_to_date']} leftovers={len(builds) - 1}")


class Traffic(threading.Thread):
    """Mixed requests in a loop until stopped: searches, pages and (with a token) profile
    updates. Counts answers by status (0 = no answer) and remembers acknowledged writes."""

    def __init__(self, url: str, ids: list[str], token: str | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.ids, self.token, self.stop = url, ids, token, threading.Event()
        self.status: Counter[int] = Counter()
        self.acknowledged: dict[str, str] = {}  # id -> description confirmed with 200
        self.pending: tuple[str, str] | None = None  # the write without an answer

    def _request(self, n: int) -> urllib.request.Request:
        if self.token and n % 3 == 0:
            pid = self.ids[(n // 3) % len(self.ids)]
            text = f"Geänderte Beschreibung {n} {random.random():.6f}: Galvanik und Sensorik."
            self.pending = (pid, text)
            return urllib.request.Request(
                f"{self.url}/api/profiles/{pid}", method="PATCH",
                data=json.dumps({"description": text}).encode(),
                headers={"Authorization": f"Bearer {self.token}",
                         "Content-Type": "application/json"})
        self.pending = None
        paths = ["/api/match?text=Galvanik+und+Korrosionsschutz&near=Freiberg",
                 "/api/search?text=Sensorik", "/?text=Sensorik", "/api/stats",
                 f"/profile/{self.ids[n % len(self.ids)]}"]
        return urllib.request.Request(self.url + paths[n % len(paths)])

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            req = self._request(n)
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    self.status[resp.status] += 1
                    if self.pending is not None and resp.status == 200:
                        self.acknowledged[self.pending[0]] = self.pending[1]
                        self.pending = None
            except urllib.error.HTTPError as exc:
                self.status[exc.code] += 1
                self.pending = None
            except OSError:
                self.status[0] += 1
                if self.pending is not None:
                    return  # the server is gone; keep the unanswered write as pending
                time.sleep(0.05)


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", "from webapp.server import main; main()",
                             "--data-dir", str(data_dir), "--port", str(port)], env=ENV,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("matcher-web did not start")


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def check_server(url: str, data_dir: Path, committed: dict[str, str], settings) -> None:
    """The (re)started server sees every committed profile and answers matches; a stale index
    is reported with the command that fixes it, and fixed while the server keeps running."""
    status, body = get(url + "/healthz")
    assert status == 200 and body["profiles"] == len(committed)
    status, body = get(url + "/api/match?text=Galvanik&near=Freiberg")
    with Store(data_dir) as store:
        current = staleness(read_manifest(data_dir), store, settings) is None
    if status == 503:  # stale and not (yet) caught up by the server itself
        assert not current and body["ok"] is False and "matcher" in body["error"]
        finish(cli(data_dir, "index"))
        status, body = get(url + "/api/match?text=Galvanik&near=Freiberg")
    assert status == 200 and body["results"]


def server_round(data_dir: Path, server: tuple[subprocess.Popen, str], rng: random.Random,
                 r: int, variant, settings) -> tuple[subprocess.Popen, str]:
    """Kill a serving server (in some rounds while an import or index build runs), restart it
    and check it; returns the new server for the next round."""
    proc, url = server
    traffic = Traffic(url, sorted(hashes(data_dir))[:50], token=write_token(data_dir))
    traffic.start()
    writer = None
    if r % 3 == 1:
        writer = cli(data_dir, "ingest", str(variant[0]))
    elif r % 3 == 2:
        writer = cli(data_dir, "index", "--force")
    assert kill_when(proc, None, rng.uniform(0.2, 3.0), "server")
    traffic.stop.set()
    traffic.join(timeout=30)
    if writer is not None:
        finish(writer)
    assert traffic.status[500] == 0, traffic.status
    integrity(data_dir)
    assert read_manifest(data_dir) is not None, "CURRENT points to no complete build"
    descriptions = dict(sqlite_rows(data_dir, "SELECT id, description FROM profiles"))
    for pid, text in traffic.acknowledged.items():  # nothing acknowledged is lost
        pending = traffic.pending if traffic.pending and traffic.pending[0] == pid else None
        assert descriptions[pid] in (text, pending[1] if pending else text), pid
    committed = hashes(data_dir)
    if writer is not None and r % 3 == 1:
        assert set(variant[1]) <= set(committed)
    server = start_server(data_dir)
    check_server(server[1], data_dir, committed, settings)
    print(f"server round {r}: writer={writer is not None} traffic={dict(traffic.status)} "
          f"writes acknowledged={len(traffic.acknowledged)}")
    return server
