"""Benchmark: what recording every answer costs the service, register off (the peer) vs SQLite vs PostgreSQL,
in the same run on the same questions.

For each configuration a `qpv serve` process (uvicorn, one worker) answers, one at a time over loopback HTTP,
GET /api/locate for N points and POST /api/evaluate/emplois-francs for N cases. The configurations take turns
question by question (round robin), so drift of the shared machine hits them alike. Reported: median and p95
latency per configuration and the ratio of medians to the register-off service.

PostgreSQL: --pg-url URL, or else a temporary cluster is started with the tests' helper (initdb + pg_ctl on a
free port, Debian's postgresql package), fsync on.

    .venv/bin/python benchmarks/bench_register.py [--n 300] [--pg-url postgresql://…]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
QPV = str(ROOT / ".venv" / "bin" / "qpv")
FACTS = json.loads((ROOT / "examples" / "emplois-francs_peyrouat.json").read_text())


def start(port: int, extra: list[str], env: dict) -> subprocess.Popen:
    proc = subprocess.Popen([QPV, "serve", "--port", str(port), *extra], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(6000):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("qpv serve n'a pas démarré")


def stats(samples: list[float]) -> tuple[float, float]:
    ms = sorted(1000 * s for s in samples)
    return statistics.median(ms), ms[min(len(ms) - 1, int(0.95 * len(ms)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--pg-url", default=None)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from register.conftest import PostgresCluster, free_port  # the tests' own cluster helper

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU (shared with other work), Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    work = Path(tempfile.mkdtemp(prefix="qpv-bench-register-"))
    work.chmod(0o755)  # the cluster may run as the postgres user
    cluster = None
    pg_url = args.pg_url
    if pg_url is None:
        cluster = PostgresCluster(work / "pg", durable=True)
        cluster.start()
        pg_url = cluster.new_database()
    env = {**os.environ, "QPV_USER_DIR": str(work / "user")}
    configs = {"register off": ["--no-record"],
               "SQLite (WAL, synchronous=NORMAL)": ["--register", f"sqlite:///{work / 'register.sqlite3'}"],
               "PostgreSQL (same host)": ["--register", pg_url]}
    servers, bases = [], {}
    try:
        for name, extra in configs.items():
            port = free_port()
            servers.append(start(port, extra, env))
            bases[name] = f"http://127.0.0.1:{port}"
        rng = np.random.default_rng(7)
        pts = np.column_stack([rng.uniform(1.30, 1.50, args.n), rng.uniform(43.55, 44.05, args.n)]).round(6)
        samples = {(name, kind): [] for name in configs for kind in ("locate", "evaluate")}
        with httpx.Client(timeout=120) as http:
            for base in bases.values():  # warm: indexes loaded, register opened
                http.get(base + "/api/locate", params={"lon": 1.35, "lat": 44.0, "date": "2025-06-01"}).raise_for_status()
                http.post(base + "/api/evaluate/emplois-francs", json=FACTS).raise_for_status()
            for i in range(args.n):
                for name, base in bases.items():
                    t = time.perf_counter()
                    http.get(base + "/api/locate", params={"lon": pts[i, 0], "lat": pts[i, 1], "date": "2025-06-01"}).raise_for_status()
                    samples[(name, "locate")].append(time.perf_counter() - t)
                    facts = {**FACTS, "application_date": f"2024-03-{1 + i % 28:02d}"}
                    t = time.perf_counter()
                    http.post(base + "/api/evaluate/emplois-francs", json=facts).raise_for_status()
                    samples[(name, "evaluate")].append(time.perf_counter() - t)
        print(f"{args.n} questions of each kind per configuration, one at a time, configurations in turn; "
              f"load average {os.getloadavg()[0]:.1f} at the end")
        print("| question | configuration | median | p95 | median vs register off |")
        print("|---|---|---|---|---|")
        for kind in ("locate", "evaluate"):
            base_median = stats(samples[("register off", kind)])[0]
            for name in configs:
                med, p95 = stats(samples[(name, kind)])
                print(f"| {kind} | {name} | {med:.1f} ms | {p95:.1f} ms | {med / base_median:.2f}× |")
    finally:
        for s in servers:
            s.terminate()
            s.wait(timeout=30)
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
