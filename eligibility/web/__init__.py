"""Web service and pages (issue 7): `create_app` builds the FastAPI app that `qpv serve` runs."""
from .app import create_app

__all__ = ["create_app"]
