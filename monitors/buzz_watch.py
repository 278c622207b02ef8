"""The bad-buzz job: count stored mentions per closed bucket, feed the detector, turn episodes into incidents.

Streaming and past-only: a bucket is decided once it has closed, from the counts stored so far. After a
restart the detector is rebuilt by replaying the last `warmup` of stored buckets, acting on none of them.
Publications (calendar posts marked published, or seen by a connector) open the detector's watch window.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import models
from bot.db import session_scope
from bot.services import incidents
from bot.workspace import Workspace
from monitors.buzz import (
    BucketCounts,
    BuzzConfig,
    BuzzDetector,
    Counts,
    EpisodeEvent,
    Publication,
    SpikeTracker,
    bucket_floor,
    closed_buckets,
    drivers,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Item:
    """A stored mention as `monitors.buzz.drivers` reads it."""

    text: str
    author: str
    network: str
    negative: bool
    followers: int | None
    influencer: bool
    mention_id: int


class BuzzWatch:
    def __init__(self, *, engine: Engine, workspace: Workspace, config: BuzzConfig | None = None,
                 warmup: timedelta = timedelta(days=21)) -> None:
        self._engine = engine
        self._workspace = workspace
        self.config = config or BuzzConfig()
        self._warmup = warmup
        self.detector = BuzzDetector(self.config)
        self.tracker = SpikeTracker()
        self._last: datetime | None = None
        self._posts_seen: set[int] = set()

    def run(self, now: datetime) -> int:
        """Decide every bucket closed since the last run; returns how many incidents were opened or updated."""
        bucket = self.config.bucket
        if self._last is None:
            start = bucket_floor(now - self._warmup, bucket)
            with Session(self._engine) as session:
                first = session.exec(select(func.min(models.Mention.created_at))
                                     .where(col(models.Mention.subject).is_(None))).one()
            if first is None:
                return 0
            self._last = max(start, bucket_floor(first, bucket)) - bucket
            acting_from = bucket_floor(now, bucket) - bucket  # buckets before this are replayed silently
        else:
            acting_from = None
        changed = 0
        for start in closed_buckets(self._last, now, bucket):
            self._note_publications(start, start + bucket)
            decision = self.detector.observe(start, self._counts(start, start + bucket))
            event = self.tracker.push(decision)
            self._last = start
            if event is None or (acting_from is not None and start < acting_from):
                continue
            if event.kind in ("opened", "updated"):
                changed += self._apply(event, now)
        return changed

    def _counts(self, start: datetime, end: datetime) -> BucketCounts:
        with Session(self._engine) as session:
            rows = session.exec(select(models.Mention.network, models.Mention.sentiment_label,
                                       models.Mention.calendar_post_id, func.count())
                                .where(col(models.Mention.created_at) >= start, col(models.Mention.created_at) < end,
                                       # a competitor's bad buzz is theirs: it must not page our on-call
                                       col(models.Mention.subject).is_(None))
                                .group_by(models.Mention.network, models.Mention.sentiment_label,
                                          models.Mention.calendar_post_id)).all()
        total = negative = 0
        by_network: Counter[tuple[str, str]] = Counter()
        by_post: Counter[tuple[str, str]] = Counter()
        for network, label, post_id, n in rows:
            is_negative = label == "negative"
            total += n
            negative += n if is_negative else 0
            by_network[(network, "total")] += n
            by_network[(network, "negative")] += n if is_negative else 0
            if post_id is not None:
                by_post[(str(post_id), "total")] += n
                by_post[(str(post_id), "negative")] += n if is_negative else 0
        networks = {k: Counts(by_network[(k, "total")], by_network[(k, "negative")]) for k, _ in by_network}
        posts = {k: Counts(by_post[(k, "total")], by_post[(k, "negative")]) for k, _ in by_post}
        return BucketCounts(total=total, negative=negative, by_network=networks, by_post=posts)

    def _note_publications(self, start: datetime, end: datetime) -> None:
        """Open the watch window of posts that went live: when marked published (`published_at`), else as planned.

        A post marked published a little late (after its bucket was decided) is still noted while its window
        lasts: the detector watches from `published_at`, whenever it learns of it.
        """
        since = start - self.config.publication.window
        post = models.CalendarPost
        with Session(self._engine) as session:
            posts = session.exec(select(post).where(
                post.status == "published",
                or_(and_(col(post.published_at) >= since, col(post.published_at) < end),
                    and_(col(post.published_at).is_(None), col(post.scheduled_at) >= since,
                         col(post.scheduled_at) < end)))).all()
        for row in posts:
            if row.id is not None and row.id not in self._posts_seen:
                self._posts_seen.add(row.id)
                self.detector.note_publication(Publication(post_id=str(row.id),
                                                           published_at=row.published_at or row.scheduled_at,
                                                           network=row.network, title=row.title,
                                                           permalink=row.permalink))

    def _apply(self, event: EpisodeEvent, now: datetime) -> int:
        episode, decision = event.episode, event.decision
        bucket = self.config.bucket
        window_start = max(episode.started_at, decision.bucket_start - 5 * bucket)
        with session_scope(self._engine) as session:
            rows = session.exec(select(models.Mention, models.Author).join(
                models.Author, models.Author.id == models.Mention.author_id)  # type: ignore[arg-type]
                .where(col(models.Mention.created_at) >= window_start,
                       col(models.Mention.created_at) < decision.bucket_start + bucket,
                       col(models.Mention.subject).is_(None))).all()
            tier_min = min(self._workspace.influencers.tiers.values()) if self._workspace.influencers.tiers else None
            items = [_Item(text=m.text, author=a.handle, network=m.network, negative=m.sentiment_label == "negative",
                           followers=a.followers, mention_id=m.id or 0,
                           influencer=bool((m.rules or {}).get("tier")) or bool(
                               tier_min and a.followers and a.followers >= tier_min))
                     for m, a in rows]
            explained = drivers(items)
            # Say it in items a person can count: the negative mentions over the window shown, not a rate.
            observed = sum(1 for i in items if i.negative)
            minutes = max(1, round((decision.bucket_start + bucket - window_start).total_seconds() / 60))
            handles = {h.casefold().lstrip("@").split("@")[0] for h in self._workspace.brand.handles.values()}
            terms = [term for term in explained.terms if term.casefold().lstrip("@").split("@")[0] not in handles]
            post = episode.publication
            facts = incidents.SpikeFacts(
                key=episode.key, started_at=episode.started_at, observed=observed,
                baseline=float(decision.baseline or 0.0) * minutes / (bucket.total_seconds() / 60),
                bucket_minutes=minutes, networks=dict(explained.networks), terms=terms,
                authors=[{"handle": a.author, "network": a.network, "followers": a.followers,
                          "influencer": a.influencer} for a in explained.authors],
                mention_ids=[i.mention_id for i in items if i.negative][:200],
                post={"id": post.post_id, "network": post.network, "title": post.title,
                      "at": post.published_at.isoformat()} if post else None,
                score=decision.score)
            incidents.open_or_update(session, workspace=self._workspace, facts=facts, now=now)
        logger.info("buzz %s: %s (score %.2f)", event.kind, episode.key, decision.score)
        return 1
