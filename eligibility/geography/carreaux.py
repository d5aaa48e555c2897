"""INSEE 200 m carreaux: INSPIRE identifiers and point -> carreau, as array functions.

An identifier is `CRS{epsg}RES{size}mN{northing}E{easting}` where N and E are the lower-left corner
of the square in that CRS's metres: EPSG:3035 (ETRS89-LAEA) in metropolitan France, the local UTM
systems overseas (law.md §6.2). Membership is integer division of projected coordinates, no
point-in-polygon needed.
"""
from __future__ import annotations

import re

import numpy as np

from ..errors import BadInput

METRO_EPSG = 3035
SIZE_M = 200

_ID = re.compile(r"^CRS(?P<epsg>\d{4,5})RES(?P<size>\d+)mN(?P<n>-?\d+)E(?P<e>-?\d+)$", re.IGNORECASE)


def snap(x: np.ndarray, y: np.ndarray, size: int = SIZE_M) -> tuple[np.ndarray, np.ndarray]:
    """Lower-left corners (easting, northing) of the carreaux that hold projected points x, y."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return (np.floor(x / size) * size).astype(np.int64), (np.floor(y / size) * size).astype(np.int64)


def _id_rows(e: np.ndarray, n: np.ndarray, epsg: int, size: int):
    """(rows, byte matrix) per pair of digit widths (usually one: 7 + 7 digits in metropolitan France): row j
    of the matrix is the identifier of point rows[j], ASCII (digits from `_digits`): several times cheaper
    than one Python string per id. Values are non-negative."""
    prefix = np.frombuffer(f"CRS{epsg}RES{size}mN".encode(), dtype=np.uint8)
    widths = [len(str(int(v.min()))) if len(v) else 1 for v in (n, e)] + [len(str(int(v.max()))) if len(v) else 1 for v in (n, e)]
    if widths[:2] == widths[2:]:  # the usual case: a zone's corners all have as many digits (no sort below)
        pair, keys = None, [widths[0] * 32 + widths[1]]
    else:
        powers = 10 ** np.arange(1, 19, dtype=np.int64)
        pair = (np.searchsorted(powers, n, side="right") + 1) * 32 + np.searchsorted(powers, e, side="right") + 1
        keys = np.unique(pair)
    for key in keys:
        rows = np.arange(len(e)) if len(keys) == 1 else np.flatnonzero(pair == key)
        a, b = int(key) // 32, int(key) % 32
        p = len(prefix)
        buf = np.empty((len(rows), p + a + 1 + b), dtype=np.uint8)
        buf[:, :p] = prefix
        buf[:, p + a] = ord("E")
        for value, first, width in ((n[rows], p, a), (e[rows], p + a + 1, b)):
            buf[:, first:first + width] = _digits(value, width, size)
        yield rows, buf


def _digits(values: np.ndarray, width: int, size: int) -> np.ndarray:
    """ASCII digits of non-negative integers as a (len, width) matrix (zero-padded on the left). A batch chunk's
    corners are multiples of `size` over a span of a few thousand carreaux: the digits of each corner of the
    span are written once (a table) and taken by row, where writing them digit by digit costs a division pass
    per digit over every row."""
    if len(values) > 64:
        low = int(values.min())
        step, rest = np.divmod(values - low, size)
        span = int(step.max()) + 1
        if 4 * span <= len(values) and not rest.any() and width <= 8:
            table = np.zeros((span, 8), dtype=np.uint8)  # rows of 8 bytes: taken as one uint64 each
            table[:, :width] = _digits_by_division(low + np.arange(span, dtype=np.int64) * size, width)
            return table.view(np.uint64).ravel()[step].view(np.uint8).reshape(-1, 8)[:, :width]
    return _digits_by_division(values, width)


def _digits_by_division(values: np.ndarray, width: int) -> np.ndarray:
    out = np.empty((len(values), width), dtype=np.uint8)
    for k in range(width - 1, -1, -1):
        values, digit = np.divmod(values, 10)
        out[:, k] = digit
        out[:, k] += 48
    return out


def _checked_corners(easting, northing) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(easting, dtype=np.int64).ravel(), np.asarray(northing, dtype=np.int64).ravel()


def format_ids(easting: np.ndarray, northing: np.ndarray, epsg: int = METRO_EPSG, size: int = SIZE_M) -> np.ndarray:
    """INSPIRE identifiers for lower-left corners (vectorised string building), as Python strings."""
    e, n = _checked_corners(easting, northing)
    out = np.empty(len(e), dtype=object)
    if len(e) == 0:
        return out
    if (e < 0).any() or (n < 0).any():  # never seen in practice: keep the plain path for signs
        prefix = f"CRS{epsg}RES{size}mN"
        return np.char.add(np.char.add(np.char.add(prefix, n.astype(str)), "E"), e.astype(str)).astype(object)
    for rows, buf in _id_rows(e, n, epsg, size):
        lines = np.empty((len(rows), buf.shape[1] + 1), dtype=np.uint8)
        lines[:, :-1] = buf
        lines[:, -1] = ord("\n")  # one decode + split makes all the str objects at C speed
        out[rows] = lines.tobytes().decode("ascii").split("\n")[:-1]
    return out


def id_text(easting: np.ndarray, northing: np.ndarray, epsg: int = METRO_EPSG,
            size: int = SIZE_M) -> tuple[np.ndarray, np.ndarray]:
    """The identifiers of `format_ids` as one ASCII buffer, no Python string per id: (offsets, data), id i
    is data[offsets[i]:offsets[i + 1]] (offsets int64, length n + 1; data uint8). A batch hands the buffer
    to Arrow as it is."""
    e, n = _checked_corners(easting, northing)
    groups = list(_id_rows(e, n, epsg, size)) if len(e) and (e >= 0).all() and (n >= 0).all() else []
    if len(groups) == 1:  # every id of the same width (always, within a zone's grid): the matrix is the buffer
        width = groups[0][1].shape[1]
        return np.arange(len(e) + 1, dtype=np.int64) * width, groups[0][1].reshape(-1)
    return text_buffer(format_ids(e, n, epsg, size))


def text_buffer(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data) of ASCII strings (None: empty), the layout of `id_text`."""
    lengths = np.array([0 if t is None else len(t) for t in texts], dtype=np.int64)
    body = "".join(t for t in texts if t is not None).encode("ascii")
    return np.concatenate([[0], np.cumsum(lengths)]), np.frombuffer(body, dtype=np.uint8)


def ids_for_points(x: np.ndarray, y: np.ndarray, epsg: int = METRO_EPSG, size: int = SIZE_M) -> np.ndarray:
    """Identifiers of the carreaux holding projected points (x, y) given in EPSG `epsg`."""
    e, n = snap(x, y, size)
    return format_ids(e, n, epsg, size)


def parse_id(carreau_id: str) -> tuple[int, int, int, int]:
    """(epsg, size_m, easting, northing) of an identifier, or BadInput naming what is wrong."""
    m = _ID.match(str(carreau_id).strip())
    if not m:
        raise BadInput(
            f"identifiant de carreau invalide « {carreau_id} » : attendu CRS3035RES200mN…E… (coin inférieur gauche)",
            field="carreau",
        )
    epsg, size, n, e = int(m["epsg"]), int(m["size"]), int(m["n"]), int(m["e"])
    if n % size or e % size:
        raise BadInput(f"identifiant de carreau « {carreau_id} » : coin non aligné sur la grille de {size} m", field="carreau")
    return epsg, size, e, n


def parse_ids(ids) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised parse: arrays (epsg, size, easting, northing). Raises BadInput on the first bad id.

    The regular expression runs in Arrow's C++ kernel (about 1 s for INSEE's 2.3 million metropolitan ids).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    s = pa.array(np.asarray(ids, dtype=object), type=pa.string(), from_pandas=True)
    if len(s) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    parts = pc.extract_regex(pc.utf8_trim_whitespace(s), "(?i)" + _ID.pattern)
    bad = pc.is_null(parts).to_numpy(zero_copy_only=False)
    if bad.any():
        parse_id(np.asarray(ids, dtype=object)[bad][0])  # raises the message naming the id
    col = lambda name: pc.cast(pc.struct_field(parts, name), pa.int64()).to_numpy()  # noqa: E731
    return col("epsg"), col("size"), col("e"), col("n")


# --- geometry and adjacency (issue 4, criteria) -------------------------------------------------

# Offsets (dx, dy) in carreau units. A QPV is « un espace urbain continu » (décret 2014-767 art. 1):
# with 4-connectivity two carreaux are contiguous only when they share a side; 8-connectivity also
# joins carreaux that touch at a corner. The criteria use 4 by default (see docs/criteria.md).
NEIGHBOUR_OFFSETS = {
    4: np.array([(1, 0), (-1, 0), (0, 1), (0, -1)], dtype=np.int64),
    8: np.array([(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1)], dtype=np.int64),
}


def check_connectivity(connectivity: int) -> int:
    if connectivity not in NEIGHBOUR_OFFSETS:
        raise BadInput(f"connexité {connectivity} inconnue : 4 (côté commun) ou 8 (côté ou coin)", field="connectivity")
    return connectivity


def centres(easting: np.ndarray, northing: np.ndarray, size: int = SIZE_M) -> tuple[np.ndarray, np.ndarray]:
    """Centres (x, y) of carreaux given by their lower-left corners, in the grid's CRS."""
    half = size / 2
    return np.asarray(easting, dtype=float) + half, np.asarray(northing, dtype=float) + half


def squares(easting: np.ndarray, northing: np.ndarray, size: int = SIZE_M) -> np.ndarray:
    """Square polygons [E, E+size] x [N, N+size] (shapely array, grid CRS)."""
    import shapely

    e = np.asarray(easting, dtype=float)
    n = np.asarray(northing, dtype=float)
    return shapely.box(e, n, e + size, n + size)


def neighbours(easting: np.ndarray, northing: np.ndarray, connectivity: int = 4, size: int = SIZE_M):
    """Lower-left corners of every neighbour of every carreau: two arrays of shape (len, connectivity)."""
    offsets = NEIGHBOUR_OFFSETS[check_connectivity(connectivity)] * size
    e = np.asarray(easting, dtype=np.int64)[:, None] + offsets[None, :, 0]
    n = np.asarray(northing, dtype=np.int64)[:, None] + offsets[None, :, 1]
    return e, n
