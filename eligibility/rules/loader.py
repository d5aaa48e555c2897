"""Loading rule files: YAML -> pydantic model -> compiled `Rule`, with errors naming file, rule and field."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import RuleFileError
from ..paths import rules_dir
from .expressions import FACT_KINDS, Compiler, Expr, ExpressionError
from .model import LegalReference, Reference, RuleFile
from .parameters import DatedParameter, period_problems


class Rule:
    """A validated rule file with its expressions compiled once."""

    def __init__(self, model: RuleFile, path: Path, sha256: str):
        self.model, self.path, self.sha256 = model, path, sha256
        self.id = model.id
        self.texts = {t.id: t for t in model.legal_texts}
        self._check_references()
        self.params: dict[str, DatedParameter] = {}
        for name, p in model.parameters.items():
            self._clash(name, f"parameters.{name}")
            try:
                self.params[name] = DatedParameter(name, p, self.ref_json)
            except ValueError as exc:
                raise self.error(f"parameters.{name}", str(exc)) from None
            for problem in period_problems(p.values, model.validity.valid_from, model.validity.valid_to):
                raise self.error(f"parameters.{name}.values", problem)
        for name in model.definitions:
            self._clash(name, f"definitions.{name}")
        self._defs: dict[str, Expr] = {}
        self._compiling: list[str] = []
        self.compiler = Compiler(self)
        for name in model.definitions:
            self.definition(name)
        self.decision_date = self._compile(model.decision_date.expression, "decision_date.expression", "date")
        self.scope = [self._condition(c, "scope") for c in model.scope]
        self.conditions = [self._condition(c, "conditions") for c in model.conditions]
        self.amounts = []
        for a in model.amounts:
            expr = self._compile(a.expression, f"amounts[{a.id}].expression", "num")
            ceiling = self._compile(a.ceiling, f"amounts[{a.id}].ceiling", "num") if a.ceiling else None
            self.amounts.append((a, expr, ceiling))
        for field, items in (("conditions", model.scope + model.conditions), ("amounts", model.amounts),
                             ("obligations", model.obligations), ("tests", model.tests)):
            seen = set()
            for item in items:
                key = getattr(item, "id", None) or getattr(item, "name")
                if key in seen:
                    raise self.error(field, f"identifiant en double « {key} »")
                seen.add(key)
        self._check_tests()

    # --- the compiler's Scope -----------------------------------------------------------------

    def fact_kind(self, path: str) -> str | None:
        fact = self.model.facts.get(path)
        return FACT_KINDS[fact.type] if fact else None

    def parameter_kind(self, name: str) -> str | None:
        p = self.params.get(name)
        return p.kind if p else None

    def definition(self, name: str) -> Expr | None:
        if name in self._defs:
            return self._defs[name]
        d = self.model.definitions.get(name)
        if d is None:
            return None
        if name in self._compiling:
            raise self.error(f"definitions.{name}", "définition circulaire : " + " -> ".join(self._compiling + [name]))
        self._compiling.append(name)
        try:
            self._defs[name] = self._compile(d.expression, f"definitions.{name}.expression", None)
        finally:
            self._compiling.pop()
        return self._defs[name]

    # --- helpers -------------------------------------------------------------------------------

    def error(self, field: str, message: str) -> RuleFileError:
        return RuleFileError(f"fichier {self.path}, règle {self.id}, champ {field} : {message}")

    def _condition(self, c, field: str) -> tuple:
        expr = self._compile(c.expression, f"{field}[{c.id}].expression", "bool")
        excs = [(e, self._compile(e.expression, f"{field}[{c.id}].exceptions[{e.id}].expression", "bool"))
                for e in c.exceptions]
        return c, expr, excs

    def _compile(self, text: str, field: str, kind: str | None) -> Expr:
        try:
            expr = self.compiler.compile(text)
        except ExpressionError as exc:
            raise self.error(field, str(exc)) from None
        if kind is not None and expr.kind != kind:
            raise self.error(field, f"l'expression « {text} » doit donner un(e) {kind}, elle donne un(e) {expr.kind}")
        return expr

    def _clash(self, name: str, field: str) -> None:
        if name in self.model.facts or name == "decision_date" or (
                field.startswith("definitions") and name in self.model.parameters):
            raise self.error(field, f"le nom « {name} » est déjà pris (fait, paramètre ou decision_date)")

    def _check_references(self) -> None:
        m = self.model
        refs = [("decision_date.legal_reference", m.decision_date.legal_reference)]
        for field, conds in (("scope", m.scope), ("conditions", m.conditions)):
            for c in conds:
                refs.append((f"{field}[{c.id}].legal_reference", c.legal_reference))
                refs += [(f"{field}[{c.id}].exceptions[{e.id}].legal_reference", e.legal_reference)
                         for e in c.exceptions]
        refs += [(f"amounts[{a.id}].legal_reference", a.legal_reference) for a in m.amounts]
        refs += [(f"obligations[{o.id}].legal_reference", o.legal_reference) for o in m.obligations]
        for name, p in m.parameters.items():
            refs += [(f"parameters.{name}.values[{i}].reference", v.reference) for i, v in enumerate(p.values)]
        for field, ref in refs:
            if isinstance(ref, list):  # dated references: periods like a parameter's, covering the rule's life
                if not ref:
                    raise self.error(field, "une référence datée doit avoir au moins une période")
                for problem in period_problems(ref, m.validity.valid_from, m.validity.valid_to):
                    raise self.error(field, problem)
            for item in ref if isinstance(ref, list) else [ref]:
                if item.text not in self.texts:
                    raise self.error(field, f"texte juridique « {item.text} » non déclaré dans legal_texts "
                                            f"(déclarés : {', '.join(self.texts)})")
        for path, fact in m.facts.items():
            if (fact.type == "enum") != (fact.values is not None):
                raise self.error(f"facts.{path}.values", "« values » est requis pour un enum et réservé aux enum")

    def _check_tests(self) -> None:
        """The facts of every YAML case must fit the schema (a typo in a case is a rule-file error)."""
        from ..errors import BadInput
        from .facts import validate_one

        for case in self.model.tests:
            try:
                validate_one(self, case.facts)
            except BadInput as exc:
                raise self.error(f"tests[{case.name}].facts", str(exc)) from None
        ids = {c.id for c in self.model.scope + self.model.conditions}
        for case in self.model.tests:
            unknown = set(case.expect.reasons or []) - ids
            if unknown:
                raise self.error(f"tests[{case.name}].expect.reasons", f"conditions inconnues : {sorted(unknown)}")

    def ref_json(self, ref: Reference, date: dt.date | None = None) -> dict:
        """A legal reference as it appears in decisions: the text's title, the article, confirmed flag.

        Dated references give the one in force at `date` (with its `from`/`to`). Without a date (the
        decision date is unknown, or a caller asks out of any decision), every period is listed."""
        if isinstance(ref, list):
            chosen = [r for r in ref if date is not None and r.start <= date and (r.end is None or date <= r.end)]
            if chosen:
                return self._one_ref(chosen[0]) | {"from": chosen[0].start.isoformat(),
                                                   "to": chosen[0].end.isoformat() if chosen[0].end else None}
            periods = [self._one_ref(r) | {"from": r.start.isoformat(), "to": r.end.isoformat() if r.end else None}
                       for r in ref]
            return {"text": " ; ".join(f"{p['text']}{', ' + p['article'] if p['article'] else ''} "
                                       f"(du {p['from']} au {p['to'] or '…'})" for p in periods),
                    "article": None, "confirmed": all(p["confirmed"] for p in periods), "periods": periods}
        return self._one_ref(ref)

    def _one_ref(self, ref: LegalReference) -> dict:
        text = self.texts[ref.text]
        out = {"text": text.text, "article": ref.article,
               "confirmed": text.confirmed if ref.confirmed is None else ref.confirmed}
        if text.url:
            out["url"] = text.url
        if ref.note:
            out["note"] = ref.note
        return out

    def parameter_value(self, name: str, date):
        if name not in self.params:
            raise KeyError(name)
        return self.params[name].at(date)


def _pydantic_error(path: Path, raw: dict, exc: ValidationError) -> RuleFileError:
    rule_id = raw.get("id", "?") if isinstance(raw, dict) else "?"
    first = exc.errors()[0]
    loc = ".".join(str(x) for x in first["loc"])
    messages = {"missing": "champ obligatoire absent", "extra_forbidden": "champ inconnu (faute de frappe ?)"}
    msg = messages.get(first["type"], first["msg"])
    more = f" (et {len(exc.errors()) - 1} autre(s) erreur(s))" if len(exc.errors()) > 1 else ""
    return RuleFileError(f"fichier {path}, règle {rule_id}, champ {loc} : {msg}{more}")


def load_file(path: Path) -> Rule:
    data = path.read_bytes()
    try:
        raw = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)  # PyYAML's own text is English: say where, in French
        where = f"ligne {mark.line + 1}, colonne {mark.column + 1}" if mark else "position inconnue"
        raise RuleFileError(f"fichier {path}, règle ?, champ ? : YAML illisible ({where})") from None
    if not isinstance(raw, dict):
        raise RuleFileError(f"fichier {path}, règle ?, champ ? : le fichier doit contenir un objet YAML")
    try:
        model = RuleFile.model_validate(raw)
    except ValidationError as exc:
        raise _pydantic_error(path, raw, exc) from None
    if model.id != path.stem:
        raise RuleFileError(f"fichier {path}, règle {model.id}, champ id : l'identifiant doit être le nom du fichier "
                            f"(« {path.stem} »)")
    return Rule(model, path, hashlib.sha256(data).hexdigest())


@functools.lru_cache(maxsize=32)
def _load_one(path: Path, stamp: tuple) -> Rule:
    return load_file(path)


@functools.lru_cache(maxsize=8)
def _load_dir(directory: Path, stamp: tuple) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for path in sorted(directory.glob("*.yaml")):
        rule = load_file(path)
        if rule.id in rules:
            raise RuleFileError(f"fichier {path}, règle {rule.id}, champ id : identifiant déjà utilisé par "
                                f"{rules[rule.id].path}")
        rules[rule.id] = rule
    return rules


def load_rules(directory: Path | None = None) -> dict[str, Rule]:
    """Every rule file of `rules/` (or `directory`), validated and compiled; cached until a file changes."""
    directory = Path(directory or rules_dir())
    if not directory.is_dir():
        raise RuleFileError(f"dossier de règles introuvable : {directory} (voir QPV_RULES_DIR)")
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(directory.glob("*.yaml")))
    return _load_dir(directory, stamp)


def get_rule(dispositif: str) -> Rule:
    """The rule `rules/<dispositif>.yaml`, loaded alone (a broken neighbour file does not stop it)."""
    from ..errors import BadInput

    path = Path(rules_dir()) / f"{dispositif}.yaml"
    if path.is_file() and "/" not in dispositif:
        st = path.stat()
        return _load_one(path, (st.st_mtime_ns, st.st_size))
    rules = load_rules()
    if dispositif not in rules:
        raise BadInput(f"dispositif inconnu « {dispositif} » (connus : {', '.join(sorted(rules))})",
                       field="DISPOSITIF")
    return rules[dispositif]
