"""The daily rollups behind /kpi stay exact: after any mix of inserts, status changes, reopenings, sentiment
corrections and deletes, reading a period through the rollups gives the same figures as counting the rows."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import text
from sqlmodel import Session, select

from bot import models
from bot.db import make_engine
from bot.migrate import upgrade
from bot.services import kpi, kpi_rollup
from tests.conftest import T0

NETWORKS = ("x", "instagram", "facebook")


def _mention(i: int, rng: random.Random) -> models.Mention:
    created = T0 - timedelta(minutes=rng.randint(0, 10 * 24 * 60), seconds=rng.randint(0, 59))
    status = rng.choice(("open", "handled", "not_relevant", "snoozed"))
    return models.Mention(
        network=rng.choice(NETWORKS), external_id=f"r{i}", source="test", kind="mention", author_id=1,
        text="t", created_at=created, ingested_at=created, raw={}, sentiment_label=rng.choice(
            ("positive", "neutral", "negative")), sentiment_compound=0.0, status=status,
        handled_at=created + timedelta(minutes=rng.randint(0, 600), seconds=rng.randint(0, 59))
        if status == "handled" else None, subject=rng.choice((None, None, None, "Photon")))


def _periods() -> list[kpi.Period]:
    return [kpi.Period(T0 - timedelta(days=d, hours=h), T0 - timedelta(hours=e), f"{d}d")
            for d, h, e in ((7, 0, 0), (3, 5, 2), (0, 20, 1), (10, 0, 0), (2, 0, 26))]


def _agree(session: Session) -> None:
    for period in _periods():
        for network in (None, "x"):
            assert kpi.mention_figures(session, period, network) == kpi.mention_figures(
                session, period, network, rollup=False), (period, network)
            assert kpi.response_histogram(session, period, network) == kpi.response_histogram(
                session, period, network, rollup=False), (period, network)


def test_rollups_agree_with_the_rows_through_every_kind_of_change(engine) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(42)
    with Session(engine) as session:
        session.add(models.Author(network="x", handle="a", first_seen_at=T0, last_seen_at=T0))
        session.commit()
        session.add_all([_mention(i, rng) for i in range(300)])
        session.commit()
        _agree(session)
        rows = session.exec(select(models.Mention)).all()
        for row in rng.sample(rows, 120):
            change = rng.choice(("handle", "reopen", "sentiment", "dismiss", "move", "subject"))
            if change == "handle":
                row.status, row.handled_at = "handled", row.created_at + timedelta(minutes=rng.randint(1, 90))
            elif change == "reopen":
                row.status, row.handled_at = "open", None
            elif change == "sentiment":
                row.sentiment_label = rng.choice(("positive", "neutral", "negative"))
            elif change == "dismiss":
                row.status = "not_relevant"
            elif change == "move":
                row.created_at -= timedelta(hours=rng.randint(1, 48))
            else:
                row.subject = None if row.subject else "Lumière Co"
            session.add(row)
        session.commit()
        for row in rng.sample(rows, 40):
            session.delete(row)
        session.commit()
        _agree(session)
        # The rollup is what a rebuild from the rows gives, day by day.
        before = sorted((d.day, d.subject, d.network, d.sentiment_label, d.status, d.n)
                        for d in session.exec(select(models.KpiDaily)).all() if d.n)
    with engine.begin() as conn:
        kpi_rollup.rebuild(conn)
    with Session(engine) as session:
        after = sorted((d.day, d.subject, d.network, d.sentiment_label, d.status, d.n)
                       for d in session.exec(select(models.KpiDaily)).all())
    assert before == after


def test_the_migration_fills_the_rollups_from_existing_mentions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0005")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO authors (network, handle, first_seen_at, last_seen_at) "
                          "VALUES ('x', 'a', '2026-11-20 09:00:00.000000', '2026-11-20 09:00:00.000000')"))
        for i, (status, handled) in enumerate((("handled", "2026-11-19 10:30:00.000000"), ("open", None))):
            conn.execute(text(
                "INSERT INTO mentions (network, external_id, source, kind, author_id, text, created_at, ingested_at, "
                "raw, sentiment_label, sentiment_compound, status, handled_at) VALUES ('x', :e, 's', 'mention', 1, "
                "'t', '2026-11-19 10:00:00.000000', '2026-11-19 10:00:00.000000', '{}', 'positive', 0.5, :s, :h)"),
                {"e": f"e{i}", "s": status, "h": handled})
    upgrade(engine)
    with Session(engine) as session:
        assert sorted((d.day, d.status, d.n) for d in session.exec(select(models.KpiDaily)).all()) == [
            ("2026-11-19", "handled", 1), ("2026-11-19", "open", 1)]
        [response] = session.exec(select(models.KpiResponseDaily)).all()
        assert (response.day, response.minutes, response.n) == ("2026-11-19", 30, 1)  # 10:00 -> 10:30
    engine.dispose()


def test_a_period_is_cut_at_utc_midnights() -> None:
    cut = kpi_rollup.split(T0 - timedelta(days=7), T0)
    # T0 = Nov 20 09:00Z: Nov 13 09:00 -> 14 00:00 and Nov 20 00:00 -> 09:00 from the rows, Nov 14..19 whole days
    assert (cut.first_day, cut.last_day) == ("2026-11-14", "2026-11-19")
    assert cut.raw == [(T0 - timedelta(days=7), T0 - timedelta(days=6, hours=9)), (T0 - timedelta(hours=9), T0)]
    short = kpi_rollup.split(T0 - timedelta(hours=5), T0)
    assert short.first_day is None and short.raw == [(T0 - timedelta(hours=5), T0)]


def _tallies(report) -> dict:  # type: ignore[no-untyped-def]
    return {(rule_id, owner): (t.on_time, t.late, t.overdue, t.pending)
            for rule_id, rule in report.by_rule.items() for owner, t in rule.by_owner.items()}


def test_task_rollups_agree_with_the_rows(engine) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    with Session(engine) as session:
        session.add(models.Author(network="x", handle="a", first_seen_at=T0, last_seen_at=T0))
        session.commit()
        mentions = [_mention(i, rng) for i in range(60)]
        session.add_all(mentions)
        session.commit()
        tasks = []
        for i in range(400):
            created = T0 - timedelta(minutes=rng.randint(0, 9 * 24 * 60))
            due = created + timedelta(minutes=rng.choice((60, 120, 600, 2000)))
            done = created + timedelta(minutes=rng.randint(1, 2500)) if rng.random() < 0.6 else None
            tasks.append(models.Task(mention_id=mentions[i % 60].id, rule_id=rng.choice(("thank", "answer")),
                                     action=rng.choice(("thank", "reply")), owner=rng.choice(("U1", "U2", None)),
                                     created_at=created, due_at=due, done_at=done, cancelled=rng.random() < 0.1))
        session.add_all(tasks)
        session.commit()

        def agree() -> None:
            for period in _periods():
                for network in (None, "x"):
                    assert _tallies(kpi.rule_consistency(session, period, now=T0, network=network)) == _tallies(
                        kpi.rule_consistency(session, period, now=T0, network=network, rollup=False))
                    assert kpi.deadline_breaches(session, period, now=T0, network=network) == \
                        kpi.deadline_breaches(session, period, now=T0, network=network, rollup=False)

        agree()
        for task in rng.sample(tasks, 150):
            change = rng.choice(("done", "reopen", "cancel", "uncancel", "owner", "delete"))
            if change == "delete":
                session.delete(task)
                continue
            if change == "done":
                task.done_at = task.created_at + timedelta(minutes=rng.randint(1, 3000))
            elif change == "reopen":
                task.done_at = None
            elif change == "cancel":
                task.cancelled = True
            elif change == "uncancel":
                task.cancelled = False
            else:
                task.owner = rng.choice(("U1", "U3", None))
            session.add(task)
        session.commit()
        agree()


def _author_totals_agree(session: Session) -> None:
    rows = session.exec(select(models.Mention.author_id).where(models.Mention.subject.is_(None))).all()  # type: ignore[union-attr]
    expected: dict[int, int] = {}
    for author_id in rows:
        expected[author_id] = expected.get(author_id, 0) + 1
    kept = {t.author_id: t.n for t in session.exec(select(models.KpiAuthorTotal)).all() if t.n}
    assert kept == expected


def _brute_top(session: Session, period: kpi.Period, network: str | None) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for mention, author in session.exec(select(models.Mention, models.Author).join(
            models.Author, models.Author.id == models.Mention.author_id)).all():  # type: ignore[arg-type]
        if (mention.subject is None and period.start <= mention.created_at < period.end
                and (network is None or mention.network == network)):
            counts[author.handle] = counts.get(author.handle, 0) + 1
    ids = {a.handle: a.id for a in session.exec(select(models.Author)).all()}
    return sorted(counts.items(), key=lambda kv: (-kv[1], ids[kv[0]]))[:kpi.TOP]


def test_top_authors_are_exact_whatever_the_spread(engine, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The bound-based search must give what counting every row gives: a prolific author of long ago, ties at the
    cut, authors moved between periods and competitors' items all stay out of the way."""
    rng = random.Random(7)
    with Session(engine) as session:
        authors = [models.Author(network=rng.choice(NETWORKS), handle=f"a{i}", first_seen_at=T0, last_seen_at=T0)
                   for i in range(60)]
        session.add_all(authors)
        session.commit()
        ids = [a.id for a in authors]
        mentions = []
        for i in range(900):
            # Heavy-tailed authors, and author 0 wrote only long ago: a huge bound but nothing in recent periods.
            author = ids[0] if i < 200 else ids[min(int(rng.paretovariate(1.2)) - 1, 59)]
            ago = timedelta(days=30 + rng.random()) if i < 200 else timedelta(minutes=rng.randint(1, 14400))
            created = T0 - ago
            mentions.append(models.Mention(
                network=next(a.network for a in authors if a.id == author), external_id=f"t{i}", source="test",
                kind="mention", author_id=author, text="t", created_at=created, ingested_at=created, raw={},
                sentiment_label="neutral", sentiment_compound=0.0, status="open",
                subject="Photon" if rng.random() < 0.1 else None))
        session.add_all(mentions)
        session.commit()
        _author_totals_agree(session)
        for small_rounds in (False, True):
            if small_rounds:  # force several rounds and the scan fallback to be exercised too
                monkeypatch.setattr(kpi, "ROUND", 2)
                monkeypatch.setattr(kpi, "MAX_CANDIDATES", 6)
            for period in _periods():
                for network in (None, "x"):
                    got = kpi.authors(session, period, workspace=workspace, network=network)
                    assert [(f.handle, f.items) for f in got.top] == _brute_top(session, period, network), \
                        (period, network, small_rounds)
        # Moves between authors, subjects and deletions keep the all-time totals exact.
        rows = session.exec(select(models.Mention)).all()
        for row in rng.sample(rows, 100):
            row.author_id = rng.choice(ids)
            row.subject = None if row.subject else rng.choice((None, "Photon"))
            session.add(row)
        session.commit()
        for row in rng.sample(rows, 50):
            session.delete(row)
        session.commit()
        _author_totals_agree(session)
