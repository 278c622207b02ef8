"""What every handler and job needs, built once by the composition root (`bot.cli` / `bot.runtime`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from bot.clock import Clock
from bot.messages import Lang
from bot.sentiment import SentimentScorer
from bot.workspace import Workspace


@dataclass(slots=True)
class Deps:
    workspace: Workspace
    engine: Engine
    clock: Clock
    scorer: SentimentScorer
    # The compiled rules (bot.pipeline.RulesContext) when the config lists rule files; None: plain routing.
    rules: Any = None
    # Called after a change commits, so the outbox sends its consequences without waiting for the next tick.
    wake_outbox: Callable[[], None] = field(default=lambda: None)

    @property
    def lang(self) -> Lang:
        return self.workspace.brand.language

    def team_members(self) -> set[str]:
        """Everyone who may act on cards: admins, owners of a responsibility, the on-call rotation."""
        ws = self.workspace
        members = set(ws.admins) | set(ws.oncall.rotation)
        for resp in ws.responsibilities:
            members.update(resp.owners)
        if ws.fallback_owner:
            members.add(ws.fallback_owner)
        return members
