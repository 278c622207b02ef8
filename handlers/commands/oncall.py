"""`/oncall`: who is on call now and next; `/oncall override @someone [hours]` swaps a shift."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from sqlmodel import Session

from bot.db import session_scope
from bot.deps import Deps
from bot.messages import t
from bot.services import oncall
from handlers.middleware import authorize

# With should_escape on the command (see the manifest), Slack sends mentions as <@U123|name>.
USER_REF = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def register(app: App, deps: Deps) -> None:
    cfg = deps.workspace.oncall
    zone = ZoneInfo(cfg.timezone)

    def when(at: Any) -> str:
        return at.astimezone(zone).strftime("%a %d %b %H:%M")

    @app.command("/oncall")
    def oncall_command(ack: Ack, command: dict[str, Any], respond: Respond, body: dict[str, Any]) -> None:
        ack()
        words = (command.get("text") or "").split()
        now = deps.clock.now()
        if not words:
            with Session(deps.engine) as session:
                current = oncall.on_call(session, cfg, now)
                following = oncall.next_on_call(session, cfg, now)
            if current is None:
                respond(text=t("oncall_none", deps.lang), response_type="ephemeral")
                return
            lines = [t("oncall_now", deps.lang, user=f"<@{current.user}>", until=when(current.end),
                       override=t("oncall_override_word", deps.lang) if current.override else "")]
            if following is not None:
                lines.append(t("oncall_next", deps.lang, user=f"<@{following.user}>", start=when(following.start)))
            respond(text="\n".join(lines), response_type="ephemeral")
            return
        if words[0] != "override" or len(words) > 3:
            respond(text=t("oncall_usage", deps.lang), response_type="ephemeral")
            return
        if not authorize(deps, body, respond, None):
            return
        target = USER_REF.search(" ".join(words[1:2])) if len(words) > 1 else None
        user = target.group(1) if target else command["user_id"]
        hours = words[2] if len(words) == 3 else None
        if hours is not None and not hours.rstrip("h").isdigit():
            respond(text=t("oncall_usage", deps.lang), response_type="ephemeral")
            return
        with session_scope(deps.engine) as session:
            previous = oncall.on_call(session, cfg, now)
            end = now + timedelta(hours=int(hours.rstrip("h"))) if hours else None
            row = oncall.override(session, cfg, user=user, by=command["user_id"], start=now, end=end)
            until = row.end
        text = t("oncall_overridden", deps.lang, user=f"<@{user}>", until=when(until), by=f"<@{command['user_id']}>",
                 previous=f"<@{previous.user}>" if previous else "—")
        respond(text=text, response_type="in_channel")
        deps.wake_outbox()
