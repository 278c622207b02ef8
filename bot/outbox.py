"""Reliable, idempotent delivery of what the store says Slack must show: write first, send, mark sent.

A row is claimed (`sending`) and committed before the Slack call. If the process dies after Slack
accepted the message but before its `ts` was recorded, the row stays `sending`/`in_doubt`; it is
then reconciled by looking for the message's metadata (`veille_outbox` + the row's key) in the
channel's history, so a restart or a retry never posts the same card twice.
Order is kept per channel: a row that must wait holds back the later rows of its channel.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import case, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import models
from bot.clock import Clock
from bot.db import session_scope
from bot.render.cards import Rendered
from bot.slack_client import classify

logger = logging.getLogger(__name__)

OUTBOX_EVENT = "veille_outbox"
MAX_BACKOFF_S = 300.0
# How far back to look in a channel's history for a message we may have posted.
RECONCILE_LOOKBACK = timedelta(minutes=10)

Renderer = Callable[[Session, models.OutboxMessage], Rendered]


@dataclass(slots=True)
class DeliveryReport:
    posted: int = 0
    updated: int = 0
    reconciled: int = 0
    deferred: int = 0
    parked: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def progressed(self) -> bool:
        return bool(self.posted or self.updated or self.reconciled or self.parked)


def touch_card(session: Session, mention_id: int, now: datetime) -> None:
    """Ask for the mention's card to be re-rendered (chat.update) after the caller commits."""
    session.execute(
        update(models.OutboxMessage)
        .where(col(models.OutboxMessage.mention_id) == mention_id, col(models.OutboxMessage.kind) == "card")
        .values(
            version=models.OutboxMessage.version + 1,
            status=case((col(models.OutboxMessage.status) == "sent", "pending"), else_=models.OutboxMessage.status),
            next_attempt_at=now,
            updated_at=now,
        )
    )


def enqueue_message(session: Session, *, key: str, channel: str, text: str, blocks: list[dict],
                    now: datetime) -> bool:
    """Queue a one-off message under a purpose key; False if that purpose was already queued."""
    exists = session.exec(select(models.OutboxMessage.id).where(models.OutboxMessage.key == key)).first()
    if exists is not None:
        return False
    session.add(models.OutboxMessage(key=key, kind="message", channel=channel,
                                     payload={"text": text, "blocks": blocks},
                                     next_attempt_at=now, created_at=now, updated_at=now))
    return True


def _backoff(attempts: int, retry_after: float | None) -> float:
    if retry_after:
        return retry_after
    # Exponential with full jitter, so many rows do not all hit Slack again at the same instant.
    return random.uniform(0, min(MAX_BACKOFF_S, 2.0 ** min(attempts, 12)))


class OutboxSender:
    """Deliver due outbox rows with a slack_sdk WebClient."""

    def __init__(self, *, engine: Engine, client: WebClient, clock: Clock, render: Renderer,
                 batch_size: int = 200) -> None:
        self._engine = engine
        self._client = client
        self._clock = clock
        self._render = render
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def recover(self) -> None:
        """At start-up: rows a dead process left `sending` are in doubt until checked against Slack."""
        with session_scope(self._engine) as session:
            session.execute(update(models.OutboxMessage).where(col(models.OutboxMessage.status) == "sending")
                            .values(status="in_doubt"))

    def deliver_due(self) -> DeliveryReport:
        """One pass over the due rows, oldest first, holding back a channel behind a row that must wait."""
        with self._lock:  # one pass at a time in this process: the worker and a handler's wake-up may race
            report = DeliveryReport()
            now = self._clock.now()
            with Session(self._engine) as session:
                rows = session.exec(
                    select(models.OutboxMessage)
                    .where(col(models.OutboxMessage.status).in_(("pending", "in_doubt")))
                    .order_by(col(models.OutboxMessage.id))
                    .limit(self._batch_size)
                ).all()
                session.expunge_all()
            held: set[str] = set()
            for row in rows:
                if row.channel in held:
                    continue
                if row.next_attempt_at > now:
                    held.add(row.channel)
                    continue
                if not self._deliver(row, report):
                    held.add(row.channel)
            return report

    def _deliver(self, row: models.OutboxMessage, report: DeliveryReport) -> bool:
        """Deliver one row; False when it must wait (its channel is then held back)."""
        assert row.id is not None
        if row.status == "in_doubt" and row.ts is None:
            try:
                found = self._find_posted(row)
            except Exception as exc:  # noqa: BLE001 - Slack unreachable: check again later, post nothing
                failure = classify(exc)
                self._set_status(row.id, "in_doubt", error=failure.code, next_at=self._clock.now()
                                 + timedelta(seconds=_backoff(row.attempts, failure.retry_after)))
                report.deferred += 1
                report.errors.append(failure.code)
                return False
            if found is not None:
                ts, posted_version, channel_id = found
                self._mark_sent(row.id, ts=ts, version=posted_version, channel_id=channel_id)
                report.reconciled += 1
                logger.info("outbox %s: found already posted as %s; not posting again", row.key, ts)
                return True
        with session_scope(self._engine) as session:
            claimed = session.execute(
                update(models.OutboxMessage)
                .where(col(models.OutboxMessage.id) == row.id,
                       col(models.OutboxMessage.status).in_(("pending", "in_doubt")))
                .values(status="sending", attempts=models.OutboxMessage.attempts + 1)
            ).rowcount
            if not claimed:
                return True  # someone else took it
            current = session.get(models.OutboxMessage, row.id)
            assert current is not None
            version = current.version
            rendered = self._render(session, current)
            ts, channel_id, attempts = current.ts, current.channel_id or current.channel, current.attempts
        try:
            if ts is None:
                response = self._client.chat_postMessage(
                    channel=row.channel, text=rendered.text, blocks=rendered.blocks, unfurl_links=False,
                    unfurl_media=False,
                    metadata={"event_type": OUTBOX_EVENT, "event_payload": {"key": row.key, "version": version}},
                )
                self._mark_sent(row.id, ts=str(response["ts"]), version=version, channel_id=response.get("channel"))
                report.posted += 1
            else:
                self._client.chat_update(channel=channel_id, ts=ts, text=rendered.text, blocks=rendered.blocks)
                self._mark_sent(row.id, ts=ts, version=version)
                report.updated += 1
            return True
        except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded below
            failure = classify(exc)
            # A post whose answer we did not get may still have landed: check before posting again.
            unknown_outcome = ts is None and not _clean_refusal(exc)
            if failure.retryable:
                delay = _backoff(attempts, failure.retry_after)
                self._set_status(row.id, "in_doubt" if unknown_outcome else "pending", error=failure.code,
                                 next_at=self._clock.now() + timedelta(seconds=delay))
                report.deferred += 1
                report.errors.append(failure.code)
                logger.warning("outbox %s: Slack said %s; retrying in %.1fs", row.key, failure.code, delay)
                return False
            self._set_status(row.id, "parked", error=failure.code)
            report.parked += 1
            report.errors.append(failure.code)
            logger.error("outbox %s: parked, Slack refused it for good: %s", row.key, failure.code)
            return True

    def _find_posted(self, row: models.OutboxMessage) -> tuple[str, int, str | None] | None:
        """Look for this row's message in the channel history by its metadata key: (ts, version, channel)."""
        # Slack's history is keyed by message time; our clock may be virtual (demo), so bound by both.
        oldest = min(row.created_at.timestamp(), _wall_now()) - RECONCILE_LOOKBACK.total_seconds()
        cursor = None
        for _ in range(20):  # bounded: at most 20 pages of 200 messages
            response = self._client.conversations_history(channel=row.channel_id or row.channel,
                                                          oldest=f"{oldest:.6f}", limit=200,
                                                          include_all_metadata=True, cursor=cursor)
            for message in response.get("messages", []):
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == OUTBOX_EVENT and payload.get("key") == row.key:
                    return str(message["ts"]), int(payload.get("version") or 1), response.get("channel")
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    def _mark_sent(self, row_id: int, *, ts: str, version: int, channel_id: str | None = None) -> None:
        now = self._clock.now()
        values: dict[str, object] = {
            "ts": ts,
            "sent_version": version,
            # A change that arrived while we were sending leaves the row pending, for one more update.
            "status": case((col(models.OutboxMessage.version) > version, "pending"), else_="sent"),
            "attempts": 0,
            "last_error": None,
            "updated_at": now,
            "next_attempt_at": now,
        }
        if channel_id:
            values["channel_id"] = channel_id
        with session_scope(self._engine) as session:
            session.execute(update(models.OutboxMessage).where(col(models.OutboxMessage.id) == row_id).values(**values))

    def _set_status(self, row_id: int, status: str, *, error: str, next_at: datetime | None = None) -> None:
        values: dict[str, object] = {"status": status, "last_error": error, "updated_at": self._clock.now()}
        if next_at is not None:
            values["next_attempt_at"] = next_at
        with session_scope(self._engine) as session:
            session.execute(update(models.OutboxMessage).where(col(models.OutboxMessage.id) == row_id).values(**values))


def _wall_now() -> float:
    import time

    return time.time()


def _clean_refusal(exc: Exception) -> bool:
    """True when Slack answered and said no (so nothing was posted); False for timeouts and 5xx."""
    from slack_sdk.errors import SlackApiError

    return isinstance(exc, SlackApiError) and exc.response.status_code < 500


class OutboxWorker:
    """A background thread that runs the sender, woken early whenever a change is committed."""

    def __init__(self, sender: OutboxSender, *, idle_s: float = 1.0) -> None:
        self._sender = sender
        self._idle_s = idle_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="veille-outbox", daemon=True)
        self.idle = threading.Event()

    def start(self) -> None:
        self._sender.recover()
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                report = self._sender.deliver_due()
            except Exception:
                logger.exception("outbox pass failed; retrying shortly")
                report = DeliveryReport()
            if report.progressed and not report.deferred:
                continue  # more may be due right away: keep draining
            self.idle.set()
            self._wake.wait(self._idle_s)
            self.idle.clear()
