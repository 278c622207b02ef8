"""Helpers shared by the Facebook, Instagram, LinkedIn and YouTube connectors.

- `Watermark`: the newest instant fully read plus the ids seen at exactly that instant, so a resumed
  poll neither skips an item created in the same second nor yields one twice.
- `walk_descending`: read a newest-first feed down to the watermark, across polls when the page budget
  runs out (the page token and the provisional new watermark go into the cursor).
- `PollWindow` / `refresh_comments`: the time bounds of a poll that refreshes the brand's own posts, and the
  per-post comment cursors that are re-read only when a post's comment count moved (Facebook,
  Instagram, LinkedIn).
- `guarded` / `once`: short names for `SourceHttp.inspecting` (read a failed response's body before its
  status is mapped) and `SourceHttp.without_retries` (never retry a non-idempotent POST).
- Small, total parsers for numbers and timestamps: a hostile value raises `PayloadInvalid`, never
  `TypeError` or `OverflowError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import httpx

from monitors.sources.base import AuthFailed, OwnPost, PayloadInvalid, RateLimited, SourceError, SourceUnavailable
from monitors.sources.http import SourceHttp

logger = logging.getLogger(__name__)

T = TypeVar("T")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A burst at one exact second is small; a cursor must stay small too.
MAX_IDS_AT_WATERMARK = 200


# ---------------------------------------------------------------------------------------------
# Watermarks


@dataclass(frozen=True, slots=True)
class Watermark:
    """Everything at or before `at` has been read, except that at `at` itself only `ids` were."""

    at: datetime
    ids: frozenset[str] = frozenset()

    def is_new(self, when: datetime, item_id: str) -> bool:
        return when > self.at or (when == self.at and item_id not in self.ids)

    def advance(self, items: Iterable[tuple[datetime, str]]) -> Watermark:
        """The watermark after also reading `items` (pairs of creation time and id)."""
        at, ids = self.at, set(self.ids)
        for when, item_id in items:
            if when > at:
                at, ids = when, {item_id}
            elif when == at:
                ids.add(item_id)
        return Watermark(at, frozenset(sorted(ids)[:MAX_IDS_AT_WATERMARK]))

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "ids": sorted(self.ids)}

    @classmethod
    def from_json(cls, value: Any, *, default: datetime) -> Watermark:
        """Read a stored watermark; a missing or damaged one falls back to `default` (re-reading is safe)."""
        if isinstance(value, dict) and isinstance(value.get("at"), str):
            try:
                at = datetime.fromisoformat(value["at"])
            except ValueError:
                at = None
            if at is not None and at.tzinfo is not None:
                raw_ids = value.get("ids")
                ids = frozenset(i for i in raw_ids if isinstance(i, str)) if isinstance(raw_ids, list) else frozenset()
                return cls(at.astimezone(UTC), ids)
        return cls(default)


@dataclass(slots=True)
class Walk(Generic[T]):
    """What `walk_descending` read: the new items and the feed's next cursor state."""

    items: list[T]
    state: dict[str, Any]
    pages: int


def walk_descending(
    fetch: Callable[[str | None], tuple[list[T], str | None]],
    *,
    state: Mapping[str, Any] | None,
    default: datetime,
    max_pages: int,
    when: Callable[[T], datetime],
    ident: Callable[[T], str],
    stop_when: Callable[[T], datetime] | None = None,
) -> Walk[T]:
    """Read a newest-first feed until an item at or before the watermark, or until `max_pages`.

    `fetch(token)` returns one page (`token` None means the newest page) and the next page's token.
    `state` is what the previous walk returned (`{"wm": ..., "pending": {"token", "top"}}`):
    while a backlog is pending, the walk resumes from its token and only moves the watermark to the
    newest item of the whole backlog once it reaches the old watermark, so nothing in between is
    skipped, and nothing is yielded twice. `stop_when` is the time the feed is sorted by, when it
    differs from an item's own time (YouTube sorts threads by their top-level comment).
    """
    state = state or {}
    wm = Watermark.from_json(state.get("wm"), default=default)
    pending = state.get("pending") if isinstance(state.get("pending"), dict) else None
    token = pending.get("token") if pending and isinstance(pending.get("token"), str) else None
    top = Watermark.from_json(pending.get("top"), default=wm.at) if pending and token else wm
    sort_key = stop_when or when
    found: list[T] = []
    pages = 0
    while pages < max_pages:
        items, next_token = fetch(token)
        pages += 1
        found.extend(item for item in items if wm.is_new(when(item), ident(item)))
        top = top.advance((when(item), ident(item)) for item in items)
        reached = any(not wm.is_new(sort_key(item), ident(item)) for item in items)
        if reached or not next_token:
            return Walk(found, {"wm": top.to_json()}, pages)
        token = next_token
    # Budget spent before reaching the old watermark: keep it, and resume from here next time.
    return Walk(found, {"wm": wm.to_json(), "pending": {"token": token, "top": top.to_json()}}, pages)


# ---------------------------------------------------------------------------------------------
# Own posts and the comments on them


@dataclass(frozen=True, slots=True)
class PollWindow:
    """The time bounds of one poll that reads the brand's own posts and the comments on them."""

    first_run: bool
    backfill_start: datetime  # a first run reads comments (and mentions) back to here
    since: datetime  # own posts published since then are read: the wider of the backfill and engagement windows
    engagement_start: datetime  # own posts published since then are reported with their engagement

    @classmethod
    def of(cls, cursor: Mapping[str, Any], *, now: datetime, backfill: timedelta, engagement_days: int) -> PollWindow:
        backfill_start = now - backfill
        engagement_start = now - timedelta(days=engagement_days)
        return cls(not cursor, backfill_start, min(engagement_start, backfill_start), engagement_start)


def refresh_comments(posts: Iterable[OwnPost], old: Any, window: PollWindow, *,
                     count: Callable[[OwnPost], int | None],
                     read: Callable[[OwnPost, dict[str, Any], datetime], dict[str, Any]]) -> dict[str, Any]:
    """The new per-post comment cursors: a post's entry is kept while its comment count (`count`) matches the
    count stored with it, else `read(post, old entry or {}, default watermark time)` reads its new comments.

    The default watermark is the backfill start on a first run, else just before the post itself (a post
    that entered the window since the last poll has all its comments read). Posts no longer listed leave
    the cursor.
    """
    old = old if isinstance(old, dict) else {}
    new: dict[str, Any] = {}
    for post in posts:
        state = old.get(post.external_id) if isinstance(old.get(post.external_id), dict) else None
        current = count(post)
        if state is not None and current is not None and state.get("count") == current:
            new[post.external_id] = state
            continue
        default = window.backfill_start if window.first_run else post.created_at - timedelta(seconds=1)
        new[post.external_id] = read(post, state or {}, default)
    return new


# ---------------------------------------------------------------------------------------------
# HTTP views


def guarded(http: SourceHttp, inspect: Callable[[httpx.Response], None]) -> SourceHttp:
    """`http.inspecting(inspect)`: a view whose responses go through `inspect` before their status is mapped."""
    return http.inspecting(inspect)


def once(http: SourceHttp) -> SourceHttp:
    """`http.without_retries()`: a POST that timed out may have been applied.

    The caller's own retry (the outbox, a later click) goes through the connector's check for an
    existing reply first, which a blind transport retry would skip.
    """
    return http.without_retries()


def is_fatal(exc: SourceError) -> bool:
    """True for errors that concern the whole source (stop the poll), not one object of it."""
    return isinstance(exc, RateLimited | AuthFailed | SourceUnavailable)


def json_body(response: httpx.Response) -> Any:
    """The response's JSON, or None when it has none (never raises)."""
    try:
        return response.json()
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Total parsers


def to_count(value: Any) -> int | None:
    """A non-negative count sent as an int or a decimal string (YouTube), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
        return int(value)
    return None


def epoch_ms(network: str, value: Any, item: Any, *, what: str) -> datetime:
    """A time sent as epoch milliseconds (LinkedIn), or `PayloadInvalid` naming `what`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadInvalid(network, f"{what} is missing or not a number", item=item)
    try:
        return EPOCH + timedelta(milliseconds=value)
    except (OverflowError, ValueError):
        raise PayloadInvalid(network, f"{what} {value!r} is out of range", item=item) from None


def unix_seconds(moment: datetime) -> int:
    return int(moment.timestamp())

