"""The paging policy on hand-fed evidence: one page per episode, hysteresis, cooldown, backoff, breakthrough."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitors.buzz import AlertConfig, AlertGate, GateStep

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
BUCKET = timedelta(minutes=5)


def feed(gate: AlertGate, evidence: list[float], start: datetime = T0) -> list[GateStep]:
    return [gate.step(start + i * BUCKET, e) for i, e in enumerate(evidence)]


def gate(**overrides: object) -> AlertGate:
    """A gate with the policy spelled out here, so these tests read on their own whatever the defaults."""
    policy: dict[str, object] = dict(warmup_buckets=0, hysteresis=0.5, cooldown=timedelta(hours=18), backoff=6.0,
                                     backoff_memory=timedelta(hours=84), max_cooldown=timedelta(days=7),
                                     breakthrough=2.0)
    policy.update(overrides)
    return AlertGate(AlertConfig(**policy))  # type: ignore[arg-type]


class TestEpisodes:
    def test_one_page_per_episode_with_hysteresis(self) -> None:
        steps = feed(gate(), [0.0, 1.2, 3.0, 0.7, 1.5, 0.6, 0.4, 0.0])
        assert [s.alert for s in steps] == [False, True, False, False, False, False, False, False]
        assert [s.active for s in steps] == [False, True, True, True, True, True, False, False]
        assert [s.ended for s in steps] == [False] * 6 + [True, False]
        assert steps[5].peak == 3.0

    def test_nothing_pages_while_warming_up(self) -> None:
        steps = feed(gate(warmup_buckets=3), [5.0, 5.0, 5.0, 0.0, 1.1])
        assert [s.warming_up for s in steps] == [True, True, True, False, False]
        assert [s.alert for s in steps] == [False, False, False, False, True]


class TestCooldown:
    def test_a_new_spike_during_the_cooldown_is_held_back(self) -> None:
        g = gate()
        feed(g, [1.5, 0.0])
        later = g.step(T0 + timedelta(hours=6), 1.4)
        assert (later.alert, later.suppressed) == (False, True)
        assert later.cooldown_until == T0 + timedelta(hours=18)

    def test_the_series_is_rearmed_when_the_cooldown_ends(self) -> None:
        g = gate()
        feed(g, [1.5, 0.0])
        assert g.step(T0 + timedelta(hours=18), 1.4).alert

    def test_a_much_worse_spike_breaks_through(self) -> None:
        g = gate()
        feed(g, [1.5, 2.0, 0.0])  # peak 2.0
        assert not g.step(T0 + timedelta(hours=1), 3.9).alert  # < 2 x peak
        through = g.step(T0 + timedelta(hours=2), 4.0)
        assert through.alert and through.breakthrough

    def test_repeated_pages_back_the_cooldown_off(self) -> None:
        g = gate()
        assert g.cooldown_for(T0) == timedelta(hours=18)
        feed(g, [1.5, 0.0])
        second = g.step(T0 + timedelta(hours=20), 1.5)  # one page in the last 84 h: 18 h x 6
        assert second.alert and second.cooldown_until == T0 + timedelta(hours=20 + 108)
        g.step(T0 + timedelta(hours=20, minutes=5), 0.0)
        # Two pages in the last 84 h: 18 h x 36, capped at 7 days (here for a breakthrough).
        third = g.step(T0 + timedelta(hours=30), 3.0)
        assert third.alert and third.breakthrough and third.cooldown_until == T0 + timedelta(hours=30, days=7)
        g.step(T0 + timedelta(hours=30, minutes=5), 0.0)
        # Once those pages are older than 84 h, an ordinary cooldown again.
        assert g.cooldown_for(T0 + timedelta(hours=30 + 85)) == timedelta(hours=18)

    def test_the_backoff_is_capped(self) -> None:
        g = gate(cooldown=timedelta(hours=18), backoff=6.0, max_cooldown=timedelta(days=2))
        feed(g, [1.5, 0.0])
        assert g.cooldown_for(T0 + timedelta(hours=19)) == timedelta(days=2)

    def test_bad_policies_are_refused(self) -> None:
        with pytest.raises(ValueError, match="hysteresis"):
            AlertConfig(hysteresis=0.0)
        with pytest.raises(ValueError, match="backoff"):
            AlertConfig(backoff=0.5)
