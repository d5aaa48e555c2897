"""Rounding of amounts: half-up (away from zero) to the cent, in decimal arithmetic, never by binary rounding.

The evaluator computes amounts in float64 over whole columns (one code path for one decision and a
million). A float like 22 810,61 × 0,5 is stored as 11 405,30499999…, and binary rounding (`np.round`,
half-to-even on that float) gives 11 405,30 where the law's arithmetic gives 11 405,31. So the float is
first read back as the decimal it stands for, to the millionth (`EXACT_DIGITS`), then rounded in integer
fixed-point arithmetic, which is decimal arithmetic: (millionths + 5 000) // 10 000 cents.

Reading to the millionth is exact for what rule files compute: amounts in cents times ratios with at
most four decimals have at most six decimals, and the float error of a few operations on values below
`EXACT_LIMIT` is far below half a millionth. Larger values (never an aid amount) go through Python's
`decimal` module from their shortest representation, row by row.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np

EXACT_DIGITS = 6
EXACT_LIMIT = 1e9  # |x| * 10**6 stays well inside the 2**53 integers a float64 holds exactly


def half_up(values: np.ndarray, digits: int = 2) -> np.ndarray:
    """`values` rounded half away from zero to `digits` decimals (decimal ROUND_HALF_UP), as float64.

    NaN and infinities pass through unchanged. 0 <= digits <= 6.
    """
    if not 0 <= digits <= EXACT_DIGITS:
        raise ValueError("half_up: 0 <= digits <= 6")
    x = np.asarray(values, dtype=float)
    finite = np.isfinite(x)
    small = finite & (np.abs(x) < EXACT_LIMIT)
    micro = np.rint(np.where(small, x, 0.0) * 10.0 ** EXACT_DIGITS).astype(np.int64)
    step = 10 ** (EXACT_DIGITS - digits)
    units = (np.abs(micro) + step // 2) // step  # integer arithmetic: half-up on the decimal value
    out = np.where(small, np.sign(micro) * units / 10.0 ** digits, x)
    for i in np.flatnonzero(finite & ~small):  # rare: huge values, exact from their shortest decimal form
        q = Decimal(repr(float(x[i]))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
        out[i] = float(q)
    return out


def cents(values: np.ndarray) -> np.ndarray:
    """Amounts in euros rounded half-up to the cent."""
    return half_up(values, 2)
