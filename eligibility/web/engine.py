"""The web layer's one door into the engine: each method calls the domain function that the matching
CLI command calls, so an endpoint returns the same JSON object as `qpv … --json`.

Domain modules are imported inside the methods (they are heavy, and the service starts before the
first question). Tests hand `create_app` another object with the same methods.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, BinaryIO, Iterator

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
        from ..addresses import locate_address

        return locate_address(address, date or _today())

    def geocode(self, address: str) -> dict[str, Any]:
        from ..addresses import geocode

        return geocode(address)

    def quartiers(self, commune=None, departement=None, epci=None, vintage=None) -> dict[str, Any]:
        from ..geography import list_quartiers

        return {"quartiers": list_quartiers(commune=commune, departement=departement, epci=epci, vintage=vintage)}

    def quartier(self, code: str, date: dt.date | None) -> dict[str, Any]:
        """`quartier_in_force` plus the perimeter as a GeoJSON geometry."""
        from ..geography import perimeter_geojson, quartier_in_force

        when = date or _today()
        out = dict(quartier_in_force(code, when))
        out["geometry"] = perimeter_geojson(code, out.get("vintage"))
        return out

    def nearby(self, lon: float, lat: float, date: dt.date | None, radius_m: float) -> dict[str, Any]:
        """GeoJSON FeatureCollection of the perimeters in force within `radius_m` of the point."""
        from ..geography import perimeters_near

        return perimeters_near(lon, lat, date or _today(), radius_m)

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
    def batch_locate(self, src: BinaryIO, date: dt.date | None) -> Iterator[bytes]:
        from ..batch import stream_locate_csv

        return stream_locate_csv(src, date=date)

    def batch_evaluate(self, dispositif: str, src: BinaryIO, date: dt.date | None) -> Iterator[bytes]:
        from ..batch import stream_evaluate_csv

        self._check_dispositif(dispositif)
        return stream_evaluate_csv(dispositif, src, date=date)

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
