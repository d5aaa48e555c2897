"""The FastAPI application: JSON API, French pages, attestations, static assets (all bundled)."""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles

from .. import __version__
from . import api, pages, problems
from .guard import Guard
from .settings import WebSettings

HERE = Path(__file__).parent
log = logging.getLogger("qpv.web")


def _lifespan(engine):
    @contextlib.asynccontextmanager
    async def lifespan(_app):
        warm_up = getattr(engine, "warm_up", None)
        if warm_up is not None:
            log.info("préparation des index (géographie, adresses, règles)…")
            try:
                await run_in_threadpool(warm_up)
            except Exception as exc:  # noqa: BLE001 - the service still starts; each request then says what fails
                log.error("préparation incomplète : %s: %s", type(exc).__name__, exc)
        register = getattr(_app.state, "register", None)
        if register is not None:  # opened (and migrated) now rather than by the first question
            try:
                await run_in_threadpool(register.open)
                log.info("registre des décisions : %s", register.open().describe())
            except Exception as exc:  # noqa: BLE001 - recorded endpoints answer 503 until it is reachable
                log.error("registre des décisions indisponible : %s", exc)
        yield

    return lifespan


def create_app(settings: WebSettings | None = None, engine=None) -> FastAPI:
    """`engine` defaults to the real one (`DomainEngine`); tests pass an object with the same methods."""
    settings = settings or WebSettings()
    if engine is None:
        from .engine import DomainEngine

        engine = DomainEngine()
    app = FastAPI(
        title="qpv — quartiers prioritaires et dispositifs",
        version=__version__,
        description="Les mêmes réponses que la commande `qpv … --json`, avec leur trace d'audit.",
        docs_url=None,  # served below from the bundled Swagger UI, never from a CDN
        redoc_url=None,
        lifespan=_lifespan(engine),
    )
    app.state.settings = settings
    app.state.register = None
    if settings.record:
        from ..register.recording import RecordingEngine
        from ..register.store import LazyRegister

        app.state.register = LazyRegister(settings.register_url, keep_facts=settings.register_keep_facts)
        engine = RecordingEngine(engine, app.state.register)
    app.state.engine = engine
    problems.install(app)
    app.include_router(api.router)
    from ..register.api import router as register_router

    app.include_router(register_router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs():
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(openapi_url="/openapi.json", title=app.title,
                                   swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/static/vendor/leaflet/images/marker-icon.png")

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["content-type"])
    # Outermost: the size and time limits and the access log see every request, errors included.
    app.add_middleware(Guard, settings=settings)
    return app


def app_from_env() -> FastAPI:
    """The app of one uvicorn worker of `qpv serve --workers N`: settings from QPV_WEB_SETTINGS (JSON)."""
    import os

    raw = os.environ.get("QPV_WEB_SETTINGS")
    return create_app(WebSettings.model_validate_json(raw) if raw else WebSettings())
