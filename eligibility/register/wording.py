"""French words for register entries, shared by `qpv register` and the verification page."""
from __future__ import annotations

import functools

KIND_FR = {"dispositif": "décision", "locate": "localisation"}
SERVED_FR = {"answer": "réponse", "attestation": "attestation"}
CHANNEL_FR = {"service": "le service web", "cli": "la ligne de commande", "batch": "un traitement de fichier"}


def outcome_fr(kind: str, outcome: str) -> str:
    from ..decisions.render import OUTCOME_FR, STATUS_FR

    return (OUTCOME_FR if kind == "dispositif" else STATUS_FR).get(outcome, outcome)


@functools.lru_cache(maxsize=None)
def _titles() -> dict:
    try:
        from ..rules import load_rules

        return {r.id: r.model.title for r in load_rules().values()}
    except Exception:  # noqa: BLE001 - a listing still works without readable rules
        return {}


def subject_fr(e: dict) -> str:
    """What the entry is about: the dispositif's title, or « localisation »."""
    return _titles().get(e["dispositif"], e["dispositif"]) if e["kind"] == "dispositif" else "localisation"


def when_fr(stamp: str) -> str:
    return f"{stamp[8:10]}/{stamp[5:7]}/{stamp[:4]} à {stamp[11:16]} (UTC)"


def day_fr(day: str | None) -> str:
    return f"{day[8:10]}/{day[5:7]}/{day[:4]}" if day else "inconnue"
