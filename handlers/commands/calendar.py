"""`/calendar`: the content calendar (listing and filters), `add`, `import` (admins) and `export` (.ics upload)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.db import reader
from bot.deps import Deps
from bot.messages import t
from bot.render.calendar import import_modal, post_modal, render_listing, short_at
from bot.render.cards import Rendered
from bot.services import calendar, calendar_io
from bot.workspace import NETWORKS
from handlers.commands.usage import reject_unknown

logger = logging.getLogger(__name__)

SUBCOMMANDS = ("", "today", "week", "month", "add", "import", "export", "help", *NETWORKS)
EXPORT_BACK = timedelta(days=30)  # `/calendar export` without a period: from a month back, everything ahead


def may_plan(deps: Deps, user: str | None) -> bool:
    """Team members (admins, responsibility owners, on-call) may change the calendar; in doubt, no."""
    try:
        return bool(user) and user in deps.team_members()
    except Exception:
        logger.exception("authorization check failed; denying")
        return False


def refusal(deps: Deps) -> str:
    return t("cal_not_team", deps.lang, admins=", ".join(f"<@{a}>" for a in deps.workspace.admins))


def listing(deps: Deps, view: calendar.CalendarView, profiles: calendar.HourProfiles | None = None) -> Rendered:
    """The view's posts and its warnings, rendered."""
    ws = deps.workspace
    now = deps.clock.now()
    with Session(reader(deps.engine)) as session:
        posts = calendar.list_posts(session, view)
        warnings = calendar.warnings(session, workspace=ws, view=view, posts=posts, now=now, profiles=profiles)
        return render_listing(view, posts, warnings, tz=ws.brand.timezone, lang=deps.lang)


def register(app: App, deps: Deps) -> None:
    ws = deps.workspace
    profiles = calendar.HourProfiles()

    def private(respond: Respond, text: str) -> None:
        respond(text=text, response_type="ephemeral")

    def export(command: dict[str, Any], rest: str, respond: Respond, client: WebClient) -> None:
        now = deps.clock.now()
        view = calendar.parse_view(rest, now=now, tz=ws.brand.timezone) if rest else None
        if rest and view is None:
            reject_unknown("/calendar export", rest, known=("", "today", "week", "month", *NETWORKS),
                           respond=respond, deps=deps)
            return
        start, end = (view.start, view.end) if view else (now - EXPORT_BACK, None)
        with Session(reader(deps.engine)) as session:
            posts = calendar_io.export_posts(session, start=start, end=end)
            if view and view.network:
                posts = [p for p in posts if p.network == view.network]
            ics = calendar_io.export_ics(posts, brand=ws.brand.name, now=now)
        last = posts[-1].scheduled_at if posts else (end or now)
        comment = t("cal_export_comment", deps.lang, n=len(posts), start=short_at(start, ws.brand.timezone, deps.lang),
                    end=short_at(last, ws.brand.timezone, deps.lang))
        try:
            client.files_upload_v2(channel=command["channel_id"], content=ics, filename="veille-calendar.ics",
                                   title=f"{ws.brand.name} — content calendar", initial_comment=comment)
        except SlackApiError as error:
            logger.warning("calendar export upload refused: %s", error.response.get("error"))
            private(respond, t("cal_export_failed", deps.lang, error=str(error.response.get("error"))))

    @app.command("/calendar")
    def calendar_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        arg = " ".join((command.get("text") or "").split())
        word, _, rest = arg.partition(" ")
        word = word.lower()
        user = command.get("user_id")
        if word in ("help", "aide"):
            private(respond, t("calendar_help", deps.lang, networks=", ".join(NETWORKS)))
            return
        if word in ("add", "import", "export"):
            allowed = user in ws.admins if word == "import" else may_plan(deps, user)
            if not allowed:
                private(respond, t("cal_admin_only", deps.lang, admins=", ".join(f"<@{a}>" for a in ws.admins))
                        if word == "import" else refusal(deps))
                return
            if word == "export":
                export(command, rest, respond, client)
                return
            metadata = {"post_id": None, "response_url": command.get("response_url"), "view": None}
            view = import_modal(tz=ws.brand.timezone, lang=deps.lang, metadata=metadata) if word == "import" else \
                post_modal(None, tz=ws.brand.timezone, lang=deps.lang, reminder_min=ws.calendar.reminder_before_min,
                           metadata=metadata, now=deps.clock.now())
            client.views_open(trigger_id=command["trigger_id"], view=view)
            return
        view = calendar.parse_view(arg, now=deps.clock.now(), tz=ws.brand.timezone)
        if view is None:
            reject_unknown("/calendar", arg, known=SUBCOMMANDS, respond=respond, deps=deps)
            return
        rendered = listing(deps, view, profiles)
        respond(text=rendered.text, blocks=rendered.blocks, response_type="ephemeral")
