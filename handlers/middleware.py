"""Authorization shared by listeners; it fails closed: an error while checking means *deny*."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.deps import Deps
from bot.messages import t

logger = logging.getLogger(__name__)


def ignore_bots(body: dict[str, Any], next: Callable[[], None]) -> None:  # noqa: A002 - bolt's name
    """Drop events from bots (ours included), so the bot never answers itself."""
    event = body.get("event") or {}
    if event.get("bot_id") or event.get("subtype") == "bot_message":
        return
    next()


def is_team_member(deps: Deps, body: dict[str, Any], respond: Callable[..., Any]) -> bool:
    """True if the user who sent `body` may change things; otherwise tell them why, privately.

    Called first thing in every mutating listener (after ack), so a refusal is still a handled request.
    """
    try:
        user = (body.get("user") or {}).get("id") or body.get("user_id")
        allowed = bool(user) and user in deps.team_members()
    except Exception:
        logger.exception("authorization check failed; denying")
        allowed = False
    if not allowed:
        admins = ", ".join(f"<@{a}>" for a in deps.workspace.admins)
        respond(text=t("not_team_member", deps.lang, admins=admins), response_type="ephemeral",
                replace_original=False)
    return allowed
