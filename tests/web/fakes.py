"""FakeEngine: a test double with the methods of `eligibility.web.engine.DomainEngine`.

It answers from a tiny invented world (one square quartier near Montauban) so that the web layer's
own logic (parsing, errors, limits, pages, attestations) is tested apart from the domains. Tests
that need the real engine use `DomainEngine` directly.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import time

SQUARE = (1.35, 44.0, 1.36, 44.01)  # lon_min, lat_min, lon_max, lat_max
QUARTIER = {"code": "QN08299Z", "name": "Quartier d'essai", "communes": [{"code": "82121", "name": "Montauban"}]}


class FakeEngine:
    def __init__(self, data_sha: str = "a" * 64, rules_sha: str = "b" * 64, delay_s: float = 0.0):
        self.data_sha, self.rules_sha, self.delay_s = data_sha, rules_sha, delay_s
        self.calls: list[tuple] = []

    def locate(self, lon, lat, date):
        self.calls.append(("locate", lon, lat, date))
        if self.delay_s:
            time.sleep(self.delay_s)
        inside = SQUARE[0] <= lon <= SQUARE[2] and SQUARE[1] <= lat <= SQUARE[3]
        return {
            "status": "inside" if inside else "outside",
            "quartier": QUARTIER if inside else None,
            "commune": {"code": "82121", "name": "Montauban"},
            "vintage": "QP2024",
            "legal_basis": "Décret n° 2023-1314 du 28 décembre 2023",
            "distance_to_boundary_m": 123.4,
            "carreau": "CRS3035RES200mN2345600E3612200",
            "trace": {"date": (date or dt.date(2025, 1, 1)).isoformat(), "input": {"lon": lon, "lat": lat},
                      "data": [{"dataset": "fake-qp", "vintage": "QP2024", "sha256": self.data_sha, "source": "test"}]},
        }

    def locate_address(self, address, date):
        if "introuvable" in address:
            return {"status": "undetermined", "reason": "adresse introuvable", "quartier": None, "commune": None,
                    "vintage": None, "legal_basis": None, "distance_to_boundary_m": None, "carreau": None, "trace": {}}
        return self.locate(1.355, 44.005, date)

    def geocode(self, address):
        return {"address": address, "lon": 1.355, "lat": 44.005, "score": 0.9}

    def quartiers(self, commune=None, departement=None, epci=None, vintage=None):
        return {"quartiers": [dict(QUARTIER, vintage="QP2024")]}

    def quartier(self, code, date):
        from eligibility.errors import BadInput

        if code != QUARTIER["code"]:
            raise BadInput(f"quartier inconnu « {code} »", field="code")
        x0, y0, x1, y1 = SQUARE
        return dict(QUARTIER, vintage="QP2024", in_force=True,
                    geometry={"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]})

    def nearby(self, lon, lat, date, radius_m):
        q = self.quartier(QUARTIER["code"], date)
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"code": q["code"], "name": q["name"]}, "geometry": q["geometry"]}]}

    def dispositifs(self):
        return [{"id": "emplois-francs", "title": "Emplois francs"}]

    def _check(self, dispositif):
        from eligibility.web.problems import WebError

        if dispositif != "emplois-francs":
            raise WebError(404, f"dispositif inconnu « {dispositif} »", "dispositif")

    def facts_schema(self, dispositif):
        self._check(dispositif)
        return SCHEMA

    def evaluate(self, dispositif, facts, date):
        self._check(dispositif)
        self.calls.append(("evaluate", dispositif, facts, date))
        if "contract.type" not in facts:
            return {"outcome": "undetermined", "amounts": {}, "reasons": [], "missing_inputs": ["contract.type"], "trace": {"facts": facts}}
        if facts["contract.type"] != "CDI":
            return {"outcome": "not_eligible", "amounts": {}, "missing_inputs": [], "trace": {"facts": facts},
                    "reasons": [{"rule": "emplois-francs", "condition": "contrat", "label": "Type de contrat",
                                 "message": "Le contrat doit être un CDI (dans ce faux moteur).",
                                 "legal_reference": {"text": "Décret n° 2019-1471", "article": "art. 5", "confirmed": False}}]}
        return {"outcome": "eligible", "amounts": {"total": 15000.0, "currency": "EUR"}, "reasons": [], "missing_inputs": [], "trace": {"facts": facts}}

    def explain(self, decision):
        return f"Explication du faux moteur : {decision['outcome']}"

    def batch_locate(self, path, date):
        assert path.suffix == ".csv" and path.stem == "televersement"
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
        if rows and not {"lon", "lat"} <= set(rows[0]):
            from eligibility.errors import BadInput

            raise BadInput("colonnes lon et lat attendues", field="file")

        def chunks():
            yield b"row,status,quartier_code\n"
            for i, r in enumerate(rows, 1):
                a = self.locate(float(r["lon"]), float(r["lat"]), date)
                yield f"{i},{a['status']},{(a['quartier'] or {}).get('code', '')}\n".encode()
            yield f"{len(rows)},complete,\n".encode()  # the end row of the real stream (docs/web.md)

        return chunks()

    def batch_evaluate(self, dispositif, path, date):
        self._check(dispositif)
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
        return iter([b"row,outcome\n"] + [f"{i},{self.evaluate(dispositif, r, date)['outcome']}\n".encode() for i, r in enumerate(rows, 1)]
                    + [f"{len(rows)},complete\n".encode()])

    def versions(self):
        return {"engine": "qpv test", "rules": [{"file": "emplois_francs.yaml", "sha256": self.rules_sha}]}


SCHEMA = {
    "$defs": {
        "Place": {"properties": {"lon": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                                 "lat": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                                 "quartier_code": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                                 "address": {"anyOf": [{"type": "string"}, {"type": "null"}]}}, "type": "object"},
        "Contract": {"properties": {
            "type": {"anyOf": [{"enum": ["CDI", "CDD"], "type": "string"}, {"type": "null"}], "description": "Type de contrat de travail"},
            "signature_date": {"anyOf": [{"format": "date", "type": "string"}, {"type": "null"}], "description": "Date de signature"},
            "duration_months": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 600}, {"type": "null"}], "description": "Durée (mois)"},
            "hours": {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "Heures"}},
            "type": "object"},
        "Employee": {"properties": {
            "residence": {"anyOf": [{"$ref": "#/$defs/Place"}, {"type": "null"}], "description": "Lieu de résidence du salarié"},
            "on_staff": {"anyOf": [{"type": "boolean"}, {"type": "null"}], "description": "Déjà dans l'effectif"}},
            "type": "object"},
    },
    "properties": {"contract": {"anyOf": [{"$ref": "#/$defs/Contract"}, {"type": "null"}]},
                   "employee": {"anyOf": [{"$ref": "#/$defs/Employee"}, {"type": "null"}]}},
    "type": "object",
}


def fail_second_chunk(monkeypatch, rows_per_chunk: int) -> None:
    """Make the real engine's streamed batches fail on their second chunk (after the first rows were sent)."""
    from eligibility.batch import runner
    from eligibility.web import engine as web_engine

    monkeypatch.setattr(web_engine, "STREAM_CHUNK_ROWS", rows_per_chunk)
    process = runner.process_chunk

    def failing(job, fmt, chunk):
        if chunk.index == 1:
            raise RuntimeError("disque plein")
        return process(job, fmt, chunk)

    monkeypatch.setattr(runner, "process_chunk", failing)
