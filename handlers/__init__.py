"""Slack listeners only: each package registers its listeners on the app through `register(app, deps)`."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from handlers.actions import calendar as calendar_actions
from handlers.actions import incidents, replies, triage
from handlers.commands import calendar, incident, kpi, oncall, veille
from handlers.events import home


def register_all(app: App, deps: Deps) -> None:
    """Register every listener (the one place that lists them)."""
    # /veille incident (a matcher on /veille) must come before the general /veille handler.
    for module in (kpi, calendar, oncall, incident, veille, triage, replies, incidents, home, calendar_actions):
        module.register(app, deps)
