"""The bad-buzz job end to end with an injected clock: a publication followed by a negative spike opens one
incident (with the post that preceded it) and pages the on-call; the spike going on updates it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bot import models
from bot.db import session_scope
from bot.pipeline import ingest_page
from bot.sentiment import SentimentScorer
from bot.workspace import parse_workspace
from monitors.buzz_watch import BuzzWatch
from monitors.escalation import run_escalations
from monitors.sources.base import Page
from tests.conftest import T0, WORKSPACE_YAML
from tests.test_incidents import ONCALL  # the same on-call policy

CALM = ["Love the new Aurore lamp", "Is the shop open on Sunday?", "Nice colours this season",
        "Bought one for my mum", "Where can I see the lamps in Lyon?", "Great packaging"]
ANGRY = "Black Friday order cancelled without notice, terrible service, still no refund #{i}"


def test_a_publication_then_a_negative_spike_opens_one_incident_and_pages(engine, clock, make_mention) -> None:
    ws = parse_workspace(WORKSPACE_YAML.replace("channels:\n  triage: C0TRIAGE\n", "") + ONCALL, "test.yaml")
    scorer = SentimentScorer()
    start = T0 - timedelta(days=4)
    calm = [make_mention(text=CALM[i % len(CALM)], created_at=start + timedelta(minutes=37 * i))
            for i in range(int(4 * 24 * 60 / 37))]
    post_at = T0 + timedelta(minutes=2)
    spike = [make_mention(text=ANGRY.format(i=i), created_at=T0 + timedelta(minutes=30, seconds=20 * i))
             for i in range(45)]
    with session_scope(engine) as session:
        ingest_page(session, Page(calm, None), source="x", workspace=ws, scorer=scorer, now=T0)
        session.add(models.CalendarPost(network="instagram", scheduled_at=post_at, title="Black Friday -25 %",
                                        status="published", external_id="ig-1"))
    watch = BuzzWatch(engine=engine, workspace=ws)
    clock.set(T0)
    assert watch.run(clock.now()) == 0  # the history is replayed silently: nothing to page about
    with session_scope(engine) as session:
        ingest_page(session, Page(spike, None), source="x", workspace=ws, scorer=scorer, now=T0)
    opened = 0
    for _ in range(24):  # two hours, one run per 5-minute bucket
        clock.advance(timedelta(minutes=5))
        opened += watch.run(clock.now())
        run_escalations(engine, ws, clock.now())
    with Session(engine) as session:
        incidents = session.exec(select(models.Incident)).all()
        pages = session.exec(select(models.OutboxMessage).where(
            models.OutboxMessage.key.startswith("page:"))).all()  # type: ignore[attr-defined]
    assert len(incidents) == 1, [i.title for i in incidents]
    incident = incidents[0]
    assert incident.facts["post"]["title"] == "Black Friday -25 %"
    assert incident.opened_at >= T0 + timedelta(minutes=30)  # decided from the past only
    assert pages and pages[0].channel in ws.oncall.rotation
    assert opened >= 1


def test_a_competitors_bad_buzz_never_pages_our_on_call(engine, clock, make_mention) -> None:
    """Items from a competitor-listening source count in share of voice only: their spike is not our incident."""
    listening = ("sources:\n  - name: rival-x\n    type: x\n    subject: Lumière & Fils\n"
                 "    options: {bearer_token: t, user_id: '1', handle: rival}\n")
    yaml = WORKSPACE_YAML.replace("channels:\n  triage: C0TRIAGE\n", "") + ONCALL
    yaml = yaml.replace("  competitors: []", "  competitors: [\"Lumière & Fils\"]") if "  competitors: []" in yaml \
        else yaml.replace("brand:\n", "brand:\n  competitors: [\"Lumière & Fils\"]\n", 1)
    ws = parse_workspace(yaml + listening, "test.yaml")
    assert ws.subject_of("rival-x") == "Lumière & Fils"
    scorer = SentimentScorer()
    start = T0 - timedelta(days=4)
    calm = [make_mention(text=CALM[i % len(CALM)], created_at=start + timedelta(minutes=37 * i))
            for i in range(int(4 * 24 * 60 / 37))]
    spike = [make_mention(text=ANGRY.format(i=i), created_at=T0 + timedelta(minutes=30, seconds=20 * i))
             for i in range(45)]
    with session_scope(engine) as session:
        ingest_page(session, Page(calm, None), source="x", workspace=ws, scorer=scorer, now=T0)
    watch = BuzzWatch(engine=engine, workspace=ws)
    clock.set(T0)
    watch.run(clock.now())
    with session_scope(engine) as session:
        ingest_page(session, Page(spike, None), source="rival-x", workspace=ws, scorer=scorer, now=T0)
    for _ in range(24):
        clock.advance(timedelta(minutes=5))
        assert watch.run(clock.now()) == 0
    with Session(engine) as session:
        assert session.exec(select(models.Incident)).all() == []
        stored = session.exec(select(models.Mention).where(models.Mention.subject == "Lumière & Fils")).all()
    assert len(stored) == 45  # kept for share of voice, just not paged on
