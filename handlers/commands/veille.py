"""`/veille`: the admin command; `status` shows every source's health (any team member may read it)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from sqlmodel import Session

from bot.deps import Deps
from bot.messages import t
from bot.render.status import render_status
from bot.services.sources import source_health
from handlers.commands.usage import reject_unknown
from handlers.middleware import is_team_member


def register(app: App, deps: Deps) -> None:
    @app.command("/veille")
    def veille_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        arg = (command.get("text") or "").strip()
        if arg in ("", "help", "aide"):
            respond(text=t("status_help", deps.lang), response_type="ephemeral")
            return
        if reject_unknown("/veille", arg, known=("status", "help"), respond=respond, deps=deps):
            return
        # Read-only, but it names sources and quotes errors: the team only, not the whole workspace.
        if not is_team_member(deps, command, respond):
            return
        now = deps.clock.now()
        with Session(deps.engine) as session:
            health = source_health(session, deps.workspace, now=now)
        rendered = render_status(health, now=now, lang=deps.lang)
        respond(text=rendered.text, blocks=rendered.blocks, response_type="ephemeral")
