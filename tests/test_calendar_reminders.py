"""Reminders to a post's owner before it is due and a nudge once it is overdue, each sent once however often the
job runs; and a post going live (marked published by button, or seen by a connector) opens the buzz watch window.

T0 is Friday 20 November 2026, 09:00 UTC (10:00 in Paris).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot import models
from bot.db import session_scope
from bot.pipeline import ingest_page
from bot.render import calendar as cal
from bot.runtime import Runtime, RuntimeOptions
from bot.sentiment import SentimentScorer
from monitors.buzz_watch import BuzzWatch
from monitors.calendar_reminders import remind_due_posts
from monitors.sources.base import OwnPost, Page, PollResult
from tests.conftest import T0
from tests.slackbot import SECRET, SlackBot, wait_until
from tests.test_calendar_commands import add_post, click, slash, submit

CM, SUPPORT = "U0CM1", "U0SUPPORT1"


def outbox(engine) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        rows = session.exec(select(models.OutboxMessage).order_by(models.OutboxMessage.id)).all()
    return [(r.key.split(":")[0], r.channel, r.payload["text"]) for r in rows]


def plan(engine, delta: timedelta, title: str, **fields) -> int:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        post = models.CalendarPost(network=fields.pop("network", "instagram"), scheduled_at=T0 + delta, title=title,
                                   **fields)
        session.add(post)
        session.flush()
        assert post.id is not None
        return post.id


class TestReminders:
    def test_due_soon_then_overdue_each_said_once(self, engine, workspace, clock) -> None:
        soon = plan(engine, timedelta(minutes=50), "Aurore <launch>", owner=CM)
        plan(engine, timedelta(hours=2), "Later", owner=SUPPORT)
        plan(engine, timedelta(minutes=-40), "Forgotten", owner=SUPPORT)
        plan(engine, timedelta(minutes=-40), "Went out", owner=SUPPORT, status="published")
        plan(engine, timedelta(minutes=30), "Cancelled", owner=SUPPORT, status="cancelled")
        plan(engine, timedelta(days=-3), "Long ago", owner=SUPPORT)  # the bot was down: too old to nudge
        plan(engine, timedelta(minutes=20), "Nobody's", network="x")  # no owner: the fallback owner (U0CM1)
        assert remind_due_posts(engine, workspace, T0) == 3
        assert remind_due_posts(engine, workspace, T0) == 0  # the job running twice sends nothing more
        assert outbox(engine) == [
            ("calendar-remind", CM, "⏰ Due in 20 min on X (Fri 20 Nov 10:20): *Nobody's*. Once it is live, click "
                                    "Mark published in `/calendar`."),
            ("calendar-remind", CM, "⏰ Due in 50 min on Instagram (Fri 20 Nov 10:50): *Aurore &lt;launch&gt;*. "
                                    "Once it is live, click Mark published in `/calendar`."),
            ("calendar-nudge", SUPPORT, "⚠️ *Forgotten* was due on Instagram at Fri 20 Nov 09:20 and is not marked "
                                        "published. If it is live, click Mark published in `/calendar`; if not, "
                                        "edit or cancel it."),
        ]
        # An hour later "Later" is due within the hour and the X post is 40 min overdue; "Aurore" is overdue by
        # 10 min only (nudged after 30).
        clock.advance(timedelta(hours=1))
        assert remind_due_posts(engine, workspace, clock.now()) == 2
        assert [row[:2] for row in outbox(engine)[3:]] == [("calendar-remind", SUPPORT), ("calendar-nudge", CM)]
        clock.advance(timedelta(minutes=25))  # Aurore: 35 min overdue
        assert remind_due_posts(engine, workspace, clock.now()) == 1
        assert outbox(engine)[-1][:2] == ("calendar-nudge", CM)
        with Session(engine) as session:
            post = session.get(models.CalendarPost, soon)
            assert post is not None and (post.reminded_at, post.nudged_at) == (T0, clock.now())

    def test_a_moved_post_is_reminded_again(self, engine, workspace) -> None:
        post_id = plan(engine, timedelta(minutes=30), "Aurore", owner=CM)
        assert remind_due_posts(engine, workspace, T0) == 1
        from bot.services import calendar

        with session_scope(engine) as session:
            post = session.get(models.CalendarPost, post_id)
            assert post is not None
            calendar.save(session, data=calendar.PostInput(network="instagram", scheduled_at=T0 + timedelta(hours=3),
                                                           title="Aurore", owner=CM), user=CM, now=T0, post=post)
        assert remind_due_posts(engine, workspace, T0 + timedelta(hours=2, minutes=10)) == 1
        assert [key for key, _, _ in outbox(engine)] == ["calendar-remind", "calendar-remind"]

    def test_the_reminder_reaches_the_owner_once_through_slack(self, db_url, fake_slack, workspace, clock) -> None:
        runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET,
                                         slack_api_url=fake_slack.base_url, database_url=db_url, workspace=workspace,
                                         clock=clock, outbox_idle_s=0.05))
        plan(runtime.engine, timedelta(minutes=45), "Aurore launch", owner=CM)
        runtime.start(poll=False)
        try:
            wait_until(lambda: fake_slack.calls("chat.postMessage"), what="the reminder")
            assert remind_due_posts(runtime.engine, workspace, clock.now()) == 0
            runtime.worker.wake()
            wait_until(lambda: runtime.worker.idle.is_set())
            dms = [c.body for c in fake_slack.calls("chat.postMessage") if c.ok]
            assert len(dms) == 1 and dms[0]["channel"] == CM
            assert dms[0]["text"].startswith("⏰ Due in 45 min on Instagram (Fri 20 Nov 10:45): *Aurore launch*")
        finally:
            runtime.stop()


@pytest.fixture
def bot(db_url, fake_slack, workspace, clock) -> Iterator[SlackBot]:  # type: ignore[no-untyped-def]
    runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                     database_url=db_url, workspace=workspace, clock=clock, outbox_idle_s=0.05,
                                     buzz_every_s=0))
    runtime.start(poll=False)
    yield SlackBot(runtime, fake_slack)
    runtime.stop()


class TestGoingLive:
    def watch(self, bot: SlackBot, make_mention) -> BuzzWatch:  # type: ignore[no-untyped-def]
        deps = bot.runtime.deps
        with session_scope(deps.engine) as session:  # some history, so the watch has buckets to decide
            ingest_page(session, Page([make_mention(created_at=T0 - timedelta(hours=h)) for h in range(1, 6)], None),
                        source="x", workspace=deps.workspace, scorer=SentimentScorer(), now=T0)
        watch = BuzzWatch(engine=deps.engine, workspace=deps.workspace)
        watch.run(T0)
        return watch

    def test_mark_published_by_button_opens_the_watch_window(self, bot, clock, make_mention) -> None:
        # Planned for 07:00 UTC, two hours before it is marked live: the window opens when Veille learns of it.
        post_id = add_post(bot, T0 - timedelta(hours=2), "Black Friday -25 %")
        add_post(bot, T0 - timedelta(hours=1), "Still a plan")
        watch = self.watch(bot, make_mention)
        assert watch.detector.watched_posts(T0) == []
        answer = slash(bot, "today")
        click(bot, answer, post_id, cal.PUBLISH, user=CM)
        wait_until(lambda: bot.fake.calls("views.open"))
        assert submit(bot, bot.fake.calls("views.open")[-1].body["view"], {}, user=CM) == {}
        clock.advance(timedelta(minutes=10))
        watch.run(clock.now())
        watched = watch.detector.watched_posts(T0 + timedelta(minutes=5))
        assert [(p.post_id, p.published_at, p.title) for p in watched] == [(str(post_id), T0, "Black Friday -25 %")]
        assert watch.detector.watched_posts(T0 + timedelta(hours=6, minutes=5)) == []  # the window is 6 h

    def test_a_post_the_connector_sees_is_completed_and_watched(self, bot, clock, make_mention) -> None:
        deps = bot.runtime.deps
        post_id = add_post(bot, T0 - timedelta(minutes=30), "Aurore launch", owner=CM,
                           permalink="https://www.instagram.com/p/Caurore/")
        watch = self.watch(bot, make_mention)
        seen = OwnPost(network="instagram", external_id="17900001", created_at=T0 - timedelta(minutes=20),
                       text="Aurore is here", permalink="https://www.instagram.com/p/Caurore/", likes=12)
        with session_scope(deps.engine) as session:
            ingest_page(session, PollResult(mentions=[], own_posts=[seen], cursor={}), source="ig",
                        workspace=deps.workspace, scorer=SentimentScorer(), now=T0)
        assert remind_due_posts(deps.engine, deps.workspace, T0) == 0  # published: no overdue nudge
        with Session(deps.engine) as session:
            post = session.get(models.CalendarPost, post_id)
            assert post is not None
            assert (post.status, post.external_id, post.published_at) == (
                "published", "17900001", T0 - timedelta(minutes=20))
        clock.advance(timedelta(minutes=10))
        watch.run(clock.now())
        assert [p.post_id for p in watch.detector.watched_posts(T0)] == [str(post_id)]
        assert "✅ *Instagram* — Aurore launch" in json.dumps(slash(bot, "today")["blocks"], ensure_ascii=False)
