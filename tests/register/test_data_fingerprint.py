"""The register's `data_sha256`: one figure for the data an answer came from, taken from the sha256 the engine
verifies (the bundled manifest's, each imported layer's file and entry), never from file dates."""
from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pyogrio.raw
import pytest
import shapely
from click.testing import CliRunner
from qpv_cli.main import qpv

from eligibility import datasets
from eligibility.geography import layers
from eligibility.geography.layer_import import import_layer
from eligibility.geography.perimeters import load
from eligibility.register import entries as E

MOISSAC = ("1.085312", "44.104617")


@pytest.fixture()
def layers_dir(tmp_path, monkeypatch):
    folder = tmp_path / "couches"
    monkeypatch.setenv("QPV_LAYERS_DIR", str(folder))
    return folder


@pytest.fixture()
def two_quartiers(tmp_path):
    """Two QP2015 quartiers of Ariège as a GeoJSON file (a local copy of the bundled perimeters)."""
    p = load("qp2015_occitanie")
    path = tmp_path / "deux.geojson"
    pyogrio.raw.write(str(path), shapely.to_wkb(p.geometry[:2]), [np.asarray(p.code[:2], dtype=object)], ["code_qp"],
                      driver="GeoJSON", crs="EPSG:4326", geometry_type="MultiPolygon")
    return path


def test_the_fingerprint_follows_the_layers_and_comes_back_after_remove(layers_dir, two_quartiers):
    bare = E.data_fingerprint()
    layer = import_layer(two_quartiers, "ariege", "perimetres", "2015-01-01")
    with_layer = E.data_fingerprint()
    assert with_layer != bare
    assert E.data_fingerprint() == layers.data_fingerprint()  # the register asks the layers API
    layers.remove(layer.name)
    assert E.data_fingerprint() == bare


def test_an_edited_layer_entry_changes_the_fingerprint_whatever_its_file_dates(layers_dir, two_quartiers):
    """A hand edit of a validity date, same size, file dates put back: the old stamp-based fingerprint kept
    its remembered value; the entry's own sha256 changes it."""
    import_layer(two_quartiers, "ariege", "perimetres", "2015-01-01", valid_to="2023-12-31")
    before = E.data_fingerprint()
    manifest = layers_dir / layers.MANIFEST
    st = os.stat(manifest)
    text = manifest.read_text(encoding="utf-8")
    assert "valid_to: '2023-12-31'" in text
    manifest.write_text(text.replace("valid_to: '2023-12-31'", "valid_to: '2023-11-30'"), encoding="utf-8")
    os.utime(manifest, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(manifest).st_size == st.st_size and os.stat(manifest).st_mtime_ns == st.st_mtime_ns
    assert E.data_fingerprint() != before
    os.utime(manifest)  # a touch alone changes nothing
    after_edit = E.data_fingerprint()
    os.utime(manifest, ns=(1, 1))
    assert E.data_fingerprint() == after_edit


def test_a_repinned_bundled_manifest_changes_the_fingerprint(isolated_data, forget, monkeypatch, layers_dir):
    before = E.data_fingerprint()
    manifest = isolated_data / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8").replace("Quartiers prioritaires 2015 (QP2015), région Occitanie",
                                                        "Quartiers prioritaires 2015 (QP2015), Occitanie")
    manifest.write_text(text, encoding="utf-8")
    monkeypatch.setattr(datasets, "MANIFEST_SHA256", hashlib.sha256(text.encode()).hexdigest())
    forget()
    assert E.data_fingerprint() != before


def test_a_recorded_answer_carries_the_fingerprint_of_the_layers_it_used(layers_dir, two_quartiers, tmp_path):
    import_layer(two_quartiers, "ariege", "perimetres", "2015-01-01")
    url = f"sqlite:///{tmp_path / 'registre.db'}"
    r = CliRunner().invoke(qpv, ["locate", "--lon", MOISSAC[0], "--lat", MOISSAC[1], "--date", "2020-06-01", "--record",
                                 "--register", url, "--json"])
    assert r.exit_code == 0, r.output
    shown = CliRunner().invoke(qpv, ["register", "list", "--register", url, "--json"])
    assert shown.exit_code == 0, shown.output
    (entry,) = json.loads(shown.stdout)["entries"]
    assert entry["data_sha256"] == layers.data_fingerprint()
