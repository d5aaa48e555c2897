#!/usr/bin/env bash
# The main job on the bundled data: verify the reference data, then answer the questions of the seed
# territories (Mont-de-Marsan, Moissac, Manosque, Béthune-Bruay, Dole) as their users would ask them.
# Everything written goes to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
QPV=.venv/bin/qpv
mkdir -p out
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Données de référence : chaque fichier contrôlé contre le manifeste (sha256)"
$QPV data verify | tail -1

step "Un point : Le Peyrouat (Mont-de-Marsan), au 1er juin 2024"
$QPV locate --lon -0.506648 --lat 43.900985 --date 2024-06-01

step "Le même point en 2020 : la liste QP2015 fournie ne couvre que l'Occitanie"
$QPV locate --lon -0.506648 --lat 43.900985 --date 2020-06-01 | head -3

step "Une adresse (index local BANO, ODbL) : 1 rue Albert Honde, Manosque"
$QPV locate --address "1 rue Albert Honde 04100 Manosque" --date 2024-06-01 | head -4

step "Les quartiers de la CA de Béthune-Bruay, Artois-Lys Romane (EPCI 200072460)"
$QPV quartiers list --epci 200072460 | head -20

step "Lot de points des territoires d'origine -> out/seeds.csv"
$QPV batch locate examples/seed_points.csv -o out/seeds.csv --keep name --no-progress \
  --fields status,quartier_code,quartier_name,vintage,commune_code,distance_to_boundary_m,carreau
cat out/seeds.csv

step "Lot d'adresses de Manosque, rue traversant un périmètre comprise -> out/addresses.csv"
$QPV batch locate examples/addresses_04.csv -o out/addresses.csv --keep address --no-progress \
  --fields status,reason,quartier_code,vintage,distance_to_boundary_m
cat out/addresses.csv

step "Emplois francs : embauche en CDI d'un habitant du Peyrouat (examples/emplois-francs_peyrouat.json)"
$QPV evaluate emplois-francs --facts examples/emplois-francs_peyrouat.json | head -8

step "Emplois francs : dossier incomplet (faits manquants listés, jamais supposés)"
$QPV evaluate emplois-francs --facts examples/emplois-francs_incomplete.json | head -3

step "Abattement de TFPB 2025 d'un logement social du centre de Moissac"
$QPV evaluate tfpb --facts examples/tfpb_moissac.json | head -6

step "Adulte-relais à mi-temps, résidant 1 rue Albert Honde à Manosque"
$QPV evaluate adultes-relais --facts examples/adultes-relais_manosque.json | head -4

step "Seuil de revenu du décret n° 2014-767, art. 4 (exemple chiffré de law.md)"
$QPV threshold --national-median 18750 --uu-median 16000 --uu-population 45000 | head -8

step "Quartiers candidats sur les carreaux Filosofi 2019 de Mont-de-Marsan -> out/montdemarsan.geojson"
$QPV perimeters derive --carreaux reference_data/filosofi/carreaux_200m/filosofi2019_carreaux200m_montdemarsan_extrait.csv \
  -o out/montdemarsan.geojson | tail -8
$QPV perimeters compare out/montdemarsan.geojson --vintage QP2024 | tail -8

step "Simulation : même extrait avec un seuil imposé de 16 500 € (le proxy open data surestime le revenu)"
$QPV perimeters derive --carreaux reference_data/filosofi/carreaux_200m/filosofi2019_carreaux200m_montdemarsan_extrait.csv \
  --threshold 16500 -o out/montdemarsan_simulation.geojson | tail -5
$QPV perimeters compare out/montdemarsan_simulation.geojson --vintage QP2024 | tail -4

step "Fini : résultats dans out/ ; toutes les commandes acceptent --json (un seul objet JSON)"
