"""Routing's least-open load stays exact: after any mix of stored items, triage, reassignments and erasures, each
owner's count in `owner_open_counts` equals the active assignments of open mentions counted from the rows."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import delete, text
from sqlmodel import Session, select

from bot import models
from bot.db import make_engine
from bot.migrate import upgrade
from bot.services import owner_load
from bot.services.engagement import StoreAssignmentState
from tests.conftest import T0

OWNERS = ("U_ALICE", "U_BOB", "U_CAROL", None)
STATUSES = ("open", "open", "handled", "not_relevant", "snoozed", "escalated")


def _from_rows(session: Session) -> dict[str, int]:
    """Counted here, row by row, independently of the module's SQL: active, owned, and the item still open."""
    status = {m.id: m.status for m in session.exec(select(models.Mention)).all()}
    counts: dict[str, int] = {}
    for a in session.exec(select(models.Assignment)).all():
        if a.active and a.owner is not None and status.get(a.mention_id) == "open":
            counts[a.owner] = counts.get(a.owner, 0) + 1
    return counts


def _kept(session: Session) -> dict[str, int]:
    return {row.owner: row.n for row in session.exec(select(models.OwnerOpenCount)).all() if row.n}


def _agree(session: Session) -> None:
    expected = _from_rows(session)
    assert _kept(session) == expected
    state = StoreAssignmentState(session)
    for owner in OWNERS[:-1]:
        assert state.open_items(owner) == expected.get(owner, 0), owner


def test_counts_agree_with_the_rows_through_every_kind_of_change(engine) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    with Session(engine) as session:
        session.add(models.Author(network="x", handle="a", first_seen_at=T0, last_seen_at=T0))
        session.commit()
        mentions = [models.Mention(network="x", external_id=f"o{i}", source="test", kind="mention", author_id=1,
                                   text="t", created_at=T0 - timedelta(minutes=i), ingested_at=T0, raw={},
                                   sentiment_label="neutral", sentiment_compound=0.0, status=rng.choice(STATUSES))
                    for i in range(200)]
        session.add_all(mentions)
        session.commit()
        # Most items get one assignment; some have none, some an inactive history behind the active one.
        for mention in mentions:
            for active in [False] * rng.choice((0, 0, 1, 2)) + [True] * rng.choice((0, 1, 1, 1)):
                session.add(models.Assignment(mention_id=mention.id, owner=rng.choice(OWNERS), reason="test",
                                              assigned_at=T0, active=active))
        session.commit()
        _agree(session)
        assignments = session.exec(select(models.Assignment)).all()
        for _ in range(300):
            change = rng.choice(("status", "status", "reassign", "owner", "deactivate", "delete", "move"))
            mention = rng.choice(mentions)
            if change == "status":
                mention.status = rng.choice(STATUSES)  # triage: handled, dismissed, reopened, snoozed...
                session.add(mention)
            elif change == "reassign":  # one-click reassignment: the old row goes inactive, a new one is added
                for row in assignments:
                    if row.mention_id == mention.id and row.active:
                        row.active = False
                        session.add(row)
                new = models.Assignment(mention_id=mention.id, owner=rng.choice(OWNERS), reason="reassigned",
                                        assigned_at=T0, active=True)
                session.add(new)
                assignments.append(new)
            elif assignments:
                index = rng.randrange(len(assignments))
                row = assignments[index]
                if change == "owner":
                    row.owner = rng.choice(OWNERS)
                    session.add(row)
                elif change == "deactivate":
                    row.active = not row.active
                    session.add(row)
                elif change == "move":  # a manual fix pointing the assignment at another item
                    row.mention_id = rng.choice(mentions).id or 0
                    session.add(row)
                else:
                    session.delete(row)
                    del assignments[index]  # by position: table models compare equal by their fields
            if rng.random() < 0.2:
                session.commit()
                _agree(session)
        session.commit()
        _agree(session)
        # An erasure (GDPR forget, retention): the assignments go first, then the items.
        gone = [m.id for m in mentions[:30]]
        session.execute(delete(models.Assignment).where(models.Assignment.mention_id.in_(gone)))  # type: ignore[attr-defined]
        session.execute(delete(models.Mention).where(models.Mention.id.in_(gone)))  # type: ignore[union-attr]
        session.commit()
        _agree(session)
        kept = _kept(session)
    with engine.begin() as conn:
        owner_load.rebuild(conn)
    with Session(engine) as session:
        assert _kept(session) == kept


def test_the_migration_counts_the_existing_open_items(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0009")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO authors (network, handle, first_seen_at, last_seen_at) "
                          "VALUES ('x', 'a', '2026-11-20 09:00:00.000000', '2026-11-20 09:00:00.000000')"))
        for i, status in enumerate(("open", "open", "handled")):
            conn.execute(text(
                "INSERT INTO mentions (network, external_id, source, kind, author_id, text, created_at, ingested_at, "
                "raw, sentiment_label, sentiment_compound, status) VALUES ('x', :e, 's', 'mention', 1, 't', "
                "'2026-11-19 10:00:00.000000', '2026-11-19 10:00:00.000000', '{}', 'neutral', 0, :s)"),
                {"e": f"e{i}", "s": status})
            conn.execute(text("INSERT INTO assignments (mention_id, owner, reason, assigned_at, active) "
                              "VALUES (:m, 'U_ALICE', 'r', '2026-11-19 10:00:00.000000', 1)"), {"m": i + 1})
    upgrade(engine)
    with Session(engine) as session:
        assert _kept(session) == {"U_ALICE": 2}  # the handled item is not open
        assert StoreAssignmentState(session).open_items("U_ALICE") == 2
    engine.dispose()
