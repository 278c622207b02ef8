"""One series' baseline and surprise: what a bucket should hold, and how far beyond that it is.

Two models share the same machinery:

- `CountModel` (volume, negative volume): expected = local level x hour-of-day factor x weekday factor.
  The level is an EWMA of de-seasonalised counts, so a brand that grows moves its baseline with it
  instead of alerting; what lies beyond expected + 3 sigma is clipped before learning, so a spike
  does not teach the baseline that spikes are normal.
- `ShareModel` (negative share): expected negatives = this bucket's total x the usual negative share.
  It asks "more negative than this much talk usually is", independent of the volume itself.

Both compare observed and expected sums over several horizons (5 min to 3 h with 5-minute buckets)
against a learned residual variance (never below Poisson / binomial noise), take the strongest z,
and set it against a *bar*: `max(min_z, tail_factor * the series' own 99.5th-percentile z over the
last 3 weeks)`. A bursty series must therefore surprise more than a calm one before it pages.

Every bucket is assessed from the state left by the previous buckets, and only then learned from:
nothing here ever looks ahead.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from monitors.buzz.config import ModelConfig

# Nothing is ever expected to be exactly zero: a tiny positive baseline keeps ratios finite.
_TINY = 1e-3


@dataclass(frozen=True, slots=True)
class Assessment:
    """How surprising one bucket of one series is, with the figures that explain it."""

    observed: float  # this bucket's count (negatives for a share series)
    expected: float  # the baseline for this bucket
    z: float  # the strongest horizon's standardised excess (0 at or below the baseline, or while learning)
    horizon: int  # that horizon, in buckets
    observed_sum: float  # observed over that horizon
    expected_sum: float  # baseline over that horizon
    bar: float  # the z that counts as a spike right now (inf while the series is still learning)
    share: float | None = None  # for share series: the usual negative share

    @property
    def evidence(self) -> float:
        """z over the bar: 1.0 is exactly at the bar; 0 while learning or when below the baseline."""
        if not math.isfinite(self.bar) or self.z <= 0:
            return 0.0
        return self.z / self.bar


class _Horizons:
    """Observed and expected sums over the last h buckets, and their residual variance, for each horizon."""

    def __init__(self, config: ModelConfig) -> None:
        self._config = config
        longest = config.horizons[-1]
        self._observed: deque[float] = deque(maxlen=longest)
        self._expected: deque[float] = deque(maxlen=longest)
        self._noise: deque[float] = deque(maxlen=longest)
        self._items: deque[float] = deque(maxlen=longest)
        self._variance: list[float | None] = [None] * len(config.horizons)

    @property
    def first_variance(self) -> float | None:
        return self._variance[0]

    def seed(self, observed: float) -> None:
        """Record the very first bucket as its own baseline: it carries no surprise."""
        self._push(observed, observed, observed, 0.0)

    def _push(self, observed: float, expected: float, noise: float, items: float) -> None:
        self._observed.append(observed)
        self._expected.append(expected)
        self._noise.append(noise)
        self._items.append(items)

    def assess(self, observed: float, expected: float, noise: float, *, items: float = math.inf,
               min_items: float = 0.0) -> tuple[float, int, float, float]:
        """Add one bucket, return (best z, its horizon, observed sum, expected sum), then learn the variances.

        `noise` is the bucket's irreducible variance (Poisson: the expected count); `items` the number
        of items a share is computed on (a horizon with fewer than `min_items` says nothing).
        """
        config = self._config
        self._push(observed, expected, noise, items)
        n = len(self._observed)
        observed_all, expected_all = list(self._observed), list(self._expected)
        noise_all, items_all = list(self._noise), list(self._items)
        best = (0.0, 1, observed, expected)
        for k, h in enumerate(config.horizons):
            if n < h:
                continue
            s_obs = sum(observed_all[-h:])
            s_exp = sum(expected_all[-h:])
            if sum(items_all[-h:]) < min_items:
                continue
            floor = sum(noise_all[-h:]) + config.poisson_floor
            residual = s_obs - s_exp
            variance = self._variance[k]
            if variance is None:
                # First sight of this horizon: a Poisson-sized guess, and no verdict yet.
                self._variance[k] = max(s_exp, 1.0)
                continue
            sd = math.sqrt(max(variance, floor))
            z = residual / sd
            if z > best[0]:
                best = (z, h, s_obs, s_exp)
            clipped = max(-config.clip_sigmas * sd, min(config.clip_sigmas * sd, residual))
            self._variance[k] = variance + config.variance_rate * (clipped * clipped - variance)
        return best


class _Tail:
    """The series' recent z values, sorted, to set the bar at a high quantile of its own surprises."""

    def __init__(self, config: ModelConfig) -> None:
        self._config = config
        self._recent: deque[float] = deque()
        self._sorted: list[float] = []

    def bar(self) -> float:
        config = self._config
        n = len(self._sorted)
        if n < config.tail_min_samples:
            return math.inf
        quantile = self._sorted[min(n - 1, int(config.tail_quantile * n))]
        return max(config.min_z, config.tail_factor * quantile)

    def add(self, z: float) -> None:
        self._recent.append(z)
        bisect.insort(self._sorted, z)
        if len(self._recent) > self._config.tail_buckets:
            old = self._recent.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]


class CountModel:
    """Baseline and surprise of a count series (mentions per bucket, negative mentions per bucket)."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self._level: float | None = None
        self._hours = [1.0] * 24
        self._weekdays = [1.0] * 7
        self._horizons = _Horizons(self.config)
        self._tail = _Tail(self.config)

    def expected(self, at: datetime) -> float | None:
        """The baseline for a bucket starting at `at` (None before the first bucket)."""
        if self._level is None:
            return None
        return max(self._level * self._season(at), _TINY)

    def _season(self, at: datetime) -> float:
        return self._hours[at.hour] * self._weekdays[at.weekday()]

    def step(self, at: datetime, observed: float) -> Assessment:
        """Assess the bucket starting at `at` against the past, then learn from it."""
        if observed < 0 or not math.isfinite(observed):
            raise ValueError(f"a count must be a finite number >= 0, got {observed!r}")
        if self._level is None:
            self._level = max(observed, 0.5)
            self._horizons.seed(observed)
            self._tail.add(0.0)
            return Assessment(observed, observed, 0.0, 1, observed, observed, math.inf)
        season = self._season(at)
        expected = max(self._level * season, _TINY)
        bar = self._tail.bar()
        z, horizon, s_obs, s_exp = self._horizons.assess(observed, expected, expected)
        self._tail.add(z)
        self._level = self._learn(at, self._level, observed, expected, season)
        return Assessment(observed, expected, z, horizon, s_obs, s_exp, bar)

    def _learn(self, at: datetime, level: float, observed: float, expected: float, season: float) -> float:
        """Update the profiles from one bucket and return the new level."""
        config = self.config
        variance = self._horizons.first_variance
        sd = math.sqrt(max(variance if variance is not None else expected, expected + config.poisson_floor))
        # Winsorise upwards only: a spike is learned as "a bit above normal", a lull fully.
        learned = min(observed, expected + config.clip_sigmas * sd)
        level = max(level + config.level_rate * (learned / season - level), _TINY)
        hour, weekday = at.hour, at.weekday()
        ratio = learned / (level * self._weekdays[weekday])
        self._hours[hour] += config.hour_profile_rate * (ratio - self._hours[hour])
        _renormalise(self._hours)
        ratio = learned / (level * self._hours[hour])
        self._weekdays[weekday] += config.weekday_profile_rate * (ratio - self._weekdays[weekday])
        _renormalise(self._weekdays)
        return level


class ShareModel:
    """Baseline and surprise of a negative share: negatives against this bucket's total at the usual share."""

    def __init__(self, config: ModelConfig | None = None, *, rate: float = 0.002) -> None:
        self.config = config or ModelConfig()
        self._rate = rate  # ~1.2 days half-life at 5-minute buckets: the usual share is a slow thing
        self._negative = 0.0
        self._total = 0.0
        self._horizons = _Horizons(self.config)
        self._tail = _Tail(self.config)

    @property
    def share(self) -> float | None:
        """The usual negative share, once any item has been seen."""
        if self._total <= 0:
            return None
        return min(max(self._negative / self._total, 0.0), 1.0)

    def step(self, at: datetime, total: float, negative: float) -> Assessment:
        """Assess one bucket's negatives against its total at the usual share, then learn from it."""
        if total < 0 or negative < 0 or negative > total:
            raise ValueError(f"need 0 <= negative <= total, got negative={negative!r} total={total!r}")
        share = self.share
        if share is None:
            # Nothing to compare with yet; both EWMAs start from this bucket (their ratio needs no bias fix).
            self._negative += self._rate * negative
            self._total += self._rate * total
            self._tail.add(0.0)
            return Assessment(negative, negative, 0.0, 1, negative, negative, math.inf)
        # Keep the share strictly inside (0, 1) so the binomial noise never vanishes.
        p = min(max(share, 0.01), 0.99)
        expected = total * p
        bar = self._tail.bar()
        z, horizon, s_obs, s_exp = self._horizons.assess(negative, expected, total * p * (1 - p), items=total,
                                                         min_items=self.config.share_min_items)
        self._tail.add(z)
        sd = math.sqrt(total * p * (1 - p) + self.config.poisson_floor)
        learned = min(negative, expected + self.config.clip_sigmas * sd)
        self._negative += self._rate * (learned - self._negative)
        self._total += self._rate * (total - self._total)
        return Assessment(negative, expected, z, horizon, s_obs, s_exp, bar, share=share)


def comments_assessment(total: float, negative: float, usual_share: float | None, *, min_z: float,
                        min_items: int) -> Assessment:
    """Judge the comments on one post so far: more negative than the brand usually is?

    A fresh post has no history of its own, so its cumulative comments are tested against the
    brand's usual negative share (binomial z), with a fixed bar.
    """
    if usual_share is None or total < min_items:
        return Assessment(negative, negative, 0.0, 1, negative, negative, math.inf, share=usual_share)
    p = min(max(usual_share, 0.01), 0.99)
    expected = total * p
    z = (negative - expected) / math.sqrt(total * p * (1 - p) + 1.0)
    return Assessment(negative, expected, z, 1, negative, expected, min_z, share=usual_share)


def _renormalise(profile: list[float]) -> None:
    """Keep a multiplicative profile's mean at 1, so the level alone carries the volume."""
    mean = sum(profile) / len(profile)
    if mean > 0:
        for i, value in enumerate(profile):
            profile[i] = value / mean
