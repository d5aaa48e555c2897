"""QPV perimeters of each vintage, bundled or imported: attributes and repaired geometries (lon/lat).

Two bundled files with different schemas (QP2024 national, QP2015 Occitanie) and the layers a user
imported (`layers.py`, already normalised to our property names) are read into one shape.
85 QP2024 geometries are invalid (self-intersections, SOURCES.md §1a): they are repaired with
`shapely.make_valid`, keeping only the polygonal parts, so that point-in-polygon tests are defined.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

import numpy as np
import shapely

from .. import datasets
from . import cache, layers

PERIMETER_DATASETS = ("qp2024", "qp2015_occitanie")

# One reader per file schema: property names -> our names.
_SCHEMAS = {
    "qp2024": {"code": "code_qp", "name": "lib_qp", "communes": "insee_com", "commune_names": "lib_com",
               "departement": "insee_dep", "epci": "siren_epci"},
    "qp2015_occitanie": {"code": "code_qp", "name": "nom_qp", "communes": "code_commune",
                         "commune_names": "nom_commune", "departement": "code_departement", "epci": None},
}


@dataclass(frozen=True)
class Perimeters:
    dataset_id: str
    vintage: str
    code: np.ndarray           # str, sorted
    name: np.ndarray
    communes: np.ndarray       # "62119, 62848": every commune of the quartier
    commune_names: np.ndarray  # "Béthune, Verquin"
    departement: np.ndarray
    epci: np.ndarray           # SIREN of the EPCI ('' when the file has none)
    repaired: np.ndarray       # bool: the published geometry was invalid and was repaired
    degenerate: np.ndarray     # bool: the simplified file collapsed the perimeter to a point (no area)
    packed: dict = field(repr=False, compare=False)  # the geometries as stored (`cache.pack_coordinates`)

    @functools.cached_property
    def geometry(self) -> np.ndarray:
        """Shapely MultiPolygons, EPSG:4326, valid (empty when degenerate); made when first asked for (a batch
        reads the quartiers' indexes, not these: ~5 ms of its start)."""
        return cache.unpack_geoms(self.packed)

    @functools.cached_property
    def boundary(self) -> np.ndarray:
        """Each perimeter's boundary; the collapsed point when degenerate."""
        return cache.unpack_geoms(self.packed, "boundary")

    def communes_of(self, i: int) -> list[dict[str, str]]:
        codes = [c.strip() for c in str(self.communes[i]).split(",") if c.strip()]
        names = [n.strip() for n in str(self.commune_names[i]).split(",")]
        if len(names) != len(codes):  # a commune name holding a comma: keep the names whole
            names = [str(self.commune_names[i])] * len(codes)
        return [{"code": c, "name": n} for c, n in zip(codes, names)]

    def position(self, code: str) -> int | None:
        i = int(np.searchsorted(self.code, code))
        return i if i < len(self.code) and self.code[i] == code else None


def keep_polygonal(geoms: np.ndarray) -> np.ndarray:
    """make_valid, then drop the lines and points it may leave in a GeometryCollection."""
    fixed = shapely.make_valid(np.asarray(geoms, dtype=object))
    parts, owner = shapely.get_parts(fixed, return_index=True)
    sub, sub_owner = shapely.get_parts(parts, return_index=True)  # MultiPolygons inside collections
    owner = owner[sub_owner]
    keep = shapely.get_type_id(sub) == 3
    out = np.full(len(fixed), shapely.from_wkt("MULTIPOLYGON EMPTY"), dtype=object)
    return shapely.multipolygons(sub[keep], indices=owner[keep], out=out)


def _bundled_features(dataset_id: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    with datasets.open_verified(dataset_id) as f:  # the hashed bytes are the parsed bytes
        features = json.load(f)["features"]
    schema = _SCHEMAS[dataset_id]

    def column(key: str) -> np.ndarray:
        prop = schema[key]
        return np.array(["" if prop is None or f["properties"].get(prop) in (None, "NA") else str(f["properties"][prop]).strip()
                         for f in features], dtype=str)

    return {k: column(k) for k in schema}, shapely.from_geojson([json.dumps(f["geometry"]) for f in features])


def _read(dataset_id: str) -> dict[str, np.ndarray]:
    if layers.is_layer_id(dataset_id):
        cols, raw = layers.read_stored(layers.read_bytes(dataset_id))  # the hashed bytes are the parsed bytes
    else:
        cols, raw = _bundled_features(dataset_id)
    invalid = ~shapely.is_valid(raw)
    geoms = raw.copy()
    geoms[invalid] = keep_polygonal(raw[invalid])
    geoms = keep_polygonal(geoms)  # also turns Polygons into MultiPolygons: one type for every quartier
    # Three tiny QP2024 quartiers were collapsed to a point by the simplification (SOURCES.md caveat):
    # no point can be inside them, but their position still counts for distances and near_boundary.
    degenerate = shapely.is_empty(geoms)
    boundary = shapely.boundary(geoms)
    boundary[degenerate] = shapely.centroid(shapely.get_parts(raw[degenerate]))
    order = np.argsort(cols["code"], kind="stable")
    out = {k: v[order] for k, v in cols.items()}
    out["repaired"] = invalid[order]
    out["degenerate"] = degenerate[order]
    out.update(cache.pack_coordinates(geoms[order]))
    out.update(cache.pack_coordinates(boundary[order], "boundary"))
    return out


@functools.cache
def load(dataset_id: str) -> Perimeters:
    """Perimeters of a bundled vintage or an imported layer, from the disk cache when the file's checksum
    is unchanged."""
    ds = layers.dataset(dataset_id)
    # the entry checks the file too (rehashed unless its stamp is unchanged): a corrupted file is refused warm
    arrays = cache.cached(f"perimeters-{dataset_id}", cache.key(ds.sha256), lambda: _read(dataset_id),
                          sources=[layers.source(dataset_id)])
    return Perimeters(
        dataset_id=dataset_id, vintage=ds.vintage,
        code=arrays["code"], name=arrays["name"], communes=arrays["communes"],
        commune_names=arrays["commune_names"], departement=arrays["departement"], epci=arrays["epci"],
        repaired=arrays["repaired"].astype(bool), degenerate=arrays["degenerate"].astype(bool), packed=arrays,
    )
