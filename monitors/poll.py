"""One poll of one source: fetch from its stored cursor, run the pipeline, store everything in one transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from bot import models
from bot.db import session_scope
from bot.deps import Deps
from bot.pipeline import IngestResult, ingest_page
from monitors.sources.base import Page

logger = logging.getLogger(__name__)


class PollableSource(Protocol):
    def fetch(self, cursor: str | None, *, now) -> Page: ...  # type: ignore[no-untyped-def]


@dataclass(slots=True)
class PollResult:
    source: str
    ingest: IngestResult
    cursor: str | None


def poll_once(deps: Deps, *, name: str, source: PollableSource) -> PollResult:
    """Fetch what is new since the stored cursor and ingest it; the cursor moves only if the batch commits."""
    with Session(deps.engine) as session:
        row = session.get(models.SourceCursor, name)
        cursor = row.cursor if row else None
    now = deps.clock.now()
    try:
        page = source.fetch(cursor, now=now)
    except Exception as exc:
        _record_error(deps, name, f"{type(exc).__name__}: {exc}")
        raise
    with session_scope(deps.engine) as session:
        result = ingest_page(session, page, source=name, workspace=deps.workspace, scorer=deps.scorer, now=now)
    if result.stored:
        deps.wake_outbox()
        logger.info("source %s: %d new, %d duplicate(s)", name, result.stored, result.duplicates)
    return PollResult(name, result, page.cursor or cursor)


def _record_error(deps: Deps, name: str, message: str) -> None:
    with session_scope(deps.engine) as session:
        row = session.get(models.SourceCursor, name) or models.SourceCursor(source=name)
        row.last_error, row.last_error_at = message[:2000], deps.clock.now()
        session.add(row)
