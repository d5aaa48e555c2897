"""Content checks for every file an answer reads (reference data, imported layers, derived caches).

One rule: a file is hashed (streaming sha256) and compared with the checksum that vouches for it
before its bytes are parsed. `read` reads once and hashes the very bytes it returns, so
nothing can change between the check and the parse. The digest computed is remembered for the
process (`seen`), so traces and attestations cite the sha256 of the bytes actually used.

The only shortcut: a derived artefact (geography .npz, address index) records, for each input, the
sha256 it was built from and the input's stat stamp (size, mtime, ctime). The artefact carries its
own checksum, checked on load; an input whose stamp is unchanged is then not rehashed (the answer
comes from the artefact, built from bytes that were hashed). Any other file is hashed on every read.

Imported layers (QPV_LAYERS_DIR) use the same functions with their own `Source(path, sha256, label)`.
"""
from __future__ import annotations

import functools
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import DataIntegrityError

BLOCK = 1 << 20  # 1 MiB reads: the hash runs at memory speed without holding a whole file

# path (resolved, as text) -> sha256 of the bytes read and verified in this process
_seen: dict[str, str] = {}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Streaming sha256 of a file."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            h.update(block)
    return h.hexdigest()


def mismatch_message(label: str, expected: str, actual: str) -> str:
    """The one checksum message, for reference files, imported layers and derived caches alike."""
    return (f"somme de contrôle invalide pour {label} : attendue {expected[:12]}…, obtenue {actual[:12]}… "
            "— le fichier est corrompu ou a été modifié ; le moteur refuse de l'utiliser")


@dataclass(frozen=True)
class Source:
    """A file and the sha256 that vouches for it (the manifest's, an imported layer's)."""

    path: Path
    sha256: str
    label: str  # how messages and traces name it (its path relative to the data folder)


@functools.lru_cache(maxsize=4096)
def _key(path: str) -> str:
    """The resolved path a file's digest is kept under, resolved once per process (a large batch's three stacked
    communes entries each vouch for the same hundred files: ~45 µs a resolution)."""
    return str(Path(path).resolve())


def _remember(path: Path, digest: str) -> str:
    _seen[_key(str(path))] = digest
    return digest


def seen(path: Path) -> str | None:
    """The sha256 of `path`'s bytes as read and verified in this process (None if not read yet)."""
    return _seen.get(_key(str(path)))


def _unreadable(src: Source, exc: OSError) -> DataIntegrityError:
    if isinstance(exc, FileNotFoundError):
        return DataIntegrityError(f"fichier de référence manquant : {src.path}")
    return DataIntegrityError(f"fichier de référence illisible : {src.path} (errno {exc.errno})")


def verify(src: Source) -> str:
    """Hash the file (streaming) and return its sha256; DataIntegrityError if missing or different."""
    try:
        actual = sha256_file(src.path)
    except OSError as exc:
        raise _unreadable(src, exc) from None
    if actual != src.sha256:
        raise DataIntegrityError(mismatch_message(src.label, src.sha256, actual))
    return _remember(src.path, actual)


def read(src: Source) -> bytes:
    """The file's bytes, after checking their sha256: parse these, not the path."""
    try:
        data = Path(src.path).read_bytes()
    except OSError as exc:
        raise _unreadable(src, exc) from None
    actual = sha256_bytes(data)
    if actual != src.sha256:
        raise DataIntegrityError(mismatch_message(src.label, src.sha256, actual))
    _remember(src.path, actual)
    return data


def stamp(path: Path) -> list[int] | None:
    """(size, mtime, ctime, inode) of a file: a rewrite, a copy or a restore changes at least one."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def input_record(src: Source) -> dict:
    """Hash an input of a derived artefact now and return what the artefact records about it."""
    before = stamp(src.path)
    digest = verify(src)
    return {"label": src.label, "sha256": digest, "stamp": before if before == stamp(src.path) else None}


def check_input(src: Source, record: dict | None) -> bool:
    """An input of a derived artefact, on load. False: the artefact was built from other bytes (stale).
    Its digest must be the one vouched for; an unchanged stamp skips the rehash (the artefact was built
    from these hashed bytes and carries its own checksum), else the file is hashed (DataIntegrityError
    if it no longer matches)."""
    if not record or record.get("sha256") != src.sha256:
        return False
    if record.get("stamp") is not None and record["stamp"] == stamp(src.path):
        _remember(src.path, src.sha256)
        return True
    verify(src)
    return True


def notice(message: str) -> None:
    """Tell the person running the command (stderr: stdout stays the one JSON object of --json)."""
    print(f"Avertissement : {message}", file=sys.stderr, flush=True)
