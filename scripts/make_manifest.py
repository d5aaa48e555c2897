# Regenerates reference_data/manifest.yaml (metadata below, sha256 computed). Run from the project root.
import hashlib, gzip, yaml, pathlib
root = pathlib.Path("reference_data")
def sha(p): return hashlib.sha256((root/p).read_bytes()).hexdigest()
LO = "Licence Ouverte / Open Licence Etalab 2.0"
D = []
def ds(id, files, **kw):
    d = {"id": id, **kw, "files": [{"path": f, "sha256": sha(f), "bytes": (root/f).stat().st_size} for f in files]}
    D.append(d)
ds("qp2024", ["qpv/qp2024/qp2024_france_wgs84_simplifie.geojson.gz"], kind="perimeters", vintage="QP2024",
   title="Quartiers prioritaires de la politique de la ville 2024 (QP2024), périmètres simplifiés",
   source="ANCT (SIG Ville), data.gouv.fr dataset 5a561801c751df42d7fca9b6, file QP2024_France_Hexagonale_Outre_Mer_WGS84; copy from RemiG1984/MaFrance@36dbf1727e3efabecf8ff4f30dfd3ba824bfcfcd",
   licence=LO, crs="EPSG:4326",
   coverage={"description": "France entière: métropole (1 362 quartiers), DROM, Saint-Martin, Polynésie française", "regions": "all"},
   validity=[
     {"territory": "metropole", "from": "2024-01-01", "to": None, "legal_basis": "Décret n° 2023-1314 du 28 décembre 2023 modifiant la liste des quartiers prioritaires de la politique de la ville dans les départements métropolitains", "confirmed": False,
      "note": "law.md §1.3: number, date and effect from 1 January 2024 known from secondary sources [C2]; the decree's text was not read."},
     {"territory": "outre_mer", "from": "2025-01-01", "to": None, "legal_basis": "Décret n° 2024-1212 de décembre 2024 (liste des quartiers prioritaires dans les départements et collectivités d'outre-mer)", "confirmed": False,
      "note": "law.md §1.4: 2025 overseas generation [C2]; the decree's text was not read."}],
   caveats=["Geometry simplified (Douglas-Peucker ~5 m, coordinates rounded to 1e-5 degree): boundary answers within ~10 m can differ from the official perimeter.",
            "85 of 1 609 geometries are invalid (self-intersections) and are repaired on load."])
ds("qp2024_indicateurs", ["qpv/qp2024/qp2024_indicateurs_insee_par_commune.csv"], kind="table", vintage="QP2024",
   title="Indicateurs INSEE par quartier QP2024 et commune (population 2020, RP, CAF, RPLS)",
   source="INSEE indicators joined by RemiG1984/MaFrance (setup/inputFiles/analyse_qpv.csv)", licence=LO,
   caveats=["COG and insee_dep lost their leading zero: left-pad to 5 and 2 characters."])
ds("qp2015_occitanie", ["qpv/qp2015_occitanie/qp2015_occitanie_contours.geojson"], kind="perimeters", vintage="QP2015",
   title="Quartiers prioritaires 2015 (QP2015), région Occitanie", crs="EPSG:4326",
   source="Official QP2015 perimeters, copy from ToulouseDataViz/Hackaviz2021@a054acb49307aba725aee67405c5b4f3860bb16d (data/qp.geojson)",
   licence=LO,
   coverage={"description": "Région Occitanie (code 76) only: quartiers in 09, 11, 12, 30, 31, 32, 34, 46, 65, 66, 81, 82; Lozère (48) had none in 2015", "regions": ["76"]},
   validity=[
     {"territory": "metropole", "from": "2015-01-01", "to": "2023-12-31", "legal_basis": "Décret n° 2014-1750 du 30 décembre 2014 fixant la liste des quartiers prioritaires de la politique de la ville dans les départements métropolitains (rectifié par le décret n° 2015-1138 du 14 septembre 2015)", "confirmed": False,
      "note": "law.md §1.3: list decrees of 2014 known from secondary sources [C2]; validity to 31 December 2023 follows the 2024 list's entry into force."}],
   caveats=["Coordinates rounded to 4 decimals (~10 m).", "Covers Occitanie only: elsewhere in 2015-2023 the engine answers not_covered."])
ds("qp2015_occitanie_indicateurs", ["qpv/qp2015_occitanie/qp2015_occitanie_indicateurs.csv", "qpv/qp2015_occitanie/meta_qp2015_occitanie_indicateurs.csv", "qpv/qp2015_occitanie/meta_qp2015_occitanie_contours.csv"],
   kind="table", vintage="QP2015", title="Indicateurs INSEE des quartiers QP2015 d'Occitanie (population 2015, revenus 2017)",
   source="INSEE (insee.fr/fr/statistiques/5359592 and 5359605), via ToulouseDataViz/Hackaviz2021", licence=LO)
ds("departements_geo", ["communes_geo/departements-avec-outre-mer.geojson.gz", "communes_geo/README_france-geojson.md"], kind="contours", vintage="ADMIN-EXPRESS-COG-2018", crs="EPSG:4326",
   title="Contours des départements (IGN Admin Express COG 2018, simplifiés)", source="gregoiredavid/france-geojson@5d34ee6d0140c29f785fdb047d9329f1aab58833", licence=LO)
ds("regions_geo", ["communes_geo/regions-avec-outre-mer.geojson.gz"], kind="contours", vintage="ADMIN-EXPRESS-COG-2018", crs="EPSG:4326",
   title="Contours des régions (IGN Admin Express COG 2018, simplifiés)", source="gregoiredavid/france-geojson@5d34ee6d0140c29f785fdb047d9329f1aab58833", licence=LO)
ds("communes_geo", sorted(str(p.relative_to(root)) for p in (root/"communes_geo/communes_par_departement").glob("*.geojson.gz")),
   kind="contours", vintage="ADMIN-EXPRESS-COG-2018", crs="EPSG:4326",
   title="Contours des communes par département (IGN Admin Express COG 2018, simplifiés)", source="gregoiredavid/france-geojson@5d34ee6d0140c29f785fdb047d9329f1aab58833", licence=LO,
   caveats=["Commune codes of 2018; boundaries simplified (Visvalingam 25 %), off by tens of metres in places.", "COM (Polynésie, Saint-Martin, …) not included."])
ds("uu2020", ["unites_urbaines/uu2020_composition_communale_geo2023.csv", "unites_urbaines/uu2020_liste_geo2023.csv", "unites_urbaines/uu2020_documentation_insee.txt", "unites_urbaines/UU2020_au_01-01-2023.xlsx"],
   kind="table", vintage="UU2020-geo2023", title="Base des unités urbaines 2020 (INSEE), géographie au 1er janvier 2023",
   source="INSEE https://www.insee.fr/fr/information/4802589, via xtimbeau/warseille@3312eb184fc1c5df6bcf85c6cde841f9e57597da", licence=LO)
ds("filosofi2018_chiffres_cles", ["filosofi/chiffres_cles_2018/cc_filosofi_2018_COM-geo2021.CSV", "filosofi/chiffres_cles_2018/cc_filosofi_2018_METRO-geo2021.CSV", "filosofi/chiffres_cles_2018/cc_filosofi_2018_UU2020-geo2021.CSV", "filosofi/chiffres_cles_2018/meta_cc_filosofi_2018_METRO-geo2021.CSV", "filosofi/chiffres_cles_2018/meta_cc_filosofi_2018_UU2020-geo2021.CSV"],
   kind="table", vintage="Filosofi2018", title="Filosofi 2018, chiffres clés (communes, unités urbaines 2020, France métropolitaine)",
   source="INSEE Filosofi 2018 chiffres clés, via xtimbeau/warseille@f799684b0b1764a1c562c7ef7bab71507fa8401c", licence=LO,
   caveats=["MED18 is the median niveau de vie (disposable income per UC), not the median declared income the decree uses."])
for town, f in [("montdemarsan", "filosofi2019_carreaux200m_montdemarsan_extrait.csv"), ("manosque", "filosofi2019_carreaux200m_manosque_extrait.csv"), ("dole", "filosofi2019_carreaux200m_dole_extrait.csv"), ("moissac_castelsarrasin", "filosofi2019_carreaux200m_moissac_castelsarrasin_extrait.csv"), ("bethune_bruay", "filosofi2019_carreaux200m_bethune_bruay_qpv_extrait.csv")]:
    files = ["filosofi/carreaux_200m/" + f]
    if town == "bethune_bruay":
        files.append("filosofi/carreaux_200m/filosofi2019_carreaux200m_bethune_bruay_qpv_extrait_rectangles.csv")
    ds(f"filosofi2019_carreaux_{town}", files, kind="carreaux", vintage="Filosofi2019", crs="EPSG:3035",
       title=f"Filosofi 2019, carreaux de 200 m, extrait {town.replace('_', '-')}",
       source="INSEE https://www.insee.fr/fr/statistiques/7655475, via jgaffuri/tiled-grid-france-filosofi@4a32fe2f80d71d320f6b86c07f4c0539319c596c", licence=LO,
       caveats=["Only inhabited carreaux appear; a missing carreau inside the extract box is uninhabited, outside it is unknown."])
ds("cog2026", ["cog/decoupage_administratif_6.0.0/communes.json.gz", "cog/decoupage_administratif_6.0.0/epci.json.gz", "cog/decoupage_administratif_6.0.0/departements.json", "cog/decoupage_administratif_6.0.0/regions.json", "cog/decoupage_administratif_6.0.0/arrondissements.json", "cog/decoupage_administratif_6.0.0/ept.json", "cog/decoupage_administratif_6.0.0/LICENSE_package.txt", "cog/decoupage_administratif_6.0.0/README_package.md"],
   kind="table", vintage="COG2026", title="Code officiel géographique 2026: communes, EPCI, départements, régions (@etalab/decoupage-administratif 6.0.0)",
   source="INSEE COG, DGCL EPCI 2026, via npm @etalab/decoupage-administratif@6.0.0", licence=LO + " (data); MIT (package code)")
ds("bano", ["adresses/bano/bano-04_2015-03-23.csv.gz", "adresses/bano/bano-82_2014-05-23_partiel.csv.gz", "adresses/bano/LICENCE_bano-data.txt", "adresses/bano/README_bano-data.txt"],
   kind="addresses", vintage="BANO-2014-2015", title="BANO, points adresse des départements 04 (2015-03-23) et 82 (2014-05-23, partiel)",
   source="osm-fr/bano-data@830d74de00c248bee8cbaac559496deaa3e51a86", licence="ODbL 1.0 (© les contributeurs d'OpenStreetMap; source: BANO)",
   caveats=["ODbL share-alike: any address index derived from these files and published is itself under ODbL."])
ds("laposte_points_contact", ["adresses/laposte_poincont2_2020-12.csv.gz"], kind="addresses", vintage="2020-12",
   title="La Poste, points de contact du réseau postal (fin 2020)", source="La Poste datanova laposte_poincont2, via sTheoz/Analyse_donnees@ffed14e0a94b97d778e5691698ad440980c905e2", licence=LO)
ds("colleges", ["adresses/fr-en-adresse-et-geolocalisation-etablissements-premier-et-second-degre_colleges_2024-11.csv.gz"], kind="addresses", vintage="2024-11",
   title="Collèges: adresse et géolocalisation (Éducation nationale, novembre 2024)", source="data.education.gouv.fr, via Cat-Miaou/Vyz@18193dc0a5ec1171e8aa46c911a591572c06632a", licence=LO)
doc = {"manifest_version": 1,
       "note": "Every file the engine reads is listed here with its sha256. `qpv data verify` checks them all; the engine refuses any file whose checksum does not match. Provenance in detail: SOURCES.md.",
       "datasets": D}
open(root/"manifest.yaml", "w").write("# Reference data manifest: source, licence, vintage, validity, sha256 of every file.\n" + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120))
print(len(D), sum(len(d["files"]) for d in D))
