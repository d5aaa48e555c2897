"""Recording what is served: the question each answer was given for, recorded before the answer leaves.

`RecordingEngine` wraps the web service's engine: `evaluate`, `locate` and `locate_address` record their
answer, and the batch uploads (`batch_locate`, `batch_evaluate`, `batch_page`) one entry per input row (with the question the attestation of that answer would carry, so its identifier is the one a
printed attestation shows). An attestation is recorded once, as an attestation: its builders compute
through `answering(engine)` (the engine without recording) and call `recorded(engine, att)`.
If the register cannot write, RegisterUnavailable propagates: no answer without its entry.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from . import entries as E


def locate_question(date: dt.date | None, *, lon=None, lat=None, address=None, x=None, y=None,
                    tolerance_m: float | None = None) -> dict[str, Any]:
    """The question of a locate answer, as `pages.attestation_for` writes it (other keys only when used)."""
    used = date or dt.date.today()
    q: dict[str, Any] = {"kind": "locate", "date": used.isoformat(), "date_given": date is not None}
    if address is not None:
        q["address"] = address.strip()
    elif x is not None:
        q["x"], q["y"], q["crs"] = float(x), float(y), "EPSG:2154"
    else:
        q["lon"], q["lat"] = float(lon), float(lat)
    if tolerance_m is not None:  # absent: each perimeter file's own tolerance (twice its declared precision)
        q["tolerance_m"] = float(tolerance_m)
    return q


def evaluate_question(dispositif: str, facts: dict[str, Any], date: dt.date | None) -> dict[str, Any]:
    """The question of a decision, as `pages.evaluation_attestation_for` writes it."""
    from ..web.attestation import flat_facts

    return {"kind": "evaluate", "dispositif": dispositif, "facts": flat_facts(facts),
            "date": date.isoformat() if date else None}


class RecordingEngine:
    """The service's engine, recording every evaluation and located answer it gives."""

    def __init__(self, inner, register, channel: str = "service"):
        self.inner, self.register, self.channel = inner, register, channel

    def __getattr__(self, name):  # everything else (quartiers, geocode, batch…) is the inner engine's
        return getattr(self.inner, name)

    def versions(self) -> dict[str, Any]:
        """The inner engine's versions, remembered while the rule files keep their size and mtime."""
        from ..paths import rules_dir

        key = E.file_stamps(sorted(p for p in rules_dir().rglob("*.yaml") if p.is_file()))
        if getattr(self, "_versions_key", None) != key:
            self._versions, self._versions_key = self.inner.versions(), key
        return self._versions

    def record(self, question: dict[str, Any], answer: dict[str, Any], served: str = "answer") -> dict[str, Any]:
        entry = E.build(question, answer, self.versions(), served=served, channel=self.channel)
        return self.register.append([entry])[0]

    def evaluate(self, dispositif: str, facts: dict, date: dt.date | None) -> dict[str, Any]:
        answer = self.inner.evaluate(dispositif, facts, date)
        self.record(evaluate_question(dispositif, facts, date), answer)
        return answer

    def locate(self, lon: float, lat: float, date: dt.date | None) -> dict[str, Any]:
        answer = self.inner.locate(lon, lat, date)
        self.record(locate_question(date, lon=lon, lat=lat), answer)
        return answer

    def locate_address(self, address: str, date: dt.date | None) -> dict[str, Any]:
        answer = self.inner.locate_address(address, date)
        self.record(locate_question(date, address=address), answer)
        return answer


    # Files sent to the service: one entry per input row, each chunk's entries appended before its lines leave.
    # The register is checked first, so that one that cannot be reached is a 503 before any byte.
    def _recorder(self):
        from .batch import chunk_recorder

        self.register.ping()
        return chunk_recorder(self.register, self.versions())

    def batch_locate(self, path, date):
        return self.inner.batch_locate(path, date, on_chunk=self._recorder())

    def batch_evaluate(self, dispositif, path, date):
        return self.inner.batch_evaluate(dispositif, path, date, on_chunk=self._recorder())

    def batch_page(self, kind, path, date):
        return self.inner.batch_page(kind, path, date, on_chunk=self._recorder())


def answering(engine):
    """The engine that computes an attestation's answer: not recorded on its own (the attestation is)."""
    return engine.inner if isinstance(engine, RecordingEngine) else engine


def recorded(engine, att: dict[str, Any]) -> dict[str, Any]:
    """Record an attestation about to be served (when the engine records) and return it."""
    if isinstance(engine, RecordingEngine):
        entry = E.build(att["question"], att["answer"], {k: v for k, v in att["versions"].items() if k != "datasets"},
                        served="attestation", channel=engine.channel)
        engine.register.append([entry])
    return att
