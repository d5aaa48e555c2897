"""Benchmark: what recording every answer costs the service, register off (the peer) vs SQLite vs PostgreSQL,
in the same run on the same questions.

For each configuration a `qpv serve` process (uvicorn, one worker) answers, one at a time over loopback HTTP,
GET /api/locate for N points and POST /api/evaluate/emplois-francs for N cases. The configurations take turns
question by question (round robin), so drift of the shared machine hits them alike. Reported: median and p95
latency per configuration and the ratio of medians to the register-off service.

PostgreSQL: --pg-url URL, or else a temporary cluster is started with the tests' helper (initdb + pg_ctl on a
free port, Debian's postgresql package), fsync on.

    .venv/bin/python benchmarks/bench_register.py [--n 300] [--pg-url postgresql://…]

`--batch`: what `qpv batch … --record` costs instead. The same seeded synthetic file (`bench_batch_data`: dated
points for `batch locate`, hires for `batch evaluate emplois-francs`) is processed by `qpv batch` without
recording (the peer), then with `--record` into SQLite and into PostgreSQL, in turn, `--repeat` times each;
reported: median wall time, rows/s, the time recording adds per row, the CPU time it adds per row (user + system
of the `qpv` process: steadier than wall time on a shared machine) and the SQLite register's size per entry.

    .venv/bin/python benchmarks/bench_register.py --batch [--rows 20000] [--workers 2] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
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
    ap.add_argument("--batch", action="store_true", help="qpv batch --record instead of the service")
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
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
    if args.batch:
        try:
            return batch(args, work, pg_url, env)
        finally:
            if cluster is not None:
                cluster.stop()
            shutil.rmtree(work, ignore_errors=True)
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


def batch(args, work: Path, pg_url: str, env: dict) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_batch_data import dated_points_frame, emplois_francs_frame, write

    points, hires = work / "points.csv", work / "hires.csv"
    dated_points_frame(args.rows).to_csv(points, index=False, date_format="%Y-%m-%d")
    write(emplois_francs_frame(args.rows), hires)
    jobs = {"batch locate": ["batch", "locate", str(points)],
            "batch evaluate emplois-francs": ["batch", "evaluate", "emplois-francs", str(hires)]}
    sqlite = {job: work / f"register-{i}.sqlite3" for i, job in enumerate(jobs)}  # one file per job: its size per entry
    configs = {"not recorded": lambda job: [],
               "SQLite (WAL, synchronous=NORMAL)": lambda job: ["--record", "--register", f"sqlite:///{sqlite[job]}"],
               "PostgreSQL (same host)": lambda job: ["--record", "--register", pg_url]}
    times: dict[tuple[str, str], list[float]] = {(j, c): [] for j in jobs for c in configs}
    cpu: dict[tuple[str, str], list[float]] = {(j, c): [] for j in jobs for c in configs}
    for _ in range(args.repeat):
        for job, cmd in jobs.items():
            for name, extra in configs.items():
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t = time.perf_counter()
                subprocess.run([QPV, *cmd, "-o", str(work / "out.csv"), "--workers", str(args.workers), "--no-progress",
                                *extra(job)], env=env, check=True, stdout=subprocess.DEVNULL)
                times[(job, name)].append(time.perf_counter() - t)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[(job, name)].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    print(f"{args.rows} rows, --workers {args.workers}, median of {args.repeat} runs each, configurations in turn; "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    print("| command | register | median wall | rows/s | added per row vs not recorded | median CPU | CPU added per row |")
    print("|---|---|---|---|---|---|---|")
    for job in jobs:
        base = statistics.median(times[(job, "not recorded")])
        base_cpu = statistics.median(cpu[(job, "not recorded")])
        for name in configs:
            med, med_cpu = statistics.median(times[(job, name)]), statistics.median(cpu[(job, name)])
            added = "—" if name == "not recorded" else f"{1000 * (med - base) / args.rows:.2f} ms ({med / base:.2f}×)"
            added_cpu = "—" if name == "not recorded" else f"{1000 * (med_cpu - base_cpu) / args.rows:.2f} ms"
            print(f"| {job} | {name} | {med:.2f} s | {args.rows / med:,.0f} | {added} | {med_cpu:.2f} s | {added_cpu} |")
    for job, path in sqlite.items():  # every run appended args.rows entries to its job's file
        size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
        print(f"SQLite register of {job}: {size / (args.rows * args.repeat) / 1000:.1f} kB per entry "
              f"({size / 1e6:.1f} MB with its WAL for {args.rows * args.repeat} entries)")


if __name__ == "__main__":
    main()
