"""Injected clocks: real time for `veille run`, compressed time for the demo, frozen time for tests."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class CompressedClock:
    """Virtual time that runs `speed` times faster than the wall clock from `start`.

    The demo plays a day of mentions in under a minute: every component reads this clock,
    so polls, deadlines and `/kpi` windows all agree on the same virtual "now".
    """

    def __init__(self, start: datetime, speed: float, *, monotonic=time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._start = start
        self._speed = speed
        self._monotonic = monotonic
        self._t0 = monotonic()
        self._frozen_at: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            elapsed = self._monotonic() - self._t0
            return self._start + timedelta(seconds=elapsed * self._speed)

    def freeze(self, at: datetime | None = None) -> None:
        """Stop virtual time (at `at`, or now)."""
        current = at or self.now()
        with self._lock:
            self._frozen_at = current

    def real_time(self) -> None:
        """From now on, run at wall-clock speed: the demo's prompt behaves like the live bot (Slack's pace
        of about one message per second per channel is a real-time limit)."""
        with self._lock:
            current = self._frozen_at
        current = current or self.now()
        with self._lock:
            self._start, self._speed, self._t0, self._frozen_at = current, 1.0, self._monotonic(), None


class FrozenClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("at must be timezone-aware")
        self._at = at
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._at = self._at + delta

    def set(self, at: datetime) -> None:
        with self._lock:
            self._at = at
