"""Writing a batch output around the page cache (`batch/direct_io.BlockWriter`, O_DIRECT where the file system takes
it) against plain buffered writes, on the same bytes, alternating, fsync included (the batch fsyncs both its parts
and its output). Reports wall and CPU (user + system) of this process per write, medians.

    .venv/bin/python benchmarks/bench_direct_io.py --mb 94 --repeat 5 --dir /tmp

The bytes are SYNTHETIC (CSV-like lines, seeded): the 1M-row default locate writes 94 MB of output.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eligibility.batch import direct_io  # noqa: E402


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _lines(mb: int) -> bytes:
    rng = random.Random(13)
    line = ",".join(f"{rng.random():.6f}" for _ in range(12)).encode() + b"\n"
    return (line * (mb * 1_000_000 // len(line) + 1))[: mb * 1_000_000]


def buffered(path: Path, data: bytes, block: int) -> None:
    with open(path, "wb") as f:
        for off in range(0, len(data), block):
            f.write(data[off:off + block])
        f.flush()
        os.fsync(f.fileno())


def around_cache(path: Path, data: bytes, block: int) -> bool:
    writer = direct_io.BlockWriter(path, direct_io.aligned_buffer(block))
    view = memoryview(data)
    for off in range(0, len(data), block):
        writer.write(view[off:off + block])
    writer.close(sync=True)
    return writer.direct


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=94)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dir", default="/tmp")
    args = ap.parse_args()
    data = _lines(args.mb)
    block = 8 << 20
    times: dict[str, list[tuple[float, float]]] = {"buffered": [], "direct_io": []}
    direct = None
    kept: list[Path] = []
    for _ in range(args.repeat):
        for name in times:
            path = Path(args.dir) / f"bench_direct_io_{name}_{len(kept)}.bin"
            path.unlink(missing_ok=True)
            t, c = time.perf_counter(), _cpu()
            if name == "buffered":
                buffered(path, data, block)
            else:
                direct = around_cache(path, data, block)
            times[name].append((time.perf_counter() - t, _cpu() - c))
            assert path.stat().st_size == len(data)
            kept.append(path)  # removed at the end: as in a batch, every file is new memory for the page cache
    for path in kept:
        path.unlink()
    print(f"{args.mb} MB, {args.repeat} alternating runs, O_DIRECT taken: {direct}")
    for name, runs in times.items():
        print(f"{name:10s} wall {statistics.median(w for w, _ in runs):.3f} s   cpu {statistics.median(c for _, c in runs):.3f} s")
    ratio = statistics.median(c for _, c in times["buffered"]) / max(statistics.median(c for _, c in times["direct_io"]), 1e-9)
    print(f"CPU: buffered / direct_io = {ratio:.1f}x")


if __name__ == "__main__":
    main()
