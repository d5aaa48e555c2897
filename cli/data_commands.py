"""`qpv data info|verify|import|remove`: the bundled reference datasets, the layers a user imported, checksums."""
from __future__ import annotations

import click

from eligibility.errors import DataIntegrityError

from .common import emit, handle_errors, json_option


@click.group("data")
def data() -> None:
    """Données de référence : provenance et sommes de contrôle."""


def _layer_row(e) -> dict:
    return {"name": e.name, "kind": e.kind, "vintage": e.vintage, "title": e.title, "dataset": e.dataset_id,
            "original_file": e.original_file, "original_sha256": e.original_sha256, "original_crs": e.original_crs,
            "original_format": e.original_format, "code_field": e.code_field, "name_field": e.name_field,
            "source": e.source, "licence": e.licence, "imported_at": e.imported_at,
            "sha256": e.sha256, "file": e.file, "features": e.features, "repaired": e.repaired,
            "precision_m": e.precision_m, "precision_declared": e.precision_declared, "tolerance_m": e.tolerance_m,
            "territory": e.territory, "departements": e.departements, "regions": e.regions,
            "valid_from": e.valid_from.isoformat(), "valid_to": e.valid_to.isoformat() if e.valid_to else None,
            "validity": [v.to_json() for v in e.validity]}


def _validity_line(v: dict) -> str:
    """One row of a validity calendar, in French (territory words, dates 01/01/2024)."""
    from eligibility.decisions.french import date_fr
    from eligibility.geography.vintages import TERRITORY_WORDS

    return (f"    en vigueur {TERRITORY_WORDS.get(v['territory'], v['territory'])} du {date_fr(v['from'])} au "
            f"{date_fr(v['to']) if v['to'] else '…'} : {v['legal_basis']}")


def _layer_text(r: dict) -> list[str]:
    from eligibility.decisions.french import date_fr, number_fr
    from eligibility.geography.layers import KIND_LABELS

    lines = [f"{r['name']} — {KIND_LABELS[r['kind']]}" + (f" {r['vintage']}" if r["vintage"] else "")
             + f", importée le {date_fr(r['imported_at'])} depuis {r['original_file']}",
             f"    {r['features']} entité(s), {r['repaired']} géométrie(s) réparée(s) ; couverture : "
             + ("déclarée complète (" + {"all": "France entière", "metropole": "métropole", "outre_mer": "outre-mer"}[r["territory"]] + ")"
                if r["territory"] else f"départements {', '.join(r['departements'])}"),
             f"    précision {number_fr(r['precision_m'])} m" + ("" if r["precision_declared"] else " (non déclarée : valeur par défaut)")
             + f", tolérance par défaut {number_fr(r['tolerance_m'])} m ; source : {r['source']} ; licence : {r['licence']}"]
    lines.extend(_validity_line(v) for v in r["validity"])
    if r["kind"] == "zonage":
        lines.append(f"    valable du {date_fr(r['valid_from'])} au {date_fr(r['valid_to']) if r['valid_to'] else '…'}")
    lines.append(f"    sha256 du fichier importé : {r['original_sha256']}")
    return lines


@data.command("info")
@json_option
@handle_errors
def info(as_json: bool) -> None:
    """Liste les jeux de données fournis et les couches importées (source, licence, millésime, validité, sha256)."""
    from eligibility import datasets
    from eligibility.geography import layers

    rows = []
    for ds in datasets.manifest().datasets:
        rows.append({
            "id": ds.id, "kind": ds.kind, "vintage": ds.vintage, "title": ds.title, "source": ds.source,
            "licence": ds.licence, "sha256": ds.sha256,
            "validity": [v.to_json() for v in ds.validity],
            "files": [f.to_json() for f in ds.files],
        })

    def text(obj):
        lines = []
        for r in obj["datasets"]:
            lines.append(f"{r['id']} — {r['title']}")
            lines.append(f"    millésime {r['vintage']}, {len(r['files'])} fichier(s), licence : {r['licence']}")
            lines.extend(_validity_line(v) for v in r["validity"])
        lines.append("")
        lines.append(f"Couches importées ({obj['layers_dir']}) : " + ("aucune" if not obj["layers"] else str(len(obj["layers"]))))
        for r in obj["layers"]:
            lines.extend(_layer_text(r))
        return "\n".join(lines)

    emit({"datasets": rows, "layers_dir": str(layers.layers_dir()), "layers": [_layer_row(e) for e in layers.entries()]},
         as_json, text)


@data.command("verify")
@json_option
@handle_errors
def verify(as_json: bool) -> None:
    """Vérifie le manifeste (somme épinglée, périodes de validité, couverture), recalcule la somme sha256
    de chaque fichier fourni et de chaque couche importée, et contrôle les caches dérivés (un cache
    endommagé est supprimé puis reconstruit)."""
    from eligibility import datasets
    from eligibility.addresses.index import verify_bundled
    from eligibility.geography import cache, layers, vintages

    rows = datasets.verify_all()  # loads the manifest first: a manifest that is not the pinned one stops here
    imported = layers.verify_all()
    try:
        vintages.rules.cache_clear()
        vintages.rules()  # the engine's own checks of the validity periods and coverage (imported layers too)
        manifest = {"path": "manifest.yaml", "ok": True, "message": "ok"}
    except DataIntegrityError as exc:
        manifest = {"path": "manifest.yaml", "ok": False, "message": str(exc)}
    caches = cache.verify_entries(layers.vouch, layers.elsewhere) + verify_bundled()
    everything = [manifest] + rows + imported + caches
    bad = [r for r in everything if not r["ok"]]

    def text(obj):
        lines = [f"{'OK ' if r['ok'] else 'KO '} {r['path']}" + (f" (couche « {r['layer']} »)" if r.get("layer") else "")
                 + ("" if r["ok"] else f" — {r['message']}") for r in everything]
        lines.append(f"{len(rows)} fichier(s) de référence, {len(imported)} couche(s) importée(s), {len(caches)} cache(s) "
                     f"dérivé(s) vérifiés : {len(everything) - len(bad)} valide(s), {len(bad)} en erreur")
        return "\n".join(lines)

    emit({"ok": not bad, "manifest": manifest, "files": rows, "layers": imported, "caches": caches}, as_json, text)
    if bad:
        raise SystemExit(1)


@data.command("import")
@click.argument("file")
@click.option("--name", required=True, help="Nom de la couche (minuscules, chiffres, - et _).")
@click.option("--kind", required=True, type=click.Choice(["perimetres", "zonage"]),
              help="perimetres : une liste de quartiers prioritaires (QP2015, QP2024) ; zonage : un zonage local.")
@click.option("--vintage", help="Millésime de la liste (QP2015, QP2024) ; déduit des codes s'il est omis.")
@click.option("--valid-from", "valid_from", required=True, help="Début de validité, AAAA-MM-JJ.")
@click.option("--valid-to", "valid_to", help="Fin de validité, AAAA-MM-JJ (défaut : fin de la période légale de la liste).")
@click.option("--territory", type=click.Choice(["metropole", "outre_mer", "all"]),
              help="Le fichier couvre tout ce territoire (défaut : les départements où il a des entités).")
@click.option("--precision-m", "precision_m", help="Précision déclarée des contours, en mètres (défaut : 1 m).")
@click.option("--code-field", "code_field", help="Colonne des codes, si elle n'a pas un nom officiel (CODE_QP, code_qp…).")
@click.option("--name-field", "name_field", help="Colonne des noms, si elle n'a pas un nom officiel (NOM_QP, lib_qp…).")
@click.option("--source", help="Provenance du fichier (producteur, adresse de téléchargement).")
@click.option("--licence", help="Licence du fichier.")
@json_option
@handle_errors
def import_cmd(file, name, kind, vintage, valid_from, valid_to, territory, precision_m, code_field, name_field,
               source, licence, as_json) -> None:
    """Importe un fichier de périmètres officiel ou un zonage local (Shapefile, GeoPackage, GeoJSON, FlatGeobuf)."""
    from eligibility.geography.layer_import import import_layer

    layer = import_layer(file, name, kind, valid_from, valid_to, vintage=vintage, territory=territory,
                         precision_m=precision_m, code_field=code_field, name_field=name_field, source=source, licence=licence)
    emit({"imported": _layer_row(layer)}, as_json, lambda obj: "Couche importée :\n" + "\n".join(_layer_text(obj["imported"])))


@data.command("remove")
@click.argument("name")
@json_option
@handle_errors
def remove_cmd(name, as_json) -> None:
    """Retire une couche importée (les réponses reviennent aux données fournies)."""
    from eligibility.geography import layers

    layer = layers.remove(name)
    emit({"removed": layer.name, "sha256": layer.sha256}, as_json,
         lambda obj: f"Couche « {obj['removed']} » retirée.")


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
