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


# Facts are a few levels deep; a deeper document is refused before anything recurses over it
# (json, pydantic and the facts flattening would otherwise hit Python's recursion limit: an internal error).
MAX_JSON_DEPTH = 32


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:  # iterative: the check itself must not recurse
        obj, depth = stack.pop()
        children = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def load_user_json(text: str | bytes, field: str, what: str = "JSON") -> Any:
    """`json.loads` for what a user typed or sent (facts file, API body, column map): malformed JSON, bytes
    that are not UTF-8 and nesting deeper than MAX_JSON_DEPTH are a BadInput naming `field`, in French."""
    from .errors import BadInput

    too_deep = f"{what} trop imbriqué : plus de {MAX_JSON_DEPTH} niveaux d'objets ou de listes"
    try:
        value = json.loads(text)
    except UnicodeDecodeError:
        raise BadInput(f"{what} mal formé : pas de l'UTF-8", field=field) from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"{what} mal formé (ligne {exc.lineno}, colonne {exc.colno}) : {json_problem(exc)}",
                       field=field) from None
    except RecursionError:
        raise BadInput(too_deep, field=field) from None
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise BadInput(too_deep, field=field)
    return value


JSON_KINDS = {dict: "un objet", list: "une liste", str: "un texte", int: "un nombre", float: "un nombre",
              bool: "un booléen", type(None): "null"}


def json_kind(value: Any) -> str:
    """What a parsed JSON value is, in French (« une liste »), for messages that say what was received."""
    return JSON_KINDS.get(type(value), "une valeur")


def json_problem(exc: json.JSONDecodeError) -> str:
    """What is wrong in a malformed JSON text, in French (say where with exc.lineno and exc.colno)."""
    return _JSON_PROBLEMS.get(exc.msg, "syntaxe JSON invalide")
