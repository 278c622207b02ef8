"""The calendar's periodic job: remind a post's owner before it is due, nudge them when it is overdue.

Each DM goes through the outbox under a key naming the post and its planned time, and the post records
`reminded_at` / `nudged_at`: running the job twice, or on two replicas, sends each message once; a post moved
to a new time is reminded again. The job also completes the posts a connector saw go live (`published_at`,
link), so the buzz watch and the listing know when and where they were published.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import models
from bot.db import session_scope
from bot.messages import t
from bot.outbox import enqueue_message
from bot.render.calendar import short_at
from bot.render.cards import network_label
from bot.render.escape import escape
from bot.workspace import Workspace

logger = logging.getLogger(__name__)

PENDING = ("draft", "scheduled")
# A post overdue for longer than this when the job first sees it (a bot down for days) is not nudged any more.
NUDGE_HORIZON = timedelta(days=2)
BATCH = 200


def _sync_published(session: Session) -> int:
    """Fill `published_at` and the link of posts a connector marked published (from the own post it saw)."""
    rows = session.exec(
        select(models.CalendarPost, models.OwnPost.created_at, models.OwnPost.permalink)
        .join(models.OwnPost, col(models.OwnPost.calendar_post_id) == col(models.CalendarPost.id))
        .where(models.CalendarPost.status == "published", col(models.CalendarPost.published_at).is_(None))
        .limit(BATCH)).all()
    for post, created_at, permalink in rows:
        post.published_at = created_at
        post.permalink = post.permalink or permalink
        session.add(post)
    return len(rows)


def remind_due_posts(engine: Engine, workspace: Workspace, now: datetime) -> int:
    """Queue the due reminders and overdue nudges; returns how many messages were queued."""
    cfg = workspace.calendar
    tz, lang = workspace.brand.timezone, workspace.brand.language
    queued = 0
    try:
        with session_scope(engine) as session:
            _sync_published(session)
            due = session.exec(select(models.CalendarPost).where(
                col(models.CalendarPost.status).in_(PENDING), col(models.CalendarPost.scheduled_at) > now,
                col(models.CalendarPost.scheduled_at) <= now + timedelta(minutes=cfg.reminder_before_min),
                col(models.CalendarPost.reminded_at).is_(None)).order_by(col(models.CalendarPost.scheduled_at))
                .limit(BATCH)).all()
            for post in due:
                owner = post.owner or workspace.fallback_owner
                post.reminded_at = now
                session.add(post)
                if owner and enqueue_message(
                        session, key=f"calendar-remind:{post.id}:{post.scheduled_at.isoformat()}", channel=owner,
                        now=now, blocks=[], text=t(
                            "cal_reminder", lang, title=escape(post.title), network=network_label(post.network),
                            at=short_at(post.scheduled_at, tz, lang),
                            minutes=max(1, round((post.scheduled_at - now).total_seconds() / 60)))):
                    queued += 1
            overdue = session.exec(select(models.CalendarPost).where(
                col(models.CalendarPost.status).in_(PENDING),
                col(models.CalendarPost.scheduled_at) <= now - timedelta(minutes=cfg.overdue_after_min),
                col(models.CalendarPost.scheduled_at) > now - NUDGE_HORIZON,
                col(models.CalendarPost.nudged_at).is_(None)).order_by(col(models.CalendarPost.scheduled_at))
                .limit(BATCH)).all()
            for post in overdue:
                owner = post.owner or workspace.fallback_owner
                post.nudged_at = now
                session.add(post)
                if owner and enqueue_message(
                        session, key=f"calendar-nudge:{post.id}:{post.scheduled_at.isoformat()}", channel=owner,
                        now=now, blocks=[], text=t("cal_nudge", lang, title=escape(post.title),
                                                   network=network_label(post.network),
                                                   at=short_at(post.scheduled_at, tz, lang))):
                    queued += 1
    except IntegrityError:
        # Another replica queued the same reminder at the same instant: its copy goes out, ours is dropped.
        logger.info("calendar reminders already queued by another replica")
        return 0
    if queued:
        logger.info("calendar: %d reminder(s) queued", queued)
    return queued
