"""The store on SQLite and PostgreSQL: migrations both ways, and the pipeline's one-transaction writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, func, select

from bot import models
from bot.db import make_engine, session_scope
from bot.migrate import current_revision, downgrade, head_revision, upgrade
from bot.pipeline import decide, ingest_page, store
from bot.sentiment import SentimentScorer
from monitors.sources.base import Page, PayloadInvalid
from tests.conftest import T0

TABLES = {"authors", "mentions", "assignments", "outbox", "calendar_posts", "source_cursors", "rejected_items",
          "processed_requests"}


class TestMigrations:
    def test_upgrade_from_empty_then_downgrade_to_empty(self, db_url: str) -> None:
        engine = make_engine(db_url)
        try:
            upgrade(engine)
            assert TABLES <= set(inspect(engine).get_table_names())
            assert current_revision(engine) == head_revision()
            downgrade(engine)
            assert not TABLES & set(inspect(engine).get_table_names())
            upgrade(engine)  # and back up again: downgrade left nothing behind that blocks it
            assert current_revision(engine) == head_revision()
        finally:
            engine.dispose()

    def test_models_and_migrations_agree(self, engine) -> None:  # type: ignore[no-untyped-def]
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    SQLModel.metadata)
        assert diff == [], f"models changed without a migration: {diff}"


@pytest.fixture
def scorer() -> SentimentScorer:
    return SentimentScorer()


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


class TestPipelineWrites:
    def test_a_mention_is_stored_with_its_assignment_and_card_in_one_go(self, engine, workspace, scorer,
                                                                       make_mention) -> None:
        mention = make_mention(text="Still waiting for my order, 3 days, no answer")
        with session_scope(engine) as session:
            row = store(session, mention, decide(mention, workspace=workspace, scorer=scorer), source="x-main",
                        now=T0)
            assert row is not None
        with Session(engine) as session:
            stored = session.exec(select(models.Mention)).one()
            assert (stored.network, stored.external_id, stored.responsibility) == ("x", mention.external_id, "support")
            assert stored.sentiment_label == "negative"
            assert stored.created_at == T0 and stored.created_at.tzinfo is not None
            assignment = session.exec(select(models.Assignment)).one()
            assert assignment.owner == "U0SUPPORT1" and "keyword 'order'" in assignment.reason
            card = session.exec(select(models.OutboxMessage)).one()
            assert (card.key, card.channel, card.status) == (f"card:{stored.id}", "C0TRIAGE", "pending")

    def test_the_same_mention_twice_is_stored_once(self, engine, workspace, scorer, make_mention) -> None:
        mention = make_mention()
        page = Page(mentions=[mention, mention], cursor="c1")
        with session_scope(engine) as session:
            result = ingest_page(session, page, source="x-main", workspace=workspace, scorer=scorer, now=T0)
        with session_scope(engine) as session:
            again = ingest_page(session, Page([mention], "c2"), source="x-main", workspace=workspace,
                                scorer=scorer, now=T0)
        assert (result.stored, result.duplicates, again.stored, again.duplicates) == (1, 1, 0, 1)
        with Session(engine) as session:
            assert count(session, models.Mention) == 1
            assert count(session, models.OutboxMessage) == 1
            assert session.get(models.SourceCursor, "x-main").cursor == "c2"

    def test_a_failed_batch_leaves_neither_mentions_nor_cursor(self, engine, workspace, scorer,
                                                               make_mention) -> None:
        page = Page([make_mention(), make_mention()], cursor="after-batch")
        with pytest.raises(RuntimeError), session_scope(engine) as session:
            ingest_page(session, page, source="x-main", workspace=workspace, scorer=scorer, now=T0)
            raise RuntimeError("crash mid-batch")
        with Session(engine) as session:
            assert count(session, models.Mention) == 0
            assert session.get(models.SourceCursor, "x-main") is None

    def test_malformed_items_are_kept_aside_and_the_rest_stored(self, engine, workspace, scorer,
                                                                make_mention) -> None:
        bad = PayloadInvalid("x", "item has no id", item={"text": "orphan"})
        page = Page([make_mention()], cursor="c", rejected=[bad])
        with session_scope(engine) as session:
            result = ingest_page(session, page, source="x-main", workspace=workspace, scorer=scorer, now=T0)
        assert (result.stored, result.rejected) == (1, 1)
        with Session(engine) as session:
            rejected = session.exec(select(models.RejectedItem)).one()
            assert rejected.reason == "item has no id" and rejected.raw == {"text": "orphan"}

    def test_author_profile_follows_the_latest_mention(self, engine, workspace, scorer, make_mention) -> None:
        first = make_mention(author_handle="lea", author_followers=10)
        later = make_mention(author_handle="lea", author_followers=25_000, created_at=T0 + timedelta(hours=1))
        with session_scope(engine) as session:
            ingest_page(session, Page([first, later], None), source="x", workspace=workspace, scorer=scorer, now=T0)
        with Session(engine) as session:
            author = session.exec(select(models.Author)).one()
            assert author.followers == 25_000
            assert count(session, models.Mention) == 2

    def test_hostile_and_huge_text_round_trips_unchanged(self, engine, workspace, scorer, make_mention) -> None:
        text = "<!channel> é\u200b\u202e 🙂 " + "x" * 100_000
        mention = make_mention(text=text)
        with session_scope(engine) as session:
            store(session, mention, decide(mention, workspace=workspace, scorer=scorer), source="x", now=T0)
        with Session(engine) as session:
            assert session.exec(select(models.Mention.text)).one() == text
