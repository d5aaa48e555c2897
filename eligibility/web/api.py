"""JSON endpoints. Each returns the object of the matching `qpv … --json` command, serialised by the
same `to_json`, so the bytes are the CLI's (without its final newline)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from .. import __version__
from ..errors import BadInput
from ..inputs import parse_date, parse_float
from ..jsonio import json_kind, load_user_json, to_json
from .problems import WebError

router = APIRouter()

# Largest distance for the map's "nearby quartiers": beyond this the page has no use for them.
MAX_RADIUS_M = 5000.0
# Uploads are saved under a fixed name in a fresh temporary folder; the extension follows the content
# (Parquet files start with the magic bytes PAR1), never the client's file name.
UPLOAD_STEM = "televersement"


# A postal address is a line, not a document: longer text is refused before any work.
MAX_ADDRESS_CHARS = 300


def require_text(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        raise BadInput("valeur manquante", field=field)
    if field == "address" and len(value) > MAX_ADDRESS_CHARS:
        raise BadInput(f"adresse trop longue ({len(value)} caractères, au plus {MAX_ADDRESS_CHARS})", field=field)
    return value.strip()


def json_response(obj: Any) -> Response:
    return Response(content=to_json(obj), media_type="application/json")


def optional_date(value: str | None):
    return None if value in (None, "") else parse_date(value, field="date")


def point(lon: str | None, lat: str | None) -> tuple[float, float]:
    # Ranges and territory are geography's to check (locate_points names the field).
    return parse_float(require_text(lon, "lon"), "lon"), parse_float(require_text(lat, "lat"), "lat")


def locate_answer(engine, lon: str | None, lat: str | None, address: str | None, date: str | None) -> dict:
    """The `qpv locate --json` object for a point or an address (shared with the attestation)."""
    when = optional_date(date)
    if address not in (None, ""):
        if lon not in (None, "") or lat not in (None, ""):
            raise BadInput("donnez soit une adresse, soit lon et lat, pas les deux", field="address")
        return engine.locate_address(require_text(address, "address"), when)
    if lon in (None, "") and lat in (None, ""):
        raise BadInput("donnez une adresse (address) ou un point (lon et lat)", field="lon")
    x, y = point(lon, lat)
    return engine.locate(x, y, when)


@router.get("/health", tags=["service"])
def health() -> dict:
    """Le service répond (ne teste pas les données de référence)."""
    return {"status": "ok", "version": __version__}


@router.get("/api/locate", tags=["géographie"])
def api_locate(request: Request, lon: str | None = None, lat: str | None = None, address: str | None = None,
               date: str | None = None) -> Response:
    """Ce point ou cette adresse est-il dans un quartier prioritaire à cette date ? (= `qpv locate --json`)"""
    return json_response(locate_answer(request.app.state.engine, lon, lat, address, date))


@router.get("/api/geocode", tags=["adresses"])
def api_geocode(request: Request, address: str | None = None) -> Response:
    """Position d'une adresse, avec sa précision (= `qpv geocode --json`)."""
    return json_response(request.app.state.engine.geocode(require_text(address, "address")))


@router.get("/api/quartiers", tags=["géographie"])
def api_quartiers(request: Request, commune: str | None = None, departement: str | None = None,
                  epci: str | None = None, vintage: str | None = None) -> Response:
    """Liste des quartiers (= `qpv quartiers list --json`)."""
    return json_response(request.app.state.engine.quartiers(commune=commune, departement=departement, epci=epci, vintage=vintage))


@router.get("/api/quartiers/{code}", tags=["géographie"])
def api_quartier(request: Request, code: str, date: str | None = None) -> Response:
    """Un quartier, son statut à la date et son périmètre en GeoJSON."""
    return json_response(request.app.state.engine.quartier(code, optional_date(date)))


@router.get("/api/communes/{code}/contour", tags=["géographie"])
def api_commune_outline(request: Request, code: str) -> Response:
    """Contour d'une commune (GeoJSON, WGS 84), pour la carte ; `geometry` est null si les contours fournis ne l'ont pas."""
    return json_response({"code": code, "geometry": request.app.state.engine.commune_outline(code)})


@router.get("/api/perimeters", tags=["géographie"])
def api_perimeters(request: Request, lon: str | None = None, lat: str | None = None, date: str | None = None,
                   radius_m: str | None = "1500") -> Response:
    """Périmètres en vigueur autour d'un point (GeoJSON FeatureCollection), pour la carte."""
    x, y = point(lon, lat)
    radius = parse_float(radius_m or "1500", "radius_m")
    if radius > MAX_RADIUS_M:  # a map has no use for more; geography checks the rest
        raise BadInput(f"rayon de plus de {MAX_RADIUS_M:g} m : {radius:g}", field="radius_m")
    return json_response(request.app.state.engine.nearby(x, y, optional_date(date), radius))


@router.get("/api/dispositifs", tags=["dispositifs"])
def api_dispositifs(request: Request) -> Response:
    """Dispositifs connus (id, titre)."""
    return json_response({"dispositifs": request.app.state.engine.dispositifs()})


@router.get("/api/dispositifs/{dispositif}/schema", tags=["dispositifs"])
def api_schema(request: Request, dispositif: str) -> Response:
    """Schéma JSON des faits du dispositif (= `qpv rules schema`)."""
    return json_response(request.app.state.engine.facts_schema(dispositif))


def _json_media_type(request: Request) -> None:
    """The body is JSON: `application/json` or a `+json` type (or no Content-Type at all, as some clients
    send); text/plain, a form… is refused (415) rather than read as JSON by guess."""
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media = declared.split(";")[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise WebError(415, f"type de contenu « {media or '(vide)'} » refusé : envoyez les faits en "
                            "application/json", "content-type")


async def json_object_body(request: Request) -> dict:
    _json_media_type(request)
    raw = await request.body()
    if not raw.strip():
        raise WebError(400, "corps vide : envoyez les faits en objet JSON", "body")
    facts = load_user_json(raw, "body", what="corps JSON")
    if not isinstance(facts, dict):
        raise WebError(400, f"les faits doivent être un objet JSON, reçu : {json_kind(facts)}", "body")
    return facts


# The body is read raw (to report malformed JSON in French); OpenAPI still says what it is.
FACTS_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "Les faits : objet imbriqué ou chemins pointés (schéma : /api/dispositifs/{id}/schema)"}}}}}


@router.post("/api/evaluate/{dispositif}", tags=["dispositifs"], openapi_extra=FACTS_BODY)
async def api_evaluate(request: Request, dispositif: str, date: str | None = None) -> Response:
    """Décision pour un cas : les faits en objet JSON (imbriqué ou en chemins pointés). (= `qpv evaluate --json`)"""
    facts = await json_object_body(request)
    when = optional_date(date)
    answer = await run_in_threadpool(request.app.state.engine.evaluate, dispositif, facts, when)
    return json_response(answer)


@router.post("/attestation/{dispositif}", tags=["dispositifs"], openapi_extra=FACTS_BODY)
async def api_evaluation_attestation(request: Request, dispositif: str, date: str | None = None, format: str = "html") -> Response:
    """Attestation (HTML ou PDF) de la décision pour ces faits (même corps que /api/evaluate)."""
    from .pages import attestation_response, check_format, evaluation_attestation_for

    check_format(format)
    facts = await json_object_body(request)
    att = await run_in_threadpool(evaluation_attestation_for, request.app.state.engine, dispositif, facts, date)
    return attestation_response(att, format)


# --- batch -------------------------------------------------------------------------------------

def _spool(upload: UploadFile) -> tempfile.TemporaryDirectory:
    """Copy the upload into a private temporary folder under a fixed name: the client's file name is
    never used as a path."""
    if upload.filename is None and not upload.size:
        raise WebError(400, "fichier CSV manquant", "file")
    folder = tempfile.TemporaryDirectory(prefix="qpv-web-")
    upload.file.seek(0)
    suffix = ".parquet" if upload.file.read(4) == b"PAR1" else ".csv"
    upload.file.seek(0)
    target = Path(folder.name) / (UPLOAD_STEM + suffix)
    with open(target, "wb") as out:
        shutil.copyfileobj(upload.file, out)
    if target.stat().st_size == 0:
        folder.cleanup()
        raise WebError(400, "fichier vide", "file")
    return folder


def _stream(produce, folder: tempfile.TemporaryDirectory, filename: str, headers=None) -> StreamingResponse:
    # The first chunk is computed before answering, so a file-level error (missing column…) is a
    # 400 with its message rather than a cut stream.
    try:
        chunks = iter(produce(next(Path(folder.name).iterdir())))
        first = next(chunks, b"")
    except BaseException:
        folder.cleanup()
        raise

    def body():
        try:
            yield first
            yield from chunks
        finally:
            folder.cleanup()

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8",
                             headers={"content-disposition": f'attachment; filename="{filename}"', **(headers() if headers else {})})


@router.post("/api/batch/locate", tags=["lots"])
def api_batch_locate(request: Request, file: UploadFile = File(..., description="CSV ou Parquet : colonnes lon, lat (ou address), date facultative"),
                     date: str | None = Form(None)) -> StreamingResponse:
    """Un fichier CSV (ou Parquet) de points ou d'adresses ; renvoie le CSV des réponses, une ligne par ligne d'entrée (= `qpv batch locate`)."""
    when = optional_date(date)
    return _stream(lambda path: request.app.state.engine.batch_locate(path, when), _spool(file), "qpv-localisation.csv")


@router.post("/api/batch/evaluate/{dispositif}", tags=["lots"])
def api_batch_evaluate(request: Request, dispositif: str, file: UploadFile = File(..., description="CSV ou Parquet : une colonne par fait (chemin pointé)"),
                       date: str | None = Form(None)) -> StreamingResponse:
    """Un fichier CSV (ou Parquet) de cas ; renvoie le CSV des décisions, une ligne par ligne d'entrée (= `qpv batch evaluate`)."""
    when = optional_date(date)
    return _stream(lambda path: request.app.state.engine.batch_evaluate(dispositif, path, when), _spool(file),
                   f"qpv-{dispositif}.csv")
