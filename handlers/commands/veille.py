"""`/veille`: the admin command; `status` shows every source's health (any team member may read it)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from sqlmodel import Session

from bot.deps import Deps
from bot.messages import t
from bot.render.escape import escape
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
        if reject_unknown("/veille", arg, known=("status", "reload", "help"), respond=respond, deps=deps):
            return
        if arg == "reload":
            reload_rules(deps, command, respond)
            return
        # Read-only, but it names sources and quotes errors: the team only, not the whole workspace.
        if not is_team_member(deps, command, respond):
            return
        now = deps.clock.now()
        with Session(deps.engine) as session:
            health = source_health(session, deps.workspace, now=now)
        rendered = render_status(health, now=now, lang=deps.lang)
        respond(text=rendered.text, blocks=rendered.blocks, response_type="ephemeral")


def reload_rules(deps: Deps, command: dict[str, Any], respond: Respond) -> None:
    """`/veille reload` (admins): load the rule files again; invalid files keep the rules in force."""
    if command.get("user_id") not in deps.workspace.admins:
        admins = ", ".join(f"<@{a}>" for a in deps.workspace.admins)
        respond(text=t("admins_only", deps.lang, admins=admins), response_type="ephemeral")
        return
    outcome = deps.rules.reload() if deps.rules is not None else None
    if outcome is None:
        respond(text=t("rules_none", deps.lang), response_type="ephemeral")
    elif outcome:
        problems = "\n".join(f"• {escape(str(p))}" for p in outcome[:10])
        respond(text=t("rules_reload_refused", deps.lang, problems=problems), response_type="ephemeral")
    else:
        respond(text=t("rules_reloaded", deps.lang, summary=escape(deps.rules.ruleset.summary())),
                response_type="ephemeral")
