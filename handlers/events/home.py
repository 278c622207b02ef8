"""App Home: publish a member's home when they open it; the outbox keeps it fresh as things change."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.db import session_scope
from bot.deps import Deps
from bot.outbox import open_home
from bot.services.home import set_away
from handlers.middleware import can_act


def register(app: App, deps: Deps) -> None:
    register_away(app, deps)

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        with session_scope(deps.engine) as session:
            open_home(session, str(event["user"]), deps.clock.now())
        deps.wake_outbox()


def register_away(app: App, deps: Deps) -> None:
    @app.action(ids.AWAY_TOGGLE)
    def toggle_away(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        # A Home tab click has no response_url to answer a refusal on: someone off the team is just ignored.
        if not can_act(deps, user, None):
            return
        away = (body.get("actions") or [{}])[0].get("value") == "away"
        with session_scope(deps.engine) as session:
            changed = set_away(session, user=user, away=away, now=deps.clock.now())
            open_home(session, user, deps.clock.now())
        if changed:
            deps.wake_outbox()
