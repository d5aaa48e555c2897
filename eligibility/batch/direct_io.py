"""Batch parts and outputs written and read around the page cache (Linux O_DIRECT) where the file system allows it.

A large batch writes every byte of its output twice (each chunk's part, by the worker that answered it, then the
output the parts are appended to) and reads it once. Copying into page cache is what costs: in the 1M-row default
locate (94 MB of output), the kernel's copy into it was 9 % of all CPU samples (perf); 94 MB written into new page
cache took 0.82 CPU s on the benchmark machine, and 0.02 around it (`benchmarks/bench_direct_io.py`). And the
output of a 25M-row batch no longer evicts everything else from memory.

O_DIRECT wants block-aligned memory, file offsets and lengths: whole 4 KB blocks go to the file from one page-aligned
buffer, reused; the last partial block is written through the page cache when the file is closed. Reads are
aligned the same way (a short read is the end of the file). Where O_DIRECT is missing (not Linux) or refused
(a file system without it), the same calls are plain buffered reads and writes. Either way the bytes are the
same, and ordinary reads of the files (`Path.read_bytes`) see them: the kernel keeps both paths coherent.
"""
from __future__ import annotations

import errno
import functools
import mmap
import os
from pathlib import Path
from typing import Iterator

BLOCK = 4096  # the alignment O_DIRECT asks for on every common device (512-byte devices accept it too)
_DIRECT = getattr(os, "O_DIRECT", 0)


def _open(path: Path, flags: int) -> tuple[int, bool]:
    """(file descriptor, whether it bypasses the page cache)."""
    if _DIRECT:
        try:
            return os.open(path, flags | _DIRECT, 0o666), True
        except OSError:  # EINVAL: a file system without direct I/O
            pass
    return os.open(path, flags, 0o666), False


def _buffered(fd: int) -> None:
    """The rest of this file through the page cache (its offset is no longer block-aligned)."""
    import fcntl

    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~_DIRECT)


def aligned_buffer(size: int) -> mmap.mmap:
    """Page-aligned memory (an anonymous mapping) of `size` rounded up to whole blocks, for `BlockWriter` and
    `read_blocks`: keep it for the next file (its pages are then already there). Private: a forked worker
    writing into its copy never changes the batch process's, nor another worker's (the anonymous mapping's
    default is shared)."""
    size = max(BLOCK, -(-size // BLOCK) * BLOCK)
    if hasattr(mmap, "MAP_PRIVATE"):
        return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return mmap.mmap(-1, size)  # Windows: no fork


class BlockWriter:
    """A new file (truncated if it exists), written by `write` calls of any size, in order; `close` ends it.
    `buffer` (`aligned_buffer`) holds the bytes until whole blocks can go: one per writer at a time."""

    def __init__(self, path: Path, buffer: mmap.mmap):
        self.fd, self.direct = _open(Path(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        self._buffer = buffer
        self._held = 0  # bytes waiting in the buffer

    def write(self, data) -> None:
        if not self.direct:
            _write_all(self.fd, data)
            return
        view = memoryview(data).cast("B")
        size = len(self._buffer)
        while len(view):
            n = min(size - self._held, len(view))
            self._buffer[self._held:self._held + n] = view[:n]
            self._held += n
            view = view[n:]
            if self._held == size:
                self._write_blocks()

    def _write_blocks(self) -> None:
        """The buffer's whole blocks to the file; the rest (under a block) moves to the buffer's start."""
        whole = self._held - self._held % BLOCK
        if not whole:
            return
        if not _write_all(self.fd, memoryview(self._buffer)[:whole]):  # a short write: on through the page cache
            self.direct = False
            _write_all(self.fd, memoryview(self._buffer)[whole:self._held])
            self._held = 0
            return
        rest = self._held - whole
        self._buffer[:rest] = self._buffer[whole:self._held]
        self._held = rest

    def close(self, sync: bool = False) -> None:
        """The held bytes written (the last partial block through the page cache), fsynced if `sync`, closed.
        Closing again does nothing."""
        if self.fd is None:
            return
        try:
            if self.direct:
                self._write_blocks()
            if self._held:
                _buffered(self.fd)
                _write_all(self.fd, memoryview(self._buffer)[:self._held])
                self._held = 0
            if sync:
                os.fsync(self.fd)
        finally:
            os.close(self.fd)
            self.fd = None


def _write_all(fd: int, data) -> bool:
    """Every byte of `data` written; False when a write came back short or was refused (EINVAL: a file system
    that took O_DIRECT at open but not this write): the rest then went through the page cache."""
    view = memoryview(data).cast("B")
    whole = True
    while len(view):
        try:
            view = view[os.write(fd, view):]
        except OSError as exc:
            if exc.errno != errno.EINVAL or not whole or not _DIRECT:
                raise
            whole = False
            _buffered(fd)
            continue
        if len(view) and whole and _DIRECT:
            whole = False
            _buffered(fd)
    return whole


@functools.cache
def _spare_buffer() -> mmap.mmap:
    """This process's buffer for `write_file`, kept from one part to the next."""
    return aligned_buffer(4 << 20)


def write_file(path: Path, data) -> None:
    """`data` as the whole content of `path` (not fsynced): a worker's part."""
    writer = BlockWriter(path, _spare_buffer())
    try:
        writer.write(data)
    finally:
        writer.close()


def read_blocks(path: Path, buffer: mmap.mmap) -> Iterator[memoryview]:
    """The bytes of `path`, in order, as views of `buffer` (`aligned_buffer`), each valid until the next is taken."""
    fd, direct = _open(Path(path), os.O_RDONLY)
    try:
        while n := (_read_direct(fd, buffer) if direct else os.readv(fd, [buffer])):
            yield memoryview(buffer)[:n]
    finally:
        os.close(fd)


def _read_direct(fd: int, buffer: mmap.mmap) -> int:
    """One read into `buffer`; a read that cannot be direct (an unaligned offset after a short read that was not
    the end of the file) is done through the page cache, as are the ones after it."""
    try:
        return os.readv(fd, [buffer])
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # a real read error is not a refused alignment
            raise
        _buffered(fd)
        return os.readv(fd, [buffer])
