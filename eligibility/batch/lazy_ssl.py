"""`ssl` loaded on its first use in a batch process, not when pyproj is imported (issue 13: startup).

pyproj imports its grid downloader in every process that projects a point, and with it `urllib.request` and
`http.client`, which import `ssl`: OpenSSL's libraries loaded and initialised, ~20 ms of a batch command's serial
start, for a download the engine never makes (PROJ's network stays off). `defer_ssl()` puts in `sys.modules` a
module that runs `ssl`'s own code the first time one of its names is asked for (`ssl.X`, `from ssl import X`,
`hasattr`): whoever really uses TLS gets the real module; the imports that only bind it load nothing.

The standard library's `importlib.util.LazyLoader` cannot do this before Python 3.12: an `import` statement reads
the module's `__spec__`, which makes it load. Here `__spec__` and the other module attributes are plain values,
and only a name the module does not have yet triggers the load.

Only for one-command processes (the command line): the first use must not come from two threads at once.
"""
from __future__ import annotations

import importlib.util
import sys
import types


class _Deferred(types.ModuleType):
    def __getattr__(self, name: str):  # called only for a name the module does not have: its code has not run
        self.__class__ = types.ModuleType  # from here on an ordinary module, whatever its code does
        self.__spec__.loader.exec_module(self)
        return getattr(self, name)


def defer_ssl() -> bool:
    """True when `ssl` will now load on first use; False when it was already imported (or is not there)."""
    if "ssl" in sys.modules:
        return False
    spec = importlib.util.find_spec("ssl")
    if spec is None or spec.loader is None or importlib.util.find_spec("_ssl") is None:
        return False  # a Python without OpenSSL: `import ssl` must fail where it is written, as it always did
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _Deferred
    sys.modules["ssl"] = module
    return True
