"""Reference data: the manifest, checksums and provenance.

Every file the engine reads is opened through `open_verified` / `verified_bytes` (or `verified_path`),
which refuse a file that is missing or whose sha256 differs from `reference_data/manifest.yaml`; the
file is hashed on every read (`integrity`). The manifest itself must hash to the sha256 pinned in the
package (`manifest_pin.py`): a one-byte change to a validity date or a coverage region is refused.
"""
from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import xxhash

from . import integrity
from .errors import DataIntegrityError
from .integrity import Source, sha256_file  # noqa: F401 - sha256_file: re-exported for the callers that hash user files
from .manifest_pin import MANIFEST_SHA256
from .paths import cache_dir, data_dir

# The manifest's entries are plain dataclasses, read by `_read_manifest` below: the manifest is pinned by its sha256
# (manifest_pin.py), and building them needs no validation library on the path of every command (pydantic's import
# was ~60 ms of a batch's serial start, issue 13). Its rows are checked all the same: each field's type, required
# fields present, dates ordered; a wrong row is a French message naming the dataset and the field.


@dataclass(kw_only=True)
class DataFile:
    path: str
    sha256: str
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "bytes": self.bytes}


@dataclass(kw_only=True)
class Validity:
    """When and where a perimeter vintage is the law (a row of the manifest's `validity`)."""

    territory: str  # "metropole" or "outre_mer"
    valid_from: dt.date  # `from` in the manifest
    valid_to: dt.date | None = None  # `to`
    legal_basis: str
    confirmed: bool = True
    note: str | None = None

    def __post_init__(self) -> None:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"période de validité inversée ({self.valid_from} > {self.valid_to})")

    def covers(self, date: dt.date) -> bool:
        return self.valid_from <= date and (self.valid_to is None or date <= self.valid_to)

    def to_json(self) -> dict[str, Any]:
        """The row as the manifest writes it (`from`, `to`; dates as ISO text)."""
        return {"territory": self.territory, "from": self.valid_from.isoformat(),
                "to": self.valid_to.isoformat() if self.valid_to else None, "legal_basis": self.legal_basis,
                "confirmed": self.confirmed, "note": self.note}


@dataclass(kw_only=True)
class Dataset:
    id: str
    kind: str
    vintage: str
    title: str
    source: str
    licence: str
    crs: str | None = None
    coverage: dict[str, Any] | None = None
    validity: list[Validity] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    files: list[DataFile]
    extra: dict[str, Any] = field(default_factory=dict, repr=False)  # the manifest's other fields (precision_m, notes)

    def __getattr__(self, name: str) -> Any:  # only for a name that is not a field: the manifest's other fields
        extra = self.__dict__.get("extra", {})
        if name in extra:
            return extra[name]
        raise AttributeError(name)

    @property
    def sha256(self) -> str:
        """One checksum for the whole dataset (hash of its files' hashes), for traces."""
        joined = "\n".join(f"{f.path}:{f.sha256}" for f in self.files)
        return hashlib.sha256(joined.encode()).hexdigest()

    def provenance(self, files: list[str]) -> dict[str, Any]:
        """What a trace records about this dataset: `sha256` identifies the dataset as the manifest lists
        it, `files` gives, for each of `files` (paths or final names) the answer read, the sha256 of the
        bytes actually read (computed when they were verified, or recorded by the artefact built from them)."""
        return {"dataset": self.id, "vintage": self.vintage, "sha256": self.sha256, "source": self.source,
                "files": file_provenance(self, files)}


@dataclass(kw_only=True)
class Manifest:
    manifest_version: int
    datasets: list[Dataset]

    def get(self, dataset_id: str) -> Dataset:
        for d in self.datasets:
            if d.id == dataset_id:
                return d
        known = ", ".join(d.id for d in self.datasets)
        raise DataIntegrityError(f"dataset « {dataset_id} » absent du manifeste (connus : {known})")


class _Refused(ValueError):
    """A manifest row that does not have the shape above (the message is French and names the place)."""


_EXPECTED = {str: "un texte attendu", int: "un entier attendu", bool: "vrai ou faux attendu", dict: "une table attendue",
             list: "une liste attendue", dt.date: "une date AAAA-MM-JJ attendue"}


def _value(raw: dict, key: str, kind: type, where: str, *, required: bool = True, optional: bool = False,
           default: Any = None) -> Any:
    """raw[key] checked to be of `kind` (a date may be written as ISO text); `optional`: None is allowed."""
    if key not in raw:
        if required:
            raise _Refused(f"{where} : champ « {key} » manquant")
        return default
    value = raw[key]
    if value is None and optional:
        return None
    if kind is dt.date and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    elif isinstance(value, kind) and not (kind is int and isinstance(value, bool)) \
            and not (kind is dt.date and isinstance(value, dt.datetime)):
        return value
    raise _Refused(f"{where} : champ « {key} » : {_EXPECTED[kind]}, pas {value!r}")


def _rows(raw: dict, key: str, where: str, *, required: bool = True) -> list[dict]:
    rows = _value(raw, key, list, where, required=required, default=[])
    for k, row in enumerate(rows):
        if not isinstance(row, dict):
            raise _Refused(f"{where} : « {key} » n° {k + 1} : une table attendue, pas {row!r}")
    return rows


def _validity(raw: dict, where: str) -> Validity:
    fields = dict(territory=_value(raw, "territory", str, where), valid_from=_value(raw, "from", dt.date, where),
                  valid_to=_value(raw, "to", dt.date, where, required=False, optional=True),
                  legal_basis=_value(raw, "legal_basis", str, where),
                  confirmed=_value(raw, "confirmed", bool, where, required=False, default=True),
                  note=_value(raw, "note", str, where, required=False, optional=True))
    try:
        return Validity(**fields)
    except ValueError as exc:  # the dates' order
        raise _Refused(f"{where} : {exc}") from None


_DATASET_FIELDS = ("id", "kind", "vintage", "title", "source", "licence", "crs", "coverage", "validity", "caveats", "files")


def _dataset(raw: dict, where: str) -> Dataset:
    where = f"{where} « {raw.get('id', '?')} »"
    caveats = _value(raw, "caveats", list, where, required=False, default=[])
    if not all(isinstance(c, str) for c in caveats):
        raise _Refused(f"{where} : champ « caveats » : une liste de textes attendue")
    return Dataset(
        id=_value(raw, "id", str, where), kind=_value(raw, "kind", str, where), vintage=_value(raw, "vintage", str, where),
        title=_value(raw, "title", str, where), source=_value(raw, "source", str, where),
        licence=_value(raw, "licence", str, where), crs=_value(raw, "crs", str, where, required=False, optional=True),
        coverage=_value(raw, "coverage", dict, where, required=False, optional=True),
        validity=[_validity(v, f"{where}, validité n° {k + 1}") for k, v in enumerate(_rows(raw, "validity", where, required=False))],
        caveats=caveats,
        files=[DataFile(path=_value(f, "path", str, w), sha256=_value(f, "sha256", str, w), bytes=_value(f, "bytes", int, w))
               for k, f in enumerate(_rows(raw, "files", where)) for w in [f"{where}, fichier n° {k + 1}"]],
        extra={k: v for k, v in raw.items() if k not in _DATASET_FIELDS})


def _read_manifest(raw: Any) -> Manifest:
    """The manifest's YAML document as entries, or _Refused saying what is wrong where."""
    if not isinstance(raw, dict):
        raise _Refused("le document n'est pas une table")
    return Manifest(manifest_version=_value(raw, "manifest_version", int, "manifeste"),
                    datasets=[_dataset(d, f"dataset n° {k + 1}") for k, d in enumerate(_rows(raw, "datasets", "manifeste"))])


@functools.lru_cache(maxsize=4)
def _load_manifest(path: Path) -> Manifest:
    if not path.exists():
        raise DataIntegrityError(f"manifeste introuvable : {path}")
    pin = MANIFEST_SHA256  # read at call time: tests pin other manifests
    data = integrity.read(Source(path, pin, "manifest.yaml (somme épinglée dans le moteur)"))  # its bytes hash to `pin`
    document = _snapshot_read(pin)
    parsed = document is None
    try:
        if parsed:
            document = _parse_yaml(data)
        manifest_ = _read_manifest(document)
    except Exception as exc:  # yaml or the entries' shape: either way the manifest cannot be trusted
        raise DataIntegrityError(f"manifeste illisible ({path}) : {exc}") from exc
    if parsed:
        _snapshot_write(pin, document)
    return manifest_


def _parse_yaml(data: bytes) -> Any:
    import yaml  # here: a process that finds the manifest's snapshot never imports it

    return yaml.load(data.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C: several times faster


# The manifest's YAML, parsed, is kept as JSON in the cache, keyed by the manifest's sha256: every later process
# reads it there instead of importing and running a YAML parser (~15 ms of every command's start). Derived data,
# as the geography cache's entries: an xxh3 checksum against damage, written only for a manifest that was read
# whole; anything amiss, and the YAML is parsed again.


def _snapshot_path(sha256: str) -> Path:
    return cache_dir() / "manifest" / f"{sha256}.json"


def _snapshot_read(sha256: str) -> Any:
    try:
        digest, _, text = _snapshot_path(sha256).read_bytes().partition(b"\n")
        if digest.decode("ascii") != xxhash.xxh3_128_hexdigest(text):
            return None
        return json.loads(text, object_hook=_dates_back)
    except (OSError, ValueError):  # absent, unreadable, damaged: parsed from the YAML again
        return None


def _snapshot_write(sha256: str, document: Any) -> None:
    """Kept only when JSON gives the very same document back (YAML has values JSON has not: times, keys that
    are not text)."""
    try:
        text = json.dumps(document, ensure_ascii=False, default=_date_tag).encode("utf-8")
        if json.loads(text, object_hook=_dates_back) != document:
            return
    except (TypeError, ValueError):
        return
    try:
        path = _snapshot_path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(xxhash.xxh3_128_hexdigest(text).encode("ascii") + b"\n" + text)
        os.replace(tmp, path)
    except OSError:  # a cache that cannot be written: the next process parses the YAML again
        pass


def _date_tag(value: Any) -> dict:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return {"$date": value.isoformat()}
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _dates_back(obj: dict) -> Any:
    return dt.date.fromisoformat(obj["$date"]) if obj.keys() == {"$date"} else obj


def manifest() -> Manifest:
    return _load_manifest(_manifest_path(os.environ.get("QPV_DATA_DIR")))


@functools.lru_cache(maxsize=8)
def _manifest_path(data_dir_setting: str | None) -> Path:
    """The manifest's path for a value of QPV_DATA_DIR: a trace asks for datasets several times per row, and
    building the path each time cost more than the lookup itself."""
    return data_dir() / "manifest.yaml"


def manifest_sha256() -> str:
    """sha256 of the manifest's bytes as the engine reads them: they are refused unless they hash to the
    pinned value, so once `manifest()` has loaded, that value is the one read."""
    manifest()
    return MANIFEST_SHA256


def dataset(dataset_id: str) -> Dataset:
    return manifest().get(dataset_id)


def source(dataset_id: str, filename: str | None = None) -> Source:
    """A dataset's file (the first one if `filename` is None) with the sha256 the manifest vouches for.

    `filename` may be the file's relative path or just its final name.
    """
    ds = dataset(dataset_id)
    if filename is None:
        entry = ds.files[0]
    else:
        # rsplit, not Path(...).name: the same last component, without building a Path per file (a batch
        # asks for each département's communes file among a hundred)
        matches = [f for f in ds.files if f.path == filename or f.path.rsplit("/", 1)[-1] == filename]
        if not matches:
            raise DataIntegrityError(f"fichier « {filename} » absent du dataset {dataset_id}")
        entry = matches[0]
    return _source(entry)


def _source(entry: DataFile) -> Source:
    return Source(data_dir() / entry.path, entry.sha256, entry.path)


def check_file(entry: DataFile) -> Path:
    """Return the file's path once its bytes hash to the manifest's sha256, else raise DataIntegrityError.

    No stamp shortcut: a file read directly is hashed on every read (cost: docs/reliability.md)."""
    src = _source(entry)
    integrity.verify(src)
    return src.path


def verified_path(dataset_id: str, filename: str | None = None) -> Path:
    """Path of a dataset's file, hashed now and checked against the manifest. Prefer `open_verified`,
    which parses the very bytes that were hashed."""
    src = source(dataset_id, filename)
    integrity.verify(src)
    return src.path


def verified_bytes(dataset_id: str, filename: str | None = None) -> bytes:
    """The bytes of a dataset's file, checked against the manifest's sha256 before they are returned."""
    return integrity.read(source(dataset_id, filename))


def open_verified(dataset_id: str, filename: str | None = None, *, text: bool = True) -> IO:
    """A file object over the verified bytes (gzip decompressed when the name ends in .gz)."""
    src = source(dataset_id, filename)
    stream: IO = io.BytesIO(integrity.read(src))
    if src.label.endswith(".gz"):
        stream = gzip.GzipFile(fileobj=stream)
    return io.TextIOWrapper(stream, encoding="utf-8") if text else stream


def file_provenance(ds: Dataset, files: list[str]) -> list[dict[str, str]]:
    """{path, sha256} of each of `files` in `ds`, the sha256 being that of the bytes actually read (a file
    not read yet in this process is hashed now: the value cited is always computed, never copied)."""
    out = []
    for f in ds.files:
        if f.path in files or Path(f.path).name in files:
            src = _source(f)
            out.append({"path": f.path, "sha256": integrity.seen(src.path) or integrity.verify(src)})
    return out


def vouch(label: str) -> Source | None:
    """The Source the manifest vouches for, by its path relative to the data folder (None: not listed)."""
    for ds in manifest().datasets:
        for f in ds.files:
            if f.path == label:
                return _source(f)
    return None


def verify_all() -> list[dict[str, Any]]:
    """Rehash every file (no stamp shortcut). One row per file: dataset, path, ok, message."""
    rows = []
    for ds in manifest().datasets:
        for f in ds.files:
            try:
                check_file(f)
                rows.append({"dataset": ds.id, "path": f.path, "ok": True, "message": "ok"})
            except DataIntegrityError as exc:
                rows.append({"dataset": ds.id, "path": f.path, "ok": False, "message": str(exc)})
    return rows
