"""Inbound webhooks: mentions pushed to the bot instead of polled.

Two kinds of route, both mounted on the bot's HTTP server (`bot.http.build_asgi(extra_routes=...)`):

`POST /hooks/{source}`: other tools (Zapier, Make, n8n, a brand's own scripts) push mentions to a
source of `type: webhook`. The body is one JSON object, or a list of at most 100, of this shape
(the full reference, with signing examples, is `docs/webhooks.md`):

    {"id": "abc-123",                      required: the item's id on its network (1-256 chars)
     "network": "forum",                   optional: [a-z0-9_-], default the source's `network` option
     "kind": "mention",                    optional: mention | comment | reply | keyword | dm
     "author": {"handle": "jane", "name": "Jane D.", "followers": 120},   handle required
     "text": "Love the new lamp",          required (may be empty; at most 40,000 characters)
     "created_at": "2026-11-20T09:15:02Z", required: ISO 8601 with a UTC offset
     "url": "https://...", "lang": "en", "parent_id": "...", "conversation_id": "..."}   optional

It is signed like Slack and Stripe sign theirs: `X-Veille-Timestamp: <unix seconds>` and
`X-Veille-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + raw body, keyed with the source's
secret>`. The timestamp must be within 5 minutes of the bot's clock, so a captured request cannot be
replayed later; within those minutes a replay only repeats ids that the store deduplicates by
(network, id) like every other source. Answers: 202 with `{"stored", "duplicates", "rejected",
"errors"}`; 401 bad or stale signature; 400 body not JSON; 422 a body that is JSON but not the shape
above (naming the field); 413 body over 256 KB; 404 no webhook source by that name. In a list, a
malformed item is set aside (`rejected`, reason in `errors`) and the others are stored; if no item
is valid, the answer is 422 and nothing is stored.

`GET|POST /hooks/meta/{source}`: Meta's webhooks for an Instagram source (the `mentions` field is the
only way Instagram delivers @mentions) or a Facebook Page source (the Page field `mention`: the Page
tagged in comments and posts outside it). GET answers Meta's verification request: `hub.challenge` is
echoed only when `hub.mode=subscribe` and `hub.verify_token` equals the source's `verify_token`.
POST checks `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app secret), then the
connector fetches each mention's details from the Graph API. A delivery that fails for a reason
that passes (throttling, Graph down) is answered 503, so Meta delivers it again.
Followed: https://developers.facebook.com/docs/graph-api/webhooks/getting-started and
https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#mention.

The routes do no database work: they call the injected `ingest(source_name, PollResult)`, which the
runtime wires to `bot.pipeline` (`make_ingest`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from monitors.sources.base import (
    ConnectorOptions,
    Mention,
    PayloadInvalid,
    PollResult,
    RateLimited,
    SourceError,
)
from monitors.sources.meta import signature_valid

logger = logging.getLogger(__name__)

MAX_BODY = 256_000
MAX_META_BODY = 1_000_000
MAX_ITEMS = 100
TOLERANCE_S = 300
NETWORK_NAME = r"^[a-z0-9][a-z0-9_-]{0,31}$"

Counts = Mapping[str, int]
Ingest = Callable[[str, PollResult], Any]  # returns counts: a mapping or an object with stored/duplicates/rejected


class WebhookOptions(ConnectorOptions):
    """Options of a `type: webhook` source."""

    secret: SecretStr = Field(description="shared HMAC secret, as ${VAR}")
    network: str = Field(default="web", pattern=NETWORK_NAME)

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("the webhook secret must be at least 16 characters; generate one with "
                             "`python -c 'import secrets; print(secrets.token_hex(32))'`")
        return value


class _Author(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handle: str = Field(min_length=1, max_length=256)
    name: str | None = Field(default=None, max_length=256)
    followers: int | None = Field(default=None, ge=0, le=10_000_000_000, strict=True)


class WebhookItem(BaseModel):
    """One pushed mention: the documented JSON shape."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=256)
    network: str | None = Field(default=None, pattern=NETWORK_NAME)
    kind: Literal["mention", "comment", "reply", "keyword", "dm"] = "mention"
    author: _Author
    text: str = Field(max_length=40_000)
    created_at: datetime
    url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://\S+$")
    lang: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
    parent_id: str | None = Field(default=None, min_length=1, max_length=256)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=256)

    @field_validator("created_at", mode="before")
    @classmethod
    def _iso_with_offset(cls, value: Any) -> Any:
        # pydantic would also take a unix number; one documented form keeps senders' bugs visible.
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 string like 2026-11-20T09:15:02Z")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO 8601 time like 2026-11-20T09:15:02Z") from None
        if parsed.tzinfo is None:
            raise ValueError("needs a UTC offset (Z or +01:00)")
        return parsed


def _describe(error: Mapping[str, Any], prefix: str) -> str:
    where = ".".join(str(part) for part in error["loc"])
    # pydantic's message, never its `input`: the input can be huge or hostile.
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field (see docs/webhooks.md for the accepted ones)"
    return f"{prefix}{where}: {message}" if where else f"{prefix}{message}"


def parse_items(payload: Any, *, network: str) -> tuple[list[Mention], list[tuple[int, PayloadInvalid]]]:
    """Validate a pushed body into mentions; return the malformed items with their index and reason.

    Raises:
        PayloadInvalid: the body is neither an object nor a non-empty list of at most 100 items.
    """
    if isinstance(payload, dict):
        items, single = [payload], True
    elif isinstance(payload, list):
        items, single = payload, False
        if not items:
            raise PayloadInvalid(network, "the list is empty; send at least one item")
        if len(items) > MAX_ITEMS:
            raise PayloadInvalid(network, f"the list has {len(items)} items; send at most {MAX_ITEMS} per request")
    else:
        raise PayloadInvalid(network, f"the body is a JSON {type(payload).__name__}; send an object or a list")
    mentions: list[Mention] = []
    rejected: list[tuple[int, PayloadInvalid]] = []
    for index, item in enumerate(items):
        prefix = "" if single else f"[{index}]."
        if not isinstance(item, dict):
            rejected.append((index, PayloadInvalid(network, f"{prefix.rstrip('.')} is not an object".lstrip(),
                                                   item=item)))
            continue
        try:
            parsed = WebhookItem.model_validate(item)
        except ValidationError as exc:
            reason = "; ".join(_describe(e, prefix) for e in exc.errors()[:5])
            rejected.append((index, PayloadInvalid(network, reason, item=item)))
            continue
        mentions.append(Mention(
            network=parsed.network or network, external_id=parsed.id, kind=parsed.kind,
            author_handle=parsed.author.handle, author_name=parsed.author.name,
            author_followers=parsed.author.followers, text=parsed.text, created_at=parsed.created_at.astimezone(UTC),
            lang=parsed.lang, permalink=parsed.url, parent_id=parsed.parent_id,
            conversation_id=parsed.conversation_id, raw=item,
        ))
    return mentions, rejected


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The `X-Veille-Signature` value for `body` sent at `timestamp` (what senders compute)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def check_signature(secret: str, body: bytes, *, timestamp: str | None, signature: str | None,
                    now: datetime) -> str | None:
    """Why the request's signature is refused, or None when it is valid and fresh."""
    if not timestamp or not signature:
        return "missing X-Veille-Timestamp or X-Veille-Signature header"
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        return "X-Veille-Timestamp must be unix seconds"
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE_S:
        return "X-Veille-Timestamp is more than 5 minutes from the server's clock (stale or replayed request)"
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.strip().lower().encode()):
        return "the signature does not match the body (check the secret and sign the exact bytes sent)"
    return None


@dataclass(frozen=True, slots=True)
class GenericHook:
    """A `type: webhook` source as the route sees it."""

    name: str
    secret: SecretStr
    network: str = "web"


@dataclass(frozen=True, slots=True)
class MetaHook:
    """A Meta (Instagram or Facebook Page) source's webhook: its secrets, and the connector call that turns a
    delivery into mentions."""

    name: str
    app_secret: SecretStr
    verify_token: SecretStr
    handle: Callable[[Any, datetime], PollResult]


def _counts(value: Any) -> dict[str, int]:
    get = value.get if isinstance(value, Mapping) else (lambda key, default=0: getattr(value, key, default))
    return {key: int(get(key, 0)) for key in ("stored", "duplicates", "rejected")}


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None once it is over `limit` (read no further than that)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)



class Refused(Exception):
    """A pushed request answered before its content is looked at (cut short, too big, unsigned, not JSON)."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


async def signed_json(request: Request, *, secret: str, limit: int, now: datetime, label: str,
                      unit: str = "items") -> Any:
    """The JSON body of a request signed with `secret` (X-Veille-Timestamp, X-Veille-Signature), read no further
    than `limit` bytes.

    Raises:
        Refused: with the 400 (cut short, not JSON), 413 (over `limit`) or 401 (signature) answer to send.
    """
    try:
        body = await _read_body(request, limit)
    except ClientDisconnect:
        raise Refused(error_response(400, "the request body was cut short")) from None
    if body is None:
        raise Refused(error_response(413, f"the body is over {limit // 1000} KB; send fewer {unit} per request"))
    refused = check_signature(secret, body, timestamp=request.headers.get("x-veille-timestamp"),
                              signature=request.headers.get("x-veille-signature"), now=now)
    if refused:
        logger.warning("%s: refused a request: %s", label, refused)
        raise Refused(error_response(401, refused))
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(error_response(400, f"the body is not valid JSON: {exc}"[:300])) from None


def webhook_routes(*, generic: Mapping[str, GenericHook], meta: Mapping[str, MetaHook], ingest: Ingest,
                   clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[Route]:
    """The webhook routes, bound to the configured hooks and the runtime's `ingest`."""

    async def generic_hook(request: Request) -> Response:
        name = request.path_params["source"]
        hook = generic.get(name)
        if hook is None:
            return error_response(404, f"no webhook source named {name[:64]!r}")
        try:
            payload = await signed_json(request, secret=hook.secret.get_secret_value(), limit=MAX_BODY,
                                        now=clock(), label=f"webhook {name}")
        except Refused as refused:
            return refused.response
        try:
            mentions, rejected = parse_items(payload, network=hook.network)
        except PayloadInvalid as exc:
            return error_response(422, exc.reason)
        errors = [{"index": index, "error": problem.reason} for index, problem in rejected]
        if not mentions:
            return error_response(422, errors[0]["error"] if len(errors) == 1 else "no item is valid", errors=errors)
        result = PollResult(mentions=mentions, cursor={}, rejected=[problem for _index, problem in rejected])
        counts = _counts(await run_in_threadpool(ingest, name, result))
        return JSONResponse({**counts, "errors": errors}, status_code=202)

    async def meta_hook(request: Request) -> Response:
        name = request.path_params["source"]
        hook = meta.get(name)
        if hook is None:
            return error_response(404, f"no Meta webhook source named {name[:64]!r}")
        if request.method == "GET":
            params = request.query_params
            token = params.get("hub.verify_token", "")
            challenge = params.get("hub.challenge", "")
            if params.get("hub.mode") == "subscribe" and hmac.compare_digest(
                    token.encode(), hook.verify_token.get_secret_value().encode()) and challenge:
                return PlainTextResponse(challenge[:256])
            return error_response(403, "verification refused: wrong hub.mode or hub.verify_token")
        try:
            body = await _read_body(request, MAX_META_BODY)
        except ClientDisconnect:
            return error_response(400, "the request body was cut short")
        if body is None:
            return error_response(413, "the delivery is too large")
        if not signature_valid(hook.app_secret.get_secret_value(), body, request.headers.get("x-hub-signature-256")):
            logger.warning("meta webhook %s: refused a delivery with a bad X-Hub-Signature-256", name)
            return error_response(401, "X-Hub-Signature-256 does not match the body and the app secret")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return error_response(400, "the delivery is not valid JSON")
        try:
            result = await run_in_threadpool(hook.handle, payload, clock())
        except PayloadInvalid as exc:
            return error_response(400, exc.reason)
        except SourceError as exc:
            # Throttled, Graph down or the token refused: Meta retries a failed delivery, so nothing is lost.
            logger.warning("meta webhook %s: delivery deferred: %s", name, exc.message)
            retry = str(int(exc.retry_after)) if isinstance(exc, RateLimited) else "60"
            return JSONResponse({"error": "temporarily unable to fetch the mention; deliver again later"},
                                status_code=503, headers={"Retry-After": retry})
        counts = _counts(await run_in_threadpool(ingest, name, result))
        return JSONResponse(counts, status_code=200)

    return [
        # The Meta route first: "meta" would otherwise match as a generic source name.
        Route("/hooks/meta/{source}", meta_hook, methods=["GET", "POST"]),
        Route("/hooks/{source}", generic_hook, methods=["POST"]),
    ]


# ---------------------------------------------------------------------------------------------
# Wiring (the runtime's side)


def make_ingest(deps: Any) -> Callable[[str, PollResult], dict[str, int]]:
    """An `ingest` that stores pushed mentions through `bot.pipeline`, like a poll does, and wakes the outbox.

    The source's poll cursor is left as it is: a push is not a poll (a `Page` with no cursor).
    """
    from bot.db import session_scope
    from bot.pipeline import ingest_page
    from monitors.sources.base import Page

    def ingest(source: str, result: PollResult) -> dict[str, int]:
        now = deps.clock.now()
        with session_scope(deps.engine) as session:
            outcome = ingest_page(session, Page(mentions=result.mentions, cursor=None, rejected=result.rejected),
                                  source=source, workspace=deps.workspace, scorer=deps.scorer, now=now,
                                  rules=getattr(deps, "rules", None))
        if outcome.stored:
            deps.wake_outbox()
        return _counts(outcome)

    return ingest


def hooks_from_config(sources: Sequence[Any], *, brand: Any = None, environ: Mapping[str, str] | None = None,
                      http_factory: Callable[[Any], Any] | None = None,
                      config_file: str = "veille.yaml") -> tuple[dict[str, GenericHook], dict[str, MetaHook]]:
    """Build the hooks from the workspace's sources: every enabled `webhook` source, and every Instagram or
    Facebook source with both `app_secret` and `verify_token` (given `http_factory(connector) -> SourceHttp`).

    Raises:
        ConfigError: a webhook source's options are invalid (an unset ${VAR}, a short secret, ...).
    """
    import os

    from bot.errors import ConfigError, ConfigProblem
    from monitors.sources import build_source, resolve_env_refs
    from monitors.sources.facebook import FacebookConnector
    from monitors.sources.instagram import InstagramConnector

    env = os.environ if environ is None else environ
    generic: dict[str, GenericHook] = {}
    meta: dict[str, MetaHook] = {}
    problems: list[ConfigProblem] = []
    for cfg in sources:
        if not cfg.enabled:
            continue
        where = f"sources.{cfg.name}.options"
        if cfg.type == "webhook":
            missing: list[str] = []
            options = resolve_env_refs(cfg.options, environ=env, missing=missing)
            problems.extend(ConfigProblem(config_file, None, where, f"environment variable {var} is not set; "
                                          "export it") for var in dict.fromkeys(missing))
            if missing:
                continue
            try:
                parsed = WebhookOptions.model_validate(options)
            except ValidationError as exc:
                problems.extend(ConfigProblem(config_file, None, where, _describe(e, "")) for e in exc.errors())
                continue
            generic[cfg.name] = GenericHook(cfg.name, parsed.secret, parsed.network)
        elif cfg.type in ("instagram", "facebook") and http_factory is not None:
            connector = build_source(cfg, config_file=config_file, brand=brand, environ=env)
            assert isinstance(connector, InstagramConnector | FacebookConnector)
            opts = connector.options
            if opts.app_secret and opts.verify_token:
                def handle(payload: Any, now: datetime,
                           connector: InstagramConnector | FacebookConnector = connector) -> PollResult:
                    return connector.handle_webhook(payload, http=http_factory(connector), now=now)

                meta[cfg.name] = MetaHook(cfg.name, opts.app_secret, opts.verify_token, handle)
    if problems:
        raise ConfigError(problems)
    return generic, meta
