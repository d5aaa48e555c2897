"""`qpv geocode "ADRESSE"` and `qpv geocode index FICHIER… [-o DOSSIER]` (issue 6)."""
from __future__ import annotations

import click

from .common import emit, handle_errors, json_option


class _GeocodeGroup(click.Group):
    """`qpv geocode index …` builds an index; anything else is an address to geocode."""

    def parse_args(self, ctx, args):
        if not args or args[0] not in self.commands or args[0] == "address":
            if not (args and args[0] in ("-h", "--help")):
                args = ["address", *args]
        return super().parse_args(ctx, args)


def _render(d: dict) -> str:
    if d["level"] is None:
        lines = [f"Adresse introuvable : « {d['input']} »", f"Forme normalisée : {d['normalized']}"]
    else:
        lines = [
            f"Adresse trouvée : {d['label']}",
            f"Position : lon {d['lon']}, lat {d['lat']} (WGS84)",
            f"Niveau : {d['level']}, score {d['score']:.2f}" + (" — ambiguë" if d.get("ambiguous") else ""),
            f"Forme normalisée : {d['normalized']}",
        ]
        src = d.get("source") or {}
        if src.get("index"):
            lines.append(f"Source : {src['index']} ({src.get('licence', '')}), enregistrement {src.get('record_id', '-')}")
    for c in d.get("candidates") or []:
        lines.append(f"  candidat : {c['label']} (score {c['score']:.2f})")
    return "\n".join(lines)


def register(group: click.Group) -> None:
    @group.group("geocode", cls=_GeocodeGroup)
    def geocode_group():
        """Géocoder une adresse française (index local BAN/BAL/BANO, ou un serveur addok).

        \b
        qpv geocode "ADRESSE" [--json] [--index DOSSIER] [--addok-url URL]
        qpv geocode index FICHIER… [-o DOSSIER] [--json]
        """

    @geocode_group.command("address", hidden=True)
    @click.argument("address")
    @click.option("--index", "index_dir", type=click.Path(file_okay=False),
                  help="Dossier d'un index construit par « qpv geocode index » (défaut : index BANO de démonstration).")
    @click.option("--addok-url", default=None,
                  help="Serveur addok / API BAN à interroger au lieu de l'index local (désactivé par défaut).")
    @json_option
    @handle_errors
    def geocode_address(address, index_dir, addok_url, as_json):
        """Géocoder ADRESSE : position, niveau, score, libellé, source."""
        from eligibility.errors import BadInput

        if not address.strip():
            raise BadInput("adresse vide", field="ADRESSE")
        if addok_url:
            from eligibility.addresses.addok import AddokClient

            with AddokClient(addok_url) as client:
                found = client.search(address, limit=3)
            best = found[0] if found else {"lon": None, "lat": None, "level": None, "score": 0.0, "label": None,
                                          "citycode": None, "source": None}
            out = {"input": address, "normalized": None, **best, "ambiguous": False,
                   "candidates": [{k: c[k] for k in ("label", "citycode", "score", "lon", "lat")} for c in found[1:]]}
        else:
            from eligibility.addresses import default_index, geocode, load_index

            index = load_index(index_dir) if index_dir else default_index()
            out = geocode([address], index).row(0)
        emit(out, as_json, _render)

    @geocode_group.command("index")
    @click.argument("files", nargs=-1, required=True, type=click.Path())
    @click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default=None,
                  help="Dossier de l'index (défaut : <cache>/addresses/custom).")
    @json_option
    @handle_errors
    def geocode_index(files, out_dir, as_json):
        """Construire un index d'adresses depuis des fichiers BAN (adresses-XX.csv), BAL 1.3/1.4 ou BANO."""
        from pathlib import Path

        from eligibility.addresses import build_index
        from eligibility.paths import cache_dir

        out = Path(out_dir) if out_dir else cache_dir() / "addresses" / "custom"
        index = build_index(list(files), out)
        meta = index.meta
        summary = {"index": str(out), "points": meta["points"], "streets": meta["streets"],
                   "communes": meta["communes"], "licence": meta["licence"], "files": meta["files"]}
        emit(summary, as_json, lambda s: (
            f"Index construit dans {s['index']} : {s['points']} points adresse, {s['streets']} voies, "
            f"{s['communes']} communes.\nLicence des données : {s['licence']}"))
