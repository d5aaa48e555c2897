"""The register of decisions: every answer served, kept with what is needed to find it and re-check it.

    reg = Register(url=None, keep_facts=False)      # --register URL, QPV_REGISTER_URL, else SQLite in the user data dir
    reg.append([entries.build(question, answer, versions, served="answer", channel="cli")])
    reg.get(ID) / reg.list(...) / reg.verify_chain() / reg.purge(before) / recheck(reg, ID, facts)
    lookup_attestation(identifier)                  # for /attestation/verifier

See docs/register.md. SQLAlchemy and Alembic are imported only when a register is opened.
"""
from __future__ import annotations

from typing import Any

from ..errors import RegisterUnavailable

_STORE = ("Register", "default_url", "describe_url", "resolve_url")


def __getattr__(name: str):
    """The store (and SQLAlchemy under it) is imported on first use: the command line's other commands, and
    `eligibility.register.wording`, stay quick to import."""
    if name in _STORE:
        from . import store

        return getattr(store, name)
    raise AttributeError(name)


def lookup_attestation(identifier: str, register=None) -> dict[str, Any] | None:
    """What the register holds about an attestation identifier: how many times and when it was recorded, and
    its newest entry, with its facts when they are kept in full (None when the register has never recorded it)."""
    from .store import Register

    reg = register or Register()
    found = reg.list(attestation_id=identifier.strip())
    if not found:
        return None
    newest = found[-1]
    return {"attestation_id": newest["attestation_id"], "recorded": len(found),
            "first_recorded_at": found[0]["recorded_at"], "last_recorded_at": newest["recorded_at"],
            "entries": [e["id"] for e in found], "entry": reg.get(newest["id"])}


__all__ = ["Register", "RegisterUnavailable", "default_url", "describe_url", "resolve_url", "lookup_attestation"]
