"""Every job that runs on a clock, declared in one place, around one wrapper that keeps the scheduler alive."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.coordination import Coordinator
from bot.deps import Deps
from monitors.poll import ScheduledSource, make_http_client, poll_once
from monitors.sources.http import SourceHttp

__all__ = ["ScheduledSource", "build_scheduler", "job"]

logger = logging.getLogger(__name__)

# Polls spend their time waiting on the networks: one thread per source (bounded) keeps them concurrent,
# so a slow network never delays the others.
MAX_POLL_THREADS = 64


def job(job_id: str, body: Callable[[], Any]) -> Callable[[], None]:
    """Wrap a job body: log its failures with the job id, and keep the scheduler alive."""

    def run() -> None:
        try:
            body()
        except Exception:
            logger.exception("job %s failed; it will run again at its next time", job_id)

    return run


def build_scheduler(deps: Deps, sources: list[ScheduledSource],
                    coordinator: Coordinator | None = None) -> BackgroundScheduler:
    """A scheduler with one poll job per source (not started); polls run concurrently in a thread pool.

    With a `coordinator`, each source is polled under its lease `poll:<name>`: every replica schedules every
    source, only the lease holder polls it, and a dead holder's sources are taken over when their lease expires.
    """
    threads = max(10, min(MAX_POLL_THREADS, len(sources) + 4))
    scheduler = BackgroundScheduler(timezone="UTC", executors={"default": ThreadPoolExecutor(threads)})
    client: httpx.Client | None = make_http_client() if any(s.source.uses_http for s in sources) else None
    for item in sources:
        job_id = f"poll:{item.name}"
        http = SourceHttp(client, source=item.name, network=item.source.network) if client is not None else None
        role = coordinator.role(job_id) if coordinator is not None else None
        scheduler.add_job(
            job(job_id, lambda item=item, http=http, role=role: (role is None or role()) and poll_once(
                deps, name=item.name, source=item.source, every_s=item.every_s, http=http,
                config_hash=item.fingerprint, guard=role.guard if role is not None else None)),
            "interval", seconds=item.every_s, id=job_id, replace_existing=True, coalesce=True, max_instances=1,
            next_run_time=None if item.every_s <= 0 else datetime.now(UTC),
        )
    if client is not None:
        scheduler.add_listener(lambda _event: client.close(), EVENT_SCHEDULER_SHUTDOWN)
    return scheduler
