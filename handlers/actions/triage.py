"""Card buttons: Mark handled and Reopen. Each changes the row; the outbox re-renders the card from it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.db import session_scope
from bot.deps import Deps
from bot.errors import NotFound
from bot.messages import t
from bot.services import triage
from handlers.middleware import is_team_member


def _mention_id(body: dict[str, Any]) -> int | None:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def register(app: App, deps: Deps) -> None:
    def act(change: Any, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        if not is_team_member(deps, body, respond):
            return
        mention_id = _mention_id(body)
        if mention_id is None:
            respond(text=t("mention_gone", deps.lang), response_type="ephemeral", replace_original=False)
            return
        try:
            with session_scope(deps.engine) as session:
                changed = change(session, mention_id=mention_id, user=body["user"]["id"], now=deps.clock.now())
        except NotFound:
            respond(text=t("mention_gone", deps.lang), response_type="ephemeral", replace_original=False)
            return
        if changed:
            deps.wake_outbox()

    @app.action(ids.MARK_HANDLED)
    def mark_handled(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        act(triage.mark_handled, ack, body, respond)

    @app.action(ids.REOPEN)
    def reopen(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        act(triage.reopen, ack, body, respond)
