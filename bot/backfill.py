"""Backfill: stream past mentions from a file through the pipeline into the store, in bounded batches.

`veille backfill FILE [--source NAME]` reads either a JSON Lines file — one mention per line, with the fields of
`monitors.sources.base.Mention` (`network`, `external_id`, `kind`, `author_handle`, `text`, `created_at` in
ISO-8601, and optionally `author_name`, `author_followers`, `lang`, `permalink`, `parent_id`,
`conversation_id`, `raw`) — or a replay scenario directory (`monitors.sources.replay`).

- Streaming: the file is read line by line and only one batch (default 1,000 mentions) is held at a time, so
  memory stays flat whatever the file's size.
- Resumable: each batch is one transaction, and the store is keyed by (network, external id): a re-run skips
  what is stored without scoring it again, and an interrupted run loses at most its last batch.
- History, not work: backfilled items get the pipeline's decisions (language, sentiment, charter, engagement,
  routing) and the status "archived" — no assignment, no task, no card (`bot.pipeline.ingest_page(history=True)`).
- A line that is not a valid mention is kept aside (`rejected_items`, once) and counted; the rest go on.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.pipeline import RulesContext, ingest_page
from bot.sentiment import SentimentScorer
from bot.workspace import Workspace
from monitors.sources.base import Mention, Page, PayloadInvalid

logger = logging.getLogger(__name__)

BATCH = 1_000
_FIELDS = {"network", "external_id", "kind", "author_handle", "text", "created_at", "author_name",
           "author_followers", "lang", "permalink", "parent_id", "conversation_id", "raw"}
_REQUIRED = ("network", "external_id", "author_handle", "text", "created_at")


@dataclass(slots=True)
class BackfillReport:
    read: int = 0  # lines (or scenario items) read
    stored: int = 0
    skipped: int = 0  # already stored (a re-run, or the same item twice in the file)
    rejected: int = 0  # not a valid mention (kept aside once)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports kilobytes, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def parse_line(line: str, *, where: str) -> Mention:
    """One JSON Lines record as a Mention; PayloadInvalid (with the reason) when it is not one."""
    try:
        item = json.loads(line)
    except ValueError as exc:
        raise PayloadInvalid("backfill", f"{where}: not JSON ({exc.msg})", item=line[:2000]) from None
    if not isinstance(item, dict):
        raise PayloadInvalid("backfill", f"{where}: not a JSON object", item=line[:2000])
    missing = [name for name in _REQUIRED if not isinstance(item.get(name), str) or not item[name]]
    if missing:
        raise PayloadInvalid(str(item.get("network") or "backfill")[:20], f"{where}: missing {', '.join(missing)}",
                             item=item)
    try:
        created_at = datetime.fromisoformat(item["created_at"].replace("Z", "+00:00"))
    except ValueError:
        raise PayloadInvalid(item["network"][:20], f"{where}: created_at is not ISO-8601", item=item) from None
    fields: dict[str, Any] = {k: v for k, v in item.items() if k in _FIELDS}
    fields["created_at"] = created_at
    fields.setdefault("kind", "mention")
    fields.setdefault("raw", {})
    followers = fields.get("author_followers")
    if followers is not None and (not isinstance(followers, int) or isinstance(followers, bool)):
        fields["author_followers"] = None  # a count we cannot read is unknown, not a reason to drop the item
    for name in ("author_name", "lang", "permalink", "parent_id", "conversation_id"):
        if fields.get(name) is not None and not isinstance(fields[name], str):
            fields[name] = None
    if not isinstance(fields["raw"], dict) or not isinstance(fields["kind"], str):
        raise PayloadInvalid(item["network"][:20], f"{where}: raw must be an object and kind a string", item=item)
    return Mention(**fields)


def read_jsonl(stream: IO[str], *, name: str = "input") -> Iterator[tuple[Mention | PayloadInvalid, int]]:
    """Yield (mention or the problem with it, bytes of the line) for each non-blank line, one at a time."""
    for number, line in enumerate(stream, start=1):
        size = len(line.encode("utf-8", "surrogatepass"))
        if not line.strip():
            continue
        try:
            yield parse_line(line, where=f"{name} line {number}"), size
        except PayloadInvalid as problem:
            yield problem, size
        except (TypeError, ValueError) as exc:  # Mention's own checks (an id too long, a bad type)
            yield PayloadInvalid("backfill", f"{name} line {number}: {exc}", item=line[:2000]), size


def read_replay(path: Path) -> Iterator[tuple[Mention | PayloadInvalid, int]]:
    """Every item of a replay scenario directory, in event order (scenarios are small: read whole)."""
    from datetime import UTC

    from monitors.sources.replay import ReplaySource

    page = ReplaySource(path).fetch(None, now=datetime.max.replace(tzinfo=UTC))
    for mention in page.mentions:
        yield mention, 0
    for problem in page.rejected:
        yield problem, 0


class Progress:
    """A rich progress bar on a terminal, else a plain line every `every_s` seconds (logs, CI, pipes)."""

    def __init__(self, total_bytes: int | None, *, stream: IO[str] | None = None, every_s: float = 5.0) -> None:
        self._stream = stream or sys.stderr
        self._every = every_s
        self._last = 0.0
        self._bar: Any = None
        if self._stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(TextColumn("backfill"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                            TextColumn("{task.fields[items]} items · {task.fields[rate]}/s"), TimeRemainingColumn(),
                            console=Console(file=self._stream), transient=False)
            self._task = self._bar.add_task("backfill", total=total_bytes, items="0", rate="0")
            self._bar.start()

    def update(self, done_bytes: int, report: BackfillReport, *, final: bool = False) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done_bytes, items=f"{report.read:,}",
                             rate=f"{report.per_second:,.0f}")
            if final:
                self._bar.stop()
            return
        now = time.monotonic()
        if final or now - self._last >= self._every:
            self._last = now
            print(f"backfill: {report.read:,} read, {report.stored:,} stored, {report.skipped:,} already stored, "
                  f"{report.rejected:,} set aside ({report.per_second:,.0f}/s, peak memory {peak_rss_mb():.0f} MB)",
                  file=self._stream, flush=True)


def backfill(items: Iterator[tuple[Mention | PayloadInvalid, int]], *, engine: Engine, workspace: Workspace,
             scorer: SentimentScorer, rules: RulesContext | None, clock: Callable[[], datetime],
             source: str = "backfill", batch: int = BATCH, progress: Progress | None = None) -> BackfillReport:
    """Stream `items` into the store, `batch` at a time, each batch committed on its own."""
    report = BackfillReport()
    started = time.perf_counter()
    done_bytes = 0
    mentions: list[Mention] = []
    problems: list[PayloadInvalid] = []

    def flush() -> None:
        if not mentions and not problems:
            return
        # cursor=None: the source's own cursor (a live source's resume point) is left as it is.
        with session_scope(engine) as session:
            result = ingest_page(session, Page(mentions=list(mentions), cursor=None, rejected=list(problems)),
                                 source=source, workspace=workspace, scorer=scorer, now=clock(), rules=rules,
                                 history=True)
        report.stored += result.stored
        report.skipped += result.duplicates
        report.rejected += len(problems)
        mentions.clear()
        problems.clear()
        report.seconds = time.perf_counter() - started
        if progress is not None:
            progress.update(done_bytes, report)

    for item, size in items:
        report.read += 1
        done_bytes += size
        if isinstance(item, PayloadInvalid):
            problems.append(item)
        else:
            mentions.append(item)
        if len(mentions) + len(problems) >= batch:
            flush()
    flush()
    report.seconds = time.perf_counter() - started
    if progress is not None:
        progress.update(done_bytes, report, final=True)
    logger.info("backfill from %s: %d read, %d stored, %d already stored, %d set aside in %.1fs", source,
                report.read, report.stored, report.skipped, report.rejected, report.seconds)
    return report


def open_items(path: str) -> tuple[Iterator[tuple[Mention | PayloadInvalid, int]], int | None, Callable[[], None]]:
    """(the items of `path`, its size in bytes for the bar, a function that closes it); '-' reads stdin."""
    if path == "-":
        return read_jsonl(sys.stdin, name="stdin"), None, lambda: None
    target = Path(path)
    if target.is_dir():
        return read_replay(target), None, lambda: None
    # Undecodable bytes become U+FFFD rather than stopping a million-line import at one bad line.
    handle = open(target, encoding="utf-8", errors="replace", newline="\n")  # noqa: SIM115 - closed by the caller
    return read_jsonl(handle, name=target.name), target.stat().st_size, handle.close
