"""On this machine, each part is written into the journal's folder by the process that answered its chunk
(issue 13, pipe18): the batch process receives its name and checksum, not its bytes, then fsyncs, renames and
journals it. Same bytes as the parts sent back (the Dask way); a part changed on disk before or after its
journal line is refused; orphan parts of an interrupted run are done again on `--resume`."""
import datetime as dt

import pytest

from eligibility.batch import journal, open_job, pool, run_file, runner
from eligibility.batch.journal import Journal, WrittenPart
from eligibility.batch.locate import LocateJob
from eligibility.errors import BadInput, OutputIntegrityError

from test_runner import write_points


def _job(renamed):
    return LocateJob(renamed, date=dt.date(2024, 1, 1), traces=True, keep=("id",))


@pytest.fixture
def forked(monkeypatch):
    monkeypatch.setattr(pool, "MIN_ROWS", 0)  # the pool even for a few rows


def _spy_parts(monkeypatch) -> list:
    """What `Journal.record` is handed as part and traces, per chunk."""
    seen = []
    real = Journal.record

    def record(self, chunk_index, first_row, rows, next_pos, counts, notes, part, traces):
        seen.append((type(part), type(traces)))
        real(self, chunk_index, first_row, rows, next_pos, counts, notes, part, traces)

    monkeypatch.setattr(Journal, "record", record)
    return seen


def test_workers_write_their_parts_and_the_bytes_are_those_sent_back(tmp_path, monkeypatch, forked):
    src = tmp_path / "in.csv"
    write_points(src, 130, bad_every=11)
    seen = _spy_parts(monkeypatch)
    outputs = {}
    for name, workers in (("forked", 2), ("here", 1)):
        run_file(_job, src, tmp_path / f"{name}.csv", chunk_size=20, traces=tmp_path / f"{name}.jsonl",
                 workers=workers, show_progress=False)
        outputs[name] = (tmp_path / f"{name}.csv").read_bytes(), (tmp_path / f"{name}.jsonl").read_bytes()
    assert seen == [(WrittenPart, WrittenPart)] * 14  # 7 chunks, twice: no part's bytes came back
    seen.clear()
    job, source = open_job(_job, src)  # the Dask way: bytes come back and are written by this process
    runner.run(job, source, tmp_path / "bytes.csv", chunk_size=20, traces=tmp_path / "bytes.jsonl",
               show_progress=False, same_disk=False)
    assert seen == [(bytes, bytes)] * 7
    outputs["bytes"] = (tmp_path / "bytes.csv").read_bytes(), (tmp_path / "bytes.jsonl").read_bytes()
    assert outputs["forked"] == outputs["here"] == outputs["bytes"]
    assert outputs["here"][0].count(b"\n") == 131
    assert not list(tmp_path.glob(".*"))  # no journal folder, temporary part or output left behind


@pytest.mark.parametrize("when", ["before its journal line", "after its journal line"])
def test_a_part_changed_on_disk_is_refused_and_resume_redoes_it(tmp_path, monkeypatch, forked, when):
    """The checksum journaled is the one of the bytes the worker encoded, computed in its memory: a part file
    changed before the journal renames it, or after, never reaches the output."""
    src = tmp_path / "in.csv"
    write_points(src, 60)
    out = tmp_path / "out.csv"
    real_replace, real_record = journal.fsync_replace, Journal.record

    def damage(path):
        path.write_bytes(path.read_bytes().replace(b";", b",", 1))

    def replace(tmp, final):
        if final.name == "part-00000001":
            damage(tmp)
        real_replace(tmp, final)

    def record(self, chunk_index, *args):
        real_record(self, chunk_index, *args)
        if chunk_index == 1:
            damage(self.part(self.entries[-1])[0])

    if when == "before its journal line":
        monkeypatch.setattr(journal, "fsync_replace", replace)
    else:
        monkeypatch.setattr(Journal, "record", record)
    with pytest.raises(OutputIntegrityError, match="partie n° 2"):
        run_file(_job, src, out, chunk_size=20, workers=2, show_progress=False)
    assert not out.exists() and not (tmp_path / ".out.csv.qpv-tmp").exists()
    monkeypatch.undo()
    monkeypatch.setattr(pool, "MIN_ROWS", 0)
    s = run_file(_job, src, out, chunk_size=20, workers=2, resume=True, show_progress=False)
    assert s["resumed_rows"] == 20  # chunk 1 (damaged) and 2 done again
    run_file(_job, src, tmp_path / "ref.csv", chunk_size=20, workers=1, show_progress=False)
    assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()


def test_parts_written_but_not_journaled_are_done_again_on_resume(tmp_path, monkeypatch):
    """Interrupted after chunk 2's part was written by the process that answered it but before its journal line:
    the left-over temporary part (or a stale final name) is rewritten on --resume, the output the same bytes."""
    src = tmp_path / "in.csv"
    write_points(src, 50, bad_every=7)
    out, parts = tmp_path / "out.csv", tmp_path / ".out.csv.qpv-parts"
    real = Journal.record

    def record(self, chunk_index, *args):
        if chunk_index == 2:
            raise KeyboardInterrupt  # Ctrl-C between the worker's write and the journal line
        real(self, chunk_index, *args)

    monkeypatch.setattr(Journal, "record", record)
    with pytest.raises(KeyboardInterrupt):
        run_file(_job, src, out, chunk_size=10, traces=tmp_path / "out.jsonl", show_progress=False)
    assert (parts / "part-00000002.tmp").exists() and not (parts / "part-00000002").exists()
    assert not out.exists() and not (tmp_path / "out.jsonl").exists()
    (parts / "part-00000002.tmp").write_bytes(b"ligne d'un travail interrompu\n")
    (parts / "traces-00000003").write_bytes(b"{}\n")  # an orphan under a final name
    monkeypatch.undo()
    s = run_file(_job, src, out, chunk_size=10, traces=tmp_path / "out.jsonl", resume=True, show_progress=False)
    assert s["resumed_rows"] == 20
    run_file(_job, src, tmp_path / "ref.csv", chunk_size=10, traces=tmp_path / "ref.jsonl", show_progress=False)
    assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()
    assert (tmp_path / "out.jsonl").read_bytes() == (tmp_path / "ref.jsonl").read_bytes()


def test_an_input_changed_while_the_workers_read_it_is_refused_in_french(tmp_path, monkeypatch, forked):
    """Forked workers read their chunk's lines from the input file: one changed after the job opened it is refused
    (exit 2 wording, the file named), never answered with the lines of another file; no output is written."""
    src = tmp_path / "in.csv"
    write_points(src, 200)
    out = tmp_path / "out.csv"
    real = Journal.record

    def record(self, chunk_index, *args):
        real(self, chunk_index, *args)
        if chunk_index == 0:
            src.write_text(src.read_text(encoding="utf-8").replace("2024-06-01", "2024-06-02"), encoding="utf-8")

    monkeypatch.setattr(Journal, "record", record)
    with pytest.raises(BadInput, match="le fichier d'entrée a été modifié pendant le traitement") as refused:
        run_file(_job, src, out, chunk_size=10, workers=2, show_progress=False)
    assert refused.value.field.endswith("in.csv")
    assert not out.exists() and not (tmp_path / ".out.csv.qpv-tmp").exists()
