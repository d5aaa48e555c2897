"""The manifest vouches for every reference file; a corrupted file is refused."""
import shutil

import pytest

from eligibility import datasets
from eligibility.errors import DataIntegrityError


def test_manifest_lists_every_reference_file(tmp_path):
    listed = {f.path for d in datasets.manifest().datasets for f in d.files}
    root = datasets.data_dir()
    on_disk = {
        str(p.relative_to(root)) for p in root.rglob("*")
        if p.is_file() and p.name not in {"manifest.yaml", "SOURCES.md"}
    }
    assert on_disk == listed


def test_every_checksum_matches():
    rows = datasets.verify_all()
    assert rows and all(r["ok"] for r in rows), [r for r in rows if not r["ok"]]


def test_corrupted_file_is_refused(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(datasets.data_dir(), data)
    monkeypatch.setenv("QPV_DATA_DIR", str(data))
    monkeypatch.setenv("QPV_CACHE_DIR", str(tmp_path / "cache"))
    datasets._load_manifest.cache_clear()
    target = data / "qpv" / "qp2015_occitanie" / "qp2015_occitanie_contours.geojson"
    target.write_bytes(target.read_bytes().replace(b"QP082003", b"QP082999", 1))
    with pytest.raises(DataIntegrityError, match="somme de contrôle invalide"):
        datasets.verified_path("qp2015_occitanie")
    assert datasets.verified_path("qp2024").exists()


def test_missing_file_is_refused(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(datasets.data_dir(), data)
    (data / "unites_urbaines" / "uu2020_liste_geo2023.csv").unlink()
    monkeypatch.setenv("QPV_DATA_DIR", str(data))
    monkeypatch.setenv("QPV_CACHE_DIR", str(tmp_path / "cache"))
    datasets._load_manifest.cache_clear()
    with pytest.raises(DataIntegrityError, match="manquant"):
        datasets.verified_path("uu2020", "uu2020_liste_geo2023.csv")
