"""Reading Filosofi carreaux files in INSEE's published shapes and the bundled extracts."""
import numpy as np
import pytest

from eligibility.criteria.derivation import derive
from eligibility.criteria.filosofi import PROXY, bundled_extracts, read_carreaux
from eligibility.errors import BadInput

HEADER_2019 = "idcar_200m,idcar_1km,idcar_nat,i_est_200,i_est_1km,lcog_geo,ind,men,men_pauv,ind_snv"
ROWS_2019 = [
    "CRS3035RES200mN2364400E3476200,CRS3035RES1000mN2364000E3476000,x,0,0,40192,100,40,10,1500000",
    "CRS3035RES200mN2364400E3476400,CRS3035RES1000mN2364000E3476000,x,1,0,4019240281,50.5,20,2,606000",
]


def write(tmp_path, text, name="carreaux.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_insee_2019_layout(tmp_path):
    c = read_carreaux(write(tmp_path, "\n".join([HEADER_2019, *ROWS_2019]) + "\n"))
    assert c.epsg == 3035 and c.size == 200 and len(c) == 2
    assert c.easting.tolist() == [3476200, 3476400] and c.northing.tolist() == [2364400, 2364400]
    assert c.income.tolist() == [15000.0, 12000.0]
    assert c.income_column == PROXY and "proxy" in c.income_label
    assert c.imputed.tolist() == [False, True]
    assert c.communes.tolist() == ["40192", "4019240281"]
    assert c.source["sha256"]


def test_2015_capitalised_semicolon_layout(tmp_path):
    text = "Idcar_200m;I_est_200;Ind;Ind_snv\nCRS3035RES200mN2364400E3476200;0;10;150000\n"
    c = read_carreaux(write(tmp_path, text))
    assert c.population.tolist() == [10.0] and c.income.tolist() == [15000.0]


def test_named_income_column_is_used_and_labelled(tmp_path):
    text = "idcar_200m;ind;ind_snv;rev_med\nCRS3035RES200mN2364400E3476200;10;150000;9800\n"
    c = read_carreaux(write(tmp_path, text), income_column="REV_MED")
    assert c.income.tolist() == [9800.0]
    assert "revenu déclaré médian" in c.income_label and "rev_med" in c.income_label


def test_lcog_geo_places_carreaux_in_their_unite_urbaine(tmp_path):
    c = read_carreaux(write(tmp_path, "\n".join([HEADER_2019, *ROWS_2019]) + "\n"))
    d = derive(c)
    assert [u["code"] for u in d.unites_urbaines] == ["40401"]
    assert "lcog_geo" in d.unites_urbaines[0]["assignment"]


@pytest.mark.parametrize("text, field, fragment", [
    ("idcar_200m,ind_snv\nCRS3035RES200mN2364400E3476200,5\n", None, "« ind »"),
    ("idcar_200m,ind\nCRS3035RES200mN2364400E3476200,5\n", "income_column", "ind_snv"),
    ("idcar_200m,ind,ind_snv\nCRS3035RES200mN2364400E3476200,cinq,5\n", "ind", "non numérique"),
    ("idcar_200m,ind,ind_snv\nCRS3035RES200mN2364400E3476200,-5,5\n", "ind", "négative"),
    ("idcar_200m,ind,ind_snv\nCRS3035RES200mN2364400E347620,5,5\n", "idcar_200m", "non aligné"),
    ("idcar_200m,ind,ind_snv\nXYZ,5,5\n", "idcar_200m", "invalide"),
    ("idcar_200m,ind,ind_snv\nCRS3035RES200mNabcE3476200,5,5\n", "idcar_200m", "invalide"),
    ("idcar_200m,ind,ind_snv\nCRS3035RES200mN2364400E3476200,5,5\nCRS3035RES200mN2364400E3476200,5,5\n",
     "idcar_200m", "deux fois"),
    ("idcar_200m,ind,ind_snv\nCRS3035RES200mN2364400E3476200,5,5\nCRS2975RES200mN7654400E3476200,5,5\n",
     "idcar_200m", "grilles"),
])
def test_bad_files_say_what_and_where(tmp_path, text, field, fragment):
    with pytest.raises(BadInput) as exc:
        read_carreaux(write(tmp_path, text))
    assert fragment in str(exc.value)
    if field:
        assert exc.value.field == field


def test_missing_named_column_and_missing_file(tmp_path):
    p = write(tmp_path, "idcar_200m,ind,ind_snv\nCRS3035RES200mN2364400E3476200,5,5\n")
    with pytest.raises(BadInput, match="rev_med"):
        read_carreaux(p, income_column="rev_med")
    with pytest.raises(BadInput, match="introuvable"):
        read_carreaux(tmp_path / "absent.csv")


def test_bundled_extracts_read_and_match_sources_md():
    assert len(bundled_extracts()) == 5
    c = read_carreaux("filosofi2019_carreaux_montdemarsan")
    # SOURCES.md §4a: 586 cells, Σind = 36 070, mean niveau de vie 22 509 €
    assert len(c) == 586 and c.population.sum() == pytest.approx(36070)
    assert np.nansum(c.income * c.population) / c.population.sum() == pytest.approx(22509, abs=1)
    assert c.source["dataset"] == "filosofi2019_carreaux_montdemarsan"


def test_carreaux_outside_any_unite_urbaine_are_never_flagged(tmp_path):
    # 01001 L'Abergement-Clémenciat is « hors unité urbaine » (pseudo-code 01000)
    text = ("idcar_200m,lcog_geo,ind,ind_snv\n"
            "CRS3035RES200mN2364400E3476200,40192,100,500000\n"
            "CRS3035RES200mN2564400E3876200,01001,100,500000\n")
    d = derive(read_carreaux(write(tmp_path, text)))
    assert [u["code"] for u in d.unites_urbaines] == ["40401"]
    assert d.summary()["carreaux_outside_unite_urbaine"] == 1
    assert d.low_income.sum() == 1  # 5 000 € in both; only the urban one can be low-income


def test_decimal_commas_in_semicolon_files(tmp_path):
    text = "idcar_200m;ind;ind_snv\nCRS3035RES200mN2364400E3476200;12,5;250000,5\nCRS3035RES200mN2364600E3476200;3;\n"
    c = read_carreaux(write(tmp_path, text))
    assert c.population.tolist() == [12.5, 3.0] and c.income[0] == pytest.approx(20000.04)
    assert np.isnan(c.income[1])  # empty ind_snv: income unknown, never defaulted


def test_groups_report_the_share_of_population_in_imputed_carreaux(tmp_path):
    text = ("idcar_200m,i_est_200,ind,ind_snv\n"
            "CRS3035RES200mN2364400E3476200,1,300,3000000\n"
            "CRS3035RES200mN2364400E3476400,0,900,9000000\n")
    d = derive(read_carreaux(write(tmp_path, text)), unite_urbaine="40401")
    assert d.group_row(0)["imputed_population_share"] == 0.25
