"""HTTP mode: an ASGI app serving Slack's request URL, health checks and metrics, run by uvicorn.

- `/livez`: the process answers (liveness: restart it when this fails).
- `/readyz` (also `/healthz?ready=1`): the database answers and the sources are not all failing (readiness: send
  it traffic); 503 with the reason as JSON otherwise.
- `/healthz`: the database answers (the Docker HEALTHCHECK's probe, kept as it was).
- `/metrics`: Prometheus text format (`bot.metrics`).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any

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


def readiness(engine: Engine, sources: Callable[[], Sequence[str]] = list) -> dict[str, Any]:
    """Whether this replica can do its work: {"ready": bool, "database": bool, "reason": ..., "sources": {...}}.

    `sources` names the polled sources in force; the replica is not ready when every one of them is failing or
    paused (one failing network is an alert, not a reason to stop serving Slack).
    """
    from sqlmodel import Session, col, select

    from bot import models

    names = list(sources())
    try:
        with Session(engine) as session:
            session.exec(select(1)).one()
            rows = session.exec(select(models.SourceCursor.source, models.SourceCursor.consecutive_failures,
                                       models.SourceCursor.paused_reason)
                                .where(col(models.SourceCursor.source).in_(names))).all() if names else []
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        logger.warning("readiness: database unreachable (%s)", type(exc).__name__)
        return {"ready": False, "database": False, "reason": "database unreachable"}
    states = {name: "new" for name in names}
    for name, failures, paused in rows:
        states[name] = "paused" if paused else "failing" if failures else "ok"
    if names and all(state in ("failing", "paused") for state in states.values()):
        return {"ready": False, "database": True, "reason": "every source is failing", "sources": states}
    return {"ready": True, "database": True, "sources": states}


def build_asgi(app: App | None, engine: Engine, *, extra_routes: Sequence[BaseRoute] = (),
               sources: Callable[[], Sequence[str]] = list, metrics: Any = None) -> Starlette:
    """Routes: POST /slack/events (commands, actions, events), the health checks, /metrics when `metrics` is given
    (a `bot.metrics.VeilleMetrics`), and `extra_routes` (webhooks)."""

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
        except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
            # The exception's type only: a driver's message can carry the connection string and its password.
            logger.warning("health check: database unreachable (%s)", type(exc).__name__)
            return False

    async def readyz(request: Request) -> Response:
        state = await run_in_threadpool(readiness, engine, sources)
        body = {"status": "ok" if state.pop("ready") else "error", **state}
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)

    async def healthz(request: Request) -> Response:
        if request.query_params.get("ready") in ("1", "true", "yes"):
            return await readyz(request)
        ok = await run_in_threadpool(_database_ok)
        return JSONResponse({"status": "ok" if ok else "error", "database": ok}, status_code=200 if ok else 503)

    async def livez(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics_text(request: Request) -> Response:
        from bot.metrics import CONTENT_TYPE

        body = await run_in_threadpool(metrics.render)
        return Response(body, media_type=CONTENT_TYPE)

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"]), Route("/livez", livez, methods=["GET"]),
                               Route("/readyz", readyz, methods=["GET"])]
    if metrics is not None:
        routes.append(Route("/metrics", metrics_text, methods=["GET"]))
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
