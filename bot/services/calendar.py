"""The content calendar: which posts a view shows, saving and changing posts, and the warnings a planner needs.

Every query is bounded by an indexed time range (scheduled_at, or own_posts.created_at), so `/calendar`
stays fast whatever the size of the calendar and of the mentions table (which it never reads).
"""

from __future__ import annotations

import math
import statistics
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import models
from bot.errors import NotFound
from bot.workspace import NETWORKS, Workspace

STATUSES = ("draft", "scheduled", "published", "cancelled")
FORMATS = ("status", "image", "video", "link")
LIVE = ("draft", "scheduled", "published")  # what counts as planned content (cancelled does not)
PERIODS = ("today", "week", "month")
DEFAULT_DAYS = 7
MIX_DAYS = 30
# A month of a busy brand is a few hundred posts; more than this in one answer is unreadable anyway.
LIST_LIMIT = 500
GAP_LOOKBACK = timedelta(days=30)  # how far back a gap looks for the last post before now


# ---------------------------------------------------------------------------------------------------------
# Views


@dataclass(frozen=True, slots=True)
class CalendarView:
    """What `/calendar <arg>` shows: a local-time window, maybe one network."""

    arg: str  # "", today, week, month or a network: kept in buttons so a click re-renders the same view
    period: str  # next7 | today | week | month
    start: datetime
    end: datetime
    network: str | None = None

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start).total_seconds() / 86400))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def parse_view(arg: str, *, now: datetime, tz: str) -> CalendarView | None:
    """The view `/calendar arg` asks for, in the brand's time zone; None when `arg` is not one we know."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    words = arg.lower().split()
    period, network = "next7", None
    for word in words:
        if word in PERIODS:
            period = word
        elif word in NETWORKS:
            network = word
        else:
            return None
    if period == "today":
        start, end = _midnight(today, zone), _midnight(today + timedelta(days=1), zone)
    elif period == "week":  # Monday to Sunday of this week, the way a planner's agenda shows it
        monday = today - timedelta(days=today.weekday())
        start, end = _midnight(monday, zone), _midnight(monday + timedelta(days=7), zone)
    elif period == "month":
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        start, end = _midnight(first, zone), _midnight(following, zone)
    else:  # today and the 6 days after it, so today's already published posts stay visible
        start, end = _midnight(today, zone), _midnight(today + timedelta(days=DEFAULT_DAYS), zone)
    return CalendarView(arg=" ".join(words), period=period, start=start, end=end, network=network)


def list_posts(session: Session, view: CalendarView) -> list[models.CalendarPost]:
    """The view's posts (not cancelled), in time order."""
    query = (select(models.CalendarPost)
             .where(col(models.CalendarPost.scheduled_at) >= view.start,
                    col(models.CalendarPost.scheduled_at) < view.end, col(models.CalendarPost.status) != "cancelled"))
    if view.network:
        query = query.where(models.CalendarPost.network == view.network)
    return list(session.exec(query.order_by(col(models.CalendarPost.scheduled_at), col(models.CalendarPost.id))
                             .limit(LIST_LIMIT)).all())


def upcoming(session: Session, *, now: datetime, days: int = 7) -> Sequence[models.CalendarPost]:
    """Posts scheduled from now to `days` ahead, not cancelled, in time order (the App Home's next posts)."""
    return session.exec(
        select(models.CalendarPost)
        .where(col(models.CalendarPost.scheduled_at) >= now,
               col(models.CalendarPost.scheduled_at) < now + timedelta(days=days),
               col(models.CalendarPost.status) != "cancelled")
        .order_by(col(models.CalendarPost.scheduled_at))
    ).all()


# ---------------------------------------------------------------------------------------------------------
# Changes


@dataclass(frozen=True, slots=True)
class PostInput:
    """A post as a member filled it in (modal, CSV row or ICS event), already validated."""

    network: str
    scheduled_at: datetime
    title: str
    pillar: str | None = None
    promo: bool = False
    format: str | None = None
    owner: str | None = None
    status: str = "scheduled"
    permalink: str | None = None
    external_id: str | None = None


def _get(session: Session, post_id: int) -> models.CalendarPost:
    post = session.get(models.CalendarPost, post_id)
    if post is None:
        raise NotFound(str(post_id))
    return post


def _apply(post: models.CalendarPost, data: PostInput, *, now: datetime | None) -> None:
    post.network, post.scheduled_at, post.title = data.network, data.scheduled_at, data.title
    post.pillar, post.promo, post.format, post.owner = data.pillar, data.promo, data.format, data.owner
    if data.permalink is not None:
        post.permalink = data.permalink
    if data.external_id is not None:
        post.external_id = data.external_id
    _set_status(post, data.status, now=now)


def _set_status(post: models.CalendarPost, status: str, *, now: datetime | None) -> None:
    if status == "published" and post.status != "published":
        # `now` None: an import of past posts, which went live when planned (no buzz watch for old news).
        post.published_at = post.published_at or now or post.scheduled_at
    elif status != "published":
        post.published_at = None
    post.status = status


def save(session: Session, *, data: PostInput, user: str, now: datetime, post_id: int | None = None,
         post: models.CalendarPost | None = None, import_uid: str | None = None,
         imported: bool = False) -> models.CalendarPost:
    """Create a post, or change post `post_id`; a new time re-arms its reminder and overdue nudge.

    Every new post gets a stable uid, so an exported .ics re-imported later updates it instead of adding it.
    """
    if post is None and post_id is not None:
        post = _get(session, post_id)
    if post is None:
        post = models.CalendarPost(network=data.network, scheduled_at=data.scheduled_at, title=data.title,
                                   created_by=user, import_uid=import_uid or f"{uuid.uuid4().hex}@veille")
    moved = post.id is not None and post.scheduled_at != data.scheduled_at
    _apply(post, data, now=None if imported else now)
    if moved:
        post.reminded_at = post.nudged_at = None
    post.updated_by, post.updated_at = user, now
    session.add(post)
    session.flush()
    return post


def cancel(session: Session, *, post_id: int, user: str, now: datetime) -> models.CalendarPost:
    """Cancel a post: it leaves the listings and gets no reminder."""
    post = _get(session, post_id)
    post.status, post.published_at = "cancelled", None
    post.updated_by, post.updated_at = user, now
    session.add(post)
    return post


def mark_published(session: Session, *, post_id: int, user: str, now: datetime, link: str | None = None,
                   external_id: str | None = None) -> models.CalendarPost:
    """Record that a post went live now (by hand): the buzz watch window opens from `published_at`."""
    post = _get(session, post_id)
    if post.status != "published":
        post.status, post.published_at = "published", now
    if link:
        post.permalink = link
    if external_id:
        post.external_id = external_id
    post.updated_by, post.updated_at = user, now
    session.add(post)
    return post


# ---------------------------------------------------------------------------------------------------------
# Warnings


@dataclass(frozen=True, slots=True)
class Gap:
    """No post on `network` (of `format`) between `start` and `end`, longer than the objective allows."""

    network: str
    format: str | None
    start: datetime
    end: datetime
    target: float  # posts per day

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400


@dataclass(frozen=True, slots=True)
class PromoMix:
    """Promotional versus value posts planned over the next `days` days."""

    promo: int
    total: int
    max_share: float
    days: int = MIX_DAYS

    @property
    def share(self) -> float:
        return self.promo / self.total if self.total else 0.0

    @property
    def over(self) -> bool:
        return self.share > self.max_share + 1e-9

    @property
    def to_convert(self) -> int:
        """Promotional posts to turn into value posts to meet the rule."""
        return max(0, self.promo - math.floor(self.max_share * self.total + 1e-9))

    @property
    def to_add(self) -> int | None:
        """Value posts to add instead (None when no promotion at all is allowed)."""
        if self.max_share <= 0:
            return None
        return max(0, math.ceil(self.promo / self.max_share - self.total - 1e-9))


@dataclass(frozen=True, slots=True)
class TooClose:
    first: models.CalendarPost
    second: models.CalendarPost
    min_gap_h: float

    @property
    def gap(self) -> timedelta:
        return self.second.scheduled_at - self.first.scheduled_at


@dataclass(frozen=True, slots=True)
class HourStats:
    posts: int
    average: float  # likes + comments + shares per post


@dataclass(frozen=True, slots=True)
class BadHour:
    post: models.CalendarPost
    hour: int
    stats: HourStats
    median: float
    best_hour: int
    best: HourStats


def gaps(session: Session, *, workspace: Workspace, now: datetime, end: datetime) -> list[Gap]:
    """Stretches from now to `end` without a post where a `posts_per_day` objective wants one more often.

    The stretch before the first planned post starts at the last earlier post (looked for over the
    `GAP_LOOKBACK` before now; else now); the last stretch ends at `end`. Drafts count as planned, cancelled
    posts do not. One query for every objective: the time range is indexed and bounded.
    """
    objectives = [(o, o.network) for o in workspace.objectives
                  if o.metric == "posts_per_day" and o.network and o.target > 0]
    if not objectives:
        return []
    rows = session.exec(select(models.CalendarPost.network, models.CalendarPost.format,
                               models.CalendarPost.scheduled_at)
                        .where(col(models.CalendarPost.scheduled_at) >= now - GAP_LOOKBACK,
                               col(models.CalendarPost.scheduled_at) < end,
                               col(models.CalendarPost.status).in_(LIVE),
                               col(models.CalendarPost.network).in_({network for _, network in objectives}))
                        .order_by(col(models.CalendarPost.scheduled_at))).all()
    found: list[Gap] = []
    for objective, objective_network in objectives:
        fmt = getattr(objective, "format", None)  # a posting objective may be for one format ("a video every...")
        every = timedelta(days=1 / objective.target)
        times = [at for network, post_format, at in rows
                 if network == objective_network and (fmt is None or post_format == fmt)]
        earlier = [at for at in times if at < now]
        points = [earlier[-1] if earlier else now, *(at for at in times if at >= now), end]
        for a, b in zip(points, points[1:], strict=False):
            if b - a > every:
                found.append(Gap(network=objective_network or "", format=fmt, start=a, end=b, target=objective.target))
    return found


def promo_mix(session: Session, *, now: datetime, max_share: float, days: int = MIX_DAYS) -> PromoMix | None:
    """Count promotional and value posts planned over the next `days` days (None when nothing is planned)."""
    rows = session.exec(select(models.CalendarPost.promo, func.count()).where(
        col(models.CalendarPost.scheduled_at) >= now,
        col(models.CalendarPost.scheduled_at) < now + timedelta(days=days),
        col(models.CalendarPost.status).in_(LIVE)).group_by(models.CalendarPost.promo)).all()
    counts = {bool(promo): n for promo, n in rows}
    total = sum(counts.values())
    return PromoMix(promo=counts.get(True, 0), total=total, max_share=max_share, days=days) if total else None


def too_close(posts: Iterable[models.CalendarPost], *, min_gap_h: float, now: datetime) -> list[TooClose]:
    """Consecutive posts on the same network less than `min_gap_h` hours apart (the later one still ahead)."""
    by_network: dict[str, list[models.CalendarPost]] = defaultdict(list)
    for post in posts:
        if post.status != "cancelled":
            by_network[post.network].append(post)
    limit = timedelta(hours=min_gap_h)
    found = []
    for network_posts in by_network.values():
        network_posts.sort(key=lambda p: p.scheduled_at)
        for a, b in zip(network_posts, network_posts[1:], strict=False):
            if b.scheduled_at - a.scheduled_at < limit and b.scheduled_at >= now:
                found.append(TooClose(a, b, min_gap_h))
    return sorted(found, key=lambda w: w.second.scheduled_at)


def hour_profile(session: Session, *, now: datetime, tz: str, lookback_days: int,
                 networks: Iterable[str] | None = None) -> dict[str, dict[int, HourStats]]:
    """Average engagement (likes + comments + shares) of our own posts by local hour, per network."""
    engagement = (func.coalesce(models.OwnPost.likes, 0) + func.coalesce(models.OwnPost.comments, 0)
                  + func.coalesce(models.OwnPost.shares, 0))
    query = select(models.OwnPost.network, models.OwnPost.created_at, engagement).where(
        col(models.OwnPost.created_at) >= now - timedelta(days=lookback_days), col(models.OwnPost.created_at) < now)
    if networks is not None:
        query = query.where(col(models.OwnPost.network).in_(sorted(set(networks))))
    zone = ZoneInfo(tz)
    sums: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for network, created_at, interactions in session.exec(query).all():
        cell = sums[(network, created_at.astimezone(zone).hour)]
        cell[0] += 1
        cell[1] += int(interactions or 0)
    profile: dict[str, dict[int, HourStats]] = defaultdict(dict)
    for (network, hour), (n, total) in sums.items():
        profile[network][hour] = HourStats(posts=n, average=total / n)
    return dict(profile)


class HourProfiles:
    """`hour_profile` kept for a few minutes: 90 days of engagement barely move between two `/calendar`s.

    One per app (handlers hold it), never module-global; keyed by the parameters, dated by the injected clock.
    """

    def __init__(self, ttl: timedelta = timedelta(minutes=10)) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, int], tuple[datetime, dict[str, dict[int, HourStats]]]] = {}

    def get(self, session: Session, *, now: datetime, tz: str, lookback_days: int) -> dict[str, dict[int, HourStats]]:
        key = (tz, lookback_days)
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and timedelta(0) <= now - hit[0] < self._ttl:
            return hit[1]
        profile = hour_profile(session, now=now, tz=tz, lookback_days=lookback_days)
        with self._lock:
            self._entries[key] = (now, profile)
        return profile


def bad_hours(posts: Iterable[models.CalendarPost], profile: dict[str, dict[int, HourStats]], *, tz: str,
              now: datetime, min_posts: int, min_hours: int, ratio: float) -> list[BadHour]:
    """Posts still ahead at an hour whose average engagement is below `ratio` × the median hour's.

    Only hours with at least `min_posts` posts are judged, and only on a network with at least `min_hours`
    such hours: the median is taken over those hours' averages.
    """
    zone = ZoneInfo(tz)
    found = []
    for post in posts:
        if post.status not in ("draft", "scheduled") or post.scheduled_at < now:
            continue
        known = {h: s for h, s in profile.get(post.network, {}).items() if s.posts >= min_posts}
        if len(known) < min_hours:
            continue
        hour = post.scheduled_at.astimezone(zone).hour
        stats = known.get(hour)
        median = statistics.median(s.average for s in known.values())
        if stats is None or stats.average >= ratio * median:
            continue
        best_hour = max(known, key=lambda h: (known[h].average, -h))
        found.append(BadHour(post=post, hour=hour, stats=stats, median=median, best_hour=best_hour,
                             best=known[best_hour]))
    return found


@dataclass(slots=True)
class Warnings:
    gaps: list[Gap]
    mix: PromoMix | None
    too_close: list[TooClose]
    bad_hours: list[BadHour]

    @property
    def count(self) -> int:
        return len(self.gaps) + len(self.too_close) + len(self.bad_hours) + int(bool(self.mix and self.mix.over))


def warnings(session: Session, *, workspace: Workspace, view: CalendarView, posts: Sequence[models.CalendarPost],
             now: datetime, profiles: HourProfiles | None = None) -> Warnings:
    """Everything a planner should look at for this view: gaps, the 80/20 mix, crowding, weak hours."""
    cfg = workspace.calendar
    tz = workspace.brand.timezone
    # Gaps are looked for ahead only: to the view's end, and at least over the next 7 days.
    horizon = max(view.end, now + timedelta(days=DEFAULT_DAYS))
    found_gaps = [g for g in gaps(session, workspace=workspace, now=now, end=horizon)
                  if view.network in (None, g.network)]
    ahead = [p for p in posts if p.scheduled_at >= now and p.status in ("draft", "scheduled")]
    profile: dict[str, dict[int, HourStats]] = {}
    if ahead:
        profile = profiles.get(session, now=now, tz=tz, lookback_days=cfg.bad_hour.lookback_days) if profiles \
            else hour_profile(session, networks={p.network for p in ahead}, now=now, tz=tz,
                              lookback_days=cfg.bad_hour.lookback_days)
    return Warnings(
        gaps=found_gaps,
        mix=promo_mix(session, now=now, max_share=cfg.promo_max_share),
        too_close=too_close(posts, min_gap_h=cfg.min_gap_h, now=now) if cfg.min_gap_h > 0 else [],
        bad_hours=bad_hours(ahead, profile, tz=tz, now=now, min_posts=cfg.bad_hour.min_posts,
                            min_hours=cfg.bad_hour.min_hours, ratio=cfg.bad_hour.ratio),
    )
