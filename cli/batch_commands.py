"""`qpv batch locate|evaluate`: whole files in, one result per row out (docs/batch.md)."""
from __future__ import annotations

import functools
from pathlib import Path

import click

from eligibility.errors import BadInput

from .common import emit, handle_errors, json_option, parse_date
from .register_commands import open_register, record_options


def _common_options(fn):
    options = [
        click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
                     help="Fichier de sortie (.csv ou .parquet), écrit de façon atomique."),
        click.option("--map", "map_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Renommage de vos colonnes (JSON/YAML {\"Votre colonne\": \"lon\"} ou CSV à 2 colonnes)."),
        click.option("--keep", multiple=True, help="Colonne d'entrée à recopier dans la sortie (répétable)."),
        click.option("--chunk-size", default=100_000, show_default=True, type=click.IntRange(1, 10_000_000),
                     help="Lignes par bloc (mémoire constante, unité de reprise)."),
        click.option("--resume", is_flag=True, help="Reprendre un traitement interrompu là où il s'est arrêté."),
        click.option("--traces", "traces", type=click.Path(dir_okay=False, path_type=Path),
                     help="Traces complètes en JSON Lines, une par ligne d'entrée (clé « row »)."),
        click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
                     help="local : ce processus ; dask : un cluster dask.distributed (même sortie, octet pour octet)."),
        click.option("--scheduler", help="Adresse d'un ordonnanceur dask.distributed (tcp://hôte:8786)."),
        click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 256),
                     help="Processus de calcul : local, les blocs sont répartis entre eux (1 : tout dans ce processus) ; "
                          "dask, workers du cluster local (sans --scheduler). Même sortie, octet pour octet."),
        click.option("--no-progress", is_flag=True, help="Ni barre de progression ni journal sur stderr."),
        record_options,
        json_option,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group("batch")
def batch() -> None:
    """Traitement de fichiers entiers (CSV, Parquet) : une ligne de résultat par ligne d'entrée."""


def _run(job_factory, input_path, output, map_file, keep, chunk_size, resume, traces, engine, scheduler, workers,
         no_progress, as_json, label, record, register_url, keep_facts):
    from eligibility.batch import run_file
    from eligibility.batch.allocator import keep_freed_memory

    keep_freed_memory()  # this process and its workers end with the command: freed memory is reused, not refaulted
    if not record:  # no register client: nothing here speaks TLS unless a library really does, and then ssl loads
        from eligibility.batch.lazy_ssl import defer_ssl

        defer_ssl()

    if scheduler and engine != "dask":
        raise BadInput("--scheduler n'a de sens qu'avec --engine dask", field="--scheduler")
    recording = None
    if record:  # an unreachable register is refused here, before the work; each chunk is recorded once done
        from eligibility.register.batch import BatchRecording

        recording = BatchRecording(open_register(register_url, keep_facts))
    summary = run_file(job_factory, input_path, output, map_file=map_file, chunk_size=chunk_size, resume=resume,
                       traces=traces, engine=engine, scheduler=scheduler, workers=workers,
                       show_progress=not no_progress, label=label, record=recording,
                       announce=lambda text: click.echo(text, err=True) if not no_progress else None)
    if recording is not None:
        summary["recorded"] = recording.recorded
    emit(summary, as_json, functools.partial(_text, decisions=label != "qpv batch locate"))


def _count_label(code: str, decisions: bool) -> str:
    from eligibility.decisions.render import OUTCOME_FR, STATUS_FR

    if code == "error":
        return "ligne en erreur"
    return OUTCOME_FR.get(code, code).lower() if decisions else STATUS_FR.get(code, code)


def _text(s: dict, decisions: bool) -> str:
    lines = [f"{s['rows']} lignes lues dans {s['input']} ({s['read'].get('format')}), résultats dans {s['output']}"]
    for k, v in s["counts"].items():  # the codes stay in the file and the JSON; people read French here
        lines.append(f"    {_count_label(k, decisions)} : {v}")
    if s["errors"]:
        lines.append(f"{s['errors']} ligne(s) en erreur : voir la colonne « error » du fichier de sortie")
    encoding = s["read"].get("encoding") or "UTF-8"
    if not encoding.startswith("UTF-8"):  # a guess the user should know of: accents read another way
        lines.append(f"détecté : encodage {encoding}")
    for note in s["detected"]:
        lines.append(f"détecté : {note}")
    if s["resumed_rows"]:
        lines.append(f"reprise : {s['resumed_rows']} lignes venaient du traitement interrompu")
    if s["traces"]:
        lines.append(f"traces : {s['traces']}")
    if s.get("recorded") is not None:
        lines.append(f"registre des décisions : {s['recorded']} entrée(s) inscrite(s) (une par ligne d'entrée)")
    return "\n".join(lines)


@batch.command("locate")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--date", "date_str", help="Date (AAAA-MM-JJ) des lignes sans colonne « date ».")
@click.option("--tolerance", default=None, type=float, help="Tolérance en mètres autour des limites (défaut : deux fois la précision déclarée du fichier de périmètres, au moins 1 m ; 15 m pour les fichiers fournis).")
@click.option("--fields", help="Colonnes de réponse à produire, séparées par des virgules (défaut : toutes) ; "
                               "ex. status,quartier_code,vintage évite de calculer commune, distance et carreau.")
@_common_options
@handle_errors
def locate_cmd(input_path, date_str, tolerance, fields, **common) -> None:
    """Situe chaque ligne par rapport aux QPV : colonnes lon, lat (WGS84), ou x, y (Lambert-93), ou une adresse
    (address, ou numero, voie, code_postal, commune) ; colonne date facultative (sinon --date)."""
    from eligibility.batch.locate import LocateJob

    date = parse_date(date_str) if date_str is not None else None
    wanted = tuple(f.strip() for f in fields.split(",") if f.strip()) if fields else None
    traces = common["traces"] is not None or common["record"]
    if not traces:  # Arrow and numpy answer every field (the default too): pandas is loaded only by a path that needs it
        from eligibility.batch.arrow_only import skip_pandas_probe

        skip_pandas_probe()
    _run(lambda renamed: LocateJob(renamed, date=date, tolerance_m=tolerance, traces=traces,
                                   keep=tuple(common["keep"]), fields=wanted),
         input_path, label="qpv batch locate", **common)


@batch.command("evaluate")
@click.argument("dispositif")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--date", "date_str", help="Date de décision imposée à toutes les lignes (AAAA-MM-JJ).")
@_common_options
@handle_errors
def evaluate_cmd(dispositif, input_path, date_str, **common) -> None:
    """Décide DISPOSITIF pour chaque ligne (colonnes = chemins des faits : contract.type, …)."""
    from eligibility.batch.evaluate import EvaluateJob

    date = parse_date(date_str) if date_str is not None else None
    traces = common["traces"] is not None or common["record"]
    if not traces:  # a CSV chunk is read, decided and written with Arrow and numpy: pandas only where a path needs it
        from eligibility.batch.arrow_only import skip_pandas_probe

        skip_pandas_probe()
    _run(lambda renamed: EvaluateJob(dispositif, renamed, date=date, traces=traces, keep=tuple(common["keep"])),
         input_path, label=f"qpv batch evaluate {dispositif}", **common)


def register(group: click.Group) -> None:
    group.add_command(batch)
