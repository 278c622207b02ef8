"""End to end in HTTP mode: the real bot, the real slack_sdk, a local fake Slack and signed requests over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from bot import models
from bot.console import slack_requests
from bot.console.fake_slack import FakeSlack
from bot.render import console as console_render
from bot.runtime import Runtime, RuntimeOptions
from monitors.poll import poll_once
from monitors.sources.replay import ReplaySource
from tests.conftest import T0
from tests.scenarios import write_x_scenario

SECRET = "test-signing-secret"
ADMIN = "U0ADMIN"


def wait_until(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def scenario(tmp_path: Path) -> ReplaySource:
    return ReplaySource(write_x_scenario(tmp_path / "scenario", count=100, start=T0, step=timedelta(minutes=3)))


@pytest.fixture
def bot(db_url, fake_slack, workspace, clock) -> Iterator[Runtime]:  # type: ignore[no-untyped-def]
    runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                     database_url=db_url, workspace=workspace, clock=clock, outbox_idle_s=0.05))
    runtime.start(poll=False)
    yield runtime
    runtime.stop()


def post(bot: Runtime, body: str, *, secret: str = SECRET, timestamp: int | None = None) -> httpx.Response:
    signed = slack_requests.sign(body, secret, timestamp=timestamp)
    return httpx.post(f"{bot.url}/slack/events", content=signed.body, headers=signed.headers, timeout=10)


def slash(bot: Runtime, fake: FakeSlack, command: str, text: str = "") -> dict:
    before = len(fake.responses())
    response = post(bot, slack_requests.slash_command(command, text, user_id=ADMIN, channel_id="C0TRIAGE",
                                                      response_url=fake.response_url("cmd")))
    assert response.status_code == 200
    wait_until(lambda: len(fake.responses()) > before)
    return fake.responses()[-1].body


def cards_posted(fake: FakeSlack) -> list[dict]:
    return [c.body for c in fake.calls("chat.postMessage") if c.ok]


class TestReplayToCards:
    def test_a_replay_of_100_mentions_posts_exactly_100_cards(self, bot, fake_slack, scenario, clock) -> None:
        for _ in range(12):  # polls every 30 virtual minutes across the 5-hour scenario
            clock.advance(timedelta(minutes=30))
            poll_once(bot.deps, name="replay", source=scenario)
        wait_until(lambda: len(cards_posted(fake_slack)) >= 100)
        time.sleep(0.3)  # anything extra would show up now
        cards = cards_posted(fake_slack)
        assert len(cards) == 100
        keys = {c["metadata"]["event_payload"]["key"] for c in cards}
        assert len(keys) == 100
        assert "where is my order?" in cards[0]["text"]

    def test_a_restart_mid_replay_posts_no_card_twice(self, db_url, fake_slack, workspace, clock,
                                                       scenario) -> None:
        options = RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                 database_url=db_url, workspace=workspace, clock=clock, outbox_idle_s=0.05,
                                 serve_http=False)
        first = Runtime(options)
        first.start(poll=False)
        clock.advance(timedelta(hours=2, minutes=30))
        poll_once(first.deps, name="replay", source=scenario)
        wait_until(lambda: len(cards_posted(fake_slack)) >= 10)
        first.stop()  # mid-replay: half the scenario not yet polled, perhaps cards still queued
        second = Runtime(options)
        second.start(poll=False)
        try:
            clock.advance(timedelta(hours=4))
            poll_once(second.deps, name="replay", source=scenario)
            poll_once(second.deps, name="replay", source=scenario)  # a repeated poll finds nothing new
            wait_until(lambda: len(cards_posted(fake_slack)) >= 100)
            time.sleep(0.3)
        finally:
            second.stop()
        keys = [c["metadata"]["event_payload"]["key"] for c in cards_posted(fake_slack)]
        assert len(keys) == 100 and len(set(keys)) == 100


class TestCommands:
    def test_kpi_answers_from_the_stored_mentions(self, bot, fake_slack, scenario, clock) -> None:
        clock.advance(timedelta(hours=6))
        poll_once(bot.deps, name="replay", source=scenario)
        answer = slash(bot, fake_slack, "/kpi")
        text = str(answer["blocks"])
        assert answer["response_type"] == "ephemeral"
        assert "*Volume:* *100* items" in text  # all 100 happened within the last 7 days
        assert "response rate *0%* (0 of 100)" in text  # none handled yet
        assert "By network: X 100" in text

    def test_calendar_lists_upcoming_posts_from_the_database(self, bot, fake_slack, clock) -> None:
        with Session(bot.engine) as session:
            session.add(models.CalendarPost(network="instagram", scheduled_at=clock.now() + timedelta(days=1),
                                            title="Aurore <!channel> launch", pillar="product", promo=True,
                                            owner="U0CM1"))
            session.add(models.CalendarPost(network="x", scheduled_at=clock.now() + timedelta(days=9),
                                            title="Too far ahead"))
            session.add(models.CalendarPost(network="x", scheduled_at=clock.now() + timedelta(days=2),
                                            title="Cancelled one", status="cancelled"))
            session.commit()
        text = str(slash(bot, fake_slack, "/calendar")["blocks"])
        assert "Aurore &lt;!channel&gt; launch" in text  # escaped: pings no one
        assert "Too far ahead" not in text and "Cancelled one" not in text

    def test_an_unknown_subcommand_gets_a_suggestion(self, bot, fake_slack) -> None:
        answer = slash(bot, fake_slack, "/kpi", "7")
        assert "Did you mean `/kpi 7d`?" in answer["text"]


class TestMarkHandled:
    def test_a_click_updates_the_row_and_the_card(self, bot, fake_slack, scenario, clock) -> None:
        clock.advance(timedelta(minutes=10))
        poll_once(bot.deps, name="replay", source=scenario)
        wait_until(lambda: len(cards_posted(fake_slack)) >= 1)
        channel, message = "C0TRIAGE", fake_slack.messages("C0TRIAGE")[0]
        button = console_render.find_button(message["blocks"], "handled")
        response = post(bot, slack_requests.block_action(user_id=ADMIN, channel_id=channel, message=message,
                                                         button=button,
                                                         response_url=fake_slack.response_url("click")))
        assert response.status_code == 200
        wait_until(lambda: fake_slack.calls("chat.update"))
        [update] = fake_slack.calls("chat.update")
        assert update.body["ts"] == message["ts"]
        assert "Handled by <@U0ADMIN>" in str(update.body["blocks"])
        with Session(bot.engine) as session:
            row = session.get(models.Mention, int(button["value"]))
            assert (row.status, row.handled_by) == ("handled", ADMIN)

    def test_someone_outside_the_team_is_refused_and_nothing_changes(self, bot, fake_slack, scenario,
                                                                     clock) -> None:
        clock.advance(timedelta(minutes=10))
        poll_once(bot.deps, name="replay", source=scenario)
        wait_until(lambda: len(cards_posted(fake_slack)) >= 1)
        message = fake_slack.messages("C0TRIAGE")[0]
        button = console_render.find_button(message["blocks"], "handled")
        post(bot, slack_requests.block_action(user_id="U0STRANGER", channel_id="C0TRIAGE", message=message,
                                              button=button, response_url=fake_slack.response_url("click")))
        wait_until(lambda: fake_slack.responses())
        refusal = fake_slack.responses()[-1].body
        assert refusal["response_type"] == "ephemeral"
        assert refusal["text"].startswith("You are not in the support group")  # the scenario asks about orders
        time.sleep(0.2)
        assert not fake_slack.calls("chat.update")
        with Session(bot.engine) as session:
            assert set(session.exec(select(models.Mention.status)).all()) == {"open"}


class TestSignatures:
    def test_a_bad_signature_is_refused(self, bot, fake_slack) -> None:
        body = slack_requests.slash_command("/kpi", "", user_id=ADMIN, channel_id="C0TRIAGE",
                                            response_url=fake_slack.response_url("x"))
        assert post(bot, body, secret="not-the-secret").status_code == 401
        assert not fake_slack.responses()

    def test_a_stale_signature_is_refused(self, bot, fake_slack) -> None:
        body = slack_requests.slash_command("/kpi", "", user_id=ADMIN, channel_id="C0TRIAGE",
                                            response_url=fake_slack.response_url("x"))
        ten_minutes_ago = int(time.time()) - 600
        assert post(bot, body, timestamp=ten_minutes_ago).status_code == 401

    def test_healthz_reports_the_database(self, bot) -> None:
        response = httpx.get(f"{bot.url}/healthz", timeout=5)
        assert response.status_code == 200 and response.json() == {"status": "ok", "database": True}
