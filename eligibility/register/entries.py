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
import json
from pathlib import Path
from typing import Any

from ..web.attestation import canonical_plain, plain

# Keys of an answer (at any depth) whose values come from the person's facts: the point asked, its
# projected coordinates and 200 m square, the geocoded address, the fact values a condition read.
PERSONAL_KEYS = frozenset({"input", "inputs", "metric_coordinates", "carreau", "geocoding"})
REDACTED_PREFIX = "sha256:"
# The parts of a locate question that are the person's place: kept apart like an evaluation's facts.
PLACE_KEYS = ("lon", "lat", "x", "y", "address")


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
    return Builder(plain(versions), served=served, channel=channel, data_sha256=data_sha256).build(
        plain(question), plain(answer), recorded_at=recorded_at)


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

    def _versions_for(self, answer: dict[str, Any]) -> bytes:
        from ..web.wording import datasets_in

        cited = canonical_plain(datasets_in(answer.get("trace")))
        if cited not in self._versions_json:
            self._versions_json[cited] = canonical_plain({**self.versions, "datasets": json.loads(cited)})
        return self._versions_json[cited]

    def build(self, question: dict[str, Any], answer: dict[str, Any], recorded_at: str | None = None) -> dict[str, Any]:
        """The entry of `question` and `answer`, both plain JSON already (`plain`, or read back from JSON)."""
        from ..web.attestation import identifier_of

        versions_json, answer_json = self._versions_for(answer), canonical_plain(answer)
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
            "answer": canonical_plain(redact(answer, is_plain=True)).decode(),
            "versions": versions_json.decode(),
            "facts_sha256": hashlib.sha256(facts_json).hexdigest(),
        }
        full = lambda: {"facts": facts_json.decode(), "answer": answer_json.decode()}  # noqa: E731
        personal = full if self.keep_facts is None else full() if self.keep_facts else None
        return {"row": row, "personal": personal, "rule": {"id": rule.get("id"), "file": rule.get("file"),
                                                           "sha256": rule.get("sha256")} if rule.get("sha256") else None}


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
