import os
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
