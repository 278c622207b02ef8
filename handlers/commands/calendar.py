"""`/calendar`: the posts planned for the next 7 days, grouped by day."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from sqlmodel import Session

from bot.deps import Deps
from bot.messages import t
from bot.render.reports import render_calendar
from bot.services import calendar
from handlers.commands.usage import reject_unknown

DAYS = 7


def register(app: App, deps: Deps) -> None:
    @app.command("/calendar")
    def calendar_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        arg = (command.get("text") or "").strip()
        if arg in ("help", "aide"):
            respond(text=t("calendar_help", deps.lang), response_type="ephemeral")
            return
        if reject_unknown("/calendar", arg, known=("", "week", "help"), respond=respond, deps=deps):
            return
        with Session(deps.engine) as session:
            posts = calendar.upcoming(session, now=deps.clock.now(), days=DAYS)
            rendered = render_calendar(posts, days=DAYS, tz=deps.workspace.brand.timezone, lang=deps.lang)
        respond(text=rendered.text, blocks=rendered.blocks, response_type="ephemeral")
