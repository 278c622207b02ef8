"""Operations: liveness and readiness, Prometheus metrics after real ingestion and delivery, JSON logs without
tokens or mention texts."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, select

from bot import models
from bot.db import make_engine, session_scope
from bot.http import HttpServer, build_asgi
from bot.logging_setup import REDACTED, make_handler
from bot.metrics import VeilleMetrics
from bot.pipeline import ingest_page
from bot.runtime import Runtime, RuntimeOptions
from bot.sentiment import SentimentScorer
from monitors.sources.base import Page, PayloadInvalid
from tests.conftest import T0
from tests.slackbot import SECRET, SlackBot, wait_until

TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"


def _cursor(session: Session, source: str, *, failures: int = 0, paused: str | None = None) -> None:
    session.add(models.SourceCursor(source=source, consecutive_failures=failures, paused_reason=paused,
                                    last_success_at=None if failures or paused else T0,
                                    last_error="HTTP 503" if failures else None))


@contextmanager
def serve(engine, sources: Callable[[], Sequence[str]] = list) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    """The health routes on a real HTTP server (uvicorn on a free port), and a client for them."""
    server = HttpServer(build_asgi(None, engine, sources=sources))
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            yield client
    finally:
        server.stop()


class TestReadiness:
    def test_ready_while_one_source_still_works(self, engine) -> None:  # type: ignore[no-untyped-def]
        with session_scope(engine) as session:
            _cursor(session, "x-main", failures=3)
            _cursor(session, "rss-press")
        with serve(engine, lambda: ["x-main", "rss-press"]) as client:
            ready = client.get("/readyz")
            assert client.get("/livez").json() == {"status": "ok"}
        assert ready.status_code == 200
        assert ready.json() == {"status": "ok", "database": True, "sources": {"x-main": "failing", "rss-press": "ok"}}

    def test_not_ready_when_every_source_fails(self, engine) -> None:  # type: ignore[no-untyped-def]
        with session_scope(engine) as session:
            _cursor(session, "x-main", failures=2)
            _cursor(session, "instagram", paused="HTTP 401: token expired")
        with serve(engine, lambda: ["x-main", "instagram"]) as client:
            for url in ("/readyz", "/healthz?ready=1"):
                answer = client.get(url)
                assert answer.status_code == 503
                assert answer.json() == {"status": "error", "database": True, "reason": "every source is failing",
                                         "sources": {"x-main": "failing", "instagram": "paused"}}
            # Still alive: restarting the process would not bring the networks back.
            assert client.get("/livez").status_code == 200
            assert client.get("/healthz").json() == {"status": "ok", "database": True}

    def test_a_source_never_polled_yet_keeps_the_replica_ready(self, engine) -> None:  # type: ignore[no-untyped-def]
        with session_scope(engine) as session:
            _cursor(session, "x-main", failures=1)
        with serve(engine, lambda: ["x-main", "new-one"]) as client:
            assert client.get("/readyz").status_code == 200

    def test_not_ready_without_the_database_but_alive(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'veille.db'}")
        try:
            with serve(engine) as client:
                answer = client.get("/readyz")
                assert answer.status_code == 503
                assert answer.json() == {"status": "error", "database": False, "reason": "database unreachable"}
                assert client.get("/healthz").status_code == 503
                assert client.get("/livez").status_code == 200
        finally:
            engine.dispose()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.fixture
def bot(db_url, fake_slack, workspace, clock) -> Iterator[SlackBot]:  # type: ignore[no-untyped-def]
    runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                     database_url=db_url, workspace=workspace, clock=clock, outbox_idle_s=0.05,
                                     buzz_every_s=0))
    runtime.start(poll=False)
    yield SlackBot(runtime, fake_slack)
    runtime.stop()


class TestMetrics:
    def test_a_scrape_counts_what_was_ingested_delivered_and_what_is_wrong(self, bot, make_mention) -> None:
        # Slack refuses the first card for good: it is parked, and the Slack error is counted.
        bot.fake.fail("chat.postMessage", error="channel_not_found")
        bot.ingest(make_mention(network="x"), make_mention(network="x"), make_mention(network="mastodon"))
        bot.ingest(make_mention(network="x", external_id="t1"))  # a duplicate: not counted again
        wait_until(lambda: len(bot.top_level()) == 2, what="two cards posted")
        with session_scope(bot.runtime.engine) as session:
            _cursor(session, "x-main", failures=4)
            session.add(models.Incident(key="manual:1", title="Bad buzz", source="manual", opened_at=T0,
                                        channel="C0TRIAGE"))
            session.add(models.Incident(key="manual:2", title="Old", source="manual", opened_at=T0,
                                        channel="C0TRIAGE", status="resolved"))

        def scrape() -> dict:
            answer = httpx.get(f"{bot.runtime.url}/metrics", timeout=5)
            assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
            return _samples(answer.text)

        wait_until(lambda: scrape().get(("veille_outbox_backlog", (("status", "parked"),))) == 1, what="parked")
        metrics = scrape()
        assert metrics[("veille_items_ingested_total", (("network", "x"),))] == 2
        assert metrics[("veille_items_ingested_total", (("network", "mastodon"),))] == 1
        assert metrics[("veille_pipeline_latency_seconds_count", ())] == 3
        assert metrics[("veille_slack_api_errors_total", (("error", "channel_not_found"),))] == 1
        assert metrics[("veille_outbox_backlog", (("status", "pending"),))] == 0
        assert metrics[("veille_outbox_backlog", (("status", "in_doubt"),))] == 0
        assert metrics[("veille_open_incidents", ())] == 1
        assert metrics[("veille_source_consecutive_failures", (("source", "x-main"),))] == 4
        assert metrics[("veille_database_up", ())] == 1

    def test_each_app_has_its_own_registry(self, engine, workspace, make_mention) -> None:  # type: ignore[no-untyped-def]
        mine, elsewhere = make_engine("sqlite://"), engine
        other, metrics = VeilleMetrics(mine), VeilleMetrics(elsewhere)
        try:
            with session_scope(elsewhere) as session:
                ingest_page(session, Page([make_mention(network="reddit")], None), source="r", workspace=workspace,
                            scorer=SentimentScorer(), now=T0)
            assert metrics.registry.get_sample_value("veille_items_ingested_total", {"network": "reddit"}) == 1
            assert other.registry.get_sample_value("veille_items_ingested_total", {"network": "reddit"}) is None
        finally:
            mine.dispose()


class TestLogs:
    def _logger(self, fmt: str = "json") -> tuple[logging.Logger, io.StringIO]:
        stream = io.StringIO()
        logger = logging.getLogger(f"test.ops.{fmt}")
        logger.handlers = [make_handler(fmt, secrets=["s3cr3t-signing-value"], stream=stream)]
        logger.propagate = False
        logger.setLevel(logging.INFO)
        return logger, stream

    def test_a_json_line_parses_and_carries_no_token(self) -> None:
        logger, stream = self._logger()
        try:
            raise RuntimeError(f"Slack said invalid_auth for {TOKEN} (Authorization: Bearer {TOKEN})")
        except RuntimeError:
            logger.exception("outbox %s: failed with token %s and secret %s", "card:1", TOKEN, "s3cr3t-signing-value",
                             extra={"correlation_id": "c0ffee", "source": f"x-main?access_token={TOKEN}"})
        line = stream.getvalue().strip()
        assert "\n" not in line
        entry = json.loads(line)
        assert set(entry) >= {"ts", "level", "logger", "msg", "correlation_id", "source", "exc"}
        assert entry["level"] == "error" and entry["logger"] == "test.ops.json" and entry["ts"].endswith("Z")
        assert entry["msg"] == f"outbox card:1: failed with token {REDACTED} and secret {REDACTED}"
        assert entry["correlation_id"] == "c0ffee" and entry["source"] == f"x-main?access_token={REDACTED}"
        assert "RuntimeError" in entry["exc"]
        assert "xoxb-" not in line and "AbCdEf" not in line and "s3cr3t" not in line

    def test_text_lines_are_redacted_too(self) -> None:
        logger, stream = self._logger("text")
        logger.warning("connecting to postgresql://veille:hunter2@db/veille with xapp-1-A0B1-abcdef")
        assert "hunter2" not in stream.getvalue() and "xapp-1" not in stream.getvalue()
        assert "postgresql://veille:[REDACTED]@db/veille" in stream.getvalue()

    def test_ingesting_never_logs_mention_text_at_info(self, engine, workspace, make_mention, caplog) -> None:  # type: ignore[no-untyped-def]
        secret_text = "Private complaint: my order 4970-1012 never arrived, call me at 06 12 34 56 78"
        mention = make_mention(text=secret_text)
        bad = PayloadInvalid("x", "item has no id", item={"text": secret_text})
        with caplog.at_level(logging.INFO), session_scope(engine) as session:
            ingest_page(session, Page([mention, mention], None, rejected=[bad]), source="x-main", workspace=workspace,
                        scorer=SentimentScorer(), now=T0)
        assert caplog.records  # the item set aside is reported...
        assert "4970" not in caplog.text and "never arrived" not in caplog.text  # ...without the text
        with Session(engine) as session:
            assert session.exec(select(models.Mention.text)).one() == secret_text

    def test_veille_run_logs_json_without_its_own_secrets(self, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
        from bot.cli import _configure_logging

        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-not-matching-the-pattern-but-configured")
        monkeypatch.setenv("SLACK_SIGNING_SECRET", "0123456789abcdef-signing")
        monkeypatch.delenv("LOG_FORMAT", raising=False)
        root = logging.getLogger()
        saved = (list(root.handlers), root.level)
        try:
            _configure_logging("INFO", "run")
            logging.getLogger("bot.test").info("verifying request signed with %s", "0123456789abcdef-signing")
            monkeypatch.setenv("LOG_FORMAT", "text")
            _configure_logging("INFO", "run")
            logging.getLogger("bot.test").info("plain now")
        finally:
            root.handlers = saved[0]  # pytest's own capture handlers
            root.setLevel(saved[1])
        first, second = capsys.readouterr().err.strip().splitlines()[-2:]
        assert json.loads(first)["msg"] == f"verifying request signed with {REDACTED}"
        assert second.endswith("INFO bot.test: plain now") and not second.startswith("{")
