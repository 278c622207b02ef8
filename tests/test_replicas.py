"""Replicas: leases in the database decide which process does each job (`bot.coordination`).

The lease and outbox tests run on SQLite and PostgreSQL. The end-to-end test starts two real `veille run`
replicas on one PostgreSQL, configured with the same replay source (mentions come due over ~16 wall
seconds) and serving Slack's requests over HTTP; slash commands and clicks go to either one. Then the
replica holding the leases is killed with SIGKILL: the other must take the polls and the outbox over
within the lease TTL and finish the work. Each card, page and reply exactly once.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, func, select

from bot import ids, models
from bot.console import slack_requests
from bot.coordination import Coordinator, Grant
from bot.db import make_engine, session_scope
from bot.outbox import OutboxSender
from bot.pipeline import decide, store
from bot.render.outbox_render import OutboxRenderer
from bot.sentiment import SentimentScorer
from bot.slack_client import make_client
from tests.conftest import T0
from tests.scenarios import x_page

SECRET = "test-signing-secret"
TTL_S = 3.0
MENTIONS = 90

CONFIG = """
brand: {{name: Maison Lumen, language: en, timezone: Europe/Paris, handles: {{x: maisonlumen}}}}
admins: [U0ADMIN]
channels: {{triage: C0TRIAGE, alerts: C0ALERTS}}
fallback_owner: U0CM1
triage: {{post_interval_s: 0, flood_threshold: 1000}}
oncall: {{rotation: [U0CM1, U0SUPPORT1]}}
sources:
  - name: replay
    type: replay
    poll_every_s: 10
    options: {{path: "{path}"}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_trickle(directory: Path, *, count: int, start: datetime, seconds: float) -> Path:
    """`count` X mentions whose event times are spread over `seconds` of wall time from `start`."""
    directory.mkdir(parents=True, exist_ok=True)
    events = []
    for i in range(count):
        at = start + timedelta(seconds=seconds * i / count)
        events.append({"at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "network": "x",
                       "payload": x_page(i, at, text=f"@maisonlumen where is my order {i}?")})
    (directory / "x.json").write_text(json.dumps(events), encoding="utf-8")
    return directory


class Replica:
    def __init__(self, name: str, tmp_path: Path, db_url: str, fake_url: str) -> None:
        self.name = name
        self.port = free_port()
        self.log = tmp_path / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        env.update({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake_url,
                    "DATABASE_URL": db_url, "VEILLE_CONFIG": str(tmp_path / "veille.yaml"),
                    "VEILLE_LOG_LEVEL": "WARNING", "VEILLE_LEASE_TTL_S": str(TTL_S)})
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, body: str) -> httpx.Response:
        signed = slack_requests.sign(body, SECRET, content_type="application/x-www-form-urlencoded")
        return httpx.post(f"{self.url}/slack/events", content=signed.body, headers=signed.headers, timeout=10)

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def wait_for(predicate: Any, timeout: float, what: str, replicas: list[Replica]) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            logs = "\n".join(f"--- {r.name}:\n{r.log.read_text()[-2000:]}" for r in replicas)
            pytest.fail(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.05)
    return time.monotonic() - started


def posted(fake: Any) -> list[str]:
    return [c.body["metadata"]["event_payload"]["key"] for c in fake.calls("chat.postMessage") if c.ok]


def top_level_cards(fake: Any) -> list[dict]:
    return [m for m in fake.messages("C0TRIAGE") if m.get("thread_ts") in (None, m.get("ts"))]


def element(message: dict, action_id: str) -> dict:
    for block in message.get("blocks") or []:
        for item in block.get("elements") or []:
            if item.get("action_id") == action_id:
                return {**item, "block_id": block.get("block_id", "")}
    raise AssertionError(f"no {action_id} on {message.get('text')}")


def lease_holders(engine: Any) -> dict[str, str]:
    with Session(engine) as session:
        now = datetime.now(UTC)
        return {lease.name: lease.holder for lease in session.exec(select(models.Lease)).all()
                if lease.expires_at > now}


def test_a_lease_has_one_holder_and_moves_only_when_it_expires_or_is_released(engine) -> None:  # type: ignore[no-untyped-def]
    a, b = Coordinator(engine, identity="host-1-a", ttl_s=2), Coordinator(engine, identity="host-2-b", ttl_s=2)
    first = a.try_acquire("poll:x")
    assert first is not None and first.token == 1
    assert b.try_acquire("poll:x") is None  # held: refused
    assert a.try_acquire("poll:x").token == 1  # the holder renews; same token
    a.renew()
    assert a.holders() == {"poll:x": "host-1-a"}
    time.sleep(2.1)  # a stops renewing, as if killed
    taken = b.try_acquire("poll:x")
    assert taken is not None and taken.token == 2  # a new holder, a new fencing token
    a.renew()
    assert a.hold("poll:x") is None  # a noticed it lost the lease, and does not take it back
    b.release_all()
    assert a.try_acquire("poll:x").token == 3  # released: taken at once, no TTL to wait


def expire(engine, name: str) -> None:  # type: ignore[no-untyped-def]
    """As if the lease's TTL had passed without a renewal."""
    with session_scope(engine) as session:
        lease = session.get(models.Lease, name)
        lease.expires_at = datetime(2000, 1, 1, tzinfo=UTC)


def _card(engine, workspace, make_mention) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        mention = make_mention(text="where is my Aurore lamp order?")
        store(session, mention, decide(mention, workspace=workspace, scorer=SentimentScorer()), source="x", now=T0)


def test_only_the_outbox_holder_sends_and_a_dead_holders_message_is_not_posted_twice(  # type: ignore[no-untyped-def]
        engine, fake_slack, clock, workspace, make_mention) -> None:
    def replica(name: str) -> OutboxSender:
        coordinator = Coordinator(engine, identity=name, ttl_s=3)
        sender = OutboxSender(engine=engine, client=make_client("xoxb-test", fake_slack.base_url, timeout=2, retries=0),
                              clock=clock, render=OutboxRenderer(workspace, clock), post_interval=timedelta(0))
        sender.role = coordinator.role("outbox", on_acquire=sender.recover)
        return sender

    a, b = replica("host-1-a"), replica("host-2-b")
    _card(engine, workspace, make_mention)
    _card(engine, workspace, make_mention)
    assert a.deliver_due().posted == 2
    assert b.deliver_due().posted == 0  # b is a standby: it writes rows, a sends them
    _card(engine, workspace, make_mention)
    assert a.deliver_due().posted == 1
    # a dies after Slack accepted card 3, before recording its ts: the row stays `sending`.
    with session_scope(engine) as session:
        row = session.exec(select(models.OutboxMessage).order_by(models.OutboxMessage.id.desc())).first()
        row.status, row.ts, row.sent_version = "sending", None, 0
    _card(engine, workspace, make_mention)
    expire(engine, "outbox")  # a's lease runs out: a stopped renewing it
    time.sleep(1.1)  # b, refused a moment ago, asks again after ttl/3
    report = b.deliver_due()
    assert (report.reconciled, report.posted) == (1, 1)  # card 3 found in the history, card 4 posted
    assert len(fake_slack.calls("chat.postMessage")) == 4

    # a comes back believing it still holds the outbox (its local grant looks fresh): its claims are fenced.
    assert a.role is not None and a.role.token == 1
    a.role.coordinator._grants["outbox"] = Grant("outbox", 1, time.monotonic() + 60)
    _card(engine, workspace, make_mention)
    assert a.deliver_due().posted == 0
    assert b.deliver_due().posted == 1
    keys = [c.body["metadata"]["event_payload"]["key"] for c in fake_slack.calls("chat.postMessage") if c.ok]
    assert len(keys) == 5 and len(set(keys)) == 5
    with Session(engine) as session:
        assert set(session.exec(select(models.OutboxMessage.status)).all()) == {"sent"}


@pytest.mark.postgres
def test_two_replicas_share_the_work_and_survive_a_kill_9(tmp_path, pg_url, fake_slack) -> None:  # type: ignore[no-untyped-def]
    # Half the mentions are due at once (the first poll brings them), the rest come due over the next 8 s
    # (later polls, after the kill); Slack is slow enough that the kill lands mid-delivery.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=8)
    scenario = write_trickle(tmp_path / "scenario", count=MENTIONS, start=start, seconds=16)
    (tmp_path / "veille.yaml").write_text(CONFIG.format(path=scenario), encoding="utf-8")
    fake_slack.delay("chat.postMessage", 0.1)
    engine = make_engine(pg_url)
    a = Replica("a", tmp_path, pg_url, fake_slack.base_url)
    b = Replica("b", tmp_path, pg_url, fake_slack.base_url)
    replicas = [a, b]
    try:
        wait_for(lambda: a.ready() and b.ready(), 60, "both replicas to serve HTTP", replicas)
        wait_for(lambda: len(top_level_cards(fake_slack)) >= 10, 30, "the first cards", replicas)

        # Requests land on either replica: a click on one, a slash command on the other.
        cards = top_level_cards(fake_slack)
        first = cards[0]
        response = a.post(slack_requests.block_action(
            user_id="U0CM1", channel_id="C0TRIAGE", message=first, button=element(first, ids.MARK_HANDLED),
            response_url=fake_slack.response_url("click", channel="C0TRIAGE", message_ts=first["ts"])))
        assert response.status_code == 200, response.text
        response = b.post(slack_requests.slash_command(
            "/veille", "incident sev1 Checkout is down", user_id="U0ADMIN", channel_id="C0TRIAGE",
            response_url=fake_slack.response_url("incident")))
        assert response.status_code == 200, response.text
        wait_for(lambda: len(posted(fake_slack)) >= 15, 30, "15 messages", replicas)

        # The replica holding the outbox (and, being first, most leases) dies without a word.
        holders = lease_holders(engine)
        assert "outbox" in holders and "poll:replay" in holders, holders
        pids = {r.process.pid: r for r in replicas}
        victim = pids[int(holders["outbox"].rsplit("-", 2)[1])]
        survivor = b if victim is a else a
        before = len(posted(fake_slack))
        assert before < MENTIONS, "the kill came too late to test a take-over"
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(10)
        killed_at = time.monotonic()

        # The survivor resumes delivery within the TTL (plus its retry pause, idle tick and slow-CI margin)...
        taken = wait_for(lambda: len(posted(fake_slack)) > before + 2, TTL_S + 10, "the take-over", replicas)
        assert taken <= TTL_S + 4, f"the survivor took {taken:.1f}s to resume delivery (TTL {TTL_S}s)"
        # ... and the source's polls within the TTL plus one poll interval (10 s).
        wait_for(lambda: len(set(k for k in posted(fake_slack) if k.startswith("card:"))) >= MENTIONS, 60,
                 f"all {MENTIONS} cards", replicas)
        took_all = time.monotonic() - killed_at
        time.sleep(1.5)  # a duplicate, if any, would be posted by now
        holders = lease_holders(engine)
        survivor_id = holders.get("outbox", "")
        assert survivor_id.rsplit("-", 2)[1] == str(survivor.process.pid)
        assert holders.get("poll:replay") == survivor_id
    finally:
        for replica in replicas:
            replica.stop()

    keys = posted(fake_slack)
    duplicates = len(keys) - len(set(keys))
    assert duplicates == 0, f"{duplicates} message(s) posted twice: {[k for k in set(keys) if keys.count(k) > 1]}"
    card_keys = {k for k in keys if k.startswith("card:")}
    assert len(card_keys) == MENTIONS
    # One incident, one card for it, one page for whoever of the rotation is on call this week.
    assert len([k for k in keys if k.startswith("incident:")]) == 1
    pages = [k for k in keys if k.startswith("page:")]
    assert len(pages) == 1 and pages[0].rsplit(":", 1)[1] in ("U0CM1", "U0SUPPORT1")
    # Each request answered once, by the replica it reached.
    replies = [r for r in fake_slack.responses() if "incident" in json.dumps(r.body).lower()]
    assert len(replies) == 1
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(models.Mention)).one() == MENTIONS
        assert session.exec(select(func.count()).select_from(models.Mention)
                            .where(models.Mention.status == "handled")).one() == 1
        statuses = session.exec(select(models.OutboxMessage.status)).all()
        assert set(statuses) == {"sent"}, statuses
    engine.dispose()
    # The figure for the closing note (pytest --log-cli-level=INFO shows it).
    logging.getLogger(__name__).info("replicas: %d cards once, 0 duplicates; delivery resumed %.1fs after kill -9 "
                                     "(TTL %.0fs); all done %.1fs after the kill", len(card_keys), taken, TTL_S,
                                     took_all)


def test_the_buzz_detector_lives_in_the_lease_holder_and_is_rebuilt_from_the_store_when_it_moves(  # type: ignore[no-untyped-def]
        db_url, fake_slack, clock, workspace, make_mention) -> None:
    from bot.pipeline import ingest_page
    from bot.runtime import Runtime, RuntimeOptions
    from monitors.buzz import bucket_floor
    from monitors.sources.base import Page

    def replica() -> Runtime:
        return Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                      database_url=db_url, workspace=workspace, clock=clock, serve_http=False,
                                      lease_ttl_s=3))

    a, b = replica(), replica()
    a.start(poll=False)
    b.start(poll=False)
    try:
        with session_scope(a.engine) as session:
            ingest_page(session, Page([make_mention(created_at=T0 + timedelta(minutes=i)) for i in range(30)], None),
                        source="x", workspace=workspace, scorer=a.deps.scorer, now=T0, rules=None)
        clock.advance(timedelta(hours=1))
        buzz_a, buzz_b = a.scheduler.get_job("buzz").func, b.scheduler.get_job("buzz").func
        buzz_a()
        buzz_b()  # b is a standby: its detector never ran
        assert a.buzz._last is not None and b.buzz._last is None
        decided = a.buzz._last

        a.coordinator._stop.set()  # a freezes: it renews nothing from now on ...
        time.sleep(3.2)  # ... and its leases run out (TTL 3 s)
        clock.advance(timedelta(minutes=30))
        buzz_b()
        # b rebuilt the detector from the stored mentions, up to the last closed bucket, as a would have.
        bucket = b.buzz.config.bucket
        assert b.buzz._last == bucket_floor(clock.now(), bucket) - bucket > decided
        buzz_a()  # a, back, finds the lease taken: its stale detector does not run
        assert a.buzz._last == decided
    finally:
        a.stop()
        b.stop()
