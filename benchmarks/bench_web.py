"""Benchmark: what the web service adds over the engine, measured against peers in the same run.

1. One question at a time: GET /api/locate over loopback HTTP to a `qpv serve` process (uvicorn, one
   worker), against the same points answered in-process by the same engine call (`DomainEngine.locate`),
   and against `qpv locate --json` started as a process per question (how a script would use the CLI).
2. A file: POST /api/batch/locate (streamed CSV) against `qpv batch locate` on the same file; the two
   outputs must be byte-identical.

Points (SYNTHETIC, seeded): uniform over a box around Montauban and Toulouse (QP2024 and QP2015
perimeters nearby), date 2025-06-01.

    .venv/bin/python benchmarks/bench_web.py [--n 300] [--cli 10] [--rows 100000]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import socket
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
DATE = "2025-06-01"


def points(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(1.30, 1.50, n), rng.uniform(43.55, 44.05, n)]).round(6)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stats_ms(samples: list[float]) -> str:
    ms = sorted(1000 * s for s in samples)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms (n={len(ms)})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--cli", type=int, default=10)
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}")

    port = free_port()
    server = subprocess.Popen([QPV, "serve", "--port", str(port), "--batch-timeout", "3600", "--no-record"],  # register: bench_register.py
                              stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=3600) as http:
            for _ in range(6000):  # start-up builds the indexes when the cache is cold
                try:
                    if http.get(base + "/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            pts = points(args.n)
            # Warm both sides (indexes are built or read from the cache on first use).
            http.get(base + "/api/locate", params={"lon": pts[0, 0], "lat": pts[0, 1], "date": DATE}).raise_for_status()
            from eligibility.web.engine import DomainEngine

            engine = DomainEngine()
            day = dt.date.fromisoformat(DATE)
            engine.locate(float(pts[0, 0]), float(pts[0, 1]), day)

            web, inproc, same = [], [], 0
            for lon, lat in pts:
                t = time.perf_counter()
                r = http.get(base + "/api/locate", params={"lon": repr(float(lon)), "lat": repr(float(lat)), "date": DATE})
                web.append(time.perf_counter() - t)
                r.raise_for_status()
                t = time.perf_counter()
                obj = engine.locate(float(lon), float(lat), day)
                inproc.append(time.perf_counter() - t)
                same += r.json()["status"] == obj["status"]
            cli = []
            for lon, lat in pts[: args.cli]:
                t = time.perf_counter()
                subprocess.run([QPV, "locate", "--lon", repr(float(lon)), "--lat", repr(float(lat)), "--date", DATE, "--json"],
                               check=True, capture_output=True)
                cli.append(time.perf_counter() - t)
            print(f"GET /api/locate over HTTP      : {stats_ms(web)}")
            print(f"peer, same engine in-process   : {stats_ms(inproc)}")
            print(f"peer, `qpv locate --json` proc : {stats_ms(cli)}")
            print(f"same status web vs in-process  : {same}/{len(pts)}")

            with tempfile.TemporaryDirectory() as tmp:
                src = Path(tmp) / "points.csv"
                big = points(args.rows, seed=11)
                src.write_text("lon,lat,date\n" + "".join(f"{a},{b},{DATE}\n" for a, b in big))
                t = time.perf_counter()
                with open(src, "rb") as f:
                    r = http.post(base + "/api/batch/locate", files={"file": ("points.csv", f, "text/csv")})
                r.raise_for_status()
                t_web = time.perf_counter() - t
                out = Path(tmp) / "out.csv"
                t = time.perf_counter()
                subprocess.run([QPV, "batch", "locate", str(src), "-o", str(out), "--no-progress"], check=True, capture_output=True)
                t_cli = time.perf_counter() - t
                print(f"POST /api/batch/locate, {args.rows} rows : {t_web:.2f} s ({args.rows / t_web:,.0f} rows/s)")
                print(f"peer, `qpv batch locate` same file  : {t_cli:.2f} s ({args.rows / t_cli:,.0f} rows/s)")
                print(f"byte-identical outputs: {r.content == out.read_bytes()}")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
