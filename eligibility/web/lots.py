"""The batch page's files: real spreadsheets in, a French, Excel-ready CSV out.

The JSON API (`/api/batch/…`) returns the bytes of `qpv batch`. The page asks for more, for people who
open the result in Excel: their column names recognised in French (`adresse`, `longitude`, `code_postal`,
`date_signature`…), all their own columns kept, French column names, statuses, reasons and decisions,
the matched address and its score, `;` as separator, decimal commas and a UTF-8 BOM. The answers
themselves come from the same batch job (`eligibility.batch`), unchanged.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any, Iterator

from unidecode import unidecode

from ..errors import BadInput

BOM = "\ufeff"
SEPARATOR = ";"

# Input column names people use, normalised (lower case, no accents, "_" between words) -> our name.
LOCATE_ALIASES = {
    "lon": ("lon", "lng", "long", "longitude", "lon_wgs84", "longitude_wgs84", "x_wgs84"),
    "lat": ("lat", "latitude", "lat_wgs84", "latitude_wgs84", "y_wgs84"),
    "x": ("x", "x_lambert93", "x_l93", "coord_x"),
    "y": ("y", "y_lambert93", "y_l93", "coord_y"),
    "address": ("address", "adresse", "adresse_complete", "adresse_postale", "adresse_du_logement", "adresse_logement",
                "adresse_de_residence", "adresse_residence", "adresse_salarie", "adresse_du_salarie", "addr"),
    "numero": ("numero", "num", "no", "n", "numero_voie", "n_voie", "numero_de_voie"),
    "voie": ("voie", "rue", "nom_voie", "libelle_voie", "nom_de_la_voie", "nom_de_voie"),
    "code_postal": ("code_postal", "cp", "codepostal", "code_post", "postcode"),
    "commune": ("commune", "ville", "nom_commune", "nom_de_la_commune", "localite", "city"),
    "date": ("date", "date_signature", "date_de_signature", "date_effet", "date_d_effet", "date_reference",
             "date_de_reference", "date_question", "date_de_la_question"),
}

# Output columns: our names -> French names.
LOCATE_OUT = {"row": "ligne", "status": "statut", "reason": "motif", "quartier_code": "code_quartier",
              "quartier_name": "nom_quartier", "vintage": "liste_des_quartiers", "commune_code": "code_commune",
              "commune_name": "nom_commune", "departement": "departement", "region": "region",
              "distance_to_boundary_m": "distance_a_la_limite_m", "carreau": "carreau_insee", "error": "erreur"}
EVALUATE_OUT = {"row": "ligne", "outcome": "decision", "reasons": "conditions_non_remplies",
                "missing_inputs": "informations_manquantes", "ambiguities": "a_verifier", "error": "erreur"}
MATCH_COLUMNS = ("adresse_reconnue", "precision_adresse", "score_adresse")
# The batch job's end row (`stream_job(end_row=True)`), in the page's words: the page offers the file only
# after reading « fin : résultat complet » with the right count (static/lots.js), then cuts that row off.
END_OF_STREAM = {"complete": "fin : résultat complet", "incomplete": "fin : résultat incomplet"}
PLACE_PART_WORDS = {"address": "adresse", "lon": "longitude", "lat": "latitude", "quartier_code": "code du quartier"}


def normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", unidecode(str(name)).lower()).strip("_")


def recognise(columns: tuple[str, ...], aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """{input column: our name} for the columns whose name (or a usual variant) we know; each of our names
    is taken by the first column that claims it."""
    lookup = {normalise(a): ours for ours, names in aliases.items() for a in names}
    out: dict[str, str] = {}
    for col in columns:
        ours = lookup.get(normalise(col))
        if ours and ours not in out.values():
            out[col] = ours
    return out


def evaluate_aliases(text: dict[str, Any], accepted: list[str]) -> dict[str, tuple[str, ...]]:
    """For a dispositif: the dotted path itself, and the French header of the template, for each column."""
    from .forms import Field

    descriptions = text.get("descriptions") or {}
    out = {}
    for path in accepted:
        fact, _, part = path.rpartition(".") if path.rsplit(".", 1)[-1] in PLACE_PART_WORDS else (path, "", "")
        out[path] = (path, template_header(Field(fact, descriptions.get(fact, fact), "").short_label, part))
    return out


def template_header(label: str, part: str = "") -> str:
    return f"{label} ({PLACE_PART_WORDS[part]})" if part else label


def template_csv(headers: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=SEPARATOR, lineterminator="\r\n").writerow(headers)
    return (BOM + buf.getvalue()).encode("utf-8")


class FrenchRows:
    """Rewrites the batch job's CSV blocks: French names and words, matched addresses, `;` and decimal commas."""

    def __init__(self, separator: str, kept: list[str], renamed: dict[str, str], text: dict[str, Any] | None,
                 geocode_addresses: bool):
        from ..addresses.locate import REASONS_FR
        from ..decisions.render import STATUS_FR
        from ..geography.vintages import NOT_COVERED_REASONS

        self.separator, self.kept, self.renamed, self.text = separator, kept, renamed, text or {}
        self.geocode_addresses = geocode_addresses
        self.status = {**STATUS_FR, "near_boundary": "à vérifier : tout près d'une limite", "error": "erreur"}
        self.reasons = {**REASONS_FR, **NOT_COVERED_REASONS}
        self.header: list[str] | None = None
        self.counts: dict[str, int] = {}

    def _out_name(self, name: str) -> str:
        if name in self.kept:
            return name
        if name.startswith("amount."):
            label = (self.text.get("amounts") or {}).get(name[len("amount."):])
            return f"montant : {label}" if label else "montant " + name[len("amount."):].replace("_", " ")
        return LOCATE_OUT.get(name) or EVALUATE_OUT.get(name) or name

    def _words(self, name: str, value: str) -> str:
        from .wording import decision_verdict

        if not value:
            return value
        if name == "status":
            return self.status.get(value, value)
        if name == "reason":
            return self.reasons.get(value, value)
        if name == "outcome":
            return decision_verdict(value)["word"].capitalize()
        if name == "reasons":
            labels = self.text.get("conditions") or {}
            return " | ".join(labels.get(v.strip(), v.strip()) for v in value.split("|"))
        if name == "missing_inputs":
            names = self.text.get("short") or {}
            return " | ".join(names.get(v.strip(), v.strip()) for v in value.split("|"))
        if name == "ambiguities":
            from ..decisions.render import STATUS_FR

            names = self.text.get("short") or {}
            parts = [v.strip().rpartition(":") for v in value.split("|")]
            return " | ".join(f"{names.get(f, f)} : {STATUS_FR.get(s, s)}" for f, _, s in parts)
        if (name == "distance_to_boundary_m" or name.startswith("amount.")) and self.separator != ";":
            return value.replace(".", ",")
        return value

    def block(self, data: bytes, first: bool) -> str:
        text = data.decode("utf-8")
        if first and text.startswith(BOM):
            text = text[1:]
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=self.separator))
        if first:
            self.header, rows = rows[0], rows[1:]
        header = self.header or []
        matches = self._matches(header, rows) if self.geocode_addresses else None
        out = io.StringIO()
        w = csv.writer(out, delimiter=SEPARATOR, lineterminator="\r\n")
        if first:
            names = [self._out_name(n) for n in header]
            if matches is not None:
                at = names.index(LOCATE_OUT["status"])
                names[at:at] = list(MATCH_COLUMNS)
            w.writerow(names)
        key = "status" if "status" in header else "outcome"
        for i, row in enumerate(rows):
            if key in header and row[header.index(key)] in END_OF_STREAM:
                w.writerow(self._end_row(header, row, key, with_matches=matches is not None))
                continue
            words = [self._words(n, v) for n, v in zip(header, row)]
            if key in header:
                label = words[header.index(key)]
                self.counts[label] = self.counts.get(label, 0) + 1
            if matches is not None:
                at = header.index("status")
                words[at:at] = matches[i]
            w.writerow(words)
        return (BOM if first else "") + out.getvalue()

    @staticmethod
    def _end_row(header: list[str], row: list[str], key: str, with_matches: bool) -> list[str]:
        """The end row: the number of result rows before it, complete or not, and why not (`erreur`)."""
        out = ["" for _ in header]
        for name in ("row", "error"):
            out[header.index(name)] = row[header.index(name)]
        out[header.index(key)] = END_OF_STREAM[row[header.index(key)]]
        if with_matches:
            at = header.index("status")
            out[at:at] = [""] * len(MATCH_COLUMNS)
        return out

    def _matches(self, header: list[str], rows: list[list[str]]) -> list[list[str]]:
        """The address each row was matched to, its precision and score (the address domain's geocoder,
        on the row's own address columns)."""
        import pandas as pd

        from ..addresses import geocode
        from ..addresses.locate import compose_address
        from .wording import PRECISION_FR, number_words

        ours = {self.renamed[c]: c for c in self.kept if c in self.renamed}
        frame = pd.DataFrame({name: [r[header.index(col)] if col in header else "" for r in rows] for name, col in ours.items()},
                             dtype="str")
        if frame.empty:
            return [["", "", ""] for _ in rows]
        texts = compose_address(frame).fillna("").tolist()
        todo = [i for i, t in enumerate(texts) if t.strip()]
        out = [["", "", ""] for _ in rows]
        if todo:
            found = geocode([texts[i] for i in todo])
            for k, i in enumerate(todo):
                g = found.row(k)
                out[i] = [g["label"] or "non trouvée", PRECISION_FR.get(g["level"], "—"),
                          number_words(g["score"]) if g["score"] is not None else ""]
        return out


def french_stream(open_job, path: Path, kind: str, text: dict[str, Any] | None, accepted: list[str] | None,
                  date, chunk_rows: int, on_chunk=None) -> tuple[Iterator[bytes], dict[str, Any]]:
    """(blocks of the French CSV, what was recognised). `open_job(renamed, keep)` builds the batch job;
    `on_chunk` is the register's recorder (`batch.stream_job`)."""
    from ..batch import open_source, stream_job
    from ..batch.sinks import csv_format

    try:
        source = open_source(path)  # a file that is not CSV text or Parquet is refused here, as « fichier »
    except BadInput as exc:
        raise _for_the_page(exc, kind) from None
    aliases = LOCATE_ALIASES if kind == "locate" else evaluate_aliases(text or {}, accepted or [])
    renamed = recognise(source.columns, aliases)
    every = {c: renamed.get(c, c) for c in source.columns}
    try:
        taken = {name for name, _ in open_job(every, ()).columns}
        kept = [c for c in source.columns if c not in taken]  # all the user's columns, in their order
        job = open_job(every, tuple(kept))
    except BadInput as exc:
        raise _for_the_page(exc, kind) from None
    names = set(renamed.values())
    by_address = kind == "locate" and not ({"lon", "lat"} <= names or {"x", "y"} <= names)
    rows = FrenchRows(csv_format(source).separator, kept, renamed, text, by_address)
    info = {"recognised": {c: n for c, n in renamed.items() if normalise(c) != n}, "kept": kept,
            "read": source.describe() if hasattr(source, "describe") else ""}

    def blocks() -> Iterator[bytes]:
        for i, block in enumerate(stream_job(job, source, chunk_size=chunk_rows, end_row=True, on_chunk=on_chunk)):
            yield rows.block(block, first=(i == 0)).encode("utf-8")

    return blocks(), info


def _for_the_page(exc: BadInput, kind: str) -> BadInput:
    """The batch job's message, without the command line's options (the page has a date field, no --map)."""
    message = exc.detail.split(" ; --map", 1)[0].replace("l'option --date AAAA-MM-JJ", "la date pour toutes les lignes")
    if kind == "locate" and "colonnes de position absentes" in message:
        message += (" ; noms reconnus : adresse (ou numero, voie, code_postal, commune), longitude et latitude, "
                    "date (ou date_signature)")
    return BadInput(message, field="date" if exc.field == "--date" else "fichier")
