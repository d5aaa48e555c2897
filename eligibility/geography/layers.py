"""Imported layers (`qpv data import`): official perimeter files and local zonings, beside the bundled data.

A layer is one normalised file (GeoJSON, WGS84, our property names) in `paths.layers_dir()/<name>/`,
described by an entry of `layers.yaml` in that folder: original file name, source, licence, import
date, sha256 of the original and of the stored file, feature count, coverage, declared precision.
Two kinds:
- `perimetres`: quartiers of a vintage (QP2015, QP2024). They join the bundled files in
  `vintages.rules()` and win where they overlap a bundled file of the same vintage.
- `zonage`: local zonings (quartiers d'intérêt communautaire, NPNRU, ZFU-TE…), reported beside the
  answer (`zones`) and asked by rules through `in_zone(LAYER, place, date)`.

Every reader goes through `dataset(id)`, `source(id)` and `read_bytes(id)`: the stored file is hashed by
`eligibility.integrity` against its entry, exactly like a bundled file against the manifest (same
functions, same derived-cache checks), so a layer changed on disk is refused.
A layer's dataset id is `name@sha16`: caches keyed by it can never serve a removed or re-imported layer.
"""
from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import datasets, integrity
from ..errors import BadInput, DataIntegrityError
from ..integrity import Source
from ..paths import layers_dir

if TYPE_CHECKING:
    from .layer_entry import Layer

KINDS = ("perimetres", "zonage")
KIND_LABELS = {"perimetres": "périmètres de quartiers prioritaires", "zonage": "zonage local"}
MANIFEST = "layers.yaml"
LABEL_PREFIX = "couches importées/"  # how messages, traces and cache entries name a stored layer file
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def __getattr__(name: str):
    """`Layer` (layer_entry.py) is imported when named: pydantic stays out of a process that has no imported layer."""
    if name == "Layer":
        from .layer_entry import Layer

        return Layer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def tolerance_from_precision(precision_m: float) -> float:
    """Near-boundary tolerance from a file's declared precision: twice it, at least 1 m (issue 11)."""
    return max(1.0, 2.0 * float(precision_m))


def manifest_path() -> Path:
    return layers_dir() / MANIFEST


def _token() -> tuple:
    """What identifies the current set of layers: the manifest's path and stat stamp (size, mtime, ctime,
    inode: an import or removal replaces the file atomically, so the inode changes); no manifest: no layers."""
    path = manifest_path()
    return (str(path), tuple(integrity.stamp(path) or ()))


def state() -> tuple:
    """Changes whenever a layer is imported or removed (callers key their caches by it)."""
    return _token()


@functools.lru_cache(maxsize=8)
def _entries(token: tuple) -> tuple[Layer, ...]:
    path = Path(token[0])
    if not token[1]:
        return ()
    try:
        import yaml  # here: a process without imported layers never imports it

        from .layer_entry import Layer

        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return tuple(Layer.model_validate(e) for e in raw.get("layers", []))
    except Exception as exc:  # yaml or pydantic: the manifest cannot be trusted
        raise DataIntegrityError(f"manifeste des couches importées illisible ({path}) : {exc}") from exc


def entries() -> tuple[Layer, ...]:
    return _entries(_token())


def of_kind(kind: str) -> tuple[Layer, ...]:
    return tuple(e for e in entries() if e.kind == kind)


def get(name: str) -> Layer:
    for e in entries():
        if e.name == name:
            return e
    known = ", ".join(e.name for e in entries()) or "aucune"
    raise BadInput(f"couche « {name} » inconnue (couches importées : {known})", field="name")


def is_layer_id(dataset_id: str) -> bool:
    return "@" in dataset_id


def layer_of(dataset_id: str) -> Layer:
    for e in entries():
        if e.dataset_id == dataset_id:
            return e
    raise DataIntegrityError(f"la couche {dataset_id} n'est plus dans le manifeste des couches ({manifest_path()}) : "
                             "elle a été retirée ou réimportée")


def dataset(dataset_id: str) -> datasets.Dataset:
    """A bundled dataset or an imported layer, in the manifest's shape."""
    return layer_of(dataset_id).as_dataset() if is_layer_id(dataset_id) else datasets.dataset(dataset_id)


def source(dataset_id: str) -> Source:
    """The perimeter file of a bundled dataset or an imported layer, with the sha256 that vouches for it."""
    return layer_of(dataset_id).stored() if is_layer_id(dataset_id) else datasets.source(dataset_id)


def data_fingerprint() -> str:
    """One sha256 over the data answers come from: the bundled manifest's sha256 (as read and verified) and,
    per imported layer, its name, stored file's sha256 and entry's sha256. The register records it."""
    return _fingerprint(datasets.manifest_sha256(), _token())


@functools.lru_cache(maxsize=8)
def _fingerprint(manifest_sha256: str, token: tuple) -> str:
    lines = [f"manifest.yaml:{manifest_sha256}"] + [f"layer:{e.name}:{e.sha256}:{e.entry_sha256}" for e in _entries(token)]
    return integrity.sha256_bytes("\n".join(lines).encode("utf-8"))


def provenance(dataset_id: str) -> dict[str, Any]:
    """What a trace records about the perimeter file an answer read: for a layer, its entry and the sha256
    of the stored bytes actually read (computed when they were verified, never copied from the entry)."""
    src = source(dataset_id)
    if not is_layer_id(dataset_id):
        return datasets.dataset(dataset_id).provenance([src.label])
    read_sha = integrity.seen(src.path) or _verified(layer_of(dataset_id), src)
    return {**layer_of(dataset_id).provenance(), "files": [{"path": src.label, "sha256": read_sha}]}


def read_bytes(dataset_id: str) -> bytes:
    """The perimeter file's bytes, checked against their sha256 before they are returned: parse these."""
    src = source(dataset_id)
    if not is_layer_id(dataset_id):
        return integrity.read(src)
    try:
        return integrity.read(src)
    except DataIntegrityError as exc:
        raise _refused(layer_of(dataset_id), exc) from None


def vouch(label: str) -> Source | None:
    """The Source that vouches for a file by its label, bundled (manifest) or imported (layers.yaml)."""
    found = datasets.vouch(label)
    if found is not None:
        return found
    return next((e.stored() for e in entries() if e.stored().label == label), None)


def elsewhere(label: str, sha256: str) -> bool:
    """A stored layer file this layers folder does not list (another folder's, or one removed)."""
    return label.startswith(LABEL_PREFIX) and not any(e.stored().label == label and e.sha256 == sha256 for e in entries())


def _refused(layer: Layer, exc: DataIntegrityError) -> DataIntegrityError:
    return DataIntegrityError(f"couche importée « {layer.name} » : {exc} (réimportez-la, ou retirez-la : "
                              f"qpv data remove {layer.name})")


def _verified(layer: Layer, src: Source) -> str:
    try:
        return integrity.verify(src)
    except DataIntegrityError as exc:
        raise _refused(layer, exc) from None


def verify_all() -> list[dict[str, Any]]:
    """Rehash every imported layer's file (`integrity.verify`, as for the bundled files): rows like
    `datasets.verify_all`."""
    rows = []
    for e in entries():
        try:
            _verified(e, e.stored())
            rows.append({"dataset": e.dataset_id, "layer": e.name, "path": e.stored().label, "ok": True, "message": "ok"})
        except DataIntegrityError as exc:
            rows.append({"dataset": e.dataset_id, "layer": e.name, "path": e.stored().label, "ok": False,
                         "message": str(exc)})
    return rows


# -- the stored file: FlatGeobuf, WGS84, our column names (exact doubles, read back by GDAL) -------------
STORED_COLUMNS = ("code", "name", "communes", "commune_names", "departement", "epci")
STORED_FILE = "couche.fgb"


def write_stored(path: Path, cols: dict, geoms) -> None:
    import numpy as np
    import pyogrio.raw
    import shapely

    pyogrio.raw.write(str(path), shapely.to_wkb(geoms), [np.asarray(cols[c], dtype=object) for c in STORED_COLUMNS],
                      list(STORED_COLUMNS), driver="FlatGeobuf", crs="EPSG:4326", geometry_type="MultiPolygon",
                      encoding="UTF-8")


def read_stored(data: bytes):
    """(columns as str arrays, shapely geometries) of a stored layer file, from its verified bytes."""
    import io

    import numpy as np
    import pyogrio.raw
    import shapely

    meta, _, wkb, values = pyogrio.raw.read(io.BytesIO(data))
    names = list(meta["fields"])
    cols = {c: np.array(["" if v is None else str(v) for v in values[names.index(c)]], dtype=str) for c in STORED_COLUMNS}
    return cols, shapely.from_wkb(wkb)


# -- writing: imports and removals are atomic under a lock ---------------------------------------------
@contextlib.contextmanager
def _locked():
    import fcntl

    folder = layers_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield folder
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_manifest(folder: Path, layers: list[Layer]) -> None:
    import yaml

    body = {"manifest_version": 1,
            "note": "Couches importées par « qpv data import » ; « qpv data verify » les revérifie.",
            "layers": [e.model_dump(mode="json") for e in sorted(layers, key=lambda e: e.name)]}
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)


def staging_dir(name: str) -> Path:
    folder = layers_dir() / f".import-{name}-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def commit(layer: Layer, staged: Path, check=None) -> None:
    """Move the staged folder into place and add the manifest entry, or leave nothing behind.

    `check(current_entries)` runs under the lock (a concurrent import may have landed meanwhile)."""
    try:
        with _locked() as folder:
            current = [e for e in entries()]
            if any(e.name == layer.name for e in current):
                raise BadInput(f"une couche « {layer.name} » existe déjà : retirez-la d'abord (qpv data remove {layer.name}) "
                               "ou choisissez un autre nom", field="--name")
            if check is not None:
                check(current)
            final = folder / layer.name
            shutil.rmtree(final, ignore_errors=True)
            os.replace(staged, final)
            try:
                _write_manifest(folder, current + [layer])
            except BaseException:
                shutil.rmtree(final, ignore_errors=True)
                raise
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def remove(name: str) -> Layer:
    with _locked() as folder:
        layer = get(name)
        _write_manifest(folder, [e for e in entries() if e.name != name])
        shutil.rmtree(folder / name, ignore_errors=True)
    # its derived cache entries stay: keyed by the layer's checksum, they only ever serve these same bytes
    # (another folder may hold an identical layer), and `data verify` leaves them alone (`elsewhere`)
    return layer


# -- Dask workers: the layers travel with the job, never a silent fallback to the bundled data ----------
def expected() -> tuple[str, tuple[str, ...]]:
    """(layers folder, dataset ids of every layer) as the client sees them: carried by batch jobs."""
    return str(layers_dir()), tuple(e.dataset_id for e in entries())


def require(expect: tuple[str, tuple[str, ...]] | None) -> None:
    """On a worker: read the client's layers folder, and refuse to answer if it does not hold exactly the
    client's layers (a folder not shared with this machine, a layer changed since the job started)."""
    if expect is None:
        return
    folder, ids = expect
    if str(layers_dir()) != folder:
        os.environ["QPV_LAYERS_DIR"] = folder
    mine = tuple(e.dataset_id for e in entries())
    if mine != tuple(ids):
        missing = sorted(set(ids) - set(mine))
        raise DataIntegrityError(
            f"ce poste de calcul ne voit pas les mêmes couches importées que le poste qui a lancé le traitement "
            f"(dossier {folder} ; manquantes ou différentes : {', '.join(missing) or '—'} ; en trop : "
            f"{', '.join(sorted(set(mine) - set(ids))) or '—'}) : partagez ce dossier avec les postes de calcul")
