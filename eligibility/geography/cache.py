"""On-disk cache of derived geometry (repaired, projected perimeters, grids, contours).

Entries are keyed by the sha256 of the datasets they come from, so a changed file can never be
served from a stale cache. Writes are atomic (temp file + rename): parallel test workers or two
commands building the same entry at once each produce a whole file, and the last rename wins.

Each entry carries its own metadata (array `__meta__`): the checksum of its arrays (xxh3-128: the entry is
derived data, so the checksum guards against damage, as a CRC would, not against whoever can rewrite the file and
its recorded checksum alike) and, for each source file, the sha256 of the bytes it was built from with the file's
stat stamp. On load the arrays are
rehashed and compared; a source is rehashed unless its stamp is unchanged (`integrity.check_input`).
An unreadable entry (truncated, CRC error), one whose arrays were rewritten, or one built from other
bytes is rebuilt once, with a message; if the rebuild fails, the command refuses (DataIntegrityError).
"""
from __future__ import annotations

import functools
import hashlib
import io
import json
import mmap
import os
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import shapely
import xxhash

from .. import integrity
from ..errors import DataIntegrityError
from ..integrity import Source
from ..paths import cache_dir

CACHE_VERSION = "geo-3"  # bump when the layout or the derivation of a cached entry changes (geo-3: members
# aligned for mapping, xxh3-128 checksum)
META = "__meta__"


def key(*parts: str) -> str:
    return hashlib.sha256("\n".join((CACHE_VERSION,) + parts).encode()).hexdigest()[:16]


def _path(name: str, digest: str) -> Path:
    folder = cache_dir() / "geography" / CACHE_VERSION  # entries of older layouts are never read
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}-{digest}.npz"


def pack_geoms(geoms: np.ndarray, name: str = "geom") -> dict[str, np.ndarray]:
    """Geometries as one WKB byte blob plus offsets (npz stores it without pickle)."""
    wkb = shapely.to_wkb(geoms)
    lengths = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
    return {f"{name}_blob": np.frombuffer(b"".join(wkb), dtype=np.uint8),
            f"{name}_offsets": np.concatenate([[0], np.cumsum(lengths)])}


_RAGGED_TYPES = (0, 1, 3, 4, 5, 6)  # point, line, polygon and their multi-: what shapely's ragged arrays hold


def pack_coordinates(geoms: np.ndarray, name: str = "geom") -> dict[str, np.ndarray]:
    """Geometries of one type as shapely's ragged arrays (every coordinate, then the offsets of rings, parts
    and geometries): `unpack_geoms` builds them back about 7x faster than from WKB (0.02 against 0.12 CPU s
    for the 35,000 communes a large batch loads before forking its workers). Empty geometries are held (no
    coordinates); geometries of mixed types, or any that would not come back identical (checked here, WKB against
    WKB), are packed as WKB."""
    types = shapely.get_type_id(geoms)
    if len(geoms) and (types == types[0]).all() and types[0] in _RAGGED_TYPES and not shapely.has_z(geoms).any():
        kind, coords, offsets = shapely.to_ragged_array(geoms)
        if list(shapely.to_wkb(shapely.from_ragged_array(kind, coords, offsets))) == list(shapely.to_wkb(geoms)):
            # one integer array (each array of an entry costs a header to parse when loaded): the type, how many
            # offset arrays, their lengths, then the offset arrays
            head = [int(kind), len(offsets)] + [len(o) for o in offsets]
            return {f"{name}_coords": coords,
                    f"{name}_parts": np.concatenate([np.array(head, np.int64)] + [np.asarray(o, np.int64) for o in offsets])}
    return pack_geoms(geoms, name)


def unpack_geoms(arrays, name: str = "geom") -> np.ndarray:
    """The geometries of `pack_geoms` or `pack_coordinates`."""
    if f"{name}_coords" in arrays:
        return shapely.from_ragged_array(*_ragged(arrays, name))
    blob = arrays[f"{name}_blob"].tobytes()
    off = arrays[f"{name}_offsets"]
    return shapely.from_wkb([blob[off[i]:off[i + 1]] for i in range(len(off) - 1)])


def _ragged(arrays, name: str) -> tuple[shapely.GeometryType, np.ndarray, tuple[np.ndarray, ...]]:
    """(type, coordinates, offset arrays) of `pack_coordinates`' arrays, as `shapely.from_ragged_array` takes them."""
    parts = arrays[f"{name}_parts"]
    kind, count = int(parts[0]), int(parts[1])
    ends = 2 + count + np.cumsum(parts[2:2 + count])
    offsets = tuple(parts[end - n:end] for n, end in zip(parts[2:2 + count].tolist(), ends.tolist()))
    return shapely.GeometryType(kind), arrays[f"{name}_coords"], offsets


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The integers of the ranges [starts[i], starts[i] + counts[i]), one after the other."""
    return np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))


class PackedGeometries:
    """The geometries of `pack_coordinates`, each made into a shapely object the first time it is asked for
    (`take`), then kept. A large batch's exact commune tests meet about a third of the 35,000 communes in each
    worker; making them all cost the batch process ~50 ms before it could start its workers. Their envelopes
    (`bounds`) come from the coordinates, without making any. Geometries packed as WKB are made at once."""

    def __init__(self, arrays, name: str = "geom"):
        if f"{name}_bounds" in arrays:  # stored with the geometries (`bounds` is then read, not computed)
            self.__dict__["bounds"] = arrays[f"{name}_bounds"]
        if f"{name}_coords" in arrays:
            self._kind, self._coords, self._offsets = _ragged(arrays, name)
            count = len(self._offsets[-1]) - 1 if self._offsets else len(self._coords)
            self._made, self._done = np.full(count, None, dtype=object), np.zeros(count, bool)
        else:  # WKB: all made now
            self._made = unpack_geoms(arrays, name)
            self._done = np.ones(len(self._made), bool)

    @classmethod
    def made(cls, geoms: np.ndarray) -> "PackedGeometries":
        """Geometries already made (their bounds from GEOS when asked for)."""
        out = cls.__new__(cls)
        out._made, out._done = np.asarray(geoms, dtype=object), np.ones(len(geoms), bool)
        return out

    def __len__(self) -> int:
        return len(self._made)

    def take(self, which: np.ndarray) -> np.ndarray:
        """The geometries `which` (indices; an object array of the same shapely objects at every call)."""
        which = np.asarray(which, dtype=np.int64)
        missing = ~self._done[which]
        if missing.any():
            wanted = np.zeros(len(self), bool)  # (not np.unique: its first call imports numpy.ma, ~9 ms)
            wanted[which[missing]] = True
            new = np.flatnonzero(wanted)
            sel, offsets = new, []
            for off in reversed(self._offsets):  # geometries -> parts -> rings -> coordinates
                starts, counts = off[sel], off[sel + 1] - off[sel]
                offsets.append(np.concatenate([[0], np.cumsum(counts)]))
                sel = _ranges(starts, counts)
            if len(sel):
                self._made[new] = shapely.from_ragged_array(self._kind, self._coords[sel], tuple(reversed(offsets)))
            else:  # only empty geometries (which shapely's reader refuses alone)
                self._made[new] = list(shapely.from_wkt([f"{self._kind.name} EMPTY"] * len(new)))
            self._done[new] = True
        return self._made[which]

    def prepared(self, which: np.ndarray) -> np.ndarray:
        """`take`, each geometry prepared (indexed for point tests) the first time: in place, so once per geometry."""
        geoms = self.take(which)
        shapely.prepare(geoms)
        return geoms

    def all(self) -> np.ndarray:
        return self.take(np.arange(len(self)))

    @property
    def coordinate_count(self) -> int:
        if hasattr(self, "_coords"):  # (points: an empty one is a row of NaN)
            return len(self._coords) if self._offsets else int(np.count_nonzero(~np.isnan(self._coords[:, 0])))
        return int(shapely.get_num_coordinates(self._made).sum())

    @functools.cached_property
    def bounds(self) -> np.ndarray:
        """(xmin, ymin, xmax, ymax) of each geometry, as `shapely.bounds` gives them (GEOS's envelope: the extremes
        of its coordinates; NaN for an empty one)."""
        if not hasattr(self, "_coords"):
            return shapely.bounds(self._made)
        edge = np.arange(len(self) + 1)
        for off in reversed(self._offsets):
            edge = off[edge]
        start, end = edge[:-1], edge[1:]
        out = np.full((len(self), 4), np.nan)
        some = np.flatnonzero(end > start)
        if len(some):  # geometries hold consecutive runs of coordinates: one reduction per run
            at = start[some]
            for col, (reduce, axis) in enumerate(((np.minimum, 0), (np.minimum, 1), (np.maximum, 0), (np.maximum, 1))):
                out[some, col] = reduce.reduceat(self._coords[:, axis], at)
        return out


DIGEST = "xxh3_128"  # the metadata key of the arrays' checksum


def arrays_digest(arrays: dict[str, np.ndarray]) -> str:
    """xxh3-128 of an entry's content: every array's name, dtype, shape and bytes, in name order. Every load
    hashes the whole entry (a large batch ~100–200 MB before it forks its workers): xxh3 runs at ~18 GB/s
    where sha256 ran at ~1.7 GB/s on this machine (0.16 s of the default locate's serial start)."""
    h = xxhash.xxh3_128()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(memoryview(a.reshape(-1)).cast("B"))  # the array's own buffer: no copy
    return h.hexdigest()


class DamagedEntry(Exception):
    """A cache entry that cannot be used as it is (the reason is French, for the rebuild message)."""


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz, each a view of the file mapped in memory (copy-on-write: writable, and the file is
    never changed), or, for a member whose bytes are not aligned for its dtype, read into a new array.

    `np.savez` stores every array uncompressed: a zip member is a .npy header, then the array's raw bytes. Mapping
    the file skips what `np.load` adds (the whole file read into memory, a copy of every member out of the archive
    and the zip's CRC-32 over it), and what reading into fresh arrays costs: a page fault and a zeroed page per 4 KB
    of a large batch's ~100–200 MB of indexes, in the batch process before it forks its workers. The pages are the
    page cache's own, shared by every process that maps them. `_write` aligns every member (`_ALIGN`); entries
    written by `np.savez` elsewhere are read all the same (copied where unaligned). Nothing is checked less:
    `load_entry` compares the entry's checksum, which covers the name, dtype, shape and every byte of every array."""
    arrays = {}
    with open(path, "rb") as f:
        with zipfile.ZipFile(f) as zf:  # the central directory only
            members = zf.infolist()
        size = os.fstat(f.fileno()).st_size  # not empty: the zip's directory was read
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    for info in members:
        if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
            raise ValueError(f"membre inattendu : {info.filename}")
        local = mapped[info.header_offset:info.header_offset + 30]  # the member's local header
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise ValueError("en-tête de membre absent")
        start = info.header_offset + 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
        if start + info.file_size > size:
            raise ValueError("membre tronqué")
        arrays[info.filename[:-4]] = _npy_array(mapped, start, info.file_size)
    return arrays


def _npy_array(mapped, start: int, size: int) -> np.ndarray:
    """The array of the .npy file of `size` bytes at `start` in the mapped file: a view of its bytes when they are
    aligned for its dtype, else a copy. Object arrays are refused, as np.load(allow_pickle=False) refuses them."""
    prefix = mapped[start:start + 12]  # magic (6 bytes), version (2), header length (2 bytes in 1.0, else 4)
    width = 2 if prefix[6:7] == b"\x01" else 4
    length = min(8 + width + int.from_bytes(prefix[8:8 + width], "little"), size)
    header = io.BytesIO(mapped[start:start + length])  # the header only: no copy of the array's first bytes
    major, _ = np.lib.format.read_magic(header)
    read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read_header(header)
    if dtype.hasobject:
        raise ValueError("tableau d'objets")
    data = start + header.tell()
    count = int(np.prod(shape, dtype=np.int64))
    if count * dtype.itemsize != start + size - data:
        raise ValueError("membre tronqué")
    if count == 0:
        flat = np.empty(0, dtype=dtype)
    elif data % max(dtype.alignment, 1) == 0:
        flat = np.frombuffer(mapped, dtype=dtype, count=count, offset=data)
    else:
        flat = np.frombuffer(mapped, dtype=dtype, count=count, offset=data).copy()
    return flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape)


def load_entry(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, metadata) of an entry whose arrays hash to the checksum its metadata records."""
    try:
        arrays = _read_arrays(path)
        meta = json.loads(arrays.pop(META).tobytes().decode("utf-8"))
    except KeyError:
        raise DamagedEntry("sans métadonnées d'intégrité") from None
    except Exception as exc:  # noqa: BLE001 - zip, CRC, zlib, numpy or JSON: unreadable either way
        raise DamagedEntry("illisible (archive tronquée ou endommagée)") from exc
    actual = arrays_digest(arrays)
    if meta.get(DIGEST) != actual:
        raise DamagedEntry(integrity.mismatch_message(path.name, str(meta.get(DIGEST) or "?"), actual))
    return arrays, meta


def _check_sources(meta: dict, sources: Sequence[Source]) -> None:
    recorded = {r.get("label"): r for r in meta.get("inputs") or []}
    if set(recorded) != {s.label for s in sources}:
        raise DamagedEntry("construit à partir d'autres fichiers")
    for src in sources:
        if not integrity.check_input(src, recorded[src.label]):
            raise DamagedEntry(f"construit à partir d'autres octets que {src.label}")


_ALIGN = 64  # where each member's array bytes start in an entry: a multiple of any dtype's alignment
_ALIGN_EXTRA_ID = 0xD935  # the zip extra field Android's zipalign pads with (ignored by every reader)


def _savez_aligned(f, arrays: dict[str, np.ndarray]) -> None:
    """What `np.savez` writes (an uncompressed zip of .npy members, that np.load reads), with each member's array
    bytes starting at a multiple of `_ALIGN` in the file: its local header padded with an extra field, so that
    `_read_arrays` can use the mapped bytes in place."""
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            array = np.asanyarray(array)
            npy = io.BytesIO()
            np.lib.format.write_array(npy, array, allow_pickle=False)
            header = npy.getbuffer().nbytes - array.nbytes  # the .npy header: what precedes the array's bytes
            info = zipfile.ZipInfo(f"{name}.npy")  # stored, not compressed: ZipInfo's default
            data_at = f.tell() + 30 + len(info.filename.encode()) + 4 + header  # with an empty padding field
            pad = -data_at % _ALIGN
            info.extra = _ALIGN_EXTRA_ID.to_bytes(2, "little") + pad.to_bytes(2, "little") + bytes(pad)
            zf.writestr(info, npy.getbuffer())


def _write(path: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    blob = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            _savez_aligned(f, {**arrays, META: blob})
        os.replace(tmp, path)
    except OSError:  # a read-only or full cache only costs a rebuild next time
        try:
            os.unlink(tmp)
        except OSError:
            pass


def cached(name: str, digest: str, build: Callable[[], dict[str, np.ndarray]], *,
           sources: Sequence[Source]) -> dict[str, np.ndarray]:
    """Load the entry `name`/`digest`, or build it from `sources` (the files it is derived from, each
    hashed before the build), store it atomically and return it."""
    path = _path(name, digest)
    if path.exists():
        try:
            arrays, meta = load_entry(path)
            _check_sources(meta, sources)
            return arrays
        except DamagedEntry as why:
            integrity.notice(f"cache dérivé {path.name} {why} : reconstruit à partir des données de référence")
    inputs = [integrity.input_record(src) for src in sources]  # a corrupted source refuses here, before any parse
    arrays = build()
    meta = {"format": CACHE_VERSION, "name": name, "inputs": inputs, DIGEST: arrays_digest(arrays)}
    _write(path, arrays, meta)
    return arrays


def verify_entries(vouch: Callable[[str], Source | None],
                   elsewhere: Callable[[str, str], bool] = lambda label, sha256: False) -> list[dict]:
    """`qpv data verify`: every entry of the current layout, rehashed (arrays and sources, no stamp
    shortcut). `vouch(label)` gives the Source that vouches for an input (None: unknown). A damaged entry
    is removed, so that the next command rebuilds it. `elsewhere(label, sha256)`: an input this verification
    does not see (an imported layer of another layers folder); entries built from one are left alone and
    not listed (their key names the layer's own checksum: they can never answer for another file).
    One row per entry: path, ok, message."""
    folder = cache_dir() / "geography" / CACHE_VERSION
    rows = []
    for path in sorted(folder.glob("*.npz")) if folder.is_dir() else []:
        label = f"cache géographie {path.name}"
        try:
            _, meta = load_entry(path)
            inputs = [(rec, vouch(str(rec.get("label")))) for rec in meta.get("inputs") or []]
            if any(elsewhere(str(rec.get("label")), str(rec.get("sha256"))) for rec, _ in inputs):
                continue
            for rec, src in inputs:
                if src is None or rec.get("sha256") != src.sha256:
                    raise DamagedEntry(f"construit à partir d'un fichier que le manifeste ne garantit pas ({rec.get('label')})")
            for rec, src in inputs:
                integrity.verify(src)
            rows.append({"kind": "cache", "path": label, "ok": True, "message": "ok"})
        except DataIntegrityError as exc:  # the entry is whole, its source file is not: refused until it is restored
            rows.append({"kind": "cache", "path": label, "ok": False, "message": f"fichier source en erreur : {exc}"})
        except DamagedEntry as why:
            path.unlink(missing_ok=True)
            rows.append({"kind": "cache", "path": label, "ok": False,
                         "message": f"{why} : supprimé, reconstruit au prochain usage"})
    return rows

