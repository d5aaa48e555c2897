"""`qpv serve` as an operator runs it: loopback by default, access log without coordinates."""
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

QPV = str(Path(sys.executable).with_name("qpv"))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(*extra):
    port = _port()
    proc = subprocess.Popen([QPV, "serve", "--port", str(port), *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600  # start-up builds the indexes when the cache is cold
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(base + "/health").status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("qpv serve n'a pas démarré : " + proc.stderr.read())


def _stop(proc) -> str:
    proc.terminate()
    _, err = proc.communicate(timeout=10)
    return err


@pytest.mark.skipif(shutil.which("ss") is None, reason="ss (iproute2) absent : impossible de lire les sockets à l'écoute")
def test_serve_binds_loopback_and_logs_no_coordinates():
    proc, base = _serve()
    try:
        # the first answer loads the geography: longer than httpx's 5 s default on a shared machine
        r = httpx.get(base + "/api/locate", params={"lon": "1.3536373", "lat": "44.01929", "date": "2025-01-01"},
                      timeout=120)
        assert r.status_code == 200
        bad = httpx.get(base + "/api/locate", params={"lon": "abc", "lat": "44.01929"})
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "lon"
        port = base.rsplit(":", 1)[1]
        listening = [line.split()[3] for line in subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout.splitlines()
                     if line.split()[3].endswith(f":{port}")]
        assert listening == [f"127.0.0.1:{port}"]
    finally:
        err = _stop(proc)
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert {(r["path"], r["status"]) for r in records} >= {("/api/locate", 200), ("/api/locate", 400)}
    assert "1.3536373" not in err and "44.01929" not in err and "Traceback" not in err


def test_serve_logs_coordinates_only_when_asked():
    proc, base = _serve("--log-personal-data")
    try:
        httpx.get(base + "/api/locate", params={"lon": "1.3536373", "lat": "44.01929", "date": "2025-01-01"}, timeout=120)
    finally:
        err = _stop(proc)
    assert "lon=1.3536373" in err
