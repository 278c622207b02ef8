"""Benchmark: the whole per-mention path against bare VADER, on the same public texts, on SQLite and PostgreSQL.

    python -m bench.pipeline [--db sqlite|pg|both] [--items N] [--repeat 5] [--page 100] [--backlog N]

The texts are TweetEval's validation tweets and XLM-T's French and English tweets, read where they lie
(`$VEILLE_SHARED_DATA`, see `bench.sentiment.shared_data`), never copied. Each text becomes a `Mention` from a
realistic crowd of authors (many post more than once), with no language tag, so the pipeline detects it.

The pipeline is `bot.pipeline.ingest_page` — normalise, detect the language, score the sentiment, apply the
charter, engagement and routing rules (the shipped examples grown as `bench.rules` grows them, with the
store answering routing's questions), then persist the mention, its author, assignment, tasks and card
row — one committed transaction per page, on a freshly migrated database each repetition. VADER is
`polarity_scores` over the same texts, timed in the same repetition. Times are wall-clock (the database
server's work is part of the pipeline's cost); repetitions alternate VADER and the pipeline and are reduced
to their medians. The budget is a ratio pipeline / VADER in mentions per second of at least 0.5 on each
database. Also printed: the ratio per CPU second of this process (steadier on a busy machine; on PostgreSQL
it leaves out the server's work) and Veille's sentiment scorer alone, which runs VADER and more (language
detection, idioms, a trained layer) and so bounds the pipeline from above. On SQLite, a storage floor too: the
very SQL statements the pipeline sent (recorded in one extra, untimed run) replayed page by page with bare `sqlite3`
into a freshly migrated database — what the database itself costs (indexes, rollup triggers), which no change to
our Python can remove short of changing the schema. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine.interfaces import ExecuteStyle
from sqlmodel import Session, func, select
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bench.rules import FIRST, WORKSPACE, build_ruleset
from bench.sentiment import shared_data, tweeteval_val, xlmt
from bot.db import SQLITE_PRAGMAS
from bot.sentiment import SentimentScorer
from monitors.sources.base import Mention, Page

SEED = 20261124
START = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)
NETWORKS = ["x", "instagram", "facebook", "mastodon", "bluesky", "reddit", "youtube"]
KINDS = ["mention", "comment", "comment", "reply"]
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BUDGET = 0.5
# One statement as the DBAPI cursor received it: (SQL, parameters, whether it went through executemany).
Captured = tuple[str, Any, bool]
COMMIT = "COMMIT"  # recorded where the pipeline's transaction committed (pysqlite commits without a statement)


def texts() -> list[str]:
    """Every TweetEval validation tweet and XLM-T English and French tweet (train and validation), in file order."""
    found = list(tweeteval_val()[0])
    for lang in ("en", "fr"):
        for split in ("train", "val"):
            found += xlmt(lang, split)[0]
    return found


def mentions_for(corpus: list[str], n: int, rng: random.Random) -> list[Mention]:
    """n mentions over the corpus (cycled), a minute apart, from a crowd of n/3 authors."""
    crowd = [(f"{rng.choice(FIRST)}_{rng.choice(FIRST)}{i}", int(rng.lognormvariate(5.5, 1.8)))
             for i in range(max(50, n // 3))]
    out = []
    for i in range(n):
        handle, followers = rng.choice(crowd)
        network = rng.choice(NETWORKS)
        out.append(Mention(network=network, external_id=f"bench{i}", kind=rng.choice(KINDS), author_handle=handle,
                           author_name=handle.replace("_", " ").title(), author_followers=followers,
                           text=corpus[i % len(corpus)], created_at=START + timedelta(minutes=i),
                           permalink=f"https://{network}.example/{handle}/{i}", raw={"id": f"bench{i}"}))
    return out


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A URL to an empty database: a temporary SQLite file, or a PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="veille-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    base = os.environ.get("VEILLE_TEST_POSTGRES_URL") or DEFAULT_PG
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def time_vader(analyzer: SentimentIntensityAnalyzer, corpus: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of VADER's polarity_scores over the corpus."""
    polarity = analyzer.polarity_scores
    wall, cpu = time.perf_counter(), time.process_time()
    for item in corpus:
        polarity(item)
    return time.perf_counter() - wall, time.process_time() - cpu


def time_pipeline(url: str, mentions: list[Mention], *, page: int, capture: list[Captured] | None = None,
                  backlog: Sequence[Mention] = ()) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, mentions stored) for ingesting `mentions` page by page.

    `backlog` is ingested first, untimed: items already open in the team's queues, as during a bad buzz.

    With `capture`, every statement sent while ingesting is appended to it, and a `COMMIT` where each page
    committed; recording costs time, so a captured run is not one to time.
    """
    from bot.db import make_engine, session_scope
    from bot.migrate import upgrade
    from bot.models import Mention as MentionRow
    from bot.pipeline import RulesContext, ingest_page
    from bot.sentiment import SentimentScorer
    from bot.workspace import parse_workspace

    workspace = parse_workspace(WORKSPACE, "bench.yaml")
    scorer = SentimentScorer.for_workspace(workspace)
    ruleset = build_ruleset()  # fresh: cold caches, as after a restart
    rules = RulesContext(ruleset, ruleset.new_campaign_window())
    engine = make_engine(url)
    listeners: list[tuple[str, Any]] = []
    if capture is not None:
        def on_execute(_conn: Any, _cursor: Any, statement: str, parameters: Any, context: Any,
                       executemany: bool) -> None:
            # An insertmanyvalues batch reports executemany but runs as one execute() with flattened parameters.
            many = executemany and context is not None and context.execute_style is ExecuteStyle.EXECUTEMANY
            capture.append((statement, parameters, many))

        def on_commit(_conn: Any) -> None:
            capture.append((COMMIT, (), False))

        listeners = [("before_cursor_execute", on_execute), ("commit", on_commit)]
    try:
        upgrade(engine)
        now = START + timedelta(days=8)
        for i in range(0, len(backlog), page):
            with session_scope(engine) as session:
                ingest_page(session, Page(list(backlog[i:i + page]), cursor=str(i)), source="bench",
                            workspace=workspace, scorer=scorer, now=now, rules=rules)
        for name, listener in listeners:  # only now: the migration's statements are not the pipeline's
            event.listen(engine, name, listener)
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(0, len(mentions), page):
                with session_scope(engine) as session:
                    ingest_page(session, Page(mentions[i:i + page], cursor=str(i)), source="bench",
                                workspace=workspace, scorer=scorer, now=now, rules=rules)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            for name, listener in listeners:
                event.remove(engine, name, listener)
        with Session(engine) as session:
            stored = session.exec(select(func.count()).select_from(MentionRow)).one()
    finally:
        engine.dispose()
    return wall, cpu, int(stored)


def time_scorer(scorer: SentimentScorer, corpus: list[str]) -> float:
    """Veille's sentiment scorer alone (language detection included): the floor under the pipeline's cost."""
    score = scorer.score
    start = time.perf_counter()
    for item in corpus:
        score(item)
    return time.perf_counter() - start


def replay_sqlite(path: Path, captured: list[Captured]) -> float:
    """Wall seconds for bare sqlite3 to run `captured` on the database at `path`, one transaction per page."""
    # Autocommit mode: the transactions are the pipeline's, opened and committed where it did.
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for pragma in SQLITE_PRAGMAS:
            conn.execute(pragma)
        cursor = conn.cursor()
        in_transaction = False
        start = time.perf_counter()
        for statement, parameters, many in captured:
            head = statement.lstrip()[:10].split(None, 1)[0].upper()
            if head == COMMIT:
                if in_transaction:
                    cursor.execute("COMMIT")
                    in_transaction = False
                continue
            if head in ("SAVEPOINT", "RELEASE", "BEGIN", "ROLLBACK"):
                continue  # the page's own transaction is enough; a fresh database has no conflict to roll back
            if not in_transaction:
                cursor.execute("BEGIN IMMEDIATE")  # as bot.db begins a writing transaction
                in_transaction = True
            if many:
                cursor.executemany(statement, parameters)
            else:
                cursor.execute(statement, parameters).fetchall()  # stepping through a query's rows is SQLite's work
        if in_transaction:
            cursor.execute("COMMIT")
        return time.perf_counter() - start


def storage_floor(captured: list[Captured], *, runs: int = 3) -> float:
    """Median wall seconds of `replay_sqlite` over `runs` fresh copies of a freshly migrated database."""
    from bot.db import make_engine
    from bot.migrate import upgrade

    times = []
    with tempfile.TemporaryDirectory(prefix="veille-floor-") as tmp:
        template = Path(tmp) / "template.db"
        engine = make_engine(f"sqlite:///{template}")
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        for n in range(runs):
            copy = Path(tmp) / f"replay{n}.db"
            # SQLite's backup API copies the whole database, whatever its WAL still holds.
            with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(copy)) as target:
                source.backup(target)
            times.append(replay_sqlite(copy, captured))
    return statistics.median(times)


def run(kind: str, corpus: list[str], mentions: list[Mention], *, repeat: int, page: int,
        backlog: Sequence[Mention] = ()) -> dict[str, object]:
    from bot.workspace import parse_workspace

    vader_runs, vader_cpu_runs, pipe_runs, cpu_runs, scorer_runs = [], [], [], [], []
    stored = 0
    analyzer = SentimentIntensityAnalyzer()
    scorer = SentimentScorer.for_workspace(parse_workspace(WORKSPACE, "bench.yaml"))
    for _ in range(repeat):
        vader_wall, vader_cpu = time_vader(analyzer, corpus)
        vader_runs.append(vader_wall)
        vader_cpu_runs.append(vader_cpu)
        scorer_runs.append(time_scorer(scorer, corpus))
        with database(kind) as url:
            wall, cpu, stored = time_pipeline(url, mentions, page=page)
        if stored != len(mentions):
            raise SystemExit(f"{kind}: {stored} mentions stored out of {len(mentions)}")
        pipe_runs.append(wall)
        cpu_runs.append(cpu)
    vader_rate = len(corpus) / statistics.median(vader_runs)
    pipe_rate = len(mentions) / statistics.median(pipe_runs)
    scorer_rate = len(corpus) / statistics.median(scorer_runs)
    ratio = pipe_rate / vader_rate
    # Per CPU second of this process: what one core delivers, whatever else the machine runs (on PostgreSQL it
    # leaves out the server's own work, so the wall-clock ratio is the one the budget is judged on).
    cpu_ratio = statistics.median(vader_cpu_runs) / statistics.median(cpu_runs) * len(mentions) / len(corpus)
    print(f"{kind:10s} VADER {vader_rate:8,.0f} mentions/s   pipeline {pipe_rate:8,.0f} mentions/s   "
          f"ratio {ratio:.3f} (budget ≥ {BUDGET}: {'OK' if ratio >= BUDGET else 'UNDER'}); per CPU second: "
          f"VADER {len(corpus) / statistics.median(vader_cpu_runs):,.0f}/s, pipeline "
          f"{len(mentions) / statistics.median(cpu_runs):,.0f}/s, ratio {cpu_ratio:.3f}")
    print(f"{'':10s} Veille's sentiment scorer alone {scorer_rate:,.0f} texts/s (ratio to VADER "
          f"{scorer_rate / vader_rate:.3f}); pipeline / scorer {pipe_rate / scorer_rate:.3f}")
    # The same medians as time per item: what each stage adds is easier to see in microseconds than in ratios.
    vader_us, scorer_us, pipe_us = (1e6 / rate for rate in (vader_rate, scorer_rate, pipe_rate))
    print(f"{'':10s} per mention: VADER {vader_us:,.0f} µs, scorer {scorer_us:,.0f} µs, pipeline {pipe_us:,.0f} µs "
          f"(rules, storage and bookkeeping: {pipe_us - scorer_us:,.0f} µs); budget {vader_us / BUDGET:,.0f} µs")
    extra: dict[str, object] = {}
    if kind == "sqlite":
        # One more run, untimed, to record the pipeline's SQL: the part of its time no Python change removes.
        captured: list[Captured] = []
        with database(kind) as url:
            _, _, recorded = time_pipeline(url, mentions, page=page, capture=captured)
        if recorded != len(mentions):
            raise SystemExit(f"{kind}: {recorded} mentions stored out of {len(mentions)} in the recorded run")
        floor_us = 1e6 * storage_floor(captured) / len(mentions)
        print(f"{'':10s} storage floor: the pipeline's own SQL replayed with bare sqlite3: {floor_us:,.0f} µs per "
              f"mention (of the pipeline's {pipe_us:,.0f} µs)")
        extra["storage_floor_us"] = round(floor_us, 1)
    if backlog:
        # The same mentions once `backlog` items already wait in the queues: a bad buzz must not slow ingestion
        # down as it piles up (routing's per-owner load and turn are read without counting the backlog).
        with database(kind) as url:
            wall, _, loaded = time_pipeline(url, mentions, page=page, backlog=backlog)
        if loaded != len(mentions) + len(backlog):
            raise SystemExit(f"{kind}: {loaded} mentions stored out of {len(mentions) + len(backlog)} with a backlog")
        loaded_us = 1e6 * wall / len(mentions)
        print(f"{'':10s} with {len(backlog):,} items already open: {loaded_us:,.0f} µs per mention "
              f"({loaded_us / pipe_us:.2f}× the empty database's, one run)")
        extra["backlog"] = {"open_items": len(backlog), "us_per_mention": round(loaded_us, 1),
                            "to_empty": round(loaded_us / pipe_us, 3)}
    return {"vader_per_s": round(vader_rate), "pipeline_per_s": round(pipe_rate),
            "scorer_per_s": round(scorer_rate), "scorer_to_vader": round(scorer_rate / vader_rate, 3),
            "pipeline_to_scorer": round(pipe_rate / scorer_rate, 3),
            "vader_per_cpu_s": round(len(corpus) / statistics.median(vader_cpu_runs)),
            "pipeline_per_cpu_s": round(len(mentions) / statistics.median(cpu_runs)), "ratio": round(ratio, 3),
            "ratio_cpu": round(cpu_ratio, 3),
            "within_budget": ratio >= BUDGET, "stored": stored,
            "us_per_mention": {"vader": round(1e6 / vader_rate, 1), "scorer": round(1e6 / scorer_rate, 1),
                               "pipeline": round(1e6 / pipe_rate, 1)},
            "vader_s": [round(x, 3) for x in vader_runs], "pipeline_s": [round(x, 3) for x in pipe_runs], **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument("--items", type=int, default=0, help="mentions per run (default: one per text)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--page", type=int, default=100, help="mentions per committed page (default 100)")
    parser.add_argument("--backlog", type=int, default=0,
                        help="also time the run with this many items already open (default: skip)")
    args = parser.parse_args()
    corpus = texts()
    n = args.items or len(corpus)
    mentions = mentions_for(corpus, n, random.Random(SEED))
    # Older items, still open when the timed ones arrive: other ids, the days before.
    backlog = [dataclasses.replace(m, external_id=f"old{i}", created_at=m.created_at - timedelta(days=30))
               for i, m in enumerate(mentions_for(corpus, args.backlog, random.Random(SEED + 1)))]
    corpus = [m.text for m in mentions]  # VADER scores exactly the texts the pipeline ingests
    print(f"data: {shared_data()}; {n:,} mentions ({sum(map(len, corpus)) / n:.0f} characters on average), "
          f"{args.page} per page, median of {args.repeat} runs, wall-clock")
    results = {kind: run(kind, corpus, mentions, repeat=args.repeat, page=args.page, backlog=backlog)
               for kind in (("sqlite", "postgresql") if args.db == "both" else
                            ("sqlite",) if args.db == "sqlite" else ("postgresql",))}
    print(json.dumps({"bench": "pipeline", "mentions": n, "page": args.page, "repeat": args.repeat,
                      "budget_ratio": BUDGET, **results}))


if __name__ == "__main__":
    main()
