"""The rules in the running bot: violations and the engagement rule on the card, a task per rule match, the task
closed by what the team does, consistency measured from the store, and follow-ups grouped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot import ids, models
from bot.console.demo import demo_rules, demo_workspace
from bot.db import session_scope
from bot.runtime import Runtime, RuntimeOptions
from bot.services.engagement import follow_up, team_consistency
from tests.slackbot import SECRET, SlackBot, wait_until


@pytest.fixture
def bot(db_url, fake_slack, clock) -> Iterator[SlackBot]:  # type: ignore[no-untyped-def]
    workspace = demo_workspace().model_copy(update={"triage": demo_workspace().triage.model_copy(
        update={"post_interval_s": 0, "flood_threshold": 1000})})
    runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                     database_url=db_url, workspace=workspace, clock=clock, outbox_idle_s=0.05,
                                     rules=demo_rules(), buzz_every_s=0))
    runtime.start(poll=False)
    yield SlackBot(runtime, fake_slack)
    runtime.stop()


def test_a_charter_violation_shows_its_clause_and_span_on_the_card(bot, make_mention) -> None:
    bot.ingest(make_mention(text="You are all i.d.i.o.t.s @maisonlumen", lang="en"))
    [card] = bot.wait_cards(1)
    blob = json.dumps(card["blocks"], ensure_ascii=False)
    assert "⚠️" in blob and "«i.d.i.o.t.s»" in blob
    with Session(bot.runtime.engine) as session:
        stored = session.exec(select(models.Mention)).one()
    [violation] = [v for v in stored.rules["violations"] if v["clause"] == "insults"]
    assert stored.text[violation["start"]:violation["end"]] == "i.d.i.o.t.s"


def test_a_thank_rule_creates_a_task_that_the_reply_closes_and_consistency_counts(bot, make_mention, clock) -> None:
    bot.ingest(make_mention(text="Love the Aurore lamp, thank you!", lang="en"),
               make_mention(text="Gorgeous lamps, well done team!", lang="en"))
    first, second = bot.wait_cards(2)
    assert "⏱" in json.dumps(first["blocks"], ensure_ascii=False)  # the rule and its deadline are on the card
    with Session(bot.runtime.engine) as session:
        tasks = session.exec(select(models.Task)).all()
    assert {t.rule_id for t in tasks} == {"thank-positive"} and len(tasks) == 2
    bot.act(first, ids.MARK_HANDLED, user="U0CM1")
    wait_until(lambda: "Handled by" in json.dumps(bot.current(first)["blocks"]))
    clock.advance(timedelta(days=2))  # the second one was never actioned: overdue
    with Session(bot.runtime.engine) as session:
        report = team_consistency(session, since=clock.now() - timedelta(days=7), now=clock.now())
    assert report.by_rule["thank-positive"].overall.describe("thank") == "thanked 1 of 2 — 50%"
    with session_scope(bot.runtime.engine) as session:
        assert follow_up(session, now=clock.now(), lang="en", channel="C0ALERTS") == 1  # one grouped message
        assert follow_up(session, now=clock.now(), lang="en", channel="C0ALERTS") == 0  # each task once
