"""`python -m bench.commands`: `/kpi 30d` and `/calendar` latency with 1,000,000 mentions and 5,000 posts.

For each database (a SQLite file in a temporary directory; PostgreSQL at $VEILLE_TEST_POSTGRES_URL in a dedicated
schema dropped afterwards) it builds a realistic store in bulk (mentions spread over 120 days, networks, sentiment,
statuses, authors, assignments, tasks, competitor items, calendar posts and own posts), then sends N signed slash
commands over HTTP into the real Bolt app and times each one until its answer reaches the fake Slack's
response_url. Targets: `/kpi 30d` p95 <= 300 ms, `/calendar` p95 <= 100 ms. The last line is one JSON object.

    python -m bench.commands [--mentions 1000000] [--runs 30] [--db sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import models
from bot.app import build_app
from bot.clock import FrozenClock
from bot.console import slack_requests
from bot.console.fake_slack import FakeSlack
from bot.db import make_engine
from bot.deps import Deps
from bot.http import HttpServer, build_asgi
from bot.migrate import upgrade
from bot.sentiment import SentimentScorer
from bot.services import kpi_rollup, owner_load
from bot.slack_client import make_client
from bot.workspace import parse_workspace

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DAYS = 120
SECRET = "bench-signing-secret"
PG_URL = os.environ.get("VEILLE_TEST_POSTGRES_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NETWORKS = (("x", 30), ("instagram", 25), ("facebook", 15), ("linkedin", 8), ("youtube", 7), ("reddit", 6),
            ("mastodon", 4), ("bluesky", 3), ("rss", 2))
OWNERS = ("U0CM1", "U0CM2", "U0SUPPORT1", "U0SUPPORT2", "U0PRESS")
RULES = (("thank-positive", "thank", 60), ("answer-negative", "reply", 120), ("answer-question", "reply", 240))
COMPETITORS = ("Lumière Co", "Photon")
WORKSPACE = """
brand: {name: Maison Lumen, language: en, timezone: Europe/Paris, competitors: [Lumière Co, Photon]}
admins: [U0ADMIN]
channels: {triage: C0TRIAGE}
responsibilities:
  - {name: support, owners: [U0SUPPORT1, U0SUPPORT2], keywords: [delivery, order]}
  - {name: community, owners: [U0CM1, U0CM2], sentiment: positive}
fallback_owner: U0CM1
objectives:
  - {id: answers, title: Answer 80%, metric: response_rate, target: 0.8, deadline: 2026-12-31}
  - {id: speed, title: First answer in 45 min, metric: median_first_response_min, target: 45}
  - {id: photos, title: A photo every 2 days, metric: posts_per_day, target: 0.5, network: instagram, format: image}
  - {id: likes, title: 50 likes, metric: avg_likes, target: 50, network: instagram}
  - {id: voice, title: Half the voice, metric: share_of_voice, target: 0.5}
"""


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...], n: int) -> list[str]:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs], k=n)


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[tuple[str, Engine]]:
    """A migrated, empty database: a SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
        engine = make_engine(url)
        upgrade(engine)
        try:
            yield url, engine
        finally:
            engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield url, engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class Rows:
    """The generated rows, as tuples in table column order (ids given explicitly, so children can refer to them)."""

    def __init__(self, mentions: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        n_authors = max(10, mentions // 10)
        self.authors: list[tuple[Any, ...]] = []
        author_network = []
        for i in range(1, n_authors + 1):
            network = _weighted(rng, NETWORKS, 1)[0]
            # Follower counts are heavy-tailed: most accounts are small, a few are influencers.
            followers = int(rng.lognormvariate(5, 2.2))
            self.authors.append((i, network, f"user{i}", f"User {i}", followers, NOW - timedelta(days=DAYS), NOW))
            author_network.append(network)
        self.mentions: list[tuple[Any, ...]] = []
        self.assignments: list[tuple[Any, ...]] = []
        self.tasks: list[tuple[Any, ...]] = []
        span = DAYS * 86400
        labels = rng.choices(("positive", "neutral", "negative"), weights=(40, 40, 20), k=mentions)
        for i in range(1, mentions + 1):
            created = NOW - timedelta(seconds=rng.random() * span)
            # Zipf-like activity: a few authors write a lot.
            author = min(n_authors, int(rng.paretovariate(1.2))) if rng.random() < 0.3 else rng.randint(1, n_authors)
            network = author_network[author - 1]
            subject = rng.choice(COMPETITORS) if rng.random() < 0.1 else None
            age_h = (NOW - created) / timedelta(hours=1)
            roll = rng.random()
            status, handled_at = "open", None
            if subject is None and age_h > 1:
                handled_share = 0.85 if age_h > 48 else 0.5
                if roll < handled_share:
                    status = "handled"
                    handled_at = min(NOW, created + timedelta(minutes=rng.lognormvariate(3.5, 1.2)))
                elif roll < handled_share + 0.05:
                    status, handled_at = "not_relevant", created + timedelta(minutes=5)
                elif roll < handled_share + 0.07:
                    status = "snoozed"
            label = labels[i - 1]
            self.mentions.append((i, network, f"m{i}", "bench", "mention", author, f"bench mention {i}", "en",
                                  created, created, label, 0.5 if label == "positive" else -0.5 if label == "negative"
                                  else 0.0, status, OWNERS[i % len(OWNERS)] if handled_at else None, handled_at,
                                  subject))
            if subject is not None:
                continue  # competitor listening: no assignment, no task
            owner = OWNERS[(i * 7) % len(OWNERS)]
            self.assignments.append((i, owner, "bench", created, True))
            if rng.random() < 0.3:
                rule, action, minutes = RULES[i % len(RULES)]
                due = created + timedelta(minutes=minutes)
                done = handled_at if handled_at is not None else None
                self.tasks.append((i, rule, action, owner, created, due, done, status == "not_relevant"))


def _ts_sqlite(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


MENTION_COLS = ("id", "network", "external_id", "source", "kind", "author_id", "text", "lang", "created_at",
                "ingested_at", "sentiment_label", "sentiment_compound", "status", "handled_by", "handled_at",
                "subject")
AUTHOR_COLS = ("id", "network", "handle", "name", "followers", "first_seen_at", "last_seen_at")
ASSIGN_COLS = ("mention_id", "owner", "reason", "assigned_at", "active")
TASK_COLS = ("mention_id", "rule_id", "action", "owner", "created_at", "due_at", "done_at", "cancelled")


def _drop_indexes(engine: Engine, tables: tuple[Any, ...]) -> list[Any]:
    """Drop the secondary indexes and the rollup and owner-load triggers of the bulk-loaded tables: indexes are
    rebuilt once and the derived counts recomputed once afterwards (`_finish`), much faster than row by row."""
    dropped = []
    with engine.begin() as conn:
        kpi_rollup.drop_triggers(conn)
        owner_load.drop_triggers(conn)
        for table in tables:
            for index in table.indexes:
                index.drop(conn)
                dropped.append(index)
    return dropped


def _finish(engine: Engine, dropped: list[Any]) -> None:
    with engine.begin() as conn:
        for index in dropped:
            index.create(conn)
        kpi_rollup.rebuild(conn)
        kpi_rollup.create_triggers(conn)
        owner_load.rebuild(conn)
        owner_load.create_triggers(conn)


def _load_sqlite(engine: Engine, rows: Rows) -> None:
    dropped = _drop_indexes(engine, (models.Mention.__table__, models.Assignment.__table__, models.Task.__table__))
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        cur.execute("PRAGMA synchronous=OFF")

        def put(table: str, cols: tuple[str, ...], data: list[tuple[Any, ...]], extra: str = "", extra_values: str = "",
                ts: tuple[int, ...] = ()) -> None:
            marks = ", ".join("?" for _ in cols)
            sql = f"INSERT INTO {table} ({', '.join(cols)}{extra}) VALUES ({marks}{extra_values})"
            for start in range(0, len(data), 50_000):
                chunk = [tuple(_ts_sqlite(v) if j in ts else v for j, v in enumerate(row))
                         for row in data[start:start + 50_000]]
                cur.executemany(sql, chunk)

        put("authors", AUTHOR_COLS, rows.authors, ts=(5, 6))
        put("mentions", MENTION_COLS, rows.mentions, ", raw, rules", ", '{}', '{}'", ts=(8, 9, 14))
        put("assignments", ASSIGN_COLS, rows.assignments, ts=(3,))
        put("tasks", TASK_COLS, rows.tasks, ts=(4, 5, 6))
        conn.commit()
    finally:
        conn.close()
    _finish(engine, dropped)
    with engine.begin() as c:
        c.exec_driver_sql("ANALYZE")


def _load_postgres(engine: Engine, rows: Rows) -> None:
    dropped = _drop_indexes(engine, (models.Mention.__table__, models.Assignment.__table__, models.Task.__table__))
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        for table, cols, data in (("authors", AUTHOR_COLS, rows.authors),
                                  ("mentions", (*MENTION_COLS, "raw"), [(*r, "{}") for r in rows.mentions]),
                                  ("assignments", ASSIGN_COLS, rows.assignments), ("tasks", TASK_COLS, rows.tasks)):
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
        for table in ("authors", "mentions", "assignments", "tasks"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    finally:
        conn.close()
    _finish(engine, dropped)
    # VACUUM sets the visibility map, so the KPI queries are index-only scans (autovacuum would do it in time).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE")


def _posts(engine: Engine, n: int, seed: int = 11) -> None:
    """n calendar posts over the 120 days and the 30 ahead; the past ones published as own posts."""
    rng = random.Random(seed)
    pillars = ("product", "behind the scenes", "tips", "community", "promo")
    media = ("image", "video", "status", "link", "carousel")
    with Session(engine) as session:
        plans = []
        for i in range(n):
            at = NOW - timedelta(days=DAYS) + timedelta(seconds=rng.random() * (DAYS + 30) * 86400)
            network = _weighted(rng, NETWORKS[:5], 1)[0]
            plans.append(models.CalendarPost(network=network, scheduled_at=at, title=f"Post {i}",
                                             pillar=rng.choice(pillars), promo=rng.random() < 0.2,
                                             owner=rng.choice(OWNERS),
                                             status="published" if at < NOW else "scheduled",
                                             external_id=f"own{i}" if at < NOW else None))
        session.add_all(plans)
        session.flush()
        past = [p for p in plans if p.scheduled_at < NOW]
        for i, plan in enumerate(past):
            session.add(models.OwnPost(network=plan.network, external_id=f"own{i}", source="bench",
                                       created_at=plan.scheduled_at, text=plan.title, media_type=rng.choice(media),
                                       likes=int(rng.lognormvariate(3.5, 1)), comments=rng.randint(0, 40),
                                       shares=rng.randint(0, 20), raw={}, first_seen_at=plan.scheduled_at,
                                       fetched_at=NOW, calendar_post_id=plan.id))
        # Top up own posts to n (posts published without being planned).
        for i in range(len(past), n):
            at = NOW - timedelta(seconds=rng.random() * DAYS * 86400)
            session.add(models.OwnPost(network=_weighted(rng, NETWORKS[:5], 1)[0], external_id=f"own{i}",
                                       source="bench", created_at=at, text=f"Unplanned {i}",
                                       media_type=rng.choice(media), likes=int(rng.lognormvariate(3.5, 1)),
                                       comments=rng.randint(0, 40), shares=rng.randint(0, 20), raw={},
                                       first_seen_at=at, fetched_at=NOW))
        session.commit()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def _time_command(url: str, fake: FakeSlack, command: str, arg: str, runs: int) -> list[float]:
    latencies = []
    with httpx.Client(timeout=30) as client:
        for i in range(runs + 2):  # two warm-up runs, not counted
            before = len(fake.responses())
            body = slack_requests.slash_command(command, arg, user_id="U0CM1", channel_id="C0TRIAGE",
                                                response_url=fake.response_url(f"bench-{i}"))
            signed = slack_requests.sign(body, SECRET)
            start = time.perf_counter()
            response = client.post(f"{url}/slack/events", content=signed.body, headers=signed.headers)
            assert response.status_code == 200, response.text
            while len(fake.responses()) <= before:
                if time.perf_counter() - start > 30:
                    raise RuntimeError(f"{command} {arg}: no answer in 30 s")
                time.sleep(0.0005)
            elapsed = (time.perf_counter() - start) * 1000
            answer = fake.responses()[-1].body
            if "went wrong" in str(answer.get("text", "")):
                raise RuntimeError(f"{command} {arg} failed: {answer}")
            if i >= 2:
                latencies.append(elapsed)
    return latencies


def bench_one(kind: str, rows: Rows, posts: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as (_url, engine):
        started = time.perf_counter()
        (_load_sqlite if kind == "sqlite" else _load_postgres)(engine, rows)
        _posts(engine, posts)
        build_s = time.perf_counter() - started
        print(f"[{kind}] built {len(rows.mentions):,} mentions, {posts:,} posts in {build_s:.1f} s", flush=True)
        workspace = parse_workspace(WORKSPACE, "bench.yaml")
        with FakeSlack() as fake:
            deps = Deps(workspace=workspace, engine=engine, clock=FrozenClock(NOW),
                        scorer=SentimentScorer.for_workspace(workspace, []))
            app = build_app(deps, client=make_client("xoxb-bench", fake.base_url), signing_secret=SECRET)
            server = HttpServer(build_asgi(app, engine))
            server.start()
            try:
                figures: dict[str, Any] = {"build_s": round(build_s, 1), "mentions": len(rows.mentions)}
                for name, command, arg in (("kpi_30d", "/kpi", "30d"), ("calendar", "/calendar", "")):
                    latencies = _time_command(server.url, fake, command, arg, runs)
                    p50, p95 = statistics.median(latencies), _percentile(latencies, 0.95)
                    figures[name] = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1), "runs": len(latencies)}
                    print(f"[{kind}] {command} {arg}: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({len(latencies)} runs)",
                          flush=True)
            finally:
                server.stop()
        return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--posts", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = Rows(args.mentions)
    # The generated rows (millions of tuples, kept to load the next database) are the bench's, not the bot's: left
    # to the collector, every full collection during the timed requests would walk them. Freezing them keeps the
    # timings about the bot, as a `veille run` process holds nothing like them.
    gc.collect()
    gc.freeze()
    print(f"generated {len(rows.mentions):,} mentions, {len(rows.assignments):,} assignments, "
          f"{len(rows.tasks):,} tasks, {len(rows.authors):,} authors in {time.perf_counter() - started:.1f} s",
          flush=True)
    results: dict[str, Any] = {}
    for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
        results[kind] = bench_one(kind, rows, args.posts, args.runs)
    targets = {"kpi_30d": 300.0, "calendar": 100.0}
    results["targets_met"] = all(results[k][name]["p95_ms"] <= limit for k in results if k != "targets_met"
                                 for name, limit in targets.items())
    out = io.StringIO()
    json.dump(results, out, sort_keys=True)
    print(out.getvalue())
    return results


if __name__ == "__main__":
    main()
