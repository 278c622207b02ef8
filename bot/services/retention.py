"""Retention: purge raw payloads and texts older than the workspace's `retention:` periods, in bounded batches.

What is purged is personal data: mention texts, permalinks and raw payloads, reply drafts and network errors in
card events and network actions, the copies of texts in delivered Slack messages (thread lines, nudges, pages),
incident titles and author lists quoting them, raw items set aside, own posts' raw copies, and the handle, name
and follower count of authors not seen since the text period. What is kept is every aggregate: the mention row
with its network, timestamps, sentiment, status, rules decisions (without the matched spans), assignments, tasks
and card events — so /kpi, the buzz baselines and engagement consistency give the same figures over old periods.

Each batch is its own short transaction (rows taken with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two replicas
never purge the same rows), never one transaction over a million rows. Slack keeps its own copies of delivered
messages: set the workspace's message retention in Slack for the triage channels to match.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Text, and_, cast, func, literal, null, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import models
from bot.db import session_scope
from bot.messages import Lang, t
from bot.workspace import Retention, Workspace

logger = logging.getLogger(__name__)

# Card event details that carry third-party text (reply drafts, network error messages).
TEXT_DETAIL_KEYS = ("text", "error")
# Outbox kinds whose stored payload is a copy of what was posted (cards and homes are rendered from rows).
COPY_KINDS = ("message", "thread")
IN_PROGRESS_ACTIONS = ("awaiting_approval", "approved", "sending")


@dataclass(slots=True)
class PurgeReport:
    """What one purge did (or, with `dry_run`, would do)."""

    dry_run: bool = False
    texts: int = 0  # mentions whose text, permalink and raw payload were removed
    raws: int = 0  # mentions whose raw payload only was removed (text still within its period)
    authors: int = 0
    rejected: int = 0
    own_posts: int = 0
    actions: int = 0
    events: int = 0
    messages: int = 0
    incidents: int = 0
    batches: int = 0

    @property
    def total(self) -> int:
        return (self.texts + self.raws + self.authors + self.rejected + self.own_posts + self.actions + self.events
                + self.messages + self.incidents)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k != "dry_run"}


def cutoffs(retention: Retention, now: datetime) -> tuple[datetime | None, datetime | None]:
    """(raw cutoff, text cutoff): what was created before is purged; None keeps it."""
    raw = now - timedelta(days=retention.raw_days) if retention.raw_days else None
    text = now - timedelta(days=retention.text_days) if retention.text_days else None
    return raw, text


def strip_rules(rules: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """The rules' decision without the text it quotes: matched spans, filled reply templates, impersonation detail."""
    out = dict(rules or {})
    if out.get("violations"):
        out["violations"] = [{k: v for k, v in item.items() if k != "matched"} for item in out["violations"]]
    if out.get("engagement"):
        out["engagement"] = [{k: v for k, v in item.items() if k != "reply"} for item in out["engagement"]]
    if out.get("impersonation"):
        out["impersonation"] = t("gdpr_removed", lang)  # the flag stays; its reason names the author
    return out


def purge_mention_texts(session: Session, ids: list[int], now: datetime, lang: Lang) -> tuple[int, int]:
    """Remove the texts and personal fields of these mentions, their card events and replies; (events, actions)."""
    # One statement for the batch; only the few rows whose rules quote text get a statement of their own.
    session.execute(update(models.Mention).where(col(models.Mention.id).in_(ids)).values(
        text="", permalink=None, raw={}, text_purged_at=now,
        raw_purged_at=func.coalesce(models.Mention.raw_purged_at, now)))
    quoting = [{"id": row_id, "rules": stripped} for row_id, rules in session.exec(
        select(models.Mention.id, models.Mention.rules).where(col(models.Mention.id).in_(ids))).all()
        if (stripped := strip_rules(rules, lang)) != (rules or {})]
    if quoting:
        session.execute(update(models.Mention), quoting)
    events = 0
    for event_id, detail in session.exec(select(models.CardEvent.id, models.CardEvent.detail)
                                         .where(col(models.CardEvent.mention_id).in_(ids))).all():
        if any(detail.get(k) for k in TEXT_DETAIL_KEYS):
            session.execute(update(models.CardEvent).where(col(models.CardEvent.id) == event_id)
                            .values(detail={k: v for k, v in detail.items() if k not in TEXT_DETAIL_KEYS}))
            events += 1
    actions = session.execute(
        update(models.NetworkAction)
        .where(col(models.NetworkAction.mention_id).in_(ids),
               col(models.NetworkAction.status).not_in(IN_PROGRESS_ACTIONS),
               col(models.NetworkAction.text).is_not(None) | col(models.NetworkAction.error).is_not(None))
        .values(text=None, error=None)).rowcount
    # The stored copies of thread lines quoting these drafts go by their own age (`_copies`), through the index-free
    # outbox walked once per run rather than once per batch.
    return events, actions or 0


def purge_expired(engine: Engine, workspace: Workspace, now: datetime, *, dry_run: bool = False,
                  batch_size: int | None = None, max_batches: int | None = None,
                  actor: str = "retention") -> PurgeReport:
    """Purge what is older than the retention periods, batch by batch; with `dry_run`, only count it.

    Args:
        max_batches: stop after this many batches of each kind (the next run goes on), bounding one run's time.
    """
    retention = workspace.retention
    lang: Lang = workspace.brand.language
    size = batch_size or retention.batch_size
    raw_cut, text_cut = cutoffs(retention, now)
    report = PurgeReport(dry_run=dry_run)
    if dry_run:
        with session_scope(engine) as session:
            _count(session, report, raw_cut, text_cut)
        return report
    if text_cut is not None:
        _flagged_loop(engine, report, size, max_batches, lambda s: s.exec(
            select(models.Mention.id).where(col(models.Mention.text_purged_at).is_(None),
                                            col(models.Mention.created_at) < text_cut)
            .order_by(col(models.Mention.created_at)).limit(size).with_for_update(skip_locked=True)).all(),
            lambda s, ids: _texts(s, ids, now, lang, report))
        _flagged_loop(engine, report, size, max_batches, lambda s: s.exec(
            select(models.Author.id).where(col(models.Author.erased_at).is_(None),
                                           col(models.Author.last_seen_at) < text_cut)
            .order_by(col(models.Author.id)).limit(size).with_for_update(skip_locked=True)).all(),
            lambda s, ids: _authors(s, ids, now, report))
        # Only copies still holding text: purged ones stay in the table, and re-reading them every hour would, once
        # `max_batches` of them piled up, keep each run from ever reaching the newer ones.
        payload = cast(models.OutboxMessage.payload, Text)
        holding = or_(and_(col(models.OutboxMessage.kind) != "digest", func.length(payload) > 2),
                      and_(col(models.OutboxMessage.kind) == "digest", payload.contains('"leader"')))
        _keyset_loop(engine, report, size, max_batches, lambda s, after: s.exec(
            select(models.OutboxMessage).where(col(models.OutboxMessage.id) > after,
                                               col(models.OutboxMessage.kind).in_((*COPY_KINDS, "digest")),
                                               col(models.OutboxMessage.status).in_(("sent", "parked", "digested")),
                                               col(models.OutboxMessage.created_at) < text_cut, holding)
            .order_by(col(models.OutboxMessage.id)).limit(size)).all(),
            lambda s, rows: _copies(s, rows, report))
        _keyset_loop(engine, report, size, max_batches, lambda s, after: s.exec(
            select(models.Incident).where(col(models.Incident.id) > after, col(models.Incident.opened_at) < text_cut)
            .order_by(col(models.Incident.id)).limit(size)).all(),
            lambda s, rows: _incidents(s, rows, lang, report))
    if raw_cut is not None:
        busy = select(models.NetworkAction.mention_id).where(
            col(models.NetworkAction.status).in_(IN_PROGRESS_ACTIONS))
        # A reply or hide in progress may need the raw item (ids, thread refs) to reach the network: it waits.
        _flagged_loop(engine, report, size, max_batches, lambda s: s.exec(
            select(models.Mention.id).where(col(models.Mention.raw_purged_at).is_(None),
                                            col(models.Mention.created_at) < raw_cut,
                                            col(models.Mention.id).not_in(busy))
            .order_by(col(models.Mention.created_at)).limit(size).with_for_update(skip_locked=True)).all(),
            lambda s, ids: _raws(s, ids, now, report))
        _flagged_loop(engine, report, size, max_batches, lambda s: s.exec(
            select(models.RejectedItem.id).where(col(models.RejectedItem.raw).is_not(None),
                                                 col(models.RejectedItem.seen_at) < raw_cut)
            .order_by(col(models.RejectedItem.id)).limit(size).with_for_update(skip_locked=True)).all(),
            lambda s, ids: _rejected(s, ids, report))
        # The brand's own posts are not personal data, but their raw copies may embed commenters: same period.
        # A post still refreshed by its source gets its raw back at the next poll, which is expected.
        _flagged_loop(engine, report, size, max_batches, lambda s: s.exec(
            select(models.OwnPost.id).where(col(models.OwnPost.fetched_at) < raw_cut,
                                            func.length(cast(models.OwnPost.raw, Text)) > 2)
            .order_by(col(models.OwnPost.id)).limit(size).with_for_update(skip_locked=True)).all(),
            lambda s, ids: _own_posts(s, ids, report))
    if report.total:
        with session_scope(engine) as session:
            session.add(models.GdprRequest(kind="purge", requested_by=actor[:100], at=now, counts=report.counts()))
        logger.info("retention purge: %s", report.counts())
    return report


def _flagged_loop(engine: Engine, report: PurgeReport, size: int, max_batches: int | None,
                  pick: Callable[[Session], Any], apply: Callable[[Session, list[int]], None]) -> None:
    """Batches of rows that leave the selection once purged: pick, apply, commit, until none is left."""
    done = 0
    while max_batches is None or done < max_batches:
        with session_scope(engine) as session:
            ids = [i for i in pick(session) if i is not None]
            if not ids:
                return
            apply(session, ids)
        done += 1
        report.batches += 1
        if len(ids) < size:
            return


def _keyset_loop(engine: Engine, report: PurgeReport, size: int, max_batches: int | None,
                 pick: Callable[[Session, int], Any], apply: Callable[[Session, list[Any]], None]) -> None:
    """Batches walked by id (rows that stay selectable once purged): each id is seen once per run."""
    after, done = 0, 0
    while max_batches is None or done < max_batches:
        with session_scope(engine) as session:
            rows = list(pick(session, after))
            if not rows:
                return
            apply(session, rows)
            after = max(r.id for r in rows)
        done += 1
        report.batches += 1
        if len(rows) < size:
            return


def _texts(session: Session, ids: list[int], now: datetime, lang: Lang, report: PurgeReport) -> None:
    events, actions = purge_mention_texts(session, ids, now, lang)
    report.texts += len(ids)
    report.events += events
    report.actions += actions


def _authors(session: Session, ids: list[int], now: datetime, report: PurgeReport) -> None:
    # "~<id>" cannot be a handle on any network, keeps (network, handle) unique, and a returning author gets a
    # new row under their real handle.
    session.execute(update(models.Author).where(col(models.Author.id).in_(ids)).values(
        handle=literal("~").concat(cast(models.Author.id, String)), name=None, followers=None, erased_at=now))
    report.authors += len(ids)


def _copies(session: Session, rows: list[models.OutboxMessage], report: PurgeReport) -> None:
    for row in rows:
        if row.kind == "digest":
            payload = {k: v for k, v in row.payload.items() if k != "leader"}  # the leader is a mention's text
        else:
            payload = {}
        if payload != row.payload:
            row.payload = payload
            session.add(row)
            report.messages += 1


def _incidents(session: Session, rows: list[models.Incident], lang: Lang, report: PurgeReport) -> None:
    for incident in rows:
        facts = dict(incident.facts or {})
        if facts.get("purged"):
            continue
        # The spike's figures stay; the handles of the authors driving it and terms naming people go.
        facts["authors"] = [{k: v for k, v in a.items() if k != "handle"} for a in facts.get("authors") or []]
        facts["terms"] = [term for term in facts.get("terms") or [] if not str(term).startswith("@")]
        facts["purged"] = True
        incident.facts = facts
        if incident.source == "card":  # its title quotes the item it was opened from
            incident.title = t("incident_from_card", lang, text=t("gdpr_removed", lang))[:300]
        session.add(incident)
        report.incidents += 1


def _raws(session: Session, ids: list[int], now: datetime, report: PurgeReport) -> None:
    session.execute(update(models.Mention).where(col(models.Mention.id).in_(ids)).values(raw={}, raw_purged_at=now))
    report.raws += len(ids)


def _rejected(session: Session, ids: list[int], report: PurgeReport) -> None:
    # SQL NULL (not JSON null), so the row leaves the selection.
    session.execute(update(models.RejectedItem).where(col(models.RejectedItem.id).in_(ids)).values(raw=null()))
    report.rejected += len(ids)


def _own_posts(session: Session, ids: list[int], report: PurgeReport) -> None:
    session.execute(update(models.OwnPost).where(col(models.OwnPost.id).in_(ids)).values(raw={}))
    report.own_posts += len(ids)


def _count(session: Session, report: PurgeReport, raw_cut: datetime | None, text_cut: datetime | None) -> None:
    """A dry run: how many rows each step would purge now."""

    def n(query: Any) -> int:
        return int(session.exec(query).one())

    if text_cut is not None:
        expiring = select(models.Mention.id).where(col(models.Mention.text_purged_at).is_(None),
                                                   col(models.Mention.created_at) < text_cut)
        report.texts = n(select(func.count()).select_from(expiring.subquery()))
        report.authors = n(select(func.count()).where(col(models.Author.erased_at).is_(None),
                                                      col(models.Author.last_seen_at) < text_cut))
        report.actions = n(select(func.count()).where(
            col(models.NetworkAction.mention_id).in_(expiring),
            col(models.NetworkAction.status).not_in(IN_PROGRESS_ACTIONS),
            col(models.NetworkAction.text).is_not(None) | col(models.NetworkAction.error).is_not(None)))
        report.events = sum(1 for (detail,) in session.execute(
            select(models.CardEvent.detail).where(col(models.CardEvent.mention_id).in_(expiring)))
            if any(detail.get(k) for k in TEXT_DETAIL_KEYS))
        report.messages = n(select(func.count()).where(
            col(models.OutboxMessage.kind).in_(COPY_KINDS), col(models.OutboxMessage.status).in_(("sent", "parked")),
            col(models.OutboxMessage.created_at) < text_cut, func.length(cast(models.OutboxMessage.payload, Text)) > 2))
        report.incidents = sum(1 for (facts,) in session.execute(
            select(models.Incident.facts).where(col(models.Incident.opened_at) < text_cut))
            if not (facts or {}).get("purged"))
    if raw_cut is not None:
        raw_only = [col(models.Mention.raw_purged_at).is_(None), col(models.Mention.created_at) < raw_cut]
        if text_cut is not None:
            raw_only.append(col(models.Mention.created_at) >= text_cut)  # older ones go with their text
        report.raws = n(select(func.count()).where(*raw_only))
        report.rejected = n(select(func.count()).where(col(models.RejectedItem.raw).is_not(None),
                                                       col(models.RejectedItem.seen_at) < raw_cut))
        report.own_posts = n(select(func.count()).where(col(models.OwnPost.fetched_at) < raw_cut,
                                                        func.length(cast(models.OwnPost.raw, Text)) > 2))
