"""`veille gdpr forget` and `veille gdpr export`: an author's data leaves every table and every Slack message the bot
posted, their cards become a tombstone, the figures stay, and the export holds what was held."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import JSON, String
from sqlmodel import Session, SQLModel, select

from bot import models
from bot.cli import main
from bot.db import session_scope
from bot.messages import t
from bot.outbox import OutboxSender
from bot.pipeline import decide, store
from bot.render.outbox_render import OutboxRenderer
from bot.sentiment import SentimentScorer
from bot.services import gdpr, incidents, kpi, replies, triage
from bot.services.engagement import follow_up, store_tasks
from bot.slack_client import make_client
from rules.engagement import Task
from tests.conftest import T0, WORKSPACE_YAML

HANDLE, NAME = "jane_doe", "Jane Doe"
TEXTS = ("Order 4471 never arrived and nobody answers my emails, this is a disgrace",
         "Still waiting for the refund on order 4471, worst delivery service ever")
DRAFT = "Hi Jane Doe, we are so sorry about order 4471: a refund is on its way"
# What must not be found anywhere once she is forgotten (compared case-insensitively).
NEEDLES = ("jane_doe", "jane doe", "4471", "never arrived", "refund on order")
OTHER_TEXT = "Love the Aurore lamp, it lights up the whole living room"
TOMBSTONE = t("gdpr_tombstone", "en")


@pytest.fixture
def sender(engine, fake_slack, clock, workspace) -> OutboxSender:  # type: ignore[no-untyped-def]
    client = make_client("xoxb-test", fake_slack.base_url, timeout=2, retries=0)
    return OutboxSender(engine=engine, client=client, clock=clock, render=OutboxRenderer(workspace, clock),
                        post_interval=timedelta(0))


def _textual(type_: Any) -> bool:
    # sqlmodel's AutoString is a TypeDecorator over String: look through decorators.
    return isinstance(getattr(type_, "impl_instance", type_), String | JSON)


def db_strings(engine) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """Every text and JSON value of every table, as (table, column, value)."""
    found = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.columns if _textual(c.type)]
            for row in conn.execute(table.select()).mappings():
                for column in columns:
                    value = row[column.name]
                    if value is not None:
                        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                        found.append((table.name, column.name, text))
    return found


def traces(engine) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [(table, column, value) for table, column, value in db_strings(engine)
            if any(n in value.casefold() for n in NEEDLES)]


def slack_texts(fake_slack, engine) -> list[str]:  # type: ignore[no-untyped-def]
    """Every message the bot has in Slack now (after updates), as JSON, in every channel it posted to."""
    with Session(engine) as session:
        channels = {r.channel_id or r.channel for r in session.exec(select(models.OutboxMessage)) if r.ts}
    return [json.dumps(m, ensure_ascii=False) for c in sorted(channels) for m in fake_slack.messages(c)]


def figures(engine) -> kpi.MentionFigures:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return kpi.mention_figures(session, kpi.Period(T0 - timedelta(days=1), T0 + timedelta(days=1), "2d"))


def seed(engine, workspace, make_mention, clock, sender) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Jane's two complaints worked on the way a team would, plus another author's item, all delivered to Slack."""
    scorer = SentimentScorer()
    ids = []
    with session_scope(engine) as session:
        for i, text in enumerate(TEXTS):
            mention = make_mention(author_handle=HANDLE, author_name=NAME, text=text,
                                   created_at=T0 + timedelta(minutes=i), permalink=f"https://x.com/{HANDLE}/status/9{i}",
                                   raw={"id": f"9{i}", "text": text, "author": {"username": HANDLE, "name": NAME}})
            row = store(session, mention, decide(mention, workspace=workspace, scorer=scorer), source="x-main", now=T0)
            ids.append(row.id)
        other = make_mention(author_handle="alex_b", author_name="Alex B", text=OTHER_TEXT)
        other_id = store(session, other, decide(other, workspace=workspace, scorer=scorer), source="x-main", now=T0).id
        session.add(models.RejectedItem(source="x-main", network="x", reason="created_at missing", seen_at=T0,
                                        raw={"id": "95", "author": {"username": HANDLE}, "text": TEXTS[0]},
                                        fingerprint="f1"))
        session.add(models.RejectedItem(source="x-main", network="x", reason="created_at missing", seen_at=T0,
                                        raw={"id": "96", "author": {"username": "alex_b"}}, fingerprint="f2"))
        store_tasks(session, ids[0], [Task(rule_id="answer-complaints", action="reply", owner="U0CM1", created_at=T0,
                                           due_at=T0 + timedelta(hours=2), nudge_at=T0)])
    sender.deliver_due()
    now = clock.now()
    with session_scope(engine) as session:
        replies.request(session, workspace=workspace, mention_id=ids[0], kind="reply", user="U0CM1", now=now,
                        text=DRAFT)
        triage.correct_sentiment(session, mention_id=ids[1], user="U0CM1", label="neutral", now=now)
        triage.override_term(session, mention_id=ids[0], user="U0CM1", term="disgrace", label="negative", now=now)
        triage.take(session, mention_id=ids[1], user="U0SUPPORT1", now=now)
        incidents.escalate_mention(session, workspace=workspace, mention_id=ids[0], user="U0CM1", now=now)
        incidents.escalate_mention(session, workspace=workspace, mention_id=ids[1], user="U0CM1", now=now)
        follow_up(session, now=now, lang="en", channel="C0TRIAGE")
    sender.deliver_due()
    sender.deliver_due()
    return {"ids": ids, "other": other_id}


class TestForget:
    def test_nothing_about_her_is_left_in_any_table_or_slack_message(self, engine, workspace, make_mention, clock,
                                                                      sender, fake_slack) -> None:
        seeded = seed(engine, workspace, make_mention, clock, sender)
        # The scan does see her everywhere she was: cards' threads, the incident, the nudge DM, the raw payloads.
        before = {(table, column) for table, column, _ in traces(engine)}
        assert {("authors", "handle"), ("authors", "name"), ("mentions", "text"), ("mentions", "raw"),
                ("mentions", "permalink"), ("network_actions", "text"), ("card_events", "detail"),
                ("incidents", "title"), ("outbox", "payload"), ("rejected_items", "raw")} <= before
        assert any("4471" in m for m in slack_texts(fake_slack, engine))
        kpis = figures(engine)

        clock.advance(timedelta(minutes=5))
        report = gdpr.forget(engine, workspace, network="x", handle="@Jane_Doe", requested_by="dpo", now=clock.now())
        assert (report.authors, report.mentions, report.rejected, report.actions) == (1, 2, 1, 1)
        assert report.incidents == 1
        assert traces(engine) == []
        # The other author's data is untouched.
        with Session(engine) as session:
            other = session.get(models.Mention, seeded["other"])
            assert other.text == OTHER_TEXT and other.forgotten_at is None
            assert session.exec(select(models.RejectedItem).where(models.RejectedItem.fingerprint == "f2")).one().raw
        # The figures count her items as before: volume, sentiment, network.
        after = figures(engine)
        assert (after.volume, after.positive, after.neutral, after.negative, after.by_network) == \
            (kpis.volume, kpis.positive, kpis.neutral, kpis.negative, kpis.by_network)

        # The running bot's outbox rewrites what Slack shows: her cards become tombstones without buttons.
        sender.deliver_due()
        sender.deliver_due()
        shown = slack_texts(fake_slack, engine)
        assert not [m for m in shown if any(n in m.casefold() for n in NEEDLES)]
        with Session(engine) as session:
            cards = {r.mention_id: r for r in session.exec(select(models.OutboxMessage).where(
                models.OutboxMessage.kind == "card"))}
        for mention_id in seeded["ids"]:
            card = next(m for m in fake_slack.messages("C0TRIAGE") if m["ts"] == cards[mention_id].ts)
            assert card["text"] == TOMBSTONE
            assert TOMBSTONE in json.dumps(card["blocks"], ensure_ascii=False)
            assert not [b for b in card["blocks"] if b["type"] == "actions"]
            thread = [m for m in fake_slack.messages("C0TRIAGE") if m.get("thread_ts") == card["ts"]
                      and m["ts"] != card["ts"]]
            assert thread and all(m["text"] == TOMBSTONE for m in thread)
        other_card = next(m for m in fake_slack.messages("C0TRIAGE") if m["ts"] == cards[seeded["other"]].ts)
        assert "Aurore lamp" in other_card["text"]

    def test_in_batches_of_one_item_nothing_is_left_either(self, engine, workspace, make_mention, clock,
                                                           sender) -> None:
        seed(engine, workspace, make_mention, clock, sender)
        report = gdpr.forget(engine, workspace, network="x", handle=HANDLE, requested_by="dpo", now=clock.now(),
                             batch_size=1)
        assert (report.mentions, report.incidents) == (2, 1)
        assert traces(engine) == []

    def test_the_audit_keeps_who_when_and_a_salted_hash_never_the_handle(self, engine, workspace, make_mention,
                                                                         clock, sender) -> None:
        seed(engine, workspace, make_mention, clock, sender)
        gdpr.forget(engine, workspace, network="x", handle="jane_doe", requested_by="dpo", now=clock.now())
        with Session(engine) as session:
            [audit] = session.exec(select(models.GdprRequest).where(models.GdprRequest.kind == "forget")).all()
            assert (audit.requested_by, audit.network, audit.at) == ("dpo", "x", clock.now())
            assert audit.counts["mentions"] == 2
            # The same handle, in any case, gives the same hash: "was she forgotten?" can be answered.
            assert audit.subject_hash == gdpr.subject_hash(session, "x", "JANE_DOE", clock.now())
            assert audit.subject_hash != gdpr.subject_hash(session, "x", "alex_b", clock.now())
            assert len(audit.subject_hash) == 64 and HANDLE not in audit.subject_hash

    def test_a_second_forget_finds_nothing_and_changes_nothing(self, engine, workspace, make_mention, clock,
                                                               sender) -> None:
        seed(engine, workspace, make_mention, clock, sender)
        gdpr.forget(engine, workspace, network="x", handle="jane_doe", requested_by="dpo", now=clock.now())
        snapshot = [s for s in db_strings(engine) if s[0] != "gdpr_requests"]
        again = gdpr.forget(engine, workspace, network="x", handle="jane_doe", requested_by="dpo", now=clock.now())
        assert again.nothing_held and again.counts() == dict.fromkeys(again.counts(), 0)
        assert [s for s in db_strings(engine) if s[0] != "gdpr_requests"] == snapshot

    def test_her_open_items_leave_the_queue_and_their_tasks_stop_counting(self, engine, workspace, make_mention,
                                                                          clock, sender) -> None:
        seeded = seed(engine, workspace, make_mention, clock, sender)
        gdpr.forget(engine, workspace, network="x", handle="jane_doe", requested_by="dpo", now=clock.now())
        with Session(engine) as session:
            rows = [session.get(models.Mention, i) for i in seeded["ids"]]
            assert [m.status for m in rows] == ["not_relevant", "not_relevant"]
            [task] = session.exec(select(models.Task)).all()
            assert task.cancelled
            # The drafted reply was approved but never sent: it is not sent to someone who asked to be forgotten.
            [action] = session.exec(select(models.NetworkAction)).all()
            assert (action.status, action.text) == ("rejected", None)

    def test_a_later_post_by_the_same_handle_is_a_new_item_under_a_new_author(self, engine, workspace, make_mention,
                                                                              clock, sender) -> None:
        seed(engine, workspace, make_mention, clock, sender)
        gdpr.forget(engine, workspace, network="x", handle="jane_doe", requested_by="dpo", now=clock.now())
        mention = make_mention(author_handle=HANDLE, author_name=NAME, text="Finally got my lamp, thanks!")
        with session_scope(engine) as session:
            assert store(session, mention, decide(mention, workspace=workspace, scorer=SentimentScorer()),
                         source="x-main", now=clock.now()) is not None
        data = gdpr.export(engine, workspace, network="x", handle=HANDLE, requested_by="dpo", now=clock.now())
        assert [m["text"] for m in data["mentions"]] == ["Finally got my lamp, thanks!"]

    def test_a_flood_digest_listing_her_items_loses_their_text(self, engine, workspace, make_mention, clock,
                                                                fake_slack) -> None:
        from bot.flood import FloodPolicy

        client = make_client("xoxb-test", fake_slack.base_url, timeout=2, retries=0)
        flooded = OutboxSender(engine=engine, client=client, clock=clock, render=OutboxRenderer(workspace, clock),
                               post_interval=timedelta(0), flood=FloodPolicy(threshold=3, similarity=60, min_group=3))
        scorer = SentimentScorer()
        with session_scope(engine) as session:
            for i in range(5):
                handle = HANDLE if i < 2 else f"angry{i}"
                mention = make_mention(author_handle=handle, author_name=NAME if i < 2 else None,
                                       text=f"{TEXTS[0]} (message {i})")
                store(session, mention, decide(mention, workspace=workspace, scorer=scorer), source="x-main",
                      now=clock.now())
        flooded.deliver_due()
        [digest] = fake_slack.messages("C0TRIAGE")
        assert "@jane_doe" in json.dumps(digest["blocks"])
        gdpr.forget(engine, workspace, network="x", handle=HANDLE, requested_by="dpo", now=clock.now())
        clock.advance(timedelta(minutes=1))
        flooded.deliver_due()
        [digest] = fake_slack.messages("C0TRIAGE")
        shown = json.dumps(digest, ensure_ascii=False).casefold()
        assert "jane" not in shown and "(message 0)" not in shown and "(message 1)" not in shown
        assert "(message 2)" in shown and "5 " in digest["text"]  # the others stay, the count is unchanged

    def test_an_unknown_network_is_refused_with_the_choices(self, engine, workspace, clock) -> None:
        from bot.errors import UserError

        with pytest.raises(UserError, match="Unknown network 'twiter'.*x"):
            gdpr.forget(engine, workspace, network="twiter", handle="jane", requested_by="dpo", now=clock.now())


class TestExport:
    def test_the_export_holds_her_items_with_what_was_done_on_them(self, engine, workspace, make_mention, clock,
                                                                   sender) -> None:
        seed(engine, workspace, make_mention, clock, sender)
        data = gdpr.export(engine, workspace, network="x", handle="@JANE_DOE", requested_by="dpo", now=clock.now())
        assert data["schema"] == "veille.gdpr-export/1"
        assert data["subject"] == {"network": "x", "handle": "JANE_DOE"}
        [author] = data["authors"]
        assert (author["handle"], author["name"]) == (HANDLE, NAME)
        assert [m["text"] for m in data["mentions"]] == list(TEXTS)
        first, second = data["mentions"]
        assert first["raw"]["author"]["username"] == HANDLE
        assert first["sentiment"]["label"] == "negative"
        assert first["tasks"][0]["rule"] == "answer-complaints" and first["tasks"][0]["due_at"] == \
            (T0 + timedelta(hours=2)).isoformat()
        assert first["network_actions"] == [{"kind": "reply", "text": DRAFT, "status": "approved",
                                              "requested_at": clock.now().isoformat(), "done_at": None}]
        assert [i["title"] for i in first["incidents"]] == [i["title"] for i in second["incidents"]]
        assert len(first["incidents"]) == 1
        # Which team member did what is the team's data, not hers.
        assert "U0CM1" not in json.dumps(data) and "U0SUPPORT1" not in json.dumps(data)
        assert [r["raw"]["id"] for r in data["rejected_items"]] == ["95"]
        json.dumps(data, ensure_ascii=False)  # plain JSON data all the way down

    def test_after_forget_the_export_says_nothing_is_held(self, engine, workspace, make_mention, clock,
                                                          sender) -> None:
        seed(engine, workspace, make_mention, clock, sender)
        gdpr.forget(engine, workspace, network="x", handle="jane_doe", requested_by="dpo", now=clock.now())
        data = gdpr.export(engine, workspace, network="x", handle="jane_doe", requested_by="dpo", now=clock.now())
        assert (data["authors"], data["mentions"], data["rejected_items"]) == ([], [], [])


class TestCli:
    def test_export_to_a_file_then_forget_twice(self, db_url, engine, workspace, make_mention, clock, sender,
                                                tmp_path, monkeypatch, capsys) -> None:
        seed(engine, workspace, make_mention, clock, sender)
        with session_scope(engine) as session:
            author = session.exec(select(models.Author).where(models.Author.handle == HANDLE)).one()
            author.name = "Jeanne Dupré"  # UTF-8 all the way
        config = tmp_path / "veille.yaml"
        config.write_text(WORKSPACE_YAML, encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", db_url)
        monkeypatch.setenv("VEILLE_CONFIG", str(config))
        out = tmp_path / "jane.json"
        assert main(["gdpr", "--by", "dpo", "export", "x", "jane_doe", "--out", str(out)]) == 0
        data = json.loads(out.read_text(encoding="utf-8"))
        assert data["authors"][0]["name"] == "Jeanne Dupré" and "Jeanne Dupré" in out.read_text(encoding="utf-8")
        assert len(data["mentions"]) == 2
        assert main(["gdpr", "--by", "dpo", "forget", "x", "@jane_doe"]) == 0
        assert "Forgot x/@jane_doe: 2 item(s)" in capsys.readouterr().out
        assert main(["gdpr", "--by", "dpo", "forget", "x", "jane_doe"]) == 0
        assert capsys.readouterr().out.strip() == "Nothing held about x/@jane_doe."
        assert main(["gdpr", "forget", "nowhere", "jane_doe"]) == 2
        assert "Unknown network 'nowhere'" in capsys.readouterr().err


class TestWithTheRunningBot:
    def test_a_forget_run_beside_the_bot_turns_its_card_into_a_tombstone(self, db_url, fake_slack, workspace, clock,
                                                                          make_mention) -> None:
        from bot.runtime import Runtime, RuntimeOptions
        from tests.test_outbox import wait_until

        runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret="s3cret", slack_api_url=fake_slack.base_url,
                                         database_url=db_url, workspace=workspace, clock=clock, outbox_idle_s=0.05,
                                         serve_http=False))
        runtime.start(poll=False)
        try:
            # Retention runs as a scheduled job of the bot, like the polls.
            assert runtime.scheduler.get_job("retention") is not None
            mention = make_mention(author_handle=HANDLE, author_name=NAME, text=TEXTS[0])
            with session_scope(runtime.engine) as session:
                store(session, mention, decide(mention, workspace=workspace, scorer=SentimentScorer()),
                      source="x-main", now=clock.now())
            runtime.worker.wake()
            wait_until(lambda: len(fake_slack.messages("C0TRIAGE")) == 1)
            assert "4471" in fake_slack.messages("C0TRIAGE")[0]["text"]
            # `veille gdpr forget` is another process on the same database: the bot's outbox notices within a tick.
            gdpr.forget(runtime.engine, workspace, network="x", handle=HANDLE, requested_by="dpo", now=clock.now())
            wait_until(lambda: fake_slack.messages("C0TRIAGE")[0]["text"] == TOMBSTONE)
            assert len(fake_slack.messages("C0TRIAGE")) == 1 and fake_slack.calls("chat.update")
        finally:
            runtime.stop()
