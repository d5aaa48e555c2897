"""French HTML pages: locate (with map), one page per dispositif, batch, attestation and its check.

Pages are rendered on the server from the same engine calls as the API, so they work without
JavaScript; scripts draw the map, follow a batch upload, open the phone menu and move the focus to
the answer.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from ..errors import BadInput
from ..jsonio import to_json
from ..register.recording import answering, recorded
from . import attestation as attest
from .api import locate_answer, optional_date
from .forms import Field, FormProblems, facts_from_form, field_label, fields_from_schema, grouped
from .wording import (address_failure, amount_lines, condition_lines, datasets_in, date_words, decision_verdict,
                      distance_words, euros, geocoding_facts, legal_reference_words, locate_verdict, place_words)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["distance"] = distance_words
templates.env.filters["legal"] = legal_reference_words
templates.env.filters["euros"] = euros
templates.env.filters["pretty"] = lambda obj: json.dumps(json.loads(to_json(obj)), ensure_ascii=False, indent=2)


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


def _error(exc: BadInput, fields: list[Field] | None = None, targets: dict[str, str] | None = None) -> dict[str, Any]:
    """Shown above the form, which keeps what the user typed: every problem with its French field name."""
    fields = fields or []
    targets = targets or {}
    problems = exc.problems if isinstance(exc, FormProblems) else [(exc.field, exc.detail)]
    out = []
    for field, message in problems:
        label = field_label(fields, field)
        if label and not message.startswith("«"):
            message = f"« {label} » : {message}"
        target = targets.get(field) or next((f.html_id for f in fields if field and (field == f.name or field.startswith(f.name + "."))), None)
        out.append({"message": message, "target": target})
    names = {p[0] for p in problems if p[0]}
    names |= {f.name for f in fields for n in list(names) if n.startswith(f.name + ".")}
    return {"field": exc.field, "fields": names, "message": out[0]["message"] if out else exc.detail, "problems": out}


# --- locate ----------------------------------------------------------------------------------------

LOCATE_TARGETS = {"address": "address", "lon": "lon", "lat": "lat", "date": "date", "quartier": "quartier", "code": "quartier"}


def _demo_coverage(engine) -> str | None:
    """The départements the address index covers, for the address field's hint."""
    coverage = getattr(engine, "address_coverage", None)
    try:
        return coverage() if coverage else None
    except Exception:  # noqa: BLE001 - a hint only; the answer says it again when an address fails
        return None


@router.get("/", response_class=HTMLResponse)
def index(request: Request, address: str = "", lon: str = "", lat: str = "", quartier: str = "", date: str = "",
          mode: str = "") -> HTMLResponse:
    engine = request.app.state.engine
    mode = mode or ("point" if lon or lat else "quartier" if quartier else "address")
    form = {"address": address, "lon": lon, "lat": lat, "quartier": quartier, "date": date, "mode": mode}
    context: dict[str, Any] = dict(form=form, answer=None, error=None, coverage=_demo_coverage(engine))
    # Only the fields of the chosen mode count (the others are hidden, and disabled by the script).
    address, lon, lat, quartier = ((address, "", "", "") if mode == "address" else ("", lon, lat, "") if mode == "point"
                                   else ("", "", "", quartier))
    if not (address.strip() or lon.strip() or lat.strip() or quartier.strip()):
        if request.query_params.get("mode") and (request.url.query or "").count("=") > 1:  # an empty submit
            what = {"address": "l'adresse", "point": "la longitude et la latitude", "quartier": "le code du quartier"}[mode]
            target = {"address": "address", "point": "lon", "quartier": "quartier"}[mode]
            context["error"] = {"field": target, "fields": {target}, "message": f"rien à chercher : indiquez {what}",
                                "problems": [{"message": f"rien à chercher : indiquez {what}", "target": target}]}
            return render(request, "index.html", status=400, **context)
        return render(request, "index.html", **context)
    try:
        if quartier:
            return _quartier_answer(request, context, quartier, date)
        answer = locate_answer(engine, lon.replace(",", "."), lat.replace(",", "."), address, date)
    except BadInput as exc:
        context["error"] = _error(exc, targets=LOCATE_TARGETS)
        return render(request, "index.html", status=400, **context)
    placed = (answer.get("trace") or {}).get("input") or {}  # the point located (geocoded for an address)
    failure = address_failure(answer) if address else None
    has_point = placed.get("lon") is not None and failure is None
    map_data = None
    if has_point or answer.get("quartier"):
        map_data = {"lon": placed.get("lon") if has_point else None, "lat": placed.get("lat") if has_point else None,
                    "date": answer.get("date") or date, "quartier": (answer.get("quartier") or {}).get("code"),
                    "quartier_name": (answer.get("quartier") or {}).get("name"),
                    "commune": (answer.get("commune") or {}).get("code")}
    query = urlencode({k: v for k, v in (("address", address), ("lon", lon), ("lat", lat), ("date", date)) if v})
    context.update(answer=answer, verdict=locate_verdict(answer), map_data=map_data, failure=failure,
                   placed=placed if has_point else None, geocoding=geocoding_facts(answer) if not failure else None,
                   date_used=date_words(answer.get("date") or (answer.get("trace") or {}).get("date")),
                   datasets=datasets_in(answer.get("trace")), query=query,
                   attestable=failure is None and answer.get("status") in ("inside", "outside", "near_boundary"))
    return render(request, "index.html", **context)


def _quartier_answer(request: Request, context: dict[str, Any], code: str, date: str) -> HTMLResponse:
    engine = request.app.state.engine
    when = optional_date(date) or dt.date.today()
    q = engine.quartier(code.strip(), when)
    in_force = bool(q.get("in_force"))
    communes = ", ".join(c.get("name", "") for c in q.get("communes") or [])
    verdict = {"word": "OUI" if in_force else "NON", "tone": "oui" if in_force else "non",
               "detail": (f"« {q.get('name')} » ({q.get('code')}) est un quartier prioritaire à cette date" if in_force else
                          f"« {q.get('name')} » ({q.get('code')}) n'est pas un quartier prioritaire en vigueur à cette date"
                          + (f" : {q['reason']}" if q.get("reason") else ""))}
    answer = {"quartier": {"code": q.get("code"), "name": q.get("name")}, "vintage": q.get("vintage"),
              "legal_basis": q.get("legal_basis"), "date": q.get("date"), "status": "inside" if in_force else "outside",
              "commune": (q.get("communes") or [None])[0], "distance_to_boundary_m": None,
              "trace": {k: v for k, v in q.items() if k != "geometry"}}
    map_data = {"lon": None, "lat": None, "date": q.get("date"), "quartier": q.get("code"), "quartier_name": q.get("name"),
                "geometry": q.get("geometry"), "commune": None}
    context.update(answer=answer, verdict=verdict, map_data=map_data, failure=None, placed=None, geocoding=None,
                   date_used=date_words(q.get("date")), datasets=datasets_in(q), query="", attestable=False,
                   communes=communes)
    return render(request, "index.html", **context)


# --- dispositifs -----------------------------------------------------------------------------------

def _form(request: Request, dispositif: str) -> dict[str, Any]:
    engine = request.app.state.engine
    schema = engine.facts_schema(dispositif)
    text = engine.form_text(dispositif) if hasattr(engine, "form_text") else {}
    title = next((d["title"] for d in engine.dispositifs() if d["id"] == dispositif), dispositif)
    fields = fields_from_schema(schema, text.get("labels"))
    return dict(dispositif=dispositif, title=title, fields=fields, groups=grouped(fields),
                decision_date_label=text.get("decision_date"))


@router.get("/dispositifs/{dispositif}", response_class=HTMLResponse)
def dispositif_page(request: Request, dispositif: str) -> HTMLResponse:
    return render(request, "dispositif.html", values={}, decision=None, error=None, **_form(request, dispositif))


def _decision_context(decision: dict[str, Any], fields: list[Field]) -> dict[str, Any]:
    """What the page shows under the verdict: conditions, amounts, places, missing facts, geography doubts."""
    trace = decision.get("trace") or {}
    places, doubts = [], []
    for g in trace.get("geography") or []:
        label = field_label(fields, g.get("fact")) or "Lieu"
        words = place_words(g)
        places.append({"label": label, "text": words["text"]})
        if words.get("problem"):
            doubts.append(f"{label} : {words['problem']}")
    for amb in decision.get("ambiguities") or []:
        label = field_label(fields, amb.get("fact") or "")
        if not any(d.startswith(f"{label} :") for d in doubts):
            doubts.append(f"{label or 'Lieu'} : {amb.get('message')}")
    missing = []
    for path in decision.get("missing_inputs") or []:
        target = next((f.html_id for f in fields if path == f.name or path.startswith(f.name + ".")), "")
        missing.append((field_label(fields, path) or "une information du formulaire", target))
    dd = trace.get("decision_date") or {}
    return dict(verdict=decision_verdict(decision.get("outcome", "")), conditions=condition_lines(decision),
                amounts=amount_lines(decision), places=places, ambiguities=doubts, missing=missing,
                date_used=(date_words(dd.get("value")) + (f" ({dd['label']})" if dd.get("label") else "")) if dd.get("value")
                else "inconnue : " + (dd.get("label") or "la date de décision") + " n'est pas renseignée")


@router.post("/dispositifs/{dispositif}", response_class=HTMLResponse)
async def dispositif_decide(request: Request, dispositif: str) -> HTMLResponse:
    context = await run_in_threadpool(_form, request, dispositif)
    values = {k: str(v) for k, v in (await request.form()).items()}
    fields = context["fields"]
    context.update(values=values, decision=None, error=None)
    engine = request.app.state.engine
    try:
        facts = facts_from_form(fields, values)
        date = optional_date(values.get("_date"))
        if not facts:
            # An empty form: say what to fill, from what the rule itself would ask for.
            empty = await run_in_threadpool(engine.evaluate, dispositif, {}, date)
            asked = set(empty.get("missing_inputs") or [])
            todo = [(f.short_label, f.html_id) for f in fields if f.name in asked]
            context["error"] = {"field": None, "fields": set(), "message": "le formulaire est vide : remplissez au moins ce qui suit",
                                "problems": [{"message": "le formulaire est vide : remplissez au moins ce qui suit", "target": None}],
                                "todo": todo}
            return render(request, "dispositif.html", status=400, **context)
        context["decision"] = decision = await run_in_threadpool(engine.evaluate, dispositif, facts, date)
        context["explanation"] = engine.explain(decision)
        context.update(_decision_context(decision, fields))
    except BadInput as exc:
        context["error"] = _error(exc, fields, {"_date": "f-_date", "date": "f-_date"})
        return render(request, "dispositif.html", status=400, **context)
    return render(request, "dispositif.html", **context)


# --- batch -----------------------------------------------------------------------------------------

@router.get("/lots", response_class=HTMLResponse)
def batch_page(request: Request) -> HTMLResponse:
    return render(request, "batch.html")


@router.post("/lots/traiter")
def batch_page_run(request: Request, file: UploadFile = File(...), traitement: str = Form("locate"),
                   date: str | None = Form(None)) -> Response:
    """The page's batch: the same answers as /api/batch, in a French CSV for Excel (`lots.py`)."""
    from .api import _spool, _stream

    engine = request.app.state.engine
    if traitement != "locate" and traitement not in [d["id"] for d in engine.dispositifs()]:
        raise BadInput(f"traitement inconnu « {traitement} »", field="traitement")
    when = optional_date(date)
    info: dict[str, Any] = {}

    def produce(path):
        blocks, found = engine.batch_page(traitement, path, when)
        info.update(found)
        return blocks

    name = "qpv-localisation.csv" if traitement == "locate" else f"qpv-{traitement}.csv"
    return _stream(produce, _spool(file), name,
                   headers=lambda: {"x-qpv-colonnes": json.dumps(info, ensure_ascii=True)})


@router.get("/lots/modele/{kind}.csv")
def batch_template(request: Request, kind: str) -> Response:
    """A file to fill in: the column names the batch page recognises, in French, `;` and BOM."""
    from .lots import template_csv

    engine = request.app.state.engine
    if kind != "locate" and kind not in [d["id"] for d in engine.dispositifs()]:
        raise BadInput(f"modèle inconnu « {kind} »", field="modele")
    return Response(template_csv(engine.batch_template(kind)), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="modele-{kind}.csv"'})


# --- attestations ----------------------------------------------------------------------------------

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
    att = attestation_for(request.app.state.engine, lon, lat, address, date)
    if address and address_failure(att["answer"]) is not None:
        raise BadInput(f"pas d'attestation pour une adresse non localisée : {address_failure(att['answer'])['why']}", field="address")
    return attestation_response(att, format)


def evaluation_attestation_for(engine, dispositif: str, facts: dict[str, Any], date: str | None) -> dict[str, Any]:
    """Build the attestation of a dispositif decision (the service and `qpv attest --dispositif` share this)."""
    when = optional_date(date)
    decision = answering(engine).evaluate(dispositif, facts, when)
    question = {"kind": "evaluate", "dispositif": dispositif, "facts": attest.flat_facts(facts),
                "date": when.isoformat() if when else None}
    att = recorded(engine, attest.build(question, decision, engine.versions()))
    # French names of the facts and their values: shown only, not part of what the identifier covers.
    text = engine.form_text(dispositif) if hasattr(engine, "form_text") else {}
    att["labels"] = text.get("labels") or {}
    att["descriptions"] = {path: Field(path, desc, "").short_label for path, desc in (text.get("descriptions") or {}).items()}
    return att


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
    context = await run_in_threadpool(_form, request, dispositif)
    values = {k: str(v) for k, v in (await request.form()).items()}
    check_format(values.get("_format", "html"))
    facts = facts_from_form(context["fields"], values)
    att = await run_in_threadpool(evaluation_attestation_for, request.app.state.engine, dispositif, facts, values.get("_date"))
    return attestation_response(att, values.get("_format", "html"))


def render_attestation_html(att: dict[str, Any]) -> str:
    """Standalone printable page (also what `qpv attest --format html` writes)."""
    return templates.env.get_template("attestation.html").render(
        att=att, heading=attest.title(att), sections=attest.sections(att), notice=attest.NOTICE,
        check_url=attest.check_url(att))


@router.get("/attestation/verifier", response_class=HTMLResponse)
def attestation_check(request: Request, identifiant: str = "", question: str = "") -> HTMLResponse:
    """Recompute an attestation from its question and say whether its identifier still holds; with a register,
    also when and for what it was recorded."""
    context: dict[str, Any] = dict(identifiant=identifiant, question=question, result=None, error=None,
                                   registre=getattr(request.app.state, "register", None) is not None)
    if not identifiant.strip() and not question.strip():
        return render(request, "verifier.html", **context)
    try:
        context["result"] = result = attest.check(request.app.state.engine, identifiant, question,
                                                  getattr(request.app.state, "register", None))
        context["sections"] = attest.sections(result["attestation"]) if result["attestation"] else []
    except BadInput as exc:
        context["error"] = _error(exc, targets={"identifiant": "identifiant", "question": "question"})
        return render(request, "verifier.html", status=400, **context)
    return render(request, "verifier.html", **context)
