"""Arrow without pandas, for the commands that need only Arrow and numpy (issue 13: startup).

pyarrow probes for pandas the first time it converts between numpy and Arrow (`pa.array`, `to_numpy`, a
Python scalar given to a compute function), and that probe *imports* pandas when it is installed: ~0.3 s of a
`qpv batch locate --fields status,quartier_code` process that never uses it. `skip_pandas_probe()` makes that
first probe find no pandas. pyarrow's pandas entry points (`Table.to_pandas`, `Table.from_pandas`, converting
a text column to numpy objects) look for pandas again and load it, so a path that does need pandas (addresses,
Parquet input, the register) still gets it: everything it hands to pyarrow comes from one of those calls.
Only for one-command processes (the command line): a long-lived process mixing pandas objects and Arrow
(the web service) must not call it.
"""
from __future__ import annotations

import sys


class _NoPandas:
    """An import finder that refuses pandas (only while pyarrow probes)."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas":
            raise ModuleNotFoundError("pandas is not probed here", name=name)
        return None


def skip_pandas_probe() -> None:
    if "pandas" in sys.modules:  # already paid for: nothing to save
        return
    import numpy as np
    import pyarrow as pa

    blocker = _NoPandas()
    sys.meta_path.insert(0, blocker)
    try:
        pa.array(np.zeros(0))  # the probe: pyarrow records "no pandas" for its optional uses
    finally:
        sys.meta_path.remove(blocker)


def scalar(value, type_):
    """An Arrow scalar made from a numpy array: a Python value handed to pyarrow (a compute function's
    argument) goes through its Python conversion, which imports pandas."""
    key = (value, str(type_))
    if key not in _SCALARS:
        import numpy as np
        import pyarrow as pa

        _SCALARS[key] = pa.array(np.array([value], dtype=object), type=type_)[0]
    return _SCALARS[key]


_SCALARS: dict = {}


def to_numpy(arr):
    """A numeric or boolean Arrow array as numpy (a copy), from its buffers when it has no nulls (pyarrow's
    `to_numpy` converts through its pandas machinery); with nulls, as pyarrow gives it."""
    import numpy as np
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count and pa.types.is_floating(arr.type):  # null reads NaN, as in pyarrow's own
        from .arrow_compute import fill_null

        arr = fill_null(arr, pa.array(np.array([np.nan], dtype=arr.type.to_pandas_dtype()))[0])
    if arr.null_count:
        return arr.to_numpy(zero_copy_only=False)
    data = arr.buffers()[1]
    if pa.types.is_boolean(arr.type):
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
        return bits[arr.offset:arr.offset + len(arr)].astype(bool)
    return np.frombuffer(data, dtype=arr.type.to_pandas_dtype())[arr.offset:arr.offset + len(arr)].copy()


def to_texts(arr):
    """An Arrow text array as a numpy object array (str, None for a null): `to_numpy`'s counterpart for text.
    pyarrow's own converts through pandas (importing it); without pandas loaded, the values come one by one
    (a column's few distinct texts)."""
    import numpy as np

    if "pandas" in sys.modules:
        return arr.to_numpy(zero_copy_only=False).astype(object, copy=False)
    out = np.empty(len(arr), dtype=object)
    out[:] = arr.to_pylist()
    return out
