"""One ASGI middleware for what every request gets: a body size limit, a time limit, an access log.

It wraps the whole FastAPI app, so it sees bytes as they arrive: a body over the limit is refused with
413 before it is read in full, whatever Content-Length claimed. The access log is one JSON line per
request, without the query string (coordinates, addresses) unless the operator asked for it.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time

from .problems import WebError, problem_bytes
from .settings import WebSettings

access_log = logging.getLogger("qpv.web.access")

BATCH_PREFIX = "/api/batch/"


class Guard:
    def __init__(self, app, settings: WebSettings):
        self.app = app
        self.settings = settings

    def _limits(self, path: str) -> tuple[int, float]:
        s = self.settings
        if path.startswith(BATCH_PREFIX):
            return s.max_upload_bytes, s.batch_timeout_s
        return s.max_body_bytes, s.request_timeout_s

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit, timeout = self._limits(scope["path"])
        started = time.monotonic()
        state = {"status": None, "bytes": 0, "received": 0}

        async def send_logged(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        async def answer(status: int, msg: str, field: str | None = None):
            body = problem_bytes(status, msg, field)
            await send_logged({"type": "http.response.start", "status": status,
                               "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send_logged({"type": "http.response.body", "body": body})

        too_big = f"requête trop volumineuse : limite {limit} octets"
        declared = dict(scope.get("headers") or []).get(b"content-length")
        try:
            if declared is not None and int(declared) > limit:
                await answer(413, too_big, "body")
                return self._log(scope, state, started)
        except ValueError:
            await answer(400, "en-tête Content-Length invalide", "content-length")
            return self._log(scope, state, started)

        async def limited_receive():
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    # Raised inside the route while it reads the body: FastAPI turns it into a JSON 413.
                    state["over"] = True
                    raise WebError(413, too_big, "body")
            return message

        async def send_app(message):
            # A body over the limit (chunked: no Content-Length to refuse it up front) is a 413, whatever the
            # app made of the error: the multipart parser turns it into an English « 400 error parsing the body ».
            if not state.get("over"):
                return await send_logged(message)
            if message["type"] == "http.response.start" and state["status"] is None:
                await answer(413, too_big, "body")

        try:
            await asyncio.wait_for(self.app(scope, limited_receive, send_app), timeout)
        except asyncio.TimeoutError:
            if state["status"] is None:
                await answer(504, f"délai dépassé : la requête a pris plus de {timeout:g} s")
            else:
                state["status"] = f"{state['status']}+interrompue"  # a stream cut by the time limit
        except BaseException:
            state["status"] = state["status"] or 500  # FastAPI's outer error handler answers it
            raise
        finally:
            self._log(scope, state, started)

    def _log(self, scope, state, started) -> None:
        record = {
            "method": scope.get("method"),
            "path": scope.get("path"),
            "status": state["status"],
            "bytes_in": state["received"],
            "bytes_out": state["bytes"],
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        }
        if self.settings.log_personal_data:
            record["query"] = (scope.get("query_string") or b"").decode("latin-1")
        access_log.info(json.dumps(record, ensure_ascii=False))
