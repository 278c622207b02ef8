"""What the Facebook and Instagram connectors share: Graph API calls, Meta's rate-limit signals, webhook signatures.

Followed:
- https://developers.facebook.com/docs/graph-api/overview/rate-limiting/ : the `X-App-Usage`
  (and `X-Page-Usage`) header is `{call_count, total_time, total_cputime}` in percent;
  `X-Business-Use-Case-Usage` is `{business-id: [{type, call_count, total_cputime, total_time,
  estimated_time_to_regain_access}]}` (minutes). Once throttled, calls fail with error codes
  4 (app), 17 (user), 32 (Page), 613 (custom) or 80001-80014 (business use case).
- https://developers.facebook.com/docs/graph-api/guides/error-handling : errors come as
  `{"error": {"code", "type", "message", "error_subcode", "fbtrace_id"}}`; code 190 is an invalid
  or expired access token, 102 a session problem.
- https://developers.facebook.com/docs/graph-api/results/ : cursor paging (`paging.cursors.after`
  while `paging.next` exists). We never follow `paging.next` itself: it repeats the access token in
  its query string and could point anywhere; we send `after` to our own base URL.
- https://developers.facebook.com/docs/graph-api/securing-requests : `appsecret_proof` is the
  HMAC-SHA256 of the access token keyed with the app secret (required when the app enables
  "Require App Secret").
- https://developers.facebook.com/docs/graph-api/webhooks/getting-started : the verification request
  (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`) and `X-Hub-Signature-256`
  (`sha256=` + HMAC-SHA256 of the raw body with the app secret).

The access token travels in the `Authorization: Bearer` header, never in a URL we build.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
from pydantic import Field, SecretStr

from monitors.sources.base import AuthFailed, ConnectorOptions, PayloadInvalid, RateLimited
from monitors.sources.http import SourceHttp
from monitors.sources.kit import guarded, json_body, once

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
# Meta throttles at 100%; stopping at 95% leaves room for replies and hides a person is waiting for.
USAGE_LIMIT = 95.0
# Usage is measured over a rolling hour; without Meta's own estimate, wait a tenth of it.
DEFAULT_THROTTLE_S = 600.0
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009, 80014})
AUTH_CODES = frozenset({102, 190})
USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-ad-account-usage")


class GraphOptions(ConnectorOptions):
    """Options common to the Page and Instagram connectors."""

    access_token: SecretStr = Field(description="a long-lived Page access token")
    app_secret: SecretStr | None = Field(default=None, description="enables appsecret_proof and webhook signatures")
    graph_version: str = Field(default="v23.0", pattern=r"^v\d{1,2}\.\d$")
    max_pages: int = Field(default=10, ge=1, le=100, description="page budget per edge per poll")
    # Insights metric names change between Graph versions (Meta retired several in 2025): opt in by name.
    impressions_metric: str | None = Field(default=None, pattern=r"^[a-z_]{1,64}$")


def usage(headers: httpx.Headers) -> tuple[float, float | None]:
    """The highest usage percent in Meta's usage headers, and Meta's estimate of when it eases (seconds)."""
    highest, regain = 0.0, None
    for name in USAGE_HEADERS:
        highest = max(highest, _max_percent(_json_header(headers.get(name))))
    buc = _json_header(headers.get("x-business-use-case-usage"))
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else [entries]:
                highest = max(highest, _max_percent(entry))
                minutes = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
                if isinstance(minutes, int | float) and not isinstance(minutes, bool) and 0 < minutes < 10_000:
                    regain = max(regain or 0.0, float(minutes) * 60)
    return highest, regain


def _json_header(value: str | None) -> Any:
    if not value or len(value) > 10_000:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _max_percent(entry: Any) -> float:
    if not isinstance(entry, dict):
        return 0.0
    values = [entry.get(k) for k in ("call_count", "total_time", "total_cputime", "acc_id_util_pct")]
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return max([n for n in numbers if n == n] or [0.0])  # n == n drops NaN


def graph_error(body: Any) -> tuple[int | None, str]:
    """The Graph error code and message of an error body (message cut short: it may quote input)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code")
    message = error.get("message")
    return (code if isinstance(code, int) and not isinstance(code, bool) else None,
            message[:200] if isinstance(message, str) else "")


def inspector(source: str) -> Callable[[httpx.Response], None]:
    """A response check that turns Meta's throttling and token errors into typed `SourceError`s."""

    def inspect(response: httpx.Response) -> None:
        where = f"{response.request.method} {response.request.url.path}"
        percent, regain = usage(response.headers)
        if response.status_code >= 400:
            code, message = graph_error(json_body(response))
            if code in THROTTLE_CODES:
                raise RateLimited(source, f"{where}: Meta throttled the app (error {code})",
                                  retry_after=regain or DEFAULT_THROTTLE_S)
            if code in AUTH_CODES:
                raise AuthFailed(source, f"{where}: the access token was refused (error {code}): {message}",
                                 status=response.status_code)
        if percent >= USAGE_LIMIT:
            # Stop before Meta blocks us: the cursor is not advanced, so the next poll re-reads this.
            raise RateLimited(source, f"{where}: Meta usage at {percent:.0f}%; pausing before the limit",
                              retry_after=regain or DEFAULT_THROTTLE_S)

    return inspect


class Graph:
    """Graph API calls for one source: base URL, version, token, proof, and Meta's error mapping."""

    def __init__(self, source: str, network: str, base_url: str, options: GraphOptions, http: SourceHttp) -> None:
        self.source = source
        self.network = network
        self.root = f"{base_url.rstrip('/')}/{options.graph_version}"
        token = options.access_token.get_secret_value()
        self._headers = {"Authorization": f"Bearer {token}"}
        self._proof = (hmac.new(options.app_secret.get_secret_value().encode(), token.encode(), hashlib.sha256)
                       .hexdigest() if options.app_secret else None)
        self.http = guarded(http, inspector(source))

    def _params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        merged = dict(params or {})
        if self._proof:
            merged["appsecret_proof"] = self._proof
        return merged

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.http.get_json(f"{self.root}/{path}", params=self._params(params), headers=self._headers).data

    def post_once(self, path: str, data: Mapping[str, Any]) -> Any:
        """POST without transport retries (see `kit.once`); the caller checks for a prior effect first."""
        return once(self.http).post_json(f"{self.root}/{path}", params=self._params(None), data=dict(data),
                                         headers=self._headers).data

    def pages(self, path: str, params: Mapping[str, Any], *, max_pages: int,
              after: str | None = None) -> Iterator[tuple[Any, str | None]]:
        """Yield (page, after-cursor of the next page or None) for up to `max_pages` pages."""
        for _ in range(max_pages):
            query = dict(params)
            if after:
                query["after"] = after
            page = self.get(path, query)
            after = next_after(page)
            yield page, after
            if not after:
                return


def next_after(page: Any) -> str | None:
    """`paging.cursors.after` while `paging.next` exists (the last page has no `next`)."""
    paging = page.get("paging") if isinstance(page, dict) else None
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    return after if isinstance(after, str) and after else None


def data_list(network: str, page: Any) -> list[Any]:
    """A Graph list page's `data`, or `PayloadInvalid` when the page is not one."""
    if not isinstance(page, dict):
        raise PayloadInvalid(network, f"page is {type(page).__name__}, not an object", item=page)
    items = page.get("data")
    if not isinstance(items, list):
        raise PayloadInvalid(network, "data is missing or not a list", item=page)
    return items


def summary_count(value: Any) -> int | None:
    """`total_count` of an edge requested with `.summary(total_count).limit(0)`."""
    summary = value.get("summary") if isinstance(value, dict) else None
    count = summary.get("total_count") if isinstance(summary, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None


def insight_value(value: Any, metric: str | None) -> int | None:
    """The lifetime value of `metric` in an `insights` edge, when it is a plain number."""
    if not metric or not isinstance(value, dict) or not isinstance(value.get("data"), list):
        return None
    for entry in value["data"]:
        if isinstance(entry, dict) and entry.get("name") == metric and isinstance(entry.get("values"), list):
            for point in entry["values"]:
                number = point.get("value") if isinstance(point, dict) else None
                if isinstance(number, int) and not isinstance(number, bool):
                    return number
    return None


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Check `X-Hub-Signature-256: sha256=<hex>` against the raw body, in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len("sha256="):].strip().lower().encode())
