"""Delivery under pressure: Slack's pace per channel, floods folded into digests (nothing dropped), and a
ten-minute Slack outage after which every message arrives exactly once, in order."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from bot import models
from bot.db import session_scope
from bot.flood import FloodPolicy, cluster, headline_term
from bot.outbox import OutboxSender
from bot.pipeline import decide, store
from bot.render.outbox_render import OutboxRenderer
from bot.sentiment import SentimentScorer
from bot.services import triage
from bot.slack_client import make_client
from tests.conftest import T0

COMPLAINTS = ["toujours pas reçu ma commande, livraison en retard de 5 jours",
              "Livraison en retard, toujours rien reçu",
              "ma commande n'est toujours pas arrivée, livraison catastrophique",
              "livraison en retard encore et encore"]


@pytest.fixture
def scorer() -> SentimentScorer:
    return SentimentScorer()


def make_sender(engine, fake_slack, clock, workspace, **kwargs) -> OutboxSender:  # type: ignore[no-untyped-def]
    client = make_client("xoxb-test", fake_slack.base_url, timeout=2, retries=0)
    return OutboxSender(engine=engine, client=client, clock=clock, render=OutboxRenderer(workspace, clock), **kwargs)


def add(engine, workspace, scorer, mentions) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        for mention in mentions:
            store(session, mention, decide(mention, workspace=workspace, scorer=scorer), source="x", now=T0)


def drain(sender: OutboxSender, clock, *, step: timedelta = timedelta(seconds=1), max_passes: int = 5000) -> int:  # type: ignore[no-untyped-def]
    passes = 0
    while passes < max_passes:
        report = sender.deliver_due()
        passes += 1
        with Session(sender._engine) as session:  # noqa: SLF001 - the test inspects the same store
            waiting = session.exec(select(func.count()).select_from(models.OutboxMessage).where(
                models.OutboxMessage.status.in_(("pending", "in_doubt", "sending")))).one()  # type: ignore[attr-defined]
        if not waiting:
            return passes
        if not report.progressed:
            clock.advance(step)
    raise AssertionError("outbox did not drain")


class TestPace:
    def test_one_new_message_per_second_per_channel(self, engine, fake_slack, clock, workspace, scorer,
                                                    make_mention) -> None:
        add(engine, workspace, scorer, [make_mention(text=f"question {i}") for i in range(3)])
        sender = make_sender(engine, fake_slack, clock, workspace, post_interval=timedelta(seconds=1))
        assert sender.deliver_due().posted == 1
        assert sender.deliver_due().posted == 0  # same second: the channel waits
        clock.advance(timedelta(milliseconds=1000))
        assert sender.deliver_due().posted == 1
        times = [c.time for c in fake_slack.calls("chat.postMessage")]
        assert len(times) == 2


class TestFloods:
    def test_similar_texts_cluster_and_the_headline_names_the_topic(self) -> None:
        texts = COMPLAINTS + ["J'adore ma nouvelle lampe", "Vous recrutez ?"]
        groups = cluster(texts, ["negative"] * 4 + ["positive", "neutral"], similarity=60)
        assert sorted(len(g) for g in groups) == [1, 1, 4]
        assert headline_term(COMPLAINTS) == "livraison"

    def test_a_flood_becomes_digests_and_nothing_is_dropped(self, engine, fake_slack, clock, workspace, scorer,
                                                            make_mention) -> None:
        flood = [make_mention(text=COMPLAINTS[i % 4] + f" #{i}", created_at=T0 + timedelta(seconds=10 * i))
                 for i in range(60)]
        others = [make_mention(text=t) for t in ("Is the Aurore lamp dimmable?", "Vous recrutez des stagiaires ?")]
        add(engine, workspace, scorer, flood + others)
        sender = make_sender(engine, fake_slack, clock, workspace, post_interval=timedelta(seconds=1),
                             flood=FloodPolicy(threshold=20, similarity=60, min_group=3))
        drain(sender, clock)
        posts = [c.body for c in fake_slack.calls("chat.postMessage") if c.ok]
        assert len(posts) < 10  # 62 items, a handful of messages
        digests = [p for p in posts if "🌊" in json.dumps(p["blocks"], ensure_ascii=False)]
        headlines = [d["text"] for d in digests]
        # The headline says how many, which way, about what, over how long.
        found = [re.match(r"^(\d+) negative mentions about '(livraison|retard)' in 10 min$", h) for h in headlines]
        assert any(m and int(m.group(1)) >= 45 for m in found), headlines
        with Session(engine) as session:
            rows = session.exec(select(models.OutboxMessage).where(models.OutboxMessage.kind == "card")).all()
            sent_digests = {r.key for r in session.exec(select(models.OutboxMessage).where(
                models.OutboxMessage.kind == "digest", models.OutboxMessage.status == "sent"))}
            assert session.exec(select(func.count()).select_from(models.Mention)).one() == 62
        # Every item is shown: its own card, or inside a digest that reached Slack.
        assert all(r.status == "sent" or (r.status == "digested" and r.digest_key in sent_digests) for r in rows)

    def test_expand_posts_the_items_in_the_digest_thread_and_handle_all(self, engine, fake_slack, clock, workspace,
                                                                        scorer, make_mention) -> None:
        add(engine, workspace, scorer, [make_mention(text=COMPLAINTS[i % 4]) for i in range(25)])
        sender = make_sender(engine, fake_slack, clock, workspace, post_interval=timedelta(0),
                             flood=FloodPolicy(threshold=20, similarity=60, min_group=3))
        drain(sender, clock)
        with Session(engine) as session:
            digest = session.exec(select(models.OutboxMessage).where(models.OutboxMessage.kind == "digest")).first()
            folded = len(digest.payload["mention_ids"])
        with session_scope(engine) as session:
            assert triage.expand_digest(session, key=digest.key, user="U0CM1", now=clock.now()) == folded
        drain(sender, clock)
        replies = [m for m in fake_slack.messages("C0TRIAGE") if m.get("thread_ts") == digest.ts
                   and m["ts"] != digest.ts]
        assert len(replies) == folded
        with session_scope(engine) as session:
            assert triage.handle_digest(session, key=digest.key, user="U0CM1", now=clock.now()) == folded
        drain(sender, clock)
        digest_now = next(m for m in fake_slack.messages("C0TRIAGE") if m["ts"] == digest.ts)
        assert f"{folded}/{folded} handled" in json.dumps(digest_now["blocks"])


class TestOutage:
    def test_ten_minutes_of_slack_down_then_everything_once_in_order(self, engine, fake_slack, clock, workspace,
                                                                     scorer, make_mention) -> None:
        add(engine, workspace, scorer, [make_mention(text=f"message {i:02d}") for i in range(30)])
        back_at = clock.now() + timedelta(minutes=10)
        fake_slack.outage(lambda: clock.now() >= back_at)
        sender = make_sender(engine, fake_slack, clock, workspace, post_interval=timedelta(0))
        drain(sender, clock, step=timedelta(seconds=5))
        failed = [c for c in fake_slack.calls("chat.postMessage") if not c.ok]
        # During the outage the channel waits behind one probe at a time, with backoff: no hammering.
        assert 0 < len(failed) <= 40
        texts = [m["text"] for m in fake_slack.messages("C0TRIAGE")]
        assert [t.split(": ", 1)[1] for t in texts] == [f"message {i:02d}" for i in range(30)]
