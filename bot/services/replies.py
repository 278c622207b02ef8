"""Replies and hides on the networks, asked for from Slack: drafted, approved when the config asks for it,
then executed once by `bot.network_actions`. Every step is a `CardEvent` in the card's thread."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot import models
from bot.errors import NotFound, PermissionDenied, UserError
from bot.messages import Lang, t
from bot.services.triage import record
from bot.workspace import Workspace

# The networks' own length limits for a reply (characters), where they are tight.
MAX_REPLY = {"x": 280, "bluesky": 300, "mastodon": 500, "instagram": 2200, "youtube": 10_000}
DEFAULT_MAX_REPLY = 8000


def approvers_for(workspace: Workspace, responsibility: str | None) -> list[str]:
    return list(workspace.triage.approvals.get(responsibility or "", []))


IN_PROGRESS = ("awaiting_approval", "approved", "sending")
# Which networks' APIs let a page reply to or hide a comment (see each connector's docstring).
CAN_REPLY = frozenset({"x", "facebook", "instagram", "youtube", "mastodon", "bluesky", "linkedin", "reddit", "replay"})
CAN_HIDE = frozenset({"x", "facebook", "instagram", "youtube"})


def pending_action(session: Session, mention_id: int) -> models.NetworkAction | None:
    """The latest reply or hide of a mention that is not done (in progress, or failed): the card shows it."""
    return session.exec(select(models.NetworkAction).where(
        models.NetworkAction.mention_id == mention_id,
        models.NetworkAction.status.in_((*IN_PROGRESS, "failed")))  # type: ignore[attr-defined]
        .order_by(models.NetworkAction.id.desc())).first()  # type: ignore[union-attr]


def last_done(session: Session, mention_id: int) -> models.NetworkAction | None:
    return session.exec(select(models.NetworkAction).where(models.NetworkAction.mention_id == mention_id,
                                                           models.NetworkAction.status == "done")
                        .order_by(models.NetworkAction.id.desc())).first()  # type: ignore[union-attr]


def request(session: Session, *, workspace: Workspace, mention_id: int, kind: str, user: str, now: datetime,
            text: str | None = None) -> models.NetworkAction:
    """Draft a reply (or ask for a hide); it waits for an approver when the responsibility requires one."""
    lang: Lang = workspace.brand.language
    tz = workspace.brand.timezone
    mention = session.get(models.Mention, mention_id)
    if mention is None:
        raise NotFound(str(mention_id))
    if kind == "reply":
        text = (text or "").strip()
        limit = MAX_REPLY.get(mention.network, DEFAULT_MAX_REPLY)
        if not text:
            raise UserError(t("reply_empty", lang))
        if len(text) > limit:
            raise UserError(t("reply_too_long", lang, n=len(text), limit=limit))
    current = pending_action(session, mention_id)
    if current is not None and current.status in IN_PROGRESS:
        raise UserError(t("action_in_progress", lang))
    approvers = approvers_for(workspace, mention.responsibility)
    needs_approval = kind == "reply" and bool(approvers) and user not in approvers
    action = models.NetworkAction(mention_id=mention_id, kind=kind, text=text, requested_by=user, requested_at=now,
                                  status="awaiting_approval" if needs_approval else "approved",
                                  idempotency_key=f"veille-{kind}-{mention_id}-{int(now.timestamp() * 1000)}",
                                  next_attempt_at=now)
    session.add(action)
    session.flush()
    event = "reply_drafted" if kind == "reply" else "hide_requested"
    record(session, mention, actor=user, action=event, now=now, lang=lang, tz=tz, text=text or "")
    return action


def decide(session: Session, *, workspace: Workspace, action_id: int, user: str, approve: bool,
           now: datetime) -> models.NetworkAction:
    """An approver approves or rejects a drafted reply."""
    lang: Lang = workspace.brand.language
    action = session.get(models.NetworkAction, action_id)
    if action is None:
        raise NotFound(str(action_id))
    mention = session.get(models.Mention, action.mention_id)
    assert mention is not None
    if user not in approvers_for(workspace, mention.responsibility) and user not in workspace.admins:
        raise PermissionDenied(t("not_an_approver", lang, approvers=", ".join(
            f"<@{a}>" for a in approvers_for(workspace, mention.responsibility))))
    if action.status != "awaiting_approval":
        return action  # a double click, or another approver was faster
    action.status = "approved" if approve else "rejected"
    action.approved_by, action.approved_at, action.next_attempt_at = user, now, now
    session.add(action)
    record(session, mention, actor=user, action="reply_approved" if approve else "reply_rejected", now=now,
           lang=lang, tz=workspace.brand.timezone)
    return action
