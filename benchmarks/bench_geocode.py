"""Geocoder accuracy and throughput, with addok (the BAN's engine) as the peer in the same run.

Accuracy: the département-04 rows of the La Poste points de contact (`Géocodé au numéro` only) and of
the collèges file, geocoded against the BANO index; distance to the coordinates published in those
files (median, share within 30 m and 100 m; a row without an answer counts as a miss), match levels.
Both engines get the same one-line text (« adresse, lieu-dit, code postal localité »).

Throughput: N distinct addresses reconstructed from index points (number, street, postal code and
commune, upper-cased with La Poste abbreviations on every other row), geocoded as one batch: the local
geocoder through `geocode`, addok through its batch endpoint `/search/csv/`.

    .venv/bin/python benchmarks/bench_geocode.py [--n 2000]
"""
from __future__ import annotations

import argparse
import gzip
import time

import numpy as np
import pandas as pd

from eligibility.addresses import geocode
from eligibility.addresses.addok import AddokClient
from eligibility.addresses.addok_server import AddokServer
from eligibility.addresses.index import default_index
from eligibility.datasets import verified_path

ABBREV = {"RUE ": "R ", "AVENUE ": "AV ", "BOULEVARD ": "BD ", "CHEMIN ": "CHE ", "PLACE ": "PL ",
          "ROUTE ": "RTE ", "IMPASSE ": "IMP ", "ALLEE ": "ALL ", "SAINT ": "ST ", "SAINTE ": "STE "}


def _join(*parts: pd.Series) -> pd.Series:
    out = parts[0].fillna("").str.strip()
    for p in parts[1:]:
        p = p.fillna("").str.strip()
        out = out.where(p == "", out + np.where(out == "", "", ", ") + p)
    return out


def reference_sets() -> dict[str, pd.DataFrame]:
    with gzip.open(verified_path("laposte_points_contact"), "rt", encoding="utf-8") as f:
        lp = pd.read_csv(f, sep=";", dtype=str, keep_default_na=False)
    lp = lp[lp["Code_INSEE"].str.startswith("04") & lp["Précision_du_géocodage"].eq("Géocodé au numéro")]
    lp = pd.DataFrame({
        "text": _join(lp["Adresse"], lp["Complément_d_adresse"], lp["Lieu_dit"], lp["Code_postal"] + " " + lp["Localité"]),
        "lon": pd.to_numeric(lp["Longitude"]), "lat": pd.to_numeric(lp["Latitude"]),
    })
    with gzip.open(verified_path("colleges"), "rt", encoding="utf-8-sig") as f:
        co = pd.read_csv(f, sep=";", dtype=str, keep_default_na=False)
    co = co[co["code_departement"].eq("004") & co["latitude"].ne("")]
    bp = ("BP " + co["boite_postale_uai"]).where(co["boite_postale_uai"] != "", "")
    co = pd.DataFrame({
        "text": _join(co["adresse_uai"], co["lieu_dit_uai"], bp, co["code_postal_uai"] + " " + co["localite_acheminement_uai"]),
        "lon": pd.to_numeric(co["longitude"]), "lat": pd.to_numeric(co["latitude"]),
    })
    return {"La Poste 04 (au numéro)": lp.reset_index(drop=True), "collèges 04": co.reset_index(drop=True)}


def metres(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * np.arcsin(np.sqrt(a))


def accuracy(ref: pd.DataFrame, lon, lat, level) -> dict:
    d = metres(ref["lon"].to_numpy(), ref["lat"].to_numpy(), np.asarray(lon, float), np.asarray(lat, float))
    found = ~np.isnan(d)
    return {"rows": len(ref), "answered": int(found.sum()),
            "median_m": round(float(np.nanmedian(d)), 1) if found.any() else None,
            "median_all_m": round(float(np.median(np.where(found, d, np.inf))), 1),  # a miss counts as infinitely far
            "within_30m": round(float(np.mean(np.where(found, d, np.inf) <= 30)), 3),
            "within_100m": round(float(np.mean(np.where(found, d, np.inf) <= 100)), 3),
            "levels": pd.Series(level).fillna("none").value_counts().sort_index().to_dict()}


def throughput_texts(index, n: int, seed: int = 0) -> list[str]:
    from eligibility.addresses.communes import load_communes

    names = load_communes().names
    pts = index.points[index.points["numero"] > 0]
    pts = pts.drop_duplicates(["street_id", "numero"]).sample(n=min(n, len(pts)), random_state=seed)
    text = (pts["numero"].astype(str) + " " + pts["voie"] + ", " + pts["postcode"] + " " + pts["insee"].map(names))
    upper = text.str.upper()
    for k, v in ABBREV.items():
        upper = upper.str.replace(k, v, regex=False)
    return list(np.where(np.arange(len(text)) % 2 == 0, text, upper))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000, help="distinct addresses in the throughput batch")
    args = ap.parse_args()
    index = default_index()
    geocode(["1 rue Albert Honde 04100 Manosque"], index)  # warm-up: COG tables and index in memory
    sets = reference_sets()
    batch = throughput_texts(index, args.n)
    with AddokServer(index) as url, AddokClient(url) as client:
        print(f"index: {index.meta['name']}, {index.meta['points']} points, {index.meta['streets']} voies; addok {url}")
        for name, ref in sets.items():
            ours = geocode(ref["text"], index).frame
            peer = client.search_csv(ref["text"])
            a = accuracy(ref, ours["lon"], ours["lat"], ours["level"])
            b = accuracy(ref, peer["longitude"], peer["latitude"], peer["result_type"].replace("", None))
            print(f"\n{name}: {a['rows']} rows")
            for key in ("answered", "median_m", "median_all_m", "within_30m", "within_100m", "levels"):
                print(f"  {key:12s} qpv: {a[key]!s:55s} addok: {b[key]}")
        t = time.perf_counter()
        ours = geocode(batch, index).frame
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        peer = client.search_csv(batch)
        t_peer = time.perf_counter() - t
    n = len(batch)
    print(f"\nthroughput, {n} distinct addresses in one batch:")
    print(f"  qpv geocode : {t_ours:7.2f} s  {n / t_ours:9.0f} adresses/s  housenumber {np.mean(ours['level'] == 'housenumber'):.3f}")
    print(f"  addok csv   : {t_peer:7.2f} s  {n / t_peer:9.0f} adresses/s  housenumber {np.mean(peer['result_type'] == 'housenumber'):.3f}")
    print(f"  ratio       : {t_peer / t_ours:.1f}x")


if __name__ == "__main__":
    main()
