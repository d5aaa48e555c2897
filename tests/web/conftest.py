import pytest
from fastapi.testclient import TestClient

from eligibility.web import create_app
from eligibility.web.settings import WebSettings

from .fakes import FakeEngine


@pytest.fixture
def engine():
    return FakeEngine()


@pytest.fixture
def make_client(engine):
    def make(engine=engine, **settings):
        return TestClient(create_app(WebSettings(**settings), engine=engine), raise_server_exceptions=False)

    return make


@pytest.fixture
def client(make_client):
    return make_client()
