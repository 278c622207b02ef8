"""A test harness around the real bot: ingest mentions, read cards from the fake Slack, click as a user.

Everything goes through the real stack: the pipeline, the store, the outbox, slack_sdk to the local fake
Slack Web API, and signed HTTP requests into the bolt app (errbot-style helpers, STYLE.md point 14).
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from bot.console import slack_requests
from bot.console.fake_slack import FakeSlack
from bot.db import session_scope
from bot.pipeline import ingest_page
from bot.runtime import Runtime
from monitors.sources.base import Mention, Page

SECRET = "test-signing-secret"


def wait_until(predicate: Any, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} not met in time"
        time.sleep(0.02)


class SlackBot:
    def __init__(self, runtime: Runtime, fake: FakeSlack) -> None:
        self.runtime = runtime
        self.fake = fake

    def ingest(self, *mentions: Mention, source: str = "test") -> None:
        deps = self.runtime.deps
        with session_scope(deps.engine) as session:
            ingest_page(session, Page(list(mentions), None), source=source, workspace=deps.workspace,
                        scorer=deps.scorer, now=deps.clock.now(), rules=deps.rules)
        deps.wake_outbox()

    def top_level(self, channel: str = "C0TRIAGE") -> list[dict]:
        return [m for m in self.fake.messages(channel) if m.get("thread_ts") in (None, m.get("ts"))]

    def thread(self, parent: dict, channel: str = "C0TRIAGE") -> list[dict]:
        return [m for m in self.fake.messages(channel)
                if m.get("thread_ts") == parent["ts"] and m.get("ts") != parent["ts"]]

    def wait_cards(self, n: int, channel: str = "C0TRIAGE") -> list[dict]:
        wait_until(lambda: len(self.top_level(channel)) >= n, what=f"{n} cards")
        return self.top_level(channel)

    def current(self, message: dict, channel: str = "C0TRIAGE") -> dict:
        return next(m for m in self.fake.messages(channel) if m["ts"] == message["ts"])

    def element(self, message: dict, action_id: str) -> dict:
        for block in message.get("blocks") or []:
            for element in block.get("elements") or []:
                if element.get("action_id") == action_id:
                    return {**element, "block_id": block.get("block_id", "")}
        raise AssertionError(f"no {action_id} on the card: {message.get('text')}")

    def post(self, body: str, *, content_type: str = "application/x-www-form-urlencoded",
             headers: dict[str, str] | None = None) -> httpx.Response:
        signed = slack_requests.sign(body, SECRET, content_type=content_type)
        return httpx.post(f"{self.runtime.url}/slack/events", content=signed.body,
                          headers={**signed.headers, **(headers or {})}, timeout=10)

    def act(self, message: dict, action_id: str, *, user: str, channel: str = "C0TRIAGE",
            **selection: Any) -> httpx.Response:
        element = {**self.element(message, action_id), **selection}
        response = self.post(slack_requests.block_action(
            user_id=user, channel_id=channel, message=message, button=element,
            response_url=self.fake.response_url(f"act-{time.monotonic_ns()}", channel=channel,
                                                message_ts=message["ts"])))
        assert response.status_code == 200, response.text
        return response

    def updates_of(self, message: dict) -> list[dict]:
        return [c.body for c in self.fake.calls("chat.update") if c.ok and c.body.get("ts") == message["ts"]]

    def ephemerals(self) -> list[str]:
        return [r.body.get("text", "") for r in self.fake.responses() if r.body.get("response_type") == "ephemeral"]
