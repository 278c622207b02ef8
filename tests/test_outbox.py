"""Outbox delivery through the real slack_sdk client against the local fake Slack: once, in order, never lost."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot import models
from bot.db import session_scope
from bot.deps import Deps
from bot.outbox import OutboxSender
from bot.pipeline import decide, store
from bot.render.outbox_render import OutboxRenderer
from bot.sentiment import SentimentScorer
from bot.services import triage
from bot.slack_client import make_client
from tests.conftest import T0


@pytest.fixture
def scorer() -> SentimentScorer:
    return SentimentScorer()


@pytest.fixture
def sender(engine, fake_slack, clock, workspace) -> OutboxSender:  # type: ignore[no-untyped-def]
    client = make_client("xoxb-test", fake_slack.base_url, timeout=2, retries=0)
    return OutboxSender(engine=engine, client=client, clock=clock, render=OutboxRenderer(workspace, clock),
                        post_interval=timedelta(0))


def add_mentions(engine, workspace, scorer, make_mention, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    ids = []
    with session_scope(engine) as session:
        for i in range(n):
            mention = make_mention(text=f"message {i} about the Aurore lamp")
            row = store(session, mention, decide(mention, workspace=workspace, scorer=scorer), source="x", now=T0)
            ids.append(row.id)
    return ids


def wait_until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def outbox_rows(engine) -> list[models.OutboxMessage]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(models.OutboxMessage).order_by(models.OutboxMessage.id)).all())


class TestDelivery:
    def test_each_card_is_posted_once_with_its_ts_recorded(self, engine, sender, fake_slack, workspace, scorer,
                                                          make_mention) -> None:
        add_mentions(engine, workspace, scorer, make_mention, 5)
        report = sender.deliver_due()
        again = sender.deliver_due()
        assert (report.posted, again.posted) == (5, 0)
        posts = fake_slack.calls("chat.postMessage")
        assert [p.body["text"].split(": ", 1)[1] for p in posts] == [f"message {i} about the Aurore lamp"
                                                                     for i in range(5)]
        assert all(r.status == "sent" and r.ts for r in outbox_rows(engine))

    def test_a_change_is_rendered_in_place_with_chat_update(self, engine, sender, fake_slack, workspace, scorer,
                                                           make_mention, clock) -> None:
        [mention_id] = add_mentions(engine, workspace, scorer, make_mention, 1)
        sender.deliver_due()
        with session_scope(engine) as session:
            triage.mark_handled(session, mention_id=mention_id, user="U0CM1", now=clock.now())
        report = sender.deliver_due()
        assert report.updated == 1
        [update] = fake_slack.calls("chat.update")
        assert update.body["ts"] == outbox_rows(engine)[0].ts
        assert "Handled by <@U0CM1>" in str(update.body["blocks"])
        card, history = fake_slack.messages("C0TRIAGE")
        assert "Reopen" in str(card["blocks"])
        # The card's thread tells who did what.
        assert history["thread_ts"] == card["ts"] and history["text"] == "✅ <@U0CM1> marked it handled"

    def test_server_errors_are_retried_later_and_order_kept_per_channel(self, engine, sender, fake_slack, workspace,
                                                                        scorer, make_mention, clock) -> None:
        add_mentions(engine, workspace, scorer, make_mention, 3)
        fake_slack.fail("chat.postMessage", status=503, times=1)
        first = sender.deliver_due()
        # The first card could not go out: the two after it wait, so the channel keeps its order.
        assert (first.posted, first.deferred) == (0, 1)
        clock.advance(timedelta(minutes=10))
        second = sender.deliver_due()
        assert second.posted + second.reconciled == 3
        texts = [m["text"] for m in fake_slack.messages("C0TRIAGE")]
        assert [t.rsplit(" about", 1)[0].split(": ")[1] for t in texts] == ["message 0", "message 1", "message 2"]

    def test_rate_limit_waits_for_retry_after(self, engine, sender, fake_slack, workspace, scorer, make_mention,
                                              clock) -> None:
        add_mentions(engine, workspace, scorer, make_mention, 1)
        fake_slack.fail("chat.postMessage", error="ratelimited", retry_after=30, times=1)
        assert sender.deliver_due().deferred == 1
        clock.advance(timedelta(seconds=10))
        assert sender.deliver_due().posted == 0  # still inside Retry-After
        clock.advance(timedelta(seconds=25))
        assert sender.deliver_due().posted == 1

    def test_a_permanent_refusal_parks_the_row_and_does_not_block_others(self, engine, sender, fake_slack,
                                                                         workspace, scorer, make_mention) -> None:
        add_mentions(engine, workspace, scorer, make_mention, 2)
        fake_slack.fail("chat.postMessage", error="channel_not_found", times=1)
        report = sender.deliver_due()
        assert (report.parked, report.posted) == (1, 1)
        rows = outbox_rows(engine)
        assert (rows[0].status, rows[0].last_error) == ("parked", "channel_not_found")

    def test_a_post_whose_answer_was_lost_is_not_posted_again(self, engine, sender, fake_slack, workspace, scorer,
                                                               make_mention, clock) -> None:
        add_mentions(engine, workspace, scorer, make_mention, 1)
        # Slack stores the message but the answer comes too late: the client times out.
        fake_slack.delay("chat.postMessage", 3)
        report = sender.deliver_due()
        assert report.deferred == 1 and outbox_rows(engine)[0].status == "in_doubt"
        fake_slack.delay("chat.postMessage", 0)
        wait_until(lambda: len(fake_slack.messages("C0TRIAGE")) == 1)  # Slack finishes storing it, late
        clock.advance(timedelta(minutes=10))
        report = sender.deliver_due()
        assert report.reconciled == 1 and report.posted == 0
        assert len(fake_slack.messages("C0TRIAGE")) == 1
        assert outbox_rows(engine)[0].status == "sent"

    def test_a_row_left_sending_by_a_dead_process_is_reconciled(self, engine, sender, fake_slack, workspace,
                                                                scorer, make_mention) -> None:
        add_mentions(engine, workspace, scorer, make_mention, 2)
        sender.deliver_due()
        # Simulate a crash after Slack accepted card 2 but before its ts was committed.
        with session_scope(engine) as session:
            row = session.exec(select(models.OutboxMessage).order_by(models.OutboxMessage.id.desc())).first()
            row.status, row.ts, row.sent_version = "sending", None, 0
        sender.recover()
        report = sender.deliver_due()
        assert (report.reconciled, report.posted) == (1, 0)
        assert len(fake_slack.calls("chat.postMessage")) == 2


def test_deps_team_members_cover_admins_owners_and_oncall(workspace, engine, clock) -> None:  # type: ignore[no-untyped-def]
    deps = Deps(workspace=workspace, engine=engine, clock=clock, scorer=SentimentScorer())
    assert deps.team_members() == {"U0ADMIN", "U0SUPPORT1", "U0CM1"}
