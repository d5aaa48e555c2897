"""Decisions and their traces: the pydantic model and its renderers (JSON, readable French).

`Decision` is imported when named: the renderers' French words (`french`) serve processes, such as a batch
locate, that build no Decision and need not import pydantic."""
from __future__ import annotations

__all__ = ["Decision"]


def __getattr__(name: str):
    if name == "Decision":
        from .models import Decision

        return Decision
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
