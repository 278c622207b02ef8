"""`BuzzDetector`: bucket counts in, one explained `Decision` per bucket out.

Feed it every bucket in time order (`observe(bucket_start, counts)`); it keeps, per scope (the whole
brand, and each network), a volume model, a negative-volume model and a negative-share model, plus one
comments series per recent brand post. The metrics named in `BuzzConfig.alert_on` may page; their
evidence (z over bar) is scaled up inside a post's watch window, and the strongest one goes through a
single `AlertGate`, so one spike is one page whichever series saw it first.

A `Decision` carries everything an alert needs to explain itself with counts: the baseline and the
observed figures of the series that drove it, the networks involved, the post that preceded it and
why the bucket paged or did not. Terms, authors and example items come from the items themselves:
see `monitors.buzz.explain`.

The detector is deterministic and decides each bucket from the past only. It holds its state in
memory: after a restart, replay the stored bucket counts of the last three weeks (`tail_buckets`)
to rebuild it exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitors.buzz.alerting import AlertGate
from monitors.buzz.config import NEGATIVE, NEGATIVE_SHARE, TOTAL, BuzzConfig
from monitors.buzz.model import Assessment, CountModel, ShareModel, comments_assessment

ALL = "all"  # the scope of the whole brand, every network together


@dataclass(frozen=True, slots=True)
class Counts:
    """How many items, and how many of them negative (counts; a generic series may pass fractions)."""

    total: float = 0
    negative: float = 0

    def __post_init__(self) -> None:
        if self.total < 0 or not 0 <= self.negative <= self.total:
            raise ValueError(f"need 0 <= negative <= total, got {self.negative}/{self.total}")


@dataclass(frozen=True, slots=True)
class BucketCounts:
    """One bucket's counts: overall, per network, and for the comments on each watched post."""

    total: float = 0
    negative: float = 0
    by_network: Mapping[str, Counts] = field(default_factory=dict)
    by_post: Mapping[str, Counts] = field(default_factory=dict)

    def __post_init__(self) -> None:
        Counts(self.total, self.negative)  # validates the overall pair


@dataclass(frozen=True, slots=True)
class Publication:
    """A brand post that went live; the detector watches the window after it more closely."""

    post_id: str
    published_at: datetime
    network: str | None = None
    title: str | None = None
    permalink: str | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """One series' verdict on one bucket, with its figures."""

    scope: str  # "all", a network name, or "post:<id>"
    metric: str  # total | negative | negative_share
    assessment: Assessment
    evidence: float  # z over bar, times the sensitivity in force
    can_page: bool

    @property
    def observed(self) -> float:
        return self.assessment.observed

    @property
    def expected(self) -> float:
        return self.assessment.expected

    def describe(self) -> str:
        """One line a person can read: what was seen against what was expected."""
        a = self.assessment
        where = "overall" if self.scope == ALL else self.scope
        span = "this bucket" if a.horizon == 1 else f"the last {a.horizon} buckets"
        if self.metric == NEGATIVE_SHARE:
            usual = f"{a.share:.0%}" if a.share is not None else "unknown"
            return (f"{where} negative share: {a.observed_sum:g} negative over {span}, "
                    f"{a.expected_sum:.1f} expected at the usual {usual} (z {a.z:.1f})")
        return f"{where} {self.metric}: {a.observed_sum:g} over {span}, baseline {a.expected_sum:.1f} (z {a.z:.1f})"


@dataclass(frozen=True, slots=True)
class Decision:
    """The detector's verdict on one bucket, explained."""

    bucket_start: datetime
    score: float  # 0..1 anomaly score: evidence / (1 + evidence), so 0.5 is exactly at the bar
    alert: bool  # page now: a new spike episode starts with this bucket
    in_episode: bool  # a spike episode is running after this bucket
    episode_ended: bool  # the running episode ended with this bucket
    evidence: float  # the strongest paging series' z over its bar, after sensitivity
    sensitivity: float  # 1.0, or the publication multiplier inside a post's watch window
    driver: Reading | None  # the paging series with the strongest evidence
    readings: tuple[Reading, ...]  # every series, strongest evidence first
    networks: tuple[str, ...]  # networks whose paging series are at least half-way to the bar, strongest first
    publication: Publication | None  # the latest post whose watch window holds this bucket
    breakthrough: bool = False  # paged although a cooldown was running: much worse than last time
    suppressed: bool = False  # past the bar, but a cooldown held the page back
    warming_up: bool = False  # still learning; never pages
    cooldown_until: datetime | None = None
    reason: str = ""

    @property
    def baseline(self) -> float | None:
        """The driving series' baseline for this bucket."""
        return self.driver.expected if self.driver else None

    @property
    def observed(self) -> float | None:
        """The driving series' count for this bucket."""
        return self.driver.observed if self.driver else None


def anomaly_score(evidence: float) -> float:
    """Squash evidence (0..inf, 1 = at the bar) into 0..1 (0.5 = at the bar)."""
    if evidence <= 0 or math.isnan(evidence):
        return 0.0
    if math.isinf(evidence):
        return 1.0
    return evidence / (1.0 + evidence)


class _Scope:
    """The three series of one scope."""

    def __init__(self, config: BuzzConfig) -> None:
        self.total = CountModel(config.model)
        self.negative = CountModel(config.model)
        self.share = ShareModel(config.model)


class BuzzDetector:
    """Streaming spike detector over bucketed counts; see the module docstring."""

    def __init__(self, config: BuzzConfig | None = None) -> None:
        self.config = config or BuzzConfig()
        self._gate = AlertGate(self.config.alerting)
        self._scopes: dict[str, _Scope] = {ALL: _Scope(self.config)}
        self._posts: dict[str, Publication] = {}
        self._comments: dict[str, Counts] = {}  # cumulative comments per watched post
        self._last: datetime | None = None

    # -- inputs -------------------------------------------------------------------------------
    def note_publication(self, publication: Publication) -> None:
        """Register a brand post: the window after `published_at` is watched with heightened sensitivity."""
        self._posts[publication.post_id] = publication

    def watched_posts(self, at: datetime) -> list[Publication]:
        """Posts whose watch window holds the bucket starting at `at`, latest first."""
        window = self.config.publication.window
        live = [p for p in self._posts.values() if p.published_at <= at < p.published_at + window]
        return sorted(live, key=lambda p: (p.published_at, p.post_id), reverse=True)

    def observe(self, bucket_start: datetime, counts: BucketCounts) -> Decision:
        """Decide the bucket starting at `bucket_start` from the past, then learn from it.

        Buckets must come in strictly increasing time order; an empty bucket is `BucketCounts()`.
        """
        if self._last is not None and bucket_start <= self._last:
            raise ValueError(f"buckets must arrive in time order: {bucket_start} after {self._last}")
        self._last = bucket_start
        config = self.config
        posts = self.watched_posts(bucket_start)
        sensitivity = config.publication.sensitivity if posts else 1.0

        readings = self._count_readings(bucket_start, counts, sensitivity)
        readings.extend(self._comment_readings(counts, posts))
        readings.sort(key=lambda r: (-r.evidence, r.scope != ALL, r.scope, r.metric))
        paging = [r for r in readings if r.can_page]
        driver = paging[0] if paging else None
        evidence = driver.evidence if driver else 0.0

        step = self._gate.step(bucket_start, evidence)
        networks = self._networks(paging)
        publication = posts[0] if posts else None
        reason = _reason(step.alert, step.breakthrough, step.suppressed, step.warming_up, step.active,
                         driver, publication, step.cooldown_until)
        self._forget_posts(bucket_start)
        return Decision(bucket_start=bucket_start, score=anomaly_score(evidence), alert=step.alert,
                        in_episode=step.active, episode_ended=step.ended, evidence=evidence,
                        sensitivity=sensitivity, driver=driver, readings=tuple(readings), networks=networks,
                        publication=publication, breakthrough=step.breakthrough, suppressed=step.suppressed,
                        warming_up=step.warming_up, cooldown_until=step.cooldown_until, reason=reason)

    # -- internals ----------------------------------------------------------------------------
    def _count_readings(self, at: datetime, counts: BucketCounts, sensitivity: float) -> list[Reading]:
        config = self.config
        scoped: list[tuple[str, Counts]] = [(ALL, Counts(counts.total, counts.negative))]
        if config.per_network:
            # A network seen once stays tracked: its quiet buckets are zeros, not gaps.
            for name in sorted(counts.by_network):
                self._scopes.setdefault(name, _Scope(config))
            scoped += [(name, counts.by_network.get(name, Counts())) for name in sorted(self._scopes) if name != ALL]
        readings: list[Reading] = []
        for scope_name, c in scoped:
            scope = self._scopes[scope_name]
            for metric, assessment in ((TOTAL, scope.total.step(at, c.total)),
                                       (NEGATIVE, scope.negative.step(at, c.negative)),
                                       (NEGATIVE_SHARE, scope.share.step(at, c.total, c.negative))):
                can_page = metric in config.alert_on
                readings.append(Reading(scope_name, metric, assessment, assessment.evidence * sensitivity, can_page))
        return readings

    def _comment_readings(self, counts: BucketCounts, posts: Iterable[Publication]) -> list[Reading]:
        config = self.config
        usual = self._scopes[ALL].share.share
        readings = []
        for post in posts:
            seen = self._comments.get(post.post_id, Counts())
            now = counts.by_post.get(post.post_id, Counts())
            cumulative = Counts(seen.total + now.total, seen.negative + now.negative)
            self._comments[post.post_id] = cumulative
            assessment = comments_assessment(cumulative.total, cumulative.negative, usual,
                                             min_z=config.publication.comments_min_z,
                                             min_items=config.model.share_min_items)
            # Comments exist only inside the watch window and have their own (lower) bar: no extra sensitivity.
            can_page = NEGATIVE in config.alert_on or NEGATIVE_SHARE in config.alert_on
            readings.append(Reading(f"post:{post.post_id}", NEGATIVE_SHARE, assessment, assessment.evidence,
                                    can_page))
        return readings

    def _networks(self, paging: list[Reading]) -> tuple[str, ...]:
        """Networks whose paging series are at least half-way to the bar (`hysteresis`), strongest first."""
        names: list[str] = []
        for r in paging:
            is_network = r.scope != ALL and not r.scope.startswith("post:")
            if is_network and r.evidence >= self.config.alerting.hysteresis and r.scope not in names:
                names.append(r.scope)
        return tuple(names)

    def _forget_posts(self, at: datetime) -> None:
        window = self.config.publication.window
        for post_id in [p.post_id for p in self._posts.values() if at >= p.published_at + window]:
            self._posts.pop(post_id, None)
            self._comments.pop(post_id, None)


def _reason(alert: bool, breakthrough: bool, suppressed: bool, warming_up: bool, active: bool,
            driver: Reading | None, publication: Publication | None, cooldown_until: datetime | None) -> str:
    """Say in one line why this bucket paged or did not."""
    if warming_up:
        return "learning the baseline; no alert yet"
    what = driver.describe() if driver else "no paging series"
    after = f" after post {publication.post_id}" if publication else ""
    if alert and breakthrough:
        return f"spike{after}, much worse than the last alert, so it breaks through the cooldown: {what}"
    if alert:
        return f"spike{after}: {what}"
    if suppressed:
        return f"past the bar but cooling down until {cooldown_until:%Y-%m-%d %H:%M}: {what}"
    if active:
        return f"spike still running: {what}"
    return f"within the baseline: {what}"


def bucket_floor(at: datetime, bucket: timedelta, *, origin: datetime | None = None) -> datetime:
    """The start of the bucket holding `at` (buckets are aligned on `origin`, default the Unix epoch)."""
    base = origin or datetime(1970, 1, 1, tzinfo=at.tzinfo)
    return base + ((at - base) // bucket) * bucket


def closed_buckets(after: datetime | None, now: datetime, bucket: timedelta) -> list[datetime]:
    """Starts of the buckets that have ended by `now` and come after the bucket starting at `after`.

    The scheduler job calls this with the injected clock's `now` and the last bucket it decided, so a
    late or skipped run catches up bucket by bucket, and an open bucket is never decided early.
    """
    last_closed = bucket_floor(now, bucket) - bucket
    start = last_closed if after is None else after + bucket
    out = []
    while start <= last_closed:
        out.append(start)
        start += bucket
    return out
