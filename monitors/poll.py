"""Poll sources: one poll of one source from its stored cursor, stored with its health in one transaction.

`poll_once` is the body of each source's scheduler job (and what tests and the demo call directly):

- a paused source (a 401/403 earlier) is skipped until its config fingerprint changes;
- a source told to wait (429 `Retry-After`, or our backoff after failures) is skipped until then;
- otherwise the connector polls from the stored cursor, and the mentions, the items set aside, the
  brand's own posts, the new cursor and the health columns are committed together: a crash before
  the commit re-polls from the old cursor, and the store's unique keys absorb the repeats.
- 401/403 pauses the source and queues ONE admin alert (outbox key `source-auth:{name}:{hash}`).

`poll_cycle` polls many sources concurrently (a thread each, up to `max_workers`): a cycle takes
about as long as the slowest source, not the sum.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlmodel import Session

from bot import models
from bot.coordination import LeaseLost
from bot.db import session_scope
from bot.deps import Deps
from bot.messages import t
from bot.outbox import enqueue_message
from bot.pipeline import IngestResult, ingest_page, keep_aside
from bot.render.escape import escape
from monitors.sources.base import AuthFailed, Connector, PayloadInvalid, RateLimited, SourceError
from monitors.sources.http import SourceHttp

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
USER_AGENT = "Veille/0.1 (self-hosted social listening bot)"


@dataclass(frozen=True, slots=True)
class ScheduledSource:
    """A configured source as the scheduler runs it: every `every_s` seconds, under its config fingerprint."""

    name: str
    source: Connector
    every_s: float
    config_hash: str | None = None

    @property
    def fingerprint(self) -> str:
        return self.config_hash or self.source.config_fingerprint()


@dataclass(slots=True)
class PollOutcome:
    """What one `poll_once` did: `status` is ok, paused, waiting, rate_limited, auth_failed, failed or lost
    (another replica took the source over mid-poll)."""

    source: str
    status: str
    ingest: IngestResult = field(default_factory=IngestResult)
    cursor: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def make_http_client(*, timeout: float = 20.0, max_connections: int = 100) -> httpx.Client:
    """The one httpx client the pollers share (it is thread-safe); connectors add their own auth headers."""
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0), follow_redirects=True,
                        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=20),
                        headers={"User-Agent": USER_AGENT})


def load_cursor(text: str | None) -> dict[str, Any]:
    """The stored cursor as a dict; an older plain-string cursor comes back under "value"."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"value": text}
    return value if isinstance(value, dict) else {"value": text}


def poll_once(deps: Deps, *, name: str, source: Connector, every_s: float | None = None,
              http: SourceHttp | None = None, config_hash: str | None = None,
              rng: Callable[[], float] = random.random,
              guard: Callable[[Session], None] | None = None) -> PollOutcome:
    """Poll `source` once if it is due, and store what it found with its new cursor and health.

    `guard` runs first inside the storing transaction (the replicas' per-source lease, `bot.coordination`):
    if it raises, nothing is stored and the cursor does not move, so a replica that lost the source while
    polling never writes over the new holder's progress.
    """
    config_hash = config_hash or source.config_fingerprint()
    now = deps.clock.now()
    with Session(deps.engine) as session:
        row = session.get(models.SourceCursor, name)
        cursor_text = row.cursor if row else None
        paused = row is not None and row.paused_reason is not None
        same_config = row is not None and row.paused_config_hash == config_hash
        not_before = row.not_before if row else None
    if paused and same_config:
        return PollOutcome(name, "paused")
    if paused:
        logger.info("source %s: its configuration changed; resuming after the pause", name)
        _update(deps, name, paused_reason=None, paused_config_hash=None, paused_at=None, consecutive_failures=0,
                not_before=None)
    elif not_before is not None and not_before > now:
        return PollOutcome(name, "waiting")

    cursor = load_cursor(cursor_text)
    owned_client: httpx.Client | None = None
    if http is None:
        owned_client = make_http_client() if source.uses_http else httpx.Client(transport=_NoNetwork(), trust_env=False)
        http = SourceHttp(owned_client, source=name, network=source.network)
    try:
        result = source.poll(dict(cursor), http=http, now=now)
    except AuthFailed as exc:
        return _pause(deps, name, source, exc, config_hash=config_hash, now=now)
    except RateLimited as exc:
        wait = timedelta(seconds=max(exc.retry_after, 1.0))
        _failed(deps, name, source, f"rate-limited: {exc.message}", now=now, not_before=now + wait, count=False)
        logger.info("source %s: rate-limited, next poll in %.0fs", name, wait.total_seconds())
        return PollOutcome(name, "rate_limited", cursor=cursor, error=exc.message)
    except (SourceError, PayloadInvalid) as exc:
        message = exc.message if isinstance(exc, SourceError) else f"{exc.network}: {exc.reason}"
        failures = _failed(deps, name, source, message, now=now, every_s=every_s, rng=rng,
                           page=exc if isinstance(exc, PayloadInvalid) else None)
        logger.warning("source %s: poll failed (%d in a row): %s", name, failures, message)
        return PollOutcome(name, "failed", cursor=cursor, error=message)
    except Exception as exc:
        # A connector bug: record it for `veille status`, then let the job wrapper log the traceback.
        _failed(deps, name, source, f"internal error: {type(exc).__name__}", now=now, every_s=every_s, rng=rng)
        raise
    finally:
        if owned_client is not None:
            owned_client.close()

    try:
        with _writer(deps), session_scope(deps.engine) as session:
            if guard is not None:
                guard(session)
            ingest = ingest_page(session, result, source=name, workspace=deps.workspace, scorer=deps.scorer,
                                 now=now, rules=deps.rules)
            row = session.get(models.SourceCursor, name) or models.SourceCursor(source=name)
            row.network = source.network
            row.last_attempt_at = now
            row.consecutive_failures = 0
            row.not_before = None
            row.next_poll_at = now + timedelta(seconds=every_s) if every_s else None
            session.add(row)
    except LeaseLost:
        logger.warning("source %s: another replica took this source over; this poll's page was not stored", name)
        return PollOutcome(name, "lost", cursor=cursor)
    except Exception as exc:
        # Nothing was stored and the cursor did not move: the next poll fetches the same items again.
        _failed(deps, name, source, f"could not store the batch: {type(exc).__name__}", now=now, every_s=every_s,
                rng=rng)
        raise
    if ingest.stored:
        deps.wake_outbox()
        logger.info("source %s: %d new, %d duplicate(s)", name, ingest.stored, ingest.duplicates)
    return PollOutcome(name, "ok", ingest=ingest, cursor=result.cursor)


def poll_cycle(deps: Deps, sources: Sequence[ScheduledSource], *, client: httpx.Client | None = None,
               max_workers: int = 32) -> list[PollOutcome]:
    """Poll every source once, concurrently; one failing source never stops the others."""
    owned = client is None
    client = client or make_http_client()

    def one(item: ScheduledSource) -> PollOutcome:
        http = SourceHttp(client, source=item.name, network=item.source.network)
        try:
            return poll_once(deps, name=item.name, source=item.source, every_s=item.every_s, http=http,
                             config_hash=item.config_hash)
        except Exception as exc:
            logger.exception("source %s: poll crashed", item.name)
            return PollOutcome(item.name, "failed", error=type(exc).__name__)

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(sources))),
                                thread_name_prefix="veille-poll") as pool:
            return list(pool.map(one, sources))
    finally:
        if owned:
            client.close()


def _pause(deps: Deps, name: str, source: Connector, exc: AuthFailed, *, config_hash: str,
           now: datetime) -> PollOutcome:
    channel = deps.workspace.channels.admin or deps.workspace.channels.triage
    text = t("source_auth_failed", deps.lang, name=escape(name), network=escape(source.network), status=exc.status)
    with session_scope(deps.engine) as session:
        row = session.get(models.SourceCursor, name) or models.SourceCursor(source=name)
        row.network = source.network
        row.paused_reason = f"HTTP {exc.status}: {exc.message}"[:2000]
        row.paused_config_hash = config_hash
        row.paused_at = now
        row.last_attempt_at = now
        row.last_error, row.last_error_at = row.paused_reason, now
        row.consecutive_failures += 1
        row.next_poll_at = None
        session.add(row)
        # The key names the config: the same broken config alerts once, a new broken config alerts again.
        queued = enqueue_message(session, key=f"source-auth:{name}:{config_hash}", channel=channel, text=text,
                                 blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}], now=now)
    if queued:
        deps.wake_outbox()
    logger.error("source %s: paused after HTTP %d; the admins were alerted in %s", name, exc.status, channel)
    return PollOutcome(name, "auth_failed", error=exc.message)


def _failed(deps: Deps, name: str, source: Connector, message: str, *, now: datetime,
            every_s: float | None = None, rng: Callable[[], float] = random.random,
            not_before: datetime | None = None, count: bool = True,
            page: PayloadInvalid | None = None) -> int:
    """Record a failed poll; unless `not_before` is given, back off exponentially (with jitter) on repeats."""
    with session_scope(deps.engine) as session:
        row = session.get(models.SourceCursor, name) or models.SourceCursor(source=name)
        if page is not None and row.last_error != message[:2000]:
            # A page that cannot be read at all is kept aside like a bad item, once per distinct error.
            keep_aside(session, page, source=name, now=now)
        row.network = source.network
        row.last_attempt_at = now
        row.last_error, row.last_error_at = message[:2000], now
        if count:
            row.consecutive_failures += 1
        if not_before is None and every_s:
            # Full jitter over an exponential window: the first failure retries at about the next tick.
            window = min(timedelta(seconds=every_s) * 2 ** (row.consecutive_failures - 1), MAX_BACKOFF)
            not_before = now + window * (0.5 + rng() / 2)
        row.not_before = not_before
        row.next_poll_at = not_before or (now + timedelta(seconds=every_s) if every_s else None)
        session.add(row)
        return row.consecutive_failures


_SQLITE_WRITER = threading.Lock()


def _writer(deps: Deps) -> AbstractContextManager[Any]:
    """On SQLite, queue this process's poll writes on a lock: SQLite takes one writer at a time, and its own
    busy handler makes waiting writers sleep-poll (up to 100 ms a try), which would stretch a concurrent cycle."""
    return _SQLITE_WRITER if deps.engine.dialect.name == "sqlite" else nullcontext()


def _update(deps: Deps, name: str, **values: Any) -> None:
    with session_scope(deps.engine) as session:
        row = session.get(models.SourceCursor, name) or models.SourceCursor(source=name)
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)


class _NoNetwork(httpx.BaseTransport):
    """The transport given to sources that never use HTTP (replay): any request is a bug."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError(f"this source does not use the network (asked for {request.url.host})")
