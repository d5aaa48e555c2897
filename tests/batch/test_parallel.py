"""Both cores give the bytes of one (issue 13): the same output, traces and summary with `workers=2` as with
`workers=1`, on random files; and the fast reader (Arrow) reads a chunk's records as the fallback does."""
import pytest
from hypothesis import given, settings, strategies as st

from eligibility.batch import pool, run_file
from eligibility.batch.locate import LocateJob
from eligibility.batch.sources import CsvSource

PLACES = [("5.23227", "46.21069"), ("4.661736", "43.807085"), ("2.0", "46.0"), ("1.44", "43.6"), ("-30.0", "40.0")]
KINDS = ["good", "good", "good", "bad_number", "multiline", "ragged", "empty_line", "formula", "quote_in_field"]


def _csv(rows, sep: str, comma: bool, bom: bool) -> str:
    lines = [sep.join(["id", "lon", "lat", "date"])]
    for k, (kind, n) in enumerate(rows):
        lon, lat = PLACES[n % len(PLACES)]
        if comma:
            lon, lat = lon.replace(".", ","), lat.replace(".", ",")
            lon, lat = (f'"{lon}"', f'"{lat}"') if sep == "," else (lon, lat)
        ident, date = str(k), "2024-06-01" if n % 3 else "2020-03-01"
        if kind == "bad_number":
            lon = "abc"
        elif kind == "multiline":
            ident = '"' + "\n".join(["ligne"] * (1 + n % 3)) + '"'
        elif kind == "formula":
            ident = "=1+1"
        elif kind == "quote_in_field":
            ident = 'a"b'
        record = sep.join([ident, lon, lat, date])
        if kind == "ragged":
            record = sep.join([ident, lon])
        elif kind == "empty_line":
            record = ""
        lines.append(record)
    return ("\ufeff" if bom else "") + "\n".join(lines) + "\n"


def _records(rows) -> int:
    """Rows the file has: blank lines at its very end are not records (spreadsheets leave them)."""
    n = len(rows)
    while n and rows[n - 1][0] == "empty_line":
        n -= 1
    return n


FILES = st.tuples(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 50)), min_size=1, max_size=40),
                  st.sampled_from([";", ","]), st.booleans(), st.booleans())


@settings(max_examples=15, deadline=None)
@given(FILES, st.integers(1, 12), st.booleans())
def test_two_workers_write_the_bytes_of_one(tmp_path_factory, spec, chunk_size, traces):
    d = tmp_path_factory.mktemp("parallel")
    (d / "in.csv").write_text(_csv(*spec), encoding="utf-8")
    job = lambda r: LocateJob(r, traces=traces, keep=("id",))  # noqa: E731
    runs = {}
    small, pool.MIN_ROWS = pool.MIN_ROWS, 0  # the pool even for these few rows
    try:
        for workers in (1, 2):
            t = d / f"t{workers}.jsonl" if traces else None
            summary = run_file(job, d / "in.csv", d / f"out{workers}.csv", chunk_size=chunk_size, workers=workers,
                               traces=t, show_progress=False)
            summary.pop("output"), summary.pop("traces")
            runs[workers] = ((d / f"out{workers}.csv").read_bytes(), t.read_bytes() if t else None, summary)
    finally:
        pool.MIN_ROWS = small
    assert runs[1] == runs[2]
    assert runs[1][2]["rows"] == _records(spec[0])


@settings(max_examples=40, deadline=None)
@given(FILES, st.integers(1, 12))
def test_fast_reader_and_fallback_read_the_same_rows(tmp_path_factory, spec, chunk_size):
    d = tmp_path_factory.mktemp("readers")
    (d / "in.csv").write_text(_csv(*spec), encoding="utf-8")
    source = CsvSource(d / "in.csv")
    rows = 0
    for chunk in source.chunks(chunk_size):
        fast = chunk._parse()
        slow = chunk._table_record_by_record()
        assert fast.column_names == slow.column_names == list(source.columns)
        assert fast.to_pylist() == slow.to_pylist()
        rows += chunk.n_rows
    assert rows == _records(spec[0])


def _frozen_in_worker(_item) -> int:
    import gc

    return gc.get_freeze_count()


def test_workers_start_with_the_loaded_objects_frozen_and_the_parent_collects_them_again():
    """The workers' cyclic collections leave alone what the parent had loaded before the fork (gc.freeze): they
    neither walk it nor copy its pages; the parent itself is back to collecting everything."""
    import gc

    loaded = [[k] for k in range(1000)]  # container objects alive before the fork
    mapper = pool.process_mapper(2)
    small, pool.MIN_ROWS = pool.MIN_ROWS, 0
    try:
        counts = list(mapper(_frozen_in_worker, range(4)))
    finally:
        pool.MIN_ROWS = small
    assert len(counts) == 4 and min(counts) >= len(loaded)
    assert gc.get_freeze_count() == 0


def _collecting(_item) -> bool:
    import gc

    return gc.isenabled()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_started_with_the_collector_off_collects_again_once_chunks_are_answered(workers):
    """The command line starts a batch with the cyclic collector off (cli.main): the workers and this process
    (or this process alone, sequential) answer the chunks with it on."""
    import gc

    mapper = pool.process_mapper(workers)
    small, pool.MIN_ROWS = pool.MIN_ROWS, 0
    gc.disable()
    try:
        answers = list(mapper(_collecting, range(4)))
        after = gc.isenabled()
    finally:
        gc.enable()
        pool.MIN_ROWS = small
    assert answers == [True] * 4 and after


def _pid(_item) -> int:
    import os

    return os.getpid()


def test_the_workers_are_stopped_once_every_answer_is_in_and_when_the_caller_stops_early(monkeypatch):
    """Every answer given, the workers are stopped by another thread, while the caller publishes its output; a
    caller that stops reading (or fails) has them stopped before it goes on."""
    import multiprocessing
    import multiprocessing.pool
    import os
    import threading

    stopped_by = []
    terminate = multiprocessing.pool.Pool.terminate

    def recording(self):
        stopped_by.append(threading.current_thread().name)
        terminate(self)

    monkeypatch.setattr(multiprocessing.pool.Pool, "terminate", recording)
    monkeypatch.setattr(pool, "MIN_ROWS", 0)
    pids = list(pool.process_mapper(2)(_pid, range(6)))
    assert len(pids) == 6 and os.getpid() not in pids
    for t in [t for t in threading.enumerate() if t.name == "qpv-pool-stop"]:
        t.join(10)
    assert stopped_by == ["qpv-pool-stop"] and not multiprocessing.active_children()

    answers = pool.process_mapper(2)(_pid, range(6))
    next(answers)
    answers.close()  # the caller stops early
    assert stopped_by[1] == threading.current_thread().name and not multiprocessing.active_children()
