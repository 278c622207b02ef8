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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import Field, SecretStr

from monitors.sources.base import (
    AuthFailed,
    ConnectorOptions,
    Mention,
    Page,
    PayloadInvalid,
    PollResult,
    RateLimited,
    SourceError,
    parse_iso_time,
)
from monitors.sources.http import SourceHttp
from monitors.sources.kit import EPOCH, is_fatal, json_body

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
# Meta throttles at 100%; stopping at 95% leaves room for replies and hides a person is waiting for.
USAGE_LIMIT = 95.0
# Usage is measured over a rolling hour; without Meta's own estimate, wait a tenth of it.
DEFAULT_THROTTLE_S = 600.0
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009, 80014})
AUTH_CODES = frozenset({102, 190})
USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-ad-account-usage")
MAX_WEBHOOK_CHANGES = 100


class GraphOptions(ConnectorOptions):
    """Options common to the Page and Instagram connectors."""

    access_token: SecretStr = Field(description="a long-lived Page access token")
    app_secret: SecretStr | None = Field(default=None, description="enables appsecret_proof and webhook signatures")
    graph_version: str = Field(default="v23.0", pattern=r"^v\d{1,2}\.\d$")
    max_pages: int = Field(default=10, ge=1, le=100, description="page budget per edge per poll")
    # Insights metric names change between Graph versions (Meta retired several in 2025): opt in by name.
    impressions_metric: str | None = Field(default=None, pattern=r"^[a-z_]{1,64}$")
    # Webhooks (`/hooks/meta/<source>`): the token typed into the app dashboard, checked at subscription.
    verify_token: SecretStr | None = None


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
        self.http = http.inspecting(inspector(source))

    def _params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        merged = dict(params or {})
        if self._proof:
            merged["appsecret_proof"] = self._proof
        return merged

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.http.get_json(f"{self.root}/{path}", params=self._params(params), headers=self._headers).data

    def post_once(self, path: str, data: Mapping[str, Any]) -> Any:
        """POST without transport retries; the caller checks for a prior effect first."""
        return self.http.without_retries().post_json(f"{self.root}/{path}", params=self._params(None), data=dict(data),
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


def read_comment_pages(graph: Graph, path: str, params: Mapping[str, Any], *, max_pages: int,
                       parse: Callable[[Any], Page], result: PollResult, what: str) -> tuple[list[Mention], bool]:
    """Every comment on the pages of `path` (each once, in order), and whether the last page was reached.

    A page that is not JSON or not a Graph list is set aside and ends the read (the object is read again
    next poll); an object Graph refuses (deleted since it was listed, not moderatable) is logged and
    skipped, so it does not stop the others; throttling, token errors and outages are raised.
    """
    seen: dict[str, Mention] = {}
    finished = False
    try:
        for payload, after in graph.pages(path, params, max_pages=max_pages):
            page = parse(payload)
            result.rejected.extend(page.rejected)
            for mention in page.mentions:
                seen.setdefault(mention.external_id, mention)
            finished = after is None
    except PayloadInvalid as exc:
        result.rejected.append(exc)
        finished = False
    except SourceError as exc:
        if is_fatal(exc):
            raise
        finished = False
        logger.warning("source %s: skipped the comments of %s: %s", graph.source, what, exc.message)
    return list(seen.values()), finished


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


def graph_object(network: str, item: Any, *, what: str, text: str, time: str) -> tuple[str, str, datetime]:
    """The id, text and creation time every Graph object a connector reads must have (a missing text is "").

    Raises:
        PayloadInvalid: `item` is not an object, has no string id, a `text` field that is not a string, or
            no valid `time` (each reason names `what` and the id).
    """
    if not isinstance(item, dict):
        raise PayloadInvalid(network, f"{what} is {type(item).__name__}, not an object", item=item)
    ident = item.get("id")
    if not isinstance(ident, str) or not ident:
        raise PayloadInvalid(network, f"{what} has no string id", item=item)
    value = item.get(text, "")
    if not isinstance(value, str):
        raise PayloadInvalid(network, f"{what} {ident} {text} is not a string", item=item)
    return ident, value, parse_iso_time(network, item.get(time), item, what=f"{what} {ident} {time}")


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


@dataclass(frozen=True, slots=True)
class WebhookChange:
    """One `entry[].changes[]` of a Meta webhook delivery that a connector acts on."""

    field: str
    value: dict[str, Any]
    account_id: str | None  # the entry's `id`: the Page or Instagram account the change concerns
    time: datetime | None


def webhook_changes(network: str, payload: Any, *, object_name: str,
                    fields: frozenset[str]) -> tuple[list[WebhookChange], list[PayloadInvalid]]:
    """Split a delivery (`{"object": <object_name>, "entry": [{"id", "time", "changes": [...]}]}`) into changes.

    Only `fields` are kept; other fields are ignored (not rejected). At most `MAX_WEBHOOK_CHANGES` are read.

    Raises:
        PayloadInvalid: the delivery is not a webhook payload for `object_name` at all.
    """
    if not isinstance(payload, dict) or payload.get("object") != object_name or not isinstance(
            payload.get("entry"), list):
        raise PayloadInvalid(network, f'expected {{"object": "{object_name}", "entry": [...]}}', item=payload)
    changes: list[WebhookChange] = []
    rejected: list[PayloadInvalid] = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("changes"), list):
            rejected.append(PayloadInvalid(network, "webhook entry has no changes list", item=entry))
            continue
        stamp = entry.get("time")
        when = None
        if isinstance(stamp, int) and not isinstance(stamp, bool) and 0 < stamp < 32_503_680_000_000:
            # Meta sends seconds; some deliveries have been seen in milliseconds.
            when = EPOCH + timedelta(seconds=stamp if stamp < 10_000_000_000 else stamp / 1000)
        account = entry.get("id")
        account_id = account if isinstance(account, str) and account else None
        for change in entry["changes"]:
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                rejected.append(PayloadInvalid(network, "webhook change has no value object", item=change))
            elif change.get("field") in fields:
                changes.append(WebhookChange(str(change["field"]), change["value"], account_id, when))
    if len(changes) > MAX_WEBHOOK_CHANGES:
        rejected.append(PayloadInvalid(network, f"delivery has {len(changes)} changes; only the first "
                                       f"{MAX_WEBHOOK_CHANGES} are read", item=None))
        changes = changes[:MAX_WEBHOOK_CHANGES]
    return changes, rejected


def handle_changes(network: str, changes: list[WebhookChange], rejected: list[PayloadInvalid], *, account_id: str,
                   account_option: str, read: Callable[[WebhookChange], Mention | None]) -> PollResult:
    """Turn a delivery's changes into mentions with `read` (None: nothing to ingest), one change at a time.

    A change for another account, one `read` finds malformed, or one the Graph API refuses is set aside
    with its value; throttling, token errors and Graph outages are raised, so the webhook route answers
    503 and Meta delivers the whole delivery again later (the store drops what was already ingested).
    """
    result = PollResult(mentions=[], cursor={}, rejected=list(rejected))
    for change in changes:
        try:
            if change.account_id and change.account_id != account_id:
                raise PayloadInvalid(network, f"delivery is for account {change.account_id[:32]}, "
                                     f"not this source's {account_option}", item=change.value)
            mention = read(change)
            if mention is not None:
                result.mentions.append(mention)
        except PayloadInvalid as exc:
            result.rejected.append(exc)
        except SourceError as exc:
            if is_fatal(exc):
                raise
            result.rejected.append(PayloadInvalid(network, f"mention could not be fetched: {exc.message}",
                                                  item=change.value))
    return result
