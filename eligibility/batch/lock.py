"""One writer per output file. A job holds an exclusive lock on `.OUT.qpv-lock`, beside the output, from
before it opens its journal until its output is in place; a second job on the same output is refused
(BadInput, exit 2) with the description of the job that holds it. Two jobs on one `-o` used to share the
parts folder and could assemble a silently mixed file.

The lock is `flock(2)`: the kernel releases it when its holder dies, even by SIGKILL, so `--resume` after
a crash never finds a stale lock; the description left in the file is then simply overwritten.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import BadInput, os_reason


def lock_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.qpv-lock")


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        info = {}
    if not info:
        return "un traitement qui démarre"
    return (f"« {info.get('job', 'qpv batch')} {info.get('input', '')} », processus {info.get('pid')} sur "
            f"{info.get('host')}, commencé le {info.get('started')}")


@contextmanager
def output_lock(out: Path, job: str, input_path: Path) -> Iterator[None]:
    """Hold the output's lock for the duration of the block, or refuse naming the job that holds it."""
    path = lock_path(out)
    try:  # the output's folder is made as the job's parts folder always was (`-o résultats/sortie.csv`)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BadInput(f"dossier de sortie inutilisable « {path.parent} » : {os_reason(exc)}", field="-o") from None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise BadInput(f"un autre traitement écrit déjà ce fichier : {holder} ; attendez sa fin ou choisissez "
                           "un autre fichier de sortie", field="-o") from None
        try:  # a job that just finished removed the file we opened: lock the new one instead
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")  # the lock file only, never an output
        info = {"job": job, "input": str(input_path), "pid": os.getpid(), "host": socket.gethostname(),
                "started": started}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info, ensure_ascii=False).encode(), 0)
        yield
    finally:
        try:
            os.unlink(path)  # while still locked: a job waiting on this inode sees it is gone and retries
        except FileNotFoundError:
            pass
        os.close(fd)
