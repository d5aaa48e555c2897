"""Addresses everywhere: `locate_addresses` answers « is this address in a QPV on that date? ».

It geocodes, then asks geography's `locate_points`, and only answers as precisely as the match allows:
- a house-number match is located as usual;
- a street (or lieu-dit) match is `inside`/`outside` only when every known address point of that street
  gets the same answer (same status, same quartier, none near a boundary); otherwise
  `undetermined`, reason "house number needed" — what SIG Ville says (« Veuillez préciser le numéro »,
  law.md §6.1);
- an interpolated number is answered only if it and both neighbouring numbers agree;
- a weak or ambiguous match, a commune-only match or no match at all is `undetermined`, with the
  best candidates in the trace. Decisions that depend on such an address are never guessed.

`compose_address(df)` turns batch columns (`address`, or `numero`, `voie`, `code_postal`, `commune`)
into the one-line text `geocode` reads.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import BadInput
from .geocoder import GeocodeResult, geocode
from .index import AddressIndex, default_index

MIN_SCORE = 0.75  # below this a match is "weak": too unsure to decide on
REASONS_FR = {
    "house number needed": "numéro nécessaire : la voie traverse un périmètre (ou passe à moins de la tolérance "
                           "d'une limite) ; sans numéro, l'adresse ne peut pas être placée",
    "house number not found": "numéro absent de la base d'adresses, et ses voisins ne donnent pas tous la même réponse",
    "weak match": "correspondance trop faible avec la base d'adresses",
    "ambiguous match": "plusieurs voies correspondent presque aussi bien",
    "street not found": "voie introuvable : l'adresse n'est placée qu'à la commune",
    "address not found": "adresse introuvable dans la base d'adresses",
}


def compose_address(df: pd.DataFrame) -> pd.Series:
    """One address text per row: the `address` column, or `numero voie, code_postal commune` (missing parts
    left out). Raises BadInput when neither layout is present."""
    cols = {c.lower(): c for c in df.columns}
    if "address" in cols:
        return df[cols["address"]].fillna("").astype(str)
    if "voie" not in cols or not ({"code_postal", "commune"} & set(cols)):
        raise BadInput("colonnes d'adresse attendues : « address », ou « numero, voie, code_postal, commune »",
                       field="columns")

    def col(name):
        if name not in cols:
            return pd.Series("", index=df.index)
        return df[cols[name]].astype(object).where(df[cols[name]].notna(), "").astype(str).str.strip()

    num = col("numero").str.replace(r"\.0$", "", regex=True)  # numbers read as floats by CSV readers
    street = (num + " " + col("voie")).str.strip()
    place = (col("code_postal").str.zfill(5).replace("00000", "") + " " + col("commune")).str.strip()
    return (street + ", " + place).str.strip(", ")


def _street_agreement(index: AddressIndex, geo: pd.DataFrame, rows: np.ndarray, dates, locate_points) -> np.ndarray:
    """For rows matched to a street only: is every address point of the street on the same side?

    Each (street, date) is checked once, however many rows name it (a bailleur's file repeats streets)."""
    if len(rows) == 0:
        return np.zeros(0, bool)
    day = pd.Series(dates[rows] if isinstance(dates, np.ndarray) else [dates] * len(rows)).astype(str)
    keys = pd.DataFrame({"sid": geo["street_id"].to_numpy()[rows], "day": day.to_numpy()})
    first = ~keys.duplicated().to_numpy()
    reps = rows[first]
    streets = index.streets.set_index("street_id")
    st = streets.loc[geo["street_id"].to_numpy()[reps], ["first_point", "n_points"]]
    counts = st["n_points"].to_numpy()
    starts = st["first_point"].to_numpy()
    owner = np.repeat(reps, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    pts = index.points.iloc[np.repeat(starts, counts) + offsets]
    agree = _agreement(owner, pts["lon"].to_numpy(), pts["lat"].to_numpy(), dates, locate_points)
    by_key = keys[first].assign(ok=pd.Series(reps).map(agree).fillna(False).astype(bool).to_numpy())
    return keys.merge(by_key, on=["sid", "day"], how="left")["ok"].to_numpy(dtype=bool)


def _agreement(owner, lon, lat, dates, locate_points) -> dict:
    """owner[i] is the row point i belongs to; True for rows whose points all answer alike, clear of boundaries."""
    if len(owner) == 0:
        return {}
    d = dates[owner] if isinstance(dates, np.ndarray) else dates
    res = locate_points(lon, lat, d)
    status = np.asarray(res.status, dtype=object)
    quartier = pd.Series(np.asarray(res.quartier_code, dtype=object)).fillna("").to_numpy()
    frame = pd.DataFrame({"row": owner, "answer": status + "|" + quartier, "status": status})
    clear = frame["status"].isin(["inside", "outside"]).groupby(frame["row"]).all()
    alike = frame.groupby("row")["answer"].nunique() == 1
    return (clear & alike).to_dict()


def _as_dates(dates, n: int):
    if isinstance(dates, (list, tuple, np.ndarray, pd.Series)):
        arr = np.asarray(list(dates), dtype=object)
        if len(arr) != n:
            raise BadInput(f"{len(arr)} dates pour {n} adresses", field="dates")
        return arr
    return dates


def locate_addresses(texts, dates, *, index: AddressIndex | None = None, tolerance_m: float | None = None,
                     min_score: float = MIN_SCORE):
    """Addresses (free text) and a date (or one per address) -> geography LocateResult, one row per address,
    with `status` 'undetermined' and a `reason` where the address cannot be placed precisely enough.
    `result.geocoding_step(i)` is the geocoding step of row i (also in `result.row(i)["trace"]["geocoding"]`)."""
    from ..geography import LocateResult, locate_points

    index = index or default_index()
    texts = list(texts)
    n = len(texts)
    dates = _as_dates(dates, n)
    g: GeocodeResult = geocode(texts, index)
    geo = g.frame
    level = geo["level"].to_numpy(dtype=object)
    placed = (~pd.isna(level)) & (level != "municipality")
    reason = np.full(n, None, dtype=object)
    reason[~placed] = np.where(level[~placed] == "municipality",
                               "street not found", "address not found")
    weak = placed & (geo["score"].to_numpy() < min_score)
    amb = placed & geo["ambiguous"].to_numpy() & ~weak
    reason[weak], reason[amb] = "weak match", "ambiguous match"

    def lp(lon, lat, d):
        return locate_points(lon, lat, d, tolerance_m=tolerance_m)

    usable = placed & ~weak & ~amb
    on_street = usable & np.isin(level, ["street", "locality"])
    street_rows = np.flatnonzero(on_street)
    reason[street_rows[~_street_agreement(index, geo, street_rows, dates, lp)]] = "house number needed"
    interp = usable & (level == "interpolated")
    if interp.any():
        rows = np.flatnonzero(interp)
        pts = index.points
        lo, hi = geo["lo"].to_numpy()[rows], geo["hi"].to_numpy()[rows]
        owner = np.concatenate([rows, rows, rows])
        lon = np.concatenate([geo["lon"].to_numpy()[rows], pts["lon"].to_numpy()[lo], pts["lon"].to_numpy()[hi]])
        lat = np.concatenate([geo["lat"].to_numpy()[rows], pts["lat"].to_numpy()[lo], pts["lat"].to_numpy()[hi]])
        ok = _agreement(owner, lon, lat, dates, lp)
        reason[rows[~pd.Series(rows).map(ok).fillna(False).astype(bool).to_numpy()]] = "house number not found"

    # One call for all rows: undetermined rows keep their reason and no position (geography's contract).
    answered = pd.isna(reason)
    lon = np.where(answered, geo["lon"].to_numpy(), np.nan)
    lat = np.where(answered, geo["lat"].to_numpy(), np.nan)
    res = locate_points(lon, lat, dates, tolerance_m=tolerance_m, undetermined=np.where(answered, "", reason))
    out = _address_result_class(LocateResult).__new__(_address_result_class(LocateResult))
    out.__dict__.update(vars(res))
    out.geocode_result = g
    return out


def _geocoding_step(g: GeocodeResult, i: int, reason) -> dict:
    row = g.row(i)
    step = {"step": "geocodage", "input": row["input"], "normalized": row["normalized"],
            "candidates": row["candidates"],
            "chosen": None if row["level"] is None else {k: row[k] for k in ("label", "lon", "lat", "citycode")},
            "level": row["level"], "score": row["score"], "ambiguous": row["ambiguous"],
            "commune_resolution": row["commune_resolution"], "source": row["source"], "index": g.provenance}
    if reason:
        step["reason"] = reason
        step["message"] = REASONS_FR[reason]
    return step


_CLASSES: dict = {}


def _address_result_class(base):
    """A LocateResult whose rows carry the geocoding step in their trace and their `reason`."""
    if base not in _CLASSES:
        class AddressLocateResult(base):
            @property
            def geocoding(self) -> list[dict]:
                return [self.geocoding_step(i) for i in range(len(self.status))]

            def geocoding_step(self, i: int) -> dict:
                reason = self.reason[i] if self.reason[i] in REASONS_FR else None
                return _geocoding_step(self.geocode_result, i, reason)

            def row(self, i: int) -> dict:
                d = super().row(i)
                if self.reason[i] in REASONS_FR:  # as geography does: French text, and the stable code
                    d["reason"], d["reason_code"] = REASONS_FR[self.reason[i]], self.reason[i]
                d["trace"] = {"geocoding": self.geocoding_step(i), **(d.get("trace") or {})}
                return d

        _CLASSES[base] = AddressLocateResult
    return _CLASSES[base]
