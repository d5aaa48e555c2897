"""Per-row messages: an object array holding, for each row of a chunk, None or the French message of its error.

A chunk's 100,000 rows carry several such arrays (the reader's, each column's, the job's), nearly always all
None. Comparing each cell with `np.equal(messages, None)` costs one Python comparison per cell, and filling a
new array with None one reference count per cell: together ~12 % of a `--fields` worker's chunk (perf). Here a
cell is None when it holds the None object itself, read from the array's pointers in one vectorised pass, and
the arrays without a message are one shared, read-only array per length.
"""
from __future__ import annotations

import functools

import numpy as np

_NONE = id(None)  # the address of the None object: what a cell holding None stores


def is_none(messages: np.ndarray) -> np.ndarray:
    """Per row, no message: `np.equal(messages, None)` for an object array of texts and None (a cell equals None
    only when it is None), without one comparison per cell."""
    messages = np.asarray(messages)
    if messages.dtype != object or messages.ndim != 1:
        return np.equal(messages, None)
    pointers = np.frombuffer(memoryview(np.ascontiguousarray(messages)).cast("B"), dtype=np.intp)
    return (pointers == _NONE) | (pointers == 0)  # numpy reads a NULL cell as None too


def has_message(messages: np.ndarray) -> np.ndarray:
    return ~is_none(messages)


@functools.lru_cache(maxsize=8)
def no_messages(n: int) -> np.ndarray:
    """n rows without a message: one read-only array per length (a caller that writes into it must copy)."""
    out = np.full(n, None, dtype=object)
    out.flags.writeable = False
    return out


def messages_where(mask: np.ndarray, message) -> np.ndarray:
    """`message` on the rows of `mask` (one message, or one per row of the mask), None elsewhere."""
    if not mask.any():
        return no_messages(len(mask))
    out = np.full(len(mask), None, dtype=object)
    out[mask] = message
    return out
