"""HTTP mode: an ASGI app serving Slack's request URL and a health check, run by uvicorn."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Sequence

import uvicorn
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

logger = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # Slack payloads are far smaller; refuse anything bigger before parsing it


def build_asgi(app: App | None, engine: Engine, *, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """Routes: POST /slack/events (commands, actions, events), GET /healthz, and `extra_routes` (webhooks)."""

    async def slack_events(request: Request) -> Response:
        assert app is not None
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response("payload too large", status_code=413)
        # Bolt's dispatch is synchronous (database work inside listeners): keep it off the event loop.
        bolt_response = await run_in_threadpool(app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    def _database_ok() -> bool:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            logger.exception("health check: database unreachable")
            return False

    async def healthz(request: Request) -> Response:
        ok = await run_in_threadpool(_database_ok)
        return JSONResponse({"status": "ok" if ok else "error", "database": ok}, status_code=200 if ok else 503)

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    if app is not None:
        routes.append(Route("/slack/events", slack_events, methods=["POST"]))
    routes.extend(extra_routes)
    return Starlette(routes=routes)


class HttpServer:
    """uvicorn in a background thread on a socket we bind ourselves (port 0 picks a free port)."""

    def __init__(self, asgi: Starlette, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        config = uvicorn.Config(asgi, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="veille-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        waited = 0.0
        while not self._server.started and waited < timeout:
            threading.Event().wait(0.02)
            waited += 0.02
        if not self._server.started:
            raise RuntimeError("HTTP server did not start")

    def serve_forever(self) -> None:
        """Run in the calling thread until interrupted (`veille run`)."""
        self._server.run(sockets=[self._sock])

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(10)
        self._sock.close()
