"""Index building from the formats users download: BANO, BAN CSV (adresses-XX.csv) and BAL 1.3/1.4.

No BAN or BAL file is in reference_data (SOURCES.md §6), so the BAN and BAL files here are written by the
test in those formats from real BANO rows of Manosque: the column layouts are those of the published
specifications (BAN « adresses-XX.csv », BAL 1.3 / 1.4).
"""
import gzip

import pandas as pd
import pytest

from eligibility.addresses import build_index, geocode, load_index
from eligibility.addresses.sources import read_address_file, read_bano
from eligibility.datasets import verified_path
from eligibility.errors import BadInput


@pytest.fixture(scope="module")
def bano_manosque():
    with gzip.open(verified_path("bano", "bano-04_2015-03-23.csv.gz"), "rt", encoding="utf-8") as f:
        df = pd.read_csv(f, header=None, names=["id", "numero", "voie", "cp", "commune", "source", "lat", "lon"],
                         dtype=str)
    return df[df["id"].str.startswith("04112")].head(400).reset_index(drop=True)


def test_bano_82_header_on_the_last_line_is_dropped():
    df = read_bano(verified_path("bano", "bano-82_2014-05-23_partiel.csv.gz"))
    assert len(df) == 17_684 and not (df["record_id"] == "id").any()
    assert df["insee"].str.startswith("82").all()


def test_bano_suffixes_become_indices(index):
    pts = index.points
    assert {"BIS", "TER", "A", "B"} <= set(pts["indice"])


def _ban_file(path, rows):
    num = rows["numero"].str.extract(r"^(\d+)(.*)$")
    ban = pd.DataFrame({
        "id": rows["id"], "id_fantoir": rows["id"].str[:10], "numero": num[0], "rep": num[1].str.lower(),
        "nom_voie": rows["voie"], "code_postal": rows["cp"], "code_insee": rows["id"].str[:5],
        "nom_commune": rows["commune"], "code_insee_ancienne_commune": "", "nom_ancienne_commune": "",
        "x": "", "y": "", "lon": rows["lon"], "lat": rows["lat"], "type_position": "entrée", "alias": "",
        "nom_ld": "", "libelle_acheminement": rows["commune"].str.upper(), "nom_afnor": rows["voie"].str.upper(),
        "source_position": "commune", "source_nom_voie": "commune", "certification_commune": "1", "cad_parcelles": ""})
    ban.to_csv(path, sep=";", index=False)


def _bal_file(path, rows, version):
    num = rows["numero"].str.extract(r"^(\d+)(.*)$")
    bal = pd.DataFrame({
        "cle_interop": rows["id"].str[:5] + "_" + rows["id"].str[5:9].str.lower() + "_" + num[0].str.zfill(5),
        "uid_adresse": "", "voie_nom": rows["voie"], "lieudit_complement_nom": "", "numero": num[0],
        "suffixe": num[1].str.lower()})
    if version == "1.4":
        bal["commune_insee"] = rows["id"].str[:5]
        bal["commune_nom"] = rows["commune"]
    bal = bal.assign(position="entrée", x="", y="", long=rows["lon"], lat=rows["lat"], cad_parcelles="",
                     source="commune", date_der_maj="2024-01-01", certification_commune="1")
    bal.to_csv(path, sep=";", index=False)


@pytest.mark.parametrize("fmt", ["ban", "bal1.3", "bal1.4"])
def test_ban_and_bal_files_build_an_index_that_finds_their_addresses(tmp_path, bano_manosque, fmt):
    path = tmp_path / f"{fmt}.csv"
    if fmt == "ban":
        _ban_file(path, bano_manosque)
    else:
        _bal_file(path, bano_manosque, fmt[3:])
    detected, df = read_address_file(path)
    assert detected == fmt[:3] and len(df) == len(bano_manosque)
    index = build_index([path], tmp_path / "index")
    assert load_index(tmp_path / "index").meta["files"][0]["format"] == fmt[:3]
    probe = bano_manosque.iloc[[0, 57, 199]]
    res = geocode((probe["numero"] + " " + probe["voie"] + ", 04100 Manosque").tolist(), index)
    assert (res.frame["level"] == "housenumber").all()
    assert res.frame["lon"].round(6).tolist() == probe["lon"].astype(float).round(6).tolist()


def test_unknown_or_missing_files_are_refused_in_french(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a;b;c\n1;2;3\n")
    with pytest.raises(BadInput, match="format non reconnu"):
        read_address_file(bad)
    with pytest.raises(BadInput, match="fichier introuvable"):
        read_address_file(tmp_path / "absent.csv")
    with pytest.raises(BadInput, match="pas d'index d'adresses"):
        load_index(tmp_path)
