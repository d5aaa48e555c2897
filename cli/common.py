"""What every command shares: error handling, JSON output, parsing of common options.

Contract (DESIGN.md): with --json a command prints exactly one JSON object on stdout; errors go to
stderr with exit code 2 for bad input and 1 for internal failure, never a traceback
(set QPV_DEBUG=1 to see one).
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import sys
from typing import Any, Callable

import click

from eligibility.errors import BadInput, DataIntegrityError, RuleFileError

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1

json_option = click.option("--json", "as_json", is_flag=True, help="Une seule ligne JSON sur stdout.")


def fail(message: str, code: int) -> None:
    click.echo(f"Erreur : {message}", err=True)
    sys.exit(code)


def handle_errors(fn: Callable) -> Callable:
    """Map the engine's exceptions to the exit codes of the contract."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (BadInput, RuleFileError) as exc:
            fail(str(exc), EXIT_BAD_INPUT)
        except DataIntegrityError as exc:
            fail(f"données de référence refusées : {exc}", EXIT_INTERNAL)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the contract forbids tracebacks on stderr
            if os.environ.get("QPV_DEBUG"):
                raise
            fail(f"erreur interne ({type(exc).__name__}) : {exc}", EXIT_INTERNAL)

    return wrapper


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(obj: Any) -> str:
    """Deterministic JSON: same object, same bytes (keys keep their insertion order)."""
    return json.dumps(obj, ensure_ascii=False, default=_json_default, allow_nan=False)


def emit(obj: Any, as_json: bool, render_text: Callable[[Any], str]) -> None:
    if as_json:
        click.echo(to_json(obj))
    else:
        click.echo(render_text(obj))


def parse_date(value: str | None, field: str = "--date", default: dt.date | None = None) -> dt.date:
    """ISO date (YYYY-MM-DD) or a BadInput naming the option."""
    if value is None:
        if default is None:
            raise BadInput("date manquante", field=field)
        return default
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadInput(f"date invalide « {value} » : format attendu AAAA-MM-JJ (ISO 8601)", field=field) from None


def parse_float(value: str | float, field: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"nombre attendu, reçu « {value} »", field=field) from None
    if math.isnan(out) or math.isinf(out):
        raise BadInput(f"nombre fini attendu, reçu « {value} »", field=field)
    return out
