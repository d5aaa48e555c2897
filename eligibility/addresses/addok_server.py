"""Run a real addok server on loopback, loaded with the same address index as the local geocoder.

Used by the tests (end-to-end check of the client) and by the benchmark (addok is the peer). Needs the
`addok`, `addok-fr`, `addok-france`, `addok-csv` packages (dev extra) and Debian's `redis-server`.
The documents are one per street, with its house numbers, as in the BAN's addok export.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from .communes import load_communes
from .index import AddressIndex

ADDOK_CONFIG = '''
QUERY_PROCESSORS_PYPATHS = [
    "addok.helpers.text.check_query_length",
    "addok_france.extract_address",
    "addok_france.clean_query",
    "addok_france.remove_leading_zeros",
]
SEARCH_RESULT_PROCESSORS_PYPATHS = [
    "addok.helpers.results.match_housenumber",
    "addok_france.make_labels",
    "addok.helpers.results.score_by_importance",
    "addok.helpers.results.score_by_autocomplete_distance",
    "addok.helpers.results.score_by_ngram_distance",
    "addok.helpers.results.score_by_geo_distance",
    "addok.helpers.results.adjust_scores",
]
PROCESSORS_PYPATHS = [
    "addok.helpers.text.tokenize",
    "addok.helpers.text.normalize",
    "addok_france.glue_ordinal",
    "addok_france.fold_ordinal",
    "addok_france.flag_housenumber",
    "addok.helpers.text.synonymize",
    "addok_fr.phonemicize",
]
BATCH_WORKERS = 1
LOG_DIR = {log_dir!r}
'''


def addok_documents(index: AddressIndex):
    """One addok document per street (with its house numbers) and one per commune, as dicts."""
    names = load_communes().names
    pts = index.points
    numbered = pts[pts["numero"] >= 0]
    hn_label = numbered["numero"].astype(str) + (" " + numbered["indice"].str.lower()).where(numbered["indice"] != "", "")
    by_street = {}
    for sid, label, lat, lon in zip(numbered["street_id"], hn_label, numbered["lat"], numbered["lon"]):
        by_street.setdefault(int(sid), {})[label] = {"lat": float(lat), "lon": float(lon)}
    for s in index.streets.itertuples(index=False):
        yield {"id": f"s{s.street_id}", "type": s.kind, "name": s.voie, "postcode": s.postcode,
               "citycode": s.insee, "city": names.get(s.insee, ""), "lat": float(s.lat), "lon": float(s.lon),
               "importance": 0.5, "housenumbers": by_street.get(int(s.street_id), {})}
    # Communes at the same point as the local geocoder's municipality answers.
    postcode = index.streets.drop_duplicates("insee").set_index("insee")["postcode"]
    for insee, m in index.municipalities().iterrows():
        yield {"id": f"m{insee}", "type": "municipality", "name": names.get(insee, insee),
               "postcode": postcode.get(insee, ""), "citycode": insee, "lat": float(m["lat"]),
               "lon": float(m["lon"]), "importance": 0.8}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AddokServer:
    """`with AddokServer(index) as url:` a loaded addok answering on http://127.0.0.1:PORT."""

    def __init__(self, index: AddressIndex):
        self.index = index
        self.procs: list[subprocess.Popen] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="qpv-addok-"))

    @staticmethod
    def available() -> str | None:
        """None if a server can be started here, else the reason why not."""
        if shutil.which("redis-server") is None:
            return "redis-server absent (bash scripts/setup.sh --with-system-deps l'installe)"
        try:
            import addok  # noqa: F401
            import addok_csv  # noqa: F401
            import addok_france  # noqa: F401
            import addok_fr  # noqa: F401
        except ImportError as exc:
            return f"paquet addok manquant ({exc.name}) : pip install -e '.[dev]'"
        return None

    def __enter__(self) -> str:
        try:
            return self._start()
        except BaseException:
            self.__exit__()  # never leave a Redis or an addok behind
            raise

    def _start(self) -> str:
        redis_port, http_port = _free_port(), _free_port()
        self.procs.append(subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        conf = self.tmp / "addok.conf"
        conf.write_text(ADDOK_CONFIG.format(log_dir=str(self.tmp)))
        env = {**os.environ, "ADDOK_CONFIG_MODULE": str(conf), "REDIS_HOST": "127.0.0.1",
               "REDIS_PORT": str(redis_port)}
        self._wait_redis(redis_port)
        docs = self.tmp / "docs.ndjson"
        with docs.open("w", encoding="utf-8") as f:
            for d in addok_documents(self.index):
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
        addok = [sys.executable, "-c", "from addok.bin import main; main()"]
        for args in (["batch", str(docs)], ["ngrams"]):
            subprocess.run(addok + args, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.procs.append(subprocess.Popen(addok + ["serve", "--host", "127.0.0.1", "--port", str(http_port)],
                                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        url = f"http://127.0.0.1:{http_port}"
        for _ in range(600):  # up to 30 s: a loaded CI machine starts Python slowly
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("le serveur addok n'a pas démarré en 30 s")

    def _wait_redis(self, port: int) -> None:
        for _ in range(600):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server n'a pas démarré")

    def __exit__(self, *exc) -> None:
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs.clear()
        shutil.rmtree(self.tmp, ignore_errors=True)
