"""The rule file as data: pydantic models of the YAML format documented in docs/rules.md.

Structure only is checked here (keys, types, ids). Cross-checks that need the whole file (names in
expressions, parameter periods, legal text ids) live in `loader.py`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FactType = Literal["date", "enum", "bool", "number", "integer", "place", "string"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LegalText(_Strict):
    id: str
    text: str  # the title people read: no provenance tags (the loader refuses them)
    url: str | None = None
    effective: dt.date
    confirmed: bool = True
    source: str | None = None  # provenance: where the wording was read (copy, version id); JSON trace only
    note: str | None = None  # provenance: JSON trace only


class LegalReference(_Strict):
    text: str  # id of a LegalText of the same file
    article: str | None = None
    confirmed: bool | None = None  # None: inherits the text's flag
    note: str | None = None  # provenance: JSON trace only


class DatedReference(LegalReference):
    """One period of a reference that changes with the decision date (the text in force that day)."""
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(default=None, alias="to")


# A legal reference, or the references in force period by period (no gap, no overlap, covering the
# rule's validity): the decision cites the one in force at its decision date.
Reference = LegalReference | list[DatedReference]


class Validity(_Strict):
    valid_from: dt.date = Field(alias="from")
    valid_to: dt.date | None = Field(default=None, alias="to")


class DecisionDate(_Strict):
    expression: str
    label: str
    legal_reference: Reference


class Fact(_Strict):
    type: FactType
    description: str
    label: str | None = None  # short French name shown in explanations (default: the description)
    values: list[str] | None = None
    # French text shown to people for each enum value (forms, explanations, attestations); the codes
    # themselves stay in the JSON.
    labels: dict[str, str] | None = None
    min: float | None = None
    max: float | None = None

    @property
    def name(self) -> str:
        """The fact's French name: its label, else the words of its description before a parenthesis or colon."""
        if self.label:
            return self.label
        d = self.description
        cut = min([len(d)] + [k for k in (d.find(" ("), d.find(" :")) if k > 0])
        return d[:cut].strip().rstrip(" .?")

    @field_validator("values")
    @classmethod
    def _non_empty(cls, v):
        if v is not None and not v:
            raise ValueError("la liste des valeurs d'une énumération ne peut pas être vide")
        return v

    @model_validator(mode="after")
    def _labels_name_values(self):
        if self.labels is not None:
            unknown = sorted(set(self.labels) - set(self.values or []))
            if unknown:
                raise ValueError(f"libellés pour des valeurs inconnues de l'énumération : {', '.join(unknown)}")
        return self


class ParameterValue(_Strict):
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(default=None, alias="to")
    value: float | int | bool | str | list[float | int | str] | None
    reference: LegalReference
    confirmed: bool
    note: str | None = None


class Parameter(_Strict):
    label: str
    unit: str | None = None
    # French text for each text value (a code such as `au_1er_janvier`); required for text parameters
    labels: dict[str, str] | None = None
    values: list[ParameterValue] = Field(min_length=1)


class Definition(_Strict):
    label: str
    expression: str


class Exception_(_Strict):
    id: str
    label: str
    expression: str
    legal_reference: Reference


class Condition(Exception_):  # the same four fields, plus what a failed condition tells the user
    message: str
    exceptions: list[Exception_] = []


class Amount(_Strict):
    id: str
    label: str
    expression: str
    legal_reference: Reference
    year: int | None = None
    unit: str = "EUR"
    ceiling: str | None = None
    required: bool = True


class Obligation(_Strict):
    id: str
    label: str
    legal_reference: Reference


class Consistency(_Strict):
    """Facts that contradict each other are bad input (exit 2, HTTP 4xx, an error row in a batch)."""

    id: str
    expression: str  # must hold; known false = the facts contradict each other
    fields: list[str] = Field(min_length=1)  # the facts the message names
    message: str  # French; may hold {expression} placeholders (docs/rules.md, "Computed messages")


class Remark(_Strict):
    """A sentence the decision states when `when` holds (e.g. a majoration applied)."""

    id: str
    when: str
    message: str
    legal_reference: Reference
    # the outcomes the remark is stated for (a majoration is stated on eligible decisions only); None: all
    outcomes: list[Literal["eligible", "not_eligible", "undetermined", "out_of_scope"]] | None = None


class Expectation(_Strict):
    # bad_input: the facts contradict each other (a `consistency` check); `fields` names the facts cited
    outcome: Literal["eligible", "not_eligible", "undetermined", "out_of_scope", "bad_input"]
    fields: list[str] | None = None
    amounts: dict[str, float | None] | None = None
    reasons: list[str] | None = None
    missing_inputs: list[str] | None = None
    ambiguities: list[str] | None = None


class TestCase(_Strict):
    __test__ = False  # not a pytest class
    name: str
    date: dt.date | None = None
    facts: dict[str, Any]
    expect: Expectation
    needs_geography: bool = False


class RuleFile(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: Literal["dispositif", "criterion"]
    title: str
    version: str
    description: str | None = None
    legal_texts: list[LegalText] = Field(min_length=1)
    validity: Validity
    decision_date: DecisionDate
    facts: dict[str, Fact]
    parameters: dict[str, Parameter] = {}
    definitions: dict[str, Definition] = {}
    # Field of application: when one of these is false the rule does not apply at all (outcome
    # `out_of_scope`), which is not the same as failing its conditions.
    scope: list[Condition] = []
    conditions: list[Condition] = Field(min_length=1)
    amounts: list[Amount] = []
    obligations: list[Obligation] = []
    consistency: list[Consistency] = []
    remarks: list[Remark] = []
    tests: list[TestCase] = []
