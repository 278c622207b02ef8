"""Shared listener guards: ignore bots, drop Slack's retries of events already handled, and authorize.

Authorization fails closed: an error while checking means *deny*.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse
from sqlalchemy.exc import IntegrityError

from bot import models
from bot.db import session_scope
from bot.deps import Deps
from bot.messages import t

logger = logging.getLogger(__name__)


def ignore_bots(body: dict[str, Any], next: Callable[[], None]) -> None:  # noqa: A002 - bolt's name
    """Drop events from bots (ours included), so the bot never answers itself."""
    event = body.get("event") or {}
    if event.get("bot_id") or event.get("subtype") == "bot_message":
        return
    next()


def dedupe_events(deps: Deps) -> Callable[..., BoltResponse | None]:
    """Slack retries an event it thinks we missed (X-Slack-Retry-Num); apply each event_id once."""

    def middleware(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:  # noqa: A002
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            next()
            return None
        try:
            with session_scope(deps.engine) as session:
                session.add(models.ProcessedRequest(key=f"event:{event_id}", seen_at=deps.clock.now()))
        except IntegrityError:
            logger.info("event %s already handled; acknowledging Slack's retry", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return middleware


def _user(body: dict[str, Any]) -> str | None:
    return (body.get("user") or {}).get("id") or body.get("user_id")


def can_act(deps: Deps, user: str | None, responsibility: str | None) -> bool:
    """Admins act on everything; a card with a responsibility belongs to its owners; others to the team."""
    if not user:
        return False
    workspace = deps.workspace
    if user in workspace.admins:
        return True
    resp = workspace.responsibility(responsibility)
    if resp is not None:
        return user in resp.owners
    return user in deps.team_members()


def authorize(deps: Deps, body: dict[str, Any], respond: Callable[..., Any], responsibility: str | None) -> bool:
    """True if the user may act on an item of `responsibility`; otherwise tell them why, privately."""
    try:
        allowed = can_act(deps, _user(body), responsibility)
    except Exception:
        logger.exception("authorization check failed; denying")
        allowed = False
    if not allowed:
        admins = ", ".join(f"<@{a}>" for a in deps.workspace.admins)
        resp = deps.workspace.responsibility(responsibility)
        if resp is not None:
            text = t("not_your_responsibility", deps.lang, responsibility=resp.name, admins=admins,
                     owners=", ".join(f"<@{o}>" for o in resp.owners))
        else:
            text = t("not_team_member", deps.lang, admins=admins)
        respond(text=text, response_type="ephemeral", replace_original=False)
    return allowed


def is_team_member(deps: Deps, body: dict[str, Any], respond: Callable[..., Any]) -> bool:
    """True if the user is on the team (admins, owners, on-call); otherwise tell them why, privately."""
    return authorize(deps, body, respond, None)
