"""A scripted network API for connector tests: canned responses per (method, path) through httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from monitors.sources.http import SourceHttp

FIXTURES = Path(__file__).parent / "fixtures"
Responder = httpx.Response | Callable[[httpx.Request], httpx.Response] | Exception | dict[str, Any] | list[Any]


def load(network: str, name: str) -> Any:
    return json.loads((FIXTURES / network / f"{name}.json").read_text(encoding="utf-8"))


class FakeApi:
    """Answers each (method, path) with its scripted responses in turn (the last one repeats); records requests.

    A responder is a dict or list (sent as 200 JSON), an `httpx.Response`, an exception to raise
    (e.g. `httpx.ReadTimeout`), or a function of the request.
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Responder]] = {}
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def on(self, method: str, path: str, *responses: Responder) -> FakeApi:
        self.routes[(method, path)] = list(responses)
        return self

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get((request.method, request.url.path))
        if not queue:
            return httpx.Response(404, json={"error": {"message": f"no fake for {request.method} {request.url.path}"}})
        responder = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(responder, Exception):
            raise responder
        if isinstance(responder, httpx.Response):
            return responder
        if callable(responder):
            return responder(request)
        return httpx.Response(200, json=responder)

    def http(self, *, source: str = "src", network: str = "facebook", max_retries: int = 3) -> SourceHttp:
        client = httpx.Client(transport=httpx.MockTransport(self.handler))
        return SourceHttp(client, source=source, network=network, max_retries=max_retries,
                          sleep=self.sleeps.append, rng=lambda: 0.5, clock=lambda: 1_800_000_000.0)

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


def form(request: httpx.Request) -> dict[str, str]:
    """The url-encoded form body of a request."""
    from urllib.parse import parse_qsl

    return dict(parse_qsl(request.content.decode()))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)
