"""SpikeTracker on hand-made decisions: one episode per page, updates only with news, flare-ups in the same thread."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitors.buzz import ALL, Assessment, Decision, Publication, Reading, SpikeTracker

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
BUCKET = timedelta(minutes=5)
POST = Publication("p1", T0 - timedelta(hours=1))


def decision(i: int, evidence: float, *, alert: bool = False, active: bool = False, ended: bool = False,
             suppressed: bool = False, networks: tuple[str, ...] = ()) -> Decision:
    a = Assessment(observed=10 * evidence, expected=1.0, z=8 * evidence, horizon=1, observed_sum=10 * evidence,
                   expected_sum=1.0, bar=8.0)
    driver = Reading(ALL, "negative", a, evidence, True)
    return Decision(bucket_start=T0 + i * BUCKET, score=evidence / (1 + evidence), alert=alert, in_episode=active,
                    episode_ended=ended, evidence=evidence, sensitivity=1.0, driver=driver, readings=(driver,),
                    networks=networks, publication=POST, suppressed=suppressed)


def test_quiet_buckets_make_no_events() -> None:
    tracker = SpikeTracker()
    assert tracker.push(decision(0, 0.2)) is None
    assert tracker.current is None


def test_a_page_opens_an_episode_and_later_buckets_report_only_news() -> None:
    tracker = SpikeTracker()
    opened = tracker.push(decision(0, 1.5, alert=True, active=True, networks=("x",)))
    assert opened is not None and opened.kind == "opened"
    assert opened.episode.key == f"buzz:{T0.isoformat()}" and opened.episode.publication == POST
    assert tracker.push(decision(1, 1.2, active=True, networks=("x",))) is None  # nothing new
    peak = tracker.push(decision(2, 3.0, active=True, networks=("x", "mastodon")))
    assert peak is not None and peak.kind == "updated"
    assert peak.news == ("new peak", "now also on mastodon")
    closed = tracker.push(decision(3, 0.3, ended=True))
    assert closed is not None and closed.kind == "closed"
    episode = closed.episode
    assert (episode.active, episode.buckets, episode.peak_evidence) == (False, 4, 3.0)
    assert episode.networks == ("x", "mastodon") and episode.ended_at == T0 + 3 * BUCKET


def test_a_flare_up_held_back_by_the_cooldown_updates_the_same_episode() -> None:
    tracker = SpikeTracker()
    tracker.push(decision(0, 1.5, alert=True, active=True))
    tracker.push(decision(1, 0.2, ended=True))
    flare = tracker.push(decision(40, 1.3, suppressed=True))
    assert flare is not None and flare.kind == "updated"
    assert flare.episode.flare_ups == 1 and flare.episode.key == f"buzz:{T0.isoformat()}"


def test_a_breakthrough_opens_a_new_episode() -> None:
    tracker = SpikeTracker()
    tracker.push(decision(0, 1.5, alert=True, active=True))
    tracker.push(decision(1, 0.2, ended=True))
    worse = tracker.push(replace(decision(50, 4.0, alert=True, active=True), breakthrough=True))
    assert worse is not None and worse.kind == "opened"
    assert worse.episode.key == f"buzz:{(T0 + 50 * BUCKET).isoformat()}"
