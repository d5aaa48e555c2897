"""Package layout: `eligibility/` is the engine, `cli/` installs as `qpv_cli` (never as a bare `cli`)."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["eligibility", "eligibility.*"]) + ["qpv_cli"],
    package_dir={"qpv_cli": "cli"},
    package_data={"eligibility": ["web/static/**/*", "web/templates/**/*"]},
)
