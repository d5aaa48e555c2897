"""The local geocoder: addresses in, points with a match level and a score out, for whole batches.

Steps, each over whole columns:
1. parse and normalise (`parse.py`), find the candidate communes from the postal line (`communes.py`);
2. compare each distinct street text with the streets of its candidate communes, one rapidfuzz
   `cdist` matrix per commune (C++, all cores), keeping the best candidates;
3. look the house number up in the chosen street with `numpy.searchsorted` on one sorted key:
   exact number and indice (`housenumber`), or the number without its indice, or a linear
   interpolation between the neighbouring numbers of the street (`interpolated`); else `street`
   (or `locality` for a lieu-dit), or `municipality` when no street is close enough.

The score (0–1) is the street-name similarity times a factor for the level reached; `ambiguous` is
set when another street scores within AMBIGUITY_MARGIN of the best one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .communes import load_communes, resolve_communes
from .index import HN_SCALE, AddressIndex, default_index, indice_code
from .normalize import match_key_series, split_street_type
from .parse import normalized_label, parse_addresses

LEVELS = ("housenumber", "interpolated", "street", "locality", "municipality")
STREET_ACCEPT = 75.0  # rapidfuzz similarity (0-100) below which a street is not taken as matched
AMBIGUITY_MARGIN = 3.0  # another street this close to the best one makes the match ambiguous
TOP_K = 3
NAME_WEIGHT = 0.85  # share of the street name in the street similarity; the rest is the street type
MAX_INTERPOLATION_GAP_M = 400.0  # neighbours farther apart than this are not interpolated between
LEVEL_FACTOR = {"housenumber": 1.0, "housenumber_without_indice": 0.95, "interpolated": 0.9,
                "street_without_number": 0.8, "street": 0.9, "locality": 0.9, "municipality": 0.4}


@dataclass
class GeocodeResult:
    """One row per input address; `frame` columns are described in docs/addresses.md."""

    frame: pd.DataFrame
    matches: pd.DataFrame  # (row, street_id, sscore): the best streets of each row, best first
    index: AddressIndex

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def provenance(self) -> dict:
        return self.index.provenance

    def source(self, i: int) -> dict | None:
        """The source record(s) behind row i: the index and the address point(s) used."""
        r = self.frame.iloc[i]
        if r["kind"] == "":
            return None
        pts = self.index.points
        d = {"index": self.index.meta["name"], "licence": self.index.meta["licence"]}
        if r["point"] >= 0:
            d["record_id"], d["origin"] = pts["record_id"].iat[r["point"]], pts["source"].iat[r["point"]]
        elif r["lo"] >= 0:
            d["interpolated_between"] = [pts["record_id"].iat[r["lo"]], pts["record_id"].iat[r["hi"]]]
        if r["street_id"] >= 0:
            d["street_id"] = int(r["street_id"])
        return d

    def candidates(self, i: int) -> list[dict]:
        """The best TOP_K streets of row i (label, commune, score, representative point)."""
        m = self.matches[self.matches["row"] == i]
        st = self.index.streets.set_index("street_id").loc[m["street_id"]]
        names = load_communes().names
        return [{"label": f"{v} {pc} {names.get(c, '')}".strip(), "citycode": c, "score": round(float(sc) / 100, 4),
                 "lon": round(float(lo), 7), "lat": round(float(la), 7)}
                for v, pc, c, lo, la, sc in zip(st["voie"], st["postcode"], st["insee"], st["lon"], st["lat"],
                                                m["sscore"])]

    def row(self, i: int) -> dict:
        r = self.frame.iloc[i]
        found = isinstance(r["level"], str)
        return {
            "input": r["input"],
            "normalized": r["normalized"],
            "lon": _round(r["lon"], 7) if found else None,
            "lat": _round(r["lat"], 7) if found else None,
            "level": r["level"] if found else None,
            "score": _round(r["score"], 4),
            "label": r["label"] if found else None,
            "citycode": r["citycode"] or None,
            "ambiguous": bool(r["ambiguous"]),
            "commune_resolution": r["how"],
            "source": self.source(i),
            "candidates": self.candidates(i),
        }


def _round(x, nd):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), nd)


def _town_from_street(parsed: pd.DataFrame, names: dict, postcodes: dict) -> pd.DataFrame:
    """Without postal code or town (« 12 rue X Manosque », « 12 rue X, Manosque »), the town is the
    lieu-dit line or the last words of the street line when those spell a commune."""
    parsed = parsed.copy()
    no_town = (parsed["postcode"] == "") & (parsed["town"] == "")
    if not no_town.any():
        return parsed
    sub = parsed[no_town]
    ld_is_town = match_key_series(sub["lieu_dit"]).isin(names)
    idx = ld_is_town[ld_is_town].index
    parsed.loc[idx, "town"] = parsed.loc[idx, "lieu_dit"]
    parsed.loc[idx, "lieu_dit"] = ""
    # « 04100 MANOSQUE » alone: the five digits were read as a house number; they are a postal code.
    pc = sub["numero"].map("{:05d}".format)
    alone = (sub["lieu_dit"] == "") & (sub["numero"] >= 1000) & pc.isin(postcodes) \
        & match_key_series(sub["street"]).isin(names)
    idx = alone[alone].index
    parsed.loc[idx, "postcode"] = pc[idx]
    parsed.loc[idx, "town"] = parsed.loc[idx, "street"]
    parsed.loc[idx, "street"] = ""
    parsed.loc[idx, "numero"] = -1
    words = parsed["street"].str.split(" ")
    for k in (4, 3, 2, 1):
        todo = (parsed["postcode"] == "") & (parsed["town"] == "") & (words.str.len() > k)
        if not todo.any():
            continue
        tail = words[todo].str[-k:].str.join(" ")
        hit = match_key_series(tail).isin(names)
        idx = hit[hit].index
        parsed.loc[idx, "town"] = tail[idx]
        parsed.loc[idx, "street"] = words[idx].str[:-k].str.join(" ")
    return parsed


def _match_streets(queries: pd.DataFrame, streets: pd.DataFrame) -> pd.DataFrame:
    """queries: (row, insee or '' for anywhere, text). Returns (row, street_id, sscore) best TOP_K per row."""
    from rapidfuzz import fuzz, process

    out = []
    s_name = streets["name"].to_numpy()
    s_type = streets["type"].to_numpy()
    by_insee = streets.groupby("insee").indices
    parts = split_street_type(queries["text"])
    queries = queries.assign(q_name=parts["name"].to_numpy(), q_type=parts["type"].to_numpy())
    for insee, group in queries.groupby("insee", sort=True):  # one matrix per commune, not per row
        cand = np.arange(len(streets)) if insee == "" else by_insee.get(insee)
        if cand is None or len(cand) == 0:
            continue
        uniq, first, inverse = np.unique(group["text"].to_numpy(), return_index=True, return_inverse=True)
        q_name, q_type = group["q_name"].to_numpy()[first], group["q_type"].to_numpy()[first]
        a = process.cdist(q_name, s_name[cand], scorer=fuzz.token_set_ratio, workers=-1, dtype=np.float32)
        b = process.cdist(q_name, s_name[cand], scorer=fuzz.token_sort_ratio, workers=-1, dtype=np.float32)
        # The name carries the identity; the street type (rue, avenue…) only confirms it: people and
        # files disagree on it (« rue de la Reine Jeanne » is the Avenue de la Reine Jeanne).
        same_type = np.equal.outer(q_type, s_type[cand])
        one_missing = np.logical_or.outer(q_type == "", s_type[cand] == "")
        type_sim = np.where(same_type, 100.0, np.where(one_missing, 50.0, 0.0))
        sim = NAME_WEIGHT * (0.5 * a + 0.5 * b) + (1 - NAME_WEIGHT) * type_sim
        k = min(TOP_K, sim.shape[1])
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(sim, top, axis=1)
        rows = np.repeat(group["row"].to_numpy(), k)
        out.append(pd.DataFrame({
            "row": rows,
            "street_id": streets["street_id"].to_numpy()[cand][top[inverse]].ravel(),
            "sscore": top_scores[inverse].ravel().astype(np.float64),
        }))
    if not out:
        return pd.DataFrame({"row": pd.Series(dtype=np.int64), "street_id": pd.Series(dtype=np.int64),
                             "sscore": pd.Series(dtype=np.float64)})
    return pd.concat(out, ignore_index=True)


def _house_numbers(index: AddressIndex, street_id: np.ndarray, numero: np.ndarray, indice: pd.Series) -> dict:
    """Vectorised lookup of house numbers in their streets: positions, level reached, point ids."""
    pts = index.points
    hn = pts["hn_key"].to_numpy()
    full = hn * 64 + pts["indice_code"].to_numpy()
    pnum = pts["numero"].to_numpy()
    plon, plat, psid = pts["lon"].to_numpy(), pts["lat"].to_numpy(), pts["street_id"].to_numpy()
    n = len(street_id)
    q_hn = street_id * HN_SCALE + np.maximum(numero, 0)
    q_full = q_hn * 64 + indice_code(indice)
    last = len(hn) - 1

    pos = np.minimum(np.searchsorted(full, q_full), last)
    exact = (full[pos] == q_full) & (numero >= 0)
    pos_b = np.minimum(np.searchsorted(hn, q_hn), last)
    base = ~exact & (hn[pos_b] == q_hn) & (numero >= 0)
    lo = np.searchsorted(hn, q_hn) - 1
    hi = np.minimum(np.searchsorted(hn, q_hn, side="right"), last)
    lo_c = np.maximum(lo, 0)
    can = (~exact & ~base & (numero > 0) & (lo >= 0) & (psid[lo_c] == street_id) & (psid[hi] == street_id)
           & (pnum[lo_c] > 0) & (pnum[hi] > numero))
    span = np.where(can, pnum[hi] - pnum[lo_c], 1)
    t = np.where(can, (numero - pnum[lo_c]) / span, 0.0)
    gap_m = _metres(plon[lo_c], plat[lo_c], plon[hi], plat[hi])
    interp = can & (gap_m <= MAX_INTERPOLATION_GAP_M)

    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    point = np.full(n, -1, dtype=np.int64)
    for mask, p in ((exact, pos), (base, pos_b)):
        lon[mask], lat[mask], point[mask] = plon[p[mask]], plat[p[mask]], p[mask]
    lon[interp] = plon[lo_c[interp]] + t[interp] * (plon[hi[interp]] - plon[lo_c[interp]])
    lat[interp] = plat[lo_c[interp]] + t[interp] * (plat[hi[interp]] - plat[lo_c[interp]])
    kind = np.select([exact, base, interp], ["housenumber", "housenumber_without_indice", "interpolated"], "")
    return {"lon": lon, "lat": lat, "kind": kind, "point": point, "lo": np.where(interp, lo_c, -1),
            "hi": np.where(interp, hi, -1)}


def _metres(lon1, lat1, lon2, lat2):
    """Equirectangular distance, good to a fraction of a percent at the scale of a street."""
    k = 111_320.0
    dx = (lon2 - lon1) * k * np.cos(np.radians((lat1 + lat2) / 2))
    dy = (lat2 - lat1) * k
    return np.hypot(dx, dy)


def geocode(texts, index: AddressIndex | None = None) -> GeocodeResult:
    """Geocode free-text French addresses (list / array / Series of strings) against a local index."""
    index = index or default_index()
    communes = load_communes()
    texts = pd.Series(list(texts), dtype=object).fillna("").astype(str)
    n = len(texts)
    parsed = _town_from_street(parse_addresses(texts), communes.by_name, communes.by_postcode)
    resolved = resolve_communes(parsed["postcode"], parsed["town"], parsed["cedex"])
    streets = index.streets
    indexed = pd.Index(streets["insee"].unique())

    # (row, commune) pairs; rows without a known commune are compared with every street of the index.
    pairs = pd.DataFrame({"row": np.arange(n), "insee": resolved["codes"]}).explode("insee")
    pairs["insee"] = pairs["insee"].where(pairs["insee"].isin(indexed))
    known_in_index = pairs.groupby("row")["insee"].transform("count").to_numpy() > 0
    pairs = pairs[pairs["insee"].notna().to_numpy() | ~known_in_index].drop_duplicates()
    pairs["insee"] = pairs["insee"].fillna("")
    # A row whose communes are all absent from the index cannot be matched to a street there.
    n_codes = resolved["codes"].str.len().to_numpy()
    no_commune = n_codes == 0
    pairs = pairs[(pairs["insee"] != "").to_numpy() | no_commune[pairs["row"].to_numpy()]]

    texts_q = []
    for col in ("street", "lieu_dit"):
        q = pairs.copy()
        q["text"] = match_key_series(parsed[col]).to_numpy()[q["row"].to_numpy()]
        texts_q.append(q[q["text"] != ""])
    matches = _match_streets(pd.concat(texts_q, ignore_index=True), streets)
    matches = matches.sort_values(["row", "sscore", "street_id"], ascending=[True, False, True])
    matches = matches.drop_duplicates(["row", "street_id"])
    best = matches.drop_duplicates("row").set_index("row").reindex(range(n))
    second = matches[matches.duplicated("row")].drop_duplicates("row").set_index("row")["sscore"].reindex(range(n))

    sid = best["street_id"].fillna(-1).astype(np.int64).to_numpy()
    sscore = best["sscore"].fillna(0.0).to_numpy()
    street_ok = (sid >= 0) & (sscore >= STREET_ACCEPT)
    st = streets.set_index("street_id").reindex(np.where(street_ok, sid, -1))
    numero = parsed["numero"].to_numpy()
    hnr = _house_numbers(index, np.where(street_ok, sid, -1), np.where(street_ok, numero, -1), parsed["indice"])

    single_commune = n_codes == 1
    muni = index.municipalities()
    only_code = resolved["codes"].str[0].where(single_commune, "").fillna("")
    mrow = muni.reindex(only_code.to_numpy())
    is_muni = ~street_ok & single_commune & mrow["lon"].notna().to_numpy()

    street_kind = st["kind"].to_numpy()
    kind = np.where(hnr["kind"] != "", hnr["kind"],
                    np.where(street_ok & (numero >= 0), "street_without_number",
                             np.where(street_ok, street_kind, np.where(is_muni, "municipality", ""))))
    level = pd.Series(kind).replace({"housenumber_without_indice": "housenumber",
                                     "street_without_number": "street"}).to_numpy()
    factor = pd.Series(kind).map(LEVEL_FACTOR).fillna(0.0).to_numpy()
    sim = np.where(is_muni, 1.0, sscore / 100.0)
    score = np.round(sim * factor, 4)
    lon = np.where(np.isnan(hnr["lon"]), np.where(street_ok, st["lon"].to_numpy(), mrow["lon"].to_numpy()), hnr["lon"])
    lat = np.where(np.isnan(hnr["lat"]), np.where(street_ok, st["lat"].to_numpy(), mrow["lat"].to_numpy()), hnr["lat"])
    ambiguous = street_ok & (second.fillna(-1e9).to_numpy() >= sscore - AMBIGUITY_MARGIN) & (sscore < 100.0)
    ambiguous |= street_ok & (second.fillna(-1e9).to_numpy() >= 100.0)  # the same name in two communes

    citycode = np.where(street_ok, st["insee"].fillna("").to_numpy(), np.where(is_muni, only_code, ""))
    frame = pd.DataFrame({
        "input": texts.to_numpy(), "normalized": normalized_label(parsed).to_numpy(),
        "lon": lon, "lat": lat, "level": np.where(level == "", None, level), "score": score,
        "citycode": citycode, "street_id": np.where(street_ok, sid, -1), "numero": numero,
        "ambiguous": ambiguous, "how": resolved["how"].to_numpy(), "kind": kind,
        "point": hnr["point"], "lo": hnr["lo"], "hi": hnr["hi"],
    })
    frame["label"] = _labels(frame, st, communes.names, index)
    return GeocodeResult(frame, matches.reset_index(drop=True), index)


def _labels(frame: pd.DataFrame, st: pd.DataFrame, names: dict, index: AddressIndex) -> list:
    """« 2 Avenue des Thermes 04000 Digne-les-Bains »: the index's spelling, the current commune name."""
    pts = index.points
    city = pd.Series(frame["citycode"]).map(names).fillna("")
    voie = st["voie"].fillna("").to_numpy()
    pc = st["postcode"].fillna("").to_numpy()
    has_pt = frame["point"].to_numpy() >= 0
    pt = np.where(has_pt, frame["point"].to_numpy(), 0)
    num = np.where(has_pt, pts["numero"].to_numpy()[pt].astype(str) + np.where(
        pts["indice"].to_numpy()[pt] != "", " " + pts["indice"].to_numpy()[pt].astype(object), ""), "")
    num = np.where(frame["kind"].to_numpy() == "interpolated", frame["numero"].astype(str).to_numpy(), num)
    street_part = pd.Series(num).str.cat(pd.Series(voie), sep=" ").str.strip()
    label = street_part.str.cat(pd.Series(pc), sep=" ").str.cat(city.reset_index(drop=True), sep=" ")
    label = label.str.replace(r"\s+", " ", regex=True).str.strip()
    muni = frame["kind"].to_numpy() == "municipality"
    label = np.where(muni, city.to_numpy(), label)
    return list(np.where(frame["level"].notna(), label, None))
