"""Issue 15, findings 1 and 3: a reference file or the manifest changed on disk is never used.

Each test reproduces the outsider's scenario on a private copy of the data (`isolated_data`).
"""
from __future__ import annotations

import hashlib
import json
import os
import re

import pytest
import shapely
from click.testing import CliRunner
from qpv_cli.main import qpv

from eligibility import datasets

QP2015 = "qpv/qp2015_occitanie/qp2015_occitanie_contours.geojson"
QUARTIER = "QP066007"  # Bas-Vernet, Perpignan: QP2015, Occitanie


def _line(data, code=QUARTIER) -> tuple[int, str]:
    lines = (data / QP2015).read_text(encoding="utf-8").split("\n")
    i = next(k for k, line in enumerate(lines) if f'"code_qp": "{code}"' in line)
    return i, lines[i]


def _inside(data) -> tuple[float, float]:
    feature = json.loads(_line(data)[1].rstrip(","))
    p = shapely.point_on_surface(shapely.from_geojson(json.dumps(feature["geometry"])))
    return round(p.x, 6), round(p.y, 6)


def _rewrite_same_size_and_mtime(path, change) -> None:
    """Bit rot, `cp -p` or a restored backup: other bytes, same size, same modification time."""
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    new = change(text)
    assert new != text and len(new.encode()) == len(text.encode())
    path.write_text(new, encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)


def _move_quartier(text: str) -> str:
    """The quartier's longitudes 2.90xx become 2.91xx: about 800 m east, file size unchanged."""
    lines = text.split("\n")
    i = next(k for k, line in enumerate(lines) if f'"code_qp": "{QUARTIER}"' in line)
    lines[i] = lines[i].replace("[ 2.90", "[ 2.91")
    return "\n".join(lines)


def _open_ring(text: str) -> str:
    """One digit of the ring's closing point changed: the ring no longer closes (GEOS refuses it)."""
    lines = text.split("\n")
    i = next(k for k, line in enumerate(lines) if f'"code_qp": "{QUARTIER}"' in line)
    end = lines[i].rindex("] ] ]")
    m = list(re.finditer(r"(\d)( \])", lines[i][:end + 1]))[-1]
    digit = "1" if m.group(1) != "1" else "2"
    lines[i] = lines[i][:m.start(1)] + digit + lines[i][m.end(1):]
    return "\n".join(lines)


def _clear_geography_cache(forget) -> None:
    """`rm -r .cache/geography`: the next command rebuilds the derived files from the reference data."""
    import shutil

    from eligibility.paths import cache_dir

    shutil.rmtree(cache_dir() / "geography", ignore_errors=True)
    forget()


def _locate(lon, lat, date="2020-06-01"):
    return CliRunner().invoke(qpv, ["locate", "--lon", str(lon), "--lat", str(lat), "--date", date, "--json"])


@pytest.mark.parametrize("change", [_move_quartier, _open_ring], ids=["moved-800m", "ring-broken"])
def test_reference_file_changed_with_size_and_mtime_kept_is_refused_after_a_cache_rebuild(isolated_data, tmp_path, forget,
                                                                                          change):
    lon, lat = _inside(isolated_data)
    before = _locate(lon, lat)
    assert before.exit_code == 0 and json.loads(before.stdout)["quartier"]["code"] == QUARTIER
    _rewrite_same_size_and_mtime(isolated_data / QP2015, change)
    _clear_geography_cache(forget)

    after = _locate(lon, lat)
    assert after.exit_code == 1, after.stdout
    assert "somme de contrôle invalide pour " + QP2015 in after.stderr
    assert "erreur interne" not in after.stderr  # no GEOSException when a ring is broken

    batch_in = tmp_path / "points.csv"
    batch_in.write_text(f"lon,lat,date\n{lon},{lat},2020-06-01\n", encoding="utf-8")
    res = CliRunner().invoke(qpv, ["batch", "locate", str(batch_in), "-o", str(tmp_path / "out.csv")])
    assert res.exit_code == 1 and "somme de contrôle invalide" in res.stderr
    attest = CliRunner().invoke(qpv, ["attest", "--lon", str(lon), "--lat", str(lat), "--date", "2020-06-01", "--json"])
    assert attest.exit_code == 1 and "somme de contrôle invalide" in attest.stderr


def test_trace_and_attestation_cite_the_sha256_of_the_bytes_read(isolated_data):
    lon, lat = _inside(isolated_data)
    answer = json.loads(_locate(lon, lat).stdout)
    cited = {f["path"]: f["sha256"] for d in answer["trace"]["datasets"] for f in d["files"]}
    assert QP2015 in cited and "communes_geo/departements-avec-outre-mer.geojson.gz" in cited
    assert any(p.startswith("communes_geo/communes_par_departement/communes-66-") for p in cited)
    for path, digest in cited.items():
        assert digest == hashlib.sha256((isolated_data / path).read_bytes()).hexdigest(), path

    att = json.loads(CliRunner().invoke(qpv, ["attest", "--lon", str(lon), "--lat", str(lat), "--date", "2020-06-01",
                                              "--json"]).stdout)
    files = {f["path"]: f["sha256"] for d in att["versions"]["datasets"] for f in d["files"]}
    assert files == cited


def test_stamp_file_no_longer_vouches_for_a_file(isolated_data, forget):
    """A file read directly (COG names) is hashed on every read: no (size, mtime) stamp is trusted."""
    from eligibility.errors import DataIntegrityError

    assert datasets.verified_bytes("cog2026", "regions.json")
    target = isolated_data / "cog/decoupage_administratif_6.0.0/regions.json"
    _rewrite_same_size_and_mtime(target, lambda t: t.replace("Occitanie", "Occitanje", 1))
    forget()
    with pytest.raises(DataIntegrityError, match="somme de contrôle invalide"):
        datasets.verified_bytes("cog2026", "regions.json")


# --- finding 3: the manifest itself -------------------------------------------------------------

@pytest.mark.parametrize("old,new", [
    ("    from: '2015-01-01'\n    to: '2023-12-31'", "    from: '2015-01-01'\n    to: '2013-12-31'"),  # a validity date
    ("    regions:\n    - '76'", "    regions:\n    - '75'"),                                          # the coverage
], ids=["validity-date", "coverage-region"])
def test_one_byte_change_to_the_manifest_is_refused(isolated_data, forget, old, new):
    manifest = isolated_data / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert text.count(old) == 1
    manifest.write_text(text.replace(old, new), encoding="utf-8")
    forget()
    verify = CliRunner().invoke(qpv, ["data", "verify", "--json"])
    assert verify.exit_code == 1 and "manifest.yaml" in verify.stderr and "somme de contrôle invalide" in verify.stderr
    located = _locate(1.4442, 43.6047)
    assert located.exit_code == 1 and "manifest.yaml" in located.stderr


@pytest.mark.parametrize("old,new,message", [
    ("    from: '2015-01-01'\n    to: '2023-12-31'", "    from: '2015-01-01'\n    to: '2014-12-31'", "inversée"),
    ("    regions:\n    - '76'", "    regions:\n    - '77'", "région(s) inconnue(s)"),
    ("  - territory: metropole\n    from: '2015-01-01'", "  - territory: metropole\n    from: '2014-01-01'", "calendrier"),
], ids=["reversed-period", "unknown-region", "against-the-law"])
def test_data_verify_runs_the_engines_checks_of_a_repinned_manifest(isolated_data, forget, monkeypatch, old, new, message):
    """A manifest edited on purpose and pinned again still has its periods and coverage checked, by
    `data verify` as by the engine."""
    manifest = isolated_data / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8").replace(old, new)
    manifest.write_text(text, encoding="utf-8")
    monkeypatch.setattr(datasets, "MANIFEST_SHA256", hashlib.sha256(text.encode()).hexdigest())
    forget()
    verify = CliRunner().invoke(qpv, ["data", "verify", "--json"])
    assert verify.exit_code == 1
    out = verify.stdout + verify.stderr
    assert message in out
    located = _locate(1.4442, 43.6047)
    assert located.exit_code == 1 and message in located.stderr


def test_data_verify_passes_on_the_bundled_data():
    res = CliRunner().invoke(qpv, ["data", "verify", "--json"])
    assert res.exit_code == 0, res.stdout
    body = json.loads(res.stdout)
    assert body["ok"] and body["manifest"]["ok"] and body["files"]


def test_decision_trace_cites_the_files_read_with_their_digests():
    """`qpv evaluate`: data_versions lists, per dataset, every file read and the sha256 of its bytes."""
    from pathlib import Path

    from eligibility.paths import PROJECT_ROOT

    res = CliRunner().invoke(qpv, ["evaluate", "emplois-francs", "--facts",
                                   str(Path(PROJECT_ROOT) / "examples/emplois-francs_peyrouat.json"), "--json"])
    assert res.exit_code == 0, res.stderr
    versions = json.loads(res.stdout)["trace"]["data_versions"]
    files = [f for d in versions for f in d["files"]]
    assert {d["dataset"] for d in versions} >= {"qp2024", "departements_geo", "communes_geo"}
    assert any(f["path"].startswith("communes_geo/communes_par_departement/communes-40-") for f in files)
    for f in files:
        assert f["sha256"] == hashlib.sha256((datasets.data_dir() / f["path"]).read_bytes()).hexdigest()
