"""Package layout: `eligibility/` is the engine, `cli/` installs as `qpv_cli` (never as a bare `cli`)."""
import warnings

from setuptools import find_namespace_packages, setup
from setuptools.warnings import InformationOnly

# `pip install -e` of a layout with a renamed package (cli/ -> qpv_cli) tells, as a warning, that it
# uses an import finder; that is expected here and not a problem to report at every set-up.
warnings.filterwarnings("ignore", message="Editable installation", category=InformationOnly)

setup(
    # Namespace discovery: the web page folders (static/, templates/ and their subfolders) are data
    # folders inside the package; found this way they ship with it instead of warning "would be ignored".
    packages=find_namespace_packages(include=["eligibility", "eligibility.*"], exclude=["*.__pycache__"]) + ["qpv_cli"],
    package_dir={"qpv_cli": "cli"},
    package_data={"eligibility": ["web/static/**/*", "web/templates/**/*"]},
)
