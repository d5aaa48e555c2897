"""The resume journal: which chunks are done, where the next one starts, and proof of each part.

Layout, beside the output file: `.OUT.qpv-parts/journal.jsonl` and one part file per chunk. The first
journal line is the job's signature (input file, options, data and rule versions); then one line per
finished chunk, appended only after its part is safely on disk (written to a temporary name, fsynced,
renamed). A process killed at any instant leaves at worst a torn last line or an orphan part: both
are dropped on `--resume`, and that chunk is simply done again. So a resumed job ends with the same
bytes as an uninterrupted one.

On this machine the process that answered a chunk writes its part under the temporary name itself
(`write_part`, checksumming the bytes it holds) and hands back only a `WrittenPart`: the batch process then
fsyncs, renames and journals it, without receiving, writing or checksumming the bytes. A Dask worker, which may
be another machine, hands back the bytes, and the journal writes them the same way.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput
from .direct_io import write_file
from .sinks import fsync_replace, part_checksum


@dataclass(frozen=True)
class WrittenPart:
    """A part written to `<name>.tmp` in the journal's folder, not yet fsynced; `checksum` of the bytes written."""

    name: str
    checksum: str


def part_name(kind: str, chunk_index: int) -> str:
    """`part-00000007`, `traces-00000007`: the file of chunk 7's output or traces in the journal's folder."""
    return f"{kind}-{chunk_index:08d}"


def write_part(folder: Path, name: str, data: bytes) -> WrittenPart:
    """`data` to `folder/<name>.tmp`, checksummed from memory: the journal fsyncs and renames it (`Journal.record`)."""
    write_file(folder / f"{name}.tmp", data)
    return WrittenPart(name, part_checksum(data))


class Journal:
    def __init__(self, out: Path, signature: dict, resume: bool):
        self.dir = out.with_name(f".{out.name}.qpv-parts")
        self.path = self.dir / "journal.jsonl"
        self.signature = signature
        self.entries: list[dict] = []
        self.resumed = False
        if resume and self.path.exists():
            self._reopen()
        else:
            if self.dir.exists():
                shutil.rmtree(self.dir)
            self.dir.mkdir(parents=True)
            self._append({"signature": signature})

    def _reopen(self) -> None:
        raw = self.path.read_bytes()
        lines, sizes = [], []
        for line in raw.split(b"\n")[:-1]:  # the bytes after the last newline are a torn write
            try:
                lines.append(json.loads(line))
            except ValueError:
                break
            sizes.append(len(line) + 1)
        if not lines or lines[0].get("signature") != self.signature:
            raise BadInput("reprise impossible : le fichier d'entrée ou les options ont changé depuis le travail "
                           "interrompu ; relancez sans --resume pour tout recalculer", field="--resume")
        kept = 1
        for entry in lines[1:]:
            if entry.get("chunk") != kept - 1 or not self._part_ok(entry):
                break
            self.entries.append(entry)
            kept += 1
        good_len = sum(sizes[:kept])
        with open(self.path, "rb+") as f:
            f.truncate(good_len)
        self.resumed = bool(self.entries)

    def _part_ok(self, entry: dict) -> bool:
        # a journal of an earlier version recorded another hash (no `checksum`): its parts are done again
        for name, digest in ((entry["part"], entry.get("checksum")), (entry.get("traces"), entry.get("traces_checksum"))):
            if name is None:
                continue
            p = self.dir / name
            if not p.exists() or part_checksum(p.read_bytes()) != digest:
                return False
        return True

    def _append(self, obj: dict) -> None:
        with open(self.path, "ab") as f:
            f.write(json.dumps(obj, ensure_ascii=False).encode() + b"\n")
            f.flush()
            os.fsync(f.fileno())

    def _write(self, name: str, data: bytes | WrittenPart) -> str:
        """The part safely on disk under `name` (its bytes, or the temporary file a worker wrote): its checksum."""
        written = data if isinstance(data, WrittenPart) else write_part(self.dir, name, data)
        fsync_replace(self.dir / f"{name}.tmp", self.dir / name)
        return written.checksum

    def record(self, chunk_index: int, first_row: int, rows: int, next_pos: dict, counts: dict,
               notes: list[str], part: bytes | WrittenPart, traces: bytes | WrittenPart | None) -> None:
        entry = {"chunk": chunk_index, "first_row": first_row, "rows": rows, "next": next_pos, "counts": counts,
                 "notes": notes,
                 "part": part_name("part", chunk_index), "checksum": None, "traces": None, "traces_checksum": None}
        entry["checksum"] = self._write(entry["part"], part)
        if traces is not None:
            entry["traces"] = part_name("traces", chunk_index)
            entry["traces_checksum"] = self._write(entry["traces"], traces)
        self._append(entry)
        self.entries.append(entry)

    def parts(self) -> list[tuple[Path, str]]:
        """(part file, the checksum recorded when it was written), in chunk order: assembly re-checks them."""
        return [self.part(e) for e in self.entries]

    def part(self, entry: dict) -> tuple[Path, str]:
        return self.dir / entry["part"], entry["checksum"]

    def trace_parts(self) -> list[tuple[Path, str]]:
        return [self.trace_part(e) for e in self.entries if e.get("traces")]

    def trace_part(self, entry: dict) -> tuple[Path, str]:
        return self.dir / entry["traces"], entry["traces_checksum"]

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
