"""Errors the engine raises on purpose. The command line maps them to exit codes (DESIGN.md)."""
from __future__ import annotations


class QpvError(Exception):
    """Base class of the engine's own errors."""


class BadInput(QpvError, ValueError):
    """The caller's input is wrong (exit code 2). The message says what and where."""

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None):
        self.field = field
        self.row = row
        where = []
        if row is not None:
            where.append(f"ligne {row}")
        if field is not None:
            where.append(f"champ « {field} »")
        super().__init__(f"{', '.join(where)} : {message}" if where else message)
        self.detail = message


class DataIntegrityError(QpvError):
    """A reference data file is missing, corrupted or does not match its manifest (exit code 1)."""


class RuleFileError(QpvError):
    """A rule file is invalid. The message names the file, the rule and the field (exit code 2)."""


class RegisterUnavailable(QpvError):
    """The register of decisions cannot be read or written (unreachable server, full disk, lock held too
    long). Exit code 1; the service answers 503 rather than answer without recording."""
