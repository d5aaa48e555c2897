"""`qpv data info|verify`: the reference datasets and their checksums."""
from __future__ import annotations

import click

from .common import emit, handle_errors, json_option


@click.group("data")
def data() -> None:
    """Données de référence : provenance et sommes de contrôle."""


@data.command("info")
@json_option
@handle_errors
def info(as_json: bool) -> None:
    """Liste les jeux de données (source, licence, millésime, validité, sha256)."""
    from eligibility import datasets

    rows = []
    for ds in datasets.manifest().datasets:
        rows.append({
            "id": ds.id, "kind": ds.kind, "vintage": ds.vintage, "title": ds.title, "source": ds.source,
            "licence": ds.licence, "sha256": ds.sha256,
            "validity": [v.model_dump(mode="json", by_alias=True) for v in ds.validity],
            "files": [f.model_dump() for f in ds.files],
        })

    def text(obj):
        lines = []
        for r in obj["datasets"]:
            lines.append(f"{r['id']} — {r['title']}")
            lines.append(f"    millésime {r['vintage']}, {len(r['files'])} fichier(s), licence : {r['licence']}")
            for v in r["validity"]:
                fin = v["to"] or "…"
                lines.append(f"    en vigueur ({v['territory']}) du {v['from']} au {fin} : {v['legal_basis']}")
        return "\n".join(lines)

    emit({"datasets": rows}, as_json, text)


@data.command("verify")
@json_option
@handle_errors
def verify(as_json: bool) -> None:
    """Recalcule la somme sha256 de chaque fichier et la compare au manifeste."""
    from eligibility import datasets

    rows = datasets.verify_all()
    bad = [r for r in rows if not r["ok"]]

    def text(obj):
        lines = [f"{'OK ' if r['ok'] else 'KO '} {r['path']}" + ("" if r["ok"] else f" — {r['message']}") for r in obj["files"]]
        lines.append(f"{len(rows) - len(bad)} fichier(s) valides, {len(bad)} en erreur")
        return "\n".join(lines)

    emit({"ok": not bad, "files": rows}, as_json, text)
    if bad:
        raise SystemExit(1)


@data.command("prepare")
@handle_errors
def prepare() -> None:
    """Construit une fois pour toutes les index dérivés (géographie, adresses) dans le cache."""
    from eligibility.addresses.index import default_index
    from eligibility.geography.index import prepare_all

    for name in prepare_all():
        click.echo(f"prêt : index {name}")
    default_index()
    click.echo("prêt : index d'adresses de démonstration (BANO, ODbL)")


def register(group: click.Group) -> None:
    group.add_command(data)
