"""`recheck` recomputes a recorded decision with the recorded rules and with today's.

Every YAML case of every dispositif rule file is recorded (facts hashed only) and re-checked with its
facts supplied again: each is reproduced, through the CLI as through the function.
"""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.errors import BadInput
from eligibility.register import Register
from eligibility.register import entries as E
from eligibility.register.recheck import recheck
from eligibility.rules import load_rules
from qpv_cli.main import qpv

from .conftest import EXAMPLE_FACTS, ROOT, decision_entry, locate_entry

# Contradictory facts (expect bad_input) give no decision, so nothing to record.
CASES = [(rid, case) for rid, rule in sorted(load_rules().items()) if rule.model.kind == "dispositif"
         for case in rule.model.tests if case.expect.outcome != "bad_input"]


def test_there_are_cases_of_every_dispositif():
    assert {rid for rid, _ in CASES} >= {"emplois-francs", "tfpb", "adultes-relais"}
    assert len(CASES) > 50


def test_every_yaml_case_is_reproduced(sqlite_url):
    reg = Register(sqlite_url)
    reg.append(decision_entry(facts=case.facts, date=case.date, dispositif=rid) for rid, case in CASES)
    failures = []
    for seq, (rid, case) in enumerate(CASES, start=1):
        report = recheck(reg, str(seq), case.facts)
        if not (report["reproduced"] and report["today"]["same_answer"]):
            failures.append((rid, case.name, report))
        assert report["recorded"]["outcome"] == case.expect.outcome
    assert failures == []
    assert reg.verify_chain()["entries"] == len(CASES)


def run(*args):
    return CliRunner().invoke(qpv, list(args))


def test_recheck_command_exit_codes(sqlite_url, tmp_path):
    Register(sqlite_url).append([decision_entry()])
    facts = tmp_path / "faits.json"
    facts.write_text(json.dumps(EXAMPLE_FACTS))
    ok = run("register", "recheck", "1", "--facts", str(facts), "--register", sqlite_url)
    assert ok.exit_code == 0, ok.output
    assert "Reproduite" in ok.output and "même réponse" in ok.output
    no_facts = run("register", "recheck", "1", "--register", sqlite_url)
    assert no_facts.exit_code == 2 and "ne sont pas conservés" in no_facts.output
    other = tmp_path / "autres.json"
    other.write_text(json.dumps({**EXAMPLE_FACTS, "application_date": "2024-03-21"}))
    wrong = run("register", "recheck", "1", "--facts", str(other), "--register", sqlite_url)
    assert wrong.exit_code == 2 and "empreinte diffère" in wrong.output
    missing = run("register", "recheck", "99", "--register", sqlite_url)
    assert missing.exit_code == 2 and "aucune entrée « 99 »" in missing.output


def test_kept_facts_need_no_file_and_locate_is_rechecked(sqlite_url):
    reg = Register(sqlite_url, keep_facts=True)
    reg.append([decision_entry(), locate_entry()])
    assert recheck(reg, "1")["reproduced"]
    report = recheck(reg, "2")
    assert report["reproduced"] and report["kind"] == "locate" and report["today"]["outcome"] == "outside"


def test_changed_rule_file_reproduced_with_recorded_text_and_change_reported(sqlite_url, tmp_path, monkeypatch):
    """The rule file is edited after the decision: the archived text reproduces it (exit 0), and today's
    answer, computed with the edited file, is reported with what changed."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    monkeypatch.setenv("QPV_RULES_DIR", str(rules))
    reg = Register(sqlite_url, keep_facts=True)
    reg.append([decision_entry()])
    path = rules / "emplois-francs.yaml"
    text = path.read_text()
    assert "version: " in text
    path.write_text(text.replace("version: ", "version: 9", 1))  # a new version of the file, same law
    report = recheck(reg, "1")
    assert report["with_recorded_rules"]["reproduced"] is True
    assert report["reproduced"] is True
    changed = {c["what"] for c in report["today"]["changes"]}
    assert {"rule_version", "rule_sha256"} <= changed
    out = run("register", "recheck", "1", "--register", sqlite_url)
    assert out.exit_code == 0 and "version de la règle" in out.output


def test_tampered_answer_is_not_reproduced(sqlite_url):
    from sqlalchemy import text

    reg = Register(sqlite_url, keep_facts=True)
    reg.append([decision_entry()])
    with reg.engine.begin() as conn:
        conn.execute(text("UPDATE register_entries SET attestation_id = 'QPV-0000-0000-0000-0000-0000' WHERE seq = 1"))
    report = recheck(reg, "1")
    assert report["reproduced"] is False
    out = run("register", "recheck", "1", "--register", sqlite_url)
    assert out.exit_code == 1 and "Non reproduite" in out.output


# --- property: facts -> hash -> recheck -----------------------------------------------------------

FACTS = st.fixed_dictionaries({
    "contract": st.fixed_dictionaries({
        "type": st.sampled_from(["CDI", "CDD"]),
        "signature_date": st.dates(min_value=__import__("datetime").date(2019, 6, 1),
                                   max_value=__import__("datetime").date(2025, 6, 30)).map(lambda d: d.isoformat()),
        "working_time_ratio": st.sampled_from([0.5, 0.8, 1.0]),
    }),
    "employee": st.fixed_dictionaries({
        "residence": st.one_of(st.just({"lon": -0.506648, "lat": 43.900985}), st.just({"quartier_code": "QN04004M"}),
                               st.just({"lon": 1.1039, "lat": 44.1036})),
        "birth_date": st.sampled_from(["1990-05-12", "2001-11-30", "1961-02-01"]),
        "status": st.sampled_from(["jobseeker", "csp", "mission_locale", "other"]),
        "jobseeker_category": st.integers(1, 8),
    }),
    "employer": st.fixed_dictionaries({"kind": st.sampled_from(["company", "association"]),
                                       "up_to_date_with_obligations": st.booleans()}),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(facts=FACTS, flat=st.booleans())
def test_facts_hash_recheck_property(tmp_path_factory, facts, flat):
    """Any facts, nested or as dotted paths: the register keeps only their hash, the same facts supplied again
    are accepted and reproduce the decision, and a single changed value is refused as not the recorded facts."""
    from eligibility.web.attestation import flat_facts

    url = f"sqlite:///{tmp_path_factory.mktemp('reg') / 'r.sqlite3'}"
    reg = Register(url)
    built = decision_entry(facts=facts)
    reg.append([built])
    stored = reg.get("1")
    assert stored["facts_sha256"] == E.sha256_of(flat_facts(facts))
    assert facts["employee"]["birth_date"] not in json.dumps(stored)
    supplied = flat_facts(facts) if flat else facts
    report = recheck(reg, "1", supplied)
    assert report["reproduced"] and report["today"]["same_answer"]
    changed = json.loads(json.dumps(facts))
    changed["employee"]["jobseeker_category"] = facts["employee"]["jobseeker_category"] % 8 + 1
    with pytest.raises(BadInput, match="empreinte diffère"):
        recheck(reg, "1", changed)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["input", "inputs", "carreau", "status", "x"]), inner, max_size=3), max_leaves=12))
def test_redaction_is_idempotent_and_hides_personal_keys(obj):
    once = E.redact(obj)
    assert E.redact(once) == once

    def personal_values(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k in E.PERSONAL_KEYS and v is not None:
                    yield v
                else:
                    yield from personal_values(v)
        elif isinstance(o, list):
            for v in o:
                yield from personal_values(v)

    assert all(isinstance(v, str) and v.startswith(E.REDACTED_PREFIX) for v in personal_values(once))
