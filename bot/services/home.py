"""What a member's App Home shows: their open and overdue items, the team queue, on-call, sources, next posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import models
from bot.services import calendar, oncall
from bot.workspace import Workspace


@dataclass(frozen=True, slots=True)
class HomeData:
    mine: Sequence[models.Mention]
    overdue: Sequence[models.Mention]
    queue: dict[str, int]  # responsibility (or "triage") -> open items
    oncall: str | None
    sources: Sequence[models.SourceCursor]
    next_posts: Sequence[models.CalendarPost]
    consistency: Any = None  # rules.engagement.Consistency over the last 7 days
    user: str | None = None
    away: bool = False


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
    from bot.services.engagement import team_consistency

    shift = oncall.on_call(session, workspace.oncall, now)
    away = session.get(models.AwayMember, user) is not None
    return HomeData(consistency=team_consistency(session, since=now - timedelta(days=7), now=now), user=user,
                    away=away,
                    mine=mine, overdue=overdue, queue=dict(sorted(queue.items(), key=lambda kv: -kv[1])),
                    oncall=shift.user if shift else None, sources=sources,
                    next_posts=calendar.upcoming(session, now=now, days=7)[:5])


def set_away(session: Session, *, user: str, away: bool, now: datetime) -> bool:
    """Mark a member away (routing skips them) or back; False when nothing changed."""
    row = session.get(models.AwayMember, user)
    if away and row is None:
        session.add(models.AwayMember(user=user, since=now))
        return True
    if not away and row is not None:
        session.delete(row)
        return True
    return False
