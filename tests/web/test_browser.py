"""End to end in headless Chromium (Debian's /usr/bin/chromium driven by Playwright), on the real engine.

Screenshots go to test-artifacts/web/ (git-ignored): look at them, they are the proof the page looks right.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from eligibility.web import create_app
from eligibility.web.settings import WebSettings

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("QPV_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
ADDRESS = "24 Rue des Chapeliers 04000 Digne-les-Bains"  # house number inside QN00401M (bundled BANO)

if not shutil.which(CHROMIUM):
    pytest.skip(f"Chromium absent ({CHROMIUM}) : bash scripts/setup.sh --with-system-deps l'installe", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server():
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(WebSettings(port=port)), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 600  # start-up builds the indexes when the cache is cold
    while not srv.started:
        assert time.monotonic() < deadline, "le serveur n'a pas démarré"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True, args=FLAGS,
            accept_downloads=True, viewport={"width": 1200, "height": 900}, locale="fr-FR")
        yield context
        context.close()


@pytest.fixture
def page(browser):
    pg = browser.new_page()
    outside = []
    pg.on("request", lambda req: outside.append(req.url) if not req.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    yield pg
    pg.close()
    assert outside == [], f"requêtes hors du serveur : {outside}"  # no CDN, no tile server


def test_address_form_answer_map_and_explanation(page, server):
    page.goto(server + "/")
    page.get_by_label("Adresse", exact=True).fill(ADDRESS)
    page.get_by_label("Date de la question").fill("2025-01-01")
    page.get_by_role("button", name="Vérifier").click()
    answer = page.locator("#reponse .phrase")
    answer.wait_for()
    assert "se trouve dans un quartier prioritaire" in answer.inner_text()
    assert "QN00401M" in answer.inner_text()
    note = page.locator("#carte-note")
    page.wait_for_function("document.getElementById('carte-note').textContent.includes('périmètre')")
    assert "Fond de carte neutre" in note.inner_text()
    assert page.locator("#carte path.leaflet-interactive").count() >= 1  # perimeters drawn as SVG
    assert page.locator(".leaflet-tile").count() == 0                    # no tile layer configured
    explanation = page.locator("#explication")
    assert not explanation.locator("pre").is_visible()
    explanation.locator("summary").click()
    assert explanation.locator("pre").is_visible()
    text = explanation.inner_text()
    assert "Décret n° 2023-1314" in text and "QP2024" in text
    page.screenshot(path=str(ARTIFACTS / "01-adresse-reponse.png"), full_page=True)


def test_point_form_by_keyboard_on_a_phone(browser, server):
    pg = browser.new_page()
    pg.set_viewport_size({"width": 375, "height": 740})  # a phone
    try:
        pg.goto(server + "/")
        pg.keyboard.press("Tab")
        assert pg.evaluate("document.activeElement.textContent") == "Aller au contenu"
        pg.get_by_label("Un point (longitude, latitude)").check()
        pg.get_by_label("Longitude (degrés, WGS 84)").fill("1.3536373")
        pg.get_by_label("Latitude (degrés, WGS 84)").fill("44.01929")
        pg.get_by_label("Date de la question").fill("2025-01-01")
        pg.get_by_label("Date de la question").press("Enter")  # submit from the keyboard
        pg.locator("#reponse .phrase").wait_for()
        assert "Cœur de Ville" in pg.locator("#reponse").inner_text()
        pg.wait_for_function("document.getElementById('carte-note').textContent.includes('périmètre')")
        assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
        pg.screenshot(path=str(ARTIFACTS / "02-point-telephone.png"), full_page=True)
    finally:
        pg.close()


def test_attestation_from_the_answer(page, server):
    page.goto(server + "/?mode=point&lon=1.3536373&lat=44.01929&date=2025-01-01")
    page.get_by_role("link", name="Attestation imprimable").click()
    ident = page.locator("#identifiant").inner_text()
    assert ident.startswith("QPV-")
    assert "Cœur de Ville (QN08201I)" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "03-attestation.png"), full_page=True)
    page.reload()
    assert page.locator("#identifiant").inner_text() == ident  # recomputed, same inputs, same identifier


def test_emplois_francs_case(page, server):
    page.goto(server + "/dispositifs/emplois-francs")
    page.get_by_label("Type de contrat de travail", exact=False).select_option("CDI")
    page.get_by_label("Date de signature du contrat de travail", exact=False).fill("2024-03-01")
    page.get_by_label("Durée du travail rapportée au temps plein", exact=False).fill("1")
    page.locator("[name='employee.residence.lon']").fill("1.3536373")
    page.locator("[name='employee.residence.lat']").fill("44.01929")
    page.get_by_label("Situation du salarié", exact=False).select_option("jobseeker")
    page.get_by_label("Catégorie d'inscription", exact=False).fill("1")
    page.get_by_label("appartenu à l'effectif", exact=False).select_option("false")
    page.get_by_label("Nature de l'employeur", exact=False).select_option("company")
    page.get_by_label("à jour de ses obligations", exact=False).select_option("true")
    page.get_by_label("licenciement économique", exact=False).select_option("false")
    page.get_by_label("Date de naissance", exact=False).fill("1990-05-01")
    page.get_by_label("Date de transmission", exact=False).fill("2024-03-15")
    page.get_by_role("button", name="Évaluer").click()
    decision = page.locator("#decision")
    decision.wait_for()
    assert decision.locator(".phrase").inner_text() == "Éligible"
    assert "15 000,00 €" in decision.inner_text()
    page.locator("#explication summary").click()
    assert "Décret n° 2019-1471" in page.locator("#explication").inner_text()
    page.screenshot(path=str(ARTIFACTS / "04-emplois-francs-eligible.png"), full_page=True)

    page.get_by_label("Type de contrat de travail", exact=False).select_option("CDD")
    page.get_by_label("Durée du CDD en mois", exact=False).fill("3")
    page.get_by_role("button", name="Évaluer").click()
    page.locator("#decision").wait_for()
    assert page.locator("#decision .phrase").inner_text() == "Non éligible"
    reasons = page.locator("#raisons").inner_text()
    assert "CDD d'au moins six mois" in reasons and "Décret n° 2019-1471" in reasons
    page.screenshot(path=str(ARTIFACTS / "05-emplois-francs-refus.png"), full_page=True)

    page.locator("#form-attestation").get_by_role("button", name="Attestation imprimable").click()
    assert page.locator("#identifiant").inner_text().startswith("QPV-")
    body = page.inner_text("body")
    assert "Non éligible" in body and "contract.duration_months" in body
    page.screenshot(path=str(ARTIFACTS / "07-attestation-decision.png"), full_page=True)


def test_batch_upload_progress_and_download(page, server):
    rows = ["lon,lat,date", "1.3536373,44.01929,2025-01-01", "1.3601,44.0235,2025-01-01", "abc,44,2025-01-01"]
    page.goto(server + "/lots")
    page.get_by_label("Fichier CSV").set_input_files({"name": "points.csv", "mimeType": "text/csv",
                                                      "buffer": ("\n".join(rows) + "\n").encode()})
    page.get_by_role("button", name="Envoyer").click()
    link = page.get_by_role("link", name="Télécharger les résultats")
    link.wait_for(state="visible")
    assert page.locator("#progres-texte").inner_text() == "Terminé : 3 ligne(s) traitée(s)."
    assert page.evaluate("document.getElementById('progres').value") == 1
    page.screenshot(path=str(ARTIFACTS / "06-lot-termine.png"), full_page=True)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "qpv-localisation.csv"
    out = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [r["row"] for r in out] == ["1", "2", "3"]
    assert [r["status"] for r in out] == ["inside", "outside", "error"]


def test_batch_error_is_shown(page, server):
    page.goto(server + "/lots")
    page.get_by_label("Fichier CSV").set_input_files({"name": "x.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"})
    page.get_by_role("button", name="Envoyer").click()
    page.wait_for_function("document.getElementById('progres-texte').textContent.startsWith('Erreur')")
    assert "colonnes de position absentes" in page.locator("#progres-texte").inner_text()


def test_interactive_docs_work_offline(page, server):
    page.goto(server + "/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert page.locator(".swagger-ui .opblock").count() >= 8
    page.screenshot(path=str(ARTIFACTS / "08-docs-api.png"))
