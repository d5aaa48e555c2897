"""Concurrent writers and killed writers: nothing lost, the chain intact (SQLite WAL and PostgreSQL)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from eligibility.register import Register

from .conftest import ROOT, free_port

# A writer process: appends `n` entries (one transaction each, or `bulk` per transaction). The answer is a
# small made-up one: what is tested here is the writing, and the engine would take seconds to load.
WRITER = """
import sys
from eligibility.register import Register, entries
url, n, bulk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
reg = Register(url)
question = {"kind": "locate", "date": "2025-01-01", "date_given": True, "lon": 1.1, "lat": 44.1}
answer = {"status": "outside", "quartier": None, "date": "2025-01-01", "trace": {"input": {"lon": 1.1, "lat": 44.1}}}
one = entries.build(question, answer, {"engine": "qpv test", "rules": []}, served="answer", channel="cli")
print("ready", flush=True)
i = 0
while n < 0 or i < n:
    if bulk:
        reg.append([dict(one, row=dict(one["row"], recorded_at=f"2026-01-01T00:00:00.{i:06d}Z")) for _ in range(bulk)])
    else:
        reg.append([one])
    i += 1
"""


def writer(url: str, n: int, bulk: int = 0) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, url, str(n), str(bulk)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    return proc


@pytest.mark.slow
def test_concurrent_writer_processes_lose_nothing(any_url):
    Register(any_url)  # schema first, so the writers race on appends only
    procs = [writer(any_url, 30) for _ in range(4)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    report = Register(any_url).verify_chain()
    assert report["ok"], report["problems"]
    assert report["entries"] == 120


@pytest.mark.slow
@pytest.mark.parametrize("bulk", [0, 200])
def test_kill_9_mid_write_leaves_a_consistent_register(any_url, bulk):
    Register(any_url)
    proc = writer(any_url, -1, bulk)
    reg = Register(any_url)
    deadline = time.monotonic() + 60
    while len(reg.list(limit=3)) < 3 and time.monotonic() < deadline:  # it is writing
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    report = Register(any_url).verify_chain()
    assert report["ok"], report["problems"]
    assert report["entries"] >= 3
    if bulk:  # a bulk transaction is whole or absent
        assert report["entries"] % bulk == 0
    from .conftest import locate_entry

    Register(any_url).append([locate_entry()])  # and the register goes on after the crash
    assert Register(any_url).verify_chain()["ok"]


@pytest.mark.slow
def test_several_uvicorn_workers_on_postgresql_lose_nothing(pg_url, tmp_path):
    """3 uvicorn worker processes (the web layer and register of `qpv serve --workers 3`, with the web tests'
    FakeEngine so that workers start fast) on one PostgreSQL register, hit by 8 clients at once: one entry per
    answer and one unbroken chain."""
    port = free_port()
    env = {**os.environ, "QPV_USER_DIR": str(tmp_path), "QPV_REGISTER_URL": pg_url}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "fake_service:make", "--app-dir",
                               str(Path(__file__).parent), "--workers", "3", "--port", str(port), "--log-level", "warning"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "le service n'a pas démarré"
            time.sleep(0.5)

        def ask(i: int) -> int:
            lon = 1.30 + (i % 40) / 500
            return httpx.get(base + "/api/locate", params={"lon": lon, "lat": 44.1036, "date": "2025-01-01"},
                             timeout=120).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(ask, range(120)))
        assert statuses == [200] * 120
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    report = Register(pg_url).verify_chain()
    assert report["ok"], report["problems"]
    assert report["entries"] == 120
