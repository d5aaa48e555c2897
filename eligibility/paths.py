"""Where the project's data lives.

The engine is installed in editable mode next to its `rules/` and `reference_data/` folders;
QPV_RULES_DIR, QPV_DATA_DIR and QPV_CACHE_DIR override them (tests and deployments use this).
What the user's own work produces (the register of decisions) lives in the platform's user data
directory, QPV_USER_DIR overriding it.
Layers a user imports (`qpv data import`) live there too (QPV_LAYERS_DIR overriding it): the
repository stays read-only and an upgrade keeps them.
"""
from __future__ import annotations

import functools
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


def user_data_dir() -> Path:
    """The platform's user data directory for qpv (~/.local/share/qpv on Linux): the default register file."""
    override = os.environ.get("QPV_USER_DIR")
    if override:
        return Path(override)
    return _platform_data_dir(*(os.environ.get(k) for k in _PLATFORM_DIR_ENV))


# What platformdirs reads to place the user data directory. The folder is remembered per value of these: asking
# platformdirs costs ~0.14 ms, and a located row's trace asks several times (the imported layers' manifest).
_PLATFORM_DIR_ENV = ("XDG_DATA_HOME", "HOME", "USERPROFILE", "APPDATA", "LOCALAPPDATA")


@functools.lru_cache(maxsize=8)
def _platform_data_dir(*_environment) -> Path:
    from platformdirs import user_data_dir as platform_dir

    return Path(platform_dir("qpv", appauthor=False))


def layers_dir() -> Path:
    """Imported perimeter and zoning layers (`qpv data import`): QPV_LAYERS_DIR, else <user data dir>/couches."""
    override = os.environ.get("QPV_LAYERS_DIR")
    return Path(override) if override else user_data_dir() / "couches"
