"""The disk cache: rebuilt when absent or damaged, and never serving a file the manifest refuses."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from eligibility import datasets
from eligibility.errors import DataIntegrityError
from eligibility.geography import cache, perimeters


def test_cached_builds_once_and_survives_a_damaged_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("QPV_CACHE_DIR", str(tmp_path))
    calls = []

    def build():
        calls.append(1)
        return {"a": np.arange(3)}

    assert cache.cached("t", "k", build)["a"].tolist() == [0, 1, 2]
    assert cache.cached("t", "k", build)["a"].tolist() == [0, 1, 2]
    assert len(calls) == 1
    entry = next((tmp_path / "geography").glob("t-k.npz"))
    entry.write_bytes(b"not a zip")
    assert cache.cached("t", "k", build)["a"].tolist() == [0, 1, 2] and len(calls) == 2
    assert not list((tmp_path / "geography").glob("*.tmp"))


def test_corrupted_perimeter_file_is_refused_even_with_a_warm_cache(tmp_path, monkeypatch):
    src = datasets.data_dir()
    dst = tmp_path / "data"
    (dst / "qpv/qp2015_occitanie").mkdir(parents=True)
    shutil.copy(src / "manifest.yaml", dst / "manifest.yaml")
    target = dst / "qpv/qp2015_occitanie/qp2015_occitanie_contours.geojson"
    shutil.copy(src / "qpv/qp2015_occitanie/qp2015_occitanie_contours.geojson", target)
    monkeypatch.setenv("QPV_DATA_DIR", str(dst))
    monkeypatch.setenv("QPV_CACHE_DIR", str(tmp_path / "cache"))
    perimeters.load.cache_clear()
    try:
        assert len(perimeters.load("qp2015_occitanie").code) == 105  # builds the cache entry
        perimeters.load.cache_clear()
        target.write_text(target.read_text().replace("Moissac", "Moisac"))
        with pytest.raises(DataIntegrityError, match="somme de contrôle"):
            perimeters.load("qp2015_occitanie")
    finally:
        perimeters.load.cache_clear()


def test_cache_key_follows_the_data():
    assert cache.key("a") != cache.key("b")
    assert cache.key("a") == cache.key("a")
