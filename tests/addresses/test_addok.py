"""The BAN / addok protocol client, end to end against a real addok + Redis on loopback, loaded with the
bundled BANO index (the same one the local geocoder uses)."""
import json

import pytest
from click.testing import CliRunner

from eligibility.addresses import geocode
from eligibility.addresses.addok import AddokClient
from eligibility.addresses.addok_server import AddokServer
from eligibility.errors import BadInput
from qpv_cli.main import qpv

pytestmark = pytest.mark.addok
ADDRESSES = ["1 rue Albert Honde 04100 Manosque", "5 place des Cordeliers 04000 Digne-les-Bains",
             "305 boulevard Paul-Martin Nalin 04100 Manosque"]


@pytest.fixture(scope="module")
def addok_url(index):
    why = AddokServer.available()
    if why:
        pytest.skip(why)
    with AddokServer(index) as url:
        yield url


def test_search_agrees_with_the_local_geocoder(addok_url, index):
    local = geocode(ADDRESSES, index)
    with AddokClient(addok_url) as client:
        for i, text in enumerate(ADDRESSES):
            best = client.search(text, limit=3)[0]
            assert best["level"] == "housenumber"
            assert best["label"] == local.row(i)["label"]
            assert (best["lon"], best["lat"]) == (local.row(i)["lon"], local.row(i)["lat"])


def test_reverse_finds_the_address_at_a_point(addok_url):
    with AddokClient(addok_url) as client:
        found = client.reverse(5.788492, 43.827516)
    assert found and found[0]["label"] == "1 Rue Albert Honde 04100 Manosque"


def test_search_csv_returns_one_row_per_input_in_order(addok_url):
    texts = ADDRESSES + ["adresse qui n'existe pas du tout"]
    with AddokClient(addok_url) as client:
        out = client.search_csv(texts)
    assert out["address"].tolist() == texts
    assert out["row"].tolist() == ["1", "2", "3", "4"]
    assert out["result_type"].tolist()[:3] == ["housenumber"] * 3


def test_cli_uses_the_server_when_asked(addok_url):
    r = CliRunner().invoke(qpv, ["geocode", "--addok-url", addok_url, "--json", ADDRESSES[0]])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["level"] == "housenumber" and out["label"] == "1 Rue Albert Honde 04100 Manosque"


def test_client_is_off_by_default_and_errors_are_french(monkeypatch):
    monkeypatch.delenv("QPV_ADDOK_URL", raising=False)
    with pytest.raises(BadInput, match="aucun serveur addok configuré"):
        AddokClient()
    with AddokClient("http://127.0.0.1:9", timeout=2) as client, pytest.raises(BadInput, match="injoignable"):
        client.search("1 rue X")
