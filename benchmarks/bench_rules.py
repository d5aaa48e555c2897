"""Rules engine throughput: `evaluate_frame` on 1,000,000 emplois-francs rows (the batch chunk size).

Peer in the same run: the single-decision path, `evaluate(...)` called once per row (pydantic validation,
a frame of one, trace), on the first rows of the same data. Both go through the same evaluator, so the
decisions must agree; the script checks it on the peer's rows.

Reports: end to end with {lon, lat} places (includes geography's locate_points), the part spent in
locate_points, the same with dates given as ISO text, and end to end with {quartier_code} places. Synthetic facts, seed 0; places drawn around
Moissac (real perimeters QP082003 / QN08203M).

    .venv/bin/python benchmarks/bench_rules.py [N]
"""
from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

import eligibility.geography as geography
from eligibility.rules import evaluate, evaluate_frame


def facts(n: int, places: str) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    sign = (np.datetime64("2020-01-01") + rng.integers(0, 1827, n)).astype("datetime64[D]")
    df = pd.DataFrame({
        "contract.type": rng.choice(["CDI", "CDD"], n),
        "contract.signature_date": sign,
        "contract.duration_months": rng.integers(3, 30, n).astype(float),
        "contract.working_time_ratio": rng.choice([0.5, 0.8, 1.0], n),
        "employee.birth_date": (np.datetime64("1965-01-01") + rng.integers(0, 14000, n)).astype("datetime64[D]"),
        "employee.status": rng.choice(["jobseeker", "csp", "mission_locale", "other"], n, p=[0.7, 0.1, 0.1, 0.1]),
        "employee.jobseeker_category": rng.integers(1, 9, n),
        "employee.employed_by_employer_last_6_months": rng.random(n) < 0.05,
        "employer.kind": rng.choice(["company", "association", "sem", "epa"], n, p=[0.7, 0.2, 0.05, 0.05]),
        "employer.up_to_date_with_obligations": rng.random(n) < 0.97,
        "employer.economic_dismissal_last_6_months": rng.random(n) < 0.03,
        "application_date": sign + rng.integers(0, 100, n),
    })
    if places == "lon_lat":
        df["employee.residence.lon"] = 1.08456 + rng.normal(0, 0.004, n)
        df["employee.residence.lat"] = 44.10334 + rng.normal(0, 0.003, n)
    else:
        df["employee.residence.quartier_code"] = np.where(sign < np.datetime64("2024-01-01"), "QP082003", "QN08203M")
    return df


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main(n: int) -> None:
    spent = {"locate": 0.0}
    real_locate = geography.locate_points

    def counting_locate(*a, **k):
        res, el = timed(lambda: real_locate(*a, **k))
        spent["locate"] += el
        return res

    geography.locate_points = counting_locate
    evaluate_frame("emplois-francs", facts(1000, "lon_lat"))  # warm caches (perimeters, rule file)
    spent["locate"] = 0.0

    df = facts(n, "lon_lat")
    frame, el = timed(lambda: evaluate_frame("emplois-francs", df))
    counts = pd.Series(frame.outcome).value_counts().to_dict()
    print(f"evaluate_frame, {n:,} rows, {{lon, lat}} places: {el:.2f} s = {n / el:,.0f} rows/s "
          f"(locate_points {spent['locate']:.2f} s; rules without it {n / (el - spent['locate']):,.0f} rows/s)")
    print(f"    outcomes: {counts}")
    _, el_r = timed(lambda: [frame.reasons(i) for i in range(10_000)])
    _, el_m = timed(lambda: [frame.missing(i) for i in range(10_000)])
    _, el_t = timed(lambda: [frame.trace(i) for i in range(1000)])
    print(f"    lazy per-row detail: reasons {el_r / 10:.3f} ms/row, missing inputs {el_m / 10:.3f} ms/row "
          f"(10,000 rows each); trace of 1,000 rows {el_t:.2f} s")

    dt_text = df.copy()
    for col in ("contract.signature_date", "employee.birth_date", "application_date"):
        dt_text[col] = np.datetime_as_string(dt_text[col].to_numpy(dtype="datetime64[D]"), unit="D").astype(object)
    _, el_s = timed(lambda: evaluate_frame("emplois-francs", dt_text))
    print(f"evaluate_frame, {n:,} rows, {{lon, lat}} places, dates as ISO text (as the batch reader passes them): "
          f"{el_s:.2f} s = {n / el_s:,.0f} rows/s")
    del dt_text

    dq = facts(n, "quartier_code")
    frame_q, el_q = timed(lambda: evaluate_frame("emplois-francs", dq))
    print(f"evaluate_frame, {n:,} rows, {{quartier_code}} places: {el_q:.2f} s = {n / el_q:,.0f} rows/s")

    peer_n = 2000
    rows = df.head(peer_n).to_dict("records")
    singles = []
    for r in rows:
        r = {k: (v.isoformat()[:10] if hasattr(v, "isoformat") else v) for k, v in r.items()}
        r = {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        lon, lat = r.pop("employee.residence.lon"), r.pop("employee.residence.lat")
        r["employee.residence"] = {"lon": lon, "lat": lat}
        singles.append(r)
    decisions, el_p = timed(lambda: [evaluate("emplois-francs", r) for r in singles])
    agree = all(d.outcome == frame.outcome[i] for i, d in enumerate(decisions))
    print(f"peer, evaluate() once per row, {peer_n:,} rows: {el_p:.2f} s = {peer_n / el_p:,.0f} rows/s; "
          f"same outcomes as the frame: {agree}")
    geography.locate_points = real_locate


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
