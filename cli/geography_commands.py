"""`qpv locate` and `qpv quartiers list|show`: geography on the command line (contract in DESIGN.md)."""
from __future__ import annotations

import datetime as dt

import click

from .common import emit, handle_errors, json_option, parse_date, parse_float
from .register_commands import record_answer, record_options

_STATUS_FR = {
    "inside": "DANS un quartier prioritaire",
    "outside": "HORS de tout quartier prioritaire",
    "near_boundary": "À LA LIMITE d'un quartier prioritaire (indéterminé : vérifier sur le périmètre officiel)",
    "not_covered": "NON COUVERT (aucune liste de quartiers fournie pour ce lieu à cette date)",
    "undetermined": "INDÉTERMINÉ (adresse non localisée assez précisément)",
}


def _metres(v) -> str:
    return "—" if v is None else f"{v:,.1f} m".replace(",", " ").replace(".", ",")


def _communes(q: dict) -> str:
    return ", ".join(f"{c['code']} {c['name']}" for c in q["communes"])


def _locate_text(obj: dict) -> str:
    q, c, t = obj["quartier"], obj["commune"], obj["trace"]
    lines = [f"Statut : {_STATUS_FR.get(obj['status'], obj['status'])}"]
    if q:
        lines.append(f"Quartier : {q['code']} « {q['name']} » (communes : {_communes(q)})")
    if c:
        lines.append(f"Commune : {c['code']} {c['name']} (département {obj['departement']}, région {obj['region']})")
    lines.append(f"Date : {obj['date']}" + (" (date du jour, par défaut)" if t.get("date_source") == "default" else ""))
    if obj["vintage"]:
        lines.append(f"Millésime : {obj['vintage']} — {obj['legal_basis']}")
    if obj["reason"]:
        lines.append(f"Motif : {obj['reason']}")
    geo = t.get("geometry") or {}
    lines.append(f"Distance à la limite de quartier la plus proche : {_metres(obj['distance_to_boundary_m'])}"
                 + (f" (tolérance {geo['tolerance_m']:g} m)" if geo else ""))
    if obj["carreau"]:
        lines.append(f"Carreau INSEE 200 m : {obj['carreau']}")
    if t.get("vintage"):
        lines.append(f"Pourquoi ce millésime : {t['vintage']['explanation']}")
    for z in obj.get("zones") or ():
        lines.append(f"Zonage local : {z['layer']} — {z['code']}" + (f" « {z['name']} »" if z["name"] else "")
                     + (" (à la limite de la zone)" if z["status"] == "near_boundary" else ""))
    lines.append(f"Conclusion : {t['conclusion']}")
    return "\n".join(lines)


@click.command("locate")
@click.option("--lon", help="Longitude WGS84 (degrés décimaux).")
@click.option("--lat", help="Latitude WGS84 (degrés décimaux).")
@click.option("--x", "x", help="X Lambert-93 (EPSG:2154, mètres), à la place de --lon.")
@click.option("--y", "y", help="Y Lambert-93 (EPSG:2154, mètres), à la place de --lat.")
@click.option("--address", help="Adresse postale en texte libre (géocodage local).")
@click.option("--date", "date_", help="Date de la question, AAAA-MM-JJ (défaut : aujourd'hui).")
@click.option("--tolerance", default=None, help="Tolérance en mètres autour des limites (défaut : deux fois la précision déclarée du fichier de périmètres, au moins 1 m ; 15 m pour les fichiers fournis).")
@click.option("--history", is_flag=True, help="Statut du lieu sous chaque liste de quartiers chargée, daté (--date est alors ignorée).")
@record_options
@json_option
@handle_errors
def locate(lon, lat, x, y, address, date_, tolerance, history, as_json, record, register_url, keep_facts) -> None:
    """Dit si un point (ou une adresse) est dans un quartier prioritaire à une date, avec la trace."""
    from eligibility.errors import BadInput

    day = parse_date(date_, default=dt.date.today())
    tol = None if tolerance is None else parse_float(tolerance, "--tolerance")
    if history and record:
        raise BadInput("--record enregistre une réponse à une date : il ne s'applique pas à --history", field="--record")
    given = [name for name, v in (("--lon/--lat", lon or lat), ("--x/--y", x or y), ("--address", address)) if v]
    if len(given) != 1:
        raise BadInput("indiquez une position et une seule : --lon et --lat, ou --x et --y (Lambert-93), ou --address"
                       + (f" (reçu : {', '.join(given)})" if given else ""), field="position")
    if address:
        try:
            from eligibility.addresses import locate_addresses
        except ModuleNotFoundError:
            raise BadInput("la recherche par adresse n'est pas encore disponible : utilisez --lon et --lat", field="--address") from None
        res = locate_addresses([address], [day], tolerance_m=tol)
        where = f"l'adresse « {address} »"
    else:
        from eligibility.geography import locate_points

        if lon or lat:
            if lon is None or lat is None:
                raise BadInput("--lon et --lat vont ensemble", field="--lat" if lon else "--lon")
            a, b, crs = parse_float(lon, "--lon"), parse_float(lat, "--lat"), "EPSG:4326"
        else:
            if x is None or y is None:
                raise BadInput("--x et --y vont ensemble", field="--y" if x else "--x")
            a, b, crs = parse_float(x, "--x"), parse_float(y, "--y"), "EPSG:2154"
        res = locate_points([a], [b], day, crs=crs, tolerance_m=tol)
        where = f"le point ({a}, {b})"
    from eligibility.geography import locate_answer

    obj = locate_answer(res, where, date_given=bool(date_))
    if history:
        from eligibility.geography.history import place_history, sentence

        if obj["status"] == "undetermined":
            raise BadInput(f"{where} n'a pas pu être localisée assez précisément pour en donner l'historique", field="--address")
        a, b, crs = (float(res.lon[0]), float(res.lat[0]), "EPSG:4326")
        periods = place_history(a, b, crs=crs, tolerance_m=tol)
        hist = {"position": obj["trace"]["input"], "departement": obj["departement"], "commune": obj["commune"],
                "history": periods, "summary": sentence(periods)}
        emit(hist, as_json, lambda h: "\n".join(
            [f"Historique du lieu (commune : {h['commune']['code'] + ' ' + h['commune']['name'] if h['commune'] else '—'}) :",
             h["summary"][:1].upper() + h["summary"][1:] + "."]
            + [f"  du {p['valid_from']} au {p['valid_to'] or '…'} : liste {p['vintage'] or '—'}"
               + (f", couche importée « {p['layer']} »" if p["layer"] else "") for p in h["history"]]))
        return
    if record:
        from eligibility.register.recording import locate_question

        asked = {"address": address} if address else ({"x": a, "y": b} if crs == "EPSG:2154" else {"lon": a, "lat": b})
        record_answer(register_url, keep_facts, locate_question(day if date_ else None, tolerance_m=tol, **asked), obj)
    emit(obj, as_json, _locate_text)


@click.group("quartiers")
def quartiers() -> None:
    """Quartiers prioritaires : listes par commune, département, EPCI ou millésime."""


def _list_text(obj: dict) -> str:
    lines = [f"{q['code']}  {q['name']}  ({q['vintage']} ; communes : {_communes(q)})" for q in obj["quartiers"]]
    lines.append(f"{len(obj['quartiers'])} quartier(s)")
    return "\n".join(lines)


@quartiers.command("list")
@click.option("--commune", help="Code INSEE de commune (5 caractères).")
@click.option("--departement", help="Code de département (ex. 62, 2A, 974).")
@click.option("--epci", help="SIREN de l'EPCI (COG 2026).")
@click.option("--vintage", help="Millésime : QP2024 ou QP2015.")
@json_option
@handle_errors
def list_cmd(commune, departement, epci, vintage, as_json) -> None:
    """Liste les quartiers prioritaires, filtrés."""
    from eligibility.geography import list_quartiers

    emit({"quartiers": list_quartiers(commune=commune, departement=departement, epci=epci, vintage=vintage)}, as_json, _list_text)


def _show_text(q: dict) -> str:
    state = "EN VIGUEUR" if q["in_force"] else "PAS EN VIGUEUR"
    lines = [f"{q['code']} « {q['name']} » — millésime {q['vintage']}",
             f"Communes : {_communes(q)} (département {q['departement']}" + (f", EPCI {q['epci']})" if q["epci"] else ")"),
             f"Au {q['date']} : {state}" + (f" — {q['reason']}" if q.get("reason") else ""),
             f"Base légale : {q['legal_basis']}" + ("" if q["legal_basis_confirmed"] else " (non confirmée)"),
             f"Validité : du {q['valid_from']} au {q['valid_to'] or '…'}",
             f"Données : {q['dataset']['dataset']} (sha256 {q['dataset']['sha256'][:12]}…)"]
    if q["geometry_repaired"]:
        lines.append("Note : le périmètre publié était invalide (auto-intersection) ; il a été réparé au chargement.")
    if q["geometry_degenerate"]:
        lines.append("Attention : le fichier simplifié réduit ce périmètre à un point ; la localisation ne peut pas conclure « dans ».")
    return "\n".join(lines)


@quartiers.command("show")
@click.argument("code")
@click.option("--date", "date_", help="Date, AAAA-MM-JJ (défaut : aujourd'hui).")
@json_option
@handle_errors
def show(code, date_, as_json) -> None:
    """Un quartier : communes, millésime, base légale, en vigueur ou non à la date."""
    from eligibility.geography import quartier_in_force

    day = parse_date(date_, default=dt.date.today())
    emit(quartier_in_force(code, day), as_json, _show_text)


def _diff_text(d: dict) -> str:
    lines = [f"De {d['from']} à {d['to']}"
             + (f" (départements comparés : {', '.join(d['compared_departements'])})" if d["compared_departements"] else "")
             + f" — {d['counts']['from']} quartier(s) avant, {d['counts']['to']} après"]
    lines.append(f"Règle d'appariement : {d['match_rule']}.")
    lines.append("Fichiers comparés : " + " ; ".join(
        f"couche importée « {p['layer']} » ({p['original_file']})" if p.get("layer") else p["title"] for p in d["datasets"]))
    for k in d["kept"]:
        lines.append(f"  conservé : {k['from']['code']} « {k['from']['name']} » → {k['to']['code']} « {k['to']['name']} » : "
                     f"{_ha(k['gained_ha'])} gagnés, {_ha(k['lost_ha'])} perdus ({_ha(k['area_from_ha'])} → {_ha(k['area_to_ha'])})")
    for q in d["left"]:
        lines.append(f"  sorti : {q['code']} « {q['name']} » ({_communes(q)})")
    for q in d["entered"]:
        lines.append(f"  entré : {q['code']} « {q['name']} » ({_communes(q)})")
    names = d["commune_names"]
    if d["communes_lost_last"]:
        lines.append("Communes qui ont perdu leur dernier quartier : " + ", ".join(f"{c} {names[c]}" for c in d["communes_lost_last"]))
    if d["communes_gained_first"]:
        lines.append("Communes qui ont gagné leur premier quartier : " + ", ".join(f"{c} {names[c]}" for c in d["communes_gained_first"]))
    # an imported layer's caveats are ours, in French (the bundled files' stay in the JSON, from the manifest)
    lines.extend(f"Réserve : {c}" for p in d["datasets"] if p.get("layer") for c in p["caveats"])
    return "\n".join(lines)


def _ha(v: float) -> str:
    return f"{v:,.2f} ha".replace(",", " ").replace(".", ",")


@quartiers.command("diff")
@click.option("--from", "from_", required=True, help="Liste de départ : QP2015 ou QP2024.")
@click.option("--to", "to", required=True, help="Liste d'arrivée : QP2015 ou QP2024.")
@click.option("--commune", help="Code INSEE de commune (5 caractères).")
@click.option("--departement", help="Code de département (ex. 82).")
@click.option("--epci", help="SIREN de l'EPCI (COG 2026).")
@json_option
@handle_errors
def diff_cmd(from_, to, commune, departement, epci, as_json) -> None:
    """Compare deux listes sur un territoire : quartiers entrés, sortis, surfaces gagnées et perdues."""
    from eligibility.geography.list_diff import diff

    emit(diff(from_, to, commune=commune, departement=departement, epci=epci), as_json, _diff_text)


def register(group: click.Group) -> None:
    group.add_command(locate)
    group.add_command(quartiers)
