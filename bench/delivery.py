"""`python -m bench.delivery`: Slack delivery under a 10,000-item flood and after a ten-minute outage.

The real outbox sender and slack_sdk client post to the local fake Slack Web API. Time is simulated: the
sender's injected clock moves only when the sender has nothing it may do now (Slack's pace of one new
message per second per channel, a backoff after a failure), by STEP. So "Slack seconds" count the waiting
Slack imposes, as if our own CPU were instant; the wall-clock cost of our side is reported separately.
The last line is one JSON object with the figures.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import models
from bot.clock import FrozenClock
from bot.console.fake_slack import FakeSlack
from bot.db import make_engine, session_scope
from bot.flood import FloodPolicy
from bot.migrate import upgrade
from bot.outbox import OutboxSender
from bot.pipeline import decide, store
from bot.render.outbox_render import OutboxRenderer
from bot.sentiment import SentimentScorer
from bot.slack_client import make_client
from bot.workspace import parse_workspace
from monitors.sources.base import Mention

STEP = timedelta(milliseconds=250)
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
WORKSPACE = """
brand: {name: Maison Lumen, language: en, timezone: Europe/Paris}
admins: [U0ADMIN]
channels: {triage: C0TRIAGE}
responsibilities:
  - {name: support, owners: [U0S1], channel: C0SUPPORT, keywords: [livraison, commande, delivery, order, colis]}
  - {name: press, owners: [U0P1], channel: C0PRESS, keywords: [journaliste, press]}
fallback_owner: U0ADMIN
triage: {post_interval_s: 1.0, flood_threshold: 20}
"""
COMPLAINTS = [
    "toujours pas reçu ma commande, livraison en retard de {n} jours", "Livraison en retard, toujours rien reçu {e}",
    "ma commande {n} n'est toujours pas arrivée, livraison catastrophique", "still waiting for my order, {n} days {e}",
    "where is my delivery?? order {n} {e}", "colis perdu, commande {n}, aucune réponse du service client",
]
OTHER = ["J'adore la lampe Aurore {e}", "Is the Aurore lamp dimmable?", "Vous recrutez des alternants ?",
         "Superbe boutique, merci {e}", "Quelle ampoule pour la baladeuse Comète ?", "Love the new shades {e}",
         "Journaliste chez Design Hebdo, un contact presse ?", "Black Friday prices please!"]
EMOJI = ["😡", "👎", "🙄", "", "!!", "😍", "🙏"]


def mentions(count: int, *, start: datetime, span: timedelta, seed: int) -> list[Mention]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        bank = COMPLAINTS if rng.random() < 0.7 else OTHER
        text = rng.choice(bank).format(n=rng.randint(2, 9999), e=rng.choice(EMOJI))
        at = start + span * (i / count)
        out.append(Mention(network=rng.choice(["x", "instagram", "facebook", "mastodon"]), external_id=f"{seed}-{i}",
                           kind="mention", author_handle=f"user{rng.randint(1, 4000)}", text=text, created_at=at))
    return out


class Bench:
    def __init__(self, root: Path, name: str) -> None:
        self.clock = FrozenClock(START)
        self.fake = FakeSlack(clock=self.clock).start()
        self.engine = make_engine(f"sqlite:///{root / f'{name}.db'}")
        upgrade(self.engine)
        self.workspace = parse_workspace(WORKSPACE, "bench")
        self.scorer = SentimentScorer()
        triage = self.workspace.triage
        self.sender = OutboxSender(
            engine=self.engine, client=make_client("xoxb-bench", self.fake.base_url, timeout=2, retries=0),
            clock=self.clock, render=OutboxRenderer(self.workspace, self.clock),
            post_interval=timedelta(seconds=triage.post_interval_s),
            flood=FloodPolicy(threshold=triage.flood_threshold, similarity=triage.flood_similarity))

    def ingest(self, items: list[Mention]) -> None:
        with session_scope(self.engine) as session:
            for mention in items:
                store(session, mention, decide(mention, workspace=self.workspace, scorer=self.scorer),
                      source="bench", now=self.clock.now())

    def waiting(self) -> int:
        with Session(self.engine) as session:
            return session.exec(select(func.count()).select_from(models.OutboxMessage).where(
                col(models.OutboxMessage.status).in_(("pending", "in_doubt", "sending")))).one()

    def pump(self) -> None:
        report = self.sender.deliver_due()
        if not report.progressed:
            self.clock.advance(STEP)

    def posts(self) -> list:
        return [c for c in self.fake.calls("chat.postMessage") if c.ok]

    def close(self) -> None:
        self.fake.stop()
        self.engine.dispose()


def min_gap_per_channel(calls: list) -> float:
    by_channel: dict[str, list[datetime]] = defaultdict(list)
    for call in calls:
        if not call.body.get("thread_ts"):
            by_channel[call.body["channel"]].append(call.time)
    gaps = [(b - a).total_seconds() for times in by_channel.values() for a, b in zip(times, times[1:], strict=False)]
    return min(gaps) if gaps else float("inf")


def flood(root: Path) -> dict:
    bench = Bench(root, "flood")
    wall = time.perf_counter()
    items = mentions(10_000, start=START, span=timedelta(minutes=10), seed=1)
    t0 = bench.clock.now()
    fed = 0
    # Items arrive over ten Slack minutes, in polls of a few seconds, while the sender works.
    while fed < len(items) or bench.waiting():
        due = int(len(items) * min(1.0, (bench.clock.now() - t0) / timedelta(minutes=10)))
        if due > fed:
            bench.ingest(items[fed:due])
            fed = due
        bench.pump()
    elapsed = (bench.clock.now() - t0).total_seconds()
    posts = bench.posts()
    with Session(bench.engine) as session:
        stored = session.exec(select(func.count()).select_from(models.Mention)).one()
        shown = session.exec(select(func.count()).select_from(models.OutboxMessage).where(
            models.OutboxMessage.kind == "card", col(models.OutboxMessage.status).in_(("sent", "digested")))).one()
        digests = session.exec(select(func.count()).select_from(models.OutboxMessage).where(
            models.OutboxMessage.kind == "digest")).one()
    gap = min_gap_per_channel(posts)
    wall = time.perf_counter() - wall
    bench.close()
    return {"items": len(items), "stored": stored, "shown": shown, "messages": len(posts), "digests": digests,
            "wall_s": round(wall, 1), "items_per_wall_s": round(stored / wall, 1),
            "slack_seconds": round(elapsed, 1), "messages_per_s": round(len(posts) / elapsed, 2),
            "items_per_s": round(stored / elapsed, 1), "min_gap_s": round(gap, 3), "pace_ok": gap >= 0.999}


def outage(root: Path) -> dict:
    bench = Bench(root, "outage")
    items = mentions(1_000, start=START, span=timedelta(minutes=10), seed=2)
    t0 = bench.clock.now()
    back_at = t0 + timedelta(minutes=10)
    bench.fake.outage(lambda: bench.clock.now() >= back_at)
    fed = 0
    while bench.clock.now() < back_at:
        due = int(len(items) * min(1.0, (bench.clock.now() - t0) / timedelta(minutes=10)))
        if due > fed:
            bench.ingest(items[fed:due])
            fed = due
        bench.pump()
    bench.ingest(items[fed:])
    while bench.waiting():
        bench.pump()
    drained = (bench.clock.now() - back_at).total_seconds()
    posts = bench.posts()
    keys = [c.body["metadata"]["event_payload"]["key"] for c in posts]
    failed = len([c for c in bench.fake.calls("chat.postMessage") if not c.ok])
    # Order per channel: each channel's messages appear in the order their outbox rows were written.
    with Session(bench.engine) as session:
        row_id = {r.key: r.id for r in session.exec(select(models.OutboxMessage))}
        shown = session.exec(select(func.count()).select_from(models.OutboxMessage).where(
            models.OutboxMessage.kind == "card", col(models.OutboxMessage.status).in_(("sent", "digested")))).one()
    by_channel: dict[str, list[int]] = defaultdict(list)
    for call in posts:
        by_channel[call.body["channel"]].append(row_id[call.body["metadata"]["event_payload"]["key"]])
    in_order = all(ids == sorted(ids) for ids in by_channel.values())
    bench.close()
    return {"items": len(items), "shown": shown, "messages": len(posts), "duplicates": len(keys) - len(set(keys)),
            "failed_attempts_during_outage": failed, "drain_s_after_recovery": round(drained, 1),
            "in_order_per_channel": in_order}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print("Simulated Slack time; pace: 1 new message/s per channel; 3 channels (triage, support, press).")
        result = flood(root)
        print(f"flood: {result['items']} items over 10 min -> {result['messages']} Slack messages "
              f"({result['digests']} digests); every item stored ({result['stored']}) and shown ({result['shown']})")
        print(f"       delivered in {result['slack_seconds']} s: {result['messages_per_s']} messages/s, "
              f"{result['items_per_s']} items/s; smallest gap between two posts in a channel: {result['min_gap_s']} s")
        print(f"       our side's wall-clock cost (ingest + render + send): {result['wall_s']} s, "
              f"{result['items_per_wall_s']} items/s")
        down = outage(root)
        print(f"outage: Slack down 10 min while {down['items']} items arrived; {down['failed_attempts_during_outage']} "
              f"probes failed; drained {down['drain_s_after_recovery']} s after recovery; {down['messages']} messages "
              f"showing {down['shown']} items, {down['duplicates']} duplicates, in order per channel: "
              f"{down['in_order_per_channel']}")
        figures = {"flood": result, "outage": down,
                   "messages_vs_items": round(result["messages"] / result["items"], 4),
                   "note": "simulated Slack time (deterministic); one run per scenario"}
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
