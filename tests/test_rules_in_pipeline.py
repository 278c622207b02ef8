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
    # The worker's follow-up reports the overdue one in the alerts channel, once.
    bot.runtime.worker.wake()
    overdue = lambda: [m for m in bot.fake.messages("C0ALERTS") if "past their deadline" in m["text"]]  # noqa: E731
    wait_until(lambda: overdue(), what="the overdue report")
    assert overdue()[0]["text"].startswith("⏱️ 1 item(s) past their deadline")
    with session_scope(bot.runtime.engine) as session:
        assert follow_up(session, now=clock.now(), lang="en", channel="C0ALERTS") == 0  # each task once


def test_kpi_shows_rule_consistency(bot, make_mention, clock) -> None:
    from bot.console import slack_requests

    bot.ingest(make_mention(text="Love the Aurore lamp, thank you!", lang="en"))
    [card] = bot.wait_cards(1)
    bot.act(card, ids.MARK_HANDLED, user="U0CM1")
    wait_until(lambda: "Handled by" in json.dumps(bot.current(card)["blocks"]))
    bot.post(slack_requests.slash_command("/kpi", "", user_id="U0CM1", channel_id="C0TRIAGE",
                                          response_url=bot.fake.response_url("kpi")))
    wait_until(lambda: bot.fake.responses())
    blob = json.dumps(bot.fake.responses()[-1].body["blocks"], ensure_ascii=False)
    assert "*Rule consistency*" in blob and "thank-positive: thanked 1 of 1 — 100%" in blob


def test_veille_reload_is_for_admins_and_keeps_the_last_good_rules(db_url, fake_slack, clock, tmp_path) -> None:
    from pathlib import Path

    from bot.console import slack_requests
    from bot.workspace import load_workspace
    from rules.loader import RulesHolder

    demo_dir = Path(__file__).resolve().parents[1] / "bot" / "demo"
    config = tmp_path / "veille.yaml"
    config.write_text((demo_dir / "demo.yaml").read_text(encoding="utf-8").replace(
        "rules_files: [", "rules_files: [extra.yaml, "), encoding="utf-8")
    extra = tmp_path / "extra.yaml"
    good = ("charter:\n  clauses:\n    - id: no-spoilers\n      title: Spoilers\n      wording: No spoilers.\n"
            "      severity: low\n      action: hide\n      terms: [spoiler]\n")
    extra.write_text(good, encoding="utf-8")
    holder = RulesHolder(config)
    runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                     database_url=db_url, workspace=load_workspace(config), clock=clock,
                                     outbox_idle_s=0.05, rules=holder, buzz_every_s=0))
    runtime.start(poll=False)
    try:
        bot = SlackBot(runtime, fake_slack)

        def reload(user: str) -> str:
            before = len(fake_slack.responses())
            bot.post(slack_requests.slash_command("/veille", "reload", user_id=user, channel_id="C0TRIAGE",
                                                  response_url=fake_slack.response_url("reload")))
            wait_until(lambda: len(fake_slack.responses()) > before)
            return fake_slack.responses()[-1].body["text"]

        assert reload("U0SUPPORT1").startswith("Only admins")
        version = holder.current.version
        extra.write_text(good.replace("severity", "severty"), encoding="utf-8")
        answer = reload("U0CM1")
        assert answer.startswith("⚠️ The rule files have problems; the previous rules stay in force")
        assert "extra.yaml:" in answer and holder.current.version == version
        extra.write_text(good.replace("spoiler]", "spoiler, spoilers]"), encoding="utf-8")
        assert reload("U0CM1").startswith("✅ Rules reloaded")
    finally:
        runtime.stop()


def test_thank_is_prefilled_from_the_rules_template(bot, make_mention) -> None:
    bot.ingest(make_mention(text="Love the Aurore lamp, thank you!", lang="en", author_handle="lea"))
    [card] = bot.wait_cards(1)
    bot.act(card, ids.THANK, user="U0CM1")
    wait_until(lambda: bot.fake.calls("views.open"), what="the composer")
    prefill = bot.fake.calls("views.open")[-1].body["view"]["blocks"][1]["element"]["initial_value"]
    with Session(bot.runtime.engine) as session:
        stored = session.exec(select(models.Mention)).one()
    templated = stored.rules["engagement"][0]["reply"]
    assert templated and prefill == templated and "@lea" in prefill


def test_an_owner_marked_away_from_the_app_home_is_skipped_by_routing(bot, make_mention) -> None:
    from urllib.parse import urlencode

    from bot.console import slack_requests

    event = {"type": "app_home_opened", "user": "U0SUPPORT1", "channel": "D0HOME", "tab": "home"}
    bot.post(slack_requests.event_callback(event, event_id="EvAway"), content_type="application/json")
    wait_until(lambda: bot.fake.home("U0SUPPORT1") is not None, what="the home")
    home = bot.fake.home("U0SUPPORT1")
    button = next(e for b in home["blocks"] if b.get("block_id") == "home:away" for e in b["elements"])
    payload = {"type": "block_actions", "user": {"id": "U0SUPPORT1"}, "team": {"id": "T0VEILLE"},
               "api_app_id": "A0VEILLE", "container": {"type": "view", "view_id": "V0HOME"}, "view": home,
               "trigger_id": "1.3", "actions": [{"type": "button", "action_id": button["action_id"],
                                                  "block_id": "home:away", "value": button["value"]}]}
    assert bot.post(urlencode({"payload": json.dumps(payload)})).status_code == 200
    wait_until(lambda: "I'm back" in json.dumps(bot.fake.home("U0SUPPORT1")), what="the home saying I'm away")
    bot.ingest(*[make_mention(text=f"Still no delivery for order {i}", lang="en") for i in range(3)])
    bot.wait_cards(3)
    with Session(bot.runtime.engine) as session:
        owners = session.exec(select(models.Assignment.owner)).all()
    assert owners and "U0SUPPORT1" not in owners
