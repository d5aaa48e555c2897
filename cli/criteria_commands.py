"""`qpv threshold`, `qpv perimeters derive|compare`: the QPV criteria on 200 m carreaux (issue 4)."""
from __future__ import annotations

import click

from .common import emit, handle_errors, json_option, parse_date, parse_float

STATUS_FR = {"candidate": "quartier candidat", "below_population": "moins de 1 000 habitants",
             "unite_urbaine_ineligible": "unité urbaine de moins de 10 000 habitants"}


def _connectivity(value: str) -> int:
    from eligibility.errors import BadInput

    if value.strip() not in ("4", "8"):
        raise BadInput(f"« {value} » : 4 (côté commun) ou 8 (côté ou coin) attendu", field="--connectivity")
    return int(value)


def _opt_float(value: str | None, field: str) -> float | None:
    return None if value is None else parse_float(value, field)


@click.command("threshold")
@click.option("--national-median", help="RMUC-nat, revenu médian par UC de la France métropolitaine (€).")
@click.option("--uu-median", help="RMUC-UU, revenu médian par UC de l'unité urbaine (€).")
@click.option("--uu-population", help="Population totale de l'unité urbaine.")
@click.option("--unite-urbaine", "uu_code", help="Code UU2020 : complète les valeurs absentes par les données fournies.")
@click.option("--date", "date_", help="Date d'application (AAAA-MM-JJ), 2024-01-01 par défaut.")
@json_option
@handle_errors
def threshold(national_median, uu_median, uu_population, uu_code, date_, as_json) -> None:
    """Seuil S de revenu médian (décret n° 2014-767, art. 4) et critère des 10 000 habitants (art. 2)."""
    from eligibility.criteria import threshold as T
    from eligibility.criteria import unites_urbaines as UU
    from eligibility.errors import BadInput

    date = parse_date(date_, default=T.DEFAULT_DATE)
    nat = _opt_float(national_median, "--national-median")
    med = _opt_float(uu_median, "--uu-median")
    pop = _opt_float(uu_population, "--uu-population")
    prov = {"national_median": "fourni par l'appelant (--national-median)", "uu_median": "fourni par l'appelant (--uu-median)",
            "uu_population": "fourni par l'appelant (--uu-population)"}
    uu = None
    if uu_code is not None:
        uu = UU.facts(uu_code.strip())
        if nat is None:
            n = UU.national_median()
            nat, prov["national_median"] = n["value"], n["label"]
        if med is None:
            if uu["median"] is None:
                raise BadInput(f"médiane inconnue pour l'unité urbaine {uu_code} : indiquez --uu-median", field="--uu-median")
            med, prov["uu_median"] = uu["median"], uu["median_source"]["label"]
        if pop is None:
            pop, prov["uu_population"] = uu["population"], uu["population_source"]["label"]
    missing = [name for name, v in (("--national-median", nat), ("--uu-median", med), ("--uu-population", pop)) if v is None]
    if missing:
        raise BadInput(f"valeur(s) manquante(s) : {', '.join(missing)} (ou --unite-urbaine CODE pour les données fournies)",
                       field=missing[0])
    res = T.compute(nat, med, pop, date)
    out = {
        "threshold": int(res["threshold"][0]),
        "threshold_before_rounding": round(float(res["threshold_exact"][0]), 2),
        "unite_urbaine_eligible": bool(res["unite_urbaine_eligible"][0]),
        "population_rounded": int(res["population_rounded"][0]),
        "regime": "5_millions_ou_plus" if res["large_uu"][0] else "moins_de_5_millions",
        "unite_urbaine": None if uu is None else {"code": uu["code"], "name": uu["name"]},
        "date": date.isoformat(),
        "trace": T.trace(res, 0, prov),
    }

    def text(o):
        seuil = o["trace"][2]
        lines = [f"Seuil S = {o['threshold']:,} €".replace(",", " ") + f" (avant arrondi : {o['threshold_before_rounding']} €)",
                 f"  {seuil['formula']}",
                 f"  RMUC-nat {seuil['inputs']['national_median']} € ({seuil['inputs']['national_median_source']})",
                 f"  RMUC-UU {seuil['inputs']['uu_median']} € ({seuil['inputs']['uu_median_source']})",
                 f"Unité urbaine : {'éligible' if o['unite_urbaine_eligible'] else 'non éligible'} "
                 f"(population arrondie {o['population_rounded']} ; au moins 10 000 requis, art. 2 I 1°)"]
        if seuil["unconfirmed_parameters"]:
            lines.append(f"  Valeurs non confirmées (law.md [U]) : {', '.join(seuil['unconfirmed_parameters'])}")
        return "\n".join(lines)

    emit(out, as_json, text)


@click.group("perimeters")
def perimeters() -> None:
    """Dériver des quartiers candidats depuis les carreaux et les comparer aux périmètres officiels."""


@perimeters.command("derive")
@click.option("--carreaux", "carreaux", required=True,
              help="Fichier Filosofi carreaux 200 m (CSV) ou jeu fourni filosofi2019_carreaux_<ville>.")
@click.option("--unite-urbaine", "uu_code", help="Code UU2020 imposé à tous les carreaux (sinon : colonne lcog_geo, ou commune du centre du carreau).")
@click.option("--income-column", help="Colonne du revenu déclaré médian par UC ; sans elle, proxy ind_snv/ind (étiqueté).")
@click.option("--national-median", help="RMUC-nat (€) ; défaut : MED18 Filosofi 2018, niveau de vie (étiqueté).")
@click.option("--uu-median", help="RMUC-UU (€) ; défaut : MED18 de l'unité urbaine (étiqueté).")
@click.option("--uu-population", help="Population de l'unité urbaine ; défaut : somme des populations municipales COG.")
@click.option("--threshold", "threshold_", help="Seuil S imposé (€), ex. celui d'un contrat de ville ; la trace garde le calcul.")
@click.option("--geojson-groups", default="all", show_default=True,
              help="Groupes écrits dans le GeoJSON : all ou candidates (le tableau CSV les liste tous).")
@click.option("--connectivity", default="4", show_default=True, help="Contiguïté : 4 = côté commun, 8 = côté ou coin.")
@click.option("--date", "date_", help="Date d'application (AAAA-MM-JJ), 2024-01-01 par défaut.")
@click.option("-o", "--output", "output", required=True, help="GeoJSON de sortie (le tableau CSV est écrit à côté).")
@json_option
@handle_errors
def derive(carreaux, uu_code, income_column, national_median, uu_median, uu_population, threshold_, geojson_groups,
           connectivity, date_, output, as_json) -> None:
    """Applique les critères du décret n° 2014-767 aux carreaux et écrit les quartiers candidats."""
    from eligibility.criteria import output as O
    from eligibility.criteria.derivation import derive as run
    from eligibility.criteria.filosofi import read_carreaux
    from eligibility.criteria.threshold import DEFAULT_DATE

    c = read_carreaux(carreaux, income_column)
    d = run(c, unite_urbaine=uu_code, national_median=_opt_float(national_median, "--national-median"),
            uu_median=_opt_float(uu_median, "--uu-median"), uu_population=_opt_float(uu_population, "--uu-population"),
            threshold=_opt_float(threshold_, "--threshold"), date=parse_date(date_, default=DEFAULT_DATE),
            connectivity=_connectivity(connectivity))
    paths = O.write(d, output, geojson_groups)
    out = {"outputs": paths, **d.to_json()}

    def text(o):
        s = o["summary"]
        lines = [f"Statistique de revenu : {o['income_statistic']['label']}",
                 *(f"Unité urbaine {u['code']} {u['name']} : seuil S = {u['threshold']:g} €, population {u['population']}"
                   f" ({'éligible' if u['unite_urbaine_eligible'] else 'non éligible'})" for u in o["unites_urbaines"]),
                 f"{s['carreaux']} carreaux habités, {s['low_income_carreaux']} sous le seuil, {s['groups']} groupe(s) : "
                 f"{s['candidates']} quartier(s) candidat(s), {s['below_population']} de moins de 1 000 habitants"]
        for g in o["candidates"]:
            lines.append(f"  {g['id']} : {STATUS_FR.get(g['status'], g['status'])}, {g['n_carreaux']} carreaux, "
                         f"{g['population']} hab., médiane {g['median_income']} € < {g['threshold']} €")
        lines.append(f"Écrit : {o['outputs']['geojson']}, {o['outputs']['table']}")
        return "\n".join(lines)

    emit(out, as_json, text)


@perimeters.command("compare")
@click.argument("candidates")
@click.option("--vintage", default="QP2024", show_default=True, help="Millésime des périmètres officiels.")
@click.option("--carreaux", help="Fichier de carreaux (par défaut celui enregistré par « derive »).")
@json_option
@handle_errors
def compare(candidates, vintage, carreaux, as_json) -> None:
    """Compare les quartiers candidats aux périmètres officiels, carreau par carreau (centre)."""
    from eligibility.criteria.comparison import compare as run

    out = run(candidates, vintage=vintage, carreaux=carreaux)

    def pct(v):
        return "n/d" if v is None else f"{100 * v:.1f} %"

    def text(o):
        lines = [f"Périmètres {o['vintage']} : {o['official']['carreaux_in_official_quartiers']} carreaux habités "
                 f"(centre) dans {len(o['quartiers'])} quartier(s) officiel(s)",
                 f"Statistique de revenu : {o['income_statistic']['label']}"]
        for key, name in (("candidates", "quartiers candidats"), ("low_income", "carreaux sous le seuil")):
            m = o[key]
            if m is None:
                lines.append(f"{name} : non disponible (GeoJSON écrit avec --geojson-groups candidates)")
                continue
            lines.append(f"{name} : {m['carreaux']} carreaux, précision {pct(m['precision'])}, rappel {pct(m['recall'])} "
                         f"(population : {pct(m['population_precision'])} / {pct(m['population_recall'])})")
        for q in o["quartiers"]:
            lines.append(f"  {q['code']} {q['name']} : {q['carreaux']} carreaux, {pct(q['share_flagged'])} sous le seuil, "
                         f"{pct(q['share_in_candidate'])} dans un candidat")
        return "\n".join(lines)

    emit(out, as_json, text)


def register(group: click.Group) -> None:
    group.add_command(threshold)
    group.add_command(perimeters)
