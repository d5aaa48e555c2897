"""The decision a rule gives for one row: the `qpv evaluate --json` object (DESIGN.md)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, PrivateAttr


class Decision(BaseModel):
    dispositif: str
    outcome: Literal["eligible", "not_eligible", "undetermined", "error", "out_of_scope"]
    amounts: dict[str, Any]
    reasons: list[dict[str, Any]]
    missing_inputs: list[str]
    ambiguities: list[dict[str, Any]]
    obligations: list[dict[str, Any]]
    remarks: list[dict[str, Any]] = []
    error: str | None = None
    trace: dict[str, Any]
    _rule: Any = PrivateAttr(default=None)  # the rule that decided: its French wording for `to_text`

    def with_rule(self, rule) -> "Decision":
        self._rule = rule
        return self

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready dict, keys in a fixed order (same decision, same bytes)."""
        out = self.model_dump(mode="json")
        if out["error"] is None:
            del out["error"]
        return out

    def to_text(self, full_trace: bool = False) -> str:
        from .render import render_text

        return render_text(self.to_json(), full_trace=full_trace, rule=self._rule)
