"""Polling sources into the store (SQLite and PostgreSQL): cursor resume, auth pause, rate limits, health, status."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from slack_bolt.request import BoltRequest
from sqlmodel import Session, func, select

from bot import models
from bot.app import build_app
from bot.clock import FrozenClock
from bot.console import slack_requests
from bot.deps import Deps
from bot.render.status import render_status
from bot.sentiment import SentimentScorer
from bot.services.sources import source_health
from bot.slack_client import make_client
from bot.workspace import Workspace, parse_workspace
from monitors.poll import ScheduledSource, load_cursor, poll_cycle, poll_once
from monitors.sources.rss import RssConnector, RssOptions
from monitors.sources.x import XConnector, XOptions
from tests.conftest import T0
from tests.source_fakes import FakeApi, fixture, ok, raw

USER = "1587340021938475008"
MENTIONS = f"/2/users/{USER}/mentions"
TWEETS = f"/2/users/{USER}/tweets"
CONFIG = """
brand: {name: Maison <Lumen>, language: en, handles: {x: maisonlumen}}
admins: [U0ADMIN]
channels: {triage: C0TRIAGE, admin: C0ADMIN}
sources:
  - {name: x-brand, type: x, options: {bearer_token: "${X_TOKEN}", user_id: "1587340021938475008"}}
  - {name: alerts, type: rss, poll_every_s: 900, options: {url: "https://feeds.test/alerts"}}
  - {name: quiet, type: rss, enabled: false, options: {url: "https://feeds.test/quiet"}}
"""


@pytest.fixture
def workspace() -> Workspace:
    return parse_workspace(CONFIG, "test.yaml")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def deps(engine, workspace, clock) -> Deps:  # type: ignore[no-untyped-def]
    return Deps(workspace=workspace, engine=engine, clock=clock, scorer=SentimentScorer())


@pytest.fixture
def api(clock: FrozenClock) -> Iterator[FakeApi]:
    fake = FakeApi(now=T0)
    yield fake
    fake.close()


def make_x(token: str = "token-1") -> XConnector:
    return XConnector("x-brand", XOptions(bearer_token=SecretStr(token), user_id=USER, search=False),
                      brand_handles={"x": "maisonlumen"}, backfill=timedelta(days=7), engagement_days=14)


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def cursor_row(deps: Deps, name: str = "x-brand") -> models.SourceCursor:
    with Session(deps.engine) as session:
        row = session.get(models.SourceCursor, name)
        assert row is not None
        return row


class TestResumeAfterRestart:
    def test_a_restarted_bot_asks_for_what_is_newer_than_the_stored_cursor(self, deps, api, workspace,
                                                                          clock) -> None:
        api.on("GET", MENTIONS, ok(dict(fixture("x", "users_mentions"), meta={
            "result_count": 2, "newest_id": "1991536271841378306"})), ok(fixture("x", "users_mentions_page2")))
        api.on("GET", TWEETS, ok(fixture("x", "users_tweets")))

        first = poll_once(deps, name="x-brand", source=make_x(), every_s=300, http=api.http())
        assert (first.status, first.ingest.stored) == ("ok", 2)

        # A new process: new connector, new dependencies, the same database.
        clock.advance(timedelta(minutes=5))
        restarted = Deps(workspace=workspace, engine=deps.engine, clock=clock, scorer=SentimentScorer())
        second = poll_once(restarted, name="x-brand", source=make_x(), every_s=300, http=api.http())

        assert api.params(MENTIONS)[1]["since_id"] == ["1991536271841378306"]
        # Page 2 repeats a stored post: stored once, counted as a duplicate.
        assert (second.ingest.stored, second.ingest.duplicates) == (1, 1)
        with Session(deps.engine) as session:
            assert count(session, models.Mention) == 3
            stored = session.exec(select(models.Mention).where(
                models.Mention.external_id == "1991522000000000001")).one()
            assert stored.raw["author"]["username"] == "nadia_lit"  # the raw payload is kept
        row = cursor_row(deps)
        assert load_cursor(row.cursor)["mentions"] == {"since_id": "1991536271841378306"}
        assert (row.items_seen, row.last_success_at, row.next_poll_at) == (3, clock.now(),
                                                                             clock.now() + timedelta(seconds=300))
        assert len(api.calls(TWEETS)) == 1, "own posts refreshed again within engagement_every_s"


class TestAuthPause:
    def test_401_pauses_the_source_and_alerts_the_admins_once(self, deps, api, clock) -> None:
        api.on("GET", MENTIONS, ok(fixture("x", "error_unauthorized"), status=401))

        outcomes = []
        for _ in range(3):
            outcomes.append(poll_once(deps, name="x-brand", source=make_x(), every_s=120, http=api.http()).status)
            clock.advance(timedelta(minutes=2))

        assert outcomes == ["auth_failed", "paused", "paused"]
        assert len(api.calls(MENTIONS)) == 1, "a paused source kept calling the network"
        with Session(deps.engine) as session:
            [alert] = session.exec(select(models.OutboxMessage)).all()
        assert alert.key == f"source-auth:x-brand:{make_x().config_fingerprint()}"
        assert alert.channel == "C0ADMIN"
        text = alert.payload["text"]
        assert "*x-brand*" in text and "HTTP 401" in text and "sources.x-brand" in text and "paused" in text
        assert "token-1" not in text and "token-1" not in (cursor_row(deps).paused_reason or "")

    def test_a_changed_config_resumes_polling_and_a_new_failure_alerts_again(self, deps, api, clock) -> None:
        api.on("GET", MENTIONS, ok({}, status=401), ok(fixture("x", "users_mentions_empty")), ok({}, status=403))
        api.on("GET", TWEETS, ok(fixture("x", "users_mentions_empty")))
        poll_once(deps, name="x-brand", source=make_x("old-token"), http=api.http())

        clock.advance(timedelta(minutes=5))
        resumed = poll_once(deps, name="x-brand", source=make_x("new-token"), http=api.http())
        assert resumed.status == "ok" and cursor_row(deps).paused_reason is None
        assert api.calls(MENTIONS)[1].headers["authorization"] == "Bearer new-token"

        clock.advance(timedelta(minutes=5))
        assert poll_once(deps, name="x-brand", source=make_x("new-token"), http=api.http()).status == "auth_failed"
        with Session(deps.engine) as session:
            assert count(session, models.OutboxMessage) == 2


class TestBackoff:
    def test_retry_after_is_respected_across_polls(self, deps, api, clock) -> None:
        api.on("GET", MENTIONS, ok({}, status=429, headers={"Retry-After": "600"}),
               ok(fixture("x", "users_mentions_empty")))
        api.on("GET", TWEETS, ok(fixture("x", "users_mentions_empty")))

        assert poll_once(deps, name="x-brand", source=make_x(), every_s=60, http=api.http()).status == "rate_limited"
        assert cursor_row(deps).not_before == T0 + timedelta(seconds=600)
        clock.advance(timedelta(seconds=60))
        assert poll_once(deps, name="x-brand", source=make_x(), every_s=60, http=api.http()).status == "waiting"
        assert len(api.calls(MENTIONS)) == 1
        clock.advance(timedelta(seconds=541))
        assert poll_once(deps, name="x-brand", source=make_x(), every_s=60, http=api.http()).status == "ok"

    def test_failures_back_off_then_one_success_clears_them(self, deps, api, clock) -> None:
        api.on("GET", MENTIONS, ok({}, status=503), ok({}, status=503), ok({}, status=503), ok({}, status=503),
               ok(fixture("x", "users_mentions_empty")))
        api.on("GET", TWEETS, ok(fixture("x", "users_mentions_empty")))

        failed = poll_once(deps, name="x-brand", source=make_x(), every_s=300, http=api.http(), rng=lambda: 1.0)
        assert failed.status == "failed" and "answered 503" in (failed.error or "")
        row = cursor_row(deps)
        assert row.consecutive_failures == 1 and row.not_before == T0 + timedelta(seconds=300)
        assert "answered 503" in (row.last_error or "")

        clock.advance(timedelta(seconds=300))
        assert poll_once(deps, name="x-brand", source=make_x(), every_s=300, http=api.http()).status == "ok"
        row = cursor_row(deps)
        assert (row.consecutive_failures, row.not_before, row.last_success_at) == (0, None, clock.now())


class TestStoredItems:
    def test_a_malformed_entry_served_at_every_poll_is_kept_aside_once(self, deps, api, clock) -> None:
        api.on("GET", "/alerts", raw(fixture_text("rss", "feed_rss2.xml")))
        source = RssConnector("alerts", RssOptions(url="https://feeds.test/alerts"))
        for _ in range(2):
            assert poll_once(deps, name="alerts", source=source, http=api.http(network="rss")).status == "ok"
            clock.advance(timedelta(minutes=15))
        with Session(deps.engine) as session:
            [item] = session.exec(select(models.RejectedItem)).all()
            assert (item.source, item.reason) == ("alerts", "entry has neither id nor link")
            assert item.raw["title"] == "Entry without id, link or date"
            assert count(session, models.Mention) == 2
            health = {h.name: h for h in source_health(session, deps.workspace, now=clock.now())}
        assert health["alerts"].rejected == 1
        assert "1 malformed item(s) set aside" in str(render_status(list(health.values()), now=clock.now(),
                                                                     lang="en").blocks)

    def test_own_posts_and_comments_are_linked_to_the_calendar_post_they_became(self, deps, api, clock) -> None:
        with Session(deps.engine) as session:
            planned = models.CalendarPost(network="x", scheduled_at=T0 - timedelta(days=2), title="Aurore launch",
                                          permalink="https://x.com/maisonlumen/status/1991120098765432321")
            session.add(planned)
            session.commit()
            planned_id = planned.id
        metrics = fixture("x", "users_tweets")
        api.on("GET", MENTIONS, ok(fixture("x", "users_mentions_page2")))
        api.on("GET", TWEETS, ok(metrics), ok(_with_likes(metrics, 999)))

        poll_once(deps, name="x-brand", source=make_x(), http=api.http())
        clock.advance(timedelta(hours=2))
        poll_once(deps, name="x-brand", source=make_x(), http=api.http())

        with Session(deps.engine) as session:
            launch = session.exec(select(models.OwnPost).where(
                models.OwnPost.external_id == "1991120098765432321")).one()
            assert (launch.calendar_post_id, launch.likes, launch.comments, launch.impressions) == (
                planned_id, 999, 12, 18250)
            assert launch.fetched_at == clock.now() and launch.first_seen_at == T0
            calendar_post = session.get(models.CalendarPost, planned_id)
            assert (calendar_post.external_id, calendar_post.status) == ("1991120098765432321", "published")
            reply = session.exec(select(models.Mention).where(
                models.Mention.external_id == "1991530012345678849")).one()
            assert reply.calendar_post_id == planned_id
            assert count(session, models.OwnPost) == 2


def fixture_text(network: str, name: str) -> bytes:
    from tests.source_fakes import fixture_bytes

    return fixture_bytes(network, name)


def _with_likes(payload: dict[str, Any], likes: int) -> dict[str, Any]:
    import copy

    changed = copy.deepcopy(payload)
    changed["data"][0]["public_metrics"]["like_count"] = likes
    return changed


class TestStatus:
    def test_every_configured_source_shows_its_state(self, deps, api, clock) -> None:
        api.on("GET", MENTIONS, ok({"title": "Unauthorized <!channel>"}, status=401))
        poll_once(deps, name="x-brand", source=make_x(), http=api.http())

        with Session(deps.engine) as session:
            health = {h.name: h for h in source_health(session, deps.workspace, now=clock.now())}

        assert [h.state for h in health.values()] == ["paused", "new", "disabled"]
        assert health["x-brand"].paused_reason.startswith("HTTP 401")
        rendered = render_status(list(health.values()), now=clock.now(), lang="en")
        text = str(rendered.blocks)
        assert "⏸️ *x-brand* (X) — *paused*" in text and "1 paused, 1 new, 1 disabled" == rendered.text

    def test_errors_from_the_network_are_escaped_in_slack(self, deps, clock) -> None:
        with Session(deps.engine) as session:
            session.add(models.SourceCursor(source="alerts", last_error="<!channel> boom & <http://x|y>",
                                            last_error_at=clock.now(), consecutive_failures=2))
            session.commit()
            health = source_health(session, deps.workspace, now=clock.now())
        text = str(render_status(health, now=clock.now(), lang="en").blocks)
        assert "&lt;!channel&gt; boom &amp; &lt;http://x|y&gt;" in text and "<!channel>" not in text

    def test_slash_veille_status_answers_the_team_privately(self, deps, fake_slack, clock) -> None:
        with Session(deps.engine) as session:
            session.add(models.SourceCursor(source="alerts", items_seen=1234, last_success_at=clock.now(),
                                            next_poll_at=clock.now() + timedelta(minutes=15)))
            session.commit()
        app = build_app(deps, client=make_client("xoxb-test", fake_slack.base_url), signing_secret="secret")
        body = slack_requests.slash_command("/veille", "status", user_id="U0ADMIN", channel_id="C0TRIAGE",
                                            response_url=fake_slack.response_url("status"))
        signed = slack_requests.sign(body, "secret")
        response = app.dispatch(BoltRequest(body=signed.body, headers=signed.headers))
        assert response.status == 200
        deadline = time.monotonic() + 10
        while not fake_slack.responses() and time.monotonic() < deadline:
            time.sleep(0.02)
        answer = fake_slack.responses()[-1].body
        assert answer["response_type"] == "ephemeral"
        text = str(answer["blocks"])
        assert "*alerts* (RSS) — *ok*" in text and "1,234 items seen" in text and "next poll in 15m" in text

    def test_veille_status_on_the_command_line_prints_every_source(self, deps, capsys, monkeypatch, tmp_path,
                                                                   db_url) -> None:
        from bot.cli import cmd_status

        config = tmp_path / "veille.yaml"
        config.write_text(CONFIG, encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", db_url)
        with Session(deps.engine) as session:
            session.add(models.SourceCursor(source="x-brand", last_error="SourceUnavailable [red]x[/red]",
                                            consecutive_failures=3, last_error_at=deps.clock.now()))
            session.commit()
        code = cmd_status(argparse.Namespace(path=str(config)))
        out = capsys.readouterr().out
        assert code == 1  # a failing source makes the command fail, for monitoring scripts
        assert "x-brand" in out and "failing" in out and "alerts" in out and "[red]x[/red]" in out


def test_a_cycle_polls_sources_concurrently(deps, clock) -> None:
    delay = 0.3

    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(delay)
        return ok(fixture("x", "users_mentions_empty"))

    client = httpx.Client(transport=httpx.MockTransport(slow))
    sources = [ScheduledSource(f"x-{i}", XConnector(f"x-{i}", XOptions(bearer_token=SecretStr("t"), user_id=USER,
                                                                         search=False), engagement_days=0), 60)
               for i in range(6)]
    began = time.monotonic()
    try:
        outcomes = poll_cycle(deps, sources, client=client)
    finally:
        client.close()
    elapsed = time.monotonic() - began
    assert [o.status for o in outcomes] == ["ok"] * 6
    assert elapsed < 6 * delay / 2, f"polls ran one after the other ({elapsed:.2f}s)"
