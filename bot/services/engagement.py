"""Engagement tasks in the store: created from the rules' decisions, closed by what the team does, measured
for consistency, and followed up (a nudge before the deadline, an escalation after it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import models
from bot.messages import Lang, t
from bot.outbox import enqueue_message
from bot.render.escape import escape, truncate
from rules.engagement import Consistency, Task, consistency
from rules.routing import AssignmentState

DONE_BY = {"handled", "replied", "hidden"}  # card events that fulfil a task
CANCELLED_BY = {"dismissed"}


class StoreAssignmentState(AssignmentState):
    """Routing's view of the team, answered by the store: who is away, open items, last assignment."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._away: set[str] | None = None
        self._open: dict[str, int] | None = None

    def is_away(self, owner: str) -> bool:
        if self._away is None:
            self._away = set(self._session.exec(select(models.AwayMember.user)).all())
        return owner in self._away

    def open_items(self, owner: str) -> int:
        if self._open is None:
            # One row per owner, kept by triggers (bot/services/owner_load.py): read once, never counted from the
            # open backlog, however large it is.
            self._open = {o: int(n) for o, n in self._session.exec(
                select(models.OwnerOpenCount.owner, models.OwnerOpenCount.n)).all()}
        return self._open.get(owner, 0)

    def last_assigned(self, responsibility: str) -> str | None:
        # The end of the responsibility's range of ix_assignments_responsibility_latest. LIMIT 1: the ORM buffers
        # every row a query returns, and a responsibility's history only grows.
        return self._session.exec(select(models.Assignment.owner).where(
            models.Assignment.responsibility == responsibility).order_by(col(models.Assignment.id).desc())
            .limit(1)).first()


def store_tasks(session: Session, mention_id: int, tasks: Sequence[Task]) -> None:
    for task in tasks:
        session.add(models.Task(mention_id=mention_id, rule_id=task.rule_id, action=task.action, owner=task.owner,
                                created_at=task.created_at, due_at=task.due_at, nudge_at=task.nudge_at,
                                escalate_to=task.escalate_to))


def close_tasks(session: Session, mention_id: int, action: str, now: datetime) -> None:
    """What a member just did on the item closes its open tasks (or takes them out of the counts)."""
    if action in DONE_BY:
        session.execute(update(models.Task).where(col(models.Task.mention_id) == mention_id,
                                                  col(models.Task.done_at).is_(None)).values(done_at=now))
    elif action in CANCELLED_BY:
        session.execute(update(models.Task).where(col(models.Task.mention_id) == mention_id,
                                                  col(models.Task.done_at).is_(None)).values(cancelled=True))
    elif action == "reopened":
        session.execute(update(models.Task).where(col(models.Task.mention_id) == mention_id)
                        .values(cancelled=False))


def _as_task(row: models.Task) -> Task:
    return Task(rule_id=row.rule_id, action=row.action, owner=row.owner, created_at=row.created_at, due_at=row.due_at,
                done_at=row.done_at, nudge_at=row.nudge_at, nudged_at=row.nudged_at, escalate_to=row.escalate_to,
                escalated_at=row.escalated_at, cancelled=row.cancelled, item=row.mention_id)


def team_consistency(session: Session, *, since: datetime, now: datetime) -> Consistency:
    """Consistency of every rule, per owner and overall, over tasks created since `since`."""
    rows = session.exec(select(models.Task).where(col(models.Task.created_at) >= since)).all()
    return consistency([_as_task(r) for r in rows], now)


def follow_up(session: Session, *, now: datetime, lang: Lang, channel: str, limit: int = 10) -> int:
    """Nudge owners before deadlines (one DM per owner) and report what is overdue (one message), each task once.

    Grouped so that a flood of tasks makes a few messages per pass, not one per task.
    """
    open_task = (col(models.Task.done_at).is_(None), col(models.Task.cancelled).is_(False))
    nudges = session.exec(select(models.Task).where(
        *open_task, col(models.Task.nudged_at).is_(None), col(models.Task.nudge_at) <= now,
        col(models.Task.due_at) > now, col(models.Task.owner).is_not(None)).limit(500)).all()
    by_owner: dict[str, list[models.Task]] = {}
    for task in nudges:
        by_owner.setdefault(task.owner or "", []).append(task)
        task.nudged_at = now
        session.add(task)
    for owner, tasks in by_owner.items():
        lines = [_line(session, task, now, lang) for task in tasks[:limit]]
        more = t("and_more", lang, n=len(tasks) - limit) if len(tasks) > limit else ""
        enqueue_message(session, key=f"nudge:{owner}:{tasks[0].id}", channel=owner, now=now, blocks=[],
                        text=t("task_nudges", lang, n=len(tasks)) + "\n" + "\n".join(lines) + more)
    overdue = session.exec(select(models.Task).where(
        *open_task, col(models.Task.escalated_at).is_(None), col(models.Task.due_at) <= now).limit(500)).all()
    for task in overdue:
        task.escalated_at = now
        session.add(task)
    if overdue:
        people = sorted({f"<@{task.escalate_to or task.owner}>" for task in overdue if task.escalate_to or task.owner})
        lines = [_line(session, task, now, lang) for task in overdue[:limit]]
        more = t("and_more", lang, n=len(overdue) - limit) if len(overdue) > limit else ""
        enqueue_message(session, key=f"overdue:{overdue[0].id}", channel=channel, now=now, blocks=[],
                        text=t("task_overdue", lang, n=len(overdue), people=", ".join(people) or "—") + "\n"
                        + "\n".join(lines) + more)
    return len(by_owner) + (1 if overdue else 0)


def _line(session: Session, task: models.Task, now: datetime, lang: Lang) -> str:
    mention = session.get(models.Mention, task.mention_id)
    text = truncate(escape(" ".join(mention.text.split())), 120) if mention else ""
    minutes = round((task.due_at - now) / timedelta(minutes=1))
    return t("task_line", lang, action=task.action, rule=escape(task.rule_id), minutes=minutes, text=text)
