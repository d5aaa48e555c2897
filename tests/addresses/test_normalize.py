"""Normalisation: one spelling per word, idempotent, indifferent to case, accents and abbreviations."""
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.addresses.normalize import ABBREVIATIONS, match_key, normalize, split_street_type


def test_la_poste_abbreviations_are_expanded():
    assert normalize("2 AV DU LT COLONEL NOEL REYNAUD") == "2 AVENUE DU LIEUTENANT COLONEL NOEL REYNAUD"
    assert normalize("R DE LA GAL LECLERC") == "RUE DE LA GENERAL LECLERC"
    assert normalize("12 BD MAL JUIN") == "12 BOULEVARD MARECHAL JUIN"
    assert normalize("CHE DES STES MARIES") == "CHEMIN DES SAINTES MARIES"
    assert normalize("IMP. ST-JEAN") == "IMPASSE SAINT JEAN"
    assert normalize("PL DE L'EGLISE") == "PLACE DE L EGLISE"
    assert normalize("RTE DE DIGNE") == "ROUTE DE DIGNE"
    assert normalize("ALL DES PINS") == "ALLEE DES PINS"


def test_accents_case_hyphens_apostrophes():
    assert normalize("Rue de l’Église-Saint-Étienne") == "RUE DE L EGLISE SAINT ETIENNE"
    assert normalize("Œuvre  Cœur") == "OEUVRE COEUR"
    assert normalize("9bis") == "9 BIS"


def test_match_key_drops_articles():
    assert match_key("Rue de la Reine-Jeanne") == match_key("R REINE JEANNE") == "RUE REINE JEANNE"


def test_street_type_is_split_from_the_name():
    parts = split_street_type(pd.Series(["RUE REINE JEANNE", "BASTIDE NEUVE", "GRANDE RUE", "RUE"]))
    assert parts["type"].tolist() == ["RUE", "", "", ""]
    assert parts["name"].tolist() == ["REINE JEANNE", "BASTIDE NEUVE", "GRANDE RUE", "RUE"]


words = st.sampled_from(sorted(ABBREVIATIONS) + ["Église", "saint-Jean", "l'Abbé", "9bis", "Œuvre", "rue", "4", "D'",
                                                  "Général", "CEDEX", "  ", "-", "ß", "Ñ"])


@settings(max_examples=200, deadline=None)
@given(st.lists(words | st.text(max_size=8), max_size=8).map(" ".join))
def test_normalisation_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once
    assert match_key(once) == match_key(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["élise", "Reine", "JEANNE", "château", "Saint", "moulin", "Grand'Rue", "pré"]),
                min_size=1, max_size=5).map(" ".join))
def test_case_and_accents_do_not_matter(text):
    from unidecode import unidecode

    assert normalize(text) == normalize(text.upper()) == normalize(unidecode(text).lower())
