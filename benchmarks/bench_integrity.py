"""Cost of the integrity checks (issue 15): every file hashed before it is parsed, derived caches rehashed
on load, the manifest checked against its pinned sha256.

    .venv/bin/python benchmarks/bench_integrity.py cold  [--repeat 9] [--before REV]
    .venv/bin/python benchmarks/bench_integrity.py batch [--n 1000000] [--before REV]

`cold`: wall time of a cold `qpv locate --json` process (disk caches warm, interpreter cold), this tree
against REV (default: the last commit before the checks, extracted with `git archive`), run alternately
so that both see the same machine load; then, in a child of this tree, the time spent inside the checks
(hashing files, arrays and the manifest, stat stamps), measured by wrapping those functions.
`batch`: the same split for `qpv batch locate` on N SYNTHETIC points (benchmarks/bench_batch_data.py),
in a child process of each tree.

Times are wall clock on a shared machine: other processes may be running. Every figure printed is measured.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "e12e255"  # main just before the integrity checks (issue 15)
POINT = ["--lon", "2.898504", "--lat", "42.70685", "--date", "2020-06-01"]  # QP066007, QP2015 Occitanie
DATE = "2025-06-01"

# Run in a child: wraps the checks with timers, runs `qpv ARGS…`, prints {"check_s", "hashed_bytes", "calls"}.
PROFILED = r"""
import atexit, json, sys, time
from eligibility import integrity
from eligibility.geography import cache
acc = {"check_s": 0.0, "hashed_bytes": 0, "calls": 0}
def timed(fn, size=None):
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            acc["check_s"] += time.perf_counter() - t
            acc["calls"] += 1
            if size is not None:
                acc["hashed_bytes"] += size(*a)
    return wrapper
import os
integrity.sha256_file = timed(integrity.sha256_file, lambda p: os.stat(p).st_size)
integrity.sha256_bytes = timed(integrity.sha256_bytes, lambda d: len(d))
integrity.stamp = timed(integrity.stamp)
cache.arrays_sha256 = timed(cache.arrays_sha256, lambda a: sum(v.nbytes for v in a.values()))
atexit.register(lambda: sys.stderr.write("\nPROFILE " + json.dumps(acc) + "\n"))
from qpv_cli.main import main
sys.argv = ["qpv"] + sys.argv[1:]
main()
"""


def _tree(rev: str, workdir: Path) -> Path:
    """REV extracted with `git archive` (qpv_cli is the folder cli/, as the package installs it)."""
    out = workdir / f"tree-{rev}"
    if not out.exists():
        data = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(out, filter="data")
        (out / "qpv_cli").symlink_to(out / "cli")
    return out


def _env(tree: Path | None, cache: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("QPV_CACHE_DIR", "QPV_DATA_DIR", "QPV_RULES_DIR")}
    if cache is not None:
        env["QPV_CACHE_DIR"] = str(cache)
    if tree is not None:  # the other tree first on the path: its eligibility and qpv_cli, not this tree's
        env["PYTHONPATH"] = str(tree)
    return env


PLAIN = "import sys; from qpv_cli.main import main; sys.argv = ['qpv'] + sys.argv[1:]; main()"


def _run(args: list[str], env: dict, code: str = PLAIN) -> tuple[float, str]:
    """Run `qpv ARGS…` in a child (what the `qpv` script does): (wall seconds, stderr). The JSON answer is
    checked, so that a run that did nothing cannot pass for a fast one."""
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, cwd="/")
    elapsed = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"échec de {' '.join(args)} : {out.stderr[-2000:]}")
    if "--json" in args:
        answer = json.loads(out.stdout)
        if "status" not in answer and "rows" not in answer and "counts" not in answer:
            raise SystemExit(f"réponse inattendue de {' '.join(args)} : {out.stdout[:500]}")
    return elapsed, out.stderr


def _profile(stderr: str) -> dict:
    return json.loads(next(line for line in stderr.splitlines() if line.startswith("PROFILE "))[8:])


def _trees(args) -> dict[str, dict]:
    before = _tree(args.before, args.workdir)
    # this tree uses its own cache folder (prepared by scripts/setup.sh); REV gets one under --workdir
    return {"before": _env(before, args.workdir / f"cache-{args.before}"), "after": _env(None, None)}


def bench_cold(args) -> dict:
    envs = _trees(args)
    locate = ["locate", *POINT, "--json"]
    for env in envs.values():  # derived caches built once, then every run is a warm-disk, cold-process start
        _run(locate, env)
    walls: dict[str, list[float]] = {k: [] for k in envs}
    for _ in range(args.repeat):
        for name, env in envs.items():  # alternate: both trees see the same load
            walls[name].append(_run(locate, env)[0])
    profiles = [_profile(_run(locate, envs["after"], PROFILED)[1]) for _ in range(args.repeat)]
    med = {k: statistics.median(v) for k, v in walls.items()}
    return {
        "before_rev": args.before, "runs": args.repeat,
        "wall_s_median": {k: round(v, 3) for k, v in med.items()},
        "wall_s_min": {k: round(min(v), 3) for k, v in walls.items()},
        "after_minus_before_median_s": round(med["after"] - med["before"], 3),
        "checks_in_cold_locate_s_median": round(statistics.median(p["check_s"] for p in profiles), 4),
        "checks_hashed_bytes": profiles[0]["hashed_bytes"], "checks_calls": profiles[0]["calls"],
    }


def bench_batch(args) -> dict:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_batch_data import points_frame, write

    src = args.workdir / f"points_{args.n}.csv"
    if not src.exists():
        write(points_frame(args.n), src)
    envs = _trees(args)
    out = {"points": args.n, "synthetic": True, "before_rev": args.before}
    job = lambda name: ["batch", "locate", str(src), "-o", str(args.workdir / f"out-{name}.csv"), "--date", DATE,  # noqa: E731
                        "--no-progress", "--json"]
    _run(["data", "prepare"], envs["before"])  # the large-batch grids, as setup.sh builds them for this tree
    for name, env in envs.items():
        out[f"wall_s_{name}"] = round(_run(job(name), env)[0], 2)
    wall, err = _run(job("after-profiled"), envs["after"], PROFILED)
    prof = _profile(err)
    out.update({"wall_s_after_profiled": round(wall, 2), "checks_s": round(prof["check_s"], 3),
                "checks_share_of_wall": round(prof["check_s"] / wall, 5), "checks_hashed_bytes": prof["hashed_bytes"],
                "checks_calls": prof["calls"],
                "outputs_identical": (args.workdir / "out-before.csv").read_bytes() == (args.workdir / "out-after.csv").read_bytes()})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["cold", "batch"])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--before", default=BEFORE, help="revision to compare with (git archive)")
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "qpv-bench-integrity")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    result = bench_cold(args) if args.what == "cold" else bench_batch(args)
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
