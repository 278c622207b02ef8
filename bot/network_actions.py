"""Execute approved replies and hides on the networks, exactly once, with retries that never repeat a done action.

An action is claimed (`sending`) before the network call and carries an idempotency key the connector
passes on (Mastodon's Idempotency-Key header, or a check for an existing reply), so a crash between the
network's answer and our commit does not reply twice. Success marks the mention handled and lands in the
card's thread; a refusal is shown on the card with its reason.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import models
from bot.clock import Clock
from bot.db import session_scope
from bot.services.triage import record
from bot.workspace import Workspace
from monitors.sources.base import AuthFailed, Mention, NotSupported, RateLimited, SourceError

logger = logging.getLogger(__name__)

# (source name, network mention, action) -> the network's id for what was done
Executor = Callable[[str, Mention, models.NetworkAction], str | None]


@dataclass(slots=True)
class ActionReport:
    done: int = 0
    failed: int = 0
    deferred: int = 0


def as_network_mention(row: models.Mention, author: models.Author) -> Mention:
    """Rebuild the normalized mention a connector acts on from its stored row (ids and raw payload)."""
    return Mention(network=row.network, external_id=row.external_id, kind=row.kind, author_handle=author.handle,
                   text=row.text, created_at=row.created_at, author_name=author.name, lang=row.lang,
                   permalink=row.permalink, parent_id=row.parent_id, conversation_id=row.conversation_id,
                   raw=row.raw)


class NetworkActionRunner:
    """Run due network actions through an executor (the connectors, wired by the runtime)."""

    def __init__(self, *, engine: Engine, clock: Clock, workspace: Workspace, execute: Executor,
                 max_attempts: int = 6) -> None:
        self._engine = engine
        self._clock = clock
        self._workspace = workspace
        self._execute = execute
        self._max_attempts = max_attempts

    def recover(self) -> None:
        """A process that died mid-call leaves `sending` rows: try them again (the key keeps it once)."""
        with session_scope(self._engine) as session:
            session.execute(update(models.NetworkAction).where(col(models.NetworkAction.status) == "sending")
                            .values(status="approved"))

    def run_due(self) -> ActionReport:
        report = ActionReport()
        now = self._clock.now()
        with Session(self._engine) as session:
            due = session.exec(select(models.NetworkAction.id).where(
                models.NetworkAction.status == "approved", col(models.NetworkAction.next_attempt_at) <= now)
                .order_by(col(models.NetworkAction.id)).limit(50)).all()
        for action_id in due:
            self._run(action_id, report)
        return report

    def _run(self, action_id: int, report: ActionReport) -> None:
        with session_scope(self._engine) as session:
            claimed = session.execute(update(models.NetworkAction).where(
                col(models.NetworkAction.id) == action_id, col(models.NetworkAction.status) == "approved")
                .values(status="sending", attempts=models.NetworkAction.attempts + 1)).rowcount
            if not claimed:
                return
            action = session.get(models.NetworkAction, action_id)
            assert action is not None
            mention = session.get(models.Mention, action.mention_id)
            assert mention is not None
            author = session.get(models.Author, mention.author_id)
            assert author is not None
            target, source = as_network_mention(mention, author), mention.source
            session.expunge(action)
        try:
            network_id = self._execute(source, target, action)
        except (NotSupported, AuthFailed) as exc:
            self._finish(action_id, ok=False, error=exc.message, report=report)
        except (RateLimited, SourceError) as exc:
            retry = exc.retry_after if isinstance(exc, RateLimited) else random.uniform(1, 2 ** min(action.attempts, 8))
            if action.attempts >= self._max_attempts:
                self._finish(action_id, ok=False, error=exc.message, report=report)
                return
            with session_scope(self._engine) as session:
                session.execute(update(models.NetworkAction).where(col(models.NetworkAction.id) == action_id)
                                .values(status="approved", error=exc.message,
                                        next_attempt_at=self._clock.now() + timedelta(seconds=retry)))
            report.deferred += 1
        except Exception as exc:  # noqa: BLE001 - a connector bug must not kill the runner; shown on the card
            logger.exception("network action %s failed unexpectedly", action_id)
            self._finish(action_id, ok=False, error=f"unexpected error ({type(exc).__name__})", report=report)
        else:
            self._finish(action_id, ok=True, network_id=network_id, report=report)

    def _finish(self, action_id: int, *, ok: bool, report: ActionReport, network_id: str | None = None,
                error: str | None = None) -> None:
        ws = self._workspace
        now = self._clock.now()
        with session_scope(self._engine) as session:
            action = session.get(models.NetworkAction, action_id)
            assert action is not None
            mention = session.get(models.Mention, action.mention_id)
            assert mention is not None
            action.status, action.error = ("done", None) if ok else ("failed", error)
            action.done_at, action.network_id = (now if ok else None), network_id
            session.add(action)
            if ok and mention.status != "handled":
                # Answering on the network is handling it: it counts for response times and consistency.
                mention.status, mention.handled_by, mention.handled_at = "handled", action.requested_by, now
                session.add(mention)
            event = {("reply", True): "replied", ("hide", True): "hidden"}.get((action.kind, ok), "action_failed")
            record(session, mention, actor=action.approved_by or action.requested_by, action=event, now=now,
                   lang=ws.brand.language, tz=ws.brand.timezone, text=action.text or "", error=error or "")
        if ok:
            report.done += 1
        else:
            report.failed += 1
