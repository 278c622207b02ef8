"""The content calendar read from the store: upcoming posts grouped by day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot import models


def upcoming(session: Session, *, now: datetime, days: int = 7) -> Sequence[models.CalendarPost]:
    """Posts scheduled from now to `days` ahead, not cancelled, in time order."""
    return session.exec(
        select(models.CalendarPost)
        .where(col(models.CalendarPost.scheduled_at) >= now,
               col(models.CalendarPost.scheduled_at) < now + timedelta(days=days),
               col(models.CalendarPost.status) != "cancelled")
        .order_by(col(models.CalendarPost.scheduled_at))
    ).all()
