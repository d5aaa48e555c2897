"""Every error the service returns has one JSON shape: {"error": {"status", "field", "message"}}.

The message is French and says what is wrong; `field` names the parameter, body field or upload at
fault (null when the request as a whole is wrong). No stack trace ever reaches the client. A browser
asking a page (Accept: text/html, outside /api/) gets the same message as a small French HTML page.
"""
from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import BadInput, DataIntegrityError, RegisterUnavailable, RuleFileError, safe_message

log = logging.getLogger("qpv.web")


class WebError(Exception):
    """An error with its HTTP status, raised by the web layer itself."""

    def __init__(self, status: int, message: str, field: str | None = None):
        message = safe_message(message)  # it may quote the request: no control character, no 250 kB echo
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def problem(status: int, message: str, field: str | None = None, request: Request | None = None):
    if request is not None and _wants_page(request):
        from html import escape

        where = f" (champ « {escape(field)} »)" if field else ""
        return HTMLResponse(
            f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
            f'initial-scale=1"><title>Erreur {status}</title><link rel="stylesheet" href="/static/qpv.css"></head><body><main>'
            f'<h1>Erreur {status}</h1><div class="alerte erreur" role="alert"><p>{escape(message)}{where}</p></div>'
            f'<p><a href="/">Retour à l\'accueil</a></p></main></body></html>', status_code=status)
    return JSONResponse({"error": {"status": status, "field": field, "message": message}}, status_code=status)


def _wants_page(request: Request) -> bool:
    path = request.url.path
    return "text/html" in request.headers.get("accept", "") and not path.startswith(("/api/", "/static/", "/openapi"))


def problem_bytes(status: int, message: str, field: str | None = None) -> bytes:
    """The same body for the raw ASGI middlewares, which answer before FastAPI runs."""
    return json.dumps({"error": {"status": status, "field": field, "message": message}}, ensure_ascii=False).encode()


_HTTP_MESSAGES = {
    404: "ressource introuvable",
    405: "méthode HTTP non autorisée pour cette adresse",
}
# Starlette's own details are English
_DETAILS = {"There was an error parsing the body": "corps de la requête illisible (formulaire multipart mal formé)"}


def _validation_field(err: dict) -> str | None:
    loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
    return ".".join(loc) or None


def install(app: FastAPI) -> None:
    @app.exception_handler(WebError)
    async def _web(request: Request, exc: WebError):
        return problem(exc.status, exc.message, exc.field, request)

    @app.exception_handler(BadInput)
    async def _bad_input(request: Request, exc: BadInput):
        return problem(400, exc.detail, exc.field, request)

    @app.exception_handler(RuleFileError)
    async def _rule_file(_: Request, exc: RuleFileError):
        return problem(400, str(exc))

    @app.exception_handler(DataIntegrityError)
    async def _data(_: Request, exc: DataIntegrityError):
        # The engine refuses data it cannot vouch for: the service is unavailable, not the request wrong.
        return problem(503, f"données de référence refusées : {exc}")

    @app.exception_handler(RegisterUnavailable)
    async def _register(request: Request, exc: RegisterUnavailable):
        # Recording is on: an answer that cannot be recorded is not given.
        log.error("registre indisponible : %s — %s", exc, getattr(exc, "detail", ""))
        reason = getattr(exc, "reason", "registre en erreur")  # the address of the register stays in the log
        return problem(503, f"service indisponible : la réponse n'a pas pu être enregistrée au registre des décisions ({reason})",
                       None, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {}
        if first.get("type") == "json_invalid":
            return problem(400, "corps JSON mal formé : " + str(first.get("ctx", {}).get("error", "syntaxe invalide")), "body")
        msg = first.get("msg", "requête invalide")
        return problem(422, f"valeur invalide : {msg}", _validation_field(first))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code not in _HTTP_MESSAGES else _HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
        message = _DETAILS.get(message, message)
        return problem(exc.status_code, message, None, request)

    @app.exception_handler(ImportError)
    async def _missing_domain(_: Request, exc: ImportError):
        # A domain of the engine that this installation lacks: say which, do not pretend.
        return problem(503, f"fonction indisponible sur ce serveur, domaine du moteur non installé : {exc}")

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception):
        log.error("erreur interne : %s: %s", type(exc).__name__, exc)
        return problem(500, "erreur interne du serveur ; la requête n'est pas en cause, voir le journal du serveur")
