"""/attestation/verifier looks the identifier up in the service's register: when and for what it was recorded,
in French, and whether the entry re-checks with the rules recorded (the real engine, SQLite and PostgreSQL)."""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from eligibility.register import Register
from eligibility.web import create_app
from eligibility.web.settings import WebSettings

from .conftest import EXAMPLE_FACTS

LOCAL = ("127.0.0.1", 50000)


def service(url, keep_facts=False):
    return TestClient(create_app(WebSettings(record=True, register_url=url, register_keep_facts=keep_facts)),
                      raise_server_exceptions=False, client=LOCAL)


def text_of(html: str) -> str:
    """What a reader sees: tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def issue_attestation(c) -> tuple[str, dict]:
    """An attestation served (hence recorded) by the service: its identifier and its « Vérifier » link's query."""
    page = c.post("/attestation/emplois-francs", json=EXAMPLE_FACTS)
    assert page.status_code == 200
    link = re.search(r'href="(/attestation/verifier\?[^"]+)"', page.text).group(1)
    query = {k: v[0] for k, v in parse_qs(urlsplit(unescape(link)).query).items()}
    return query["identifiant"], query


def register_section(html: str) -> str:
    return text_of(html.split('id="registre"', 1)[1].split("</dl>", 1)[0])


@pytest.mark.slow
def test_identifier_alone_is_found_but_facts_not_kept_need_the_question(any_url):
    with service(any_url) as c:
        ident, query = issue_attestation(c)
        alone = c.get("/attestation/verifier", params={"identifiant": ident})
        assert alone.status_code == 200
        seen = text_of(alone.text)
        assert "INSCRITE AU REGISTRE" in seen and "collez la question" in seen and "VALABLE" not in seen
        section = register_section(alone.text)
        day = Register(any_url).get(ident)["recorded_at"]
        assert f"Inscrite au registre le {day[8:10]}/{day[5:7]}/{day[:4]} à {day[11:16]} (UTC)" in section
        assert "Objet Emplois francs" in section and "Résultat inscrit ÉLIGIBLE" in section
        assert "Date de décision 01/03/2024" in section and "Quartier QN04004M" in section and "attestation donnée par le service web" in section
        # The « Vérifier » link carries the question: recomputed today, and re-checked with the rules recorded.
        full = text_of(c.get("/attestation/verifier", params=query).text)
        assert "VALABLE —" in full and "Inscrite au registre le" in full
        assert "Nouveau calcul avec les règles de l'époque reproduit" in full
        for internal in ("eligible", "emplois-francs", "dispositif", "contract.type"):  # words people read only
            assert internal not in register_section(c.get("/attestation/verifier", params=query).text)


@pytest.mark.slow
def test_identifier_alone_is_recomputed_when_the_register_keeps_facts(sqlite_url):
    with service(sqlite_url, keep_facts=True) as c:
        ident, _ = issue_attestation(c)
        seen = text_of(c.get("/attestation/verifier", params={"identifiant": ident}).text)
    assert "VALABLE —" in seen and "Inscrite au registre le" in seen
    assert "Nouveau calcul avec les règles de l'époque reproduit" in seen


@pytest.mark.slow
def test_pasted_question_with_other_facts_is_not_the_recorded_one(sqlite_url):
    import json

    with service(sqlite_url) as c:
        ident, query = issue_attestation(c)
        question = json.loads(query["question"])
        question["facts"]["employee.birth_date"] = "1990-01-02"
        seen = text_of(c.get("/attestation/verifier", params={"identifiant": ident, "question": json.dumps(question)}).text)
    assert "NE TIENT PLUS" in seen
    assert "non reproduit : ces faits ne sont pas ceux de l'entrée 1" in seen


def test_unknown_identifier_and_unreachable_register_are_said(sqlite_url):
    from .test_web import FakeEngine

    with TestClient(create_app(WebSettings(record=True, register_url=sqlite_url), engine=FakeEngine()), client=LOCAL) as c:
        seen = text_of(c.get("/attestation/verifier", params={"identifiant": "QPV-0000-0000-0000-0000-0000"}).text)
    assert "NON VÉRIFIÉE" in seen and "n'est pas inscrit au registre de ce service" in seen
    down = create_app(WebSettings(record=True, register_url="postgresql://nobody@127.0.0.1:1/none"), engine=FakeEngine())
    with TestClient(down, client=LOCAL) as c:
        seen = text_of(c.get("/attestation/verifier", params={"identifiant": "QPV-0000-0000-0000-0000-0000"}).text)
    assert "Non consulté : le registre des décisions ne peut pas être consulté (registre injoignable)" in seen
    assert "127.0.0.1:1" not in seen
    without = create_app(WebSettings(register_url=sqlite_url), engine=FakeEngine())  # no register: the question is needed
    with TestClient(without, client=LOCAL) as c:
        r = c.get("/attestation/verifier", params={"identifiant": "QPV-0000-0000-0000-0000-0000"})
    assert r.status_code == 400 and "collez la question" in unescape(r.text)
