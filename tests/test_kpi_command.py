"""`/kpi` through signed slash commands into the running bot, answered on the fake Slack's response_url.

The figures come from tests/test_kpi_figures.py's fixture, whose docstring gives every item; the arithmetic
behind each expected figure is repeated here where it is asserted.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, select

from bot import models
from bot.console import slack_requests
from bot.runtime import Runtime, RuntimeOptions
from bot.workspace import parse_workspace
from tests.slackbot import SECRET, SlackBot, wait_until
from tests.test_kpi_figures import KPI_YAML, build_dataset

PHOTON = "  - {name: rival-photon, type: rss, subject: Photon}\n"
WITH_RIVAL_RSS = KPI_YAML.replace(PHOTON, PHOTON + "  - {name: rival-rss, type: rss, subject: Photon}\n")


def _bot(db_url: str, fake_slack: Any, clock: Any, yaml: str) -> Iterator[SlackBot]:
    workspace = parse_workspace(yaml, "test.yaml")
    runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                     database_url=db_url, workspace=workspace, clock=clock, outbox_idle_s=0.05,
                                     buzz_every_s=0))
    runtime.start(poll=False)
    yield SlackBot(runtime, fake_slack)
    runtime.stop()


@pytest.fixture
def bot(db_url, fake_slack, clock) -> Iterator[SlackBot]:  # type: ignore[no-untyped-def]
    yield from _bot(db_url, fake_slack, clock, WITH_RIVAL_RSS)


def kpi(bot: SlackBot, text: str = "", user: str = "U0CM1") -> dict:
    before = len(bot.fake.responses())
    response = bot.post(slack_requests.slash_command("/kpi", text, user_id=user, channel_id="C0TRIAGE",
                                                     response_url=bot.fake.response_url("kpi")))
    assert response.status_code == 200, response.text
    wait_until(lambda: len(bot.fake.responses()) > before, what="the /kpi answer")
    return bot.fake.responses()[-1].body


def blob(answer: dict) -> str:
    return json.dumps(answer.get("blocks") or [], ensure_ascii=False)


def seed(bot: SlackBot) -> None:
    with Session(bot.runtime.engine) as session:
        build_dataset(session)


class TestReport:
    def test_the_week_by_default_with_every_figure(self, bot: SlackBot) -> None:
        seed(bot)
        answer = kpi(bot)
        text = blob(answer)
        assert answer["response_type"] == "ephemeral"
        assert "KPIs — Maison Lumen · 7d" in text
        # 8 brand items; previous week 4: (8 - 4) / 4 = +100 %
        assert "*Volume:* *8* items · ↗️ +100% vs the previous period (4)" in text
        assert "By network: X 6, Instagram 2" in text
        # 3 positive, 2 neutral, 3 negative of 8: 38 %, 25 %, 38 %; net (3 - 3) / 8 = +0.00
        assert "🟢 38% positive · ⚪ 25% neutral · 🔴 38% negative · net sentiment *+0.00*" in text
        # 4 handled of 7 (8 minus the dismissed m5) = 57 %; median of 10, 30, 90, 240 min = 60 min
        assert "response rate *57%* (4 of 7) · median first response *1 h 00*" in text
        # share of voice: 8 / 12 = 67 %, Lumière Co 3 / 12 = 25 %, Photon 1 / 12 = 8 %
        assert "*Maison Lumen* 67% · Lumière Co 25% · Photon 8%" in text
        assert "thank-positive: thanked 1 of 3 — 33%" in text
        assert "thank-positive: 1 late, 1 missed, of 3 due" in text
        assert "<@U0SUPPORT1>: 1 open, 1 overdue" in text and "<@U0CM1>: 1 open, 0 overdue" in text
        assert "alice (X, 150\u202f000 followers, macro) — 3 item(s)" not in text  # English keeps commas
        assert "alice (X, 150,000 followers, macro) — 3 item(s)" in text
        assert "Influencers (macro 1 · micro 1)" in text
        # objectives: 4/7 = 57 % of 80 % (progress 71 %), projected 88 % by the deadline
        assert "✅ *Answer 80% of items*: 57% (target 80%) · progress 71% · projected 88% by 2026-12-20 — _on track_" \
            in text
        assert "⚠️ *First answer within 45 min*: 1 h 00 (target 45 min) · progress 75% — _at risk_" in text
        assert "❌ *Net sentiment 0.2*: +0.00 (target +0.20) · progress 0% by 2026-11-15 — _missed_" in text

    def test_a_period_a_network_and_public(self, bot: SlackBot) -> None:
        seed(bot)
        answer = kpi(bot, "30d instagram public")
        text = blob(answer)
        assert answer["response_type"] == "in_channel"
        # m4 and m5 are the only Instagram items in 30 days; the 30 days before had none
        assert "*Volume:* *2* items · no items in the previous period" in text and "· Instagram" in text
        assert "response rate *0%* (0 of 1)" in text and "median first response *n/a*" in text

    def test_explicit_dates(self, bot: SlackBot) -> None:
        seed(bot)
        # Nov 14 and 15 (Paris): m4 (Nov 15 09:00Z) and m5 (Nov 14 09:00Z); before: Nov 12-13 has p0 (Nov 12 09:00Z)
        # and p1 (Nov 12 04:00Z); p2 is at Nov 11 23:00Z, i.e. Nov 12 00:00 Paris: 3 items -> (2 - 3) / 3 = -33 %
        text = blob(kpi(bot, "2026-11-14..2026-11-15"))
        assert "*Volume:* *2* items · ↘️ -33% vs the previous period (3)" in text

    def test_in_french(self, db_url, fake_slack, clock) -> None:  # type: ignore[no-untyped-def]
        gen = _bot(db_url, fake_slack, clock, KPI_YAML.replace("language: en", "language: fr"))
        bot = next(gen)
        try:
            seed(bot)
            text = blob(kpi(bot, "7d"))
            assert "*Volume :* *8* éléments · ↗️ +100\u202f% par rapport à la période précédente (4)" in text
            assert "taux de réponse *57\u202f%* (4 sur 7)" in text
            assert "_en bonne voie_" in text and "_en danger_" in text
        finally:
            next(gen, None)

    def test_bad_arguments_get_help(self, bot: SlackBot) -> None:
        assert "Did you mean `/kpi 7d`?" in kpi(bot, "7")["text"]
        assert "not a period I can use" in kpi(bot, "0d")["text"]
        assert "`/kpi posts [period] [network]`" in kpi(bot, "help")["text"]


class TestPosts:
    def test_best_hours_formats_and_pillars_with_sample_sizes(self, bot: SlackBot) -> None:
        seed(bot)
        text = blob(kpi(bot, "posts"))
        assert "What our posts earn — 90d" in text and "5 post(s)" in text
        # 18:00 Paris: 45 + 75 + 20 = 140 over 3 posts = 46.7; the other hours have a single post: not ranked
        assert "• 18:00: 46.7 per post (n = 3)" in text and "09:00" not in text
        # formats, all listed with their n: video 130 (1), carousel 75 (1), image (45 + 20) / 2 = 32.5 (2)
        assert "• video: 130 per post (n = 1) — too few to conclude" in text
        assert "• image: 32.5 per post (n = 2) — too few to conclude" in text
        assert "• product: 60 per post (n = 2) — too few to conclude" in text


class TestExtraSubcommands:
    def test_chart_and_roi_say_so_when_not_installed(self, bot: SlackBot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        import handlers.commands as package

        monkeypatch.setitem(sys.modules, "handlers.commands.kpi_extra", None)  # import fails
        monkeypatch.delattr(package, "kpi_extra", raising=False)
        assert kpi(bot, "chart volume 30d")["text"] == "`/kpi chart` is not available yet in this version of Veille."
        assert kpi(bot, "roi")["text"] == "`/kpi roi` is not available yet in this version of Veille."

    def test_chart_and_roi_are_dispatched_with_their_arguments(self, bot: SlackBot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        seen: list[tuple[str, list[str]]] = []
        extra = types.ModuleType("handlers.commands.kpi_extra")

        def handle_chart(args: list[str], command: dict, respond: Any, client: Any, deps: Any) -> None:
            seen.append(("chart", args))
            respond(text="chart!", response_type="ephemeral")

        def handle_roi(args: list[str], command: dict, respond: Any, deps: Any) -> None:
            seen.append(("roi", args))
            respond(text="roi!", response_type="ephemeral")

        extra.handle_chart, extra.handle_roi = handle_chart, handle_roi  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "handlers.commands.kpi_extra", extra)
        import handlers.commands as package

        monkeypatch.setattr(package, "kpi_extra", extra, raising=False)
        assert kpi(bot, "chart sentiment 30d")["text"] == "chart!"
        assert kpi(bot, "roi 30d")["text"] == "roi!"
        assert seen == [("chart", ["sentiment", "30d"]), ("roi", ["30d"])]


class TestCompetitorListening:
    def test_a_competitor_source_stores_items_without_cards_or_tasks(self, bot: SlackBot, make_mention) -> None:  # type: ignore[no-untyped-def]
        bot.ingest(make_mention(text="Photon's new lamp is great"), source="rival-rss")
        bot.ingest(make_mention(text="Love the Aurore lamp @maisonlumen!"), source="test")
        bot.wait_cards(1)
        bot.runtime.worker.wake()
        wait_until(lambda: bot.runtime.worker.idle.is_set(), what="the outbox drained")
        assert len(bot.top_level()) == 1  # only the brand's item was carded
        with Session(bot.runtime.engine) as session:
            rows = {m.subject: m for m in session.exec(select(models.Mention)).all()}
            assert set(rows) == {None, "Photon"}
            rival = rows["Photon"]
            assert rival.status == "listening"  # in no one's queue
            assert session.exec(select(models.OutboxMessage).where(
                models.OutboxMessage.mention_id == rival.id)).first() is None
            assert session.exec(select(models.Assignment).where(
                models.Assignment.mention_id == rival.id)).first() is None
        text = blob(kpi(bot, "24h"))
        # 1 brand item, 1 Photon item: 50 % each, nothing for Lumière Co
        assert "*Volume:* *1* items" in text and "*Maison Lumen* 50% · Lumière Co 0% · Photon 50%" in text
