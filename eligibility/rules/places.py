"""The geography oracle behind `in_qpv(place, date)`, `in_overseas(place, date)`, `departement(place, date)`
and `in_zone(LAYER, place, date)`.

Places come in three forms: {lon, lat} -> `eligibility.geography.locate_points` (arrays in, arrays out);
{quartier_code} -> `quartier_in_force` once per distinct (code, date); {address} ->
`eligibility.addresses.locate_addresses` (same result shape as locate_points). Geography is imported
when first needed, so the rules engine loads without it. One answer per (place, date expression) serves
both functions: the oracle already says the quartier *and* the département.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from ..errors import BadInput
from . import values as V
from .facts import BadValues, PlaceCols

AMBIGUOUS = ("near_boundary", "not_covered", "undetermined")
MESSAGES = {
    "near_boundary": "le lieu est à quelques mètres d'une limite de quartier : la géographie ne peut pas trancher",
    "not_covered": "aucun millésime de périmètres chargé ne couvre ce territoire à cette date",
    "undetermined": "l'adresse n'a pas pu être localisée assez précisément",
}
ZONE_MESSAGES = {
    "near_boundary": "le lieu est à quelques mètres d'une limite de la zone : la couche de zonage ne permet pas de trancher",
    "not_covered": "la couche de zonage n'est pas importée, ou n'est pas en vigueur à cette date",
    "undetermined": "le lieu n'a pas pu être placé assez précisément pour dire s'il est dans la zone",
    "quartier_code": "un code de quartier ne dit pas si le lieu est dans une zone locale : donnez {lon, lat} ou {address}",
}
TERRITORY_UNKNOWN = ("territory_unknown", "le lieu n'a pu être rattaché à aucun département : métropole ou outre-mer inconnu")


def overseas(departement: np.ndarray) -> V.Col:
    """Outside metropolitan France? By the INSEE code of the département or collectivité: 97x and 98x are
    overseas (DROM 971-976, COM 975, 977, 978, 986-988), every other code (01-95, 2A, 2B) is metropolitan.
    Unknown where the geography named no département (a place outside France, an unreadable code)."""
    # Per distinct code (a few dozen at most), then indexed back: no per-row Python.
    import pandas as pd  # a frame's single call (the batch reads coded départements: `_overseas_coded`)

    codes, uniques = pd.factorize(np.asarray(departement, dtype=object), use_na_sentinel=True)
    return _overseas_coded(np.append(np.asarray(uniques, dtype=object), None), codes)


def _overseas_coded(labels: np.ndarray, index: np.ndarray) -> V.Col:
    """`overseas(labels[index])`, decided once per label (None: no département)."""
    texts = ["" if u is None else str(u).strip() for u in labels]
    known = np.array([lab != "" for lab in texts], dtype=bool)
    over = np.array([lab[:2] in ("97", "98") for lab in texts], dtype=bool)
    return V.Col("bool", (over & known)[index], known[index])


# what `GeoAnswer` columns read in a `LocateResult` (its `coded` columns)
_RESULT_COLUMNS = {"status": "status", "quartier": "quartier_code", "vintage": "vintage", "departement": "departement"}


@dataclass
class GeoAnswer:
    """Answers for every row of a frame (None where the question was not asked). The columns `status`,
    `quartier`, `vintage` and `departement` are read from the oracle's answers when first asked, as (labels,
    index per row) (`coded`): the functions of the rules test the few labels, not one object per row."""

    place: str
    date_label: str
    dates: np.ndarray
    asked: np.ndarray
    form: np.ndarray
    _located: list = field(default_factory=list)  # (row indices, LocateResult), also for lazy traces
    _by_code: list = field(default_factory=list)  # (row indices, {column: value}) of {quartier_code} places
    _cols: dict = field(default_factory=dict)

    def coded(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Column `name` (status, quartier, vintage, departement) as (labels, index per row): label 0 is None."""
        key = ("coded", name)
        if key not in self._cols:
            labels: list = [None]
            index = np.zeros(len(self.asked), dtype=np.intp)
            for rows, res in self._located:
                found, at = res.coded(_RESULT_COLUMNS[name])
                index[rows] = len(labels) + np.asarray(at, dtype=np.intp) % len(found)  # -1: the last label
                labels.extend(found)
            for rows, values in self._by_code:
                index[rows] = len(labels)
                labels.append(values[name])
            self._cols[key] = np.array(labels, dtype=object), index
        return self._cols[key]

    def at(self, name: str, i: int):
        """Row i's value of column `name` (without building the column of every row)."""
        labels, index = self.coded(name)
        return labels[index[i]]

    def column(self, name: str) -> np.ndarray:
        """Column `name` as one object per row (traces, ambiguities)."""
        key = ("column", name)
        if key not in self._cols:
            labels, index = self.coded(name)
            self._cols[key] = labels[index]
        return self._cols[key]

    @property
    def status(self) -> np.ndarray:
        return self.column("status")

    @property
    def quartier(self) -> np.ndarray:
        return self.column("quartier")

    @property
    def vintage(self) -> np.ndarray:
        return self.column("vintage")

    @property
    def departement(self) -> np.ndarray:  # object: INSEE code, None where not known
        return self.column("departement")

    def zone_status(self, layer: str) -> np.ndarray:
        """Per row, how the place stands against the zoning layer: inside, outside, near_boundary,
        not_covered (layer absent or not in force), undetermined, quartier_code (cannot tell); None: not asked."""
        key = f"zone-status:{layer}"
        if key not in self._cols:
            from eligibility.geography.zones import in_zone

            out = np.full(len(self.asked), None, dtype=object)
            out[self.asked & (self.form == "quartier_code")] = "quartier_code"
            for rows, res in self._located:
                out[rows] = in_zone(res, layer)
            self._cols[key] = out
        return self._cols[key]

    def col(self, which: str = "in_qpv") -> V.Col:
        """The answer of `in_qpv`, `in_overseas`, `departement` or `in_zone:LAYER` for every row (computed once:
        one-row re-runs slice it). `departement` is the INSEE code of the département or collectivité ('75', '2A', '974',
        '987'), unknown where the geography named none."""
        if which not in self._cols:
            if which.startswith("in_zone:"):
                st = self.zone_status(which.split(":", 1)[1])
                inside = st == "inside"
                self._cols[which] = V.Col("bool", inside, inside | (st == "outside"))
            elif which == "in_qpv":
                labels, index = self.coded("status")
                inside = (labels == "inside")[index]
                self._cols[which] = V.Col("bool", inside, inside | (labels == "outside")[index])
            elif which == "departement":
                # per label, then indexed back (a batch holds a few dozen codes at most); None and '' are unknown
                labels, index = self.coded("departement")
                texts = np.array(["" if u is None else str(u).strip() for u in labels], dtype=object)
                self._cols[which] = V.Coded("str", texts[index], (texts != "")[index], index, texts)
            else:
                self._cols[which] = _overseas_coded(*self.coded("departement"))
        return self._cols[which]

    def message(self, i: int) -> str:
        """French for an ambiguous answer; for `not_covered`, the list in force at that date and where to check."""
        status = self.at("status", i)
        if status == "not_covered":
            from eligibility.geography.vintages import not_covered_guidance

            return not_covered_guidance(V.to_date(self.dates[i]), _territory_word(self.col("in_overseas"), i))
        return MESSAGES[status]

    def row_trace(self, i: int) -> dict:
        out = {"fact": self.place, "date_expression": self.date_label, "form": self.form[i],
               "date": V.to_date(self.dates[i]).isoformat() if self.asked[i] else None,
               "status": self.status[i], "quartier": self.quartier[i], "vintage": self.vintage[i],
               "departement": self.departement[i], "territory": _territory_word(self.col("in_overseas"), i)}
        if not self.asked[i]:
            out["status"] = "not_asked"
            return out
        if self.status[i] in AMBIGUOUS:
            out["message"] = self.message(i)
        if self.form[i] == "quartier_code":
            import eligibility.geography as geo

            if self.quartier[i] is not None:  # the oracle's own answer for this exact date
                out["geography"] = geo.quartier_in_force(self.quartier[i], V.to_date(self.dates[i]))
        else:
            for rows, res in self._located:
                j = np.searchsorted(rows, i)
                if j < len(rows) and rows[j] == i:
                    from eligibility.geography.trace import compute_trace_columns

                    # many rows' traces: their columns computed once for the whole result (cached properties:
                    # a second call only looks them up), each row then slices them
                    compute_trace_columns(res)
                    out["geography"] = res.row(int(j))
        return out


def _territory_word(col: V.Col, i: int) -> str | None:
    return None if not col.known[i] else ("outre_mer" if col.value[i] else "metropole")


def _as_dates(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]")


def answer(place_path: str, date_label: str, place: PlaceCols, dates: V.Col, bad: BadValues) -> GeoAnswer:
    import eligibility.geography as geo

    n = len(dates)
    asked = place.known & dates.known
    ans = GeoAnswer(place_path, date_label, dates.value, asked, place.form)

    for form in ("lon_lat", "address"):
        rows = np.flatnonzero(asked & place.of_form(form))
        if not len(rows):
            continue
        if form == "lon_lat":
            res = geo.locate_points(place.lon[rows], place.lat[rows], _as_dates(dates.value[rows]))
        else:
            try:
                from eligibility.addresses import locate_addresses
            except ImportError:
                raise BadInput("les lieux donnés par adresse ne sont pas encore pris en charge : "
                               "donnez {lon, lat} ou {quartier_code}", field=place_path) from None
            res = locate_addresses(place.address[rows], _as_dates(dates.value[rows]))
        ans._located.append((rows, res))  # its columns are read when asked (`GeoAnswer.coded`)

    rows = np.flatnonzero(asked & place.of_form("quartier_code"))
    if len(rows):
        _by_code(geo, ans, _upper_codes(place.quartier_code[rows]), rows, dates.value[rows], n, place_path, bad)
    return ans


def _upper_codes(codes: np.ndarray) -> np.ndarray:
    """Quartier codes as the oracle reads them: text, stripped, upper case."""
    if len(codes) < 64:
        return np.array([str(c).strip().upper() for c in codes], dtype=object)
    import pandas as pd  # a batch of {quartier_code} places reads its texts with pandas (read through pandas too)

    return pd.Series(codes).astype(str).str.strip().str.upper().to_numpy(dtype=object)


def _by_code(geo, ans: GeoAnswer, codes, rows, days, n, place_path, bad) -> None:
    """{quartier_code} places: one oracle call per code and validity period (the answer says its period),
    then the in-force test is vectorised over the rows' dates."""
    uniq, inverse = np.unique(codes.astype(str), return_inverse=True)
    for k, code in enumerate(uniq):
        mine = rows[inverse == k]
        my_days = days[inverse == k]
        todo = np.ones(len(mine), dtype=bool)
        while todo.any():
            day = int(my_days[todo][0])
            try:
                info = geo.quartier_in_force(code, V.to_date(day))
            except BadInput as exc:
                mask = np.zeros(n, dtype=bool)
                mask[mine] = True
                bad.add(mask, place_path, exc.detail)
                break
            start, end = info.get("valid_from"), info.get("valid_to")
            same = todo & (my_days == day)
            if start is not None:  # the oracle names the validity period its answer rests on
                lo = V.days(dt.date.fromisoformat(start))
                hi = V.days(dt.date.fromisoformat(end)) if end else np.iinfo(np.int64).max
                if info.get("in_force"):
                    same |= todo & (my_days >= lo) & (my_days <= hi)
                elif day < lo:  # before the period: so is every earlier date
                    same |= todo & (my_days < lo)
                elif day > hi:
                    same |= todo & (my_days > hi)
            ans._by_code.append((mine[same], {"status": "inside" if info.get("in_force") else "outside",
                                              "vintage": info.get("vintage"), "quartier": code,
                                              "departement": info.get("departement")}))
            todo &= ~same

