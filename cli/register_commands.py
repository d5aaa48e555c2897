"""`qpv register list|show|recheck|verify-chain|export|purge`, and the `--record` options that other
commands (locate, evaluate, batch) share (docs/register.md)."""
from __future__ import annotations

import datetime as dt
import os
import re

import click

from eligibility.register.wording import CHANNEL_FR, KIND_FR, SERVED_FR, day_fr, outcome_fr, subject_fr, when_fr

from .common import emit, handle_errors, json_option, parse_date, read_facts, to_json

register_option = click.option(
    "--register", "register_url", default=None, metavar="URL",
    help="Registre des décisions : sqlite:///fichier ou postgresql://… (sinon QPV_REGISTER_URL, sinon un fichier "
         "SQLite dans le dossier de données de l'utilisateur).")


def keep_facts_default() -> bool:
    return os.environ.get("QPV_REGISTER_KEEP_FACTS", "").lower() in ("1", "true", "oui", "yes")


def record_options(fn):
    """--record, --register and --keep-facts, for the commands that can record what they answer."""
    fn = click.option("--keep-facts", is_flag=True, default=None,
                      help="Conserver les faits en entier dans le registre (données personnelles ; sinon seule leur "
                           "empreinte est gardée). Aussi QPV_REGISTER_KEEP_FACTS=1.")(fn)
    fn = register_option(fn)
    return click.option("--record", is_flag=True, help="Inscrire la réponse au registre des décisions.")(fn)


def open_register(url: str | None, keep_facts: bool | None = None):
    from eligibility.register import Register

    return Register(url, keep_facts=keep_facts_default() if keep_facts is None else keep_facts)


def record_answer(url: str | None, keep_facts: bool | None, question: dict, answer: dict, channel: str = "cli") -> dict:
    """Record one answer of the command line; returns {seq, attestation_id}."""
    from eligibility.register import entries
    from eligibility.rules.loader import cited_versions

    entry = entries.build(question, answer, cited_versions(), served="answer", channel=channel)
    done = open_register(url, keep_facts).append([entry])[0]
    click.echo(f"Inscrit au registre : entrée n° {done['seq']} ({done['attestation_id']})", err=True)
    return done


# --- French words for what people read ---------------------------------------------------------

CHANGE_FR = {"outcome": "résultat", "amounts": "montants", "reasons": "conditions non remplies",
             "missing_inputs": "informations manquantes", "rule_version": "version de la règle",
             "rule_sha256": "fichier de règles (empreinte)", "status": "situation", "quartier": "quartier",
             "vintage": "millésime des périmètres", "trace": "détail de la trace"}


def _line(e: dict) -> str:
    where = f", quartier {e['quartier']}" if e.get("quartier") else ""
    return (f"n° {e['id']} — {when_fr(e['recorded_at'])} — {subject_fr(e)} : {outcome_fr(e['kind'], e['outcome'])}"
            f"{where} — {e['attestation_id']}")


# --- commands ----------------------------------------------------------------------------------

@click.group("register")
def register_group() -> None:
    """Registre des décisions : chaque réponse servie, retrouvée, vérifiée et recalculée."""


@register_group.command("list")
@click.option("--from", "date_from", help="Inscrites depuis ce jour (AAAA-MM-JJ, inclus).")
@click.option("--to", "date_to", help="Inscrites jusqu'à ce jour (AAAA-MM-JJ, inclus).")
@click.option("--dispositif", help="Identifiant du dispositif (emplois-francs, tfpb…), ou « locate » pour les localisations.")
@click.option("--outcome", help="Résultat : eligible, not_eligible, undetermined (décisions) ; inside, outside… (localisations).")
@click.option("--quartier", help="Code du quartier (ex. QN04004M).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Au plus ce nombre d'entrées (les plus anciennes d'abord).")
@register_option
@json_option
@handle_errors
def list_cmd(date_from, date_to, dispositif, outcome, quartier, limit, register_url, as_json) -> None:
    """Les entrées du registre, filtrées."""
    for d, name in ((date_from, "--from"), (date_to, "--to")):
        if d is not None:
            parse_date(d, name)
    found = open_register(register_url).list(date_from=date_from, date_to=date_to, dispositif=dispositif,
                                             outcome=outcome, quartier=quartier, limit=limit)
    from eligibility.register.store import summary

    rows = [summary(e) for e in found]
    emit({"entries": rows}, as_json,
         lambda o: "\n".join(_line(e) for e in o["entries"]) or "Aucune entrée ne correspond.")


def _show_text(e: dict) -> str:
    rule = e.get("rule")
    lines = [f"Entrée n° {e['id']} du registre — attestation {e['attestation_id']}",
             f"  Inscrite le : {when_fr(e['recorded_at'])}, {SERVED_FR.get(e['served'], e['served'])} donnée par "
             f"{CHANNEL_FR.get(e['channel'], e['channel'])}",
             f"  Nature : {KIND_FR.get(e['kind'], e['kind'])} — {subject_fr(e)}",
             f"  Résultat : {outcome_fr(e['kind'], e['outcome'])}",
             f"  Quartier : {e['quartier'] or 'aucun'}",
             f"  Date {'de décision' if e['kind'] == 'dispositif' else 'de la question'} : {day_fr(e['decision_date'])}"]
    if rule:
        lines.append(f"  Règle : version {rule['version']}, empreinte sha256 {rule['sha256']}")
    lines.append(f"  Données de référence (empreinte du manifeste) : {e['data_sha256']}")
    lines.append("  Faits : " + ("conservés en entier" if e["facts_kept"] else
                                 f"non conservés (empreinte {e['facts_sha256']}) ; un nouveau calcul demande de les fournir"))
    lines.append(f"  Chaîne : empreinte de l'entrée {e['entry_hash']}, de la précédente {e['prev_hash']}")
    return "\n".join(lines)


@register_group.command("show")
@click.argument("entry_id", metavar="ID")
@register_option
@json_option
@handle_errors
def show_cmd(entry_id, register_url, as_json) -> None:
    """Une entrée : son numéro, ou l'identifiant d'attestation (QPV-…) pour la plus récente qui le porte."""
    from eligibility.errors import BadInput

    entry = open_register(register_url).get(entry_id)
    if entry is None:
        raise BadInput(f"aucune entrée « {entry_id} » dans le registre", field="ID")
    emit(entry, as_json, _show_text)


def _recheck_text(r: dict) -> str:
    then, today = r["with_recorded_rules"], r["today"]
    lines = [f"Entrée n° {r['id']} ({r['attestation_id']}) : résultat enregistré « {outcome_fr(r['kind'], r['recorded']['outcome'])} »"]
    if r["reproduced"]:
        lines.append("Reproduite : les règles et les données enregistrées redonnent la même réponse, au même identifiant.")
    else:
        lines.append(f"Non reproduite : {then.get('why') or 'la réponse recalculée diffère'}.")
    if today["same_answer"]:
        lines.append(f"Aujourd'hui : même réponse (« {outcome_fr(r['kind'], today['outcome'])} »).")
    else:
        lines.append(f"Aujourd'hui : « {outcome_fr(r['kind'], today['outcome'])} », identifiant {today['attestation_id']} ; "
                     "ce qui a changé :")
        for c in today["changes"]:
            what = c["what"]
            label = f"données « {what.split(':', 1)[1]} »" if what.startswith("dataset:") else CHANGE_FR.get(what, what)
            if c["recorded"] is None and c["today"] is None:
                lines.append(f"  - {label}")
            else:
                lines.append(f"  - {label} : {_value_fr(r['kind'], what, c['recorded'])} → {_value_fr(r['kind'], what, c['today'])}")
    return "\n".join(lines)


def _value_fr(kind: str, what: str, value) -> str:
    if value is None:
        return "aucun"
    if what in ("outcome", "status"):
        return outcome_fr(kind, value)
    if isinstance(value, (list, dict)):
        return to_json(value)
    return str(value)


@register_group.command("recheck")
@click.argument("entry_id", metavar="ID")
@click.option("--facts", "facts_path", default=None,
              help="Fichier JSON des faits (ou -), quand le registre n'a gardé que leur empreinte.")
@register_option
@json_option
@handle_errors
def recheck_cmd(entry_id, facts_path, register_url, as_json) -> None:
    """Recalcule une décision avec les règles et données enregistrées et avec celles d'aujourd'hui.
    Code de sortie 0 si la décision enregistrée est reproduite, 1 sinon, 2 pour une entrée invalide."""
    from eligibility.register.recheck import recheck

    facts = read_facts(facts_path) if facts_path else None
    report = recheck(open_register(register_url), entry_id, facts)
    emit(report, as_json, _recheck_text)
    if not report["reproduced"]:
        raise SystemExit(1)


@register_group.command("verify-chain")
@register_option
@json_option
@handle_errors
def verify_chain_cmd(register_url, as_json) -> None:
    """Vérifie la chaîne d'empreintes : code de sortie 0 si aucune entrée n'a été modifiée ni supprimée, 1 sinon."""
    report = open_register(register_url).verify_chain()
    emit(report, as_json, lambda r: (f"Chaîne intacte : {r['entries']} entrée(s)." if r["ok"] else
                                     "Chaîne rompue :\n" + "\n".join(f"  - {p['message']}" for p in r["problems"])))
    if not report["ok"]:
        raise SystemExit(1)


EXPORT_COLUMNS = ("seq", "recorded_at", "attestation_id", "attestation_sha256", "kind", "served", "channel", "dispositif",
                  "outcome", "quartier", "rule_id", "rule_version", "rule_sha256", "data_sha256", "decision_date",
                  "facts_sha256", "question", "answer", "versions", "prev_hash", "entry_hash")


@register_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True), help="Fichier de sortie.")
@register_option
@json_option
@handle_errors
def export_cmd(fmt, output, register_url, as_json) -> None:
    """Exporte toutes les entrées (sans les faits conservés : données personnelles), une ligne par entrée,
    avec la trace en JSON et la chaîne d'empreintes."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    reg = open_register(register_url)
    count, writer = 0, None
    tmp = f"{output}.partiel"
    try:
        for i, rows in enumerate(reg.expanded_rows()):
            frame = pd.DataFrame([{k: r.get(k) for k in EXPORT_COLUMNS} for r in rows], columns=list(EXPORT_COLUMNS))
            count += len(frame)
            if fmt == "csv":
                frame.to_csv(tmp, mode="w" if i == 0 else "a", header=i == 0, index=False, encoding="utf-8")
            else:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                writer = writer or pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
        if count == 0:
            empty = pd.DataFrame(columns=list(EXPORT_COLUMNS))
            if fmt == "csv":
                empty.to_csv(tmp, index=False)
            else:
                empty.astype("string").to_parquet(tmp, index=False)
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, output)
    emit({"output": output, "format": fmt, "entries": count}, as_json,
         lambda o: f"{o['entries']} entrée(s) exportée(s) dans {o['output']} ({o['format']})")


_DURATION = re.compile(r"^\s*(\d+)\s*(y|a|ans?|m|mois|d|j|jours?)\s*$", re.IGNORECASE)


def cutoff_date(text: str, today: dt.date | None = None) -> dt.date:
    """'5y' (or 5a, 5ans), '18m' (mois), '30d' (or 30j): the day that many years/months/days before today."""
    from eligibility.errors import BadInput

    m = _DURATION.match(text or "")
    if not m:
        raise BadInput(f"durée illisible « {text} » : un nombre suivi de y (années), m (mois) ou d (jours), ex. 5y",
                       field="--older-than")
    n, unit = int(m.group(1)), m.group(2).lower()
    today = today or dt.date.today()
    if unit in ("d", "j", "jour", "jours"):
        return today - dt.timedelta(days=n)
    months = n * 12 if unit in ("y", "a", "an", "ans") else n
    y, mo = divmod(today.year * 12 + today.month - 1 - months, 12)
    day = today.day
    while True:
        try:
            return dt.date(y, mo + 1, day)
        except ValueError:  # 29-31 in a shorter month: its last day
            day -= 1


@register_group.command("purge")
@click.option("--older-than", "older_than", required=True, help="Durée de conservation des faits, ex. 5y (5 ans), 18m, 90d.")
@register_option
@json_option
@handle_errors
def purge_cmd(older_than, register_url, as_json) -> None:
    """Efface les faits conservés en entier des entrées plus anciennes que la durée donnée. Les entrées restent
    (résultat, trace sans données personnelles, empreinte des faits) et la chaîne reste vérifiable."""
    before = cutoff_date(older_than)
    removed = open_register(register_url).purge(before.isoformat())
    emit({"before": before.isoformat(), "purged": removed}, as_json,
         lambda o: f"Faits effacés pour {o['purged']} entrée(s) inscrite(s) avant le {before.strftime('%d/%m/%Y')}.")


def register(group: click.Group) -> None:
    group.add_command(register_group)


__all__ = ["record_options", "record_answer", "register_option", "open_register", "keep_facts_default", "register"]

