"""The web layer's one door into the engine: each method calls the domain function that the matching
CLI command calls, so an endpoint returns the same JSON object as `qpv … --json`.

Domain modules are imported inside the methods (they are heavy, and the service starts before the
first question). Tests hand `create_app` another object with the same methods.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Iterator

from ..errors import BadInput
from .problems import WebError


def _today() -> dt.date:
    return dt.date.today()


class DomainEngine:
    """The real engine: geography, rules, addresses and batch packages."""

    def warm_up(self) -> None:
        """Build or load the on-disk indexes once at start-up (a cold cache takes tens of seconds,
        more than one request's time limit), so the first question is answered as fast as the next."""
        from ..addresses import default_index
        from ..geography import locate_points
        from ..rules import load_rules

        locate_points([2.35], [48.85], _today())  # metropolitan index, communes of the point's département
        default_index()
        load_rules()

    # --- geography -----------------------------------------------------------------------------
    def locate(self, lon: float, lat: float, date: dt.date | None) -> dict[str, Any]:
        from ..geography import locate_answer, locate_points

        res = locate_points([lon], [lat], date or _today())
        return locate_answer(res, f"le point ({lon}, {lat})", date_given=bool(date))

    def locate_address(self, address: str, date: dt.date | None) -> dict[str, Any]:
        from ..addresses import locate_addresses
        from ..geography import locate_answer

        res = locate_addresses([address], [date or _today()])
        return locate_answer(res, f"l'adresse « {address} »", date_given=bool(date))

    def address_coverage(self) -> str | None:
        """The départements the bundled address index holds, in words (for the address field's hint)."""
        from ..addresses import default_index
        from .wording import index_coverage_words

        return index_coverage_words(default_index().provenance)

    def geocode(self, address: str) -> dict[str, Any]:
        from ..addresses import geocode

        return geocode([address]).row(0)

    def quartiers(self, commune=None, departement=None, epci=None, vintage=None) -> dict[str, Any]:
        from ..geography import list_quartiers

        return {"quartiers": list_quartiers(commune=commune, departement=departement, epci=epci, vintage=vintage)}

    def quartier(self, code: str, date: dt.date | None) -> dict[str, Any]:
        """`qpv quartiers show --json` plus the perimeter as a GeoJSON geometry."""
        from ..geography import perimeter_geojson, quartier_in_force

        out = dict(quartier_in_force(code, date or _today()))
        out["geometry"] = perimeter_geojson(out["code"])
        return out

    def commune_outline(self, code: str) -> dict[str, Any] | None:
        """The commune's outline (GeoJSON geometry, WGS 84) from the bundled contours, for the map."""
        from ..geography import commune_geojson

        return commune_geojson(code)

    def nearby(self, lon: float, lat: float, date: dt.date | None, radius_m: float) -> dict[str, Any]:
        from ..geography import perimeters_near

        return perimeters_near(lon, lat, date or _today(), radius_m)

    # --- rules ---------------------------------------------------------------------------------
    def dispositifs(self) -> list[dict[str, str]]:
        from ..rules import load_rules

        return [{"id": r.id, "title": r.model.title} for r in load_rules().values() if r.model.kind == "dispositif"]

    def _check_dispositif(self, dispositif: str) -> None:
        known = [d["id"] for d in self.dispositifs()]
        if dispositif not in known:
            raise WebError(404, f"dispositif inconnu « {dispositif} » (connus : {', '.join(known)})", "dispositif")

    def facts_schema(self, dispositif: str) -> dict[str, Any]:
        from ..rules import get_rule
        from ..rules.facts import json_schema

        self._check_dispositif(dispositif)
        return json_schema(get_rule(dispositif))

    def form_text(self, dispositif: str) -> dict[str, Any]:
        """What a form shows besides the schema: the French label of each enum value ({path: {code: label}})
        and the date the rule decides at (« date de signature du contrat de travail »)."""
        from ..rules import get_rule

        self._check_dispositif(dispositif)
        model = get_rule(dispositif).model
        return {"labels": {path: dict(f.labels) for path, f in model.facts.items() if f.labels},
                "descriptions": {path: f.description for path, f in model.facts.items()},
                "conditions": {c.id: c.label for c in model.conditions},
                "amounts": {a.id: a.label for a in model.amounts},
                "decision_date": model.decision_date.label if model.decision_date else None}

    def evaluate(self, dispositif: str, facts: dict, date: dt.date | None) -> dict[str, Any]:
        from ..rules.evaluator import evaluate_json

        self._check_dispositif(dispositif)
        return evaluate_json(dispositif, facts, date=date)

    def explain(self, decision: dict[str, Any]) -> str:
        """The decision and its full trace in readable French (what `qpv explain` prints)."""
        from ..decisions.render import render_text

        return render_text(decision, full_trace=True)

    # --- batch ---------------------------------------------------------------------------------
    # `on_chunk(job, chunk, traces)`: the register's recorder (`register.batch.chunk_recorder`); the jobs then
    # give each row's trace beside its line.
    def batch_locate(self, path: Path, date: dt.date | None, on_chunk=None) -> Iterator[bytes]:
        from ..batch import LocateJob

        return _stream_job(lambda renamed: LocateJob(renamed, date=date, traces=on_chunk is not None), path, on_chunk)

    def batch_page(self, kind: str, path: Path, date: dt.date | None, on_chunk=None) -> tuple[Iterator[bytes], dict[str, Any]]:
        """The batch page's French, Excel-ready CSV (`lots.french_stream`): `kind` is "locate" or a dispositif."""
        from ..batch import EvaluateJob, LocateJob
        from ..batch.evaluate import _accepted_columns
        from ..rules import get_rule
        from .lots import french_stream

        traces = on_chunk is not None
        if kind == "locate":
            return french_stream(lambda renamed, keep: LocateJob(renamed, date=date, keep=keep, traces=traces), path,
                                 "locate", None, None, date, STREAM_CHUNK_ROWS, on_chunk)
        text = self.form_text(kind)
        text["short"] = self._short_names(text)
        return french_stream(lambda renamed, keep: EvaluateJob(kind, renamed, date=date, keep=keep, traces=traces), path,
                             "evaluate", text, list(_accepted_columns(get_rule(kind))), date, STREAM_CHUNK_ROWS, on_chunk)

    @staticmethod
    def _short_names(text: dict[str, Any]) -> dict[str, str]:
        from .forms import Field

        return {path: Field(path, desc, "").short_label for path, desc in (text.get("descriptions") or {}).items()}

    def batch_template(self, kind: str) -> list[str]:
        """The column names of the batch page's template for a dispositif (French, one per fact or place part)."""
        from ..batch.evaluate import _accepted_columns
        from ..rules import get_rule
        from .lots import PLACE_PART_WORDS, template_header

        if kind == "locate":
            return ["identifiant", "adresse", "date"]
        short = self._short_names(self.form_text(kind))
        out = []
        for path in _accepted_columns(get_rule(kind)):
            fact, _, part = path.rpartition(".")
            out.append(template_header(short[fact], part) if part in PLACE_PART_WORDS and fact in short else short.get(path, path))
        return ["identifiant"] + out

    def batch_evaluate(self, dispositif: str, path: Path, date: dt.date | None, on_chunk=None) -> Iterator[bytes]:
        from ..batch import EvaluateJob

        self._check_dispositif(dispositif)
        return _stream_job(lambda renamed: EvaluateJob(dispositif, renamed, date=date, traces=on_chunk is not None), path,
                           on_chunk)

    # --- versions ------------------------------------------------------------------------------
    def versions(self) -> dict[str, Any]:
        """Engine version and the sha256 of every rule file: an attestation cites them. A rule's sha256 is
        that of the bytes its loaded (and used) version was parsed from, not a fresh read of the file; a rule not
        loaded is not parsed for it (`rules.loader.cited_versions`)."""
        from ..rules.loader import cited_versions

        return cited_versions()


# Rows per streamed chunk: small enough for the page's progress bar to move, large enough to stay vectorised.
STREAM_CHUNK_ROWS = 5_000


def _stream_job(job_factory, path: Path, on_chunk=None) -> Iterator[bytes]:
    """`qpv batch`'s CSV bytes (`eligibility.batch.stream_job`), streamed chunk by chunk instead of written to a
    file, then the end row that says the result is complete (or why it is not: docs/web.md). File-level errors
    (missing columns, no date) are raised here, before the first byte."""
    from ..batch import open_job, stream_job

    try:
        job, source = open_job(job_factory, path)
    except BadInput as exc:
        if exc.field == "--date":  # the command line's option is the form's `date` field here
            raise BadInput(exc.detail, field="date") from None
        if exc.field == str(path):  # the file as a whole: the upload's field, not the server's spool path
            raise BadInput(exc.detail, field="file") from None
        raise
    return stream_job(job, source, chunk_size=STREAM_CHUNK_ROWS, end_row=True, on_chunk=on_chunk)
