"""Benchmark: `veille backfill` of 1,000,000 mentions — throughput and peak memory (budget: under 300 MB).

    python -m bench.backfill [--mentions 1000000] [--db sqlite|pg] [--batch 1000]

Writes a JSON Lines file of `--mentions` mentions into a temporary directory, streamed from the public texts
(TweetEval and XLM-T, read where they lie, see `bench.sentiment.shared_data`; cycled, each line a distinct
mention from a crowd of authors) — never held in memory — then backfills it through `bot.backfill` (the code
behind `veille backfill`) into a fresh database with the bench rules of `bench.rules`, then runs it again to
show that a re-run skips what is stored. Peak memory is the process's `ru_maxrss` (everything: Python, the
sentiment models, the rules, the database driver). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.pipeline import NETWORKS, database, texts
from bench.rules import FIRST, WORKSPACE, build_ruleset
from bot.backfill import Progress, backfill, open_items, peak_rss_mb

SEED = 20261124
START = datetime(2025, 11, 1, tzinfo=UTC)
BUDGET_MB = 300


def write_jsonl(path: Path, n: int, corpus: list[str], rng: random.Random) -> int:
    """Write n mentions, one JSON object per line, a line at a time; return the file's size in bytes."""
    crowd = max(100, n // 10)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for i in range(n):
            a = rng.randrange(crowd)
            network = NETWORKS[rng.randrange(len(NETWORKS))]
            handle = f"{FIRST[a % len(FIRST)]}_{a}"
            record = {"network": network, "external_id": f"bf{i}", "kind": "mention", "author_handle": handle,
                      "author_name": handle.replace("_", " ").title(), "author_followers": (a * 7919) % 50_000,
                      "text": corpus[i % len(corpus)],
                      "created_at": (START + timedelta(seconds=30 * i)).isoformat().replace("+00:00", "Z"),
                      "permalink": f"https://{network}.example/{handle}/{i}", "raw": {"id": f"bf{i}"}}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path.stat().st_size


def run(url: str, path: Path, *, batch: int) -> dict[str, object]:
    from bot.db import make_engine
    from bot.migrate import upgrade
    from bot.pipeline import RulesContext
    from bot.sentiment import SentimentScorer
    from bot.workspace import parse_workspace

    workspace = parse_workspace(WORKSPACE, "bench.yaml")
    ruleset = build_ruleset()
    engine = make_engine(url)
    try:
        upgrade(engine)
        figures: dict[str, object] = {}
        for attempt in ("first", "rerun"):
            items, size, close = open_items(str(path))
            try:
                report = backfill(items, engine=engine, workspace=workspace,
                                  scorer=SentimentScorer.for_workspace(workspace),
                                  rules=RulesContext(ruleset, ruleset.new_campaign_window()),
                                  clock=lambda: datetime.now(UTC), batch=batch,
                                  progress=Progress(size, every_s=30))
            finally:
                close()
            figures[attempt] = {"read": report.read, "stored": report.stored, "already_stored": report.skipped,
                                "rejected": report.rejected, "seconds": round(report.seconds, 1),
                                "per_second": round(report.per_second),
                                "peak_rss_so_far_mb": round(peak_rss_mb(), 1)}  # the process high-water mark
            print(f"{attempt:6s} run: {report.read:,} read, {report.stored:,} stored, {report.skipped:,} already "
                  f"stored, {report.rejected} set aside in {report.seconds:.1f}s ({report.per_second:,.0f}/s); "
                  f"peak memory so far {peak_rss_mb():.0f} MB")
        return figures
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "pg"), default="sqlite")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    corpus = texts()
    with tempfile.TemporaryDirectory(prefix="veille-backfill-") as tmp:
        path = Path(tmp) / "mentions.jsonl"
        started = time.perf_counter()
        size = write_jsonl(path, args.mentions, corpus, random.Random(SEED))
        corpus.clear()  # the file is what the backfill reads
        print(f"wrote {args.mentions:,} mentions ({size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f}s; "
              f"peak memory {peak_rss_mb():.0f} MB")
        with database("sqlite" if args.db == "sqlite" else "postgresql") as url:
            figures = run(url, path, batch=args.batch)
    peak = peak_rss_mb()
    print(f"peak memory of the whole run: {peak:.0f} MB (budget < {BUDGET_MB} MB: "
          f"{'OK' if peak < BUDGET_MB else 'OVER'})")
    print(json.dumps({"bench": "backfill", "db": args.db, "mentions": args.mentions, "batch": args.batch,
                      "file_mb": round(size / 1e6, 1), **figures, "peak_rss_mb": round(peak, 1),
                      "budget_mb": BUDGET_MB, "within_budget": peak < BUDGET_MB}))


if __name__ == "__main__":
    main()
