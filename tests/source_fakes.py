"""A fake network API for connector tests: recorded payloads served through `httpx.MockTransport`, no network.

Routes are (method, path); each holds a queue of answers (a response, a callable, or an exception to
raise) and repeats its last answer once the queue is down to one. Every request is recorded, and
`SourceHttp`'s sleeps are recorded instead of slept, so retries and backoff cost no test time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from monitors.sources.http import SourceHttp

FIXTURES = Path(__file__).parent / "fixtures"
Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def fixture(network: str, name: str) -> Any:
    """A recorded JSON payload from tests/fixtures/<network>/<name>.json."""
    return json.loads((FIXTURES / network / f"{name}.json").read_text(encoding="utf-8"))


def fixture_bytes(network: str, name: str) -> bytes:
    return (FIXTURES / network / name).read_bytes()


def ok(payload: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=payload, headers=headers)


def raw(body: bytes | str, *, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=body.encode() if isinstance(body, str) else body, headers=headers)


class FakeApi:
    """One network's API, as far as a test needs it."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self.routes: dict[tuple[str, str], list[Answer]] = {}
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self._clients: list[httpx.Client] = []

    def on(self, method: str, path: str, *answers: Answer) -> FakeApi:
        """Answer `method path` with `answers` in turn, then the last one forever."""
        self.routes[(method.upper(), path)] = list(answers)
        return self

    def calls(self, path: str, method: str | None = None) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path and (method is None or r.method == method)]

    def params(self, path: str) -> list[dict[str, list[str]]]:
        """The query parameters of each request to `path`, in order."""
        out = []
        for request in self.calls(path):
            params: dict[str, list[str]] = {}
            for key, value in request.url.params.multi_items():
                params.setdefault(key, []).append(value)
            out.append(params)
        return out

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get((request.method, request.url.path))
        if not queue:
            return httpx.Response(404, json={"error": "NotFound", "message": f"no route {request.url.path}"})
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer

    def http(self, *, source: str = "test-source", network: str = "x", **kwargs: Any) -> SourceHttp:
        client = httpx.Client(transport=httpx.MockTransport(self.handle))
        self._clients.append(client)
        return SourceHttp(client, source=source, network=network, sleep=self.sleeps.append,
                          clock=lambda: self.now.timestamp(), rng=lambda: 0.5, **kwargs)

    def close(self) -> None:
        for client in self._clients:
            client.close()
