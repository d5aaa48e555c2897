"""`qpv data import`: read an official perimeter file or a local zoning, check it, store it as a layer.

Files are read through GDAL (pyogrio wheels): Shapefile (loose or zipped), GeoPackage, GeoJSON,
FlatGeobuf, in whatever CRS they declare; pyproj reprojects to WGS84. Every check runs before anything
is written, and the layer is staged then moved into place with its manifest entry under a lock: a
refused or interrupted import leaves nothing behind.
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import numpy as np

from .. import datasets
from ..errors import BadInput
from . import layers, vintages

# Column names of the official files (ANCT/SIG Ville QP2015 Shapefile, QP2024 file, data.gouv exports),
# matched without regard to case; the first present wins.
CODE_FIELDS = ("code_qp", "code_quartier", "code_qpv", "qp", "code")
NAME_FIELDS = ("nom_qp", "lib_qp", "nom_quartier", "libelle_qp", "nom", "libelle", "lib")
COMMUNE_CODE_FIELDS = ("insee_com", "code_insee", "code_commune", "codgeo", "insee")
COMMUNE_NAME_FIELDS = ("commune_qp", "lib_com", "nom_commune", "nom_com", "commune")
EPCI_FIELDS = ("siren_epci", "code_epci", "epci")

# Code of a quartier in each list: QP2015 "QP" + département on 3 + rank on 3 (QP093012, QP971003);
# QP2024 "QN" + département on 3 + rank on 2 + a letter (QN08203M, QN97101M).
CODE_PATTERNS = {
    "QP2015": (re.compile(r"^QP(\d{3}|02[AB])\d{3}$"), "QP suivi du département sur 3 caractères et d'un rang sur 3 chiffres, ex. QP093012"),
    "QP2024": (re.compile(r"^QN(\d{3}|02[AB])\d{2}[A-Z]$"), "QN suivi du département sur 3 caractères, d'un rang sur 2 chiffres et d'une lettre, ex. QN08203M"),
}
FORMATS = {".shp": "Shapefile", ".zip": "Shapefile (zip)", ".gpkg": "GeoPackage", ".geojson": "GeoJSON",
           ".json": "GeoJSON", ".fgb": "FlatGeobuf"}
TERRITORY_CHOICES = ("metropole", "outre_mer", "all")
MAX_LISTED = 5  # rows named in an error message; the count says how many in all


def _listing(items: list[str]) -> str:
    more = len(items) - MAX_LISTED
    return ", ".join(items[:MAX_LISTED]) + (f" … et {more} autre(s)" if more > 0 else "")


def _where(path: Path, rows: np.ndarray, codes: np.ndarray | None = None) -> str:
    return _listing([f"entité n° {int(r) + 1}" + (f" « {codes[r]} »" if codes is not None and codes[r] else "") for r in rows])


def _source(path: Path) -> tuple[str, str]:
    """(GDAL path, format label). A zip must hold exactly one Shapefile."""
    if not path.exists():
        raise BadInput(f"fichier introuvable : {path}", field="FILE")
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise BadInput(f"format non pris en charge « {path.suffix} » : Shapefile (.shp ou .zip), GeoPackage (.gpkg), "
                       "GeoJSON (.geojson, .json) ou FlatGeobuf (.fgb)", field="FILE")
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as z:
                shps = sorted(n for n in z.namelist() if n.lower().endswith(".shp") and not n.startswith("__MACOSX"))
        except zipfile.BadZipFile:
            raise BadInput(f"{path.name} n'est pas une archive zip lisible", field="FILE") from None
        if len(shps) != 1:
            raise BadInput(f"l'archive {path.name} doit contenir exactement un Shapefile (.shp) ; trouvé(s) : "
                           f"{', '.join(shps) or 'aucun'}", field="FILE")
        return f"/vsizip/{path.resolve()}/{shps[0]}", FORMATS[suffix]
    if suffix == ".shp":
        missing = [ext for ext in (".shx", ".dbf") if not path.with_suffix(ext).exists() and not path.with_suffix(ext.upper()).exists()]
        if missing:
            raise BadInput(f"Shapefile incomplet : {', '.join(path.stem + m for m in missing)} absent(s) à côté de {path.name}", field="FILE")
    return str(path), FORMATS[suffix]


def _read(path: Path):
    import pyogrio
    import pyogrio.raw

    gdal_path, fmt = _source(path)
    try:
        listed = pyogrio.list_layers(gdal_path)
        if len(listed) > 1:
            raise BadInput(f"{path.name} contient {len(listed)} couches ({', '.join(str(x[0]) for x in listed)}) : "
                           "exportez celle à importer dans un fichier à part", field="FILE")
        meta, _, wkb, data = pyogrio.raw.read(gdal_path, force_2d=True)
    except BadInput:
        raise
    except Exception:  # noqa: BLE001 - GDAL's own message is English: the French one says which file and what
        raise BadInput(f"{path.name} n'a pas pu être lu comme {fmt} (fichier endommagé, vide ou d'un autre format)",
                       field="FILE") from None
    return meta, wkb, data, fmt


def _field(meta, wanted: str | None, candidates: tuple[str, ...], option: str | None, required: bool) -> str | None:
    names = [str(n) for n in meta["fields"]]
    if wanted:
        if wanted not in names:
            raise BadInput(f"colonne « {wanted} » absente du fichier (colonnes trouvées : {', '.join(names) or 'aucune'})",
                           field=option)
        return wanted
    lower = {n.lower(): n for n in names}
    for c in candidates:
        if c in lower:
            return lower[c]
    if required:
        raise BadInput(f"aucune colonne de code reconnue (noms officiels : {', '.join(n.upper() for n in candidates[:3])}, …) ; "
                       f"indiquez-la avec {option} (colonnes trouvées : {', '.join(names) or 'aucune'})", field=option)
    return None


def _text(meta, data, field: str | None, n: int) -> np.ndarray:
    if field is None:
        return np.full(n, "", dtype=object)
    col = data[[str(x) for x in meta["fields"]].index(field)]
    return np.array(["" if v is None or (isinstance(v, float) and np.isnan(v)) else
                     (str(int(v)) if isinstance(v, (float, np.floating)) and float(v).is_integer() else str(v)).strip()
                     for v in col], dtype=object)


def _crs(meta, path: Path):
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if not meta.get("crs"):
        hint = " (le fichier .prj du Shapefile est absent ?)" if path.suffix.lower() in (".shp", ".zip") else ""
        raise BadInput(f"{path.name} ne déclare pas de système de coordonnées{hint} : impossible de savoir où sont les "
                       "périmètres", field="FILE")
    try:
        return CRS.from_user_input(meta["crs"])
    except CRSError as exc:
        raise BadInput(f"système de coordonnées de {path.name} illisible : {exc}", field="FILE") from None


def _to_wgs84(geoms: np.ndarray, crs, path: Path, codes: np.ndarray) -> np.ndarray:
    import shapely
    from pyproj import Transformer

    if crs.to_epsg() == 4326:
        out = geoms
    else:
        tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        out = shapely.transform(geoms, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    b = shapely.bounds(out)
    bad = ~np.isfinite(b).all(axis=1) | (b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (b[:, 3] > 90)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise BadInput(f"{len(rows)} entité(s) hors des coordonnées possibles une fois reprojetées depuis {crs.to_string()} "
                       f"(système de coordonnées faux ou mal déclaré ?) : {_where(path, rows, codes)}", field="FILE")
    return out


def _places(lon: np.ndarray, lat: np.ndarray, day: dt.date, path: Path, codes, crs):
    """(département, région, commune code, commune name) of each feature's representative point; refuses
    features outside France."""
    from .locate import locate_points

    res = locate_points(lon, lat, day, tolerance_m=0.0)
    dep = np.asarray(res.departement, dtype=object)
    outside = np.flatnonzero(dep == "")
    if len(outside):
        raise BadInput(f"{len(outside)} entité(s) hors du territoire français une fois reprojetées depuis {crs.to_string()} "
                       f"(système de coordonnées faux ou mal déclaré ?) : {_where(path, outside, codes)}", field="FILE")
    return (dep, np.asarray(res.region, dtype=object), np.array([c or "" for c in res.commune_code], dtype=object),
            np.array([c or "" for c in res.commune_name], dtype=object))


def code_departement(code: str) -> str:
    """The département a quartier code names: QP009001 -> 09, QN02A01M -> 2A, QP971003 -> 971."""
    part = code[2:5]
    return part[1:] if part.startswith("0") else part


def _check_departements(codes: np.ndarray, dep: np.ndarray, path: Path, crs) -> None:
    """Every quartier lies in the département its code names (true of every bundled QP2015 and QP2024
    perimeter): a file whose quartiers land elsewhere has a wrong or wrongly declared CRS."""
    wrong = np.flatnonzero([code_departement(c) != str(d) for c, d in zip(codes, dep)])
    if len(wrong):
        where = [f"entité n° {k + 1} « {codes[k]} » dans le {dep[k]}" for k in wrong]
        raise BadInput(f"{len(wrong)} quartier(s) ne sont pas dans le département que donne leur code une fois reprojetés "
                       f"depuis {crs.to_string()} (système de coordonnées faux ou mal déclaré ?) : {_listing(where)}", field="FILE")


def _validity(vintage: str, territories_: list[str], start: dt.date, end: dt.date | None, name: str) -> list[datasets.Validity]:
    """The calendar rows the layer answers for: the law's periods for that list, cut to the declared dates."""
    rows = []
    for g in vintages.GENERATIONS:
        if g.vintage != vintage or g.territory not in territories_:
            continue
        lo = max(start, g.valid_from)
        hi = min(d for d in (end, g.valid_to) if d is not None) if (end or g.valid_to) else None
        if hi is not None and lo > hi:
            continue
        rows.append(datasets.Validity(territory=g.territory, valid_from=lo, valid_to=hi, legal_basis=g.legal_basis,
                                      confirmed=g.confirmed,
                                      note=f"couche importée « {name} » : dates déclarées à l'import du {start.isoformat()} au "
                                           f"{end.isoformat() if end else '…'}, bornées par le calendrier légal ({g.source})"))
    if not rows:
        periods = "; ".join(f"{g.territory} du {g.valid_from} au {g.valid_to or '…'}" for g in vintages.GENERATIONS
                            if g.vintage == vintage)
        raise BadInput(f"les dates déclarées (du {start} au {end or '…'}) ne recoupent pas la période légale de la liste "
                       f"{vintage} sur ce territoire ({periods})", field="--valid-from")
    return rows


def import_layer(path, name: str, kind: str, valid_from, valid_to=None, vintage: str | None = None,
                 territory: str | None = None, precision_m=None, code_field: str | None = None,
                 name_field: str | None = None, source: str | None = None, licence: str | None = None) -> layers.Layer:
    """Check the file, store it as the layer `name`, return its manifest entry. BadInput on any refusal."""
    import shapely

    from .perimeters import keep_polygonal

    path = Path(path)
    name = str(name or "").strip()
    if not layers.NAME_PATTERN.match(name):
        raise BadInput(f"nom de couche invalide « {name} » : minuscules, chiffres, - et _ (64 caractères au plus)", field="--name")
    if name in {d.id for d in datasets.manifest().datasets}:
        raise BadInput(f"« {name} » est le nom d'un jeu de données fourni : choisissez un autre nom", field="--name")
    if kind not in layers.KINDS:
        raise BadInput(f"type de couche inconnu « {kind} » (attendu : {', '.join(layers.KINDS)})", field="--kind")
    if territory is not None and territory not in TERRITORY_CHOICES:
        raise BadInput(f"territoire inconnu « {territory} » (attendu : {', '.join(TERRITORY_CHOICES)})", field="--territory")
    start, end = _date(valid_from, "--valid-from"), (_date(valid_to, "--valid-to") if valid_to else None)
    if end is not None and end < start:
        raise BadInput(f"--valid-to ({end}) précède --valid-from ({start})", field="--valid-to")
    precision = _precision(precision_m)
    if any(e.name == name for e in layers.entries()):
        raise BadInput(f"une couche « {name} » existe déjà : retirez-la d'abord (qpv data remove {name}) ou choisissez un autre nom",
                       field="--name")

    meta, wkb, data, fmt = _read(path)
    n = len(wkb)
    if n == 0:
        raise BadInput(f"{path.name} ne contient aucune entité", field="FILE")
    code_col = _field(meta, code_field, CODE_FIELDS, "--code-field", required=True)
    name_col = _field(meta, name_field, NAME_FIELDS, "--name-field", required=False)
    codes = _text(meta, data, code_col, n)
    if kind == "perimetres":
        codes = np.array([c.upper() for c in codes], dtype=object)
    empty_code = np.flatnonzero(codes == "")
    if len(empty_code):
        raise BadInput(f"{len(empty_code)} entité(s) sans code (colonne {code_col}) : {_where(path, empty_code)}", field=code_col)

    if kind == "perimetres":
        vintage = _vintage(vintage, codes, path, code_col)
    else:
        vintage = None
    uniq, inverse, counts = np.unique(codes.astype(str), return_inverse=True, return_counts=True)
    if (counts > 1).any():
        dup = [f"« {c} » (entités n° {', '.join(str(int(r) + 1) for r in np.flatnonzero(inverse == k))})"
               for k, c in enumerate(uniq) if counts[k] > 1]
        raise BadInput(f"{len(dup)} code(s) en double dans la colonne {code_col} : {_listing(dup)}", field=code_col)

    raw = np.array([None if b is None else shapely.from_wkb(b) for b in wkb], dtype=object)
    missing = np.flatnonzero(np.equal(raw, None))
    if len(missing):
        raise BadInput(f"{len(missing)} entité(s) sans géométrie : {_where(path, missing, codes)}", field="FILE")
    raw = raw.astype(object)
    empty = np.flatnonzero(shapely.is_empty(raw))
    if len(empty):
        raise BadInput(f"{len(empty)} entité(s) à géométrie vide : {_where(path, empty, codes)}", field="FILE")
    not_poly = np.flatnonzero(~np.isin(shapely.get_type_id(raw), (3, 6)))
    if len(not_poly):
        kinds = [shapely.get_type_id(raw[r]) for r in not_poly]
        names = {0: "point", 1: "ligne", 2: "anneau", 4: "multipoint", 5: "multiligne", 7: "collection"}
        raise BadInput(f"{len(not_poly)} entité(s) ne sont pas des polygones ({', '.join(sorted({names.get(int(k), str(k)) for k in kinds}))}) : "
                       f"{_where(path, not_poly, codes)}", field="FILE")
    crs = _crs(meta, path)
    geoms = _to_wgs84(raw, crs, path, codes)
    invalid = ~shapely.is_valid(geoms)
    geoms = keep_polygonal(geoms)  # repairs the invalid ones, and one type (MultiPolygon) for every feature
    collapsed = np.flatnonzero(shapely.is_empty(geoms) | (shapely.area(geoms) == 0))
    if len(collapsed):
        raise BadInput(f"{len(collapsed)} entité(s) sans surface, même après réparation : {_where(path, collapsed, codes)}", field="FILE")
    rep = shapely.point_on_surface(geoms)
    dep, reg, rep_commune, rep_commune_name = _places(shapely.get_x(rep), shapely.get_y(rep), start, path, codes, crs)
    if kind == "perimetres":
        _check_departements(codes, dep, path, crs)
    terr_of = np.where(np.char.str_len(dep.astype(str)) == 2, "metropole", "outre_mer")

    commune_col = _field(meta, None, COMMUNE_CODE_FIELDS, None, False)
    communes = _text(meta, data, commune_col, n)
    commune_names = _text(meta, data, _field(meta, None, COMMUNE_NAME_FIELDS, None, False), n)
    if commune_col is None:  # the official QP2015 file names its communes but gives no code: where the quartier lies
        communes, commune_names = rep_commune, rep_commune_name
    cols = {"code": codes, "name": _text(meta, data, name_col, n), "communes": communes, "commune_names": commune_names,
            "departement": dep.astype(str).astype(object),
            "epci": _text(meta, data, _field(meta, None, EPCI_FIELDS, None, False), n)}
    deps = sorted(set(dep.astype(str)))
    regions = sorted(set(r for r in reg.astype(str) if r))
    covered = sorted(set(terr_of)) if territory is None else (["metropole", "outre_mer"] if territory == "all" else [territory])
    validity = _validity(vintage, covered, start, end, name) if kind == "perimetres" else []
    if kind == "perimetres" and territory is not None and territory != "all":
        off = np.flatnonzero(terr_of != territory)
        if len(off):
            raise BadInput(f"--territory {territory} déclaré, mais {len(off)} entité(s) sont ailleurs : {_where(path, off, codes)}",
                           field="--territory")

    staged = layers.staging_dir(name)
    try:
        stored = staged / layers.STORED_FILE
        layers.write_stored(stored, cols, geoms)
        layer = layers.Layer(
            name=name, kind=kind, vintage=vintage,
            title=(f"Quartiers prioritaires {vintage} importés ({path.name})" if kind == "perimetres" else f"Zonage « {name} » ({path.name})"),
            file=f"{name}/{layers.STORED_FILE}", sha256=datasets.sha256_file(stored), bytes=stored.stat().st_size,
            original_file=path.name, original_sha256=datasets.sha256_file(path), original_crs=crs.to_string(),
            original_format=fmt, source=(source or "non renseignée").strip(), licence=(licence or "non renseignée").strip(),
            imported_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
            features=n, repaired=int(invalid.sum()), precision_m=precision if precision is not None else 1.0,
            precision_declared=precision is not None, code_field=code_col, name_field=name_col,
            commune_field=commune_col, territory=territory,
            departements=deps, regions=regions, valid_from=start, valid_to=end, validity=validity)
    except BaseException:
        import shutil

        shutil.rmtree(staged, ignore_errors=True)
        raise

    def no_conflict(current: list[layers.Layer]) -> None:
        if kind != "perimetres":
            return
        try:
            vintages._check([r for e in current + [layer] if e.kind == "perimetres" for r in vintages.layer_rules(e)])
        except Exception as exc:
            raise BadInput(f"la couche recouvre une autre couche importée de la même liste aux mêmes dates ({exc}) : "
                           "retirez l'autre d'abord, ou limitez --valid-from/--valid-to", field="--name") from None

    layers.commit(layer, staged, no_conflict)
    return layer


def _date(value, option: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadInput(f"date invalide « {value} » : format attendu AAAA-MM-JJ", field=option) from None


def _precision(value) -> float | None:
    if value is None:
        return None
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"précision invalide « {value} » (un nombre de mètres)", field="--precision-m") from None
    if not (0 < p <= 500):
        raise BadInput(f"précision hors de ]0, 500] m : {value}", field="--precision-m")
    return p


def _vintage(vintage: str | None, codes: np.ndarray, path: Path, code_col: str) -> str:
    """The declared list (checked against every code), or the one every code's pattern names."""
    if vintage is not None:
        v = str(vintage).strip().upper()
        if v not in CODE_PATTERNS:
            raise BadInput(f"millésime inconnu « {vintage} » (connus : {', '.join(CODE_PATTERNS)})", field="--vintage")
    else:
        hits = {v: sum(bool(rx.match(c)) for c in codes) for v, (rx, _) in CODE_PATTERNS.items()}
        best = max(hits.values())
        fits = [v for v, k in hits.items() if k == best and k > 0]  # the list most codes follow; the rest are named below
        if len(fits) != 1:
            raise BadInput(f"millésime non reconnu d'après les codes (ex. « {codes[0]} ») : indiquez --vintage "
                           f"({', '.join(CODE_PATTERNS)})", field="--vintage")
        v = fits[0]
    rx, described = CODE_PATTERNS[v]
    bad = np.flatnonzero([not rx.match(c) for c in codes])
    if len(bad):
        raise BadInput(f"{len(bad)} code(s) de la colonne {code_col} ne suivent pas le format des codes {v} ({described}) : "
                       f"{_where(path, bad, codes)}", field=code_col)
    return v
