"""A dispositif's form, generated from the JSON Schema of its facts (`qpv rules schema`) and the rule's
French labels, and the facts read back from a submitted form.

Every field is optional in the form: a fact left empty is a *missing* fact, which the rules engine
reports as missing (undetermined), never a default. Facts go back as flat dotted keys, which the
engine accepts as well as nested objects. People see the fact's French description and the enum
labels; the dotted path is only the form field's `name`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import BadInput
from ..inputs import parse_float
from ..rules.facts import PLACE_PARTS  # the place forms the rules engine accepts

# Sections of a form, by who knows the facts: the first part of a dotted path, or a whole top-level name.
GROUPS = {
    "contract": "Le contrat de travail",
    "employee": "Le salarié",
    "person": "L'adulte-relais",
    "employer": "L'employeur",
    "convention": "La convention avec l'État",
    "application_date": "La demande d'aide",
    "logement": "Le logement",
    "owner": "Le bailleur (propriétaire)",
    "tax_year": "L'imposition",
    "tfpb_base": "L'imposition",
}
OTHER_GROUP = "Autres informations"
PLACE_FORMS = {"point": "un point (longitude et latitude)", "quartier_code": "un code de quartier", "address": "une adresse"}


@dataclass
class Field:
    name: str                 # dotted fact path: the form field's name, never shown as text
    label: str                # the fact's French description
    kind: str                 # date | enum | bool | number | integer | string | place
    choices: list[tuple[str, str]] = field(default_factory=list)  # (code, French label)
    minimum: float | None = None
    maximum: float | None = None

    @property
    def html_id(self) -> str:
        return "f-" + self.name.replace(".", "-")

    @property
    def group(self) -> str:
        return GROUPS.get(self.name) or GROUPS.get(self.name.split(".", 1)[0]) or OTHER_GROUP

    @property
    def short_label(self) -> str:
        """The field's name: the description before its bracketed explanation, or before a colon that
        opens a list (« Nature de l'employeur : entreprise, association… »)."""
        text = self.label
        if text.rstrip().endswith("?"):
            return text  # a question is its own name
        if " (" in text and text.index(" (") >= 12:
            text = text[:text.index(" (")]
        if " : " in text and 12 <= text.index(" : ") < 45:
            text = text[:text.index(" : ")]
        return text

    @property
    def hint(self) -> str:
        """What the description says beyond the field's name (its brackets taken off)."""
        rest = self.label[len(self.short_label):].strip(" :")
        if rest.startswith("(") and ")" in rest:
            inside, after = rest[1:rest.index(")")], rest[rest.index(")") + 1:].strip(" .")
            rest = inside + (f". {after}" if after else "")
        return rest


class FormProblems(BadInput):
    """Every problem of one submitted form, so that the page shows them all at once."""

    def __init__(self, problems: list[tuple[str | None, str]]):
        self.problems = problems
        super().__init__(" ; ".join(m for _, m in problems), field=problems[0][0] if problems else None)


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

    def field(self, name: str, node: Mapping[str, Any], labels: Mapping[str, str]) -> Field:
        alts = self.alternatives(node)
        label = node.get("description") or alts[0].get("description") or node.get("title") or name
        if self.is_place(node):
            return Field(name, label, "place")
        alt = alts[0]
        if "enum" in alt or "const" in alt:
            values = [str(v) for v in alt.get("enum", [alt.get("const")]) if v is not None]
            return Field(name, label, "enum", choices=[(v, labels.get(v, v)) for v in values])
        kind = alt.get("type")
        if kind == "string" and alt.get("format") == "date":
            return Field(name, label, "date")
        if kind == "boolean":
            return Field(name, label, "bool")
        if kind in ("number", "integer"):
            return Field(name, label, kind, minimum=alt.get("minimum"), maximum=alt.get("maximum"))
        return Field(name, label, "string")


def fields_from_schema(schema: Mapping[str, Any], labels: Mapping[str, Mapping[str, str]] | None = None) -> list[Field]:
    """Flatten the schema's nested objects into one field per dotted fact path, in schema order.
    `labels` gives the French text of each enum value ({path: {code: label}}, from the rule file)."""
    s = _Schema(schema)
    labels = labels or {}
    out: list[Field] = []

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        objects = [a for a in s.alternatives(node) if a.get("properties")]
        if objects and not s.is_place(node):
            for key, child in objects[0]["properties"].items():
                walk(child, f"{prefix}.{key}" if prefix else key)
        elif prefix:
            out.append(s.field(prefix, node, labels.get(prefix) or {}))

    walk(schema, "")
    return out


def grouped(fields: list[Field]) -> list[tuple[str, list[Field]]]:
    """Fields by section, sections in the order their first fact comes in the rule."""
    groups: dict[str, list[Field]] = {}
    for f in fields:
        groups.setdefault(f.group, []).append(f)
    return list(groups.items())


def field_label(fields: list[Field], path: str | None) -> str | None:
    """The French name of the field a dotted path (or a part of a place: `x.residence.lon`) belongs to."""
    if not path:
        return None
    for f in fields:
        if path == f.name or path.startswith(f.name + "."):
            return f.short_label
    return {"_date": "Date de décision imposée", "date": "Date de décision imposée"}.get(path)


def _number(raw: str, f: Field, problems: list) -> float | None:
    try:
        value = parse_float(raw.replace(",", ".").replace("\u00a0", "").replace(" ", ""), f.name)
    except BadInput:
        problems.append((f.name, f"« {f.short_label} » : nombre attendu, reçu « {raw} »"))
        return None
    if f.kind == "integer" and not value.is_integer():
        problems.append((f.name, f"« {f.short_label} » : nombre entier attendu, reçu « {raw} »"))
        return None
    low, high = f.minimum, f.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = " et ".join(f"{b:g}".replace(".", ",") for b in (low, high) if b is not None)
        problems.append((f.name, f"« {f.short_label} » : {raw} est hors des bornes ({'entre ' if low is not None and high is not None else ''}{bounds})"))
        return None
    return int(value) if f.kind == "integer" else value


def _place(f: Field, form: Mapping[str, str], problems: list) -> dict[str, Any] | None:
    parts = {p: (form.get(f"{f.name}.{p}") or "").strip() for p in PLACE_PARTS}
    given = [k for k, filled in (("point", parts["lon"] or parts["lat"]), ("quartier_code", parts["quartier_code"]),
                                 ("address", parts["address"])) if filled]
    if len(given) > 1:
        problems.append((f.name, f"« {f.short_label} » : un seul lieu à la fois — "
                                 f"{' et '.join(PLACE_FORMS[g] for g in given)} sont remplis ; videz les autres"))
        return None
    if not given:
        return None
    if given[0] == "point":
        coords = {}
        for part, word in (("lon", "longitude"), ("lat", "latitude")):
            raw = parts[part]
            if not raw:
                problems.append((f"{f.name}.{part}", f"« {f.short_label} » : la {word} manque"))
                continue
            try:
                coords[part] = parse_float(raw.replace(",", "."), f"{f.name}.{part}")
            except BadInput:
                problems.append((f"{f.name}.{part}", f"« {f.short_label} » : {word} attendue en degrés décimaux, reçu « {raw} »"))
        return coords if len(coords) == 2 else None
    return {given[0]: parts[given[0]]}


def facts_from_form(fields: list[Field], form: Mapping[str, str]) -> dict[str, Any]:
    """The facts a submitted form states; empty inputs are left out (missing, not defaulted).
    Raises FormProblems listing every field to correct."""
    facts: dict[str, Any] = {}
    problems: list[tuple[str | None, str]] = []
    for f in fields:
        if f.kind == "place":
            place = _place(f, form, problems)
            if place is not None:
                facts[f.name] = place
            continue
        raw = (form.get(f.name) or "").strip()
        if not raw:
            continue
        if f.kind == "bool":
            if raw not in ("true", "false"):
                problems.append((f.name, f"« {f.short_label} » : oui ou non attendu, reçu « {raw} »"))
            else:
                facts[f.name] = raw == "true"
        elif f.kind in ("number", "integer"):
            value = _number(raw, f, problems)
            if value is not None:
                facts[f.name] = value
        elif f.kind == "enum" and raw not in {code for code, _ in f.choices}:
            problems.append((f.name, f"« {f.short_label} » : choix inconnu « {raw} »"))
        else:
            facts[f.name] = raw
    if problems:
        raise FormProblems(problems)
    return facts
