"""KPI figures computed from the store: volume, sentiment shares and open items over a time window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import models


@dataclass(frozen=True, slots=True)
class WindowFigures:
    start: datetime
    end: datetime
    total: int
    positive: int
    neutral: int
    negative: int
    open: int
    handled: int
    by_network: dict[str, int] = field(default_factory=dict)

    def share(self, count: int) -> int:
        """Percentage of the window's total, rounded; 0 for an empty window."""
        return round(100 * count / self.total) if self.total else 0


def window(session: Session, start: datetime, end: datetime) -> WindowFigures:
    """Figures for mentions created in [start, end)."""
    in_window = (col(models.Mention.created_at) >= start, col(models.Mention.created_at) < end)
    rows = session.exec(
        select(models.Mention.sentiment_label, models.Mention.status, func.count())
        .where(*in_window)
        .group_by(models.Mention.sentiment_label, models.Mention.status)
    ).all()
    sentiment = {"positive": 0, "neutral": 0, "negative": 0}
    status: dict[str, int] = {}
    for label, state, count in rows:
        sentiment[label] = sentiment.get(label, 0) + count
        status[state] = status.get(state, 0) + count
    networks = session.exec(
        select(models.Mention.network, func.count()).where(*in_window).group_by(models.Mention.network)
    ).all()
    return WindowFigures(
        start=start, end=end, total=sum(status.values()), positive=sentiment["positive"],
        neutral=sentiment["neutral"], negative=sentiment["negative"], open=status.get("open", 0),
        handled=status.get("handled", 0), by_network=dict(sorted(networks, key=lambda kv: -kv[1])),
    )


def today_and_week(session: Session, *, now: datetime, tz: str) -> tuple[WindowFigures, WindowFigures]:
    """Today (since local midnight in the team's zone) and the last 7 days, both ending now."""
    local = now.astimezone(ZoneInfo(tz))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = now + timedelta(microseconds=1)  # include an item stamped exactly `now`
    return window(session, midnight, end), window(session, now - timedelta(days=7), end)
