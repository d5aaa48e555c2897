"""Derivation of candidate quartiers on synthetic carreaux (S = 12 000 € exactly, see helpers.FIXED)."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.criteria import output
from eligibility.criteria.derivation import BELOW_POPULATION, CANDIDATE, UU_INELIGIBLE, derive
from eligibility.errors import BadInput

from .helpers import FIXED, make

LOW, HIGH = 9000.0, 20000.0


def block(col0, row0, w, h, pop_each, income=LOW):
    return [(col0 + i, row0 + j, pop_each, income) for i in range(w) for j in range(h)]


def statuses(d):
    return sorted((d.group_row(k)["id"], d.group_row(k)["status"]) for k in range(d.n_groups))


@pytest.mark.parametrize("population, status", [(999, BELOW_POPULATION), (1000, CANDIDATE)])
def test_quartier_boundary_population(population, status):
    # 4 contiguous low-income carreaux, population split so that the total is exactly `population`
    cells = block(0, 0, 2, 2, population / 4) + block(10, 10, 3, 3, 300, HIGH)
    d = derive(make(cells), **FIXED)
    assert d.n_groups == 1
    row = d.group_row(0)
    assert row["population"] == population and row["status"] == status
    pop_step = next(s for s in d.group_trace(0) if s.get("condition") == "population_quartier")
    assert pop_step["result"] is (population >= 1000)
    assert pop_step["parameters"][0]["value"] == 1000


def test_threshold_is_strict():
    # income equal to S (12 000) is not « inférieur au seuil »
    d = derive(make(block(0, 0, 2, 2, 400, 12000.0) + block(5, 0, 2, 2, 400, 11999.99)), **FIXED)
    assert d.low_income.sum() == 4 and d.n_groups == 1
    assert d.group_row(0)["median_income"] == 11999.99


def test_unite_urbaine_under_10000_is_reported_not_candidate():
    d = derive(make(block(0, 0, 3, 3, 200)), **{**FIXED, "uu_population": 9900})
    assert [d.group_row(k)["status"] for k in range(d.n_groups)] == [UU_INELIGIBLE]
    d = derive(make(block(0, 0, 3, 3, 200)), **{**FIXED, "uu_population": 9999})  # rounds up to 10 000
    assert [d.group_row(k)["status"] for k in range(d.n_groups)] == [CANDIDATE]


def test_diagonal_touch_depends_on_connectivity():
    cells = block(0, 0, 2, 2, 150) + block(2, 2, 2, 2, 150)  # two 600-inhabitant squares touching at a corner
    assert statuses(derive(make(cells), **FIXED, connectivity=4)) == [
        ("Q-CRS3035RES200mN2364000E3476000", BELOW_POPULATION), ("Q-CRS3035RES200mN2364400E3476400", BELOW_POPULATION)]
    assert [s for _, s in statuses(derive(make(cells), **FIXED, connectivity=8))] == [CANDIDATE]


def test_weighted_median_uses_population():
    # 3 carreaux: 8000 € for 900 people, 11000 € and 11500 € for 100 people each -> median 8000
    cells = [(0, 0, 900, 8000.0), (1, 0, 100, 11000.0), (2, 0, 100, 11500.0)]
    d = derive(make(cells), **FIXED)
    assert d.group_row(0)["median_income"] == 8000.0 and d.group_row(0)["population"] == 1100


def test_unknown_income_is_counted_never_flagged():
    cells = block(0, 0, 2, 2, 300) + [(2, 0, 300, np.nan)]
    d = derive(make(cells), **FIXED)
    assert d.summary()["carreaux_income_unknown"] == 1
    assert d.group_row(0)["n_carreaux"] == 4


def test_every_group_and_trace_carries_the_income_label_and_legal_references():
    d = derive(make(block(0, 0, 3, 3, 200) + block(8, 8, 1, 1, 50)), **FIXED)
    for k in range(d.n_groups):
        assert "proxy" in d.group_row(k)["income_statistic"]
        trace = d.group_trace(k)
        income = next(s for s in trace if s.get("condition") == "revenu_median")
        assert "proxy" in income["inputs"]["income_statistic"]
        for step in trace:
            assert step["legal_reference"]["text"].startswith("Décret n° 2014-767")
    uu = d.unites_urbaines[0]
    assert uu["threshold"] == 12000 and uu["threshold_trace"][2]["result"] == 12000
    assert "--uu-median" in uu["median_source"]["label"]


def test_unknown_unite_urbaine_code_is_refused():
    with pytest.raises(BadInput, match="inconnue"):
        derive(make(block(0, 0, 2, 2, 300)), unite_urbaine="99999")


def test_without_lcog_geo_the_commune_of_each_centre_gives_the_unite_urbaine():
    from eligibility.criteria.filosofi import read_carreaux

    c = read_carreaux("filosofi2019_carreaux_bethune_bruay")
    d = derive(c)
    codes = [u["code"] for u in d.unites_urbaines]
    assert "00752" in codes and "contours communaux" in d.unites_urbaines[0]["assignment"]
    béthune = codes.index("00752")
    assert (d.uu_index == béthune).sum() > 0.95 * len(c)
    with pytest.raises(BadInput, match="une seule unité urbaine"):
        derive(c, uu_median=20000)


def test_default_medians_are_the_labelled_filosofi_2018_figures():
    d = derive(make(block(0, 0, 2, 2, 300)), unite_urbaine="40401")
    assert d.national_median["value"] == 21730.0 and "MED18" in d.national_median["label"]
    uu = d.unites_urbaines[0]
    assert uu["median"] == 20960.0 and "niveau de vie" in uu["median_source"]["label"]
    assert uu["threshold"] == 12900  # 0.6 × (0.7 × 21 730 + 0.3 × 20 960) = 12 899.40 → 12 900
    assert "populations municipales (COG 2026)" in uu["population_source"]["label"]


# --- properties (issue 4) ---------------------------------------------------------------------

cells_strategy = st.dictionaries(
    st.tuples(st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.integers(1, 600), st.integers(6000, 18000)),
    min_size=1, max_size=60,
).map(lambda d: [(c, r, float(p), float(i)) for (c, r), (p, i) in sorted(d.items())])


def low_set(d):
    return set(d.carreaux.ids[d.low_income].tolist())


def group_rows(d):
    return {d.group_row(k)["id"]: d.group_row(k) | {"carreaux": d.carreaux.ids[d.members(k)].tolist()}
            for k in range(d.n_groups)}


@settings(max_examples=60, deadline=None)
@given(cells_strategy, st.data())
def test_lowering_an_income_never_removes_a_carreau_from_the_low_income_set(cells, data):
    i = data.draw(st.integers(0, len(cells) - 1))
    drop = data.draw(st.integers(1, 10000))
    lowered = list(cells)
    c, r, p, inc = lowered[i]
    lowered[i] = (c, r, p, inc - drop)
    before, after = low_set(derive(make(cells), **FIXED)), low_set(derive(make(lowered), **FIXED))
    assert before <= after
    if inc < 12000:
        assert make(cells).ids[i] in after


@settings(max_examples=60, deadline=None)
@given(cells_strategy, st.integers(0, 8000))
def test_raising_the_threshold_never_shrinks_the_low_income_set(cells, raise_uu_median):
    base = derive(make(cells), **FIXED)
    higher = derive(make(cells), **{**FIXED, "uu_median": FIXED["uu_median"] + raise_uu_median})
    assert higher.unites_urbaines[0]["threshold"] >= base.unites_urbaines[0]["threshold"]
    assert low_set(base) <= low_set(higher)


@settings(max_examples=40, deadline=None)
@given(cells_strategy, st.randoms(use_true_random=False))
def test_shuffling_rows_changes_nothing(cells, rnd):
    shuffled = list(cells)
    rnd.shuffle(shuffled)
    a, b = derive(make(cells), **FIXED), derive(make(shuffled), **FIXED)
    assert json.dumps(a.to_json()) == json.dumps(b.to_json())
    assert json.dumps(output.feature_collection(a)) == json.dumps(output.feature_collection(b))


@settings(max_examples=60, deadline=None)
@given(cells_strategy, st.integers(1, 600), st.integers(6000, 18000), st.integers(11, 500), st.integers(-500, 500))
def test_adding_a_distant_carreau_keeps_existing_candidates(cells, pop, income, dx, dy):
    # the grid spans columns/rows 0..9: column 9 + 2 or more is never a neighbour
    extra = (9 + dx, dy, float(pop), float(income))
    before = group_rows(derive(make(cells), **FIXED))
    after = group_rows(derive(make(cells + [extra]), **FIXED))
    new_id = make([extra]).ids[0]
    assert {k: v for k, v in after.items() if new_id not in v["carreaux"]} == before


def test_imposed_threshold_replaces_s_and_keeps_the_computed_value_in_the_trace():
    cells = block(0, 0, 2, 2, 300, 12500.0)
    assert derive(make(cells), **FIXED).n_groups == 0          # 12 500 is above S = 12 000
    d = derive(make(cells), **FIXED, threshold=12600)         # e.g. the CABBALR's 12 600 €
    assert d.group_row(0)["threshold"] == 12600 and d.group_row(0)["status"] == CANDIDATE
    step = d.unites_urbaines[0]["threshold_trace"][0]
    assert step["step"] == "seuil_impose" and step["computed_threshold"] == 12000
    with pytest.raises(BadInput):
        derive(make(cells), **FIXED, threshold=-1)


def test_overseas_grids_are_refused_with_the_reason():
    with pytest.raises(BadInput, match="métropole"):
        derive(make(block(0, 0, 2, 2, 300), epsg=2975), **FIXED)


def test_streamed_geojson_is_the_feature_collection_and_candidates_only_subsets_it(tmp_path):
    d = derive(make(block(0, 0, 3, 3, 200) + block(8, 8, 1, 1, 50)), **FIXED)
    output.write(d, tmp_path / "all.geojson")
    assert (tmp_path / "all.geojson").read_text() == json.dumps(output.feature_collection(d), ensure_ascii=False) + "\n"
    output.write(d, tmp_path / "cand.geojson", "candidates")
    fc = json.loads((tmp_path / "cand.geojson").read_text())
    assert fc["groups_written"] == "candidates" and [f["properties"]["status"] for f in fc["features"]] == [CANDIDATE]
    assert (tmp_path / "cand.csv").read_text().count("\n") == 1 + d.n_groups  # the table keeps every group


def test_table_rows_equal_group_rows():
    d = derive(make(block(0, 0, 3, 3, 200) + block(8, 8, 1, 1, 50) + [(5, 5, 0.0, 9000.0)]), **FIXED)
    table = output.table_frame(d)
    for k in range(d.n_groups):
        row = d.group_row(k)
        t = table.iloc[k]
        assert t["id"] == row["id"] and t["status"] == row["status"] and t["n_carreaux"] == row["n_carreaux"]
        assert t["unite_urbaine"] == row["unite_urbaine"]["code"] and t["population"] == row["population"]
        assert t["threshold"] == row["threshold"]
        assert (np.isnan(t["median_income"]) and row["median_income"] is None) or t["median_income"] == row["median_income"]
    assert sorted(table["status"]) == [BELOW_POPULATION, CANDIDATE, "median_unknown"]  # the 0-inhabitant carreau


@pytest.mark.parametrize("extract, uu, threshold, low_income", [
    ("montdemarsan", "40401", 12900, 0),
    ("manosque", "04401", 13000, 5),
    ("dole", "39402", 12900, 0),
    ("moissac_castelsarrasin", "82401", 12400, 1),
    ("bethune_bruay", "00752", 12700, 2),
])
def test_bundled_extracts_at_the_decree_threshold_give_no_candidate(extract, uu, threshold, low_income):
    # the headline of reports/perimeters_comparison.md: the open-data proxy finds no quartier at S
    from eligibility.criteria.filosofi import read_carreaux

    d = derive(read_carreaux(f"filosofi2019_carreaux_{extract}"), unite_urbaine=uu)
    assert d.unites_urbaines[0]["threshold"] == threshold
    assert d.summary()["low_income_carreaux"] == low_income and d.summary()["candidates"] == 0
