"""The one deterministic JSON encoder of the project: same object, same bytes.

Used by the CLI (`--json`), the batch traces and the web API, so the three give identical bytes.
It lives in the engine (not in `qpv_cli`) because the engine must not depend on the command line.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(obj: Any) -> str:
    """Deterministic JSON: same object, same bytes (keys keep their insertion order; NaN refused)."""
    return json.dumps(obj, ensure_ascii=False, default=_json_default, allow_nan=False)


_JSON_PROBLEMS = {  # the json module's messages are English
    "Expecting value": "valeur attendue",
    "Expecting property name enclosed in double quotes": "nom de champ entre guillemets doubles attendu",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendus",
    "Extra data": "texte en trop après l'objet JSON",
    "Unterminated string starting at": "chaîne de caractères non refermée",
    "Invalid control character at": "caractère de contrôle interdit dans une chaîne",
    "Invalid \\escape": "séquence d'échappement invalide",
}


def json_problem(exc: json.JSONDecodeError) -> str:
    """What is wrong in a malformed JSON text, in French (say where with exc.lineno and exc.colno)."""
    return _JSON_PROBLEMS.get(exc.msg, "syntaxe JSON invalide")
