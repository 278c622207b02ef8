"""Retention: texts and raw payloads older than the configured periods are purged in batches; the figures stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from bot import models
from bot.cli import main
from bot.db import session_scope
from bot.messages import t
from bot.pipeline import decide, store
from bot.render.outbox_render import OutboxRenderer
from bot.sentiment import SentimentScorer
from bot.services import incidents, kpi, replies, triage
from bot.services.engagement import store_tasks
from bot.services.retention import purge_expired
from bot.workspace import parse_workspace
from rules.engagement import Task
from tests.conftest import T0, WORKSPACE_YAML

DAY = timedelta(days=1)
# (age in days, author, text): 3 items past the text period (365 d), 2 past the raw period only (30 d), 2 recent.
ITEMS = [
    (400, "old_timer", "My order never came, I want a refund now"),
    (400, "old_timer", "Still no refund, this is unacceptable"),
    (390, "regular", "Great lamp, thanks for the quick delivery"),
    (100, "regular", "The new collection looks lovely"),
    (40, "newcomer", "Where can I buy the Aurore lamp?"),
    (10, "regular", "Loving my Aurore lamp every evening"),
    (2, "newcomer", "The delivery was late again"),
]
PERIODS = [kpi.Period(T0 - 401 * DAY, T0 - 389 * DAY, "then"), kpi.Period(T0 - 101 * DAY, T0 - 39 * DAY, "mid"),
           kpi.Period(T0 - 500 * DAY, T0 + DAY, "all")]


def seed(engine, workspace, make_mention) -> list[int]:  # type: ignore[no-untyped-def]
    scorer = SentimentScorer()
    ids = []
    with session_scope(engine) as session:
        for age, author, text in ITEMS:
            at = T0 - age * DAY
            mention = make_mention(author_handle=author, author_name=author.title(), text=text, created_at=at,
                                   raw={"text": text, "user": author})
            row = store(session, mention, decide(mention, workspace=workspace, scorer=scorer), source="x-main", now=at)
            store_tasks(session, row.id, [Task(rule_id="answer", action="reply", owner="U0CM1", created_at=at,
                                               due_at=at + timedelta(hours=2))])
            ids.append(row.id)
        old = T0 - 400 * DAY
        # Work on the first old item: answered (the reply text is in the action and the card's thread), escalated.
        action = replies.request(session, workspace=workspace, mention_id=ids[0], kind="reply", user="U0CM1",
                                 now=old, text="So sorry, your refund is on its way")
        action.status, action.done_at = "done", old + timedelta(minutes=30)
        triage.mark_handled(session, mention_id=ids[0], user="U0CM1", now=old + timedelta(minutes=30))
        triage.mark_handled(session, mention_id=ids[2], user="U0CM1", now=old + timedelta(days=10, hours=3))
        incidents.escalate_mention(session, workspace=workspace, mention_id=ids[1], user="U0CM1", now=old)
        for row in session.exec(select(models.OutboxMessage)):
            row.status, row.ts = "sent", f"{row.id}.000"  # delivered long ago
            session.add(row)
        session.add(models.RejectedItem(source="x-main", network="x", reason="bad", raw={"user": "someone"},
                                        seen_at=T0 - 40 * DAY, fingerprint="a"))
        session.add(models.RejectedItem(source="x-main", network="x", reason="bad", raw={"user": "other"},
                                        seen_at=T0 - 5 * DAY, fingerprint="b"))
        for n, fetched in ((1, T0 - 40 * DAY), (2, T0)):
            session.add(models.OwnPost(network="x", external_id=f"own{n}", source="x-main", created_at=fetched,
                                       text="Our new lamp", raw={"id": f"own{n}"}, first_seen_at=fetched,
                                       fetched_at=fetched, likes=10 * n))
    return ids


def figures(engine) -> list[object]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        out: list[object] = []
        for period in PERIODS:
            out += [kpi.mention_figures(session, period), kpi.median_first_response_min(session, period),
                    kpi.rule_consistency(session, period, now=T0)]
        return out


class TestPurge:
    def test_old_texts_and_raws_go_in_batches_and_the_kpis_do_not_move(self, engine, workspace,
                                                                       make_mention) -> None:
        ids = seed(engine, workspace, make_mention)
        before = figures(engine)
        with Session(engine) as session:
            kept = [(m.network, m.created_at, m.sentiment_label, m.sentiment_compound, m.status, m.handled_at)
                    for m in session.exec(select(models.Mention).order_by(col(models.Mention.id)))]
        dry = purge_expired(engine, workspace, T0, dry_run=True)
        assert (dry.texts, dry.raws, dry.authors, dry.rejected, dry.own_posts, dry.actions, dry.incidents) == \
            (3, 2, 1, 1, 1, 1, 1)
        with Session(engine) as session:  # a dry run changes nothing
            assert all(m.text for m in session.exec(select(models.Mention)))

        report = purge_expired(engine, workspace, T0, batch_size=2)
        assert (report.texts, report.raws, report.authors, report.rejected, report.own_posts, report.actions,
                report.incidents) == (3, 2, 1, 1, 1, 1, 1)
        assert report.events >= 1 and report.messages >= 1
        # Batches of 2: texts 2+1, authors 1, raws 2 (then an empty look), items set aside 1, own posts 1, plus the
        # outbox copies and incidents walked by id.
        assert report.batches >= 6
        assert figures(engine) == before

        with Session(engine) as session:
            rows = {m.id: m for m in session.exec(select(models.Mention))}
            for i in ids[:3]:
                assert (rows[i].text, rows[i].permalink, rows[i].raw) == ("", None, {})
                assert rows[i].text_purged_at == T0 and rows[i].raw_purged_at == T0
            for i in ids[3:5]:
                assert rows[i].text == ITEMS[ids.index(i)][2] and rows[i].raw == {} and rows[i].text_purged_at is None
            for i in ids[5:]:
                assert rows[i].raw and rows[i].raw_purged_at is None
            # Network, timestamps, sentiment, status and timings stay.
            assert [(m.network, m.created_at, m.sentiment_label, m.sentiment_compound, m.status, m.handled_at)
                    for _, m in sorted(rows.items())] == kept
            authors = {a.id: a for a in session.exec(select(models.Author))}
            assert sorted(a.handle for a in authors.values() if a.erased_at is None) == ["newcomer", "regular"]
            erased = next(a for a in authors.values() if a.erased_at is not None)
            assert (erased.handle, erased.name, erased.followers) == (f"~{erased.id}", None, None)
            [action] = session.exec(select(models.NetworkAction)).all()
            assert action.text is None and action.status == "done"
            assert all("text" not in e.detail for e in session.exec(select(models.CardEvent).where(
                col(models.CardEvent.mention_id).in_(ids[:3]))))
            [incident] = session.exec(select(models.Incident)).all()
            assert "refund" not in incident.title.lower()
            assert {r.fingerprint: r.raw for r in session.exec(select(models.RejectedItem))} == \
                {"a": None, "b": {"user": "other"}}
            assert {p.external_id: p.raw for p in session.exec(select(models.OwnPost))} == \
                {"own1": {}, "own2": {"id": "own2"}}
            assert [p.likes for p in session.exec(select(models.OwnPost).order_by(col(models.OwnPost.id)))] == [10, 20]
            thread = session.exec(select(models.OutboxMessage).where(
                models.OutboxMessage.parent_key == f"card:{ids[0]}")).all()
            assert thread and all(r.payload == {} for r in thread)
            [audit] = session.exec(select(models.GdprRequest)).all()
            assert (audit.kind, audit.requested_by, audit.counts["texts"]) == ("purge", "retention", 3)

        again = purge_expired(engine, workspace, T0)
        assert again.total == 0
        with Session(engine) as session:
            assert len(session.exec(select(models.GdprRequest)).all()) == 1  # nothing done, nothing logged

    def test_a_purged_card_says_its_text_was_removed(self, engine, workspace, make_mention, clock) -> None:
        ids = seed(engine, workspace, make_mention)
        purge_expired(engine, workspace, T0)
        with Session(engine) as session:
            row = session.exec(select(models.OutboxMessage).where(models.OutboxMessage.key == f"card:{ids[0]}")).one()
            rendered = OutboxRenderer(workspace, clock)(session, row)
        assert t("text_purged", "en") in str(rendered.blocks)
        assert "refund" not in str(rendered.blocks).lower()

    def test_a_run_is_bounded_and_the_next_one_goes_on(self, engine, workspace, make_mention) -> None:
        seed(engine, workspace, make_mention)
        first = purge_expired(engine, workspace, T0, batch_size=2, max_batches=1)
        assert first.texts == 2
        second = purge_expired(engine, workspace, T0, batch_size=2, max_batches=1)
        assert second.texts == 1
        with Session(engine) as session:
            assert sum(1 for m in session.exec(select(models.Mention)) if m.text_purged_at) == 3

    @pytest.mark.parametrize("section", ["retention: {raw_days: 0, text_days: 0}",
                                         "retention: {raw_days: null, text_days: null}"])
    def test_zero_or_null_keeps_everything(self, engine, make_mention, section) -> None:
        workspace = parse_workspace(WORKSPACE_YAML + section + "\n", "test.yaml")
        seed(engine, workspace, make_mention)
        assert purge_expired(engine, workspace, T0).total == 0

    def test_the_raw_of_an_item_with_a_reply_in_progress_waits(self, engine, workspace, make_mention) -> None:
        ids = seed(engine, workspace, make_mention)
        with session_scope(engine) as session:
            replies.request(session, workspace=workspace, mention_id=ids[4], kind="reply", user="U0CM1", now=T0,
                            text="It is on our website")
        report = purge_expired(engine, workspace, T0)
        assert report.raws == 1  # ids[3] only: ids[4]'s reply may need its raw ids to reach the network
        with Session(engine) as session:
            assert session.get(models.Mention, ids[4]).raw


class TestCli:
    def test_purge_dry_run_prints_what_would_go(self, db_url, engine, workspace, make_mention, tmp_path,
                                                monkeypatch, capsys) -> None:
        seed(engine, workspace, make_mention)
        config = tmp_path / "veille.yaml"
        config.write_text(WORKSPACE_YAML, encoding="utf-8")
        monkeypatch.setenv("DATABASE_URL", db_url)
        monkeypatch.setenv("VEILLE_CONFIG", str(config))
        # The CLI runs on the wall clock, a few days after T0: the same items are past their periods.
        assert main(["gdpr", "purge", "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("Would purge (dry run, nothing changed): 3 text(s), 2 raw payload(s), 1 author(s)")
        assert "Policy: raw payloads 30 days, texts 365 days." in out
        with Session(engine) as session:
            assert all(m.text for m in session.exec(select(models.Mention)))
