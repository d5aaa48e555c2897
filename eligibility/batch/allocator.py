"""The C allocator of a one-command batch process: freed memory kept for the next chunk (issue 13, sys time).

Each chunk allocates and frees the same few hundred MB of numpy arrays and buffers. glibc's malloc hands a
freed block back to the kernel when it was mmapped (blocks above its dynamic threshold) and trims the top of
its heap as soon as 128 kB are free there, so the next chunk's arrays are fresh pages again: on the default
1M-row locate, ~350,000 minor page faults and ~2 s of system CPU (kernel zeroing and mapping pages). With the
thresholds below, a freed block stays in the heap and is reused: memory the process already peaked at, no
more; Arrow allocates from that heap too (see BENCHMARKS.md, « Process costs »).

Only for processes that end with their command (the command line, and the workers it forks, which inherit
the settings): a long-lived process (the web service) keeps glibc's defaults and gives memory back.
"""
from __future__ import annotations

import ctypes

# glibc's mallopt parameters (malloc.h); other C libraries number them differently or lack them
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

SETTINGS = (
    (M_TRIM_THRESHOLD, 2**31 - 1),   # never trim the heap's top (mallopt takes a C int: INT_MAX)
    (M_TOP_PAD, 256 << 20),          # grow the heap 256 MB at a time (address space; pages come on use)
    (M_MMAP_THRESHOLD, 1 << 30),     # blocks under 1 GB come from the heap, where they are reused
)


def _glibc():
    """The process's C library when it is glibc (it alone exports gnu_get_libc_version), else None."""
    try:
        libc = ctypes.CDLL(None)
    except (OSError, TypeError):  # no handle on the running program (Windows)
        return None
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return None  # musl, macOS, Windows…: their allocators take no such settings; left as they are
    return libc


def keep_freed_memory(libc=None) -> bool:
    """Set the thresholds above (glibc only); True when glibc took every one of them. Elsewhere a no-op."""
    libc = libc if libc is not None else _glibc()
    if libc is None:
        return False
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    libc.mallopt.restype = ctypes.c_int
    if not all([libc.mallopt(param, value) == 1 for param, value in SETTINGS]):
        return False
    _arrow_from_the_c_heap()
    return True


def _arrow_from_the_c_heap() -> None:
    """Arrow's buffers (CSV parsing, answer tables) from the same kept heap rather than its bundled mimalloc,
    which returns freed segments to the kernel on its own schedule: on the default 1M-row locate, peak RSS
    ~725 -> ~645 MB and no more faults (BENCHMARKS.md, « Process costs »)."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
