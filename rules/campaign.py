"""Coordinated campaigns: the same (or nearly the same) text from many authors within a time window.

`CampaignWindow` is the only stateful part of the rules. It keeps recent normalized texts, bounded by
age (each clause's `within`) and by count (`max_items`), and is owned by whoever feeds items in
order: the pipeline keeps one per process and may `seed` it with recently stored items at start-up.

Near-copies are found without comparing each text with every other. Normalization already makes
copies that differ by emoji, punctuation, case, accents, links or handles identical; copies that
differ by a word or two usually keep their three longest words, which is the key texts are blocked
by (a text of fewer than three distinct words is its own key). rapidfuzz only compares a text with
the recent texts that share its key, at most `MAX_CANDIDATES` of them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rapidfuzz import fuzz

from rules.schema import Campaign

MAX_CANDIDATES = 50


@dataclass(frozen=True, slots=True)
class CampaignHit:
    """This text and near-copies from other authors within the window."""

    authors: int  # distinct authors, this one included
    within: timedelta
    first_at: datetime
    similarity: float

    def describe(self) -> str:
        hours = self.within.total_seconds() / 3600
        span = f"{hours:g} h" if hours >= 1 else f"{self.within.total_seconds() / 60:g} min"
        return f"coordinated campaign: same text from {self.authors} authors within {span}"


# A recorded text: (at, author, text, key). A plain tuple: one is made for every item.
_Entry = tuple[datetime, object, str, str]


@dataclass(slots=True)
class _Clause:
    """One campaign clause's recent texts, in arrival order, and the same texts by key."""

    entries: deque[_Entry] = field(default_factory=deque)
    # Short lists (at most MAX_CANDIDATES, usually one entry): cheaper to create than deques.
    by_key: dict[str, list[_Entry]] = field(default_factory=dict)
    since_eviction: int = 0


EVICT_EVERY = 32  # old entries are dropped in batches; lookups skip the expired ones meanwhile


def blocking_key(words: list[str]) -> str:
    """The three longest words, in text order on ties (sorted() is stable); short texts are their own key."""
    if len(words) < 4:
        return " ".join(words)
    return " ".join(sorted(words, key=len, reverse=True)[:3])


class CampaignWindow:
    """Recent texts per campaign clause, bounded in age and count."""

    def __init__(self, max_items: int = 20_000) -> None:
        self.max_items = max_items
        self._clauses: dict[str, _Clause] = {}

    def __len__(self) -> int:
        return sum(len(c.entries) for c in self._clauses.values())

    def _evict(self, state: _Clause, horizon: datetime) -> None:
        entries, by_key = state.entries, state.by_key
        while entries and (entries[0][0] < horizon or len(entries) > self.max_items):
            old = entries.popleft()
            bucket = by_key.get(old[3])
            if bucket and bucket[0] is old:
                del bucket[0]
                if not bucket:
                    del by_key[old[3]]
        state.since_eviction = 0

    def observe(self, clause: str, rule: Campaign, *, author: object, words: list[str],
                at: datetime) -> CampaignHit | None:
        """Record a text (its normalized words); return a hit when enough other authors said nearly the same."""
        text = " ".join(words)
        if len(text) < rule.min_chars:
            return None
        state = self._clauses.get(clause)
        if state is None:
            state = self._clauses[clause] = _Clause()
        state.since_eviction += 1
        if state.since_eviction >= EVICT_EVERY or len(state.entries) >= self.max_items:
            self._evict(state, at - rule.within)
        key = blocking_key(words)
        entry: _Entry = (at, author, text, key)
        state.entries.append(entry)
        bucket = state.by_key.get(key)
        if bucket is None:
            state.by_key[key] = [entry]
            return None  # the usual case: nothing recent looks like this text
        candidates = list(bucket)
        horizon = at - rule.within
        bucket.append(entry)
        if len(bucket) > MAX_CANDIDATES:
            del bucket[0]
        authors: dict[object, datetime] = {}
        best = 0.0
        for other_at, other_author, other_text, _ in candidates:
            if other_author == author or other_at < horizon or other_author in authors:
                continue
            score = 100.0 if other_text == text else fuzz.ratio(other_text, text, score_cutoff=rule.similarity)
            if score >= rule.similarity:
                authors[other_author] = other_at
                best = max(best, score)
        if len(authors) + 1 >= rule.authors:
            return CampaignHit(len(authors) + 1, rule.within, min(authors.values()), best)
        return None
