"""The web layer's one door into the engine: each method calls the domain function that the matching
CLI command calls, so an endpoint returns the same JSON object as `qpv … --json`.

Domain modules are imported inside the methods (they are heavy, and the service starts before the
first question). Tests hand `create_app` another object with the same methods.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .. import __version__
from ..errors import BadInput
from ..paths import rules_dir
from .problems import WebError


def _today() -> dt.date:
    return dt.date.today()


class DomainEngine:
    """The real engine: geography, rules, addresses and batch packages."""

    # --- geography -----------------------------------------------------------------------------
    def locate(self, lon: float, lat: float, date: dt.date | None) -> dict[str, Any]:
        from ..geography import locate_points

        return locate_points([lon], [lat], date or _today()).row(0)

    def locate_address(self, address: str, date: dt.date | None) -> dict[str, Any]:
        from ..addresses import locate_addresses

        return locate_addresses([address], date or _today()).row(0)

    def geocode(self, address: str) -> dict[str, Any]:
        from ..addresses import geocode

        return geocode([address]).row(0)

    def quartiers(self, commune=None, departement=None, epci=None, vintage=None) -> dict[str, Any]:
        from ..geography import list_quartiers

        return {"quartiers": list_quartiers(commune=commune, departement=departement, epci=epci, vintage=vintage)}

    def quartier(self, code: str, date: dt.date | None) -> dict[str, Any]:
        """`quartier_in_force` plus the perimeter (repaired, WGS 84) as a GeoJSON geometry."""
        import shapely

        from ..geography import quartier_in_force
        from ..geography.perimeters import load

        out = dict(quartier_in_force(code, date or _today()))
        per = load(out["dataset"]["dataset"])
        out["geometry"] = json.loads(shapely.to_geojson(per.geometry[per.position(out["code"])], indent=None))
        return out

    def nearby(self, lon: float, lat: float, date: dt.date | None, radius_m: float) -> dict[str, Any]:
        """GeoJSON FeatureCollection of the perimeters in force at `date` within about `radius_m` of the point."""
        import shapely

        from ..geography import quartier_in_force
        from ..geography.perimeters import PERIMETER_DATASETS, load

        when = date or _today()
        # A box in degrees is enough to pick perimeters for a map (one metre ≈ 1/111 320 degree of latitude).
        dlat = radius_m / 111_320.0
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        box = shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)
        features = []
        for ds_id in PERIMETER_DATASETS:
            per = load(ds_id)
            for i in np.flatnonzero(shapely.intersects(per.geometry, box)):
                q = quartier_in_force(str(per.code[i]), when)
                if q["in_force"]:
                    features.append({"type": "Feature", "properties": {"code": q["code"], "name": q["name"], "vintage": q["vintage"]},
                                     "geometry": json.loads(shapely.to_geojson(per.geometry[i]))})
        return {"type": "FeatureCollection", "features": features}

    # --- rules ---------------------------------------------------------------------------------
    def dispositifs(self) -> list[dict[str, str]]:
        from ..rules import load_rules

        return [{"id": r.id, "title": r.title} for r in load_rules().values() if r.kind == "dispositif"]

    def _check_dispositif(self, dispositif: str) -> None:
        known = [d["id"] for d in self.dispositifs()]
        if dispositif not in known:
            raise WebError(404, f"dispositif inconnu « {dispositif} » (connus : {', '.join(known)})", "dispositif")

    def facts_schema(self, dispositif: str) -> dict[str, Any]:
        from ..rules import facts_schema

        self._check_dispositif(dispositif)
        return facts_schema(dispositif)

    def evaluate(self, dispositif: str, facts: dict, date: dt.date | None) -> dict[str, Any]:
        from ..rules import evaluate

        self._check_dispositif(dispositif)
        return evaluate(dispositif, facts, date=date).to_json()

    # --- batch ---------------------------------------------------------------------------------
    def batch_locate(self, path: Path, date: dt.date | None) -> Iterator[bytes]:
        from ..batch.jobs import LocateJob

        return _stream_job(lambda renamed: LocateJob(renamed, date=date), path)

    def batch_evaluate(self, dispositif: str, path: Path, date: dt.date | None) -> Iterator[bytes]:
        from ..batch.evaluate import EvaluateJob

        self._check_dispositif(dispositif)
        return _stream_job(lambda renamed: EvaluateJob(dispositif, renamed, date=date), path)

    # --- versions ------------------------------------------------------------------------------
    def versions(self) -> dict[str, Any]:
        """Engine version and the sha256 of every rule file: an attestation cites them."""
        files = sorted(p for p in rules_dir().rglob("*.yaml") if p.is_file())
        rules = [{"file": p.relative_to(rules_dir()).as_posix(), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p in files]
        return {"engine": f"qpv {__version__}", "rules": rules}


def require_text(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        raise BadInput("valeur manquante", field=field)
    return value.strip()


# Rows per streamed chunk: small enough for the page's progress bar to move, large enough to stay vectorised.
STREAM_CHUNK_ROWS = 5_000


def _stream_job(job_factory, path: Path) -> Iterator[bytes]:
    """`qpv batch`'s unit of work (`process_chunk`: same job, same parsing, same encoding, one output row
    per input row), streamed chunk by chunk instead of assembled into a file. File-level errors
    (missing columns, no date) are raised here, before the first byte."""
    from ..batch import open_source
    from ..batch.columns import apply_map
    from ..batch.runner import process_chunk
    from ..batch.sinks import csv_header, output_format

    source = open_source(path)
    try:
        job = job_factory(apply_map(source.columns, {}))
    except BadInput as exc:
        if exc.field == "--date":  # the command line's option is the form's `date` field here
            raise BadInput(exc.detail, field="date") from None
        raise
    fmt = output_format(Path("resultats.csv"), source)

    def chunks() -> Iterator[bytes]:
        yield csv_header(job.columns, fmt)
        for chunk in source.chunks(STREAM_CHUNK_ROWS):
            yield process_chunk(job, fmt, chunk)[1]

    return chunks()
