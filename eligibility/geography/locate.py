"""Point -> quartier at a date: `locate_points`, array in, array out, with a trace per row.

Two paths, with the same answers (tests/geography/test_degree_grid.py checks it):
- the metric path (small batches, Lambert-93 input, tolerances above the degree grid's margin):
  1. zone by lon/lat box, projection to the zone's metric CRS;
  2. département by its contours (metric grid first, exact tests near boundaries), hence région;
  3. vintage in force for (territory, région, date) (`vintages.resolve_codes`), or not_covered;
  4. quartier: metric grid lookup; exact point-in-polygon and `dwithin` tests only near a boundary.
- the degree path (large WGS84 batches): département and quartier read from grids in the input's own
  degrees (`degree_grid.py`), no projection; only the points in their boundary cells take the metric path.
The answer is kept as integer codes; text columns, metric coordinates, commune, distance to the nearest
perimeter boundary and carreau are computed on first access (exact, vectorised), and `row(i)` computes
them for row i alone.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field, fields

import numpy as np
import shapely

from ..errors import BadInput
from . import carreaux, grid, index, territories, vintages
from .perimeters import load as load_perimeters

INSIDE, OUTSIDE, NEAR, NOT_COVERED, UNDETERMINED = "inside", "outside", "near_boundary", "not_covered", "undetermined"
STATUSES = (INSIDE, OUTSIDE, NEAR, NOT_COVERED, UNDETERMINED)
_CODE = {s: i for i, s in enumerate(STATUSES)}  # statuses travel as int8 codes until the result is built
_STATUS_OBJ = np.array(STATUSES + (None,), dtype=object)  # index -1 (a row a caller padded) reads as None
_REASON_OBJ = np.array((None,) + vintages.REASON_CODES[1:] + (None,), dtype=object)
_COVERAGE_OBJ = np.array(vintages.REASON_CODES + (None,), dtype=object)
SUPPORTED_CRS = ("EPSG:4326", "EPSG:2154")
MAX_TOLERANCE_M = 1000.0


def _as_float(values, field_name: str) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        items = list(np.atleast_1d(np.asarray(values, dtype=object)))
        for i, v in enumerate(items):  # error path only: name the first value that is not a number
            try:
                float(v)
            except (TypeError, ValueError):
                raise BadInput(f"nombre attendu, reçu « {v} »", field=field_name,
                               row=i + 1 if len(items) > 1 else None) from None
        raise BadInput("nombres attendus", field=field_name) from None
    if arr.ndim != 1:
        raise BadInput("tableau à une dimension attendu", field=field_name)
    return arr


def as_dates(dates, n: int) -> np.ndarray:
    """One date or n dates (date, datetime64 or ISO string) as datetime64[D]; BadInput names the row."""
    if isinstance(dates, (dt.date, str, np.datetime64)) or dates is None:
        dates = [dates]
    raw = list(dates) if not isinstance(dates, np.ndarray) else dates
    arr = None
    if isinstance(raw, np.ndarray) and np.issubdtype(raw.dtype, np.datetime64):
        arr = raw.astype("datetime64[D]")
    else:
        try:  # whole column at once (date objects or ISO strings); the row loop below only finds the culprit
            arr = np.asarray(raw, dtype="datetime64[D]") if len(raw) else np.zeros(0, "datetime64[D]")
            as_text = np.asarray(raw, dtype=object)
            is_text = np.array([isinstance(d, str) for d in as_text[:1]]).any()
            if is_text and (np.char.str_len(np.char.strip(as_text.astype(str))) != 10).any():
                arr = None  # numpy would read "2024-06" as 1 June: partial dates are refused below
        except (ValueError, TypeError):
            arr = None
    if arr is None:
        arr = np.empty(len(raw), dtype="datetime64[D]")
        for i, d in enumerate(raw):  # parsing user dates: once per distinct input, not a geometric hot path
            try:
                if isinstance(d, dt.datetime):
                    d = d.date()
                arr[i] = np.datetime64(d if isinstance(d, (dt.date, np.datetime64)) else dt.date.fromisoformat(str(d).strip()), "D")
            except (ValueError, TypeError):
                raise BadInput(f"date invalide « {d} » : format attendu AAAA-MM-JJ", field="date", row=i + 1 if len(raw) > 1 else None) from None
    if np.isnat(arr).any():
        raise BadInput("date manquante", field="date", row=int(np.flatnonzero(np.isnat(arr))[0]) + 1)
    if len(arr) == 1 and n != 1:
        arr = np.repeat(arr, n)
    if len(arr) != n:
        raise BadInput(f"{len(arr)} dates pour {n} points", field="date")
    return arr


@dataclass
class LocateResult:
    """Equal-length arrays, one row per input point. `row(i)` is the `qpv locate --json` object.

    The answer is held as small integer codes; the text columns (`status`, `quartier_code`, …), the
    metric coordinates and the columns that need geometry (commune, distance, carreau) are built on
    first access, so a caller pays only for what it reads.
    """

    status_code: np.ndarray       # int8 index into STATUSES (-1: a row a caller padded)
    quartier_pos: np.ndarray      # index into the vintage's Perimeters (-1 none)
    rule: np.ndarray              # index into vintages.rules() (-1 none)
    zone: np.ndarray              # index into territories.ZONES (-1 outside)
    dep_idx: np.ndarray           # index into territories.dep_table() (-1 none)
    why: np.ndarray               # index into vintages.REASON_CODES (0: covered)
    contained: np.ndarray         # the point is geometrically inside quartier_pos
    dates: np.ndarray             # datetime64[D]
    lon: np.ndarray
    lat: np.ndarray
    tolerance_m: float | None     # explicit tolerance; None: each file's own (twice its declared precision)
    crs: str
    detail: np.ndarray = field(default=None)     # undetermined reasons (address domain): non-empty = undetermined
    metric_x: np.ndarray = field(default=None)   # metric coordinates already known (NaN: project on access)
    metric_y: np.ndarray = field(default=None)
    exact_known: np.ndarray = field(default=None)  # "answered by exact tests" when the metric path ran
    metric_path: np.ndarray = field(default=None)  # rows that took the metric path (None: every row did)

    def __len__(self) -> int:
        return len(self.status_code)

    def take(self, rows) -> LocateResult:
        """The rows `rows` as a result of their own (what `row(i)` computes on: one row, not a million)."""
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        out = LocateResult(**{f.name: (v[rows] if isinstance(v := getattr(self, f.name), np.ndarray) else v)
                              for f in fields(LocateResult)})
        out.__dict__["_cited"] = self.__dict__.setdefault("_cited", {})  # trace._cited: once per result, not per row
        for name, value in list(self.__dict__.items()):  # columns already computed for every row (a batch's output)
            if isinstance(getattr(type(self), name, None), functools.cached_property):  # are sliced, not computed again
                if self._is_column(value):
                    out.__dict__[name] = value[rows]
                elif isinstance(value, tuple) and value and all(self._is_column(v) for v in value):
                    out.__dict__[name] = tuple(v[rows] for v in value)
        return out

    def _is_column(self, value) -> bool:
        return isinstance(value, np.ndarray) and value.shape[:1] == (len(self),)

    # -- text columns -----------------------------------------------------------------------------
    def coded(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(labels, index) such that text column `name` is labels[index] (numpy indexing: -1 is the last
        label), for the columns that are lookups in a small table; None for the others. A caller can build
        such a column without one Python object per row (the batch's Arrow columns)."""
        if name == "status":
            return _STATUS_OBJ, _small_int(self.status_code)
        if name in ("quartier_code", "quartier_name"):
            return self._quartier_coded(name.removeprefix("quartier_"))
        # the integer columns as they are (int8, int16 on the large-batch path): no int64 copy per column
        if name == "vintage":
            return np.array([r.vintage for r in vintages.rules()] + [None], dtype=object), \
                np.where(_small_int(self.zone) >= 0, _small_int(self.rule), -1)
        if name in ("departement", "region"):
            return territories.dep_table()[0 if name == "departement" else 1], _small_int(self.dep_idx)
        if name == "reason" and not len(self._undetermined_rows()):
            return _REASON_OBJ, _small_int(self.why)
        if name in ("commune_code", "commune_name"):
            codes, names, at = self._commune
            return (codes if name == "commune_code" else names), at
        return None

    def _column(self, name: str) -> np.ndarray:
        labels, at = self.coded(name)
        return np.take(labels, at.astype(np.intp))  # intp: numpy's fastest take

    @functools.cached_property
    def status(self) -> np.ndarray:
        return self._column("status")

    def _quartier_coded(self, attr: str) -> tuple[np.ndarray, np.ndarray]:
        rules, at = self._quartier_at
        labels = [np.asarray(getattr(load_perimeters(vintages.rules()[r].dataset_id), attr), dtype=object) for r in rules]
        return np.concatenate(labels + [np.array([None], dtype=object)]), at

    @functools.cached_property
    def _quartier_at(self) -> tuple[list, np.ndarray]:
        """(the vintages of the rows in or near a quartier, each row's position in their perimeters laid end to
        end, -1 none): the same for the quartier's code and name (computed once for both)."""
        pos, rule = _small_int(self.quartier_pos), _small_int(self.rule)
        has = np.flatnonzero(pos >= 0)  # the few rows in or near a quartier
        present = [int(r) for r in np.unique(rule[has])]  # the few vintages among them
        at = np.full(len(self), -1, np.int64 if len(present) > 1 else np.int32)
        first = 0
        for r in present:
            rows = has[rule[has] == r] if len(present) > 1 else has
            at[rows] = first + pos[rows]
            first += len(load_perimeters(vintages.rules()[r].dataset_id).code)
        return present, at

    @functools.cached_property
    def quartier_code(self) -> np.ndarray:    # None when no quartier
        return self._column("quartier_code")

    @functools.cached_property
    def quartier_name(self) -> np.ndarray:
        return self._column("quartier_name")

    @functools.cached_property
    def vintage(self) -> np.ndarray:          # None when not_covered
        return self._column("vintage")

    @functools.cached_property
    def departement(self) -> np.ndarray:      # '' outside France
        return self._column("departement")

    @functools.cached_property
    def region(self) -> np.ndarray:
        return self._column("region")

    def _undetermined_rows(self) -> np.ndarray:
        if self.detail is None:
            return np.zeros(0, np.int64)
        return np.flatnonzero([bool(d) for d in self.detail]) if self.detail.dtype == object else np.flatnonzero(self.detail != "")

    @functools.cached_property
    def reason(self) -> np.ndarray:
        """None, the not_covered reason code, or the undetermined reason (address domain)."""
        out = _REASON_OBJ[_int(self.why)]
        skip = self._undetermined_rows()
        if len(skip):
            out[skip] = self.detail[skip]
        return out

    @functools.cached_property
    def coverage(self) -> np.ndarray:
        """Vintage resolution code ('' covered; see vintages.NOT_COVERED_REASONS)."""
        out = _COVERAGE_OBJ[_int(self.why)]
        out[self._undetermined_rows()] = ""
        return out

    # -- geometry columns -------------------------------------------------------------------------
    @functools.cached_property
    def _xy(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self)
        x = np.full(n, np.nan) if self.metric_x is None else np.asarray(self.metric_x, dtype=float).copy()
        y = np.full(n, np.nan) if self.metric_y is None else np.asarray(self.metric_y, dtype=float).copy()
        zone = _small_int(self.zone)
        for (z,), rows in _groups(np.where((zone >= 0) & np.isnan(x), zone, -1)):
            if z >= 0:  # elementwise projection: the same numbers as projecting the whole batch
                x[rows], y[rows] = territories.project(self.lon[rows], self.lat[rows], territories.ZONES[z].epsg)
        return x, y

    @property
    def x(self) -> np.ndarray:  # metric coordinates in the zone's CRS
        return self._xy[0]

    @property
    def y(self) -> np.ndarray:
        return self._xy[1]

    @functools.cached_property
    def tolerance(self) -> np.ndarray:
        """Near-boundary tolerance (m) each row was answered with: the explicit one, else its file's."""
        if self.tolerance_m is not None:
            return np.full(len(self), float(self.tolerance_m))
        table = np.array([r.tolerance_m for r in vintages.rules()] + [np.nan])
        return table[_int(self.rule)]

    @functools.cached_property
    def exact(self) -> np.ndarray:
        """The metric path answers this row by exact tests (True) or by its acceleration grid (False)."""
        if self.exact_known is not None:
            return self.exact_known
        out = np.zeros(len(self), bool)
        for (z, r), rows in _groups(self.zone, self.rule):
            if z < 0 or r < 0:
                continue
            qi = index.quartier_index(vintages.rules()[r].dataset_id, territories.ZONES[z].name)
            out[rows] = (self.tolerance[rows] > qi.grid.margin) | (qi.grid.lookup(self.x[rows], self.y[rows]) == grid.CROSSING)
        return out

    # -- columns computed on first access -------------------------------------------------------
    @functools.cached_property
    def distance_to_boundary_m(self) -> np.ndarray:
        """Exact distance (m, zone CRS) to the nearest perimeter boundary of the vintage in force."""
        out = np.full(len(self), np.nan)
        # a large batch sends every group to the boundary cells, however few points it holds (an STRtree
        # query costs ~25 µs a point: a vintage in force for a few thousand points of a chunk cost 0.4 s)
        small = index.SMALL_BATCH if len(self) <= index.SMALL_BATCH else 0
        for (z, r), rows in _groups(self.zone, self.rule):
            if r < 0:
                continue
            qi = index.quartier_index(vintages.rules()[r].dataset_id, territories.ZONES[z].name)
            out[rows] = qi.nearest_boundary(self.x[rows], self.y[rows], small_batch=small)[1]
        return out

    @functools.cached_property
    def _commune(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(codes, names, index): each row's commune is codes[index], names[index] (index -1: None)."""
        at = np.full(len(self), -1, np.int64)
        codes, names, first = [], [], 0  # the label tables, and where the next one starts
        dep_codes = territories.dep_table()[0]
        dep = _int(self.dep_idx)
        todo = np.flatnonzero(dep >= 0)
        cells = index.commune_cells() if len(todo) >= index.SMALL_BATCH else None
        if cells is not None:
            # the stacked grids of every département: most points in one lookup; exact tests for the others
            lab = cells.locate(dep[todo], self.x[todo], self.y[todo])
            unknown = lab < 0
            lab[unknown] = index.commune_polygons().locate_exactly(dep[todo[unknown]], self.x[todo[unknown]],
                                                                   self.y[todo[unknown]])
            known = lab >= 0
            at[todo[known]] = cells.first[dep[todo[known]]] + lab[known]
            codes.append(cells.codes)
            names.append(cells.names)
            first = len(cells.codes)
        for (d,), rows in _groups(dep[todo]) if cells is None else ():  # a few points: each département's index
            rows = todo[rows]
            ci = index.commune_index(dep_codes[d])
            if ci is None:
                continue
            k = ci.locate_exactly(self.x[rows], self.y[rows])
            ok = k >= 0
            at[rows[ok]] = first + k[ok]
            codes.append(ci.labels[0])
            names.append(ci.labels[1])
            first += len(ci.labels[0])
        # No contours (Saint-Martin, Polynésie): a point inside a single-commune quartier is in that commune.
        no_contours = np.array([not z.has_contours for z in territories.ZONES] + [False])[_small_int(self.zone)]
        contained = np.asarray(self.contained)
        no_contours &= contained if contained.dtype == bool else np.equal(contained, True)  # padded rows hold None
        for (r,), rows in _groups(np.where(no_contours, _int(self.rule), -1)) if no_contours.any() else ():
            if r < 0:
                continue
            per = load_perimeters(vintages.rules()[r].dataset_id)
            pos = _int(self.quartier_pos)[rows]
            single = np.char.find(per.communes[pos].astype(str), ",") < 0
            at[rows[single]] = first + np.arange(np.count_nonzero(single))
            codes.append(np.asarray(per.communes[pos[single]], dtype=object))
            names.append(np.asarray(per.commune_names[pos[single]], dtype=object))
            first += np.count_nonzero(single)
        if cells is not None and len(codes) == 1:  # the usual chunk: the stacked table alone, the same objects
            return *cells.labels, at
        none = [np.array([None], dtype=object)]
        return np.concatenate(codes + none), np.concatenate(names + none), at

    @functools.cached_property
    def commune_code(self) -> np.ndarray:
        return self._column("commune_code")

    @functools.cached_property
    def commune_name(self) -> np.ndarray:
        return self._column("commune_name")

    @functools.cached_property
    def carreau(self) -> np.ndarray:
        """INSPIRE id of the 200 m carreau: EPSG:3035 in metropole, the local UTM grid overseas."""
        return self._carreau_objects(self._carreau_corners())

    def _carreau_objects(self, corners) -> np.ndarray:
        out = np.full(len(self), None, dtype=object)
        for rows, easting, northing, epsg in corners:
            out[rows] = carreaux.format_ids(easting, northing, epsg)
        return out

    def text(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(offsets, data): text column `name` as one ASCII buffer, row i's text data[offsets[i]:offsets[i + 1]],
        empty for None, for the columns of many distinct values (the carreau); None for the others. A caller
        builds such a column without one Python object per row (the batch's Arrow columns)."""
        if name != "carreau":
            return None
        if "carreau" in self.__dict__:  # the objects are already built (a trace, `row`): the same texts
            return carreaux.text_buffer(self.carreau)
        parts = list(self._carreau_corners())
        if len(parts) != 1:  # none, or points of several zones (rare): through the objects
            return carreaux.text_buffer(self._carreau_objects(parts))
        rows, easting, northing, epsg = parts[0]
        offsets, body = carreaux.id_text(easting, northing, epsg)
        if len(rows) < len(self):  # the other rows (abroad, no INSEE grid) are empty: the same body, rows ascending
            lengths = np.zeros(len(self), np.int64)
            lengths[rows] = np.diff(offsets)
            offsets = np.zeros(len(self) + 1, np.int64)
            np.cumsum(lengths, out=offsets[1:])
        return offsets, body

    def _carreau_corners(self):
        """(rows, easting, northing, epsg) of the carreaux, zone by zone (zones with an INSEE grid)."""
        for (z,), rows in _groups(self.zone):
            if z < 0 or territories.ZONES[z].carreau_epsg is None:
                continue
            zone = territories.ZONES[z]
            if zone.carreau_epsg == zone.epsg:
                cx, cy = self.x[rows], self.y[rows]
            else:
                cx, cy = territories.project(self.lon[rows], self.lat[rows], zone.carreau_epsg)
            yield (rows, *carreaux.snap(cx, cy), zone.carreau_epsg)

    @functools.cached_property
    def zone_answers(self) -> list:
        """Per imported zoning layer in force: (layer, status codes, positions); see zones.py."""
        from .zones import answers

        return answers(self)

    @functools.cached_property
    def zones(self) -> np.ndarray:
        """The zonings holding each point at its date, as text: "layer:code ; layer:code" ('' for none)."""
        from .zones import as_text

        return as_text(self)

    # -- one row as the JSON contract --------------------------------------------------------------
    def row(self, i: int) -> dict:
        """Computes only what row i needs (one point's commune, distance, carreau), not whole columns."""
        from .trace import row_json

        return row_json(self.take([i]), 0)


def _int(values) -> np.ndarray:
    """Integer column; None (rows a caller padded, e.g. unplaced addresses) reads as -1."""
    arr = np.asarray(values)
    if arr.dtype == object:
        arr = np.where(np.equal(arr, None), -1, arr)
    return arr.astype(np.int64)


def _small_int(values) -> np.ndarray:
    """`_int` without widening an integer column (indexing with int8/int32 is as good, and cheaper)."""
    arr = np.asarray(values)
    return arr if arr.dtype.kind == "i" else _int(arr)


def _groups(*keys: np.ndarray):
    """(key tuple, row indices) for each distinct combination of keys, in sorted key order."""
    if len(keys[0]) == 0:
        return []
    ints = [_small_int(k) for k in keys]  # small codes (zone, rule): pack them into one integer key
    packed = ints[0].astype(np.int64)  # in place from here: (k0 + 1) * 4096 + (k1 + 1) …
    packed += 1
    for k in ints[1:]:
        packed *= 4096
        packed += k
        packed += 1
    uniq = _present(packed)
    if len(uniq) == 1:  # one group (the usual zone, or no quartier anywhere): every row
        parts = [np.arange(len(packed))]
    elif len(uniq) <= 4:  # a handful of groups (zone, rule): one comparison pass each
        parts = [np.flatnonzero(packed == u) for u in uniq]
    else:  # many (départements): one stable sort; rows stay in ascending order within each group
        order = np.argsort(packed, kind="stable")
        parts = np.split(order, np.searchsorted(packed[order], uniq[1:]))
    out = []
    for u, rows in zip(uniq, parts):
        key, v = [], int(u)
        for _ in ints:
            key.append(v % 4096 - 1)
            v //= 4096
        out.append((tuple(reversed(key)), rows))
    return out


def _present(packed: np.ndarray) -> np.ndarray:
    """The distinct values of `packed` (int64), ascending: counted when they are small non-negative numbers
    (packed zone and rule codes: one pass, no hash table), else `np.unique`."""
    low, high = (int(packed.min()), int(packed.max())) if len(packed) else (0, 0)
    if low >= 0 and high < 1 << 20:
        return np.flatnonzero(np.bincount(packed, minlength=high + 1))
    return np.unique(packed)


def _classify(qi: index.QuartierIndex, x: np.ndarray, y: np.ndarray, tol: float, use_grid: bool = True):
    """(local quartier index or -1, status code, contained, exact) for points of one vintage and zone.
    `use_grid=False`: straight to the exact tests (same answers), for points known to be near a boundary."""
    n = len(x)
    label = qi.grid.lookup(x, y) if use_grid and tol <= qi.grid.margin else np.full(n, grid.CROSSING, np.int32)
    local = np.where(label >= 0, label, -1).astype(np.int64)
    status = np.where(label >= 0, _CODE[INSIDE], _CODE[OUTSIDE]).astype(np.int8)
    contained = label >= 0
    exact = label == grid.CROSSING
    todo = np.flatnonzero(exact)
    if len(todo) and len(qi.polygons):
        pts = shapely.points(x[todo], y[todo])
        inside = qi.contains(pts)  # overlapping perimeters: the first in code order wins, deterministically
        near_q = qi.nearest_within(x[todo], y[todo], tol)
        is_near = near_q >= 0
        local[todo] = np.where(inside >= 0, inside, np.where(is_near, near_q, -1))
        contained[todo] = inside >= 0
        status[todo] = np.where(is_near, _CODE[NEAR], np.where(inside >= 0, _CODE[INSIDE], _CODE[OUTSIDE]))
    return local, status, contained, exact


def _check_coordinates(a: np.ndarray, b: np.ndarray, crs: str, skip: np.ndarray) -> None:
    if crs == "EPSG:4326" and len(a) and not skip.any() and \
            -180.0 <= a.min() and a.max() <= 180.0 and -90.0 <= b.min() and b.max() <= 90.0:
        return  # four reductions, no temporaries (NaN fails every comparison: the checks below name it)
    names = ("lon", "lat") if crs == "EPSG:4326" else ("x", "y")
    for arr, name in zip((a, b), names):
        bad = ~np.isfinite(arr) & ~skip
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise BadInput(f"coordonnée manquante ou non finie ({arr[i]})", field=name, row=i + 1 if len(arr) > 1 else None)
    if crs == "EPSG:4326":
        for arr, name, lim in ((a, "lon", 180.0), (b, "lat", 90.0)):
            bad = (np.abs(arr) > lim) & ~skip
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise BadInput(f"{name} hors de [-{lim:g}, {lim:g}] : {arr[i]}", field=name, row=i + 1 if len(arr) > 1 else None)
    else:  # Lambert-93 is defined over metropolitan France only
        bad = ((a < -400_000) | (a > 1_700_000) | (b < 5_900_000) | (b > 7_300_000)) & ~skip
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise BadInput(f"coordonnées Lambert-93 hors de la France métropolitaine : x={a[i]}, y={b[i]}",
                           field="x", row=i + 1 if len(a) > 1 else None)


def locate_points(lon, lat, dates, crs: str = "EPSG:4326", tolerance_m: float | None = None,
                  undetermined=None) -> LocateResult:
    """Locate points at dates. `lon`, `lat` are WGS84 degrees, or Lambert-93 x, y with crs="EPSG:2154".

    `tolerance_m`: distance to a perimeter boundary under which the answer is `near_boundary`. None (the
    default): each perimeter file's own, twice its declared precision and at least 1 m (15 m for the
    bundled simplified files).

    `undetermined`: optional array of reasons (non-empty string = this row could not be placed, e.g. an
    address the geocoder could not resolve); such rows get status `undetermined`, their coordinates are
    ignored (NaN allowed). Used by the address domain.
    """
    a, b = _as_float(lon, "lon" if crs == "EPSG:4326" else "x"), _as_float(lat, "lat" if crs == "EPSG:4326" else "y")
    if len(a) != len(b):
        raise BadInput(f"{len(a)} longitudes pour {len(b)} latitudes", field="lat")
    n = len(a)
    crs = str(crs).upper()
    if crs not in SUPPORTED_CRS:
        raise BadInput(f"système de coordonnées « {crs} » non pris en charge (attendu : {', '.join(SUPPORTED_CRS)})", field="crs")
    tol = None
    if tolerance_m is not None:
        try:
            tol = float(tolerance_m)
        except (TypeError, ValueError):
            raise BadInput(f"tolérance invalide « {tolerance_m} »", field="tolerance") from None
        if not (0.0 <= tol <= MAX_TOLERANCE_M):
            raise BadInput(f"tolérance hors de [0, {MAX_TOLERANCE_M:g}] m : {tolerance_m}", field="tolerance")
    detail = None if undetermined is None else np.asarray(undetermined, dtype=object)
    if detail is not None and len(detail) != n:
        raise BadInput(f"{len(detail)} motifs pour {n} points", field="undetermined")
    skip = np.array([bool(d) for d in detail], dtype=bool) if detail is not None else np.zeros(n, bool)
    _check_coordinates(a, b, crs, skip)
    d64 = as_dates(dates, n)
    if skip.any():
        a, b = np.where(skip, 0.0, a), np.where(skip, 0.0, b)
    if crs == "EPSG:2154":
        lon_, lat_ = territories.unproject(a, b, 2154)
        ans = _metric_answer(lon_, lat_, d64, tol, skip, lambert=(a, b))
    elif n - int(skip.sum()) >= FAST_MIN_POINTS and _largest_tolerance(tol) <= index.DEGREE_MARGIN_M:
        lon_, lat_ = a, b
        ans = _degree_answer(lon_, lat_, d64, tol, skip)
    else:
        lon_, lat_ = a, b
        ans = _metric_answer(lon_, lat_, d64, tol, skip)
    return LocateResult(dates=d64, lon=lon_, lat=lat_, tolerance_m=tol, crs=crs,
                        detail=detail, **ans)


def _metric_answer(lon, lat, d64, tol, skip, lambert=None) -> dict:
    """Every point projected to its zone's metric CRS; département and quartier by the metric grids,
    exact tests in their boundary cells. `lambert`: the (x, y) the caller gave in EPSG:2154."""
    n = len(lon)
    zone = np.where(skip, territories.NO_ZONE, territories.zone_index(lon, lat)).astype(np.int64)
    if lambert is not None:  # Lambert-93 input is metropolitan by definition
        zone = np.where(skip, territories.NO_ZONE, 0)
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    dep = np.full(n, -1, dtype=np.int64)  # index into territories.dep_table()
    for (z,), rows in _groups(zone):
        if z < 0:
            continue
        zn = territories.ZONES[z]
        if lambert is not None and zn.epsg == 2154:
            x[rows], y[rows] = lambert[0][rows], lambert[1][rows]
        else:
            x[rows], y[rows] = territories.project(lon[rows], lat[rows], zn.epsg)
        if zn.has_contours:
            di = index.departement_index(zn.name)
            k = di.locate(x[rows], y[rows])
            dep[rows] = np.where(k >= 0, territories.dep_positions(tuple(di.codes))[np.maximum(k, 0)], -1)
        else:
            dep[rows] = territories.dep_positions((zn.departements[0],))[0]
    zone = np.where(dep < 0, territories.NO_ZONE, zone)
    rule, why = _resolve(zone, dep, d64)

    status = np.full(n, _CODE[NOT_COVERED], dtype=np.int8)
    qpos = np.full(n, -1, dtype=np.int64)
    contained = np.zeros(n, bool)
    exact = np.zeros(n, bool)
    for (z, r), rows in _groups(zone, rule):
        if r < 0 or z < 0:
            continue
        status[rows], qpos[rows], contained[rows], exact[rows] = _quartiers_metric(z, r, x[rows], y[rows], _tolerance(tol, r))
    status[skip] = _CODE[UNDETERMINED]
    return {"status_code": status, "quartier_pos": qpos, "rule": rule, "zone": zone, "dep_idx": dep, "why": why,
            "contained": contained, "metric_x": x, "metric_y": y, "exact_known": exact}


def _quartiers_metric(z: int, r: int, x, y, tol, use_grid: bool = True):
    """(status code, quartier position, contained, exact) of metric points of zone z under rule r."""
    return perimeters_metric(vintages.rules()[r].dataset_id, z, x, y, tol, use_grid)


def perimeters_metric(dataset_id: str, z: int, x, y, tol, use_grid: bool = True):
    """(status code, position in the file's Perimeters, contained, exact) of metric points of zone z
    against the perimeters of one file (a vintage's quartiers, or a zoning layer's zones)."""
    qi = index.quartier_index(dataset_id, territories.ZONES[z].name)
    local, st, cont, ex = _classify(qi, x, y, tol, use_grid)
    pos = np.where(local >= 0, qi.positions[np.maximum(local, 0)] if len(qi.positions) else -1, -1)
    return st, pos, cont, ex


def _tolerance(tol: float | None, r: int) -> float:
    """The explicit tolerance, else that of the file rule r reads (twice its declared precision, >= 1 m)."""
    return tol if tol is not None else vintages.rules()[r].tolerance_m


def _largest_tolerance(tol: float | None) -> float:
    return tol if tol is not None else max((r.tolerance_m for r in vintages.rules()), default=0.0)


_TERRITORY_OF_ZONE = np.array([territories.TERRITORY_CODES[z.territory] for z in territories.ZONES] + [-1])


def _resolve(zone: np.ndarray, dep: np.ndarray, d64: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vintage rule and reason code per point. The rule depends on (zone, département, date) only, and the dates
    between two of `vintages.period_starts()` give the same answers: a large batch resolves each (zone,
    département, period) once (one date for the whole batch, the usual case, is one period)."""
    reg_int = territories.dep_table()[2]
    if len(d64) > 1000:
        starts = vintages.period_starts()
        n_dep, n_per = len(reg_int), len(starts) + 1
        kz, rest = np.divmod(np.arange((len(territories.ZONES) + 1) * n_dep * n_per), n_dep * n_per)
        kd, kp = np.divmod(rest, n_per)
        kz, kd = kz - 1, kd - 1
        day = np.where(kp > 0, starts[np.maximum(kp - 1, 0)], starts[0] - np.timedelta64(1, "D"))  # a day of period kp
        rule_t, why_t = vintages.resolve_codes(_TERRITORY_OF_ZONE[kz], reg_int[kd], day, kd)
        key = ((zone + 1) * n_dep + (dep + 1)) * n_per + np.searchsorted(starts, d64, side="right")
        return rule_t[key], why_t[key]
    return vintages.resolve_codes(_TERRITORY_OF_ZONE[zone], reg_int[dep], d64, dep)


FAST_MIN_POINTS = 20_000  # below this, the metric path alone (a single point loads no degree grid)


def _degree_answer(lon, lat, d64, tol, skip) -> dict:
    """Large batches: département and quartier straight from the WGS84 degree grids (no projection);
    the points in their boundary cells (and in zones without contours) take the metric path. Metric
    coordinates are not kept: `LocateResult.x` projects on access, to the same numbers."""
    n = len(lon)
    zone = territories.zone_index(lon, lat)
    if skip.any():
        zone[skip] = territories.NO_ZONE
    is_main = zone == 0  # metropolitan France, usually most points
    if np.count_nonzero(is_main) > n // 2:
        # the zone of most points runs on every row (no gather, no scatter); the other rows are redone below
        main, ans = 0, _degree_zone(0, lon, lat, d64, clip=True)
        others = np.flatnonzero(~is_main)
    else:
        main, ans = -1, _degree_zone(-1, lon, lat, d64)
        others = np.arange(n)
    if len(others):
        sub = _degree_zone(-1, lon[others], lat[others], d64[others])
        for (z,), rows in _groups(zone[others]):
            if z >= 0 and z != main:
                part = _degree_zone(z, lon[others[rows]], lat[others[rows]], d64[others[rows]])
                for k in sub:
                    sub[k][rows] = part[k]
        for k in ans:
            ans[k][others] = sub[k]
    slow, dep_slow = ans.pop("slow"), ans.pop("dep_slow")
    qpos, status = ans["quartier_pos"], ans["status_code"]
    contained = qpos >= 0
    todo = np.flatnonzero(slow)
    full = todo[dep_slow[todo]]  # département undecided: the whole metric path
    if len(full):
        sub = _metric_answer(lon[full], lat[full], d64[full], tol, skip[full])
        for name, arr in (*ans.items(), ("contained", contained)):
            arr[full] = sub[name]
    part = todo[~dep_slow[todo]]  # département and vintage known: project and test the quartiers only
    for (z, r), rows in _groups(ans["zone"][part], ans["rule"][part]):
        rows = part[rows]
        rows = _by_subcells(z, r, lon, lat, rows, _tolerance(tol, r), status, qpos, contained, slow)
        x, y = territories.project(lon[rows], lat[rows], territories.ZONES[z].epsg)
        # near a quartier boundary by the degree grid: the metric grid would send nearly all to exact tests
        status[rows], qpos[rows], contained[rows] = _quartiers_metric(z, r, x, y, _tolerance(tol, r), use_grid=False)[:3]
    if skip.any():
        status[skip] = _CODE[UNDETERMINED]
    return {**ans, "contained": contained, "metric_path": slow}


def _by_subcells(z: int, r: int, lon, lat, rows, tol: float, status, qpos, contained, slow) -> np.ndarray:
    """Answer the rows (in a quartier boundary cell of the degree grid) whose sub-cell knows the exact answer
    (`boundary_subcells`); the rows still to test exactly are returned."""
    ds_id, zone = vintages.rules()[r].dataset_id, territories.ZONES[z].name
    g, positions = index.quartier_degree_grid(ds_id, zone)
    sc = index.quartier_subcells(ds_id, zone)
    known, near, local, cont = sc.answers(sc.lookup(g, lon[rows], lat[rows]), tol)
    done = rows[known]
    status[done] = np.where(near[known], _CODE[NEAR], np.where(cont[known], _CODE[INSIDE], _CODE[OUTSIDE]))
    qpos[done] = np.where(local[known] >= 0, positions[np.maximum(local[known], 0)] if len(positions) else -1, -1)
    contained[done] = cont[known]
    slow[done] = False  # not projected: `metric_path` lists the rows that took the metric path
    return rows[~known]


def _degree_zone(z: int, lon, lat, d64, clip: bool = False) -> dict:
    """The answer of zone z's degree grids for these points (z = -1: no zone, hors_france); `slow`
    marks the rows the grids cannot decide."""
    n = len(lon)
    if z < 0 or not territories.ZONES[z].has_contours:
        return {"status_code": np.full(n, _CODE[NOT_COVERED], np.int8), "quartier_pos": np.full(n, -1, np.int32),
                "rule": np.full(n, -1, np.int8), "zone": np.full(n, territories.NO_ZONE, np.int8),
                "dep_idx": np.full(n, -1, np.int16), "why": np.full(n, _HORS_FRANCE, np.int8), "slow": np.full(n, z >= 0),
                "dep_slow": np.full(n, z >= 0)}
    # small integer types throughout: a million points make every pass memory-bound
    zn, sub = territories.ZONES[z], index.DEGREE_SUB_QUARTIER
    dg = index.departement_degree_grid(zn.name)
    ix, iy = dg.cells(lon, lat, sub, clip=clip)  # the zone's grids share their cells: computed once
    coarse = dg.coarse_of(ix, iy, sub)
    lab = dg.lookup_cells(ix, iy, sub, coarse)
    dep_t = territories.dep_positions(tuple(index.departement_index(zn.name).codes))
    dep_of_lab = np.append(dep_t, [-1, -1]).astype(np.int16)  # CLEAR (-1) and CROSSING (-2) both read -1
    dep = dep_of_lab[lab]
    slow = lab == grid.CROSSING
    dep_slow = slow.copy()
    # the vintage depends on (zone, département, date): with one date (the usual case), resolve each
    # label of the département grid once, so that every per-row column is one table lookup by `lab`
    one_date = len(d64) > 1000 and (d64 == d64[0]).all()
    if one_date:
        rule_t, why_t = _resolve(np.where(dep_of_lab >= 0, z, territories.NO_ZONE), dep_of_lab.astype(np.int64),
                                 np.repeat(d64[:1], len(dep_of_lab)))
        rule_t, why_t = rule_t.astype(np.int8), why_t.astype(np.int8)
        rule, why = rule_t[lab], why_t[lab]
        zone = np.where(dep_of_lab >= 0, np.int8(z), np.int8(territories.NO_ZONE))[lab]
        covered = rule_t >= 0
        covered[grid.CROSSING] = False
        mine = covered[lab]  # covered rows the département grid decided: the quartier grid answers them
        present = np.unique(rule_t[rule_t >= 0])  # vintages that can occur (a superset is harmless)
    else:
        rule, why = _resolve(np.where(dep >= 0, z, territories.NO_ZONE), dep.astype(np.int64), d64)
        rule, why = rule.astype(np.int8), why.astype(np.int8)
        zone = np.where(dep >= 0, np.int8(z), np.int8(territories.NO_ZONE))
        mine = (rule >= 0) & ~slow
        present = np.flatnonzero(np.bincount(rule + 1, minlength=1)[1:])  # vintages in force among these points
    status = np.full(n, _CODE[NOT_COVERED], dtype=np.int8)
    qpos = np.full(n, -1, dtype=np.int32)
    for r in present:
        qg, positions = index.quartier_degree_grid(vintages.rules()[r].dataset_id, zn.name)
        if len(present) == 1:  # one vintage: look every row up; rows not covered read index -3 (not_covered)
            q = np.where(mine, qg.lookup_cells(ix, iy, sub, coarse), np.int32(-3))
            slow |= q == grid.CROSSING
            # index -3: not covered; -2 (CROSSING), -1 (CLEAR): outside (CROSSING rows are redone later)
            status = np.append(np.full(len(positions), _CODE[INSIDE], np.int8),
                               [_CODE[NOT_COVERED], _CODE[OUTSIDE], _CODE[OUTSIDE]]).astype(np.int8)[q]
            qpos = np.append(positions, [-1, -1, -1]).astype(np.int32)[q]
            continue
        sel = np.flatnonzero(mine & (rule == r))
        q = qg.lookup_cells(ix[sel], iy[sel], sub, coarse[sel])
        slow[sel] |= q == grid.CROSSING
        status[sel] = np.where(q >= 0, np.int8(_CODE[INSIDE]), np.int8(_CODE[OUTSIDE]))
        qpos[sel] = np.append(positions, [-1, -1]).astype(np.int32)[q]
    return {"status_code": status, "quartier_pos": qpos, "rule": rule, "zone": zone, "dep_idx": dep, "why": why,
            "slow": slow, "dep_slow": dep_slow}


_HORS_FRANCE = vintages.REASON_CODES.index("hors_france")


def _zone_rows(key: np.ndarray):
    """(k, rows) for each k >= 0 present in `key` (small non-negative ints); rows is a slice when all match."""
    counts = np.bincount(key + 1)
    for k in np.flatnonzero(counts[1:]):
        yield int(k), (slice(None) if counts[k + 1] == len(key) else np.flatnonzero(key == k))
