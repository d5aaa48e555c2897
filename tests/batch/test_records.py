"""Broken CSV lines become their own error rows; good neighbours are read exactly."""
import csv
import io

from hypothesis import given, settings, strategies as st

from eligibility.batch import dialect
from eligibility.batch.jobs import with_lines
from eligibility.batch.sources import CsvSource


def read_all(path, size):
    src = CsvSource(path)
    rows, errors = [], []
    for chunk in src.chunks(size):
        df = chunk.frame()
        good = iter(df.itertuples(index=False, name=None))
        for e in with_lines(chunk, chunk.errors):  # as the jobs write them: with the file's line
            if e is None:
                rows.append(list(next(good)))
                errors.append(None)
            else:
                rows.append(None)
                errors.append(e)
    return rows, errors


def test_ragged_empty_unbalanced_and_multiline(tmp_path):
    p = tmp_path / "in.csv"
    p.write_text('a;b;c\n1;2;3\n1;2\n\n1;2;3;4\n1;"deux\nlignes";3\n1;"jamais fermé;3\n4;5;6\n', encoding="utf-8")
    rows, errors = read_all(p, 100)
    assert len(rows) == 7
    assert rows[0] == ["1", "2", "3"]
    assert errors[1].startswith("2 champs au lieu de 3") and "ligne 3 du fichier" in errors[1]
    assert errors[2] == "ligne vide (ligne 4 du fichier)"
    assert errors[3].startswith("4 champs au lieu de 3")
    assert rows[4] == ["1", "deux\nlignes", "3"]
    assert errors[5].startswith("guillemet non refermé") and "ligne 8 du fichier" in errors[5]
    assert rows[6] == ["4", "5", "6"]


def test_trailing_blank_lines_are_not_rows_and_crlf_is_handled(tmp_path):
    p = tmp_path / "in.csv"
    p.write_bytes(b"a,b\r\n1,2\r\n3,4\r\n\r\n\r\n")
    rows, errors = read_all(p, 1)
    assert rows == [["1", "2"], ["3", "4"]] and errors == [None, None]


def test_latin1_file_and_bad_bytes_in_a_utf8_file(tmp_path, monkeypatch):
    p = tmp_path / "latin.csv"
    p.write_bytes("commune;lon\nSaint-Étienne;4,39\n".encode("cp1252"))
    src = CsvSource(p)
    assert src.dialect.encoding == "cp1252" and "Windows-1252" in src.describe()
    assert read_all(p, 10)[0] == [["Saint-Étienne", "4,39"]]
    monkeypatch.setattr(dialect, "SAMPLE_BYTES", 8)  # the Latin-1 line comes after the sniffed sample
    q = tmp_path / "mixed.csv"
    q.write_bytes("a;b\nÉ;1\n".encode() + "È;2\n".encode("latin-1") + b"x;3\n")
    rows, errors = read_all(q, 10)
    assert rows[0] == ["É", "1"] and rows[2] == ["x", "3"]
    assert errors[1].startswith("octets invalides pour l'encodage UTF-8")


def test_a_utf8_file_with_one_stray_byte_stays_utf8_and_that_row_is_an_error(tmp_path):
    """Read as Windows-1252 whole, its « é » became « Ã© » with no error (issue 15: never silently wrong)."""
    p = tmp_path / "mixed.csv"
    p.write_bytes("ville;n\nBéziers;1\nÉvry;2\n".encode() + b"B\xff;3\nx;4\n")
    src = CsvSource(p)
    assert src.dialect.encoding == "utf-8"
    rows, errors = read_all(p, 10)
    assert rows[0] == ["Béziers", "1"] and rows[1] == ["Évry", "2"] and rows[3] == ["x", "4"]
    assert errors[2].startswith("octets invalides pour l'encodage UTF-8") and errors[:2] == [None, None]
    one = tmp_path / "one.csv"  # one « é », one stray byte: still UTF-8
    one.write_bytes("ville;n\nBéziers;1\n".encode() + b"B\xff;2\n")
    assert read_all(one, 10)[0][0] == ["Béziers", "1"]
    latin = tmp_path / "latin.csv"  # a real Windows-1252 file: every accent is an invalid UTF-8 byte
    latin.write_bytes("ville;n\nBéziers;1\nÉvry;2\nCrème brûlée;3\n".encode("cp1252"))
    assert CsvSource(latin).dialect.encoding == "cp1252" and read_all(latin, 10)[0][2] == ["Crème brûlée", "3"]


def test_separator_and_bom_are_detected(tmp_path):
    p = tmp_path / "in.csv"
    p.write_bytes(b"\xef\xbb\xbflon,lat\n1.5,2.5\n")
    src = CsvSource(p)
    assert src.dialect.separator == "," and src.columns == ("lon", "lat") and "BOM" in src.describe()


# A stray quote followed by a multi-line field that starts with a line break or holds separators or quotes
# can be genuinely ambiguous (two readings, one broken line each; docs/batch.md): such fields are not
# generated here; single-line fields hold any of these characters.
FIELD = st.text(alphabet=st.sampled_from(list('ab ;,"é\n=-')), max_size=8).filter(
    lambda f: not ("\n" in f and (f[:1] == "\n" or ";" in f or '"' in f)))
ROWS = st.lists(st.lists(FIELD, min_size=3, max_size=3), min_size=1, max_size=30)
BROKEN = st.sampled_from(["", "x;y", "x;y;z;w", 'x;"y;z', '"x;y;z'])


@settings(max_examples=60, deadline=None)
@given(rows=ROWS, broken=st.lists(st.tuples(st.integers(0, 30), BROKEN), max_size=4),
       size=st.integers(1, 7), crlf=st.booleans())
def test_every_record_is_one_row_whatever_the_chunking(tmp_path_factory, rows, broken, size, crlf):
    def record(fields):  # one row as the csv module writes it (quotes where needed)
        buf = io.StringIO()
        csv.writer(buf, delimiter=";", lineterminator="\n").writerow(fields)
        return buf.getvalue()

    pieces, expected = [], []  # broken lines go *between* records
    for i, fields in enumerate(rows):
        for pos, line in sorted(broken, key=lambda t: t[0]):
            if pos == i:
                pieces.append(line + "\n")
                expected.append(None)
        pieces.append(record(fields))
        expected.append(fields)
    text = "a;b;c\n" + "".join(pieces)
    if crlf:
        text = text.replace("\n", "\r\n")  # also inside quoted fields: read back as "\n"
    p = tmp_path_factory.mktemp("r") / "in.csv"
    p.write_bytes(text.encode("utf-8"))
    rows_read, errors = read_all(p, size)
    assert len(rows_read) == len(expected)
    for got, want, err in zip(rows_read, expected, errors):
        if want is None:
            assert err is not None
        else:
            assert err is None and got == [f.replace("\r\n", "\n") for f in want]
