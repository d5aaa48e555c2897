"""On-disk cache of derived geometry (repaired, projected perimeters, grids, contours).

Entries are keyed by the sha256 of the datasets they come from, so a changed file can never be
served from a stale cache. Writes are atomic (temp file + rename): parallel test workers or two
commands building the same entry at once each produce a whole file, and the last rename wins.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

from ..paths import cache_dir

CACHE_VERSION = "geo-1"  # bump when the layout or the derivation of a cached entry changes


def key(*parts: str) -> str:
    return hashlib.sha256("\n".join((CACHE_VERSION,) + parts).encode()).hexdigest()[:16]


def _path(name: str, digest: str) -> Path:
    folder = cache_dir() / "geography"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}-{digest}.npz"


def pack_geoms(geoms: np.ndarray, name: str = "geom") -> dict[str, np.ndarray]:
    """Geometries as one WKB byte blob plus offsets (npz stores it without pickle)."""
    wkb = shapely.to_wkb(geoms)
    lengths = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
    return {f"{name}_blob": np.frombuffer(b"".join(wkb), dtype=np.uint8),
            f"{name}_offsets": np.concatenate([[0], np.cumsum(lengths)])}


def unpack_geoms(arrays, name: str = "geom") -> np.ndarray:
    blob = arrays[f"{name}_blob"].tobytes()
    off = arrays[f"{name}_offsets"]
    return shapely.from_wkb([blob[off[i]:off[i + 1]] for i in range(len(off) - 1)])


def cached(name: str, digest: str, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Load the entry `name`/`digest`, or build it, store it atomically and return it."""
    path = _path(name, digest)
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError):
            pass  # a truncated or foreign file: rebuild it
    arrays = build()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return arrays
