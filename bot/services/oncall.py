"""Who is on call: a rotation of shifts (daily or weekly handoffs at a local time) plus overrides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import models
from bot.workspace import Oncall

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class Shift:
    user: str
    start: datetime
    end: datetime
    override: bool = False


def _anchor(cfg: Oncall) -> datetime:
    """The first handoff of the rotation: 2024-01-01 (a Monday) at handoff_time, moved to handoff_day."""
    hour, minute = (int(x) for x in cfg.handoff_time.split(":"))
    zone = ZoneInfo(cfg.timezone)
    start = datetime(2024, 1, 1, hour, minute, tzinfo=zone)
    if cfg.handoff == "weekly":
        start += timedelta(days=DAYS.index(cfg.handoff_day))
    return start


def rotation_shift(cfg: Oncall, at: datetime, offset: int = 0) -> Shift | None:
    """The rotation's shift containing `at` (offset 1: the one after it), ignoring overrides."""
    if not cfg.rotation:
        return None
    zone = ZoneInfo(cfg.timezone)
    anchor = _anchor(cfg)
    local = at.astimezone(zone)
    # Count shifts in local calendar days so a DST change moves no handoff off its local time.
    days = (local.replace(tzinfo=None) - anchor.replace(tzinfo=None)).total_seconds() / 86400
    length = 1 if cfg.handoff == "daily" else 7
    index = int(days // length) + offset
    start_naive = anchor.replace(tzinfo=None) + timedelta(days=index * length)
    start = start_naive.replace(tzinfo=zone)
    end = (start_naive + timedelta(days=length)).replace(tzinfo=zone)
    return Shift(cfg.rotation[index % len(cfg.rotation)], start, end)


def overrides(session: Session, at: datetime) -> Sequence[models.OncallOverride]:
    return session.exec(select(models.OncallOverride).where(col(models.OncallOverride.start) <= at,
                                                            col(models.OncallOverride.end) > at)
                        .order_by(col(models.OncallOverride.id).desc())).all()


def on_call(session: Session, cfg: Oncall, at: datetime) -> Shift | None:
    """Who is on call at `at`: the latest override covering it, else the rotation."""
    active = overrides(session, at)
    if active:
        o = active[0]
        return Shift(o.user, o.start, o.end, override=True)
    return rotation_shift(cfg, at)


def next_on_call(session: Session, cfg: Oncall, at: datetime) -> Shift | None:
    """The next shift after the current one (rotation order; a future override wins if it starts first)."""
    current = on_call(session, cfg, at)
    if current is None:
        return None
    following = on_call(session, cfg, current.end)
    if following is not None and following.user == current.user and not current.override:
        following = rotation_shift(cfg, current.end, offset=1)
    return following


def override(session: Session, cfg: Oncall, *, user: str, by: str, start: datetime,
             end: datetime | None = None) -> models.OncallOverride:
    """Put `user` on call from `start` (to the end of the shift then running, unless `end` is given)."""
    if end is None:
        shift = on_call(session, cfg, start)
        end = shift.end if shift is not None else start + timedelta(hours=24)
    row = models.OncallOverride(user=user, start=start, end=end, created_by=by, created_at=start)
    session.add(row)
    return row
