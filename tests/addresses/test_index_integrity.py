"""Issue 15, finding 2: one flipped byte in an address index's points.parquet is never used.

The bundled index (cache folder) is rebuilt once with a message and `qpv data verify` reports it; an
index the user built (`--index DIR`) is refused with the checksum message.
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from qpv_cli.main import qpv

from eligibility.addresses import build_index, load_index
from eligibility.addresses.index import bundled_index_dir
from eligibility.errors import DataIntegrityError

ADDRESS = "1 rue Albert Honde, 04100 Manosque"


def _flip(path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x04
    path.write_bytes(bytes(data))


def _geocode(*extra):
    return CliRunner().invoke(qpv, ["geocode", ADDRESS, "--json", *extra])


@pytest.fixture
def bundled(isolated_data, forget):
    """The bundled index in the private cache (`isolated_data` copies the project's; built if absent)."""
    from eligibility.addresses import default_index

    path = default_index().path
    forget()
    assert path == bundled_index_dir()
    return path


def test_flipped_byte_in_the_bundled_index_is_reported_then_rebuilt(bundled, forget):
    before = _geocode()
    assert before.exit_code == 0 and json.loads(before.stdout)["lon"] is not None
    _flip(bundled / "points.parquet")
    forget()

    verify = CliRunner().invoke(qpv, ["data", "verify", "--json"])
    assert verify.exit_code == 1
    bad = [c for c in json.loads(verify.stdout)["caches"] if not c["ok"]]
    assert len(bad) == 1 and "points.parquet" in bad[0]["message"] and "somme de contrôle invalide" in bad[0]["message"]

    assert not bundled.exists()  # removed by verify
    forget()
    after = _geocode()  # verify removed it: rebuilt from the reference files, same answer
    assert after.exit_code == 0 and after.stdout == before.stdout


def test_flipped_byte_in_use_is_rebuilt_once_with_a_message(bundled, forget):
    before = _geocode()
    _flip(bundled / "points.parquet", 0.6)
    forget()
    after = _geocode()
    assert after.exit_code == 0, after.stderr
    assert after.stdout == before.stdout
    assert "index d'adresses" in after.stderr and "reconstruit" in after.stderr
    forget()
    again = _geocode()
    assert again.stdout == before.stdout and "reconstruit" not in again.stderr


def test_flipped_byte_in_a_user_index_is_refused(isolated_data, tmp_path, forget):
    from eligibility import datasets

    out = tmp_path / "index"
    build_index([datasets.verified_path("bano", "bano-04_2015-03-23.csv.gz")], out)
    assert _geocode("--index", str(out)).exit_code == 0
    _flip(out / "points.parquet")
    forget()
    with pytest.raises(DataIntegrityError, match="somme de contrôle invalide pour index/points.parquet"):
        load_index(out)
    res = _geocode("--index", str(out))
    assert res.exit_code == 1 and "somme de contrôle invalide" in res.stderr and "erreur interne" not in res.stderr
