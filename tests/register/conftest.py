"""Registers for the tests: a SQLite file per test, and a real PostgreSQL server (Debian's `postgresql`
package, installed by `scripts/setup.sh --with-system-deps`): a temporary cluster made by initdb and run
by pg_ctl on a free port, one per test session (per xdist worker), one fresh database per test.
Never a mock. PostgreSQL tests are skipped only when the server binaries are absent."""
from __future__ import annotations

import glob
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from eligibility.register import Register
from eligibility.register import entries as E
from eligibility.register.recording import evaluate_question, locate_question

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FACTS = json.loads((ROOT / "examples" / "emplois-francs_peyrouat.json").read_text())


def pg_bin() -> Path | None:
    """Folder of initdb/pg_ctl: Debian keeps them in /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    def __init__(self, folder: Path, durable: bool = False):
        self.bin = pg_bin()
        self.durable = durable
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        # initdb refuses to run as root: the cluster is then owned and run by the `postgres` system user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.user = "postgres" if os.geteuid() == 0 else os.environ.get("USER") or "postgres"
        self._names = itertools.count(1)

    def run(self, *args: str) -> None:
        subprocess.run(self.as_user + [str(self.bin / args[0]), *args[1:]], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.folder, "postgres", "postgres")
        self.run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8",
                 *([] if self.durable else ["--no-sync"]))
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=60"
        if not self.durable:  # tests: no need to survive a power cut; the benchmark keeps fsync on
            options += " -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log.txt"), "-w", "start")

    def stop(self) -> None:
        subprocess.run(self.as_user + [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"register_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def postgres():
    if pg_bin() is None:
        pytest.skip("serveur PostgreSQL absent (scripts/setup.sh --with-system-deps installe le paquet postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="qpv-pg-"))
    cluster = PostgresCluster(folder)
    cluster.start()
    yield cluster
    cluster.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(postgres) -> str:
    return postgres.new_database()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'register.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_url(request, tmp_path) -> str:
    """Each test using it runs on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'register.sqlite3'}"
    return request.getfixturevalue("postgres").new_database()


def versions() -> dict:
    from eligibility.web.engine import DomainEngine

    return DomainEngine().versions()


def decision_entry(facts=None, date=None, dispositif="emplois-francs", **kw) -> dict:
    """A real decision of the engine, as the service records it."""
    from eligibility.rules import evaluate

    facts = EXAMPLE_FACTS if facts is None else facts
    answer = evaluate(dispositif, facts, date=date).to_json()
    return E.build(evaluate_question(dispositif, facts, date), answer, versions(), served="answer", channel="cli", **kw)


def locate_entry(lon=1.1039, lat=44.1036, date=None, **kw) -> dict:
    from eligibility.web.engine import DomainEngine

    answer = DomainEngine().locate(lon, lat, date)
    return E.build(locate_question(date, lon=lon, lat=lat), answer, versions(), served="answer", channel="cli", **kw)


def open_register(url: str, keep_facts: bool = False) -> Register:
    return Register(url, keep_facts=keep_facts)
