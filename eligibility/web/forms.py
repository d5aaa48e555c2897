"""A dispositif's form, generated from the JSON Schema of its facts (`qpv rules schema`), and the facts
read back from a submitted form.

Every field is optional in the form: a fact left empty is a *missing* fact, which the rules engine
reports as missing (undetermined), never a default. Facts go back as flat dotted keys, which the
engine accepts as well as nested objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import BadInput
from ..inputs import parse_float
from ..rules.facts import PLACE_PARTS  # the place forms the rules engine accepts


@dataclass
class Field:
    name: str                 # dotted fact path, also the form field name
    label: str
    kind: str                 # date | enum | bool | number | integer | string | place
    choices: list[str] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None

    @property
    def html_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


class _Schema:
    """A JSON Schema with its `$defs`, as pydantic writes it (nested facts and places are `$ref`s)."""

    def __init__(self, root: Mapping[str, Any]):
        self.defs = root.get("$defs") or root.get("definitions") or {}

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = node.get("$ref")
        if ref:
            return self.resolve(self.defs[ref.rsplit("/", 1)[-1]])
        return node

    def alternatives(self, node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """A node and its alternatives (anyOf / oneOf, e.g. a nullable fact), `null` left out."""
        node = self.resolve(node)
        alts = node.get("anyOf") or node.get("oneOf")
        if not alts:
            return [node]
        return [self.resolve(a) for a in alts if a.get("type") != "null"]

    def is_place(self, node: Mapping[str, Any]) -> bool:
        names: set[str] = set()
        for alt in self.alternatives(node):
            names |= set((alt.get("properties") or {}).keys())
        return bool(names) and names <= set(PLACE_PARTS) and ("lon" in names or "quartier_code" in names)

    def field(self, name: str, node: Mapping[str, Any]) -> Field:
        alts = self.alternatives(node)
        label = node.get("description") or alts[0].get("description") or node.get("title") or name
        if self.is_place(node):
            return Field(name, label, "place")
        alt = alts[0]
        if "enum" in alt or "const" in alt:
            values = alt.get("enum", [alt.get("const")])
            return Field(name, label, "enum", choices=[str(v) for v in values if v is not None])
        kind = alt.get("type")
        if kind == "string" and alt.get("format") == "date":
            return Field(name, label, "date")
        if kind == "boolean":
            return Field(name, label, "bool")
        if kind in ("number", "integer"):
            return Field(name, label, kind, minimum=alt.get("minimum"), maximum=alt.get("maximum"))
        return Field(name, label, "string")


def fields_from_schema(schema: Mapping[str, Any]) -> list[Field]:
    """Flatten the schema's nested objects into one field per dotted fact path, in schema order."""
    s = _Schema(schema)
    out: list[Field] = []

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        objects = [a for a in s.alternatives(node) if a.get("properties")]
        if objects and not s.is_place(node):
            for key, child in objects[0]["properties"].items():
                walk(child, f"{prefix}.{key}" if prefix else key)
        elif prefix:
            out.append(s.field(prefix, node))

    walk(schema, "")
    return out


def facts_from_form(fields: list[Field], form: Mapping[str, str]) -> dict[str, Any]:
    """The facts a submitted form states; empty inputs are left out (missing, not defaulted)."""
    facts: dict[str, Any] = {}
    for f in fields:
        if f.kind == "place":
            parts = {p: (form.get(f"{f.name}.{p}") or "").strip() for p in PLACE_PARTS}
            if parts["lon"] or parts["lat"]:
                facts[f.name] = {"lon": parse_float(parts["lon"], f"{f.name}.lon"), "lat": parse_float(parts["lat"], f"{f.name}.lat")}
            elif parts["quartier_code"]:
                facts[f.name] = {"quartier_code": parts["quartier_code"]}
            elif parts["address"]:
                facts[f.name] = {"address": parts["address"]}
            continue
        raw = (form.get(f.name) or "").strip()
        if not raw:
            continue
        if f.kind == "bool":
            if raw not in ("true", "false"):
                raise BadInput(f"oui ou non attendu, reçu « {raw} »", field=f.name)
            facts[f.name] = raw == "true"
        elif f.kind == "number":
            facts[f.name] = parse_float(raw.replace(",", "."), f.name)
        elif f.kind == "integer":
            value = parse_float(raw, f.name)
            if not value.is_integer():
                raise BadInput(f"nombre entier attendu, reçu « {raw} »", field=f.name)
            facts[f.name] = int(value)
        else:
            facts[f.name] = raw
    return facts
