"""The local address index: address points grouped into streets, persisted on disk, loaded in one read.

Layout of an index folder: `points.parquet` (one row per address point, sorted by street then house
number), `streets.parquet` (one row per street of a commune: name, match key, representative point),
`meta.json` (source files with their sha256 and format, licence, counts, and the sha256 of the two
Parquet files). A street is the set of points of one current commune whose street names share a match key.

Integrity: the Parquet files are read as bytes, hashed and compared with `meta.json` before they are
parsed. The bundled index (in the cache folder) is rebuilt once, with a message, when it is damaged or
when its sources changed; an index built by the user (`--index`) is refused (DataIntegrityError).

The bundled demo index is built on first use from the BANO files of dataset `bano` (ODbL 1.0: the
index is a derived database, so it is under ODbL too; the licence file is copied next to it).
"""
from __future__ import annotations

import functools
import io
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import integrity
from ..datasets import dataset, sha256_file, source, verified_path
from ..errors import BadInput, DataIntegrityError
from ..paths import cache_dir
from .communes import load_communes
from .normalize import match_key_series, normalize_series, split_street_type
from .parse import INDICES
from .sources import read_address_file

FORMAT_VERSION = 3  # 3: meta.json records the sha256 of points.parquet and streets.parquet
ARTEFACTS = ("points.parquet", "streets.parquet")
BANO_DATASET = "bano"
HN_SCALE = 1_000_000  # hn_key = street_id * HN_SCALE + numero: one sorted int64 for all lookups


def indice_code(indice: pd.Series) -> np.ndarray:
    """'' -> 0, BIS -> 1, TER -> 2, …, A -> 11, B -> 12, …: sorts repeated numbers after the plain one."""
    table = {"": 0, **{w: i + 1 for i, w in enumerate(INDICES)}, **{chr(65 + i): 11 + i for i in range(26)}}
    return indice.map(table).fillna(40).astype(np.int64).to_numpy()


@dataclass
class AddressIndex:
    path: Path
    points: pd.DataFrame
    streets: pd.DataFrame
    meta: dict
    _municipalities: pd.DataFrame | None = None

    def municipalities(self) -> pd.DataFrame:
        """Per commune (index: INSEE code), its point: the index point nearest the median of its points
        (the data has no commune centres). Computed once per loaded index."""
        if self._municipalities is None:
            self._municipalities = _representative(self.points, "insee").set_index("insee")[["lon", "lat"]]
        return self._municipalities

    @property
    def provenance(self) -> dict:
        return {"index": self.meta["name"], "sha256": self.meta["sha256"], "licence": self.meta["licence"],
                "files": [f["name"] for f in self.meta["files"]]}


def _representative(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group, the real point closest to the group's median position (a position on the street itself)."""
    med = df.groupby(by)[["lon", "lat"]].transform("median")
    d2 = (df["lon"] - med["lon"]) ** 2 + (df["lat"] - med["lat"]) ** 2
    return df.loc[d2.groupby(df[by]).idxmin()]


def build_index(files: list[str | Path], out_dir: str | Path, name: str | None = None,
                sources: list[integrity.Source] | None = None) -> AddressIndex:
    """Read BAN / BAL / BANO files, group them into streets and write the index folder. `sources`: the
    reference files behind `files` (the bundled index), recorded with their stat stamps for the load check."""
    if not files:
        raise BadInput("au moins un fichier d'adresses est nécessaire", field="FILE")
    communes = load_communes()
    frames, described = [], []
    for path in map(Path, files):
        fmt, df = read_address_file(path)
        frames.append(df)
        described.append({"name": path.name, "format": fmt, "rows": int(len(df)), "sha256": sha256_file(path)})
    pts = pd.concat(frames, ignore_index=True)
    pts["insee_source"] = pts["insee"]
    pts["insee"] = pts["insee"].map(communes.current_of).fillna(pts["insee"])
    pts["key"] = match_key_series(normalize_series(pts["voie"]))
    pts = pts[pts["key"] != ""]
    pts["indice_code"] = indice_code(pts["indice"])
    pts = pts.sort_values(["insee", "key", "numero", "indice_code", "record_id"], kind="stable")
    pts["street_id"] = pts.groupby(["insee", "key"], sort=True).ngroup().astype(np.int64)
    # One point per (street, number, indice): the first source record wins (files keep their order).
    numbered = pts["numero"] >= 0
    dup = numbered & pts.duplicated(["street_id", "numero", "indice_code"])
    pts = pts[~dup].reset_index(drop=True)
    pts["hn_key"] = pts["street_id"] * HN_SCALE + pts["numero"].clip(lower=0)

    rep = _representative(pts, "street_id").set_index("street_id")
    sizes = pts.groupby("street_id").size()
    # Most frequent postal code of the street (ties: the smallest code, for determinism).
    pc = pts.groupby(["street_id", "postcode"]).size().rename("n").reset_index()
    pc = pc.sort_values(["street_id", "n", "postcode"], ascending=[True, False, True]).drop_duplicates("street_id")
    streets = pd.DataFrame({
        "insee": rep["insee"], "voie": rep["voie"], "key": rep["key"],
        "postcode": pc.set_index("street_id")["postcode"],
        "lon": rep["lon"], "lat": rep["lat"], "n_points": sizes,
        "first_point": sizes.cumsum() - sizes,  # points are sorted by street: each street is one slice
    }).reset_index()
    parts = split_street_type(streets["key"])
    streets["type"], streets["name"] = parts["type"], parts["name"]
    streets["kind"] = np.where(streets["type"] != "", "street", "locality")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keep = ["street_id", "numero", "indice", "indice_code", "hn_key", "lon", "lat", "postcode", "insee",
            "insee_source", "voie", "source", "record_id"]
    pts[keep].to_parquet(out / "points.parquet", index=False)
    streets.to_parquet(out / "streets.parquet", index=False)
    artefacts = {a: sha256_file(out / a) for a in ARTEFACTS}
    formats = {f["format"] for f in described}
    meta = {
        "format_version": FORMAT_VERSION,
        "name": name or out.name,
        "files": described,
        "sha256": _combined_sha([f["sha256"] for f in described]),
        "licence": "ODbL 1.0 (© les contributeurs d'OpenStreetMap, source : BANO)" if "bano" in formats
        else "Licence Ouverte 2.0 (BAN / BAL)",
        "points": int(len(pts)), "streets": int(len(streets)), "communes": int(streets["insee"].nunique()),
        "cog": communes.provenance,
        "artefacts": artefacts,
    }
    if sources:
        meta["inputs"] = [integrity.input_record(src) for src in sources]
    (out / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    _load_cached.cache_clear()
    return load_index(out)


def _combined_sha(hashes: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def _read_meta(p: Path) -> dict:
    try:
        meta = json.loads((p / "meta.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise DataIntegrityError(f"index d'adresses {p} : meta.json illisible") from None
    if not isinstance(meta, dict):
        raise DataIntegrityError(f"index d'adresses {p} : meta.json illisible")
    return meta


def _read_checked(p: Path, meta: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """points and streets, from bytes whose sha256 is the one meta.json records."""
    frames = []
    for name in ARTEFACTS:
        expected = (meta.get("artefacts") or {}).get(name) or "?"
        data = integrity.read(integrity.Source(p / name, expected, f"{p.name}/{name}"))
        try:
            frames.append(pd.read_parquet(io.BytesIO(data)))
        except Exception as exc:  # noqa: BLE001 - bytes that hash right but do not parse: the index is wrong
            raise DataIntegrityError(f"index d'adresses {p} : {name} illisible (fichier Parquet endommagé)") from exc
    return frames[0], frames[1]


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, stamp: float) -> AddressIndex:
    p = Path(path)
    meta = _read_meta(p)
    if meta.get("format_version") != FORMAT_VERSION:
        raise BadInput(f"index d'adresses {p} d'un format ancien : reconstruisez-le avec « qpv geocode index »")
    points, streets = _read_checked(p, meta)
    return AddressIndex(p, points, streets, meta)


def load_index(path: str | Path) -> AddressIndex:
    p = Path(path)
    if not (p / "meta.json").is_file():
        raise BadInput(f"pas d'index d'adresses dans {p} (construisez-le avec « qpv geocode index FICHIER… -o {p} »)",
                       field="--index")
    return _load_cached(str(p.resolve()), (p / "meta.json").stat().st_mtime)


def _current(path: Path) -> bool:
    try:
        return json.loads((path / "meta.json").read_text(encoding="utf-8")).get("format_version") == FORMAT_VERSION
    except (OSError, ValueError):
        return False


def _bano_sources() -> list[integrity.Source]:
    return [source(BANO_DATASET, f.path) for f in dataset(BANO_DATASET).files if f.path.endswith(".csv.gz")]


def bundled_index_dir() -> Path:
    return cache_dir() / "addresses" / f"bano-{dataset(BANO_DATASET).sha256[:12]}"


def _build_bundled(out: Path) -> None:
    ds = dataset(BANO_DATASET)
    srcs = _bano_sources()
    files = [verified_path(BANO_DATASET, s.label) for s in srcs]
    # Built aside then renamed: concurrent processes (test workers) never see a half-written index.
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".", dir=out.parent))
    build_index(files, tmp, name=f"bano ({ds.vintage})", sources=srcs)
    shutil.copy(verified_path(BANO_DATASET, "LICENCE_bano-data.txt"), tmp / "LICENCE_bano-data.txt")
    if not _current(out):  # another process may have finished first: keep theirs
        shutil.rmtree(out, ignore_errors=True)
    try:
        tmp.rename(out)
    except OSError:
        pass
    shutil.rmtree(tmp, ignore_errors=True)


@functools.lru_cache(maxsize=4)
def _load_bundled(path: str, stamp: int) -> AddressIndex:
    """The bundled index, once its sources are checked (rehashed unless their stamp is unchanged) and its
    Parquet files hash to what its meta.json records."""
    out = Path(path)
    recorded = {r.get("label"): r for r in _read_meta(out).get("inputs") or []}
    for src in _bano_sources():
        if not integrity.check_input(src, recorded.get(src.label)):
            raise DataIntegrityError(f"index d'adresses {out.name} construit à partir d'autres octets que {src.label}")
    return load_index(out)


def _meta_stamp(out: Path) -> int:
    return (out / "meta.json").stat().st_mtime_ns


def default_index() -> AddressIndex:
    """The demo index from the bundled BANO files (built once into the cache folder, then reused). A damaged
    index is rebuilt once, with a message; if the rebuilt one is refused too, so is the command."""
    out = bundled_index_dir()
    if not _current(out):
        _build_bundled(out)
    try:
        return _load_bundled(str(out), _meta_stamp(out))
    except DataIntegrityError as why:
        for src in _bano_sources():
            integrity.verify(src)  # the reference files themselves refused: nothing to rebuild from
        integrity.notice(f"index d'adresses {out.name} refusé ({why}) : reconstruit à partir des données de référence")
        shutil.rmtree(out, ignore_errors=True)
        _build_bundled(out)
        return _load_bundled(str(out), _meta_stamp(out))


def verify_bundled() -> list[dict]:
    """`qpv data verify`: the bundled index in the cache folder, if built (Parquet files and sources
    rehashed). A damaged index is removed, so that the next command rebuilds it."""
    out = bundled_index_dir()
    if not _current(out):
        return []
    label = f"index d'adresses {out.name}"
    try:
        meta = _read_meta(out)
        recorded = {r.get("label"): r for r in meta.get("inputs") or []}
        for src in _bano_sources():
            if (recorded.get(src.label) or {}).get("sha256") != integrity.verify(src):
                raise DataIntegrityError(f"construit à partir d'autres octets que {src.label}")
        for name in ARTEFACTS:
            integrity.verify(integrity.Source(out / name, (meta.get("artefacts") or {}).get(name) or "?", f"{out.name}/{name}"))
    except DataIntegrityError as why:
        shutil.rmtree(out, ignore_errors=True)
        _load_cached.cache_clear()
        _load_bundled.cache_clear()
        return [{"kind": "cache", "path": label, "ok": False, "message": f"{why} : supprimé, reconstruit au prochain usage"}]
    return [{"kind": "cache", "path": label, "ok": True, "message": "ok"}]
