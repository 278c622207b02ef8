"""`/veille incident [sev1|sev2|sev3] what is happening`: open an incident by hand and page the on-call."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.db import session_scope
from bot.deps import Deps
from bot.errors import UserError
from bot.messages import t
from bot.render.escape import escape
from bot.services import incidents
from handlers.middleware import authorize


def is_incident_command(command: dict[str, Any]) -> bool:
    return (command.get("text") or "").split(maxsplit=1)[:1] == ["incident"]


def register(app: App, deps: Deps) -> None:
    @app.command("/veille", matchers=[is_incident_command])
    def incident_command(ack: Ack, command: dict[str, Any], respond: Respond, body: dict[str, Any]) -> None:
        ack()
        if not authorize(deps, body, respond, None):
            return
        words = (command.get("text") or "").split()[1:]
        severity = words.pop(0) if words and words[0] in incidents.SEVERITIES else "sev2"
        title = " ".join(words).strip()
        if not title:
            respond(text=t("incident_usage", deps.lang), response_type="ephemeral")
            return
        try:
            with session_scope(deps.engine) as session:
                incident = incidents.open_manual(session, workspace=deps.workspace, title=title, severity=severity,
                                                 user=command["user_id"], now=deps.clock.now())
                shown = incident.title
        except UserError as error:
            respond(text=str(error), response_type="ephemeral")
            return
        respond(text=t("incident_opened_reply", deps.lang, title=escape(shown)), response_type="ephemeral")
        deps.wake_outbox()
