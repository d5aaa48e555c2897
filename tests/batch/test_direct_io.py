"""Parts and outputs written and read around the page cache (`direct_io`): the same bytes whatever the sizes of
the writes and the buffer, whether the file system takes O_DIRECT or not, and after a short write or read."""
import errno
import os

import pytest
from hypothesis import given, settings, strategies as st

from eligibility.batch import direct_io
from eligibility.batch.direct_io import BLOCK, BlockWriter, aligned_buffer, read_blocks, write_file

# pieces whose sizes cross block boundaries: empty, under a block, exactly one, a few blocks and a bit
pieces = st.lists(st.one_of(st.binary(max_size=300), st.integers(0, 3 * BLOCK + 7).map(lambda n: os.urandom(n))),
                  max_size=8)


def _refuse_direct(monkeypatch):
    """A file system without direct I/O: opening with O_DIRECT fails with EINVAL, as on such file systems."""
    real = os.open

    def refusing(path, flags, *args):
        if direct_io._DIRECT and flags & direct_io._DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(path, flags, *args)

    monkeypatch.setattr(direct_io.os, "open", refusing)


def _write(path, chunks, buffer_blocks):
    writer = BlockWriter(path, aligned_buffer(buffer_blocks * BLOCK))
    for c in chunks:
        writer.write(c)
    writer.close(sync=True)
    return writer


@settings(max_examples=40, deadline=None)
@given(chunks=pieces, buffer_blocks=st.integers(1, 4), read_blocks_=st.integers(1, 4))
def test_written_then_read_back_the_same_bytes(tmp_path_factory, chunks, buffer_blocks, read_blocks_):
    path = tmp_path_factory.mktemp("dio") / "f"
    _write(path, chunks, buffer_blocks)
    expected = b"".join(chunks)
    assert path.read_bytes() == expected  # an ordinary read sees what went around the page cache
    assert b"".join(bytes(b) for b in read_blocks(path, aligned_buffer(read_blocks_ * BLOCK))) == expected


@settings(max_examples=20, deadline=None)
@given(chunks=pieces)
def test_a_file_system_without_direct_io_gets_plain_writes_and_the_same_bytes(tmp_path_factory, chunks):
    with pytest.MonkeyPatch.context() as mp:
        _refuse_direct(mp)
        path = tmp_path_factory.mktemp("dio") / "f"
        writer = _write(path, chunks, 1)
        assert not writer.direct
        assert b"".join(bytes(b) for b in read_blocks(path, aligned_buffer(BLOCK))) == b"".join(chunks)
    assert path.read_bytes() == b"".join(chunks)


def test_direct_io_is_used_where_the_file_system_takes_it(tmp_path):
    """Not a test of speed: that the bypass is really taken here when the platform has it (else the rest of
    this file would only ever test the plain path)."""
    if not direct_io._DIRECT:
        pytest.skip("no O_DIRECT on this platform")
    try:
        os.close(os.open(tmp_path / "probe", os.O_WRONLY | os.O_CREAT | direct_io._DIRECT))
    except OSError:
        pytest.skip("this file system refuses O_DIRECT")
    writer = _write(tmp_path / "f", [b"x" * (BLOCK + 1)], 1)
    assert writer.direct and (tmp_path / "f").read_bytes() == b"x" * (BLOCK + 1)


def test_a_short_write_goes_on_through_the_page_cache(tmp_path, monkeypatch):
    """A device may take fewer bytes than asked (whole blocks): the rest is written through the page cache,
    not lost."""
    real = os.write
    calls = []

    def short_once(fd, data):
        calls.append(len(data))
        return real(fd, memoryview(data)[:BLOCK] if len(calls) == 1 else data)

    monkeypatch.setattr(direct_io.os, "write", short_once)
    data = os.urandom(5 * BLOCK + 123)
    _write(tmp_path / "f", [data], 2)
    assert (tmp_path / "f").read_bytes() == data
    assert len(calls) > 1


def test_a_read_refused_mid_file_goes_on_through_the_page_cache(tmp_path, monkeypatch):
    data = os.urandom(3 * BLOCK + 5)
    write_file(tmp_path / "f", data)
    real = os.readv
    calls = []

    def refuse_second(fd, buffers):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(fd, buffers)

    monkeypatch.setattr(direct_io.os, "readv", refuse_second)
    assert b"".join(bytes(b) for b in read_blocks(tmp_path / "f", aligned_buffer(BLOCK))) == data


def test_write_file_replaces_the_whole_content_and_closing_twice_is_harmless(tmp_path):
    path = tmp_path / "f"
    write_file(path, b"a much longer first content " * 500)
    write_file(path, b"short")
    assert path.read_bytes() == b"short"
    writer = BlockWriter(path, aligned_buffer(BLOCK))
    writer.write(b"z")
    writer.close()
    writer.close()
    assert path.read_bytes() == b"z"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_worker_writes_into_its_own_copy_of_a_buffer():
    """Workers are forked from the batch process after it made its buffers (and, in a long test process, the
    one `write_file` keeps): what a worker writes there must stay its own, or two workers' parts would mix."""
    buffer = aligned_buffer(BLOCK)
    buffer[:6] = b"parent"
    pid = os.fork()
    if pid == 0:
        buffer[:6] = b"worker"
        os._exit(0)
    os.waitpid(pid, 0)
    assert buffer[:6] == b"parent"


def test_a_write_refused_after_a_direct_open_goes_on_through_the_page_cache(tmp_path, monkeypatch):
    """Some file systems take O_DIRECT at open and refuse a write (EINVAL): the bytes then go through the page
    cache, none lost, none twice."""
    real = os.write
    calls = []

    def refuse_first(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(fd, data)

    monkeypatch.setattr(direct_io.os, "write", refuse_first)
    data = os.urandom(5 * BLOCK + 77)
    _write(tmp_path / "f", [data], 2)
    assert (tmp_path / "f").read_bytes() == data and len(calls) > 1
