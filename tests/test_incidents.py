"""Incidents and on-call with an injected clock: one incident per buzz, pages that climb the levels until
someone acknowledges, a summary at resolution; and who is on call when."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot import ids, models
from bot.console import slack_requests
from bot.db import session_scope
from bot.runtime import Runtime, RuntimeOptions
from bot.services import incidents, oncall
from bot.workspace import parse_workspace
from monitors.escalation import run_escalations
from tests.conftest import T0, WORKSPACE_YAML
from tests.slackbot import SECRET, SlackBot, wait_until

ONCALL = """
channels:
  triage: C0TRIAGE
  alerts: C0ALERTS
oncall:
  timezone: Europe/Paris
  handoff: weekly
  handoff_day: monday
  handoff_time: "09:00"
  rotation: [U0CM1, U0SUPPORT1]
  escalation:
    - {after_min: 0, notify: [oncall]}
    - {after_min: 15, notify: [next]}
    - {after_min: 30, notify: [U0ADMIN]}
  repeat_min: 30
"""


@pytest.fixture
def ws():  # type: ignore[no-untyped-def]
    return parse_workspace(WORKSPACE_YAML.replace("channels:\n  triage: C0TRIAGE\n", "") + ONCALL, "test.yaml")


def spike(key: str, observed: int = 45, mention_ids: list[int] | None = None) -> incidents.SpikeFacts:
    return incidents.SpikeFacts(key=key, started_at=T0, observed=observed, baseline=4.0, bucket_minutes=30,
                                networks={"instagram": 30, "x": 15}, terms=["livraison", "retard"],
                                authors=[{"handle": "lea", "followers": 52_000, "influencer": True}],
                                mention_ids=mention_ids or [],
                                post={"id": 1, "network": "instagram", "title": "Black Friday -25 %",
                                      "at": (T0 - timedelta(hours=2)).isoformat()})


class TestRotation:
    def test_weekly_shifts_hand_off_on_monday_at_nine_local_time(self, ws, engine) -> None:
        with Session(engine) as session:
            sunday = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
            monday_after = datetime(2026, 11, 23, 8, 1, tzinfo=UTC)  # 09:01 in Paris
            before = oncall.on_call(session, ws.oncall, sunday)
            after = oncall.on_call(session, ws.oncall, monday_after)
            assert before is not None and after is not None and before.user != after.user
            assert after.start == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 Paris = 08:00 UTC in winter
            assert oncall.next_on_call(session, ws.oncall, sunday).user == after.user

    def test_an_override_wins_for_the_rest_of_the_shift(self, ws, engine) -> None:
        now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
        with session_scope(engine) as session:
            regular = oncall.on_call(session, ws.oncall, now)
            oncall.override(session, ws.oncall, user="U0ADMIN", by="U0CM1", start=now)
        with Session(engine) as session:
            swapped = oncall.on_call(session, ws.oncall, now + timedelta(hours=1))
            assert swapped.user == "U0ADMIN" and swapped.override and swapped.end == regular.end
            assert oncall.on_call(session, ws.oncall, regular.end + timedelta(minutes=1)).user != "U0ADMIN"


class TestEscalation:
    def test_a_spike_opens_one_incident_and_pages_up_the_levels_until_acknowledged(self, ws, engine) -> None:
        now = T0
        with session_scope(engine) as session:
            incident, opened = incidents.open_or_update(session, workspace=ws, facts=spike("spike:a"), now=now)
            incident_id = incident.id
        assert opened
        assert run_escalations(engine, ws, now) == 1  # the on-call is paged at once
        assert run_escalations(engine, ws, now + timedelta(minutes=5)) == 0  # nothing new before 15 min
        # A second spike during the open incident updates it instead of opening another.
        with session_scope(engine) as session:
            again, opened_again = incidents.open_or_update(session, workspace=ws, facts=spike("spike:b", 60),
                                                           now=now + timedelta(minutes=10))
            assert (again.id, opened_again) == (incident_id, False)
        assert run_escalations(engine, ws, now + timedelta(minutes=15)) == 1  # level 2: the next in rotation
        assert run_escalations(engine, ws, now + timedelta(minutes=30)) == 1  # level 3: U0ADMIN
        with session_scope(engine) as session:
            assert incidents.acknowledge(session, workspace=ws, incident_id=incident_id, user="U0ADMIN",
                                         now=now + timedelta(minutes=31))
        assert run_escalations(engine, ws, now + timedelta(hours=3)) == 0  # acknowledged: paging stopped
        with Session(engine) as session:
            pages = session.exec(select(models.OutboxMessage.channel).where(
                models.OutboxMessage.key.startswith("page:"))).all()  # type: ignore[attr-defined]
            assert session.exec(select(models.Incident)).all().__len__() == 1
            kinds = session.exec(select(models.IncidentEvent.kind).order_by(models.IncidentEvent.id)).all()
        rotation = ws.oncall.rotation
        assert len(pages) == 3 and set(pages) == {*rotation, "U0ADMIN"}
        assert kinds == ["opened", "paged", "updated", "paged", "paged", "acknowledged"]

    def test_the_last_level_repeats_until_someone_answers(self, ws, engine) -> None:
        with session_scope(engine) as session:
            incidents.open_or_update(session, workspace=ws, facts=spike("spike:c"), now=T0)
        paged = [run_escalations(engine, ws, T0 + timedelta(minutes=m)) for m in (0, 15, 30, 45, 60, 90)]
        assert paged == [1, 1, 1, 0, 1, 1]  # every repeat_min (30 min) after the last level

    def test_resolution_posts_a_summary(self, ws, engine, make_mention) -> None:
        from bot.pipeline import decide, store
        from bot.sentiment import SentimentScorer
        from bot.services import triage

        scorer = SentimentScorer()
        with session_scope(engine) as session:
            rows = [store(session, m, decide(m, workspace=ws, scorer=scorer), source="x", now=T0)
                    for m in (make_mention(text="Terrible delivery, still waiting"), make_mention(text="Awful"))]
            ids_ = [r.id for r in rows]
            incident, _ = incidents.open_or_update(session, workspace=ws, facts=spike("spike:d", mention_ids=ids_),
                                                   now=T0)
            incident_id = incident.id
        run_escalations(engine, ws, T0)
        with session_scope(engine) as session:
            triage.mark_handled(session, mention_id=ids_[0], user="U0CM1", now=T0 + timedelta(minutes=20))
            incidents.acknowledge(session, workspace=ws, incident_id=incident_id, user="U0CM1",
                                  now=T0 + timedelta(minutes=7))
            incidents.resolve(session, workspace=ws, incident_id=incident_id, user="U0CM1",
                              now=T0 + timedelta(hours=1, minutes=12))
        with Session(engine) as session:
            summary = session.exec(select(models.OutboxMessage).where(
                models.OutboxMessage.key == f"incident-summary:{incident_id}")).one()
        text = summary.payload["text"]
        assert "lasted 1 h 12 min" in text and "2 items (2 negative)" in text
        assert "acknowledged after 7 min by <@U0CM1>" in text and "1 handled" in text


class TestSlack:
    @pytest.fixture
    def bot(self, db_url, fake_slack, ws, clock) -> Iterator[SlackBot]:  # type: ignore[no-untyped-def]
        runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET,
                                         slack_api_url=fake_slack.base_url, database_url=db_url, workspace=ws,
                                         clock=clock, outbox_idle_s=0.05))
        runtime.start(poll=False)
        yield SlackBot(runtime, fake_slack)
        runtime.stop()

    def slash(self, bot: SlackBot, command: str, text: str, user: str = "U0CM1") -> dict:
        before = len(bot.fake.responses())
        bot.post(slack_requests.slash_command(command, text, user_id=user, channel_id="C0TRIAGE",
                                              response_url=bot.fake.response_url("cmd")))
        wait_until(lambda: len(bot.fake.responses()) > before)
        return bot.fake.responses()[-1].body

    def test_a_page_is_a_dm_with_buttons_and_acknowledge_stops_it(self, bot, ws, clock) -> None:
        with session_scope(bot.runtime.engine) as session:
            incidents.open_or_update(session, workspace=ws, facts=spike("spike:e"), now=clock.now())
        bot.runtime.worker.wake()
        wait_until(lambda: bot.fake.messages("C0ALERTS"), what="the incident card")
        card = bot.fake.messages("C0ALERTS")[0]
        assert "45 negative mentions about 'livraison' in 30 min (usually 4)" in card["text"]
        blob = json.dumps(card["blocks"], ensure_ascii=False)
        assert "⭐ @lea (52,000)" in blob and "After the post: Black Friday -25 %" in blob
        on_call = oncall.rotation_shift(ws.oncall, clock.now()).user
        wait_until(lambda: bot.fake.messages(on_call), what="the DM page")
        dm = bot.fake.messages(on_call)[0]
        assert "You are paged (level 1)" in dm["text"]
        wait_until(lambda: len(bot.top_level("C0ALERTS")) >= 2, what="the mention in the alerts channel")
        assert f"Paging <@{on_call}> (level 1)" in bot.top_level("C0ALERTS")[1]["text"]
        bot.act(dm, ids.ACK_INCIDENT, user=on_call, channel=on_call)
        wait_until(lambda: "acknowledged by" in json.dumps(bot.current(card, "C0ALERTS")["blocks"]))
        clock.advance(timedelta(hours=2))
        assert run_escalations(bot.runtime.engine, ws, clock.now()) == 0

    def test_oncall_says_who_now_and_next_and_override_swaps(self, bot, ws, clock) -> None:
        answer = self.slash(bot, "/oncall", "")
        current = oncall.rotation_shift(ws.oncall, clock.now()).user
        assert answer["text"].startswith(f"📟 On call now: <@{current}>") and "Next: <@" in answer["text"]
        swapped = self.slash(bot, "/oncall", "override <@U0ADMIN|boss> 4")
        assert swapped["text"].startswith("🔁 <@U0ADMIN> is on call until")
        assert self.slash(bot, "/oncall", "")["text"].startswith("📟 On call now: <@U0ADMIN>")

    def test_veille_incident_opens_one_by_hand(self, bot) -> None:
        answer = self.slash(bot, "/veille", "incident sev1 Fake giveaway account <!channel>")
        assert answer["text"] == "🚨 Incident opened: Fake giveaway account &lt;!channel&gt;"
        wait_until(lambda: bot.fake.messages("C0ALERTS"))
        assert "🟥" in json.dumps(bot.fake.messages("C0ALERTS")[0]["blocks"], ensure_ascii=False)

    def test_escalate_from_a_card_opens_then_joins_the_incident(self, bot, make_mention) -> None:
        bot.ingest(make_mention(text="Your lamp set my curtains on fire"), make_mention(text="Same here, smoke!"))
        first, second = bot.wait_cards(2)
        for card in (first, second):
            menu = bot.element(card, ids.CARD_MENU)
            option = next(o for o in menu["options"] if o["value"].startswith("escalate:"))
            bot.act(card, ids.CARD_MENU, user="U0CM1", selected_option=option)
        wait_until(lambda: len(bot.thread(bot.fake.messages("C0ALERTS")[0], "C0ALERTS")) >= 1
                   if bot.fake.messages("C0ALERTS") else False, what="the second item joining")
        with Session(bot.runtime.engine) as session:
            assert len(session.exec(select(models.Incident)).all()) == 1
            assert len(session.exec(select(models.IncidentItem)).all()) == 2
