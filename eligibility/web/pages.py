"""French HTML pages: locate (with map), one page per dispositif, batch, attestation.

Pages are rendered on the server from the same engine calls as the API, so they work without
JavaScript; scripts only draw the map and follow a batch upload's progress.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from ..errors import BadInput
from ..jsonio import to_json
from ..register.recording import answering, recorded
from . import attestation as attest
from .api import locate_answer, optional_date
from .forms import facts_from_form, fields_from_schema
from .wording import (OUTCOME_FR, datasets_in, distance_words, euros, geocoding_words, legal_reference_words,
                      status_sentence)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["distance"] = distance_words
templates.env.filters["legal"] = legal_reference_words
templates.env.filters["euros"] = euros
templates.env.filters["pretty"] = lambda obj: json.dumps(json.loads(to_json(obj)), ensure_ascii=False, indent=2)
templates.env.globals["OUTCOME_FR"] = OUTCOME_FR


def _nav(request: Request) -> list[dict[str, str]]:
    """Dispositifs for the menu; a page still renders when the rules cannot be loaded."""
    try:
        return request.app.state.engine.dispositifs()
    except Exception:  # noqa: BLE001 - the menu is a convenience; the error shows on the dispositif page
        return []


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    settings = request.app.state.settings
    context.update(nav=_nav(request), tile_url=settings.tile_url, tile_attribution=settings.tile_attribution)
    return templates.TemplateResponse(request, name, context, status_code=status)


def _error(exc: BadInput) -> dict[str, Any]:
    """Shown next to the form, which keeps what the user typed."""
    return {"field": exc.field, "message": exc.detail}


@router.get("/", response_class=HTMLResponse)
def index(request: Request, address: str = "", lon: str = "", lat: str = "", date: str = "", mode: str = "") -> HTMLResponse:
    form = {"address": address, "lon": lon, "lat": lat, "date": date, "mode": mode or ("point" if lon or lat else "address")}
    if not (address or lon or lat):
        return render(request, "index.html", form=form, answer=None, error=None)
    try:
        answer = locate_answer(request.app.state.engine, lon, lat, address, date)
    except BadInput as exc:
        return render(request, "index.html", status=400, form=form, answer=None, error=_error(exc))
    placed = (answer.get("trace") or {}).get("input") or {}  # the point located (geocoded for an address)
    map_data = {"lon": placed.get("lon"), "lat": placed.get("lat"), "date": answer.get("date") or date,
                "quartier": (answer.get("quartier") or {}).get("code")}
    return render(request, "index.html", form=form, answer=answer, error=None, map_data=map_data,
                  sentence=status_sentence(answer, "Cette adresse" if address else "Ce point"),
                  datasets=datasets_in(answer.get("trace")), geocoding=geocoding_words(answer),
                  query=request.url.query)


def _fields(request: Request, dispositif: str):
    engine = request.app.state.engine
    schema = engine.facts_schema(dispositif)
    title = next((d["title"] for d in engine.dispositifs() if d["id"] == dispositif), dispositif)
    return title, fields_from_schema(schema)


@router.get("/dispositifs/{dispositif}", response_class=HTMLResponse)
def dispositif_page(request: Request, dispositif: str) -> HTMLResponse:
    title, fields = _fields(request, dispositif)
    return render(request, "dispositif.html", dispositif=dispositif, title=title, fields=fields, values={}, decision=None, error=None)


@router.post("/dispositifs/{dispositif}", response_class=HTMLResponse)
async def dispositif_decide(request: Request, dispositif: str) -> HTMLResponse:
    title, fields = await run_in_threadpool(_fields, request, dispositif)
    form = await request.form()
    values = {k: str(v) for k, v in form.items()}
    context = dict(dispositif=dispositif, title=title, fields=fields, values=values, decision=None, error=None)
    try:
        facts = facts_from_form(fields, values)
        date = optional_date(values.get("_date"))
        engine = request.app.state.engine
        context["decision"] = decision = await run_in_threadpool(engine.evaluate, dispositif, facts, date)
        context["explanation"] = engine.explain(decision)
    except BadInput as exc:
        context["error"] = _error(exc)
        return render(request, "dispositif.html", status=400, **context)
    return render(request, "dispositif.html", **context)


@router.get("/lots", response_class=HTMLResponse)
def batch_page(request: Request) -> HTMLResponse:
    return render(request, "batch.html")


def attestation_for(engine, lon: str | None, lat: str | None, address: str | None, date: str | None) -> dict[str, Any]:
    """Build the attestation of a locate question (the service and `qpv attest` share this)."""
    when = optional_date(date)
    used = when or dt.date.today()
    answer = locate_answer(answering(engine), lon, lat, address, used.isoformat())
    question: dict[str, Any] = {"kind": "locate", "date": used.isoformat(), "date_given": when is not None}
    if address:
        question["address"] = address.strip()
    else:
        question["lon"], question["lat"] = float(lon), float(lat)
    return recorded(engine, attest.build(question, answer, engine.versions()))


@router.get("/attestation")
def attestation_page(request: Request, lon: str | None = None, lat: str | None = None, address: str | None = None,
                     date: str | None = None, format: str = "html") -> Response:
    check_format(format)  # before any work
    return attestation_response(attestation_for(request.app.state.engine, lon, lat, address, date), format)


def evaluation_attestation_for(engine, dispositif: str, facts: dict[str, Any], date: str | None) -> dict[str, Any]:
    """Build the attestation of a dispositif decision (the service and `qpv attest --dispositif` share this)."""
    when = optional_date(date)
    decision = answering(engine).evaluate(dispositif, facts, when)
    question = {"kind": "evaluate", "dispositif": dispositif, "facts": attest.flat_facts(facts),
                "date": when.isoformat() if when else None}
    return recorded(engine, attest.build(question, decision, engine.versions()))


def check_format(format: str) -> str:
    if format not in ("html", "pdf"):
        raise BadInput(f"format inconnu « {format} » : html ou pdf", field="format")
    return format


def attestation_response(att: dict[str, Any], format: str) -> Response:
    if check_format(format) == "pdf":
        return Response(attest.render_pdf(att), media_type="application/pdf",
                        headers={"content-disposition": f'inline; filename="attestation-{att["identifier"]}.pdf"'})
    return HTMLResponse(render_attestation_html(att))


@router.post("/dispositifs/{dispositif}/attestation")
async def dispositif_attestation(request: Request, dispositif: str) -> Response:
    """The attestation of the decision the dispositif page just showed (same form values)."""
    title, fields = await run_in_threadpool(_fields, request, dispositif)
    values = {k: str(v) for k, v in (await request.form()).items()}
    check_format(values.get("_format", "html"))
    facts = facts_from_form(fields, values)
    att = await run_in_threadpool(evaluation_attestation_for, request.app.state.engine, dispositif, facts, values.get("_date"))
    return attestation_response(att, values.get("_format", "html"))


def render_attestation_html(att: dict[str, Any]) -> str:
    """Standalone printable page (also what `qpv attest --format html` writes)."""
    return templates.env.get_template("attestation.html").render(
        att=att, heading=attest.title(att), sections=attest.sections(att), notice=attest.NOTICE)
