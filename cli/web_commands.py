"""`qpv serve` (the web service and pages) and `qpv attest` (the attestation of a locate answer)."""
from __future__ import annotations

import sys

import click

from .common import handle_errors, json_option, parse_date, read_facts, to_json
from .register_commands import keep_facts_default, open_register, record_options, register_option

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute (boucle locale par défaut).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--cors-origin", "cors_origins", multiple=True, help="Origine autorisée par CORS (répétable). Sans elle, CORS est désactivé.")
@click.option("--tile-url", default=None, help="Modèle d'URL de tuiles {z}/{x}/{y} pour le fond de carte (sinon fond neutre).")
@click.option("--tile-attribution", default="", help="Mention à afficher avec ces tuiles.")
@click.option("--max-body-bytes", default=256 * 1024, show_default=True, type=click.IntRange(1))
@click.option("--max-upload-bytes", default=50 * 1024 * 1024, show_default=True, type=click.IntRange(1))
@click.option("--timeout", "request_timeout_s", default=30.0, show_default=True, type=click.FloatRange(min=0.1), help="Délai maximal d'une requête (s).")
@click.option("--batch-timeout", "batch_timeout_s", default=600.0, show_default=True, type=click.FloatRange(min=0.1), help="Délai maximal d'un traitement de fichier (s).")
@click.option("--log-personal-data", is_flag=True, help="Journaliser aussi les paramètres des requêtes (coordonnées, adresses).")
@click.option("--record/--no-record", default=True, show_default=True,
              help="Inscrire chaque réponse, localisation et attestation servie au registre des décisions.")
@register_option
@click.option("--register-keep-facts", is_flag=True, default=None,
              help="Conserver les faits en entier dans le registre (données personnelles ; sinon leur empreinte seule). "
                   "Aussi QPV_REGISTER_KEEP_FACTS=1.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Processus uvicorn (plusieurs : un registre PostgreSQL partagé est conseillé).")
@click.option("--register-api", is_flag=True, help="Ouvrir GET /api/register et /api/register/{id} (clients de la boucle locale seulement).")
@handle_errors
def serve(host, port, register_keep_facts, workers, **options) -> None:
    """Démarre le service web (API JSON, pages, attestations)."""
    import logging

    import uvicorn

    from eligibility.web import create_app
    from eligibility.web.settings import WebSettings

    keep = keep_facts_default() if register_keep_facts is None else register_keep_facts
    settings = WebSettings(host=host, port=port, cors_origins=list(options.pop("cors_origins")), register_keep_facts=keep,
                           **options)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if host not in LOOPBACK:
        click.echo(f"Attention : le service écoute sur {host}, hors de la boucle locale.", err=True)
    # uvicorn's own access log prints query strings (coordinates, addresses): ours does not.
    if workers > 1:  # each worker process builds its own app from the same settings
        import os

        os.environ["QPV_WEB_SETTINGS"] = settings.model_dump_json()
        uvicorn.run("eligibility.web.app:app_from_env", factory=True, workers=workers, host=host, port=port,
                    access_log=False, log_level="info")
        return
    uvicorn.run(create_app(settings), host=host, port=port, access_log=False, log_level="info")


@click.command("attest")
@click.option("--dispositif", default=None, help="Attester une décision de ce dispositif (avec --facts) au lieu d'une localisation.")
@click.option("--facts", "facts_path", default=None, help="Fichier JSON des faits (ou - pour l'entrée standard), avec --dispositif.")
@click.option("--lon", default=None, help="Longitude (WGS 84).")
@click.option("--lat", default=None, help="Latitude (WGS 84).")
@click.option("--address", default=None, help="Adresse postale.")
@click.option("--date", default=None, help="Date d'appréciation AAAA-MM-JJ (localisation : aujourd'hui par défaut ; "
              "dispositif : date de décision imposée, sinon celle de la règle).")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None, help="Fichier de sortie (sinon la sortie standard).")
@record_options
@json_option
@handle_errors
def attest(dispositif, facts_path, lon, lat, address, date, fmt, output, as_json, record, register_url, keep_facts) -> None:
    """Attestation d'une réponse : le même document que GET /attestation (localisation) ou
    POST /attestation/DISPOSITIF (décision) du service."""
    from eligibility.errors import BadInput
    from eligibility.web.attestation import render_pdf
    from eligibility.web.engine import DomainEngine
    from eligibility.web.pages import attestation_for, evaluation_attestation_for, render_attestation_html
    from eligibility.web.problems import WebError

    if date is not None:
        parse_date(date)  # an empty or malformed --date is refused here, not read as « today »
    engine = DomainEngine()
    if record:  # the attestation is recorded before it is written out
        from eligibility.register.recording import RecordingEngine

        engine = RecordingEngine(engine, open_register(register_url, keep_facts), channel="cli")
    try:
        if dispositif:
            if not facts_path or lon or lat or address:
                raise BadInput("--dispositif va avec --facts, sans --lon/--lat/--address", field="--facts")
            att = evaluation_attestation_for(engine, dispositif, read_facts(facts_path), date)
        else:
            att = attestation_for(engine, lon, lat, address, date)
    except (BadInput, WebError) as exc:  # WebError: unknown dispositif (a 404 in the service)
        field = exc.field
        if field in ("lon", "lat", "address", "date", "dispositif"):  # the service's names are options here
            field = f"--{field}"
        raise BadInput(getattr(exc, "detail", None) or exc.message, field=field) from None
    if as_json:
        click.echo(to_json(att))
        return
    data = render_pdf(att) if fmt == "pdf" else render_attestation_html(att).encode()
    if output:
        with open(output, "wb") as f:
            f.write(data)
        click.echo(f"Attestation {att['identifier']} écrite dans {output}", err=True)
    else:
        sys.stdout.buffer.write(data)


def register(group: click.Group) -> None:
    group.add_command(serve)
    group.add_command(attest)
