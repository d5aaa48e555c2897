"""What every command shares: error handling, JSON output, parsing of common options.

Contract (DESIGN.md): with --json a command prints exactly one JSON object on stdout; errors go to
stderr with exit code 2 for bad input and 1 for internal failure, never a traceback
(set QPV_DEBUG=1 to see one).
"""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from eligibility.errors import BadInput, DataIntegrityError, OutputIntegrityError, RegisterUnavailable, RuleFileError, \
    os_reason

# Re-exported for the command modules: the engine's input parsing and its deterministic JSON encoder.
from eligibility.inputs import parse_date, parse_float  # noqa: F401
from eligibility.jsonio import load_user_json, to_json

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
        except (RegisterUnavailable, OutputIntegrityError) as exc:
            fail(str(exc), EXIT_INTERNAL)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the contract forbids tracebacks on stderr
            if os.environ.get("QPV_DEBUG"):
                raise
            fail(f"erreur interne ({type(exc).__name__}) : {exc}", EXIT_INTERNAL)

    return wrapper


def emit(obj: Any, as_json: bool, render_text: Callable[[Any], str]) -> None:
    if as_json:
        click.echo(to_json(obj))
    else:
        click.echo(render_text(obj))


def read_facts(path: str, field: str = "--facts") -> dict:
    """The facts JSON object of `path` (or standard input for « - »), shared by `qpv evaluate|explain` and
    `qpv attest --dispositif`: an unreadable file, malformed JSON or a non-object is a BadInput naming `field`.
    Validation against the rule's schema is the engine's job (`evaluate`)."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else "pas de l'UTF-8"
        raise BadInput(f"fichier de faits illisible : {reason}", field=field) from None
    facts = load_user_json(text, field)
    if not isinstance(facts, dict):
        raise BadInput("le fichier de faits doit contenir un objet JSON", field=field)
    return facts
