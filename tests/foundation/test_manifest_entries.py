"""The manifest's entries (datasets.py) are read without a validation library, and checked all the same: every
field's type, the required ones present, validity dates ordered, the other fields kept; a wrong row is refused
with a French message that names the dataset and the field."""
import copy
import datetime as dt
import os
import sys
import subprocess

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from eligibility import datasets

ROW = {"id": "qp2024", "kind": "perimeters", "vintage": "QP2024", "title": "Quartiers 2024", "source": "ANCT",
       "licence": "Etalab 2.0", "crs": "EPSG:4326", "precision_m": 7.5, "coverage": {"regions": "all"},
       "validity": [{"territory": "metropole", "from": "2024-01-01", "to": None, "legal_basis": "Décret n° 2023-1314",
                     "confirmed": False, "note": "texte non lu"}],
       "caveats": ["simplifié"], "files": [{"path": "qpv/a.geojson", "sha256": "ab" * 32, "bytes": 10}]}


def _read(row):
    return datasets._read_manifest({"manifest_version": 1, "note": "ignored", "datasets": [row]}).datasets[0]


def test_a_well_formed_row_gives_its_fields_dates_and_other_fields():
    ds = _read(ROW)
    assert (ds.id, ds.crs, ds.coverage, ds.caveats) == ("qp2024", "EPSG:4326", {"regions": "all"}, ["simplifié"])
    assert ds.precision_m == 7.5 and ds.extra == {"precision_m": 7.5}  # a field of its own: kept, read as before
    [v] = ds.validity
    assert (v.valid_from, v.valid_to, v.confirmed) == (dt.date(2024, 1, 1), None, False) and v.covers(dt.date(2030, 1, 1))
    assert v.to_json() == ROW["validity"][0] and ds.files[0].to_json() == ROW["files"][0]
    with pytest.raises(AttributeError):
        ds.not_in_the_manifest  # noqa: B018


@pytest.mark.parametrize("change, words", [
    (lambda r: r.pop("licence"), "« qp2024 » : champ « licence » manquant"),
    (lambda r: r.update(vintage=2024), "« qp2024 » : champ « vintage » : un texte attendu, pas 2024"),
    (lambda r: r["files"][0].update(bytes=True), "fichier n° 1 : champ « bytes » : un entier attendu, pas True"),
    (lambda r: r["files"][0].update(bytes="10"), "fichier n° 1 : champ « bytes » : un entier attendu"),
    (lambda r: r["validity"][0].update({"from": "2024-13-01"}), "validité n° 1 : champ « from » : une date AAAA-MM-JJ attendue, pas '2024-13-01'"),
    (lambda r: r["validity"][0].update(to="2023-12-31"), "validité n° 1 : période de validité inversée"),
    (lambda r: r["validity"][0].update(confirmed="non"), "champ « confirmed » : vrai ou faux attendu"),
    (lambda r: r.update(validity={"territory": "metropole"}), "champ « validity » : une liste attendue"),
    (lambda r: r.update(files=["qpv/a.geojson"]), "« files » n° 1 : une table attendue"),
    (lambda r: r.update(caveats=["ok", 3]), "champ « caveats » : une liste de textes attendue"),
    (lambda r: r.update(coverage="all"), "champ « coverage » : une table attendue"),
])
def test_a_wrong_row_is_refused_naming_the_dataset_and_the_field(change, words):
    row = copy.deepcopy(ROW)
    change(row)
    with pytest.raises(datasets._Refused) as refused:
        _read(row)
    assert words in str(refused.value)


def test_dates_written_as_yaml_dates_or_text_read_the_same():
    text = yaml.safe_dump({"manifest_version": 1, "datasets": [ROW]}, allow_unicode=True)
    as_text = datasets._read_manifest(datasets._parse_yaml(text.encode()))
    as_dates = datasets._read_manifest(datasets._parse_yaml(text.replace("'2024-01-01'", "2024-01-01").encode()))
    assert as_text == as_dates and as_text.datasets[0].validity[0].valid_from == dt.date(2024, 1, 1)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["id", "kind", "vintage", "title", "source", "licence", "crs", "coverage", "validity",
                        "caveats", "files"]),
       st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
                 st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
def test_any_value_in_any_field_is_read_or_refused_never_an_other_error(key, value):
    row = copy.deepcopy(ROW)
    row[key] = value
    try:
        ds = _read(row)
    except datasets._Refused as exc:
        assert "« qp2024 »" in str(exc) or key == "id"
    else:
        assert getattr(ds, key) == value  # read as it is written


def test_the_bundled_manifest_loads_and_a_locate_process_imports_no_pydantic():
    assert {d.id for d in datasets.manifest().datasets} >= {"qp2024", "qp2015_occitanie"}
    code = ("import sys\nfrom eligibility import datasets\nfrom eligibility.geography import locate_points\n"
            "import datetime as dt\nlocate_points([2.35], [48.85], dt.date(2024, 6, 1))\nprint('pydantic' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


# -- the parsed manifest kept in the cache (no YAML parser in later processes) -------------------------------


def _load_with_cache(cache, monkeypatch):
    monkeypatch.setenv("QPV_CACHE_DIR", str(cache))
    datasets._load_manifest.cache_clear()
    return datasets.manifest()


def test_the_first_load_keeps_the_parsed_manifest_and_the_next_reads_it_the_same(tmp_path, monkeypatch):
    first = _load_with_cache(tmp_path, monkeypatch)
    [kept] = (tmp_path / "manifest").iterdir()
    assert kept.name == f"{datasets.MANIFEST_SHA256}.json"
    again = _load_with_cache(tmp_path, monkeypatch)
    assert again == first and again is not first
    code = ("import sys\nfrom eligibility import datasets\nm = datasets.manifest()\n"
            "print('yaml' in sys.modules, len(m.datasets), m.get('qp2024').validity[0].valid_from)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QPV_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", str(len(first.datasets)), "2024-01-01"]


def test_a_damaged_kept_manifest_is_parsed_again_from_the_yaml_and_rewritten(tmp_path, monkeypatch):
    first = _load_with_cache(tmp_path, monkeypatch)
    [kept] = (tmp_path / "manifest").iterdir()
    body = bytearray(kept.read_bytes())
    body[-10] ^= 1  # one bit of the JSON
    kept.write_bytes(bytes(body))
    assert _load_with_cache(tmp_path, monkeypatch) == first
    digest, _, text = kept.read_bytes().partition(b"\n")
    assert text != bytes(body).partition(b"\n")[2]  # rewritten whole, checksum and all


def test_a_kept_manifest_serves_only_the_manifest_it_was_parsed_from(tmp_path, monkeypatch):
    monkeypatch.setenv("QPV_CACHE_DIR", str(tmp_path))
    datasets._snapshot_write("0" * 64, {"manifest_version": 1, "datasets": []})  # another manifest's, in the cache
    assert _load_with_cache(tmp_path, monkeypatch).datasets  # the bundled manifest, not the empty one
    assert datasets._snapshot_read("0" * 64) == {"manifest_version": 1, "datasets": []}


@pytest.mark.parametrize("document", [{"manifest_version": 1, "when": dt.datetime(2024, 1, 1, 12)},
                                      {"manifest_version": 1, "coverage": {2024: "all"}},
                                      {"manifest_version": 1, "x": {"$date": "2024-01-01"}},
                                      {"manifest_version": 1, "x": float("nan")}])
def test_a_document_json_would_not_give_back_the_same_is_not_kept(tmp_path, monkeypatch, document):
    monkeypatch.setenv("QPV_CACHE_DIR", str(tmp_path))
    datasets._snapshot_write("1" * 64, document)
    assert datasets._snapshot_read("1" * 64) is None


def test_a_cache_that_cannot_be_written_still_gives_the_manifest(tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("QPV_CACHE_DIR", str(blocked / "cache"))
    datasets._load_manifest.cache_clear()
    assert datasets.manifest().get("qp2024").id == "qp2024"
