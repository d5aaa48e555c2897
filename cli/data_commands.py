"""`qpv data info|verify`: the reference datasets and their checksums."""
from __future__ import annotations

import click

from eligibility.errors import DataIntegrityError

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
    """Vérifie le manifeste (somme épinglée, périodes de validité, couverture), recalcule la somme sha256
    de chaque fichier et contrôle les caches dérivés (un cache endommagé est supprimé puis reconstruit)."""
    from eligibility import datasets
    from eligibility.addresses.index import verify_bundled
    from eligibility.geography import cache, vintages

    rows = datasets.verify_all()  # loads the manifest first: a manifest that is not the pinned one stops here
    try:
        vintages.rules.cache_clear()
        vintages.rules()  # the engine's own checks of the validity periods and coverage
        manifest = {"path": "manifest.yaml", "ok": True, "message": "ok"}
    except DataIntegrityError as exc:
        manifest = {"path": "manifest.yaml", "ok": False, "message": str(exc)}
    caches = cache.verify_entries(datasets.vouch) + verify_bundled()
    everything = [manifest] + rows + caches
    bad = [r for r in everything if not r["ok"]]

    def text(obj):
        lines = [f"{'OK ' if r['ok'] else 'KO '} {r['path']}" + ("" if r["ok"] else f" — {r['message']}") for r in everything]
        lines.append(f"{len(rows)} fichier(s) de référence, {len(caches)} cache(s) dérivé(s) vérifiés : "
                     f"{len(everything) - len(bad)} valide(s), {len(bad)} en erreur")
        return "\n".join(lines)

    emit({"ok": not bad, "manifest": manifest, "files": rows, "caches": caches}, as_json, text)
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
