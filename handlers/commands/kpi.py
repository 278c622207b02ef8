"""`/kpi`: volume, sentiment shares and open items for today and the last 7 days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, Respond
from sqlmodel import Session

from bot.deps import Deps
from bot.messages import t
from bot.render.reports import render_kpi
from bot.services import kpi
from bot.services.engagement import team_consistency
from handlers.commands.usage import reject_unknown


def register(app: App, deps: Deps) -> None:
    @app.command("/kpi")
    def kpi_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        arg = (command.get("text") or "").strip()
        if arg in ("help", "aide"):
            respond(text=t("kpi_help", deps.lang), response_type="ephemeral")
            return
        if reject_unknown("/kpi", arg, known=("", "7d", "help"), respond=respond, deps=deps):
            return
        with Session(deps.engine) as session:
            now = deps.clock.now()
            today, week = kpi.today_and_week(session, now=now, tz=deps.workspace.brand.timezone)
            consistency = team_consistency(session, since=now - timedelta(days=7), now=now)
        rendered = render_kpi(today, week, brand=deps.workspace.brand.name, lang=deps.lang, consistency=consistency)
        respond(text=rendered.text, blocks=rendered.blocks, response_type="ephemeral")
