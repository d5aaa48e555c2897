"""One writer per output (issue 15, finding 6): a second job on the same -o is refused while the first runs,
and assembly re-checks every part against the checksum the journal recorded. The CSV output is built while the job
runs (each part appended once it and every part before it are journaled), so a part is damaged here right after
its journal line, before it is appended."""
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from eligibility.batch import run_file, runner
from eligibility.batch.journal import Journal
from eligibility.batch.locate import LocateJob
from eligibility.errors import OutputIntegrityError
from qpv_cli.main import qpv

from test_runner import write_points

HERE = Path(__file__).parent


def test_a_second_job_on_the_same_output_is_refused_naming_the_running_one(tmp_path):
    src = tmp_path / "in.csv"
    write_points(src, 300)
    ref, out = tmp_path / "ref.csv", tmp_path / "out.csv"
    cmd = [sys.executable, str(HERE / "slow_run.py"), str(src)]
    subprocess.run(cmd + [str(ref), str(tmp_path / "ref.jsonl"), "20"], check=True, timeout=120)
    first = subprocess.Popen(cmd + [str(out), str(tmp_path / "out.jsonl"), "20"])
    try:
        journal = tmp_path / ".out.csv.qpv-parts" / "journal.jsonl"
        deadline = time.monotonic() + 60
        while not (journal.exists() and journal.read_text().count("\n") >= 2):
            assert time.monotonic() < deadline and first.poll() is None, "le premier traitement n'a pas démarré"
            time.sleep(0.02)
        # the same output, another tolerance: before, both ran and the file mixed their rows under one header
        second = CliRunner().invoke(qpv, ["batch", "locate", str(src), "-o", str(out), "--date", "2024-01-01",
                                          "--tolerance", "0", "--no-progress"])
        assert second.exit_code == 2, second.output
        assert "un autre traitement écrit déjà ce fichier" in second.stderr
        assert f"processus {first.pid}" in second.stderr and str(src) in second.stderr
    finally:
        first.wait(timeout=120)
    assert first.returncode == 0
    assert out.read_bytes() == ref.read_bytes()  # the first job's output, whole and alone
    assert not (tmp_path / ".out.csv.qpv-lock").exists()


def _damage_after_journal(monkeypatch, chunk: int, data: bytes) -> None:
    """Part `chunk`'s file replaced by `data` just after its journal line is written (before it is appended)."""
    real = Journal.record

    def record(self, chunk_index, *args):
        real(self, chunk_index, *args)
        if chunk_index == chunk:
            self.part(self.entries[-1])[0].write_bytes(data)

    monkeypatch.setattr(Journal, "record", record)


def test_the_output_appears_only_at_the_end_whole(tmp_path, monkeypatch):
    """While the job runs, the parts go to a temporary file beside the output; the output itself is only the
    final rename (atomic): never there half written."""
    src = tmp_path / "in.csv"
    write_points(src, 40)
    out, tmp = tmp_path / "out.csv", tmp_path / ".out.csv.qpv-tmp"
    seen = []
    real = Journal.record

    def record(self, *args):
        real(self, *args)
        seen.append((out.exists(), tmp.exists()))

    monkeypatch.setattr(Journal, "record", record)
    s = run_file(lambda r: LocateJob(r, date=dt.date(2024, 1, 1)), src, out, chunk_size=10, show_progress=False)
    assert s["chunks"] == 4 and seen == [(False, True)] * 4
    assert out.exists() and not tmp.exists()
    assert out.read_text(encoding="utf-8").count("\n") == 41  # the header and every row


def test_assembly_rechecks_each_part_against_the_journal(tmp_path, monkeypatch):
    src = tmp_path / "in.csv"
    write_points(src, 30)
    out = tmp_path / "out.csv"
    _damage_after_journal(monkeypatch, 1, b"1;inside;;QN00000X;ligne venue d'ailleurs\n")
    with pytest.raises(OutputIntegrityError, match="partie n° 2"):
        run_file(lambda r: LocateJob(r, date=dt.date(2024, 1, 1)), src, out, chunk_size=10, show_progress=False)
    assert not out.exists()  # nothing assembled from a part that is not the one computed
    assert not (tmp_path / ".out.csv.qpv-tmp").exists()
    monkeypatch.undo()
    s = run_file(lambda r: LocateJob(r, date=dt.date(2024, 1, 1)), src, out, chunk_size=10, resume=True,
                 show_progress=False)  # --resume recomputes the damaged chunk only
    assert s["rows"] == 30 and s["resumed_rows"] == 10
    ref = tmp_path / "ref.csv"
    run_file(lambda r: LocateJob(r, date=dt.date(2024, 1, 1)), src, ref, chunk_size=10, show_progress=False)
    assert out.read_bytes() == ref.read_bytes()


def test_the_cli_says_what_to_do_when_a_part_changed(tmp_path, monkeypatch):
    src = tmp_path / "in.csv"
    write_points(src, 12)
    _damage_after_journal(monkeypatch, 0, b"")
    res = CliRunner().invoke(qpv, ["batch", "locate", str(src), "-o", str(tmp_path / "o.csv"), "--date", "2024-01-01",
                                   "--no-progress", "--chunk-size", "5"])
    assert res.exit_code == 1 and "--resume" in res.stderr and "interne" not in res.stderr, res.output


def test_an_output_in_a_new_folder_is_written_and_an_unusable_one_refused_in_french(tmp_path):
    """The lock file lives beside the output: its folder is made first, as the parts folder always was; a folder
    that cannot be made is exit 2 in French, not an internal FileNotFoundError."""
    src = tmp_path / "in.csv"
    write_points(src, 5)
    out = tmp_path / "résultats" / "2025" / "out.csv"
    res = CliRunner().invoke(qpv, ["batch", "locate", str(src), "-o", str(out), "--date", "2024-01-01", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 6
    blocked = tmp_path / "fichier.txt"
    blocked.write_text("x")
    res = CliRunner().invoke(qpv, ["batch", "locate", str(src), "-o", str(blocked / "out.csv"), "--date", "2024-01-01",
                                   "--no-progress"])
    assert res.exit_code == 2, res.output
    assert "dossier de sortie inutilisable" in res.stderr and "un fichier de ce nom existe déjà" in res.stderr
