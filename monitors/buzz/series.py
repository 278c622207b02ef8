"""Score a single time series in the Numenta Anomaly Benchmark format (`timestamp,value`), streaming.

This is what `veille buzz score` runs, and what `bench/nab.py` scores. A NAB file holds one series,
so the detector watches that series' volume (`alert_on=("total",)`, no networks); the model, the
bar and the paging policy are the defaults, exactly as the bot runs them on negative volume.
Each row is decided before the next one is read: the output is the same whether the file is
complete or cut after that row.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TextIO

from monitors.buzz.config import TOTAL, BuzzConfig
from monitors.buzz.detector import BucketCounts, BuzzDetector, Decision

OUTPUT_HEADER = ("timestamp", "value", "anomaly_score", "alert")


def series_config(base: BuzzConfig | None = None) -> BuzzConfig:
    """The default configuration, pointed at the one series a NAB file holds."""
    return replace(base or BuzzConfig(), alert_on=(TOTAL,), per_network=False)


@dataclass(frozen=True, slots=True)
class ScoredRow:
    timestamp: str  # as read, so the output lines up with the input byte for byte
    value: str
    decision: Decision


class SeriesFormatError(ValueError):
    """The input is not a `timestamp,value` CSV we can read; the message names the line."""


def parse_timestamp(text: str) -> datetime:
    """Read NAB's `2015-02-26 21:42:53` (and other ISO 8601 forms)."""
    return datetime.fromisoformat(text.strip())


def score_rows(rows: Iterable[tuple[str, str]], config: BuzzConfig | None = None) -> Iterator[ScoredRow]:
    """Decide each (timestamp, value) row in turn, as the rows arrive."""
    detector = BuzzDetector(series_config(config))
    for line, (timestamp, value) in enumerate(rows, start=2):
        try:
            at = parse_timestamp(timestamp)
            count = float(value)
        except ValueError as exc:
            raise SeriesFormatError(f"line {line}: cannot read {timestamp!r},{value!r} ({exc})") from exc
        if not math.isfinite(count) or count < 0:
            raise SeriesFormatError(f"line {line}: value must be a number >= 0, got {value!r}")
        try:
            # Some NAB series are not counts (CPU %, ...): the count model takes fractional values as they are.
            decision = detector.observe(at, BucketCounts(total=count))
        except ValueError as exc:
            raise SeriesFormatError(f"line {line}: {exc}") from exc
        yield ScoredRow(timestamp, value, decision)


def read_series(src: TextIO) -> Iterator[tuple[str, str]]:
    """Yield (timestamp, value) from a NAB CSV, checking the header."""
    reader = csv.reader(src)
    header = next(reader, None)
    if header is None:
        raise SeriesFormatError("line 1: empty file; expected a 'timestamp,value' header")
    names = [h.strip().lower() for h in header]
    if names[:2] != ["timestamp", "value"]:
        raise SeriesFormatError(f"line 1: expected a 'timestamp,value' header, got {','.join(header)!r}")
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) < 2:
            raise SeriesFormatError(f"line {line}: expected timestamp,value, got {','.join(row)!r}")
        yield row[0], row[1]


def score_csv(src: TextIO, dst: TextIO, config: BuzzConfig | None = None) -> int:
    """Stream `src` (timestamp,value) to `dst` (timestamp,value,anomaly_score,alert); return the rows written."""
    writer = csv.writer(dst, lineterminator="\n")
    writer.writerow(OUTPUT_HEADER)
    n = 0
    for row in score_rows(read_series(src), config):
        writer.writerow((row.timestamp, row.value, f"{row.decision.score:.6f}", int(row.decision.alert)))
        n += 1
    return n
