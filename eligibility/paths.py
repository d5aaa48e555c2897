"""Where the project's data lives.

The engine is installed in editable mode next to its `rules/` and `reference_data/` folders;
QPV_RULES_DIR, QPV_DATA_DIR and QPV_CACHE_DIR override them (tests and deployments use this).
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def rules_dir() -> Path:
    return Path(os.environ.get("QPV_RULES_DIR", PROJECT_ROOT / "rules"))


def data_dir() -> Path:
    return Path(os.environ.get("QPV_DATA_DIR", PROJECT_ROOT / "reference_data"))


def cache_dir() -> Path:
    """Derived files (spatial indexes, geocoder index). Safe to delete; rebuilt on demand."""
    path = Path(os.environ.get("QPV_CACHE_DIR", PROJECT_ROOT / ".cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path
