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
from bot.coordination import Role
from bot.db import session_scope
from bot.flood import FloodPolicy, fold_floods
from bot.metrics import count_slack_error
from bot.render.cards import Rendered
from bot.slack_client import classify

logger = logging.getLogger(__name__)

OUTBOX_EVENT = "veille_outbox"
# Capped low enough that a recovered Slack is noticed within a minute; rows of a channel queue behind one
# probe, so a long outage costs one request per minute per channel, not one per message.
MAX_BACKOFF_S = 60.0
# How far back to look in a channel's history for a message we may have posted.
RECONCILE_LOOKBACK = timedelta(minutes=10)

Renderer = Callable[[Session, models.OutboxMessage], Rendered]


@dataclass(slots=True)
class DeliveryReport:
    posted: int = 0
    updated: int = 0
    reconciled: int = 0
    digested: int = 0
    deferred: int = 0
    parked: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def progressed(self) -> bool:
        return bool(self.posted or self.updated or self.reconciled or self.parked)


def touch_card(session: Session, mention_id: int, now: datetime) -> None:
    """Ask for the mention's card (or the digest it was folded into) to be re-rendered after the caller commits."""
    digest_keys = select(models.OutboxMessage.digest_key).where(
        col(models.OutboxMessage.mention_id) == mention_id, col(models.OutboxMessage.digest_key).is_not(None))
    session.execute(
        update(models.OutboxMessage)
        .where((col(models.OutboxMessage.mention_id) == mention_id) & (col(models.OutboxMessage.kind) == "card")
               | col(models.OutboxMessage.key).in_(digest_keys))
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


def enqueue_thread(session: Session, *, key: str, parent_key: str, text: str, now: datetime,
                   blocks: list[dict] | None = None) -> None:
    """Queue a reply in the thread of another outbox message (posted once the parent has its ts)."""
    parent = session.exec(select(models.OutboxMessage).where(models.OutboxMessage.key == parent_key)).first()
    # The reply travels in its parent's lane, so it is never posted before the card it belongs to.
    channel = parent.channel if parent is not None else ""
    session.add(models.OutboxMessage(key=key, kind="thread", channel=channel, parent_key=parent_key,
                                     payload={"text": text, "blocks": blocks or []},
                                     next_attempt_at=now, created_at=now, updated_at=now))


def open_home(session: Session, user: str, now: datetime) -> None:
    """Publish `user`'s App Home now (they just opened it), and keep it fresh from then on."""
    key = f"home:{user}"
    row = session.exec(select(models.OutboxMessage).where(models.OutboxMessage.key == key)).first()
    if row is None:
        session.add(models.OutboxMessage(key=key, kind="home", channel=user, next_attempt_at=now,
                                         created_at=now, updated_at=now))
        return
    row.version += 1
    if row.status in ("sent", "parked", "pending"):
        row.status, row.next_attempt_at = "pending", now
    row.updated_at = now
    session.add(row)


def touch_homes(session: Session, now: datetime, *, debounce: timedelta) -> None:
    """Something changed: re-publish every opened App Home once after `debounce` (bursts coalesce)."""
    home = col(models.OutboxMessage.kind) == "home"
    session.execute(
        update(models.OutboxMessage).where(home)
        .values(
            version=models.OutboxMessage.version + 1,
            # A home already waiting keeps its time, so a flood of changes yields one publish per debounce.
            next_attempt_at=case((col(models.OutboxMessage.status).in_(("sent", "parked")), now + debounce),
                                 else_=models.OutboxMessage.next_attempt_at),
            status=case((col(models.OutboxMessage.status).in_(("sent", "parked")), "pending"),
                        else_=models.OutboxMessage.status),
        )
    )


def _backoff(attempts: int, retry_after: float | None) -> float:
    if retry_after:
        return retry_after
    # Exponential with full jitter, so many rows do not all hit Slack again at the same instant.
    return random.uniform(0, min(MAX_BACKOFF_S, 2.0 ** min(attempts, 12)))


class OutboxSender:
    """Deliver due outbox rows with a slack_sdk WebClient.

    Rows travel in lanes: a channel (cards, messages, digests, thread replies of that channel's
    cards) or one user's App Home. A lane delivers in row order; a row that must wait holds its lane.
    New messages in a channel are paced (`post_interval`, Slack's ~1 message/s per channel), and when
    a channel's backlog of unposted cards passes `flood.threshold`, near-duplicate cards are folded
    into digest cards (`bot.flood`) — every item stays in the store.

    With several replicas, `role` (the `outbox` lease, `bot.coordination`) lets exactly one of them send:
    pacing stays per channel, and each claim is fenced by the lease, so a replica that lost it claims nothing.
    The new holder first turns the rows its predecessor left `sending` into `in_doubt` (`recover`).
    """

    def __init__(self, *, engine: Engine, client: WebClient, clock: Clock, render: Renderer,
                 batch_size: int = 200, post_interval: timedelta = timedelta(seconds=1),
                 flood: FloodPolicy | None = None, role: Role | None = None) -> None:
        self._engine = engine
        self.role = role
        self._client = client
        self._clock = clock
        self._render = render
        self._batch_size = batch_size
        self._post_interval = post_interval
        self._flood = flood
        self._last_post: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def recover(self) -> None:
        """At start-up: rows a dead process left `sending` are in doubt until checked against Slack."""
        with session_scope(self._engine) as session:
            session.execute(update(models.OutboxMessage).where(col(models.OutboxMessage.status) == "sending")
                            .values(status="in_doubt"))

    def next_due_in(self) -> float | None:
        """Seconds until a paced lane may post again (the worker sleeps that long), or None."""
        if not self._last_post or self._post_interval <= timedelta(0):
            return None
        now = self._clock.now()
        waits = [(last + self._post_interval - now).total_seconds() for last in self._last_post.values()]
        positive = [w for w in waits if w > 0]
        return min(positive) if positive else None

    def deliver_due(self) -> DeliveryReport:
        """One pass over the due rows, oldest first, holding back a lane behind a row that must wait."""
        with self._lock:  # one pass at a time in this process: the worker and a handler's wake-up may race
            report = DeliveryReport()
            if self.role is not None and not self.role():
                return report  # another replica sends; this one only writes rows
            if self._flood is not None:
                report.digested = fold_floods(self._engine, self._flood, now=self._clock.now())
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
                lane = row.channel
                if lane in held:
                    continue
                if row.next_attempt_at > now:
                    if row.ts is None:  # a message not yet posted keeps its place; a later update does not
                        held.add(lane)
                    continue
                if row.ts is None and row.kind != "home" and self._paced(lane):
                    held.add(lane)
                    continue
                if not self._deliver(row, report):
                    held.add(lane)
            return report

    def _paced(self, lane: str) -> bool:
        last = self._last_post.get(lane)
        return last is not None and self._clock.now() - last < self._post_interval

    def _deliver(self, row: models.OutboxMessage, report: DeliveryReport) -> bool:
        """Deliver one row; False when it must wait (its lane is then held back)."""
        assert row.id is not None
        if row.status == "in_doubt" and row.ts is None and row.kind != "home":
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
            thread_ts = None
            if row.parent_key:
                parent = _thread_parent(session, row)
                if parent is None or parent.status == "parked":
                    session.execute(update(models.OutboxMessage).where(col(models.OutboxMessage.id) == row.id)
                                    .values(status="parked", last_error="thread parent not posted"))
                    report.parked += 1
                    return True
                if parent.ts is None:
                    return False  # the card is not in Slack yet: its history waits behind it
                thread_ts = parent.ts
            claim = (update(models.OutboxMessage)
                     .where(col(models.OutboxMessage.id) == row.id,
                            col(models.OutboxMessage.status).in_(("pending", "in_doubt")))
                     .values(status="sending", attempts=models.OutboxMessage.attempts + 1))
            if self.role is not None:
                claim = claim.where(self.role.fence())  # refused once another replica holds the outbox
            claimed = session.execute(claim).rowcount
            if not claimed:
                return True  # someone else took it
            current = session.get(models.OutboxMessage, row.id)
            assert current is not None
            version = current.version
            rendered = self._render(session, current)
            ts, channel_id, attempts = current.ts, current.channel_id or current.channel, current.attempts
        try:
            if row.kind == "home":
                self._client.views_publish(user_id=row.channel, view={"type": "home", "blocks": rendered.blocks})
                self._mark_sent(row.id, ts="home", version=version)
                report.updated += 1
            elif ts is None:
                response = self._client.chat_postMessage(
                    channel=row.channel, text=rendered.text, blocks=rendered.blocks, thread_ts=thread_ts,
                    unfurl_links=False, unfurl_media=False,
                    metadata={"event_type": OUTBOX_EVENT, "event_payload": {"key": row.key, "version": version}},
                )
                self._last_post[row.channel] = self._clock.now()
                self._mark_sent(row.id, ts=str(response["ts"]), version=version, channel_id=response.get("channel"))
                report.posted += 1
            else:
                self._client.chat_update(channel=channel_id, ts=ts, text=rendered.text, blocks=rendered.blocks)
                self._mark_sent(row.id, ts=ts, version=version)
                report.updated += 1
            return True
        except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded below
            failure = classify(exc)
            count_slack_error(self._engine, failure.code)
            # A post whose answer we did not get may still have landed: check before posting again.
            unknown_outcome = ts is None and row.kind != "home" and not _clean_refusal(exc)
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


def _thread_parent(session: Session, row: models.OutboxMessage) -> models.OutboxMessage | None:
    """The top-level message a reply belongs under: its card, the digest the card was folded into, or, for
    a card itself shown in a digest's thread, that digest (Slack threads are one level deep)."""
    key = row.parent_key
    parent = None
    for _ in range(4):  # card -> digest at most, plus a margin; never loops on bad data
        parent = session.exec(select(models.OutboxMessage).where(models.OutboxMessage.key == key)).first()
        if parent is None:
            return None
        if parent.status == "digested" and parent.digest_key:
            key = parent.digest_key
        elif parent.parent_key:
            key = parent.parent_key
        else:
            return parent
    return parent


def _wall_now() -> float:
    import time

    return time.time()


def _clean_refusal(exc: Exception) -> bool:
    """True when Slack answered and said no (so nothing was posted); False for timeouts and 5xx."""
    from slack_sdk.errors import SlackApiError

    return isinstance(exc, SlackApiError) and exc.response.status_code < 500


class OutboxWorker:
    """A background thread that runs the sender, woken early whenever a change is committed."""

    def __init__(self, sender: OutboxSender, *, idle_s: float = 1.0,
                 also: list[Callable[[], object]] | None = None) -> None:
        self._sender = sender
        # Other effects driven by the same wake-ups (network replies and hides), run after each pass.
        self._also = also or []
        self._idle_s = idle_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="veille-outbox", daemon=True)
        self.idle = threading.Event()

    def start(self) -> None:
        if self._sender.role is None:
            self._sender.recover()  # with a role, the replica that takes the outbox lease recovers (on_acquire)
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
            for job in self._also:
                try:
                    job()
                except Exception:
                    logger.exception("background job failed; retrying shortly")
            if report.progressed and not report.deferred:
                continue  # more may be due right away: keep draining
            self.idle.set()
            pace = self._sender.next_due_in()
            self._wake.wait(min(self._idle_s, pace) if pace else self._idle_s)
            self.idle.clear()
