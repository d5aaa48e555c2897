"""Web service and pages (issue 7): `create_app` builds the FastAPI app that `qpv serve` runs.

FastAPI is imported on first use of `create_app`, so that modules of this package without it (the
attestation identifier, used by the register and `qpv attest`) load fast."""


def __getattr__(name):
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["create_app"]
