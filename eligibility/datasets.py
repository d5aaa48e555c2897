"""Reference data: the manifest, checksums and provenance.

Every file the engine reads is opened through `verified_path`, which refuses a file that is missing
or whose sha256 differs from `reference_data/manifest.yaml`. Hashing is remembered per
(path, size, mtime) in the cache folder so a cold command does not rehash megabytes each time.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from .errors import DataIntegrityError
from .paths import cache_dir, data_dir

# The C loader parses the manifest several times faster: it is on the path of every cold command.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DataFile(BaseModel):
    path: str
    sha256: str
    bytes: int


class Validity(BaseModel):
    """When and where a perimeter vintage is the law (a row of the manifest's `validity`)."""

    model_config = ConfigDict(populate_by_name=True)
    territory: str  # "metropole" or "outre_mer"
    valid_from: dt.date = Field(alias="from")
    valid_to: dt.date | None = Field(default=None, alias="to")
    legal_basis: str
    confirmed: bool = True
    note: str | None = None

    def covers(self, date: dt.date) -> bool:
        return self.valid_from <= date and (self.valid_to is None or date <= self.valid_to)


class Dataset(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    kind: str
    vintage: str
    title: str
    source: str
    licence: str
    crs: str | None = None
    coverage: dict[str, Any] | None = None
    validity: list[Validity] = []
    caveats: list[str] = []
    files: list[DataFile]

    @property
    def sha256(self) -> str:
        """One checksum for the whole dataset (hash of its files' hashes), for traces."""
        joined = "\n".join(f"{f.path}:{f.sha256}" for f in self.files)
        return hashlib.sha256(joined.encode()).hexdigest()

    def provenance(self) -> dict[str, Any]:
        """What a trace records about this dataset."""
        return {"dataset": self.id, "vintage": self.vintage, "sha256": self.sha256, "source": self.source}


class Manifest(BaseModel):
    manifest_version: int
    datasets: list[Dataset]

    def get(self, dataset_id: str) -> Dataset:
        for d in self.datasets:
            if d.id == dataset_id:
                return d
        known = ", ".join(d.id for d in self.datasets)
        raise DataIntegrityError(f"dataset « {dataset_id} » absent du manifeste (connus : {known})")


@functools.lru_cache(maxsize=4)
def _load_manifest(path: Path) -> Manifest:
    if not path.exists():
        raise DataIntegrityError(f"manifeste introuvable : {path}")
    try:
        return Manifest.model_validate(yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER))
    except Exception as exc:  # yaml or pydantic: either way the manifest cannot be trusted
        raise DataIntegrityError(f"manifeste illisible ({path}) : {exc}") from exc


def manifest() -> Manifest:
    return _load_manifest(data_dir() / "manifest.yaml")


def dataset(dataset_id: str) -> Dataset:
    return manifest().get(dataset_id)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _stamp_file() -> Path:
    return cache_dir() / "verified-files.json"


def _read_stamps() -> dict[str, list]:
    try:
        return json.loads(_stamp_file().read_text())
    except (OSError, ValueError):
        return {}


def check_file(entry: DataFile, *, use_stamps: bool = True) -> Path:
    """Return the file's path if its checksum matches the manifest, else raise DataIntegrityError."""
    path = data_dir() / entry.path
    if not path.exists():
        raise DataIntegrityError(f"fichier de référence manquant : {path}")
    st = path.stat()
    stamp = [st.st_size, st.st_mtime_ns, entry.sha256]
    stamps = _read_stamps() if use_stamps else {}
    if stamps.get(str(path)) == stamp:
        return path
    actual = sha256_file(path)
    if actual != entry.sha256:
        raise DataIntegrityError(
            f"somme de contrôle invalide pour {entry.path} : attendue {entry.sha256[:12]}…, "
            f"obtenue {actual[:12]}… — le fichier est corrompu ou a été modifié ; le moteur refuse de l'utiliser"
        )
    stamps[str(path)] = stamp
    try:
        tmp = _stamp_file().with_suffix(".tmp")
        tmp.write_text(json.dumps(stamps))
        tmp.replace(_stamp_file())
    except OSError:
        pass  # a read-only cache only costs a rehash next time
    return path


def verified_path(dataset_id: str, filename: str | None = None) -> Path:
    """Path of a dataset's file (the first one if `filename` is None), checked against the manifest.

    `filename` may be the file's relative path or just its final name.
    """
    ds = dataset(dataset_id)
    if filename is None:
        entry = ds.files[0]
    else:
        matches = [f for f in ds.files if f.path == filename or Path(f.path).name == filename]
        if not matches:
            raise DataIntegrityError(f"fichier « {filename} » absent du dataset {dataset_id}")
        entry = matches[0]
    return check_file(entry)


def verify_all() -> list[dict[str, Any]]:
    """Rehash every file (no stamp shortcut). One row per file: dataset, path, ok, message."""
    rows = []
    for ds in manifest().datasets:
        for f in ds.files:
            try:
                check_file(f, use_stamps=False)
                rows.append({"dataset": ds.id, "path": f.path, "ok": True, "message": "ok"})
            except DataIntegrityError as exc:
                rows.append({"dataset": ds.id, "path": f.path, "ok": False, "message": str(exc)})
    return rows
