import pytest

from eligibility import datasets


@pytest.fixture(autouse=True)
def _fresh_manifest_cache():
    """Tests that point QPV_DATA_DIR elsewhere must not leak a cached manifest to others."""
    yield
    datasets._load_manifest.cache_clear()
