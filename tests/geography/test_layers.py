"""Imported layers (issue 11): official perimeter files and local zonings, used everywhere qpv answers.

The test files are built from the bundled data with the library that reads them (pyogrio/GDAL): the
QP2015 Occitanie perimeters as a zipped Shapefile in Lambert-93 with the official column names, and the
QP2024 file as a GeoPackage in EPSG:2154. Imported, they must give the bundled answers.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from qpv_cli.main import qpv

from eligibility.errors import BadInput, DataIntegrityError
from eligibility.geography import layers, locate_points
from eligibility.geography.layer_import import import_layer
from eligibility.geography.perimeters import load

TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)


def _l93(geoms):
    return shapely.transform(geoms, lambda c: np.column_stack(TO_L93.transform(c[:, 0], c[:, 1])))


def _write(path, geoms, columns: dict, crs="EPSG:2154", driver="ESRI Shapefile", **kw):
    pyogrio.raw.write(str(path), shapely.to_wkb(np.asarray(geoms, dtype=object)),
                      [np.asarray(v, dtype=object) for v in columns.values()], list(columns), driver=driver, crs=crs,
                      geometry_type="MultiPolygon" if all(shapely.get_type_id(g) in (3, 6) for g in geoms) else "Unknown",
                      encoding="UTF-8", **kw)


def _zip(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)
    return target


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("official")
    p = load("qp2015_occitanie")
    shp = root / "shp"
    shp.mkdir()
    _write(shp / "QP_METROPOLE_LB93.shp", _l93(p.geometry),
           {"CODE_QP": p.code, "NOM_QP": p.name, "COMMUNE_QP": p.commune_names})
    q = load("qp2024")
    keep = ~q.degenerate  # three quartiers the simplified file collapsed to a point: not polygons, refused on import
    _write(root / "qp2024.gpkg", _l93(q.geometry[keep]),
           {"code_qp": q.code[keep], "lib_qp": q.name[keep], "insee_com": q.communes[keep], "lib_com": q.commune_names[keep],
            "siren_epci": q.epci[keep]}, driver="GPKG", layer="qp2024")
    # an exact copy of the bundled QP2015 file: GeoJSON in WGS84, no reprojection at all
    _write(root / "copie_qp2015.geojson", p.geometry, {"code_qp": p.code, "nom_qp": p.name, "code_commune": p.communes,
                                                        "nom_commune": p.commune_names}, crs="EPSG:4326", driver="GeoJSON")
    return {"qp2015_zip": _zip(shp, root / "qp2015.zip"), "qp2024_gpkg": root / "qp2024.gpkg",
            "copie": root / "copie_qp2015.geojson", "root": root}


@pytest.fixture()
def layers_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "couches"
    monkeypatch.setenv("QPV_LAYERS_DIR", str(folder))
    return folder


def _sample(per, n_boundary: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points inside every quartier, and points 3-40 m either side of boundaries (the hard cases)."""
    rng = np.random.default_rng(seed)
    inner = shapely.point_on_surface(per.geometry[~per.degenerate])
    lines = shapely.get_parts(per.boundary[~per.degenerate])
    lines = lines[shapely.get_type_id(lines) == 1]
    pick = lines[rng.integers(0, len(lines), n_boundary)]
    on = shapely.line_interpolate_point(pick, rng.random(n_boundary), normalized=True)
    off = rng.uniform(-40, 40, (n_boundary, 2)) / 111_000  # metres to degrees, roughly
    x = np.concatenate([shapely.get_x(inner), shapely.get_x(on) + off[:, 0]])
    y = np.concatenate([shapely.get_y(inner), shapely.get_y(on) + off[:, 1]])
    return x, y


def _answers(x, y, date):
    res = locate_points(x, y, date)
    return (np.asarray(res.status), np.asarray(res.quartier_code), np.round(np.asarray(res.distance_to_boundary_m, float), 3),
            np.asarray(res.vintage))


def test_qp2015_zipped_shapefile_in_lambert93_answers_like_the_bundled_file(files, layers_dir):
    x, y = _sample(load("qp2015_occitanie"), 600, 1)
    before = _answers(x, y, "2020-06-01")
    layer = import_layer(files["qp2015_zip"], "qp2015-occitanie", "perimetres", "2015-01-01", precision_m="7.5",
                         source="construit depuis les données fournies", licence="Licence Ouverte 2.0")
    assert (layer.vintage, layer.features, layer.code_field, layer.name_field) == ("QP2015", 105, "CODE_QP", "NOM_QP")
    assert layer.original_crs == "EPSG:2154" and layer.regions == ["76"] and layer.tolerance_m == 15.0
    after = _answers(x, y, "2020-06-01")
    for a, b in zip(before[:2] + before[3:], after[:2] + after[3:]):
        assert list(a) == list(b)
    assert np.nanmax(np.abs(before[2] - after[2])) < 0.01  # Lambert-93 and back: well under a centimetre
    res = locate_points(x[:1], y[:1], "2020-06-01")
    vintage = res.row(0)["trace"]["vintage"]
    assert vintage["dataset"] == layer.dataset_id and vintage["layer"]["sha256"] == layer.sha256
    assert "prime sur le fichier fourni qp2015_occitanie" in vintage["layer"]["why_chosen"]
    assert res.row(0)["trace"]["datasets"][0]["original_file"] == "qp2015.zip"
    # the official QP2015 file names communes (COMMUNE_QP) without codes: located from the quartier itself
    from eligibility.geography import quartier_in_force

    assert layer.commune_field is None
    bundled = load("qp2015_occitanie")
    for i, code in enumerate(bundled.code):  # the located commune is one of the quartier's communes, every time
        (located,) = quartier_in_force(code, "2020-01-01")["communes"]
        assert located["code"] in [c["code"] for c in bundled.communes_of(i)], code


def test_qp2024_geopackage_answers_like_the_bundled_file(files, layers_dir):
    q = load("qp2024")
    x, y = _sample(q, 1500, 2)
    before = _answers(x, y, "2025-06-01")
    import_layer(files["qp2024_gpkg"], "qp2024-officiel", "perimetres", "2024-01-01", territory="all", precision_m=7.5)
    after = _answers(x, y, "2025-06-01")
    # the three collapsed quartiers are not in the GeoPackage: leave out the points whose answer named them
    collapsed = set(q.code[q.degenerate])
    mine = np.array([c not in collapsed for c in before[1]])
    assert mine.sum() > 2500
    for a, b in zip(before[:2] + before[3:], after[:2] + after[3:]):
        assert list(a[mine]) == list(b[mine])
    assert np.nanmax(np.abs(before[2][mine] - after[2][mine])) < 0.01


def test_remove_restores_the_bundled_behaviour(files, layers_dir):
    import_layer(files["qp2015_zip"], "qp2015-occitanie", "perimetres", "2015-01-01")
    res = locate_points([1.3528], [44.0172], "2020-06-01")
    assert res.row(0)["trace"]["vintage"]["dataset"].startswith("qp2015-occitanie@")
    # no precision declared: 1 m by default, so a 2 m tolerance (the bundled file's is 15 m)
    assert res.row(0)["trace"]["geometry"]["tolerance_m"] == 2.0
    layers.remove("qp2015-occitanie")
    res = locate_points([1.3528], [44.0172], "2020-06-01")
    assert res.row(0)["trace"]["vintage"]["dataset"] == "qp2015_occitanie"
    assert res.row(0)["trace"]["geometry"]["tolerance_m"] == 15.0
    assert not (layers_dir / "qp2015-occitanie").exists() and layers.entries() == ()


def _boundary_point(k: int, t: float) -> tuple[float, float]:
    """A point on quartier k's boundary, at fraction t of its length."""
    p = load("qp2015_occitanie")
    pt = shapely.line_interpolate_point(shapely.get_geometry(p.boundary[k], 0), t, normalized=True)
    return pt.x, pt.y


# anywhere in Occitanie, or within about 60 m of a quartier boundary (where answers are hardest)
PLACES = st.one_of(
    st.tuples(st.floats(0.0, 4.8), st.floats(42.4, 45.0)),
    st.builds(lambda k, t, dx, dy: (_boundary_point(k, t)[0] + dx, _boundary_point(k, t)[1] + dy),
              st.integers(0, 104), st.floats(0, 1), st.floats(-6e-4, 6e-4), st.floats(-6e-4, 6e-4)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(place=PLACES, day=st.dates(dt.date(2014, 6, 1), dt.date(2026, 12, 31)), tol=st.sampled_from([None, 0.0, 5.0, 40.0]))
def test_an_imported_copy_of_a_bundled_file_never_changes_an_answer(files, tmp_path_factory, place, day, tol):
    lon, lat = place
    folder = _copy_layer(files, tmp_path_factory)
    saved = os.environ["QPV_LAYERS_DIR"]
    empty = str(folder.parent / "vide")
    try:
        os.environ["QPV_LAYERS_DIR"] = empty
        before = locate_points([lon], [lat], day, tolerance_m=tol).row(0)
        os.environ["QPV_LAYERS_DIR"] = str(folder)
        after = locate_points([lon], [lat], day, tolerance_m=tol).row(0)
    finally:
        os.environ["QPV_LAYERS_DIR"] = saved
    for key in ("status", "quartier", "vintage", "distance_to_boundary_m", "commune", "reason_code", "zones"):
        assert before[key] == after[key]


_COPY: dict = {}


def _copy_layer(files, tmp_path_factory) -> Path:
    if "folder" not in _COPY:
        folder = tmp_path_factory.mktemp("copie") / "couches"
        saved = os.environ["QPV_LAYERS_DIR"]
        os.environ["QPV_LAYERS_DIR"] = str(folder)
        try:
            import_layer(files["copie"], "copie-qp2015", "perimetres", "2015-01-01", precision_m=7.5)
        finally:
            os.environ["QPV_LAYERS_DIR"] = saved
        _COPY["folder"] = folder
    return _COPY["folder"]


# -- refusals: exit 2, saying what and where, nothing half-imported --------------------------------------
def _shapefile(root: Path, geoms, columns, crs="EPSG:2154", prj=True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    _write(root / "f.shp", geoms, columns, crs=crs)
    if not prj:
        (root / "f.prj").unlink()
    return root / "f.shp"


def _two_quartiers():
    p = load("qp2015_occitanie")
    return p, _l93(p.geometry[:2])


@pytest.mark.parametrize("case,message", [
    ("no_prj", "ne déclare pas de système de coordonnées (le fichier .prj du Shapefile est absent ?)"),
    ("wrong_crs", "hors des coordonnées possibles une fois reprojetées depuis EPSG:4326 (système de coordonnées faux ou mal déclaré ?)"),
    ("columns", "aucune colonne de code reconnue"),
    ("bad_code", "ne suivent pas le format des codes QP2015"),
    ("duplicate", "code(s) en double dans la colonne CODE_QP : « QP009001 » (entités n° 1, 2)"),
    ("point", "ne sont pas des polygones (point) : entité n° 2 « QP009002 »"),
    ("empty", "à géométrie vide : entité n° 2 « QP009002 »"),
    # Lambert-93 metres declared as Web Mercator: still in France, but in the Grand Est, not the 09 the codes name
    ("wrong_place", "2 quartier(s) ne sont pas dans le département que donne leur code une fois reprojetés depuis EPSG:3857 "
                    "(système de coordonnées faux ou mal déclaré ?) : entité n° 1 « QP009001 » dans le 5"),
    ("not_geodata", "f.gpkg n'a pas pu être lu comme GeoPackage (fichier endommagé, vide ou d'un autre format)"),
])
def test_bad_files_are_refused_with_what_and_where_and_leave_nothing(tmp_path, layers_dir, case, message):
    p, geoms = _two_quartiers()
    cols = {"CODE_QP": p.code[:2], "NOM_QP": p.name[:2]}
    crs, prj = "EPSG:2154", True
    if case == "no_prj":
        prj = False
    elif case == "wrong_crs":
        crs = "EPSG:4326"  # Lambert-93 metres declared as degrees
    elif case == "wrong_place":
        crs = "EPSG:3857"
    elif case == "columns":
        cols = {"IDENT": p.code[:2], "LIBELLE_X": p.name[:2]}
    elif case == "bad_code":
        cols["CODE_QP"] = np.array(["QP009001", "Q-93"], dtype=object)
    elif case == "duplicate":
        cols["CODE_QP"] = np.array(["QP009001", "QP009001"], dtype=object)
    elif case == "point":
        geoms = np.array([geoms[0], shapely.centroid(geoms[1])], dtype=object)
    elif case == "empty":
        geoms = np.array([geoms[0], shapely.from_wkt("MULTIPOLYGON EMPTY")], dtype=object)
    if case in ("point", "empty"):  # a Shapefile holds one geometry type: a GeoJSON in Lambert-93 then
        (tmp_path / case).mkdir()
        path = tmp_path / case / "f.geojson"
        _write(path, geoms, cols, driver="GeoJSON")
    elif case == "not_geodata":
        path = tmp_path / "f.gpkg"
        path.write_bytes(b"ceci n'est pas un GeoPackage")
    else:
        path = _shapefile(tmp_path / case, geoms, cols, crs=crs, prj=prj)
    r = CliRunner().invoke(qpv, ["data", "import", str(path), "--name", "essai", "--kind", "perimetres",
                                 "--valid-from", "2015-01-01"])
    assert r.exit_code == 2, r.output
    assert message in r.stderr
    if case == "columns":
        assert "colonnes trouvées : IDENT, LIBELLE_X" in r.stderr
    assert layers.entries() == () and not [f for f in layers_dir.iterdir() if f.name != ".lock"] if layers_dir.exists() else True


def test_a_code_column_can_be_named_and_invalid_geometries_are_repaired_and_counted(tmp_path, layers_dir):
    p, geoms = _two_quartiers()
    x0, y0 = shapely.get_coordinates(shapely.centroid(geoms[1]))[0]
    bowtie = shapely.from_wkt(f"POLYGON (({x0} {y0}, {x0 + 200} {y0 + 200}, {x0 + 200} {y0}, {x0} {y0 + 200}, {x0} {y0}))")
    assert not shapely.is_valid(bowtie)
    path = _shapefile(tmp_path / "f", np.array([geoms[0], bowtie], dtype=object),
                      {"IDENT": p.code[:2], "LIBELLE_X": p.name[:2]})
    r = CliRunner().invoke(qpv, ["data", "import", str(path), "--name", "essai", "--kind", "perimetres", "--valid-from",
                                 "2015-01-01", "--code-field", "IDENT", "--name-field", "LIBELLE_X", "--json"])
    assert r.exit_code == 0, r.stderr
    got = json.loads(r.stdout)["imported"]
    assert (got["features"], got["repaired"], got["code_field"], got["departements"]) == (2, 1, "IDENT", ["09"])
    # the repaired bowtie answers as its two triangles: the centre of the left one is inside
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(x0 + 30, y0 + 100)
    res = locate_points([lon], [lat], "2020-01-01", tolerance_m=0)
    assert res.status[0] == "inside" and res.quartier_code[0] == p.code[1]
    assert res.row(0)["trace"]["geometry"]["tolerance_m"] == 0.0


def test_the_import_refuses_dates_outside_the_lists_calendar_and_an_existing_name(files, layers_dir):
    with pytest.raises(BadInput, match="ne recoupent pas la période légale"):
        import_layer(files["qp2015_zip"], "a", "perimetres", "2024-06-01")
    import_layer(files["qp2015_zip"], "a", "perimetres", "2015-01-01")
    with pytest.raises(BadInput, match="existe déjà"):
        import_layer(files["qp2015_zip"], "a", "perimetres", "2015-01-01")
    with pytest.raises(BadInput, match="recouvre une autre couche importée"):
        import_layer(files["qp2015_zip"], "b", "perimetres", "2015-01-01")
    assert [e.name for e in layers.entries()] == ["a"]


def test_info_verify_and_a_tampered_layer(files, layers_dir):
    import_layer(files["qp2015_zip"], "qp2015-occitanie", "perimetres", "2015-01-01", source="essai", licence="Licence Ouverte 2.0")
    info = json.loads(CliRunner().invoke(qpv, ["data", "info", "--json"]).stdout)
    assert {d["id"] for d in info["datasets"]} >= {"qp2024", "qp2015_occitanie"}
    (row,) = info["layers"]
    assert (row["name"], row["original_file"], row["source"], row["licence"], row["features"]) == \
        ("qp2015-occitanie", "qp2015.zip", "essai", "Licence Ouverte 2.0", 105)
    assert row["departements"][:3] == ["09", "11", "12"] and row["regions"] == ["76"] and row["precision_m"] == 1.0
    r = CliRunner().invoke(qpv, ["data", "verify", "--json"])
    assert r.exit_code == 0 and any(f.get("layer") == "qp2015-occitanie" and f["ok"] for f in json.loads(r.stdout)["layers"])
    stored = layers_dir / "qp2015-occitanie" / layers.STORED_FILE
    stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")
    r = CliRunner().invoke(qpv, ["data", "verify"])
    assert r.exit_code == 1 and "KO  couches importées/qp2015-occitanie/couche.fgb" in r.stdout
    with pytest.raises(DataIntegrityError, match="couche importée « qp2015-occitanie » : somme de contrôle invalide"):
        layers.read_bytes(layers.get("qp2015-occitanie").dataset_id)
    r = CliRunner().invoke(qpv, ["data", "remove", "qp2015-occitanie"])
    assert r.exit_code == 0 and "retirée" in r.stdout
    assert CliRunner().invoke(qpv, ["data", "remove", "qp2015-occitanie"]).exit_code == 2


def test_a_layers_cache_entries_are_checked_here_and_left_alone_elsewhere(files, layers_dir, monkeypatch, tmp_path):
    layer = import_layer(files["qp2015_zip"], "qp2015-occitanie", "perimetres", "2015-01-01")
    res = locate_points(np.array([MOISSAC[0]]), np.array([MOISSAC[1]]), "2020-06-01")
    # the trace cites the sha256 of the stored bytes as read, and names the file
    assert res.row(0)["trace"]["datasets"][0]["files"] == [
        {"path": "couches importées/qp2015-occitanie/couche.fgb", "sha256": layer.sha256}]
    # (entries are keyed by the layer's checksum: a parallel test importing the same file shares them)
    built = {f"cache géographie perimeters-{layer.dataset_id}-", f"cache géographie quartiers-{layer.dataset_id}-metropole-"}

    def verify_rows():
        r = CliRunner().invoke(qpv, ["data", "verify", "--json"])
        assert r.exit_code == 0, r.output
        return [c for c in json.loads(r.stdout)["caches"] if layer.dataset_id in c["path"]]

    rows = verify_rows()
    assert all(any(row["path"].startswith(b) and row["ok"] for row in rows) for b in built)
    monkeypatch.setenv("QPV_LAYERS_DIR", str(tmp_path / "un-autre-dossier"))  # another user's layers folder
    assert verify_rows() == []  # entries built from a layer this folder does not hold: neither KO nor removed
    monkeypatch.setenv("QPV_LAYERS_DIR", str(layers_dir))
    layers.remove("qp2015-occitanie")
    assert verify_rows() == []


# -- zonings ----------------------------------------------------------------------------------------------
MOISSAC = (1.085312, 44.104617)  # inside QN08203M


@pytest.fixture()
def zonage(tmp_path, layers_dir) -> tuple[float, float]:
    """A local zoning of two squares: one around Moissac's point, one far away; codes in a custom column."""
    x, y = TO_L93.transform(*MOISSAC)
    squares = np.array([shapely.box(x - 300, y - 300, x + 300, y + 300), shapely.box(x + 5000, y, x + 5600, y + 600)], dtype=object)
    path = tmp_path / "npnru.gpkg"
    _write(path, squares, {"id_zone": ["NPNRU-82-1", "NPNRU-82-2"], "nom": ["Centre", "Ailleurs"]}, driver="GPKG")
    r = CliRunner().invoke(qpv, ["data", "import", str(path), "--name", "npnru", "--kind", "zonage", "--valid-from", "2020-01-01",
                                 "--code-field", "id_zone", "--precision-m", "0.5"])
    assert r.exit_code == 0, r.stderr
    return x, y


def test_zonings_are_reported_beside_the_answer(zonage):
    r = CliRunner().invoke(qpv, ["locate", "--lon", str(MOISSAC[0]), "--lat", str(MOISSAC[1]), "--date", "2025-06-01", "--json"])
    obj = json.loads(r.stdout)
    assert obj["status"] == "inside" and obj["quartier"]["code"] == "QN08203M"  # a zoning never changes the status
    assert obj["zones"] == [{"layer": "npnru", "code": "NPNRU-82-1", "name": "Centre", "status": "inside"}]
    assert obj["trace"]["zone_layers"][0]["layer"] == "npnru"
    before = json.loads(CliRunner().invoke(qpv, ["locate", "--lon", str(MOISSAC[0]), "--lat", str(MOISSAC[1]),
                                                 "--date", "2019-06-01", "--json"]).stdout)
    assert before["zones"] == []  # the zoning is valid from 2020
    text = CliRunner().invoke(qpv, ["locate", "--lon", str(MOISSAC[0]), "--lat", str(MOISSAC[1]), "--date", "2025-06-01"]).stdout
    assert "Zonage local : npnru — NPNRU-82-1 « Centre »" in text


def test_the_page_lists_the_zonings(zonage):
    from fastapi.testclient import TestClient

    from eligibility.web import create_app
    from eligibility.web.settings import WebSettings

    page = TestClient(create_app(WebSettings())).get("/", params={"mode": "point", "lon": str(MOISSAC[0]),
                                                                  "lat": str(MOISSAC[1]), "date": "2025-06-01"})
    assert page.status_code == 200
    assert "<dt>Zonages locaux</dt>" in page.text and "Centre (NPNRU-82-1, couche importée « npnru »)" in page.text
    elsewhere = TestClient(create_app(WebSettings())).get("/", params={"mode": "point", "lon": "1.3548", "lat": "44.0175",
                                                                       "date": "2025-06-01"})
    assert elsewhere.status_code == 200 and "Zonages locaux" not in elsewhere.text


def test_batch_gains_a_zones_column(zonage, tmp_path):
    x, y = zonage
    to_wgs = Transformer.from_crs(2154, 4326, always_xy=True)
    edge = to_wgs.transform(x + 300.2, y)  # 0.2 m outside the first square: within its 1 m tolerance
    far = to_wgs.transform(x + 2000, y)
    src = tmp_path / "in.csv"
    src.write_text("lon,lat\n" + "\n".join(f"{a},{b}" for a, b in (MOISSAC, edge, far)) + "\n")
    out = tmp_path / "out.csv"
    r = CliRunner().invoke(qpv, ["batch", "locate", str(src), "--date", "2025-06-01", "--output", str(out)])
    assert r.exit_code == 0, r.output
    import pandas as pd

    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df["zones"]) == ["npnru:NPNRU-82-1", "npnru:NPNRU-82-1 (à la limite)", ""]


RULE = """
id: site-en-zone
kind: criterion
title: Site situé dans une zone NPNRU
version: "1"
legal_texts:
  - {id: essai, text: Texte d'essai, effective: 2020-01-01, confirmed: true}
validity: {from: 2020-01-01, to: null}
decision_date:
  expression: day
  label: date d'appréciation
  legal_reference: {text: essai}
facts:
  day: {type: date, description: Date}
  site: {type: place, description: Lieu}
conditions:
  - id: zone
    label: Site en zone NPNRU
    expression: in_zone("npnru", site, decision_date)
    legal_reference: {text: essai}
    message: Le site n'est pas en zone NPNRU.
"""


def test_rules_ask_in_zone_three_valued(zonage, tmp_path):
    from eligibility.rules import evaluate
    from eligibility.rules.loader import load_file

    path = tmp_path / "site-en-zone.yaml"
    path.write_text(RULE, encoding="utf-8")
    rule = load_file(path)
    x, y = zonage
    to_wgs = Transformer.from_crs(2154, 4326, always_xy=True)
    cases = [({"lon": MOISSAC[0], "lat": MOISSAC[1]}, "eligible", None),
             (dict(zip(("lon", "lat"), to_wgs.transform(x + 2000, y))), "not_eligible", None),
             (dict(zip(("lon", "lat"), to_wgs.transform(x + 300.2, y))), "undetermined", "near_boundary"),
             ({"quartier_code": "QN08203M"}, "undetermined", "quartier_code")]
    for site, outcome, ambiguity in cases:
        d = evaluate(rule, {"day": "2025-06-01", "site": site}).to_json()
        assert d["outcome"] == outcome, (site, d)
        assert [a["status"] for a in d["ambiguities"]] == ([ambiguity] if ambiguity else [])
    layers.remove("npnru")
    d = evaluate(rule, {"day": "2025-06-01", "site": {"lon": MOISSAC[0], "lat": MOISSAC[1]}}).to_json()
    assert d["outcome"] == "undetermined" and d["ambiguities"][0]["status"] == "not_covered"


# -- workers never fall back silently --------------------------------------------------------------------
def test_a_worker_reads_the_clients_layers_or_refuses(files, layers_dir, monkeypatch, tmp_path):
    from eligibility.batch import LocateJob

    import_layer(files["qp2015_zip"], "qp2015-occitanie", "perimetres", "2015-01-01")
    job = LocateJob({"lon": "lon", "lat": "lat"}, date=dt.date(2020, 6, 1))
    assert job.layers == (str(layers_dir), (layers.get("qp2015-occitanie").dataset_id,))
    monkeypatch.setenv("QPV_LAYERS_DIR", str(tmp_path / "ailleurs"))  # a worker started elsewhere
    job.warm()  # reads the client's folder (a shared path) ...
    assert os.environ["QPV_LAYERS_DIR"] == str(layers_dir)
    layers.remove("qp2015-occitanie")  # ... and refuses when it does not hold the client's layers
    with pytest.raises(DataIntegrityError, match="ne voit pas les mêmes couches importées"):
        job.warm()


# -- history and list comparison -------------------------------------------------------------------------
def test_locate_history_dates_each_list():
    r = CliRunner().invoke(qpv, ["locate", "--lon", "1.085312", "--lat", "44.104617", "--history", "--json"])
    h = json.loads(r.stdout)
    periods = [(p["vintage"], p["status"], (p["quartier"] or {}).get("code"), p["valid_from"], p["valid_to"]) for p in h["history"]]
    assert periods[-1] == ("QP2024", "inside", "QN08203M", "2024-01-01", None)
    assert periods[0][0] == "QP2015" and periods[0][4] == "2023-12-31"
    assert h["summary"].endswith("dans QN08203M « Centre-Ville » depuis le 2024-01-01") or "QN08203M" in h["summary"]


def test_quartiers_diff_matches_by_geometry():
    r = CliRunner().invoke(qpv, ["quartiers", "diff", "--from", "QP2015", "--to", "QP2024", "--departement", "82", "--json"])
    d = json.loads(r.stdout)
    assert d["counts"] == {"from": 4, "to": 5, "kept": 4, "left": 0, "entered": 1}
    assert [q["code"] for q in d["entered"]] == ["QN08205N"]
    from eligibility import datasets

    assert [(x["dataset"], x["files"]) for x in d["datasets"]] == [
        (ds, [{"path": datasets.source(ds).label, "sha256": datasets.source(ds).sha256}]) for ds in ("qp2015_occitanie", "qp2024")]
    text = CliRunner().invoke(qpv, ["quartiers", "diff", "--from", "QP2015", "--to", "QP2024", "--departement", "82"]).stdout
    assert "Fichiers comparés : Quartiers prioritaires 2015 (QP2015), région Occitanie ; " in text and "10 % du plus petit" in text
    pair = next(k for k in d["kept"] if k["from"]["code"] == "QP082002")
    assert pair["to"]["code"] == "QN08202M" and pair["lost_ha"] > 25 and pair["gained_ha"] < 2
    assert abs(pair["area_from_ha"] + pair["gained_ha"] - pair["lost_ha"] - pair["area_to_ha"]) < 0.05
    r = CliRunner().invoke(qpv, ["quartiers", "diff", "--from", "QP2015", "--to", "QP2024", "--departement", "93"])
    assert r.exit_code == 2 and "n'est pas couvert par les deux listes" in r.stderr
