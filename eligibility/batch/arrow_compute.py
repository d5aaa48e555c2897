"""Arrow compute kernels called without importing `pyarrow.compute` (issue 13: startup).

`import pyarrow.compute` builds a Python wrapper with a scraped docstring for each of Arrow's ~300 kernels:
0.1-0.2 CPU s, paid by every process of a batch that touches a kernel (each worker forked before its first
chunk). pyarrow's own Array methods (`take`, `cast`, `filter`, `is_null`…) import it too. The batch's
columns, answers and CSV cells call the kernels here instead: `pyarrow._compute.call_function`, the one
function those wrappers end in, with the options objects they build (same kernels, same results; the
equality is tested against `pyarrow.compute` in tests/batch/test_arrow_compute.py).

Only the kernels the batch uses are named here (a kernel without options: `_kernel(name)`).
"""
from __future__ import annotations

import functools

from pyarrow import _compute


def call(name: str, *args, options=None):
    return _compute.call_function(name, list(args), options)


def cast(arr, target_type):
    """`pc.cast(arr, target_type)`: a safe cast (refuses values that do not fit)."""
    return call("cast", arr, options=_compute.CastOptions.safe(target_type))


def take(data, indices):
    return call("take", data, indices, options=_compute.TakeOptions(boundscheck=True))


def filter(data, mask):  # noqa: A001 - the kernel's name
    return call("filter", data, mask, options=_compute.FilterOptions("drop"))


def fill_null(values, fill_value):
    """`pc.fill_null` with an Arrow scalar (`arrow_only.scalar`), cast to the values' type as pyarrow does."""
    if values.type != fill_value.type:
        fill_value = cast(fill_value, values.type)
    return call("coalesce", values, fill_value)


def is_null(values):
    return call("is_null", values, options=_compute.NullOptions(nan_is_null=False))


def match_substring(strings, pattern: str):
    return call("match_substring", strings, options=_compute.MatchSubstringOptions(pattern))


def match_substring_regex(strings, pattern: str):
    return call("match_substring_regex", strings, options=_compute.MatchSubstringOptions(pattern))


def replace_substring(strings, pattern: str, replacement: str):
    return call("replace_substring", strings, options=_compute.ReplaceSubstringOptions(pattern, replacement))


def replace_substring_regex(strings, pattern: str, replacement: str):
    return call("replace_substring_regex", strings, options=_compute.ReplaceSubstringOptions(pattern, replacement))


def round(x, ndigits: int):  # noqa: A001 - the kernel's name
    return call("round", x, options=_compute.RoundOptions(ndigits))


def dictionary_encode_nulls(values):
    """`pc.dictionary_encode(values, null_encoding="encode")`: a null is a value of the dictionary."""
    return call("dictionary_encode", values, options=_compute.DictionaryEncodeOptions("encode"))


def join_cells(*strings_and_separator):
    """`pc.binary_join_element_wise(*strings, separator, null_handling="replace", null_replacement="")`: a null
    string is joined as an empty one."""
    return call("binary_join_element_wise", *strings_and_separator,
                options=_compute.JoinOptions(null_handling="replace", null_replacement=""))


def _kernel(name: str):
    """A kernel without options (or with its default options), called by its Arrow name."""
    return functools.partial(call, name)


equal = _kernel("equal")
if_else = _kernel("if_else")
and_ = _kernel("and")
invert = _kernel("invert")
any = _kernel("any")  # noqa: A001 - the kernel's name
is_nan = _kernel("is_nan")
utf8_trim_whitespace = _kernel("utf8_trim_whitespace")
utf8_lower = _kernel("utf8_lower")
binary_join_element_wise = _kernel("binary_join_element_wise")
replace_with_mask = _kernel("replace_with_mask")
dictionary_encode = _kernel("dictionary_encode")
