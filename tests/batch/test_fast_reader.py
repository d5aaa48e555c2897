"""The fast reader (issue 13: Arrow straight on the file's lines, no record splitter) gives, chunk by chunk,
the rows, errors, lines and resume positions of the tolerant reader, whatever the file holds: broken lines,
a BOM, `;`, decimal commas, quoted line breaks, CRLF, bytes that are not UTF-8, a missing last line break;
and a chunk cut in place (its lines read from the file where it is answered) gives them too."""
import os
import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from eligibility.batch import sources
from eligibility.batch.sources import CsvSource
from eligibility.errors import BadInput

from test_parallel import KINDS, _csv

CLEAN = ["1;2,5;3", "x;y;z", "é;;", ";;"]
BROKEN = ["1;2", "1;2;3;4", "", "bad\xff;1;2", "a\rb;1;2", '1;"deux\nlignes";3', '1;"jamais fermé;3']


def _tolerant_chunks(path, size):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(sources, "_plain_cut", lambda f, window, *a: (window, None))
        return _read(CsvSource(path), size)


def _read(source, size, in_place=False):
    out = []
    for chunk in source.chunks(size, in_place=in_place):
        unchecked = chunk.row_errors is None
        assert (chunk.span is not None) == (in_place and unchecked) and (chunk.text is None) == (chunk.span is not None)
        frame = chunk.frame()
        out.append({"unchecked": unchecked, "rows": (chunk.first_row, chunk.n_rows), "next": chunk.next,
                    "errors": list(chunk.errors), "lines": np.asarray(chunk.lines).tolist(),
                    "frame": (list(frame.columns), frame.astype(object).values.tolist())})
    return out


def _same(fast, slow):
    assert len(fast) == len(slow)
    for f, s in zip(fast, slow):
        assert {k: v for k, v in f.items() if k != "unchecked"} == {k: v for k, v in s.items() if k != "unchecked"}


def _write(tmp_path_factory, data: bytes):
    p = tmp_path_factory.mktemp("fast") / "in.csv"
    p.write_bytes(data)
    return p


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(CLEAN + BROKEN), min_size=1, max_size=30), st.integers(1, 9), st.booleans(),
       st.booleans(), st.booleans(), st.booleans())
def test_fast_and_tolerant_readers_give_the_same_chunks(tmp_path_factory, lines, size, bom, crlf, last_break, in_place):
    body = ("\n".join(lines) + ("\n" if last_break else "")).encode().replace("\xff".encode(), b"\xff")
    data = ("\ufeff" if bom else "").encode() + b"a;b;c\n" + body
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    path = _write(tmp_path_factory, data)
    _same(_read(CsvSource(path), size, in_place), _tolerant_chunks(path, size))


FILES = st.tuples(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 50)), min_size=1, max_size=40),
                  st.sampled_from([";", ","]), st.booleans(), st.booleans())


@settings(max_examples=30, deadline=None)
@given(FILES, st.integers(1, 12), st.booleans())
def test_fast_and_tolerant_readers_agree_on_the_batch_test_files(tmp_path_factory, spec, size, in_place):
    path = _write(tmp_path_factory, _csv(*spec).encode("utf-8"))
    _same(_read(CsvSource(path), size, in_place), _tolerant_chunks(path, size))


def test_a_chunk_cut_in_place_travels_without_its_lines_and_refuses_a_file_changed_since(tmp_path_factory):
    """What a forked worker is sent for 2,000 plain lines is where they are, not the lines; it reads them from the
    file as it was cut, and a file changed in between is a clear French refusal, not rows of another file."""
    path = _write(tmp_path_factory, b"a;b;c\n" + b"".join(b"%d;2,5;texte assez long\n" % i for i in range(2000)))
    [sent] = CsvSource(path).chunks(5000, in_place=True)
    [kept] = CsvSource(path).chunks(5000)
    assert len(pickle.dumps(sent)) < 1000 < len(kept.text) < len(pickle.dumps(kept))
    received = pickle.loads(pickle.dumps(sent))
    assert received.arrow().equals(kept.arrow()) and received.text == kept.text
    changed = pickle.loads(pickle.dumps(sent))
    with open(path, "r+b") as f:  # same size, one byte changed, a later modification time
        f.seek(10)
        f.write(b"9")
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 1_000_000))
    with pytest.raises(BadInput, match="le fichier d'entrée a été modifié pendant le traitement"):
        changed.read()


def test_clean_lines_take_the_fast_path_and_a_broken_one_is_found_where_it_is_parsed(tmp_path_factory):
    lines = ["1;2,5;3"] * 5 + ["1;2"] + ["4;5;6"] * 3 + ['"q";1;2'] + ["7;8;9"] * 3
    path = _write(tmp_path_factory, ("a;b;c\n" + "\n".join(lines)).encode())  # no final line break
    fast = _read(CsvSource(path), 3)
    assert [c["unchecked"] for c in fast] == [True, True, True, False, True]  # the quoted line: tolerant cut
    assert fast[1]["errors"][2].startswith("2 champs au lieu de 3") and fast[1]["lines"] == [5, 6, 7]
    assert fast[3]["rows"] == (10, 3) and fast[3]["frame"][1][0] == ["q", "1", "2"]
    assert fast[4]["rows"] == (13, 1) and fast[4]["frame"][1] == [["7", "8", "9"]] and fast[4]["lines"] == [14]
    _same(fast, _tolerant_chunks(path, 3))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(CLEAN + BROKEN), min_size=1, max_size=30), st.integers(1, 9), st.booleans(),
       st.integers(1, 40))
def test_line_breaks_found_block_by_block_cut_the_same_chunks(tmp_path_factory, lines, size, last_break, block):
    """Plain chunks are read and scanned SCAN_BYTES at a time, in a window that grows when a chunk needs more room,
    and the tolerant splitter reads READ_BYTES at a time: with blocks of a few bytes, a chunk's lines, blank lines
    and quotes still fall where they are."""
    data = b"a;b;c\n" + ("\n".join(lines) + ("\n" if last_break else "")).encode().replace("\xff".encode(), b"\xff")
    path = _write(tmp_path_factory, data)
    slow = _tolerant_chunks(path, size)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(sources, "READ_BYTES", block)
        m.setattr(sources, "SCAN_BYTES", block)
        _same(_read(CsvSource(path), size), slow)


def test_a_chunk_larger_than_arrows_default_block_is_read_as_one_piece_per_column(tmp_path):
    """A chunk's text is parsed as one block: each column comes whole (Arrow's default 1 MB blocks cut a 10 MB
    chunk into ten pieces per column, joined again wherever a column is read), with the same cells."""
    path = tmp_path / "big.csv"
    lines = [f"{i};{i * 0.5};texte {i % 97}" for i in range(150_000)]  # ~3 MB
    path.write_text("a;b;c\n" + "\n".join(lines) + "\n", encoding="utf-8")
    chunk = next(CsvSource(path).chunks(150_000))
    table = chunk.arrow()
    assert len(chunk.text) > 2 * (1 << 20) and table.num_rows == 150_000
    assert [table.column(c).num_chunks for c in range(3)] == [1, 1, 1]
    assert table.column("c")[-1].as_py() == lines[-1].split(";")[2]
