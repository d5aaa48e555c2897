"""Shared fragments of answers (legal references, parameters, datasets cited) stored once, and the attestation's
canonical JSON composed from their cached bytes: the same bytes as the plain serialisation, and a chain that still
detects a changed or removed fragment."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from cli.main import qpv
from eligibility.register import Register
from eligibility.register import entries as E
from eligibility.register.schema import GENESIS, REVISION
from eligibility.web.attestation import build as attestation, canonical_plain
from eligibility.web.wording import datasets_in

from .conftest import EXAMPLE_FACTS, decision_entry, locate_entry, open_register, versions

# Keys that matter to the walk (fragments, personal values, dataset citations, its own reference key) and others.
KEYS = st.sampled_from(sorted(E.FRAGMENT_KEYS | E.PERSONAL_KEYS) + [
    "dataset", "index", "sha256", "files", "path", "vintage", "text", "article", "trace", "value",
    E.FRAGMENT_REF, "x"])
MARKER_LIKE = st.sampled_from([E._MARK + "a" * 64, "\x00\x01", "sha256:" + "b" * 64, "§", '{"$fragment":"' + "c" * 64 + '"}'])
LEAVES = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | \
    st.text(max_size=12) | MARKER_LIKE
JSON = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
                    max_leaves=40)
# Like every answer: an object, whose trace (when there is one) is an object.
ANSWERS = st.builds(lambda top, trace: {**top, "trace": trace} if trace is not None else top,
                    st.dictionaries(KEYS.filter(lambda k: k != "trace") | st.just("outcome"), JSON, max_size=5),
                    st.none() | st.dictionaries(KEYS, JSON, max_size=6))
# A few fragment values seen again and again (as a rule's references are), so the cache is exercised.
SHARED = [{"text": "Décret n° 2019-1471", "article": "art. 11", "confirmed": True},
          {"dataset": "qp2024", "sha256": "d" * 64, "files": [{"path": "a.gz", "sha256": "e" * 64}]},
          {"parameter": "age", "value": 26, "legal_reference": {"text": "Décret", "confirmed": False}}]


def plain_canonical(obj) -> bytes:
    """The plain canonical serialisation the attestation identifier is defined over (the oracle)."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def plain_redact(node):
    """entries.redact, spelled plainly with the oracle's bytes."""
    if isinstance(node, dict):
        return {k: (v if isinstance(v, str) and v.startswith("sha256:") else "sha256:" + hashlib.sha256(plain_canonical(v)).hexdigest())
                if k in E.PERSONAL_KEYS and v is not None else plain_redact(v) for k, v in node.items()}
    return [plain_redact(v) for v in node] if isinstance(node, list) else node


@settings(max_examples=300, deadline=None)
@given(value=JSON)
def test_canonical_bytes_are_json_dumps(value):
    assert canonical_plain(value) == plain_canonical(value)


def _question():
    return {"kind": "evaluate", "dispositif": "emplois-francs", "facts": {"employee.birth_date": "2000-01-01"}, "date": None}


def _check(answer: dict, builder: E.Builder) -> None:
    answer = json.loads(json.dumps(answer))  # plain JSON, as the register receives it
    try:
        expected = attestation(_question(), answer, builder.versions, is_plain=True)
    except (TypeError, AttributeError) as exc:  # a dataset citation no trace has ("files": 1): refused alike
        with pytest.raises(type(exc)):
            builder.build(_question(), answer)
        return
    built = builder.build(_question(), answer)
    body = {"question": _question(), "answer": answer, "versions": {**builder.versions, "datasets": datasets_in(answer.get("trace"))}}
    assert built["row"]["attestation_sha256"] == hashlib.sha256(plain_canonical(body)).hexdigest() == expected["sha256"]
    assert built["row"]["attestation_id"] == expected["identifier"]
    assert built["row"]["versions"] == canonical_plain(expected["versions"]).decode()
    # The stored answer, its fragments put back, is the redacted answer as stored before fragments existed.
    assert E.expand(built["row"]["answer"], built["fragments"]) == plain_canonical(plain_redact(answer)).decode()
    assert built["personal"]()["answer"] == plain_canonical(answer).decode()
    for sha, body in built["fragments"].items():
        assert hashlib.sha256(body.encode()).hexdigest() == sha
        assert not set(E._keys(json.loads(body))) & E.PERSONAL_KEYS  # never personal data in a shared fragment


@settings(max_examples=300, deadline=None)
@given(answer=ANSWERS, shared=st.lists(st.tuples(st.sampled_from(sorted(E.FRAGMENT_KEYS)), st.sampled_from(range(len(SHARED)))),
                                        max_size=6))
def test_composed_bytes_are_the_plain_canonical_serialisation(answer, shared):
    """Any answer (keys that are fragments, personal values, dataset citations, marker-like strings, the reference
    key itself): same attestation hash, same versions, same redacted answer once expanded, same full answer."""
    trace = answer.get("trace", answer)
    for key, i in shared:
        trace.setdefault(key, []) if key not in trace or isinstance(trace[key], list) else None
        if isinstance(trace.get(key), list):
            trace[key].append(SHARED[i])
        else:
            trace[key] = SHARED[i]
    _check(answer, E.Builder({"engine": "qpv test", "rules": []}, served="answer", channel="cli", data_sha256="0" * 64,
                             keep_facts=None))


def test_real_decisions_and_places_compose_the_same_bytes():
    from eligibility.rules import evaluate
    from eligibility.web.engine import DomainEngine

    builder = E.Builder(versions(), served="answer", channel="cli", data_sha256="0" * 64)
    for date in (None, dt.date(2024, 6, 1), dt.date(2019, 5, 1)):
        _check(evaluate("emplois-francs", EXAMPLE_FACTS, date=date).to_json(), builder)
    for lon, lat in ((1.1039, 44.1036), (-0.506648, 43.900985), (2.35, 48.85)):
        _check(DomainEngine().locate(lon, lat, None), builder)


def _raw(reg: Register, sql: str, **params):
    with reg.engine.begin() as conn:
        result = conn.execute(text(sql), params)
        return result.all() if result.returns_rows else None


def test_each_fragment_is_stored_once_and_entries_come_back_whole(any_url):
    reg = open_register(any_url)
    built = [decision_entry(), decision_entry(), locate_entry()]
    reg.append(built[:1])
    count = _raw(reg, "SELECT count(*) FROM register_fragments")[0][0]
    assert count == len(built[0]["fragments"]) > 10
    reg.append(built[1:])
    assert _raw(reg, "SELECT count(*) FROM register_fragments")[0][0] == len(set(built[0]["fragments"]) | set(built[2]["fragments"]))
    stored = _raw(reg, "SELECT answer FROM register_entries WHERE seq = 1")[0][0]
    whole = E.expand(built[0]["row"]["answer"], built[0]["fragments"])
    assert stored == built[0]["row"]["answer"] and len(stored) < len(whole) / 2  # most of a decision is shared
    for seq, item in enumerate(built, start=1):
        assert reg.get(str(seq))["answer"] == json.loads(E.expand(item["row"]["answer"], item["fragments"]))
    assert [e["answer"] for e in reg.list()] == [reg.get(str(i))["answer"] for i in (1, 2, 3)]
    assert reg.verify_chain()["ok"]


def test_a_changed_or_removed_shared_fragment_is_detected(any_url):
    reg = open_register(any_url)
    reg.append([decision_entry(), decision_entry(), locate_entry()])
    assert reg.verify_chain()["ok"]
    first = E.fragment_refs(_raw(reg, "SELECT answer FROM register_entries WHERE seq = 1")[0][0])
    located = set(E.fragment_refs(_raw(reg, "SELECT answer FROM register_entries WHERE seq = 3")[0][0]))
    shared = next(sha for sha in first if sha not in located)  # a legal reference of the decision
    body = _raw(reg, "SELECT body FROM register_fragments WHERE sha256 = :s", s=shared)[0][0]
    _raw(reg, "UPDATE register_fragments SET body = :b WHERE sha256 = :s", s=shared, b=body.replace("art.", "article"))
    report = reg.verify_chain()
    assert not report["ok"]
    assert {(p["seq"], p["problem"]) for p in report["problems"]} == {(1, "fragment_altered"), (2, "fragment_altered")}
    _raw(reg, "UPDATE register_fragments SET body = :b WHERE sha256 = :s", s=shared, b=body)
    assert reg.verify_chain()["ok"]
    _raw(reg, "DELETE FROM register_fragments WHERE sha256 = :s", s=shared)
    report = reg.verify_chain()
    assert {(p["seq"], p["problem"]) for p in report["problems"]} == {(1, "fragment_altered"), (2, "fragment_altered")}
    out = CliRunner().invoke(qpv, ["register", "verify-chain", "--register", any_url])
    assert out.exit_code == 1


def test_export_writes_whole_answers(sqlite_url, tmp_path):
    reg = open_register(sqlite_url)
    built = [decision_entry(), locate_entry()]
    reg.append(built)
    out = CliRunner().invoke(qpv, ["register", "export", "--format", "csv", "-o", str(tmp_path / "r.csv"),
                                   "--register", sqlite_url])
    assert out.exit_code == 0, out.output
    import pandas as pd

    frame = pd.read_csv(tmp_path / "r.csv", dtype=str)
    assert list(frame["answer"]) == [E.expand(b["row"]["answer"], b["fragments"]) for b in built]


def test_schema_r0003_with_entries_is_migrated_and_its_entries_stay_whole(any_url):
    old = Register(any_url, migrate=False)
    old.migrate("r0003")
    assert "register_fragments" not in set(inspect(old.engine).get_table_names())
    prev = GENESIS
    with old.engine.begin() as conn:  # entries written by the r0003 code: whole answers
        for seq, built in enumerate([decision_entry(), locate_entry()], start=1):
            row = {**built["row"], "answer": E.expand(built["row"]["answer"], built["fragments"])}
            row.update(seq=seq, prev_hash=prev, entry_hash=E.link(seq, prev, E.body_digest(row)))
            prev = row["entry_hash"]
            conn.execute(text(f"INSERT INTO register_entries ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"), row)
        conn.execute(text("UPDATE register_head SET seq = 2, entry_hash = :h WHERE id = 1"), {"h": prev})
    whole = old.get("1")["answer"]
    new = Register(any_url)
    assert new.schema_revision() == REVISION == "r0004"
    assert "register_fragments" in set(inspect(new.engine).get_table_names())
    assert new.verify_chain()["ok"]
    new.append([decision_entry()])  # a new entry refers to fragments; the old ones keep their whole answer
    assert E.fragment_refs(_raw(new, "SELECT answer FROM register_entries WHERE seq = 3")[0][0])
    assert not E.fragment_refs(_raw(new, "SELECT answer FROM register_entries WHERE seq = 1")[0][0])
    assert new.get("1")["answer"] == whole == new.get("3")["answer"]
    report = new.verify_chain()
    assert report["ok"] and report["entries"] == 3


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(date=st.sampled_from([None, dt.date(2024, 6, 1), dt.date(2021, 1, 15)]))
def test_recheck_reproduces_an_entry_stored_with_fragments(sqlite_url, date):
    from eligibility.register.recheck import recheck

    reg = open_register(sqlite_url)
    done = reg.append([decision_entry(date=date)])[0]
    assert recheck(reg, str(done["seq"]), EXAMPLE_FACTS)["reproduced"]
