"""Chaos: the reduced `bench.chaos` run (500 mentions, `veille run` killed -9 three times) and a flood while a
network misbehaves and Slack is down, on SQLite and PostgreSQL. The full figure is `python -m bench.chaos`.
"""

from __future__ import annotations

import logging
import time
import tracemalloc
from datetime import timedelta

import httpx
from sqlmodel import Session, col, func, select

from bench.chaos import card_keys, run_chaos
from bot import models
from bot.db import make_engine
from bot.runtime import Runtime, RuntimeOptions
from monitors.poll import poll_once
from monitors.sources.replay import ReplaySource
from tests.conftest import T0
from tests.scenarios import write_x_scenario
from tests.source_fakes import FakeApi, ok, raw
from tests.test_sources_x import MENTIONS, SEARCH, TWEETS, make_x


def test_kill_9_three_times_during_a_replay_stores_and_posts_every_mention_once(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    result = run_chaos(db_url, tmp_path, mentions=500, kills=3, seed=11, max_gap=1.0, spread_s=0, timeout=90)
    assert result.kills == 3
    assert result.stored == 500
    assert result.duplicates == 0, f"{result.duplicates} card(s) posted twice"
    assert result.missing == 0, f"{result.missing} card(s) never posted"
    assert result.posted == 500


def test_a_flood_while_a_network_misbehaves_and_slack_is_down_ten_minutes(  # type: ignore[no-untyped-def]
        tmp_path, db_url, fake_slack, clock, workspace) -> None:
    """300 mentions arrive over ten minutes while X answers garbage, 429s and timeouts and Slack answers 503:
    the bot stays up, the backlog waits in the database (memory does not grow with it), then it catches up."""
    flood = ReplaySource(write_x_scenario(tmp_path / "scenario", count=300, start=T0, step=timedelta(seconds=2)))
    api = FakeApi(now=T0)
    hostile = [raw("<html><h1>502 Bad Gateway</h1></html>"), ok({"data": "not a list", "meta": 7}),
               ok({"title": "Too Many Requests"}, status=429, headers={"retry-after": "30"}),
               httpx.ReadTimeout("the network is slow"), raw(b"\xff\xfe\x00garbage", status=200)]
    for path in (MENTIONS, SEARCH, TWEETS):
        api.on("GET", path, *hostile)
    x = make_x()
    runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret="secret", slack_api_url=fake_slack.base_url,
                                     database_url=db_url, workspace=workspace, clock=clock, outbox_idle_s=0.05,
                                     serve_http=False, buzz_every_s=0))
    back_at = T0 + timedelta(minutes=10, seconds=30)  # ten and a half minutes down
    fake_slack.outage(lambda: clock.now() >= back_at)
    runtime.start(poll=False)
    outcomes: list[str] = []
    memory: list[int] = []
    tracemalloc.start()
    try:
        for minute in range(1, 11):
            clock.advance(timedelta(minutes=1))
            assert poll_once(runtime.deps, name="replay", source=flood, every_s=60).status == "ok"
            api.now = clock.now()
            outcomes.append(poll_once(runtime.deps, name="x-brand", source=x, every_s=60,
                                      http=api.http(source="x-brand")).status)
            runtime.worker.wake()
            time.sleep(0.3)  # the worker tries, Slack refuses, the rows wait in the database
            if minute >= 3:
                memory.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
        with Session(runtime.engine) as session:
            waiting = session.exec(select(func.count()).select_from(models.OutboxMessage)
                                   .where(col(models.OutboxMessage.status) != "sent")).one()
        assert waiting == 300, "every card waits in the outbox table during the outage"
        assert not [c for c in fake_slack.calls("chat.postMessage") if c.ok]
        assert runtime.worker._thread.is_alive()
        # From minute 3 to 10 the backlog grew by 210 cards; the process's memory did not follow it.
        growth = memory[-1] - memory[0]
        assert growth < 2_000_000, f"memory grew by {growth / 1e6:.1f} MB during the outage"
        logging.getLogger(__name__).info("outage: %d cards waiting in the database, memory %+.2f MB from minute 3 to "
                                         "10; X polls: %s", waiting, growth / 1e6, outcomes)

        # Slack is back: the bot catches up by itself, each card once.
        deadline = time.monotonic() + 60
        while len({k for k in card_keys(fake_slack)}) < 300:
            assert time.monotonic() < deadline, f"caught up only {len(set(card_keys(fake_slack)))} of 300"
            clock.advance(timedelta(seconds=30))
            runtime.worker.wake()
            time.sleep(0.2)
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        runtime.stop()
        api.close()
    keys = card_keys(fake_slack)
    assert len(keys) == 300 and len(set(keys)) == 300
    # The network's troubles were recorded as the source's health, never crashed a poll job.
    assert set(outcomes) <= {"failed", "rate_limited", "waiting"} and "failed" in outcomes
    engine = make_engine(db_url)
    with Session(engine) as session:
        health = session.get(models.SourceCursor, "x-brand")
        assert health is not None and health.last_error and health.consecutive_failures >= 1
        assert session.exec(select(func.count()).select_from(models.Mention)).one() == 300
    engine.dispose()
