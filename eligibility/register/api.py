"""The register over HTTP: GET /api/register (list), /api/register/{id} (one entry), both off unless the
operator enables them (`qpv serve --register-api`) and, even then, answered to loopback clients only;
GET /api/register/attestation/{identifier}: whether an attestation is in the register (for the verification
page), whenever the service records. No facts ever leave through these endpoints."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..errors import BadInput
from ..inputs import parse_date
from ..jsonio import to_json

router = APIRouter(tags=["registre"])

LOOPBACK_CLIENTS = {"127.0.0.1", "::1", "localhost"}
MAX_LIST = 1000


def _register(request: Request, consult: bool):
    from ..web.problems import WebError

    reg = getattr(request.app.state, "register", None)
    if reg is None:
        raise WebError(404, "ce service ne tient pas de registre des décisions")
    if consult:
        if not request.app.state.settings.register_api:
            raise WebError(404, "consultation du registre désactivée (qpv serve --register-api pour l'activer)")
        client = request.client.host if request.client else None
        if client not in LOOPBACK_CLIENTS:
            raise WebError(403, "consultation du registre réservée aux clients de la boucle locale")
    return reg


def _json(obj) -> Response:
    return Response(content=to_json(obj), media_type="application/json")


@router.get("/api/register/attestation/{identifier}")
def register_attestation(request: Request, identifier: str) -> Response:
    """Cette attestation est-elle inscrite au registre ? (dates, nature, résultat ; ni faits ni trace)"""
    from . import lookup_attestation

    reg = _register(request, consult=False)
    found = lookup_attestation(identifier, reg)
    if found is None:
        return _json({"attestation_id": identifier.strip().upper(), "recorded": 0})
    e = found.pop("entry")
    return _json({**found, "kind": e["kind"], "dispositif": e["dispositif"], "outcome": e["outcome"],
                  "quartier": e["quartier"], "decision_date": e["decision_date"], "rule": e["rule"]})


@router.get("/api/register")
def register_list(request: Request, date_from: str | None = None, date_to: str | None = None, dispositif: str | None = None,
                  outcome: str | None = None, quartier: str | None = None, limit: int = 100, offset: int = 0) -> Response:
    """Entrées du registre (= `qpv register list --json`), les plus anciennes d'abord, par pages de `limit`."""
    from .store import summary

    reg = _register(request, consult=True)
    for value, name in ((date_from, "date_from"), (date_to, "date_to")):
        if value:
            parse_date(value, name)
    if not 1 <= limit <= MAX_LIST:
        raise BadInput(f"limit doit être entre 1 et {MAX_LIST}", field="limit")
    if offset < 0:
        raise BadInput("offset doit être positif ou nul", field="offset")
    found = reg.list(date_from=date_from, date_to=date_to, dispositif=dispositif, outcome=outcome, quartier=quartier,
                     limit=limit, offset=offset)
    return _json({"entries": [summary(e) for e in found]})


@router.get("/api/register/{entry_id}")
async def register_show(request: Request, entry_id: str) -> Response:
    """Une entrée du registre par son numéro ou son identifiant d'attestation (= `qpv register show --json`, sans les faits)."""
    from ..web.problems import WebError
    from .store import public

    reg = _register(request, consult=True)
    entry = await run_in_threadpool(reg.get, entry_id)
    if entry is None:
        raise WebError(404, f"aucune entrée « {entry_id} » dans le registre", "id")
    return _json(public(entry))
