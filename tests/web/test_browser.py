"""End to end in headless Chromium (Debian's /usr/bin/chromium driven by Playwright), on the real engine,
at a desktop size (1280×900) and a phone size (390×844), as a préfecture agent, an employer or a bailleur
would use the pages.

On every page: the verdict is in the viewport and has the focus after a submit; no option shows an enum
code; no visible text shows a dotted fact path, a provenance tag or an English status; no request leaves
the host; axe-core (pinned: axe-playwright-python, bundled axe.min.js) finds no serious or critical
violation. Screenshots go to test-artifacts/web/ (git-ignored); docs/web.md shows a copy of them.
"""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from eligibility.web import create_app
from eligibility.web.settings import WebSettings

from .fakes import fail_second_chunk

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("QPV_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
ADDRESS = "24 Rue des Chapeliers 04000 Digne-les-Bains"  # house number inside QN00401M (bundled BANO)
OUTSIDE_INDEX = "12 rue de la Paix 82000 Montauban"      # the street is not in the (partial) Tarn-et-Garonne index
VIEWPORTS = {"bureau": {"width": 1280, "height": 900}, "telephone": {"width": 390, "height": 844}}
ENGLISH_STATUS = re.compile(r"\b(inside|outside|near_boundary|not_covered|undetermined|not_eligible|eligible|house number"
                            r"|street not found|address not found)\b")
PROVENANCE = re.compile(r"\[(C2?|U|I)\]|law\.md|etalab-codes|LEGIARTI")

if not shutil.which(CHROMIUM):
    pytest.skip(f"Chromium absent ({CHROMIUM}) : bash scripts/setup.sh --with-system-deps l'installe", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")


def _rule_words() -> tuple[set[str], set[str]]:
    """Every enum code and every dotted fact path of the rule files (places with their parts)."""
    from eligibility.rules import load_rules

    codes, paths = set(), set()
    for rule in load_rules().values():
        for path, fact in rule.model.facts.items():
            paths.add(path)
            if fact.type == "place":
                paths |= {f"{path}.{p}" for p in ("lon", "lat", "quartier_code", "address")}
            codes |= set(fact.values or ())
    return codes, {p for p in paths if "." in p}


CODES, PATHS = _rule_words()


def _serve(**settings):
    """A uvicorn server of the app in a thread (the real engine), until the module's tests are done."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(WebSettings(port=port, request_timeout_s=120, **settings)), host="127.0.0.1",
                            port=port, log_level="warning", access_log=False)
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
def server():
    yield from _serve()


@pytest.fixture(scope="module")
def recording_server(tmp_path_factory):
    """The service with its register of decisions (SQLite, facts not kept: the default)."""
    yield from _serve(record=True, register_url=f"sqlite:///{tmp_path_factory.mktemp('registre') / 'register.sqlite3'}")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True, args=FLAGS,
            accept_downloads=True, viewport=VIEWPORTS["bureau"], locale="fr-FR")
        yield context
        context.close()


@pytest.fixture(params=list(VIEWPORTS))
def page(request, browser):
    pg = browser.new_page()
    pg.set_viewport_size(VIEWPORTS[request.param])
    pg.set_default_timeout(180_000)  # the first answers load indexes; the test machines are shared
    pg.size_name = request.param
    outside = []
    pg.on("request", lambda req: outside.append(req.url) if not req.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    yield pg
    pg.close()
    assert outside == [], f"requêtes hors du serveur : {outside}"  # no CDN, no tile server


def check_page(page, shot: str) -> str:
    """What every page must hold to; returns the visible text. Saves a screenshot of the viewport."""
    page.screenshot(path=str(ARTIFACTS / f"{shot}-{page.size_name}.png"))
    options = [t.strip() for t in page.locator("option").all_inner_texts()]
    assert not [o for o in options if o in CODES], f"options montrant un code : {[o for o in options if o in CODES]}"
    text = page.inner_text("body")
    assert not [p for p in PATHS if p in text], f"chemins de faits visibles : {[p for p in PATHS if p in text]}"
    assert not PROVENANCE.search(text), f"marque de provenance visible : {PROVENANCE.search(text).group(0)}"
    assert not ENGLISH_STATUS.search(text), f"statut anglais visible : {ENGLISH_STATUS.search(text).group(0)}"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "défilement horizontal"
    results = axe_module.Axe().run(page)
    bad = [(v["id"], v["impact"], len(v["nodes"])) for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], f"axe-core : {bad}"
    return text


def verdict_in_view(page, selector: str = "#verdict") -> str:
    """The verdict is inside the viewport, and its section (or the error box) has the focus."""
    verdict = page.locator(selector)
    verdict.wait_for()
    box = page.evaluate("(s) => { const r = document.querySelector(s).getBoundingClientRect();"
                        " return [r.top, r.bottom, window.innerHeight]; }", selector)
    assert 0 <= box[0] and box[1] <= box[2], f"verdict hors de l'écran : {box}"
    focused = page.evaluate("document.activeElement.closest('[data-focus], #suivi') !== null")
    assert focused, "le focus n'est pas sur la réponse"
    return verdict.inner_text()


def fill(page, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = page.locator(f"form:not(#form-attestation) [name='{name}']")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def test_address_inside_a_quartier(page, server):
    page.goto(server + "/")
    page.get_by_label("Adresse", exact=True).fill(ADDRESS)
    page.get_by_label("Date de la question").fill("2025-01-01")
    page.get_by_role("button", name="Vérifier").click()
    words = verdict_in_view(page)
    assert words.startswith("OUI — dans le quartier prioritaire « Centre Ville - Pigeonnier » (QN00401M)")
    answer = page.locator("#reponse").inner_text()
    assert "précision : au numéro" in answer and "1er janvier 2025" in answer and "Décret n° 2023-1314" in answer
    assert page.locator("#carte-note").inner_text() != ""
    page.wait_for_function("document.getElementById('carte-note').textContent.includes('périmètre')")
    page.wait_for_selector("#carte path[stroke-dasharray]")                     # commune outline
    assert page.locator("#carte .leaflet-control-scale").count() == 1
    assert page.locator(".etiquette-quartier").inner_text() == "Centre Ville - Pigeonnier (QN00401M)"
    assert page.locator("#carte .leaflet-control-zoom-in").get_attribute("title") == "Zoom avant"
    assert page.locator(".leaflet-tile").count() == 0                             # no tile layer configured
    assert "Limite de la commune" in page.locator("#legende").inner_text()
    check_page(page, "01-localiser-oui")


def test_address_the_index_does_not_hold_fails_honestly(page, server):
    page.goto(server + "/?mode=address&address=" + OUTSIDE_INDEX.replace(" ", "+") + "&date=2025-01-01#reponse")
    words = verdict_in_view(page)
    assert words.startswith("À VÉRIFIER")
    failure = page.locator("#echec").inner_text()
    assert "voie introuvable" in failure and "Alpes-de-Haute-Provence (04)" in failure and "Tarn-et-Garonne (82, en partie)" in failure
    assert page.locator("#candidats a").count() >= 1                  # the geocoder's candidates, as links
    assert page.get_by_role("link", name="Saisir un point (longitude, latitude)").count() == 1
    assert page.locator("#carte").count() == 0                         # no marker at 0°/0°
    assert page.get_by_role("link", name="Attestation imprimable").count() == 0
    assert "aucun millésime" not in page.inner_text("body")
    check_page(page, "02-localiser-echec")


def test_point_with_decimal_commas_and_phone_menu(page, server):
    page.goto(server + "/")
    if page.size_name == "telephone":
        menu = page.get_by_role("button", name="Menu")
        assert not page.get_by_role("link", name="Traiter un fichier").is_visible()
        menu.click()
        assert menu.get_attribute("aria-expanded") == "true" and page.get_by_role("link", name="Traiter un fichier").is_visible()
    assert page.locator("nav a[aria-current=page]").inner_text() == "Localiser une adresse"
    page.get_by_label("Un point (longitude, latitude)").check()
    page.get_by_label("Longitude (degrés décimaux)").fill("1,3536373")
    page.get_by_label("Latitude (degrés décimaux)").fill("44,01929")
    page.get_by_label("Date de la question").fill("2025-01-01")
    page.get_by_label("Date de la question").press("Enter")  # submit from the keyboard
    assert verdict_in_view(page).startswith("OUI — dans le quartier prioritaire « Cœur de Ville » (QN08201I)")
    check_page(page, "03-localiser-point")


def test_empty_submit_says_what_to_fill(page, server):
    page.goto(server + "/dispositifs/adultes-relais")
    assert page.locator("nav a[aria-current=page]").inner_text() == "Adultes-relais"
    page.get_by_role("button", name="Évaluer").click()
    alert = page.locator("#erreur")
    alert.wait_for()
    assert page.evaluate("document.activeElement.id") == "erreur"
    assert "le formulaire est vide" in alert.inner_text() and "Date de signature du contrat de travail" in alert.inner_text()
    fill(page, {"contract.working_time_ratio": "deux", "person.residence.address": ADDRESS, "person.residence.quartier_code": "QN00401M"})
    page.get_by_role("button", name="Évaluer").click()
    alert.wait_for()
    text = alert.inner_text()
    assert "2 champs à corriger" in text and "« Durée du travail rapportée au temps plein » : nombre attendu" in text
    assert "un seul lieu à la fois" in text                              # two places at once, refused as by the API
    check_page(page, "04-adultes-relais-erreurs")


EMPLOIS_FRANCS = {"contract.type": "CDI", "contract.signature_date": "2024-03-01", "contract.working_time_ratio": "1",
                  "employee.residence.lon": "1,3536373", "employee.residence.lat": "44,01929", "employee.status": "jobseeker",
                  "employee.jobseeker_category": "1", "employee.employed_by_employer_last_6_months": "false",
                  "employer.kind": "company", "employer.up_to_date_with_obligations": "true",
                  "employer.economic_dismissal_last_6_months": "false", "employee.birth_date": "1990-05-01",
                  "application_date": "2024-03-15"}


def test_employer_gets_a_decision_then_its_attestation_and_checks_it(page, server):
    page.goto(server + "/dispositifs/emplois-francs")
    legends = page.locator("fieldset.groupe > legend").all_inner_texts()
    assert legends[:3] == ["Le contrat de travail", "Le salarié", "L'employeur"]
    assert "Demandeur d'emploi inscrit à France Travail" in page.locator("[name='employee.status']").inner_text()
    fill(page, EMPLOIS_FRANCS)
    page.get_by_role("button", name="Évaluer").click()
    assert verdict_in_view(page) == "ÉLIGIBLE"
    decision = page.locator("#decision").inner_text()
    assert "15 000,00 €" in decision and "1er mars 2024 (date de signature du contrat de travail)" in decision
    assert page.locator("#conditions li.cond-true").count() >= 5 and "Décret n° 2019-1471" in decision
    check_page(page, "05-emplois-francs-eligible")

    fill(page, {"contract.type": "CDD", "contract.duration_months": "3"})
    page.get_by_role("button", name="Évaluer").click()
    assert verdict_in_view(page) == "NON ÉLIGIBLE"
    assert "CDD d'au moins six mois" in page.locator("#raisons").inner_text()
    assert page.locator("#conditions li.cond-false").count() == 1

    page.locator("#form-attestation").get_by_role("button", name="Attestation imprimable").click()
    ident = page.locator("#identifiant").inner_text()
    body = page.inner_text("body")
    assert ident.startswith("QPV-") and "NON ÉLIGIBLE" in body and "Contrat à durée déterminée (CDD)" in body
    assert "1er mars 2024" in body and "Cœur de Ville" in body and "Montauban" in body
    check_page(page, "06-attestation-decision")
    page.get_by_role("link", name="Vérifier que cet identifiant tient toujours").click()
    assert verdict_in_view(page).startswith("VALABLE")
    assert page.locator("#resultat").inner_text().count(ident) == 2
    check_page(page, "07-attestation-verifiee")


def test_attestation_found_in_the_register_by_its_identifier(page, recording_server):
    """An agent types only the identifier: the page says when and for what it was recorded; the attestation's
    own « Vérifier » link (which carries the question) also re-checks it with the rules of the time."""
    page.goto(recording_server + "/dispositifs/emplois-francs")
    fill(page, EMPLOIS_FRANCS)
    page.get_by_role("button", name="Évaluer").click()
    assert verdict_in_view(page) == "ÉLIGIBLE"
    page.locator("#form-attestation").get_by_role("button", name="Attestation imprimable").click()
    ident = page.locator("#identifiant").inner_text()
    check_link = page.get_by_role("link", name="Vérifier que cet identifiant tient toujours").get_attribute("href")

    page.goto(recording_server + "/attestation/verifier")
    page.locator("#identifiant").fill(ident)
    page.get_by_role("button", name="Vérifier").click()
    assert verdict_in_view(page).startswith("INSCRITE AU REGISTRE")
    state = page.locator("#registre-etat").inner_text()
    # The page's answer and its attestation carry the same identifier: recorded twice (more at the second size).
    assert re.fullmatch(r"Inscrite au registre le \d\d/\d\d/\d{4} à \d\d:\d\d \(UTC\), puis \d+ autres? fois, "
                        r"la dernière le \d\d/\d\d/\d{4} à \d\d:\d\d \(UTC\)\.", state), state
    found = page.locator("#resultat").inner_text()
    assert "Emplois francs" in found and "ÉLIGIBLE" in found and "01/03/2024" in found and "attestation donnée par le service web" in found
    check_page(page, "09-verifier-registre")

    page.goto(recording_server + check_link)
    assert verdict_in_view(page).startswith("VALABLE")
    assert page.locator("#registre-recalcul").inner_text().startswith("reproduit")
    check_page(page, "10-verifier-registre-recalcul")


def test_locate_attestation_in_words(page, server):
    page.goto(server + "/?mode=point&lon=1.3536373&lat=44.01929&date=2025-01-01")
    page.get_by_role("link", name="Attestation imprimable").click()
    ident = page.locator("#identifiant").inner_text()
    body = page.inner_text("body")
    assert ident.startswith("QPV-") and "1er janvier 2025" in body and "Cœur de Ville (QN08201I)" in body
    assert "Montauban (code INSEE 82121)" in body
    check_page(page, "08-attestation-localisation")


def test_bailleur_tfpb(page, server):
    page.goto(server + "/dispositifs/tfpb")
    fill(page, {"tax_year": "2025", "logement.location.quartier_code": "QN08201I", "logement.social_rental": "true",
                "logement.prior_exemption": "1384", "owner.kind": "hlm", "owner.signed_contrat_de_ville": "true",
                "owner.contrat_de_ville_signature_date": "2024-06-28", "owner.convention_signature_date": "2024-11-15",
                "owner.declaration_date": "2024-12-01",
                "tfpb_base": "10 000,50"})
    page.get_by_role("button", name="Évaluer").click()
    assert verdict_in_view(page) == "ÉLIGIBLE"
    decision = page.locator("#decision").inner_text()
    assert "3 000,15 €" in decision and "Cœur de Ville" in decision
    check_page(page, "09-tfpb-bailleur")


def test_batch_of_a_bailleur_file_keeps_its_columns(page, server):
    rows = ["Identifiant;Adresse;Date signature", f"B-001;{ADDRESS};01/01/2025", f"B-002;{OUTSIDE_INDEX};2025-01-01",
            "B-003;;2025-01-01"]
    page.goto(server + "/lots")
    page.get_by_label("Fichier", exact=True).set_input_files({"name": "logements.csv", "mimeType": "text/csv",
                                                               "buffer": ("\n".join(rows) + "\n").encode("utf-8")})
    page.get_by_role("button", name="Envoyer").click()
    assert verdict_in_view(page).startswith("TERMINÉ")
    assert page.locator("#progres-texte").inner_text() == "Terminé : 3 ligne(s) traitée(s)."
    assert "« Adresse »" in page.locator("#colonnes-lues").inner_text()
    counts = page.locator("#compteurs").inner_text()
    assert "dans un quartier prioritaire" in counts and "adresse non localisée" in counts
    assert page.locator("#apercu tbody tr").count() == 3
    check_page(page, "10-lot-termine")
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger les résultats (CSV pour Excel)").click()
    raw = Path(info.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    out = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert [r["Identifiant"] for r in out] == ["B-001", "B-002", "B-003"]
    assert out[0]["adresse_reconnue"] == ADDRESS and out[0]["statut"] == "dans un quartier prioritaire"
    assert out[1]["statut"] == "adresse non localisée" and out[2]["statut"] == "erreur"


def test_batch_error_is_shown(page, server):
    page.goto(server + "/lots")
    page.get_by_label("Fichier", exact=True).set_input_files({"name": "x.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"})
    page.get_by_role("button", name="Envoyer").click()
    page.wait_for_function("document.getElementById('progres-texte').textContent.startsWith('Erreur')")
    text = page.locator("#progres-texte").inner_text()
    assert "colonnes de position absentes" in text and "--map" not in text


def test_batch_page_refuses_a_cut_or_failed_stream(page, server, monkeypatch):
    """The page checks the end row (issue 15, finding 5): a failure after the first rows is shown as an error,
    never offered as a finished file."""
    fail_second_chunk(monkeypatch, 1)
    rows = ["lon,lat,date", "1.3536373,44.01929,2025-01-01", "1.3601,44.0235,2025-01-01", "1.3601,44.0235,2025-01-01"]
    page.goto(server + "/lots")
    page.get_by_label("Fichier", exact=True).set_input_files({"name": "points.csv", "mimeType": "text/csv",
                                                               "buffer": ("\n".join(rows) + "\n").encode()})
    page.get_by_role("button", name="Envoyer").click()
    page.wait_for_function("document.getElementById('progres-texte').textContent.startsWith('Erreur')")
    assert "traitement interrompu après la ligne 1" in page.locator("#progres-texte").inner_text()
    assert page.locator("#bilan").is_hidden()
    assert page.get_by_role("link", name="Télécharger les résultats (CSV pour Excel)").is_hidden()


def test_interactive_docs_work_offline(page, server):
    page.goto(server + "/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert page.locator(".swagger-ui .opblock").count() >= 8
