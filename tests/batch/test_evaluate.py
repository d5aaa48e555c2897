"""`batch evaluate`: every row's decision and trace equal those of evaluating that row alone."""
import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings, strategies as st

from eligibility.batch import run_file
from eligibility.errors import BadInput
from eligibility.batch.evaluate import EvaluateJob, LIST_SEPARATOR, row_details
from eligibility.rules import evaluate, evaluate_frame, get_rule

from conftest import POINTS

COLUMNS = ["id", "contract.type", "contract.signature_date", "contract.duration_months",
           "contract.working_time_ratio", "employee.residence.lon", "employee.residence.lat", "employee.birth_date",
           "employee.status", "employee.jobseeker_category", "employee.employed_by_employer_last_6_months",
           "employer.kind", "employer.up_to_date_with_obligations", "employer.economic_dismissal_last_6_months",
           "application_date"]
BASE = ["x", "CDI", "01/03/2024", "", "1", "5,23227", "46,21069", "1990-05-01", "jobseeker", "1", "non", "company",
        "oui", "non", "2024-03-15"]


def _nested(flat: dict) -> dict:
    """Dotted fact paths to the facts dict of the single-decision API (None: the fact is not given)."""
    out: dict = {}
    for path, value in flat.items():
        if value is None:
            continue
        *head, last = path.split(".")
        d = out
        for h in head:
            d = d.setdefault(h, {})
        d[last] = value
    return out


def fr_to_facts(row: dict) -> dict:
    """What a row of the French CSV says, as the facts dict of the single-decision API."""
    facts = {}
    for k, v in row.items():
        if k == "id" or v == "":
            continue
        if k.endswith((".lon", ".lat", "duration_months", "working_time_ratio", "jobseeker_category")):
            v = float(v.replace(",", "."))
            if k.endswith("jobseeker_category"):
                v = int(v)
        elif "/" in v:
            d, m, y = v.split("/")
            v = f"{y}-{m}-{d}"
        elif v in ("oui", "non"):
            v = v == "oui"
        facts[k] = v
    return _nested(facts)


VARIANTS = [
    {}, {"contract.type": "CDD", "contract.duration_months": "12", "contract.working_time_ratio": "0,5"},
    {"contract.type": "CDD", "contract.duration_months": "3"}, {"contract.signature_date": "2019-12-31"},
    {"employee.residence.lon": "2", "employee.residence.lat": "46"}, {"employer.kind": "epa"},
    {"contract.type": ""}, {"employee.residence.lon": "", "employee.residence.lat": ""},
    {"employee.birth_date": "2001-01-01", "contract.signature_date": "2021-01-10", "application_date": "2021-02-01"},
    {"contract.type": "CDX"}, {"contract.working_time_ratio": "deux"},
    {"employee.residence.lon": "-0,5", "employee.residence.lat": "43,9", "contract.signature_date": "2020-06-01",
     "application_date": "2020-06-15"},
]


def write_rows(path, variants):
    rows = []
    for i, v in enumerate(variants):
        r = dict(zip(COLUMNS, BASE))
        r.update(v)
        r["id"] = f"r{i}"
        rows.append(r)
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, sep=";", index=False)
    return rows


def test_batch_rows_and_traces_equal_single_decisions(tmp_path):
    src = tmp_path / "in.csv"
    rows = write_rows(src, VARIANTS)
    summary = run_file(lambda r: EvaluateJob("emplois-francs", r, traces=True, keep=("id",)), src,
                       tmp_path / "out.csv", chunk_size=5, traces=tmp_path / "t.jsonl", show_progress=False)
    out = pd.read_csv(tmp_path / "out.csv", sep=";", dtype=str, keep_default_na=False, decimal=",")
    traces = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert list(out["id"]) == [r["id"] for r in rows] and [t["row"] for t in traces] == list(range(1, len(rows) + 1))
    assert set(out["outcome"]) == {"eligible", "not_eligible", "undetermined", "error"}
    for row, o, t in zip(rows, out.to_dict("records"), traces):
        if o["outcome"] == "error":
            assert o["error"] and t == {"row": t["row"], "error": o["error"]}
            continue
        alone = evaluate("emplois-francs", fr_to_facts(row)).to_json()
        assert t == {"row": t["row"], **json.loads(json.dumps(alone))}
        assert o["outcome"] == alone["outcome"]
        assert o["reasons"] == LIST_SEPARATOR.join(r["condition"] for r in alone["reasons"])
        assert o["missing_inputs"] == LIST_SEPARATOR.join(alone["missing_inputs"])
        total = alone["amounts"].get("total")
        assert (o["amount.total"] == "") == (total is None)
        if total is not None:
            assert float(o["amount.total"].replace(",", ".")) == total
    assert "dates JJ/MM/AAAA dans « contract.signature_date »" in summary["detected"]
    assert summary["counts"]["error"] == 2



def test_blank_and_padded_text_cells_read_like_the_engine(tmp_path):
    """The batch passes text columns (pandas 3 `str` dtype) to the engine unchanged: a whitespace-only cell is
    a missing fact, a padded value is the value (the engine strips), as in a single decision without the fact."""
    variants = [{"employer.kind": "   "}, {"employer.up_to_date_with_obligations": " \t "},
                {"employer.kind": " company ", "employer.up_to_date_with_obligations": "  oui"}]
    rows = write_rows(tmp_path / "in.csv", variants)
    run_file(lambda r: EvaluateJob("emplois-francs", r, keep=("id",)), tmp_path / "in.csv", tmp_path / "out.csv",
             show_progress=False)
    out = pd.read_csv(tmp_path / "out.csv", sep=";", dtype=str, keep_default_na=False)
    assert list(out["outcome"]) == ["undetermined", "undetermined", "eligible"]
    assert list(out["missing_inputs"][:2]) == ["employer.kind",  # a blank "à jour" also asks for the plan d'apurement
                                               "employer.repayment_plan_respected | employer.up_to_date_with_obligations"]
    for row, o in zip(rows, out.to_dict("records")):
        facts = fr_to_facts({k: v.strip() for k, v in row.items()})
        assert o["outcome"] == evaluate("emplois-francs", facts).outcome


FACT_VALUES = {
    "contract.type": st.sampled_from(["CDI", "CDD", None]),
    "contract.signature_date": st.sampled_from(["2019-12-31", "2020-01-01", "2023-12-31", "2024-06-01", "2024-12-31",
                                                "2025-01-01", None]),
    "contract.duration_months": st.sampled_from([3.0, 6.0, 12.0, 30.0, None]),
    "contract.working_time_ratio": st.sampled_from([0.25, 0.5, 1.0, None]),
    "point": st.sampled_from(list(range(len(POINTS))) + [None]),
    "employee.status": st.sampled_from(["jobseeker", "csp", "mission_locale", "other", None]),
    "employee.jobseeker_category": st.sampled_from([1.0, 4.0, 8.0, None]),
    "employer.kind": st.sampled_from(["company", "epic", "private_individual", None]),
    "employer.up_to_date_with_obligations": st.sampled_from([True, False, None]),
    "application_date": st.sampled_from(["2024-06-20", "2024-12-01", None]),
}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries(FACT_VALUES), min_size=1, max_size=25))
def test_detail_columns_equal_the_engines_per_row_answers(rows):
    pts = [r.pop("point") for r in rows]
    df = pd.DataFrame(rows)
    df["employee.residence.lon"] = [np.nan if p is None else POINTS[p][0] for p in pts]
    df["employee.residence.lat"] = [np.nan if p is None else POINTS[p][1] for p in pts]
    frame = evaluate_frame(get_rule("emplois-francs"), df, errors="collect")
    details = row_details(frame)
    for i in range(len(df)):
        d = frame.decision(i)
        assert details["reasons"][i] == (LIST_SEPARATOR.join(r["condition"] for r in d.reasons) or None)
        assert details["missing_inputs"][i] == (LIST_SEPARATOR.join(d.missing_inputs) or None)
        amb = LIST_SEPARATOR.join(f"{a.get('fact') or a.get('parameter')}:{a['status']}" for a in d.ambiguities)
        assert details["ambiguities"][i] == (amb or None)


def test_address_facts_are_resolved_like_the_single_decision(tmp_path):
    src = tmp_path / "in.csv"
    row = dict(zip(COLUMNS, BASE))
    del row["employee.residence.lon"], row["employee.residence.lat"]
    row["employee.residence.address"] = "1 place des Récollets, 82200 Moissac"
    pd.DataFrame([row]).to_csv(src, sep=";", index=False)
    run_file(lambda r: EvaluateJob("emplois-francs", r, traces=True), src, tmp_path / "o.csv",
             traces=tmp_path / "t.jsonl", show_progress=False)
    facts = fr_to_facts({k: v for k, v in row.items() if k != "employee.residence.address"})
    facts["employee"]["residence"] = {"address": row["employee.residence.address"]}
    alone = evaluate("emplois-francs", facts).to_json()
    line = json.loads((tmp_path / "t.jsonl").read_text())
    assert line == {"row": 1, **json.loads(json.dumps(alone))}


MANY_FACT_VALUES = {  # several values per fact, every fact may be missing: rows share known-ness, not values
    **FACT_VALUES,
    "contract.follows_emploi_franc_cdd": st.sampled_from([True, False, None]),
    "employee.birth_date": st.sampled_from(["1960-02-01", "1990-05-01", "2003-07-14", None]),
    "employee.status": st.sampled_from(["jobseeker", "csp", "mission_locale", "other", None]),
    "employee.employed_by_employer_last_6_months": st.sampled_from([True, False, None]),
    "employer.repayment_plan_respected": st.sampled_from([True, False, None]),
    "employer.economic_dismissal_last_6_months": st.sampled_from([True, False, None]),
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries(MANY_FACT_VALUES), min_size=1, max_size=40))
def test_grouped_detail_columns_equal_single_decisions(rows):
    """The batch computes reasons, missing inputs and ambiguities once per distinct combination of what they
    print and broadcasts them; each row must still read exactly what `evaluate()` of that row alone says."""
    rule = get_rule("emplois-francs")
    pts = [r.pop("point") for r in rows]
    df = pd.DataFrame(rows)
    df["employee.residence.lon"] = [np.nan if p is None else POINTS[p][0] for p in pts]
    df["employee.residence.lat"] = [np.nan if p is None else POINTS[p][1] for p in pts]
    frame = evaluate_frame(rule, df, errors="collect")
    details = row_details(frame)
    for i, (row, p) in enumerate(zip(rows, pts)):
        flat = dict(row)
        if flat["employee.jobseeker_category"] is not None:
            flat["employee.jobseeker_category"] = int(flat["employee.jobseeker_category"])
        facts = _nested(flat)
        if p is not None:
            facts.setdefault("employee", {})["residence"] = {"lon": POINTS[p][0], "lat": POINTS[p][1]}
        try:
            d = evaluate(rule, facts)
        except BadInput:  # contradictory facts: an error row in the batch, with no detail lists
            assert frame.outcome[i] == "error"
            assert (details["reasons"][i], details["missing_inputs"][i], details["ambiguities"][i]) == (None,) * 3
            continue
        assert frame.outcome[i] == d.outcome
        assert details["reasons"][i] == (LIST_SEPARATOR.join(r["condition"] for r in d.reasons) or None)
        assert details["missing_inputs"][i] == (LIST_SEPARATOR.join(d.missing_inputs) or None)
        amb = LIST_SEPARATOR.join(f"{a.get('fact') or a.get('parameter')}:{a['status']}" for a in d.ambiguities)
        assert details["ambiguities"][i] == (amb or None)


def test_rows_with_the_same_known_facts_keep_their_own_missing_inputs():
    """Two undetermined CDD rows with the same facts known but a different status: the jobseeker's category is
    missing for the jobseeker only (a batch once grouped rows by which facts were known and gave both rows the
    first one's list)."""
    common = {"contract.type": "CDD", "contract.signature_date": "2024-06-01", "contract.duration_months": 12.0,
              "contract.working_time_ratio": 1.0, "employee.birth_date": "1990-05-01",
              "employer.kind": "company", "employer.up_to_date_with_obligations": True,
              "employer.economic_dismissal_last_6_months": False, "application_date": "2024-06-20",
              "employee.residence.lon": POINTS[0][0], "employee.residence.lat": POINTS[0][1]}
    df = pd.DataFrame([{**common, "employee.status": "other"}, {**common, "employee.status": "jobseeker"}])
    frame = evaluate_frame(get_rule("emplois-francs"), df, errors="collect")
    details = row_details(frame)
    assert list(frame.outcome) == ["undetermined", "undetermined"]
    assert [frame.missing(0), frame.missing(1)] == [m.split(LIST_SEPARATOR) for m in details["missing_inputs"]]
    assert "employee.jobseeker_category" in frame.missing(1)
    assert "employee.jobseeker_category" not in frame.missing(0)


def test_warm_all_loads_the_boundary_cells_the_forked_workers_test_near_boundaries_with(forget):
    """Before forking its workers, `batch evaluate` loads every metropolitan vintage's boundary cells, as `batch
    locate` does: a worker's exact tests near a quartier boundary then read them, instead of each worker building
    an STRtree of the boundary segments (`QuartierIndex.pieces`). Same answers either way (tests/geography)."""
    from eligibility.geography import index, territories, vintages

    forget()
    try:
        EvaluateJob("emplois-francs", {c: c for c in COLUMNS}).warm_all()
        metropole = territories.ZONES[0]
        indexes = [index.quartier_index(r.dataset_id, metropole.name) for r in vintages.rules()
                   if r.territory == metropole.territory]
        assert indexes and all("cells" in qi._trees and "pieces" not in qi._trees for qi in indexes)
    finally:
        forget()
