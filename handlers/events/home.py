"""App Home: publish a member's home when they open it; the outbox keeps it fresh as things change."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.db import session_scope
from bot.deps import Deps
from bot.outbox import open_home


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        with session_scope(deps.engine) as session:
            open_home(session, str(event["user"]), deps.clock.now())
        deps.wake_outbox()
