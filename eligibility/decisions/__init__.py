"""Decisions and their traces: the pydantic model and its renderers (JSON, readable French)."""
from .models import Decision

__all__ = ["Decision"]
