"""French pages rendered on the server (engine: FakeEngine)."""
from html import unescape


def test_index_form_is_labelled(client):
    html = client.get("/").text
    for field in ["address", "lon", "lat", "date"]:
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert 'lang="fr"' in html and 'name="viewport"' in html and "Aller au contenu" in html


def test_index_answer_and_explanation(client):
    r = client.get("/", params={"mode": "point", "lon": "1.355", "lat": "44.005", "date": "2025-02-03"})
    html = unescape(r.text)
    assert r.status_code == 200
    assert "<strong>OUI</strong> — dans le quartier prioritaire « Quartier d'essai » (QN08299Z)" in html
    assert "Décret n° 2023-1314" in html and "QP2024" in html and "123 m" in html and "3 février 2025" in html
    assert '/attestation?lon=1.355&lat=44.005&date=2025-02-03' in html
    assert 'id="reponse" data-focus' in html and 'action="/#reponse"' in html  # the answer takes the focus
    assert "/static/vendor/leaflet/leaflet.js" in html and "unpkg" not in html and "cdn" not in html.lower()


def test_index_error_is_shown_next_to_the_form(client):
    r = client.get("/", params={"mode": "point", "lon": "abc", "lat": "44"})
    assert r.status_code == 400
    assert 'role="alert"' in r.text and "nombre attendu" in unescape(r.text) and 'aria-invalid="true"' in r.text


def test_dispositif_page_is_generated_from_the_schema(client):
    html = unescape(client.get("/dispositifs/emplois-francs").text)
    for name, label in [("contract.type", "Type de contrat de travail"), ("contract.signature_date", "Date de signature"),
                        ("employee.residence.lon", "Longitude")]:
        assert f'name="{name}"' in html and label in html
    assert client.get("/dispositifs/inconnu").status_code == 404


def test_dispositif_decision_rendering(client):
    html = unescape(client.post("/dispositifs/emplois-francs", data={"contract.type": "CDD"}).text)
    assert "<strong>NON ÉLIGIBLE</strong>" in html and "Le contrat doit être un CDI" in html
    assert "Décret n° 2019-1471, art. 5 — référence non confirmée par un texte officiel lu" in html
    assert html.count("non confirmée") == html.count("Décret n° 2019-1471, art. 5 —")  # said once per reference
    assert "Explication du faux moteur : not_eligible" in html
    assert "trace complète" in html
    html = unescape(client.post("/dispositifs/emplois-francs", data={"contract.signature_date": "2024-03-01"}).text)
    assert "<strong>INCOMPLET</strong>" in html and "Ce qu'il manque pour décider" in html
    assert '<a href="#f-contract-type">Type de contrat de travail</a>' in html  # missing fact named in words, linked
    html = unescape(client.post("/dispositifs/emplois-francs", data={"contract.type": "CDI"}).text)
    assert "<strong>ÉLIGIBLE</strong>" in html and "15 000,00 €" in html


def test_empty_form_says_what_to_fill(client):
    r = client.post("/dispositifs/emplois-francs", data={"contract.type": "", "_date": ""})
    html = unescape(r.text)
    assert r.status_code == 400 and "le formulaire est vide" in html and 'href="#f-contract-type"' in html
    assert "data-focus" in html and 'role="alert"' in html


def test_two_places_at_once_are_refused_like_the_api(client):
    r = client.post("/dispositifs/emplois-francs", data={"employee.residence.address": "1 rue X 82000 Montauban",
                                                         "employee.residence.quartier_code": "QN08299Z"})
    assert r.status_code == 400 and "un seul lieu à la fois" in unescape(r.text)


def test_dispositif_bad_value_keeps_the_form(client):
    r = client.post("/dispositifs/emplois-francs", data={"contract.duration_months": "six", "contract.type": "CDI"})
    assert r.status_code == 400 and 'role="alert"' in r.text and 'value="six"' in r.text


def test_batch_page(client):
    html = client.get("/lots").text
    assert '<label for="fichier">' in html and "/static/lots.js" in html and "<progress" in html
    assert 'href="/lots/modele/locate.csv"' in html and 'href="/lots/modele/emplois-francs.csv"' in html
    assert "--map" not in html


def test_menu_marks_the_current_page_and_has_a_favicon(client):
    html = client.get("/lots").text
    assert '<a href="/lots" aria-current="page">' in html and html.count('aria-current="page"') == 1
    assert 'rel="icon"' in html and 'aria-controls="menu"' in html
    assert client.get("/static/favicon.svg").status_code == 200


def test_configured_tile_url_reaches_the_map(make_client):
    import json
    import re

    html = make_client(tile_url="https://tuiles.example/{z}/{x}/{y}.png", tile_attribution="© essai").get(
        "/", params={"mode": "point", "lon": "1.355", "lat": "44.005"}).text
    data = json.loads(re.search(r'<script type="application/json" id="carte-donnees">(.*?)</script>', html, re.S).group(1))
    assert data["tile_url"] == "https://tuiles.example/{z}/{x}/{y}.png" and data["tile_attribution"] == "© essai"
    assert "Fond de carte neutre" not in html
    plain = make_client().get("/", params={"mode": "point", "lon": "1.355", "lat": "44.005"}).text
    assert '"tile_url": null' in plain and "Fond de carte neutre" in plain


def test_explanation_shows_the_trace_in_words(make_client):
    from .fakes import FakeEngine

    class WithTrace(FakeEngine):
        def locate(self, lon, lat, date):
            a = super().locate(lon, lat, date)
            a["trace"].update(conclusion="le point est dans le quartier prioritaire QN08299Z",
                              vintage={"explanation": "la liste QP2024 s'applique", "confirmed": True},
                              caveats=["Geometry simplified"])
            return a

    html = unescape(make_client(engine=WithTrace()).get("/", params={"mode": "point", "lon": "1.355", "lat": "44.005"}).text)
    assert "Liste de quartiers retenue : la liste QP2024 s'applique" in html
    visible = html.split('<pre class="trace"')[0]
    assert "Geometry simplified" not in visible  # the manifest's English caveats stay in the JSON trace


def test_a_browser_gets_errors_as_a_french_page(client):
    page = client.get("/dispositifs/inconnu", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in page.text and "dispositif inconnu" in unescape(page.text) and "Traceback" not in page.text
    api = client.get("/api/quartiers/QN0", headers={"accept": "text/html"})
    assert api.status_code == 400 and api.json()["error"]["field"] == "code"  # the API stays JSON
    assert client.get("/nulle-part", headers={"accept": "text/html"}).headers["content-type"].startswith("text/html")
