"""Source health at a glance, for `veille status` and `/veille status`: one row per configured source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, func, select

from bot import models
from bot.workspace import Workspace


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What an admin needs to know about one source. `state` is ok, failing, paused, waiting, new or disabled."""

    name: str
    type: str
    state: str
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    items_seen: int
    next_poll_at: datetime | None
    consecutive_failures: int
    paused_reason: str | None
    rejected: int = 0  # malformed items kept aside in `rejected_items`


def source_health(session: Session, workspace: Workspace, *, now: datetime) -> list[SourceHealth]:
    """Every configured source in config order, with its stored health (sources never polled show as "new")."""
    rows = {row.source: row for row in session.exec(select(models.SourceCursor)).all()}
    rejected = dict(session.exec(select(models.RejectedItem.source, func.count())
                                 .group_by(models.RejectedItem.source)).all())
    health = []
    for cfg in workspace.sources:
        row = rows.get(cfg.name)
        if not cfg.enabled:
            state = "disabled"
        elif row is None or (row.last_success_at is None and row.last_error is None):
            state = "new"
        elif row.paused_reason:
            state = "paused"
        elif row.consecutive_failures:
            state = "failing"
        elif row.not_before is not None and row.not_before > now:
            state = "waiting"  # rate-limited: the network asked us to wait
        else:
            state = "ok"
        next_poll = None
        if row is not None and state not in ("disabled", "paused"):
            next_poll = max((t for t in (row.next_poll_at, row.not_before) if t is not None), default=None)
        health.append(SourceHealth(
            name=cfg.name, type=cfg.type, state=state,
            last_success_at=row.last_success_at if row else None, last_error=row.last_error if row else None,
            last_error_at=row.last_error_at if row else None, items_seen=row.items_seen if row else 0,
            next_poll_at=next_poll, consecutive_failures=row.consecutive_failures if row else 0,
            paused_reason=row.paused_reason if row else None, rejected=rejected.get(cfg.name, 0),
        ))
    return health


def ago(when: datetime | None, now: datetime) -> str:
    """A short relative time: "3m ago", "in 2h", "never"."""
    if when is None:
        return "never"
    seconds = (now - when).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            text = f"{int(seconds // size)}{unit}"
            break
    else:
        text = f"{int(seconds)}s"
    return f"in {text}" if future else f"{text} ago"
