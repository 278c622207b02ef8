"""`veille sentiment`: score one text per line of standard input, one `label<TAB>compound<TAB>lang` line out each.

It streams: each line is read, scored and written before the next is read, so memory stays constant whatever
the input's length, and a reader on the other end of a pipe gets each answer as soon as it is computed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from bot.sentiment.scorer import SentimentScorer


def format_line(label: str, compound: float, lang: str | None) -> str:
    return f"{label}\t{compound:.4f}\t{lang or ''}\n"


def score_lines(lines: Iterable[str], out: TextIO, *, scorer: SentimentScorer, lang: str | None) -> int:
    """Score each line (its line ending removed) into `out`; return how many were scored."""
    count = 0
    for line in lines:
        result = scorer.score(line.rstrip("\r\n"), lang=lang)
        out.write(format_line(result.label, result.compound, result.lang))
        count += 1
    return count
