"""The weekly KPI digest: due on the configured local day and time, posted once through the outbox (whatever the
number of runs or replicas), then its chart uploaded once under it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot import models
from bot.clock import FrozenClock
from bot.runtime import Runtime, RuntimeOptions
from bot.workspace import parse_workspace
from monitors.kpi_digest import latest_slot, run_weekly_digest
from tests.slackbot import SECRET, wait_until
from tests.test_kpi_figures import KPI_YAML, build_dataset

# Monday 2026-11-23 09:00 in Paris (UTC+1): the default digest time.
MONDAY_9 = datetime.fromisoformat("2026-11-23T08:00:00+00:00")
DIGEST_YAML = KPI_YAML + "\nkpi: {digest_channel: C0KPI}\n"


@pytest.fixture
def workspace_kpi():  # type: ignore[no-untyped-def]
    return parse_workspace(DIGEST_YAML, "test.yaml")


def test_the_slot_is_the_last_monday_9am_and_reports_the_week_before(workspace_kpi) -> None:  # type: ignore[no-untyped-def]
    slot = latest_slot(workspace_kpi, MONDAY_9)
    assert slot.due == MONDAY_9 and slot.key == "kpi-digest:2026-W48"
    # Monday 16 00:00 Paris .. Monday 23 00:00 Paris
    assert slot.period.start == datetime.fromisoformat("2026-11-15T23:00:00+00:00")
    assert slot.period.end == datetime.fromisoformat("2026-11-22T23:00:00+00:00")
    # A minute before 9:00 the latest slot is last week's
    assert latest_slot(workspace_kpi, MONDAY_9 - timedelta(minutes=1)).key == "kpi-digest:2026-W47"
    other = parse_workspace(DIGEST_YAML.replace("{digest_channel: C0KPI}", "{digest_day: friday, digest_time: '17:30',"
                                                " timezone: America/New_York}"), "t.yaml")
    # Friday 2026-11-20 17:30 in New York is 22:30Z
    assert latest_slot(other, datetime.fromisoformat("2026-11-21T00:00:00+00:00")).due == \
        datetime.fromisoformat("2026-11-20T22:30:00+00:00")


def test_queued_once_and_only_when_due(engine, workspace_kpi) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        build_dataset(session)
    assert not run_weekly_digest(engine, workspace_kpi, now=MONDAY_9 - timedelta(minutes=1))
    assert run_weekly_digest(engine, workspace_kpi, now=MONDAY_9)
    # The job running again, or on a second replica, adds nothing.
    assert not run_weekly_digest(engine, workspace_kpi, now=MONDAY_9 + timedelta(minutes=1))
    assert not run_weekly_digest(engine, workspace_kpi, now=MONDAY_9 + timedelta(hours=2))
    with Session(engine) as session:
        rows = session.exec(select(models.OutboxMessage).where(
            models.OutboxMessage.key.startswith("kpi-digest"))).all()  # type: ignore[attr-defined]
    assert [(r.key, r.channel) for r in rows] == [("kpi-digest:2026-W48", "C0KPI")]
    text = json.dumps(rows[0].payload["blocks"], ensure_ascii=False)
    assert rows[0].payload["text"] == "📊 Weekly KPIs — Maison Lumen, week of 2026-11-16"
    # Mon 16 .. Sun 22 (Paris) = [Nov 15 23:00Z, Nov 22 23:00Z): m7 (16th), m2 (17th), m1 (18th), m3 m8 (19th),
    # m6 (20th) -> 6 items, all on X; m4 (15th 09:00Z) and m5 (14th) fall in the week before, with p0..p3 (11-12th)
    # -> 6 as well: trend (6 - 6) / 6 = +0 %
    assert "*Volume:* *6* items · ➡️ +0% vs the previous period (6)" in text


def test_a_digest_missed_by_half_a_day_is_skipped(engine, workspace_kpi) -> None:  # type: ignore[no-untyped-def]
    assert not run_weekly_digest(engine, workspace_kpi, now=MONDAY_9 + timedelta(hours=13))


def test_the_running_bot_posts_the_text_then_the_chart(db_url, fake_slack) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(MONDAY_9 + timedelta(minutes=5))
    runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                     database_url=db_url, workspace=parse_workspace(DIGEST_YAML, "t.yaml"),
                                     clock=clock, outbox_idle_s=0.05, buzz_every_s=0))
    runtime.start(poll=False)
    try:
        wait_until(lambda: fake_slack.messages("C0KPI"), what="the digest")
        [message] = fake_slack.messages("C0KPI")
        assert "Weekly KPIs — Maison Lumen" in message["text"]
        clock.advance(timedelta(minutes=2))  # the job looks again a minute later: the text is out, the chart goes
        runtime.worker.wake()
        wait_until(lambda: fake_slack.calls("files.completeUploadExternal"), what="the chart")
        clock.advance(timedelta(minutes=2))
        runtime.worker.wake()
        wait_until(lambda: runtime.worker.idle.is_set())
        # One text, then one file shared under it; nothing more on later runs.
        text, chart = fake_slack.messages("C0KPI")
        assert text["ts"] == message["ts"] and chart.get("files")
        assert len([c for c in fake_slack.calls("files.completeUploadExternal") if c.ok]) == 1
    finally:
        runtime.stop()
