"""Communes as addresses name them (COG 2026): shared postal codes, several codes, merged communes."""
import pandas as pd

from eligibility.addresses.communes import load_communes, resolve_communes


def resolve(postcode, town, cedex=False):
    return resolve_communes(pd.Series([postcode]), pd.Series([town]), pd.Series([cedex])).iloc[0]["codes"]


def test_postal_code_covering_several_communes():
    c = load_communes()
    assert len(c.by_postcode["04250"]) > 3
    assert resolve("04250", "LA MOTTE DU CAIRE") == ("04134",)
    assert len(resolve("04250", "")) == len(c.by_postcode["04250"])


def test_commune_with_several_postal_codes():
    c = load_communes()
    assert c.postcodes["04049"] == ("04160", "04600")
    assert resolve("04160", "CHATEAU ARNOUX SAINT AUBAN") == resolve("04600", "CHATEAU ARNOUX SAINT AUBAN") == ("04049",)


def test_associated_and_delegated_communes_resolve_to_the_current_one():
    c = load_communes()
    assert c.current_of["04003"] == "04081"  # Albiosc, commune associée
    assert resolve("", "ALBIOSC") == ("04081",)
    assert c.current_of["04071"] == "04070"  # an old code of Digne-les-Bains


def test_cedex_code_is_not_a_place_the_town_decides():
    assert resolve("04004", "DIGNE LES BAINS", cedex=True) == ("04070",)
    assert resolve("04301", "FORCALQUIER", cedex=True) == ("04088",)


def test_short_or_misspelt_town_within_the_postal_code():
    assert resolve("04220", "CORBIERES") == ("04063",)  # not Corbières (Aude): the postal code says 04
    assert resolve("04600", "SAINT AUBAN") == ("04049",)
    assert resolve("04100", "MANOSQEU") == ("04112",)
