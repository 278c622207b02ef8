"""What a member's App Home shows: their open and overdue items, the team queue, on-call, sources, next posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import models
from bot.services import calendar
from bot.workspace import Oncall, Workspace


@dataclass(frozen=True, slots=True)
class HomeData:
    mine: Sequence[models.Mention]
    overdue: Sequence[models.Mention]
    queue: dict[str, int]  # responsibility (or "triage") -> open items
    oncall: str | None
    sources: Sequence[models.SourceCursor]
    next_posts: Sequence[models.CalendarPost]


def current_oncall(oncall: Oncall, now: datetime) -> str | None:
    """Who is on call at `now` by simple rotation (each shift a day or a week, starting on Mondays)."""
    if not oncall.rotation:
        return None
    shift = timedelta(days=1 if oncall.handoff == "daily" else 7)
    # 2024-01-01 is a Monday: weekly shifts then hand off on Mondays at midnight UTC.
    index = int((now - datetime.fromisoformat("2024-01-01T00:00:00+00:00")) // shift)
    return oncall.rotation[index % len(oncall.rotation)]


def home_data(session: Session, *, user: str, workspace: Workspace, now: datetime, overdue_after: timedelta,
              limit: int = 10) -> HomeData:
    owned = (
        select(models.Mention)
        .join(models.Assignment, models.Assignment.mention_id == models.Mention.id)  # type: ignore[arg-type]
        .where(models.Assignment.owner == user, models.Assignment.active == True,  # noqa: E712
               models.Mention.status == "open")
    )
    mine = session.exec(owned.order_by(col(models.Mention.created_at).desc()).limit(limit)).all()
    overdue = session.exec(owned.where(models.Mention.created_at < now - overdue_after)
                           .order_by(col(models.Mention.created_at)).limit(limit)).all()
    queue = {name or "triage": n for name, n in session.exec(
        select(models.Mention.responsibility, func.count()).where(models.Mention.status == "open")
        .group_by(models.Mention.responsibility)).all()}
    sources = session.exec(select(models.SourceCursor).order_by(col(models.SourceCursor.source))).all()
    return HomeData(mine=mine, overdue=overdue, queue=dict(sorted(queue.items(), key=lambda kv: -kv[1])),
                    oncall=current_oncall(workspace.oncall, now), sources=sources,
                    next_posts=calendar.upcoming(session, now=now, days=7)[:5])
