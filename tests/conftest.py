import os
import shutil
import sys
import tempfile

import pytest

from eligibility import datasets

# Imported layers (`qpv data import`) default to the user's data folder: tests must never read or write
# it. Every test starts with an empty layers folder of its own session (subprocesses and Dask workers
# inherit it); tests that import layers point QPV_LAYERS_DIR at their own tmp_path.
os.environ["QPV_LAYERS_DIR"] = tempfile.mkdtemp(prefix="qpv-test-layers-")


@pytest.fixture(autouse=True)
def _fresh_manifest_cache():
    """Tests that point QPV_DATA_DIR elsewhere must not leak a cached manifest to others."""
    yield
    datasets._load_manifest.cache_clear()


@pytest.fixture(autouse=True)
def _private_user_dir(tmp_path_factory, monkeypatch):
    """`qpv serve` records to the register of the user data directory by default: tests (and the processes they
    start) use a private one, never the developer's own register."""
    monkeypatch.setenv("QPV_USER_DIR", str(tmp_path_factory.mktemp("user-data")))
    monkeypatch.delenv("QPV_REGISTER_URL", raising=False)


def clear_engine_caches() -> None:
    """Forget everything the engine memoised in this process (loaded data, indexes, digests read)."""
    for name, module in list(sys.modules.items()):
        if name == "eligibility" or name.startswith("eligibility."):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()
    seen = getattr(sys.modules.get("eligibility.integrity"), "_seen", None)
    if seen is not None:
        seen.clear()


@pytest.fixture
def forget():
    """`forget()`: the engine forgets what it memoised, as a new process would."""
    return clear_engine_caches


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """A private copy of reference_data (QPV_DATA_DIR) and cache folder (QPV_CACHE_DIR), seeded with the
    project's geography entries (they are checked against the copy on load), and an engine that forgets
    what it loaded before and after the test."""
    data, cache = tmp_path / "data", tmp_path / "cache"
    shutil.copytree(datasets.data_dir(), data)
    from eligibility.geography import cache as geo_cache
    from eligibility.paths import cache_dir

    project_cache = cache_dir()
    entries = project_cache / "geography" / geo_cache.CACHE_VERSION
    (cache / "geography" / geo_cache.CACHE_VERSION).mkdir(parents=True)
    for entry in entries.glob("departements-metropole-*.npz") if entries.is_dir() else []:
        shutil.copy(entry, cache / "geography" / geo_cache.CACHE_VERSION / entry.name)
    for index in (project_cache / "addresses").glob("bano-*"):  # the bundled address index, if built
        if "." not in index.name and (index / "meta.json").is_file():
            shutil.copytree(index, cache / "addresses" / index.name)
    monkeypatch.setenv("QPV_DATA_DIR", str(data))
    monkeypatch.setenv("QPV_CACHE_DIR", str(cache))
    clear_engine_caches()
    yield data
    clear_engine_caches()
