"""The paging policy: evidence per bucket in, "page now?" out -- one page per episode, with a backing-off cooldown.

States, per bucket:

- *idle*: evidence >= 1 starts an episode and pages, unless a cooldown is running; then the bucket is
  *suppressed* (reported, not paged) -- except a *breakthrough*, evidence at least `breakthrough` times
  the last episode's peak, which pages anyway: things got much worse.
- *active*: the episode runs while evidence stays at or above `hysteresis`; its peak is tracked.

Each page starts a cooldown of `cooldown x backoff^n` (capped at `max_cooldown`), n being the pages
already sent within `backoff_memory`: an isolated spike leaves the series re-armed by the next day, a
series that keeps spiking is muted for days unless it breaks through.

Cooldowns and memories are measured in time, so a missing bucket does not shift them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitors.buzz.config import AlertConfig


@dataclass(frozen=True, slots=True)
class GateStep:
    """What the policy made of one bucket."""

    alert: bool  # page now: an episode started here
    active: bool  # an episode is running after this bucket
    ended: bool  # the running episode ended with this bucket
    breakthrough: bool  # the page broke through a cooldown
    suppressed: bool  # evidence reached the bar, but a cooldown held the page back
    warming_up: bool  # too early to page at all
    peak: float  # peak evidence of the running (or last) episode
    cooldown_until: datetime | None  # no ordinary page before this time


class AlertGate:
    """Turn per-bucket evidence into at most one page per episode."""

    def __init__(self, config: AlertConfig | None = None) -> None:
        self.config = config or AlertConfig()
        self._seen = 0
        self._active = False
        self._peak = 0.0
        self._cooldown_until: datetime | None = None
        self._pages: deque[datetime] = deque()

    @property
    def active(self) -> bool:
        return self._active

    def cooldown_for(self, at: datetime) -> timedelta:
        """The cooldown a page sent at `at` would start (it grows with recent pages)."""
        config = self.config
        recent = sum(1 for t in self._pages if t >= at - config.backoff_memory)
        # Compare in seconds: backoff^n overflows timedelta long before it matters.
        seconds = config.cooldown.total_seconds() * config.backoff ** recent
        return min(config.max_cooldown, timedelta(seconds=min(seconds, config.max_cooldown.total_seconds())))

    def step(self, at: datetime, evidence: float) -> GateStep:
        """Decide one bucket, given its evidence (z over bar, already scaled by any sensitivity)."""
        config = self.config
        warming_up = self._seen < config.warmup_buckets
        self._seen += 1
        while self._pages and self._pages[0] < at - config.backoff_memory:
            self._pages.popleft()
        alert = ended = breakthrough = suppressed = False
        if not warming_up:
            if not self._active:
                if evidence >= 1.0:
                    cooling = self._cooldown_until is not None and at < self._cooldown_until
                    breakthrough = cooling and evidence >= config.breakthrough * self._peak
                    if not cooling or breakthrough:
                        self._cooldown_until = at + self.cooldown_for(at)
                        self._pages.append(at)
                        self._active = alert = True
                        self._peak = evidence
                    else:
                        suppressed = True
            else:
                self._peak = max(self._peak, evidence)
                if evidence < config.hysteresis:
                    self._active = False
                    ended = True
        return GateStep(alert=alert, active=self._active, ended=ended, breakthrough=breakthrough,
                        suppressed=suppressed, warming_up=warming_up, peak=self._peak,
                        cooldown_until=self._cooldown_until)
