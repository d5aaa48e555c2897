"""`ssl` bound lazily in a batch process (batch/lazy_ssl.py): importing pyproj no longer loads OpenSSL, and
anything that really uses `ssl` gets the real module. Each check runs in a fresh interpreter: this test process
has imported `ssl` long ago."""
import subprocess
import sys

import pytest


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_pyproj_and_urllib_loads_no_openssl():
    out = _python("import sys\nfrom eligibility.batch.lazy_ssl import defer_ssl\nprint(defer_ssl())\n"
                  "import pyproj, urllib.request, http.client, ssl\n"
                  "print('_ssl' in sys.modules, hasattr(http.client, 'HTTPSConnection'), urllib.request._have_ssl)")
    assert out.splitlines() == ["True", "False True True"]


@pytest.mark.parametrize("use", ["ssl.create_default_context().verify_mode == ssl.CERT_REQUIRED",
                                 "__import__('ssl').SSLContext.__name__ == 'SSLContext'",
                                 "hasattr(ssl, 'OPENSSL_VERSION') and ssl.OPENSSL_VERSION.startswith('OpenSSL')"])
def test_the_first_real_use_gets_the_real_module(use):
    out = _python("import sys\nfrom eligibility.batch.lazy_ssl import defer_ssl\ndefer_ssl()\nimport ssl\n"
                  f"print({use}, '_ssl' in sys.modules, type(sys.modules['ssl']).__name__, sys.modules['ssl'] is ssl)")
    assert out == "True True module True"


def test_a_from_import_loads_it_too():
    out = _python("from eligibility.batch.lazy_ssl import defer_ssl\ndefer_ssl()\nfrom ssl import SSLContext, PROTOCOL_TLS_CLIENT\n"
                  "print(SSLContext(PROTOCOL_TLS_CLIENT).check_hostname)")
    assert out == "True"


def test_an_ssl_already_imported_is_left_as_it_is():
    out = _python("import ssl, sys\nfrom eligibility.batch.lazy_ssl import defer_ssl\nprint(defer_ssl(), sys.modules['ssl'] is ssl)")
    assert out == "False True"
