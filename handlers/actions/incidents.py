"""Acknowledge and Resolve, from the incident card or from a page's DM."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.db import session_scope
from bot.deps import Deps
from bot.errors import NotFound
from bot.messages import t
from bot.services import incidents
from handlers.middleware import authorize


def _incident_id(body: dict[str, Any]) -> int | None:
    try:
        return int((body.get("actions") or [{}])[0].get("value"))
    except (TypeError, ValueError):
        return None


def register(app: App, deps: Deps) -> None:
    def change(body: dict[str, Any], respond: Respond, resolve: bool) -> None:
        if not authorize(deps, body, respond, None):
            return
        incident_id = _incident_id(body)
        try:
            with session_scope(deps.engine) as session:
                fn = incidents.resolve if resolve else incidents.acknowledge
                changed = fn(session, workspace=deps.workspace, incident_id=incident_id or 0,
                             user=body["user"]["id"], now=deps.clock.now())
        except NotFound:
            respond(text=t("mention_gone", deps.lang), response_type="ephemeral", replace_original=False)
            return
        if changed:
            deps.wake_outbox()

    @app.action(ids.ACK_INCIDENT)
    def acknowledge(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        change(body, respond, resolve=False)

    @app.action(ids.RESOLVE_INCIDENT)
    def resolve(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        change(body, respond, resolve=True)
