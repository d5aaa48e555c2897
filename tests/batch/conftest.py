import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakes import fake_locate_points  # noqa: E402

from eligibility.batch import jobs  # noqa: E402


@pytest.fixture
def fake_geography(monkeypatch):
    """The batch machinery against the tiny fake `locate_points` (tests/batch/fakes.py)."""
    monkeypatch.setattr(jobs, "_geography", lambda: fake_locate_points)
