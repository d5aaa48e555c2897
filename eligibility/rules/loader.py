"""Loading rule files: YAML -> pydantic model -> compiled `Rule`, with errors naming file, rule and field."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..decisions.french import date_fr
from ..errors import RuleFileError
from ..paths import rules_dir
from .expressions import FACT_KINDS, Compiler, Expr, ExpressionError
from .messages import Template
from .model import LegalReference, Reference, RuleFile
from .parameters import DatedParameter, period_problems

# Provenance tags are for the JSON trace: text people read (titles, labels, messages, descriptions, article
# numbers) must not carry them. Notes (`note`, `source`) are where they belong.
INTERNAL_TAGS = re.compile(r"\[(?:C|C2|I|U)\]|law\.md|etalab|LEGIARTI|LEGITEXT|JORF(?:TEXT|ARTI)|rédaction 2015")


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
            codes = {str(x) for v in p.values if v.value is not None
                     for x in (v.value if isinstance(v.value, list) else [v.value]) if isinstance(x, str)}
            unlabelled = sorted(codes - set(p.labels or {}))
            if unlabelled:
                raise self.error(f"parameters.{name}.labels", "chaque valeur texte a besoin d'un libellé français "
                                                              f"(manquent : {', '.join(unlabelled)})")
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
        self.messages = {c.id: self._template(c.message, f"conditions[{c.id}].message")
                         for c in model.scope + model.conditions}
        self.consistency = []
        for c in model.consistency:
            unknown = [f for f in c.fields if f not in model.facts]
            if unknown:
                raise self.error(f"consistency[{c.id}].fields", f"faits non déclarés : {', '.join(unknown)}")
            self.consistency.append((c, self._compile(c.expression, f"consistency[{c.id}].expression", "bool"),
                                     self._template(c.message, f"consistency[{c.id}].message")))
        self.remarks = [(r, self._compile(r.when, f"remarks[{r.id}].when", "bool"),
                         self._template(r.message, f"remarks[{r.id}].message")) for r in model.remarks]
        self._check_wording()
        for field, items in (("conditions", model.scope + model.conditions), ("amounts", model.amounts),
                             ("obligations", model.obligations), ("consistency", model.consistency),
                             ("remarks", model.remarks), ("tests", model.tests)):
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

    def _template(self, text: str, field: str) -> Template:
        try:
            return Template(text, self.compiler.compile, self.fact_labels)
        except ExpressionError as exc:
            raise self.error(field, str(exc)) from None

    def fact_labels(self, path: str | None) -> dict | None:
        fact = self.model.facts.get(path or "")
        return fact.labels if fact is not None else None

    def _check_wording(self) -> None:
        """Text shown to people carries no provenance tag (they live in notes, shown in the JSON trace only)."""
        m = self.model
        shown: list[tuple[str, str | None]] = [("title", m.title), ("description", m.description),
                                               ("decision_date.label", m.decision_date.label)]
        shown += [(f"legal_texts[{t.id}].text", t.text) for t in m.legal_texts]
        for path, f in m.facts.items():
            shown += [(f"facts.{path}.description", f.description), (f"facts.{path}.label", f.label)]
            shown += [(f"facts.{path}.labels.{k}", v) for k, v in (f.labels or {}).items()]
        shown += [(f"parameters.{n}.label", p.label) for n, p in m.parameters.items()]
        shown += [(f"parameters.{n}.labels.{k}", v) for n, p in m.parameters.items() for k, v in (p.labels or {}).items()]
        shown += [(f"definitions.{n}.label", d.label) for n, d in m.definitions.items()]
        items = [("scope", c) for c in m.scope] + [("conditions", c) for c in m.conditions]
        items += [("amounts", a) for a in m.amounts] + [("obligations", o) for o in m.obligations]
        items += [("remarks", r) for r in m.remarks] + [("consistency", c) for c in m.consistency]
        items += [(f"conditions[{c.id}].exceptions", e) for c in m.scope + m.conditions for e in c.exceptions]
        for where, item in items:
            for attr in ("label", "message"):
                shown.append((f"{where}[{item.id}].{attr}", getattr(item, attr, None)))
        for field, ref in self._all_references():
            shown.append((f"{field}.article", ref.article))
        for field, text in shown:
            hit = INTERNAL_TAGS.search(text or "")
            if hit:
                raise self.error(field, f"« {hit.group(0)} » est une note de provenance : elle va dans `note` "
                                        "(ou `source` d'un texte), jamais dans un texte montré aux personnes")

    def _reference_sites(self) -> list[tuple[str, object]]:
        """(field, reference or list of dated references) for every place a rule file cites a text."""
        m = self.model
        refs: list[tuple[str, object]] = [("decision_date.legal_reference", m.decision_date.legal_reference)]
        for field, conds in (("scope", m.scope), ("conditions", m.conditions)):
            for c in conds:
                refs.append((f"{field}[{c.id}].legal_reference", c.legal_reference))
                refs += [(f"{field}[{c.id}].exceptions[{e.id}].legal_reference", e.legal_reference)
                         for e in c.exceptions]
        refs += [(f"amounts[{a.id}].legal_reference", a.legal_reference) for a in m.amounts]
        refs += [(f"obligations[{o.id}].legal_reference", o.legal_reference) for o in m.obligations]
        refs += [(f"remarks[{r.id}].legal_reference", r.legal_reference) for r in m.remarks]
        for name, p in m.parameters.items():
            refs += [(f"parameters.{name}.values[{i}].reference", v.reference) for i, v in enumerate(p.values)]
        return refs

    def _all_references(self) -> list[tuple[str, LegalReference]]:
        out = []
        for field, ref in self._reference_sites():
            if isinstance(ref, list):
                out += [(f"{field}[{i}]", r) for i, r in enumerate(ref)]
            else:
                out.append((field, ref))
        return out

    def _clash(self, name: str, field: str) -> None:
        if name in self.model.facts or name == "decision_date" or (
                field.startswith("definitions") and name in self.model.parameters):
            raise self.error(field, f"le nom « {name} » est déjà pris (fait, paramètre ou decision_date)")

    def _check_references(self) -> None:
        m = self.model
        for field, ref in self._reference_sites():
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

    def ref_json(self, ref: Reference, date: dt.date | None = None, confirmed: bool | None = None) -> dict:
        """A legal reference as it appears in decisions: the text's title, the article, confirmed flag.

        Dated references give the one in force at `date` (with its `from`/`to`). Without a date (the
        decision date is unknown, or a caller asks out of any decision), every period is listed.
        `confirmed` (a parameter value's own flag) applies when the reference sets none. Notes and where
        the wording was read go under `provenance` (JSON only, never in the French)."""
        if isinstance(ref, list):
            chosen = [r for r in ref if date is not None and r.start <= date and (r.end is None or date <= r.end)]
            if chosen:
                return self._one_ref(chosen[0]) | {"from": chosen[0].start.isoformat(),
                                                   "to": chosen[0].end.isoformat() if chosen[0].end else None}
            periods = [self._one_ref(r) | {"from": r.start.isoformat(), "to": r.end.isoformat() if r.end else None}
                       for r in ref]
            return {"text": " ; ".join(f"{p['text']}{', ' + p['article'] if p['article'] else ''} "
                                       f"(du {date_fr(p['from'])} au {date_fr(p['to']) if p['to'] else '…'})"
                                       for p in periods),
                    "article": None, "confirmed": all(p["confirmed"] for p in periods), "periods": periods}
        return self._one_ref(ref, confirmed)

    def _one_ref(self, ref: LegalReference, confirmed: bool | None = None) -> dict:
        text = self.texts[ref.text]
        flag = ref.confirmed if ref.confirmed is not None else confirmed if confirmed is not None else text.confirmed
        out = {"text": text.text, "article": ref.article, "confirmed": flag}
        if text.url:
            out["url"] = text.url
        provenance = {k: v for k, v in (("note", ref.note), ("text_note", text.note), ("source", text.source)) if v}
        if provenance:
            out["provenance"] = provenance
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
        try:  # libyaml when present (the rule file's parse was most of a batch's start-up); same values
            raw = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:  # the pure-Python parser says where, as it always did
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


# path -> (stamp, sha256) of the bytes `_load_one` last parsed there: what an attestation cites for a rule file
# (`cited_sha256`) without parsing every rule of the directory.
_PARSED: dict[Path, tuple[tuple, str]] = {}


@functools.lru_cache(maxsize=32)
def _load_one(path: Path, stamp: tuple) -> Rule:
    rule = load_file(path)
    _PARSED[path.resolve()] = (stamp, rule.sha256)
    return rule


def cited_versions() -> dict:
    """The engine's version and the sha256 of every rule file (`cited_sha256`): what an attestation cites
    (`eligibility.web.attestation.build`). Light: no rule is parsed for it, and no web module is imported."""
    from .. import __version__
    from ..paths import rules_dir

    root = Path(rules_dir())
    files = sorted(p for p in root.rglob("*.yaml") if p.is_file())
    return {"engine": f"qpv {__version__}",
            "rules": [{"file": p.relative_to(root).as_posix(), "sha256": cited_sha256(p)} for p in files]}


def cited_sha256(path: Path) -> str:
    """The sha256 an attestation cites for the rule file `path`: that of the bytes `get_rule` parsed it from when
    it is loaded with the file's current stamp, else that of the bytes on disk (which `get_rule` would parse now,
    or which a broken file holds). Reading and hashing a few files instead of parsing them all: an attestation's
    versions cost a fraction of a millisecond, not the parse of every rule (a batch --record's start-up)."""
    st = path.stat()
    parsed = _PARSED.get(path.resolve())
    if parsed is not None and parsed[0] == (st.st_mtime_ns, st.st_size):
        return parsed[1]
    return hashlib.sha256(path.read_bytes()).hexdigest()


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


# What a rule id looks like: a name given on the command line or in a URL is checked against this (and
# then against the known ids) before it becomes a path, so `../x` or a 300-character name never reaches
# the file system (ENAMETOOLONG was an internal error).
RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")


def get_rule(dispositif: str) -> Rule:
    """The rule `rules/<dispositif>.yaml`, loaded alone (a broken neighbour file does not stop it)."""
    from ..errors import BadInput, shown

    if not isinstance(dispositif, str) or not RULE_ID.fullmatch(dispositif):
        raise BadInput(f"dispositif inconnu « {shown(dispositif)} » (connus : {', '.join(sorted(load_rules()))})",
                       field="DISPOSITIF")
    path = Path(rules_dir()) / f"{dispositif}.yaml"
    if path.is_file() and "/" not in dispositif:
        st = path.stat()
        return _load_one(path, (st.st_mtime_ns, st.st_size))
    rules = load_rules()
    if dispositif not in rules:
        raise BadInput(f"dispositif inconnu « {dispositif} » (connus : {', '.join(sorted(rules))})",
                       field="DISPOSITIF")
    return rules[dispositif]
