"""What one register entry holds, built from a question and the answer served.

The attestation identifier is the one `eligibility.web.attestation.build` gives the same question and
answer: an attestation printed from the service, or from `qpv attest`, is found in the register by the
identifier it carries.

Personal data: the facts (and, for a place, the point or address asked) are only ever stored in
`register_personal`, and only when the operator keeps facts in full. The entry keeps their canonical
sha256, and an answer whose personal values (`PERSONAL_KEYS`) are replaced by their own sha256:
outcome, reasons, quartier, commune, rule and data versions stay readable, the point and the facts' values
do not. Supplying the facts again lets anyone recompute both hashes (`recheck`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from pathlib import Path
from typing import Any

from ..web.attestation import canonical_plain, plain

# Keys of an answer (at any depth) whose values come from the person's facts: the point asked, its
# projected coordinates and 200 m square, the geocoded address, the fact values a condition read.
PERSONAL_KEYS = frozenset({"input", "inputs", "metric_coordinates", "carreau", "geocoding"})
REDACTED_PREFIX = "sha256:"
# The parts of a locate question that are the person's place: kept apart like an evaluation's facts.
PLACE_KEYS = ("lon", "lat", "x", "y", "address")
# Keys of an answer whose values (a dict, or the dicts of a list) are the same for every decision of a rule
# version or a data version: legal references (text, article, url, provenance notes), the parameters' values
# and their references, the datasets cited. They are most of a decision's trace (about 30 of its 54 kB). The
# register stores each distinct one once (`register_fragments`, keyed by the sha256 of its canonical JSON) and
# an entry's answer refers to it as {"$fragment": sha256}; `expand` puts them back. The attestation's bytes are
# composed from their cached canonical JSON instead of serialising them again for every decision.
FRAGMENT_KEYS = frozenset({"legal_reference", "parameters", "data_versions", "datasets", "zone_layers"})
FRAGMENT_REF = "$fragment"
# A stored reference, as it appears in an entry's canonical JSON (quotes inside JSON strings are escaped, so this
# text can only be a real object of the document).
_REF_TEXT = re.compile(r'\{"\$fragment":"([0-9a-f]{64})"\}')
# What stands for a fragment in the canonical JSON composed for the attestation's hash: control characters,
# which JSON escapes, so the marker is found as `"\u0000\u0001<sha256>"`; a string of the answer that happens
# to be spelled the same is detected (one marker too many) and the answer is then serialised whole.
_MARK = "\x00\x01"
_MARK_TEXT = re.compile(rb'"\\u0000\\u0001([0-9a-f]{64})"')


def as_plain(obj: Any) -> Any:
    """`plain(obj)`: `obj` itself when it is plain JSON already (dicts with text keys, lists, text, numbers, booleans,
    null, finite floats), which a check tells for a tenth of the cost of the JSON text round trip (an answer is
    50 kB); else that round trip (numpy scalars, dates, tuples…), or its error (NaN)."""
    return obj if _is_plain(obj) else plain(obj)


def _is_plain(node: Any) -> bool:
    stack = [node]
    while stack:  # iterative: a trace is deep and wide
        n = stack.pop()
        if type(n) is dict:
            for k in n:
                if type(k) is not str:
                    return False
            children = n.values()
        elif type(n) is list:
            children = n
        else:
            return False
        for v in children:
            t = type(v)
            if t is dict or t is list:
                stack.append(v)
            elif t is float:
                if not math.isfinite(v):
                    return False
            elif not (t is str or t is bool or t is int or v is None):
                return False
    return True


def canonical(obj: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes every hash of the register is taken over."""
    return canonical_plain(plain(obj))


def sha256_of(obj: Any) -> str:
    return hashlib.sha256(canonical(obj)).hexdigest()


def redact(obj: Any, is_plain: bool = False) -> Any:
    """`obj` with the value of every PERSONAL_KEYS key replaced by "sha256:<hash of the value>". `is_plain`:
    `obj` is already plain JSON (entries.build), so each value is hashed over one json.dumps."""
    digest = (lambda v: hashlib.sha256(canonical_plain(v)).hexdigest()) if is_plain else sha256_of

    nested = (dict, list)

    def walk(node: Any) -> Any:  # leaves are kept without a call each (a decision's trace has hundreds)
        if isinstance(node, dict):
            return {k: (_hashed(v, digest) if k in PERSONAL_KEYS and v is not None
                        else walk(v) if isinstance(v, nested) else v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) if isinstance(v, nested) else v for v in node]
        return node

    return walk(obj)


def _hashed(value: Any, digest) -> str:
    already = isinstance(value, str) and value.startswith(REDACTED_PREFIX)  # redact(redact(x)) == redact(x)
    return value if already else REDACTED_PREFIX + digest(value)


def split_question(question: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(question without personal data, the facts): an evaluation's facts, or the place of a locate question."""
    if question.get("kind") == "evaluate":
        rest = {k: v for k, v in question.items() if k != "facts"}
        return rest, dict(question.get("facts") or {})
    return ({k: v for k, v in question.items() if k not in PLACE_KEYS},
            {k: question[k] for k in PLACE_KEYS if k in question})


def join_question(question: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """The inverse of split_question, keys in the order the attestation builders use."""
    if question.get("kind") == "evaluate":
        out = {"kind": "evaluate", "dispositif": question["dispositif"], "facts": facts}
        return {**out, **{k: v for k, v in question.items() if k not in out}}
    return {**question, **facts}


def quartier_of(kind: str, answer: dict[str, Any]) -> str | None:
    """The quartier an entry is about: the located one, or the first one a decision's geography found."""
    if kind == "locate":
        return (answer.get("quartier") or {}).get("code")
    for g in (answer.get("trace") or {}).get("geography") or []:
        if g.get("quartier"):
            return g["quartier"]
    return None


def file_stamps(paths: list[Path]) -> tuple:
    """(path, mtime, size) of each file: what a cached checksum depends on."""
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else (str(p), None, None) for p in paths)


def data_fingerprint() -> str:
    """One sha256 for 'the data' an answer was given with: over the sha256 of the bundled manifest's bytes
    (verified against the pinned value before use) and, for each imported layer, the sha256 of its stored
    file and of its manifest entry (dates, precision, coverage), as the layers API gives them."""
    from ..geography import layers

    return layers.data_fingerprint()


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build(question: dict[str, Any], answer: dict[str, Any], versions: dict[str, Any], *, served: str, channel: str,
          data_sha256: str | None = None, recorded_at: str | None = None) -> dict[str, Any]:
    """One entry: `row` (the register_entries columns except seq and the chain), `personal` (facts and the
    full answer, stored only when the operator keeps facts) and `rule` (to archive the rule text)."""
    # Made plain once (JSON types, string keys): the attestation's hash, the redacted answer and the facts
    # kept in full are then each one json.dumps, not a to_json/loads/dumps round each.
    return Builder(as_plain(versions), served=served, channel=channel, data_sha256=data_sha256).build(
        as_plain(question), as_plain(answer), recorded_at=recorded_at)


class Builder:
    """Builds the entries of answers given with the same engine and rule versions and the same data: what is
    the same for all of them (the versions' canonical JSON, per set of datasets cited) is serialised once.
    Every entry is byte for byte what `build` gives alone (`tests/register/test_batch_record.py`).

    `keep_facts`: None, the facts and full answer are serialised only if the register asks (`personal` is then a
    function); True or False, now or never (`personal` is then a value, so that the entry can be pickled: a
    batch builds its entries in the worker process that answered the chunk)."""

    def __init__(self, versions: dict[str, Any], *, served: str, channel: str, data_sha256: str | None = None,
                 keep_facts: bool | None = None):
        self.versions, self.served, self.channel = versions, served, channel
        self.data_sha256 = data_sha256 or data_fingerprint()
        self.keep_facts = keep_facts
        self._versions_json: dict[bytes, bytes] = {}  # canonical JSON of the datasets cited -> of the versions
        self._walk = Walk()

    def _versions_for(self, cited: list[dict[str, Any]]) -> bytes:
        key = canonical_plain(cited)
        if key not in self._versions_json:
            self._versions_json[key] = canonical_plain({**self.versions, "datasets": cited})
        return self._versions_json[key]

    def build(self, question: dict[str, Any], answer: dict[str, Any], recorded_at: str | None = None) -> dict[str, Any]:
        """The entry of `question` and `answer`, both plain JSON already (`plain`, or read back from JSON)."""
        from ..web.attestation import identifier_of
        from ..web.wording import merge_datasets

        walk = self._walk
        walk.start()
        marked, stored = walk.answer(answer)
        answer_json = walk.full_json(marked, answer)
        versions_json = self._versions_for(merge_datasets(walk.cited))
        # The attestation's canonical JSON (`attestation.build`): {"answer", "question", "versions"}, keys
        # sorted, so the three parts joined in that order are its very bytes.
        att_sha = hashlib.sha256(b'{"answer":' + answer_json + b',"question":' + canonical_plain(question)
                                 + b',"versions":' + versions_json + b"}").hexdigest()
        public, facts = split_question(question)
        kind = "dispositif" if question.get("kind") == "evaluate" else "locate"
        trace = answer.get("trace") or {}
        rule = trace.get("rule") or {}
        if kind == "dispositif":
            outcome, decision_date = answer.get("outcome"), (trace.get("decision_date") or {}).get("value")
        else:
            outcome, decision_date = answer.get("status"), answer.get("date") or question.get("date")
        facts_json = canonical_plain(facts)
        row = {
            "recorded_at": recorded_at or now_utc(),
            "attestation_id": identifier_of(att_sha),
            "attestation_sha256": att_sha,
            "kind": kind,
            "served": self.served,
            "channel": self.channel,
            "dispositif": question.get("dispositif") if kind == "dispositif" else None,
            "outcome": str(outcome),
            "quartier": quartier_of(kind, answer),
            "rule_id": rule.get("id"),
            "rule_version": None if rule.get("version") is None else str(rule.get("version")),
            "rule_sha256": rule.get("sha256"),
            "data_sha256": self.data_sha256,
            "decision_date": decision_date,
            "question": canonical_plain(public).decode(),
            "answer": canonical_plain(stored).decode(),
            "versions": versions_json.decode(),
            "facts_sha256": hashlib.sha256(facts_json).hexdigest(),
        }
        full = lambda: {"facts": facts_json.decode(), "answer": answer_json.decode()}  # noqa: E731
        personal = full if self.keep_facts is None else full() if self.keep_facts else None
        return {"row": row, "personal": personal, "fragments": {} if walk.plain_only else walk.used,
                "rule": {"id": rule.get("id"), "file": rule.get("file"), "sha256": rule.get("sha256")} if rule.get("sha256") else None}


class Walk:
    """One pass over an answer (plain JSON) that gives what an entry needs of it:

    - `marked`: the answer with each fragment (FRAGMENT_KEYS) replaced by a marker, from which `full_json`
      composes the answer's canonical JSON with each fragment's cached canonical JSON (the attestation's bytes);
    - `stored`: the answer kept in the register: personal values (PERSONAL_KEYS) replaced by their sha256, each
      fragment by {"$fragment": sha256};
    - `cited`: the dicts of the trace that cite a dataset, in the order `web.wording.datasets_in` meets them;
    - `used`: {sha256: canonical JSON} of the fragments met (the entry refers to them unless `plain_only`: the
      answer holds a "$fragment" key of its own, and is then stored whole).

    A fragment's canonical JSON, sha256 and cited datasets are computed once per distinct fragment (per Walk).
    `tests/register/test_fragments.py` checks the bytes against the plain serialisation (hypothesis)."""

    MAX_CACHED = 20_000  # distinct fragments remembered (a rule file has a few hundred)
    # canonical JSON -> (sha256, text, cited) | None (not a fragment); shared by the walks of a process (the
    # service builds one entry per answer). Its values are never changed, so threads may share it.
    _known: dict[bytes, tuple | None] = {}

    MAX_SEEN = 4_096  # shared objects remembered by identity (a rule version's references and values)

    def __init__(self) -> None:
        # id(node) -> (node, what `_fragment` found): the answers of one decision frame share their references and
        # parameter values (`DecisionFrame._ref`), so a builder meeting the same object again looks it up instead
        # of serialising it. The node is held, so its id cannot be reused by another object meanwhile; answers are
        # never changed once built (the batch and the service only read them).
        self._seen: dict[int, tuple] = {}

    def start(self) -> None:
        self.cited: list[dict] = []
        self.used: dict[str, str] = {}
        self.marks = 0
        self.plain_only = False

    def answer(self, answer: dict[str, Any]) -> tuple[Any, Any]:
        marked, stored = {}, {}
        for k, v in answer.items():  # `datasets_in` reads the trace only
            marked[k], stored[k] = self._value(k, v, collect=k == "trace")
        if self.plain_only:
            return marked, redact(answer, is_plain=True)
        return marked, stored

    def full_json(self, marked: Any, answer: dict[str, Any]) -> bytes:
        """The canonical JSON of the answer, composed from `marked` and the fragments' cached JSON."""
        text = canonical_plain(marked)
        parts = _MARK_TEXT.split(text)
        if len(parts) // 2 != self.marks:  # a string of the answer spelled like a marker: serialise it whole
            return canonical_plain(answer)
        for i in range(1, len(parts), 2):
            parts[i] = self._text(parts[i].decode())
        return b"".join(parts)

    def _text(self, sha: str) -> bytes:
        return self.used[sha].encode()

    def _fragment(self, node: dict) -> tuple | None:
        seen = self._seen.get(id(node))
        if seen is not None and seen[0] is node:
            return seen[1]
        found = self._fragment_of(node)
        if len(self._seen) >= self.MAX_SEEN:
            self._seen.clear()
        self._seen[id(node)] = (node, found)
        return found

    def _fragment_of(self, node: dict) -> tuple | None:
        text = canonical_plain(node)
        found = self._known.get(text, False)
        if found is False:
            if len(self._known) >= self.MAX_CACHED:
                self._known.clear()
            from ..web.wording import dataset_nodes

            personal = any(k in PERSONAL_KEYS or k == FRAGMENT_REF for k in _keys(node))
            found = None if personal else (hashlib.sha256(text).hexdigest(), text.decode(), dataset_nodes(node))
            self._known[text] = found
        return found

    def _value(self, key: str, v: Any, collect: bool) -> tuple[Any, Any]:
        if key in PERSONAL_KEYS and v is not None:
            if collect:
                from ..web.wording import dataset_nodes

                self.cited += dataset_nodes(v)
            return v, _hashed(v, _plain_digest)
        if key in FRAGMENT_KEYS:
            if isinstance(v, dict):
                return self._as_fragment(v, collect)
            if isinstance(v, list):
                pairs = [self._as_fragment(x, collect) if isinstance(x, dict) else self._node(x, collect) for x in v]
                return [p[0] for p in pairs], [p[1] for p in pairs]
        return self._node(v, collect)

    def _as_fragment(self, node: dict, collect: bool) -> tuple[Any, Any]:
        found = self._fragment(node)
        if found is None:
            return self._node(node, collect)
        sha, text, cited = found
        self.used[sha] = text
        self.marks += 1
        if collect:
            self.cited += cited
        return _MARK + sha, {FRAGMENT_REF: sha}

    def _node(self, node: Any, collect: bool) -> tuple[Any, Any]:
        if isinstance(node, dict):
            if collect:
                from ..web.wording import is_dataset_node

                if is_dataset_node(node):
                    self.cited.append(node)
            if FRAGMENT_REF in node:
                self.plain_only = True
            marked, stored = {}, {}
            for k, v in node.items():
                if isinstance(v, (dict, list)) or k in PERSONAL_KEYS:
                    marked[k], stored[k] = self._value(k, v, collect)
                else:
                    marked[k] = stored[k] = v
            return marked, stored
        if isinstance(node, list):
            pairs = [self._node(x, collect) if isinstance(x, (dict, list)) else (x, x) for x in node]
            return [p[0] for p in pairs], [p[1] for p in pairs]
        return node, node


def _plain_digest(value: Any) -> str:
    return hashlib.sha256(canonical_plain(value)).hexdigest()


def _keys(node: Any):
    """Every key of a plain JSON value, at any depth."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield k
            yield from _keys(v)
    elif isinstance(node, list):
        for v in node:
            yield from _keys(v)


def fragment_refs(stored_answer: str) -> list[str]:
    """The sha256 of the fragments an entry's stored answer refers to."""
    return _REF_TEXT.findall(stored_answer) if FRAGMENT_REF in stored_answer else []


def expand(stored_answer: str, fragments: dict[str, str]) -> str:
    """The stored answer with its fragments back: the canonical JSON of the redacted answer, as stored before
    fragments existed (and as `qpv register show` and `export` give it). KeyError: a fragment is missing."""
    if FRAGMENT_REF not in stored_answer:
        return stored_answer
    return _REF_TEXT.sub(lambda m: fragments[m.group(1)], stored_answer)


# The columns the chain covers (quartier is derived from the answer, so it needs no hash of its own).
CHAINED = ("recorded_at", "attestation_id", "attestation_sha256", "kind", "served", "channel", "dispositif", "outcome",
           "rule_id", "rule_version", "rule_sha256", "data_sha256", "decision_date", "question", "answer", "versions",
           "facts_sha256")


def body_digest(row: dict[str, Any]) -> str:
    """sha256 over the chained columns. Their values are text or None (numbers at most), hence already plain:
    one json.dumps, the same bytes as `canonical`."""
    return hashlib.sha256(canonical_plain({k: row.get(k) for k in CHAINED})).hexdigest()


def link(seq: int, prev_hash: str, digest: str) -> str:
    """The entry's hash: its number, the previous entry's hash and its own content."""
    return hashlib.sha256(f"{seq}:{prev_hash}:{digest}".encode()).hexdigest()
