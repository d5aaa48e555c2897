"""Hostile or odd files (issue 15, findings 7 and 8): a French diagnosis with exit 2, or an error row; formulas
neutralised in headers and in NUL-led cells; a quoted lone CR is data."""
import datetime as dt

import pytest
from click.testing import CliRunner

from eligibility.batch import run_file
from eligibility.batch.locate import LocateJob
from qpv_cli.main import qpv

DATE = ["--date", "2024-06-01", "--no-progress"]


def locate(tmp_path, content: bytes, *args):
    src = tmp_path / "in.csv"
    src.write_bytes(content)
    return CliRunner().invoke(qpv, ["batch", "locate", str(src), "-o", str(tmp_path / "out.csv"), *DATE, *args])


@pytest.mark.parametrize("content, says", [
    (b"lon;lat\r2.35;48.85\r5.2;46.2\r", "ancien format Mac"),
    (bytes(range(256)) * 4, "fichier binaire"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "fichier binaire"),
    ("lon;lat\n2.35;48.85\n".encode("utf-16"), "UTF-16"),
])
def test_files_that_are_not_csv_text_are_diagnosed(tmp_path, content, says):
    res = locate(tmp_path, content)
    assert res.exit_code == 2 and says in res.stderr and "interne" not in res.stderr, res.output


def test_a_cell_over_128_kb_is_read_even_in_a_multiline_field(tmp_path):
    """The csv module's 128 kB field limit made a long quoted multi-line field an 'unclosed quote' error."""
    big = "a" * 200_000
    res = locate(tmp_path, f'id;lon;lat\n"{big}\nb";5,23227;46,21069\n2;5,23227;46,21069\n'.encode(), "--keep", "id")
    assert res.exit_code == 0, res.output
    import pandas as pd

    out = pd.read_csv(tmp_path / "out.csv", sep=";", dtype=str, keep_default_na=False)
    assert list(out["status"]) == ["inside", "inside"] and out["id"][0] == big + "\nb"


def test_kept_headers_and_nul_led_cells_are_neutralised(tmp_path):
    content = b'lon;lat;=HYPERLINK("http://x")\n2.35;48.85;\x00=1+1\n2.35;48.85;@SUM(A1)\n'
    res = locate(tmp_path, content, "--keep", '=HYPERLINK("http://x")', "--fields", "status")
    assert res.exit_code == 0, res.output
    lines = (tmp_path / "out.csv").read_bytes().split(b"\n")
    assert lines[0] == b'row;"\'=HYPERLINK(""http://x"")";status;error'
    assert lines[1] == b"1;'\x00=1+1;outside;" and lines[2] == b"2;'@SUM(A1);outside;"


def test_a_quoted_lone_cr_keeps_the_rows_other_columns(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(b'id;lon;lat\n"a\rb";5,23227;46,21069\nc\rd;5,23227;46,21069\n')
    run_file(lambda r: LocateJob(r, date=dt.date(2024, 6, 1), keep=("id",), fields=("status",)), src,
             tmp_path / "out.csv", show_progress=False)
    lines = (tmp_path / "out.csv").read_bytes().split(b"\n")
    assert lines[1] == b'1;"a\rb";inside;'  # the CR is data inside quotes: the row is answered
    assert lines[2].startswith(b"2;;error;retour chariot")  # outside quotes it still ends a line elsewhere


def test_a_point_outside_france_is_refused_alone_and_an_error_row_in_a_batch(tmp_path):
    """Decision (docs/batch.md): outside France is bad input, so `qpv locate` exits 2 and a batch, which never
    stops, gives that row status `error` with the same words (it used to say `not_covered` there)."""
    from eligibility.geography.trace import OUTSIDE_FRANCE

    alone = CliRunner().invoke(qpv, ["locate", "--lon", "-30", "--lat", "40", "--date", "2024-06-01"])
    assert alone.exit_code == 2 and OUTSIDE_FRANCE in alone.stderr
    res = locate(tmp_path, b"lon;lat\n-30;40\n5,23227;46,21069\n", "--fields", "status")
    assert res.exit_code == 0, res.output
    lines = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1] == f"1;error;le point {OUTSIDE_FRANCE} (ligne 2 du fichier)" and lines[2] == "2;inside;"
