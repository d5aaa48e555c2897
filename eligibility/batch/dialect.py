"""What a French CSV file looks like: encoding, separator, header.

Files come from spreadsheets as they are: `;` or `,` (or tab) separators, UTF-8 with or without a BOM,
or Windows-1252 / Latin-1 from older Excel exports. We look at the first megabyte, decide once, and
tell the user what we decided (`CsvDialect.describe`).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput

SAMPLE_BYTES = 1 << 20
CANDIDATE_SEPARATORS = (";", ",", "\t", "|")
_SEPARATOR_NAMES = {";": "point-virgule « ; »", ",": "virgule « , »", "\t": "tabulation", "|": "barre « | »"}
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class CsvDialect:
    encoding: str            # codec used to decode the data lines
    encoding_label: str      # what we tell the user
    separator: str
    header: tuple[str, ...]
    data_offset: int         # byte offset of the first data line (after BOM and header)

    def describe(self) -> str:
        return (f"CSV, séparateur {_SEPARATOR_NAMES[self.separator]}, encodage {self.encoding_label}, "
                f"{len(self.header)} colonnes")

    def to_json(self) -> dict:
        return {"format": "csv", "separator": self.separator, "encoding": self.encoding_label,
                "columns": list(self.header)}


_ACCENTED = re.compile("[^\x00-\x7f\ufffd]")


def _encoding(sample: bytes) -> tuple[str, str, int]:
    """(codec, label, bytes to skip). UTF-8 if the sample decodes as UTF-8, else Windows-1252/Latin-1."""
    if sample.startswith(_BOM):
        return "utf-8", "UTF-8 (avec BOM)", len(_BOM)
    cut = sample.rfind(b"\n") + 1 if len(sample) == SAMPLE_BYTES else len(sample)  # no half character
    text = sample[: cut or len(sample)].decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    # UTF-8 when the sample decodes, or when it holds at least as many valid accented characters as invalid
    # bytes: a UTF-8 file with one stray byte keeps its « é » (that row becomes an error row, `records.py`)
    # instead of being read whole as Windows-1252, which would silently turn every « é » into « Ã© ». In a
    # real Windows-1252 file every accent is an invalid byte and valid UTF-8 pairs are rare.
    if not broken or len(_ACCENTED.findall(text)) >= broken:
        return "utf-8", "UTF-8", 0
    try:
        sample[: cut or len(sample)].decode("cp1252")
        return "cp1252", "Windows-1252 (Latin-1 d'Excel)", 0
    except UnicodeDecodeError:
        return "latin-1", "Latin-1 (ISO-8859-1)", 0


def _count_outside_quotes(line: str, sep: str) -> int:
    inside, n = False, 0
    for ch in line:  # header line only: a few hundred characters at most
        if ch == '"':
            inside = not inside
        elif ch == sep and not inside:
            n += 1
    return n


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _not_text(sample: bytes, path: Path) -> None:
    """Refuse, saying why, what is not a CSV text file: UTF-16 (Excel's « texte Unicode »), binary data,
    old Mac line ends (a lone \r ends every line: the whole file would be one header line)."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadInput("fichier en UTF-16 (« texte Unicode ») : enregistrez-le en « CSV UTF-8 »", field=str(path))
    head = sample[: sample.find(b"\n") if b"\n" in sample else len(sample)]
    start = sample[:4096].decode("latin-1")
    # control characters in the header, or more than 1 % of the first 4 kB (a few NUL-led cells are data)
    if _CONTROL.search(head.decode("latin-1")) or len(_CONTROL.findall(start)) > max(8, len(start) / 100):
        raise BadInput("fichier binaire ou illisible : ce n'est pas un fichier CSV texte (caractères de contrôle "
                       "au début du fichier)", field=str(path))
    if b"\r" in head.rstrip(b"\r"):
        raise BadInput("retour chariot (\\r) seul en fin de ligne (ancien format Mac) : le fichier se lit comme une "
                       "seule ligne ; enregistrez-le en CSV avec des fins de ligne Windows ou Unix", field=str(path))


def sniff(path: Path) -> CsvDialect:
    """Detect encoding, separator and header of a CSV file, or BadInput saying why it cannot be read."""
    with open(path, "rb") as f:
        sample = f.read(SAMPLE_BYTES)
    _not_text(sample, path)
    codec, label, skip = _encoding(sample)
    end = sample.find(b"\n", skip)
    if end < 0:
        end = len(sample)
    header_bytes = sample[skip:end]
    header_line = header_bytes.decode(codec, errors="replace").rstrip("\r")
    if not header_line.strip():
        raise BadInput("fichier vide ou première ligne vide : la première ligne doit porter les noms de colonnes",
                       field=str(path))
    if header_line.count('"') % 2:
        raise BadInput("guillemet non refermé dans la ligne d'en-tête", field=str(path))
    counts = {sep: _count_outside_quotes(header_line, sep) for sep in CANDIDATE_SEPARATORS}
    separator = max(CANDIDATE_SEPARATORS, key=lambda s: counts[s])  # ties: the order above (French first)
    if counts[separator] == 0:
        separator = ","
    header = tuple(h.strip() for h in next(csv.reader(io.StringIO(header_line), delimiter=separator)))
    empty = [i + 1 for i, h in enumerate(header) if not h]
    if empty:
        raise BadInput(f"nom de colonne vide dans l'en-tête (colonne n° {empty[0]})", field=str(path))
    seen: set[str] = set()
    for h in header:
        if h in seen:
            raise BadInput(f"colonne « {h} » présente deux fois dans l'en-tête", field=str(path))
        seen.add(h)
    offset = end + 1 if end < len(sample) else end
    return CsvDialect(codec, label, separator, header, offset)
