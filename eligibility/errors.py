"""Errors the engine raises on purpose. The command line maps them to exit codes (DESIGN.md)."""
from __future__ import annotations

import errno
import re

# What a message may quote of the user's input: control characters are shown as escapes (a terminal or a
# log must not interpret them), and a long value is cut (a 250 kB cell is not echoed back).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LONG_QUOTE = re.compile(r"« ([^»]{121,}?) »", re.S)
MAX_MESSAGE_CHARS = 2000


def _escape(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def shown(value, limit: int = 80) -> str:
    """A user's value as a message quotes it: control characters escaped, at most `limit` characters."""
    text = _escape(str(value))
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} caractères)"


def safe_message(message: str) -> str:
    """A message that quotes user input, made safe to print: escapes, long quoted values and the whole cut."""
    text = _LONG_QUOTE.sub(lambda m: f"« {shown(m.group(1))} »", _escape(message))
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "…"


_OS_REASONS = {errno.ENOENT: "fichier introuvable", errno.EISDIR: "c'est un dossier, pas un fichier",
               errno.EACCES: "permission refusée", errno.EPERM: "permission refusée",
               errno.ENOTDIR: "un élément du chemin n'est pas un dossier", errno.EROFS: "système de fichiers en lecture seule",
               errno.ENOSPC: "disque plein", errno.EEXIST: "un fichier de ce nom existe déjà"}


def os_reason(exc: OSError) -> str:
    """The French reason of an OSError (its strerror is English whatever the locale)."""
    return _OS_REASONS.get(exc.errno, f"erreur d'entrée-sortie (errno {exc.errno})")


class QpvError(Exception):
    """Base class of the engine's own errors."""


class BadInput(QpvError, ValueError):
    """The caller's input is wrong (exit code 2). The message says what and where."""

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None,
                 label: str | None = None):
        message = safe_message(message)
        field = None if field is None else shown(field, 120)
        self.field = field
        self.row = row
        self.label = label  # the field's French name, beside the key the user wrote
        where = []
        if row is not None:
            where.append(f"ligne {row}")
        if field is not None:
            where.append(field_words(field, label))
        super().__init__(f"{', '.join(where)} : {message}" if where else message)
        self.detail = message

    def __reduce__(self):  # from a worker process to the command: the same message, field and row
        return _bad_input, (self.detail, self.field, self.row, self.label)


def _bad_input(detail: str, field: str | None, row: int | None, label: str | None = None) -> BadInput:
    return BadInput(detail, field=field, row=row, label=label)


def field_words(field: str, label: str | None = None) -> str:
    """« champ « contract.type » (type de contrat) »: the key as the user wrote it, and its French name."""
    return f"champ « {field} »" + (f" ({label})" if label else "")


class DataIntegrityError(QpvError):
    """A reference data file is missing, corrupted or does not match its manifest (exit code 1)."""


class OutputIntegrityError(QpvError):
    """A batch part no longer matches the checksum its journal recorded: the output is not assembled (exit 1)."""


class RuleFileError(QpvError):
    """A rule file is invalid. The message names the file, the rule and the field (exit code 2)."""


class RegisterUnavailable(QpvError):
    """The register of decisions cannot be read or written (unreachable server, full disk, lock held too
    long). Exit code 1; the service answers 503 rather than answer without recording."""
