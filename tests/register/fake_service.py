"""An app for `uvicorn --factory --workers N`: the real web layer and register, the web tests' FakeEngine
(each worker starts in a second instead of loading the geography). QPV_REGISTER_URL names the register."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def make():
    from eligibility.web import create_app
    from eligibility.web.settings import WebSettings

    spec = importlib.util.spec_from_file_location("qpv_web_fakes", Path(__file__).parents[1] / "web" / "fakes.py")
    fakes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fakes)
    return create_app(WebSettings(record=True, register_url=os.environ["QPV_REGISTER_URL"]), engine=fakes.FakeEngine())
