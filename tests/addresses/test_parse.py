"""Parsing postal addresses as people and administrations write them."""
import pandas as pd

from eligibility.addresses.parse import normalized_label, parse_addresses, split_number


def one(text):
    return parse_addresses([text]).iloc[0].to_dict()


def test_cedex_and_boite_postale_lines():
    p = one("5 place DES CORDELIERS\nBP 122\n04004 DIGNE LES BAINS CEDEX")
    assert (p["numero"], p["street"], p["postcode"], p["town"]) == (5, "PLACE DES CORDELIERS", "04004", "DIGNE LES BAINS")
    assert p["cedex"] and p["boite_postale"] == "BP 122"


def test_cedex_with_a_number_and_cs_line():
    p = one("12 rue X, CS 30001, 75011 PARIS CEDEX 11")
    assert (p["postcode"], p["town"], p["cedex"], p["boite_postale"]) == ("75011", "PARIS", True, "CS 30001")


def test_indices_de_repetition():
    assert [one(t)["indice"] for t in ("9bis rue X", "9 BIS RUE X", "12 ter av Y", "3 B RUE Z", "4 quater rue W")] \
        == ["BIS", "BIS", "TER", "B", "QUATER"]
    # an elided article is not an indice
    p = one("1 L'Écluse 04100 Manosque")
    assert (p["numero"], p["indice"], p["street"]) == (1, "", "L ECLUSE")


def test_complement_and_lieu_dit_lines():
    p = one("Bâtiment B, 12 ter Rue de la Reine-Jeanne, Le Moulin, 04100 Manosque")
    assert p["complement"] == "BATIMENT B"
    assert (p["numero"], p["indice"], p["street"], p["lieu_dit"]) == (12, "TER", "RUE DE LA REINE JEANNE", "LE MOULIN")


def test_metric_house_number_is_not_a_postal_code():
    p = one("10250 route de Forcalquier\n04100 Manosque")
    assert (p["numero"], p["street"], p["postcode"]) == (10250, "ROUTE DE FORCALQUIER", "04100")


def test_number_ranges_keep_the_first_number():
    assert one("1-3 rue des Lilas 04100 Manosque")["numero"] == 1
    assert one("1 et 3 rue des Lilas 04100 Manosque")["street"] == "RUE DES LILAS"


def test_missing_postal_code_and_empty_input():
    p = one("52 montée des Adrechs")
    assert (p["postcode"], p["town"], p["numero"]) == ("", "", 52)
    assert one("")["street"] == "" and one("")["numero"] == -1


def test_normalized_label_is_stable():
    parsed = parse_addresses(["5 pl des Cordeliers, BP 122, 04004 Digne-les-Bains Cedex", "PLACE PROMENOIR\nLE PROMENOIR"])
    assert normalized_label(parsed).tolist() == ["5 PLACE DES CORDELIERS, 04004 DIGNE LES BAINS CEDEX",
                                                 "PLACE PROMENOIR, LE PROMENOIR"]


def test_one_row_per_input_in_order():
    texts = pd.Series(["1 rue A 04100 Manosque", None, "2 rue B, 04000 Digne"])
    parsed = parse_addresses(texts)
    assert len(parsed) == 3 and parsed["numero"].tolist() == [1, -1, 2]


def test_d_and_l_before_a_street_type_are_indices_not_elided_articles():
    """« 147 D AVENUE … » is number 147 indice D (BANO has 147 A–D); « 2 D ARTAGNAN » stays an elision."""
    got = split_number(pd.Series(["147 D AVENUE REINE DES PRES", "3 L CHEMIN X", "2 D ARTAGNAN", "1 L ECLUSE"]))
    assert got["indice"].tolist() == ["D", "L", "", ""]
    assert got["rest"].tolist() == ["AVENUE REINE DES PRES", "CHEMIN X", "D ARTAGNAN", "L ECLUSE"]
