"""Every job that runs on a clock, declared in one place, around one wrapper that keeps the scheduler alive."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from bot.deps import Deps
from monitors.poll import PollableSource, poll_once

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScheduledSource:
    name: str
    source: PollableSource
    every_s: float


def job(job_id: str, body: Callable[[], Any]) -> Callable[[], None]:
    """Wrap a job body: log its failures with the job id, and keep the scheduler alive."""

    def run() -> None:
        try:
            body()
        except Exception:
            logger.exception("job %s failed; it will run again at its next time", job_id)

    return run


def build_scheduler(deps: Deps, sources: list[ScheduledSource]) -> BackgroundScheduler:
    """A scheduler with one poll job per source (not started)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    for item in sources:
        job_id = f"poll:{item.name}"
        scheduler.add_job(
            job(job_id, lambda item=item: poll_once(deps, name=item.name, source=item.source)),
            "interval", seconds=item.every_s, id=job_id, replace_existing=True, coalesce=True, max_instances=1,
            next_run_time=None if item.every_s <= 0 else _now(),
        )
    return scheduler


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
