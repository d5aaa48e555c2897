import pytest

from eligibility import datasets


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
