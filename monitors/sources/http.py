"""HTTP for connectors: one place that retries politely and turns HTTP failures into typed `SourceError`s.

- 429: honour `Retry-After` (seconds or HTTP date) or the network's reset headers
  (`x-rate-limit-reset` epoch seconds on X, `x-ratelimit-reset` seconds on Reddit,
  `ratelimit-reset` on Bluesky/Mastodon); a short wait is slept through, a long one raises
  `RateLimited` so the scheduler skips polls until then.
- 5xx, timeouts and transport errors: exponential backoff with full jitter, then `SourceUnavailable`.
- 401/403: `AuthFailed` at once (retrying cannot fix credentials).
- A body that is not JSON: `PayloadInvalid`.
- `inspecting(hook)`: a view whose hook sees every response before the status is mapped, so a connector can
  read an error body first (Meta's throttling comes back as 400 with an error code, YouTube's exhausted
  quota as 403, a LinkedIn post a member keeps private as 403 on that one post) and raise its own `SourceError`.
- `without_retries()`: a view that sends once (a POST that timed out may have been applied).
Secrets never appear in error messages: only the method, the URL path and the status are quoted.
"""

from __future__ import annotations

import copy
import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from monitors.sources.base import AuthFailed, PayloadInvalid, RateLimited, RequestRejected, SourceUnavailable

RESET_HEADERS_EPOCH = ("x-rate-limit-reset", "ratelimit-reset-epoch")
RESET_HEADERS_SECONDS = ("x-ratelimit-reset", "ratelimit-reset")


@dataclass(frozen=True, slots=True)
class HttpResult:
    status: int
    data: Any  # parsed JSON (or text for `request_text`); None on 304 Not Modified
    headers: httpx.Headers


def retry_after_seconds(response: httpx.Response, *, now: float) -> float | None:
    """How long the network asked us to wait, from the standard or the network's own headers."""
    value = response.headers.get("retry-after")
    if value:
        if value.strip().isdigit():
            return float(value)
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            parsed = None  # a header we cannot read: fall back to the reset headers, then to backoff
        if parsed is not None:
            return max(0.0, parsed.timestamp() - now)
    for name in RESET_HEADERS_EPOCH:
        raw = response.headers.get(name)
        if raw and raw.replace(".", "", 1).isdigit():
            return max(0.0, float(raw) - now)
    for name in RESET_HEADERS_SECONDS:
        raw = response.headers.get(name)
        if raw and raw.replace(".", "", 1).isdigit():
            seconds = float(raw)
            # Some networks send an epoch in these too: anything past 2001 is a date, not a delay.
            return max(0.0, seconds - now) if seconds > 1_000_000_000 else seconds
        if raw:
            # Mastodon sends an ISO-8601 time here (https://docs.joinmastodon.org/api/rate-limits/).
            try:
                reset = datetime.fromisoformat(raw.strip())
            except ValueError:
                continue
            if reset.tzinfo is not None:
                return max(0.0, reset.timestamp() - now)
    return None


class SourceHttp:
    """An httpx client wrapper for one source. Inject `client` (tests use `httpx.MockTransport`)."""

    def __init__(self, client: httpx.Client, *, source: str, network: str, max_retries: int = 3,
                 base_delay: float = 1.0, max_delay: float = 30.0, max_inline_wait: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 rng: Callable[[], float] = random.random,
                 inspect: Callable[[httpx.Response], None] | None = None) -> None:
        self.client = client
        self.source = source
        self.network = network
        self._max_retries = max_retries
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._max_inline_wait = max_inline_wait
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._inspect = inspect

    def inspecting(self, hook: Callable[[httpx.Response], None]) -> SourceHttp:
        """A view of this client (same transport, retries, sleep and clock) whose `hook` sees every response first.

        The hook may raise a `SourceError` (it then propagates as is) or return to let the usual mapping
        apply. Hooks stack: an existing one runs before `hook`.
        """
        view = copy.copy(self)
        previous = self._inspect
        if previous is None:
            view._inspect = hook
        else:
            def both(response: httpx.Response) -> None:
                previous(response)
                hook(response)
            view._inspect = both
        return view

    def without_retries(self) -> SourceHttp:
        """A view that sends each request once: no retry after a timeout, 5xx or short 429."""
        view = copy.copy(self)
        view._max_retries = 0
        return view

    def _backoff(self, attempt: int) -> float:
        return self._rng() * min(self._max_delay, self._base_delay * 2**attempt)

    def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """Send with retries; return a 2xx or 304 response, or raise a `SourceError`."""
        where = f"{method} {httpx.URL(url).path}"
        last = "no attempt"
        for attempt in range(self._max_retries + 1):
            try:
                response = self.client.request(method, url, params=params, headers=headers, **kwargs)
            except httpx.TimeoutException:
                last = f"{where}: timed out"
            except httpx.TransportError as exc:
                last = f"{where}: {type(exc).__name__}"
            else:
                if self._inspect is not None:
                    self._inspect(response)
                status = response.status_code
                if status < 300 or status == 304:
                    return response
                if status in (401, 403):
                    raise AuthFailed(self.source, f"{where} answered {status}: check the credentials",
                                     status=status)
                if status == 429:
                    wait = retry_after_seconds(response, now=self._clock())
                    wait = self._backoff(attempt) if wait is None else wait
                    if wait > self._max_inline_wait or attempt == self._max_retries:
                        raise RateLimited(self.source, f"{where} rate-limited for {wait:.0f}s", retry_after=wait)
                    self._sleep(wait)
                    continue
                if status < 500:
                    code = _error_code(response)
                    raise RequestRejected(self.source, f"{where} answered {status}" + (f" ({code})" if code else ""),
                                          status=status, code=code)
                last = f"{where} answered {status}"
            if attempt < self._max_retries:
                self._sleep(self._backoff(attempt))
        raise SourceUnavailable(self.source, f"{last} (after {self._max_retries + 1} attempts)")

    def get_json(self, url: str, *, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> HttpResult:
        response = self.request("GET", url, params=params, headers=headers)
        return HttpResult(response.status_code, self._json(response), response.headers)

    def post_json(self, url: str, **kwargs: Any) -> HttpResult:
        response = self.request("POST", url, **kwargs)
        return HttpResult(response.status_code, self._json(response), response.headers)

    def put_json(self, url: str, **kwargs: Any) -> HttpResult:
        response = self.request("PUT", url, **kwargs)
        return HttpResult(response.status_code, self._json(response), response.headers)

    def delete(self, url: str, **kwargs: Any) -> HttpResult:
        response = self.request("DELETE", url, **kwargs)
        return HttpResult(response.status_code, self._json(response), response.headers)

    def get_text(self, url: str, *, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> HttpResult:
        response = self.request("GET", url, params=params, headers=headers)
        return HttpResult(response.status_code, None if response.status_code == 304 else response.text,
                          response.headers)

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code == 304 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise PayloadInvalid(self.network, f"{response.request.method} {response.request.url.path}: "
                                 "the response is not JSON") from None


def _error_code(response: httpx.Response) -> str | None:
    """The network's short error name from a JSON error body (`error`, or X's `title`), if it looks like one."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("error") or body.get("title") if isinstance(body, dict) else None
    # Only a short identifier: a free-text message could echo back what we sent.
    return code if isinstance(code, str) and len(code) <= 60 and code.replace("_", "").replace(" ", "").isalnum() \
        else None
