"""Benchmarks of `qpv batch` (issue 5), each with its peer measured in the same run. Data are SYNTHETIC
(benchmarks/bench_batch_data.py, seeded), files are written under --workdir.

    .venv/bin/python benchmarks/bench_batch.py locate   [--n 1000000]   # vs geopandas sjoin, same points
    .venv/bin/python benchmarks/bench_batch.py evaluate [--n 1000000]   # vs the single-decision API
    .venv/bin/python benchmarks/bench_batch.py memory   [--n 10000000] [--job locate|evaluate]  # peak RSS
    .venv/bin/python benchmarks/bench_batch.py national [--n 25000000]  # local engine, then local Dask cluster
    .venv/bin/python benchmarks/bench_batch.py locate-profile [--n 1000000]  # where batch locate's CPU goes

Every figure printed is measured here; the single-decision API is timed on a sample and extrapolated
(said so in the output). Times are wall clock on a shared machine: other processes may be running.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from bench_batch_data import emplois_francs_frame, points_frame, write  # noqa: E402

DATE = "2025-06-01"  # QP2024 in force everywhere (overseas from 2025-01-01), as bench_locate.py
QPV = [sys.executable, "-m", "qpv_cli.main"]


CPU = {}  # label -> CPU seconds (user + system) of the child: what the job costs whatever the machine load


def _qpv(*args: str, label: str | None = None) -> tuple[float, dict, int]:
    """Run `qpv …` in a child process: (wall seconds, JSON summary, the child's peak RSS in MB).

    The peak is the child's own VmHWM, read by the child as it exits: getrusage's ru_maxrss would also
    count the pages the child shared with this (large) process between fork and exec."""
    code = ("import atexit, sys; atexit.register(lambda: sys.stderr.write(next(l for l in open('/proc/self/status') "
            "if l.startswith('VmHWM')))); from qpv_cli.main import main; sys.argv = ['qpv'] + sys.argv[1:]; main()")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args, "--json", "--no-progress"], check=True,
                         capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if label:
        CPU[label] = round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2)
    hwm_kb = int(next(line for line in out.stderr.splitlines() if line.startswith("VmHWM")).split()[1])
    return elapsed, json.loads(out.stdout), hwm_kb // 1024


def _file(workdir: Path, name: str, make, n: int) -> Path:
    path = workdir / name
    if not path.exists():
        t = time.perf_counter()
        write(make(n), path)
        print(f"# généré {path} ({n} lignes synthétiques) en {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return path


def bench_locate(args) -> dict:
    import geopandas as gpd
    from bench_locate import run_geopandas

    from eligibility.geography import locate_points
    from eligibility.geography.perimeters import load

    src = _file(args.workdir, f"points_{args.n}.csv", points_frame, args.n)
    locate_points([2.0], [46.0], DATE)  # warm the on-disk index cache once
    fields = "status,quartier_code,vintage"
    t_min, s_min, _ = _qpv("batch", "locate", str(src), "-o", str(args.workdir / "loc_min.csv"), "--date", DATE,
                           "--fields", fields, label="batch_locate_fields_min")
    t_all, s_all, _ = _qpv("batch", "locate", str(src), "-o", str(args.workdir / "loc_all.csv"), "--date", DATE,
                           label="batch_locate_all_columns")

    # ours in this process too, warm like the peer (no interpreter start, index already loaded)
    import datetime as dt

    from eligibility.batch import run_file
    from eligibility.batch.locate import LocateJob

    job = lambda r: LocateJob(r, date=dt.date.fromisoformat(DATE), fields=tuple(fields.split(",")))  # noqa: E731
    t, c = time.perf_counter(), time.process_time()
    run_file(job, src, args.workdir / "loc_inproc.csv", chunk_size=250_000, show_progress=False)
    t_inproc = time.perf_counter() - t
    CPU["batch_locate_fields_min_in_process"] = round(time.process_time() - c, 2)

    # peer, file to file: pandas reads the CSV, geopandas sjoin (bench_locate.run_geopandas), CSV written
    t, c = time.perf_counter(), time.process_time()
    pts = pd.read_csv(src, sep=";", decimal=",")
    codes, _ = run_geopandas(pts["lon"].to_numpy(), pts["lat"].to_numpy(), load("qp2024"))
    pd.DataFrame({"id": pts["id"], "quartier_code": codes}).to_csv(args.workdir / "gpd.csv", index=False)
    t_gpd = time.perf_counter() - t
    CPU["geopandas_read_sjoin_write"] = round(time.process_time() - c, 2)
    del gpd

    # same answers: our file vs sjoin on every point; near-boundary points by their containing quartier
    ours = pd.read_csv(args.workdir / "loc_min.csv", sep=";", dtype=str, keep_default_na=False)
    gpd_code = np.where(pd.isna(codes), "", codes).astype(object)
    t = time.perf_counter()
    res = locate_points(pts["lon"].to_numpy(), pts["lat"].to_numpy(), DATE)
    t_core = time.perf_counter() - t
    t = time.perf_counter()
    run_geopandas(pts["lon"].to_numpy(), pts["lat"].to_numpy(), load("qp2024"))
    t_core_gpd = time.perf_counter() - t
    contained = np.where(res.contained & (res.vintage == "QP2024"), res.quartier_code, None)
    contained = np.where(np.equal(contained, None), "", contained).astype(object)
    status = ours["status"].to_numpy()
    our_code = np.where(status == "inside", ours["quartier_code"].to_numpy(), "")
    decided = status != "near_boundary"
    mismatch_decided = int((our_code[decided] != gpd_code[decided]).sum())
    mismatch_contained = int((contained != gpd_code).sum())
    return {
        "points": args.n, "synthetic": True, "date": DATE,
        "batch_locate_fields_min_s": round(t_min, 2), "batch_locate_fields_min_rows_per_s": int(args.n / t_min),
        "batch_locate_all_columns_s": round(t_all, 2), "batch_locate_all_columns_rows_per_s": int(args.n / t_all),
        "batch_locate_fields_min_in_process_s": round(t_inproc, 2),
        "geopandas_read_sjoin_write_s": round(t_gpd, 2),
        "ratio_min_in_process_vs_geopandas": round(t_gpd / t_inproc, 2),
        "in_memory_locate_points_statuses_s": round(t_core, 2), "in_memory_geopandas_sjoin_s": round(t_core_gpd, 2),
        "ratio_in_memory": round(t_core_gpd / t_core, 2),
        "ratio_min_vs_geopandas": round(t_gpd / t_min, 2), "ratio_all_vs_geopandas": round(t_gpd / t_all, 2),
        "statuses": s_min["counts"],
        "mismatches_inside_outside_vs_sjoin": mismatch_decided,
        "near_boundary_points": int((~decided).sum()),
        "mismatches_containing_quartier_vs_sjoin_all_points": mismatch_contained,
        "same_statuses_min_vs_all": bool((pd.read_csv(args.workdir / "loc_all.csv", sep=";", usecols=["status"])["status"]
                                          .to_numpy() == status).all()),
    }


def _facts(row: dict) -> dict:
    """A flat row of the synthetic file as the nested facts of the single-decision API."""
    facts: dict = {}
    for k, v in row.items():
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
            continue
        if k.startswith("employee.residence."):
            facts.setdefault("employee", {}).setdefault("residence", {})[k.rsplit(".", 1)[1]] = float(v)
            continue
        if isinstance(v, pd.Timestamp):
            v = v.date().isoformat()
        elif isinstance(v, (np.bool_, bool)):
            v = bool(v)
        elif isinstance(v, (np.floating, float)):
            v = int(v) if k == "employee.jobseeker_category" else float(v)
        *head, last = k.split(".")
        d = facts
        for h in head:
            d = d.setdefault(h, {})
        d[last] = v
    return facts


def bench_evaluate(args) -> dict:
    from eligibility.rules import evaluate

    src = _file(args.workdir, f"emplois_francs_{args.n}.csv", emplois_francs_frame, args.n)
    t_batch, summary, _ = _qpv("batch", "evaluate", "emplois-francs", str(src), "-o", str(args.workdir / "ef_out.csv"),
                               label="batch_csv")
    t_pq_src = args.workdir / f"emplois_francs_{args.n}.parquet"
    if not t_pq_src.exists():
        write(emplois_francs_frame(args.n), t_pq_src)
    t_pq, _, _ = _qpv("batch", "evaluate", "emplois-francs", str(t_pq_src), "-o", str(args.workdir / "ef_out.parquet"),
                      label="batch_parquet")

    # peer: the single-decision API, one call per row, on a sample of the same rows (then extrapolated)
    sample = pd.read_csv(src, sep=";", decimal=",", nrows=args.sample, parse_dates=[
        "contract.signature_date", "employee.birth_date", "application_date"])
    rows = [_facts(r) for r in sample.to_dict("records")]
    evaluate("emplois-francs", rows[0])  # warm-up (rule file, indexes)
    t, c = time.perf_counter(), time.process_time()
    outcomes = [evaluate("emplois-francs", f).outcome for f in rows]
    t_single = time.perf_counter() - t
    CPU["single_api_sample"] = round(time.process_time() - c, 2)
    single_rps = len(rows) / t_single
    ours = pd.read_csv(args.workdir / "ef_out.csv", sep=";", nrows=args.sample, usecols=["outcome"])["outcome"]
    batch_rps = args.n / t_batch
    return {
        "rows": args.n, "synthetic": True,
        "batch_csv_to_csv_s": round(t_batch, 2), "batch_csv_rows_per_s": int(batch_rps),
        "batch_parquet_to_parquet_s": round(t_pq, 2), "batch_parquet_rows_per_s": int(args.n / t_pq),
        "outcomes": summary["counts"],
        "single_api_sample_rows": len(rows), "single_api_sample_s": round(t_single, 2),
        "single_api_rows_per_s": round(single_rps, 1),
        "single_api_extrapolated_s_for_all_rows": round(args.n / single_rps, 1),
        "ratio_batch_csv_vs_single_api": round(batch_rps / single_rps, 1),
        "batch_csv_rows_per_cpu_s": int(args.n / CPU["batch_csv"]),
        "batch_parquet_rows_per_cpu_s": int(args.n / CPU["batch_parquet"]),
        "single_api_rows_per_cpu_s": round(len(rows) / CPU["single_api_sample"], 1),
        "same_outcomes_on_sample": bool((ours.to_numpy() == np.array(outcomes)).all()),
    }


def bench_memory(args) -> dict:
    if args.job == "evaluate":
        src = _file(args.workdir, f"emplois_francs_{args.n}.csv", emplois_francs_frame, args.n)
        t, summary, peak = _qpv("batch", "evaluate", "emplois-francs", str(src), "-o",
                                str(args.workdir / "mem_ef_out.csv"), label="memory_run")
        job = "batch evaluate emplois-francs, CSV → CSV, chunks of 100 000"
    else:
        src = _file(args.workdir, f"points_{args.n}.csv", points_frame, args.n)
        t, summary, peak = _qpv("batch", "locate", str(src), "-o", str(args.workdir / "mem_out.csv"), "--date", DATE,
                                label="memory_run")
        job = "batch locate, all columns, CSV → CSV, chunks of 100 000"
    return {"rows": args.n, "synthetic": True, "job": job,
            "seconds": round(t, 1), "peak_rss_mb_of_the_batch_process": peak, "input_mb": round(src.stat().st_size / 2**20),
            "rows_out": summary["rows"]}


def bench_national(args) -> dict:
    src = _file(args.workdir, f"points_{args.n}.parquet", points_frame, args.n)
    common = ["--date", DATE, "--fields", "status,quartier_code,vintage", "--chunk-size", "250000"]
    t_local, s_local, _ = _qpv("batch", "locate", str(src), "-o", str(args.workdir / "nat_local.parquet"), *common,
                               label="national_local")
    t_dask, s_dask, _ = _qpv("batch", "locate", str(src), "-o", str(args.workdir / "nat_dask.parquet"), *common,
                             "--engine", "dask", "--workers", str(args.workers), label="national_dask")
    same = (args.workdir / "nat_local.parquet").read_bytes() == (args.workdir / "nat_dask.parquet").read_bytes()
    return {"points": args.n, "synthetic": True, "input": "Parquet (id, lon, lat)", "fields": "status,quartier_code,vintage",
            "local_s": round(t_local, 1), "local_rows_per_s": int(args.n / t_local),
            "dask_local_cluster_workers": args.workers, "dask_s": round(t_dask, 1),
            "dask_rows_per_s": int(args.n / t_dask), "identical_output_bytes": same, "statuses": s_local["counts"]}


def bench_locate_profile(args) -> dict:
    """CPU of an in-process, warm `run_file` of the locate job (fields status,quartier_code,vintage),
    split by stage with cProfile (cumulative CPU of the functions that make up the file-to-file path)."""
    import cProfile
    import datetime as dt
    import pstats

    from eligibility.batch import run_file
    from eligibility.batch.locate import LocateJob

    src = _file(args.workdir, f"points_{args.n}.csv", points_frame, args.n)
    job = lambda r: LocateJob(r, date=dt.date.fromisoformat(DATE), fields=("status", "quartier_code", "vintage"))
    run_file(job, src, args.workdir / "prof_warm.csv", chunk_size=250_000, show_progress=False)  # indexes loaded
    prof, c = cProfile.Profile(), time.process_time()
    prof.enable()
    run_file(job, src, args.workdir / "prof.csv", chunk_size=250_000, show_progress=False)
    prof.disable()
    total = time.process_time() - c
    stats = pstats.Stats(prof).stats  # {(file, line, name): (cc, nc, tottime, cumtime, callers)}
    stages = {"read: split CSV records and chunk (sources.chunks)": ("sources.py", "chunks"),
              "read: chunk to DataFrame (sources.frame)": ("sources.py", "frame"),
              "check: parse lon/lat (columns.to_float)": ("columns.py", "to_float"),
              "check: merge per-row errors (columns.first_error)": ("columns.py", "first_error"),
              "geography: locate_points": ("locate.py", "locate_points"),
              "pandas DataFrame construction anywhere (answers: object -> string columns; overlaps the rows above)": ("frame.py", "__init__"),
              "write: CSV cells and lines (sinks.encode_part)": ("sinks.py", "encode_part"),
              "journal: record the chunk (journal.record)": ("journal.py", "record")}
    out = {}
    for label, (file, name) in stages.items():
        out[label] = round(sum(v[3] for k, v in stats.items() if k[0].endswith(file) and k[2] == name), 3)
    return {"rows": args.n, "chunk_size": 250_000, "cpu_s_total_profiled": round(total, 3),
            "cpu_s_by_stage_cumulative_under_cprofile": out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["locate", "evaluate", "memory", "national", "locate-profile"])
    ap.add_argument("--n", type=int)
    ap.add_argument("--sample", type=int, default=2000, help="rows timed through the single-decision API")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--job", choices=["locate", "evaluate"], default="locate", help="for `memory`")
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "qpv-bench-batch")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    defaults = {"locate": 1_000_000, "evaluate": 1_000_000, "memory": 10_000_000, "national": 25_000_000,
                "locate-profile": 1_000_000}
    args.n = args.n or defaults[args.what]
    result = {"locate": bench_locate, "evaluate": bench_evaluate, "memory": bench_memory,
              "national": bench_national, "locate-profile": bench_locate_profile}[args.what](args)
    result.update({"cpu_seconds": CPU, "python": platform.python_version(), "cpus": os.cpu_count(),
                   "load_average_1min_at_end": round(os.getloadavg()[0], 2)})
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
