"""`SpikeTracker`: per-bucket decisions in, spike *episodes* out -- what the incident layer builds on.

One episode is one spike, so one incident. The tracker reports only what changes:

- ``opened``: a decision paged. A new episode starts; the incident layer opens an incident and pages.
  Its `key` ("buzz:<ISO start>") is stable, so replaying the same buckets never opens it twice.
- ``updated``: a later bucket of the running episode brought news -- a higher peak, a network newly
  involved -- or, after it ended, a new spike the cooldown held back (a *flare-up*). The incident
  layer posts in the incident's thread; it does not page again.
- ``closed``: the episode's evidence fell back under the hysteresis level: the spike is over. The
  incident stays the humans' to resolve.

A breakthrough (much worse than the last spike, during its cooldown) pages, so it opens a new episode.

Feed it every decision, in order; it keeps only the current episode.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from monitors.buzz.detector import Decision, Publication

EventKind = Literal["opened", "updated", "closed"]


@dataclass(frozen=True, slots=True)
class Episode:
    """One spike, from its first paging bucket to the bucket that ended it."""

    key: str
    started_at: datetime
    first: Decision  # the decision that paged
    peak: Decision  # the decision with the highest evidence so far
    last: Decision  # the latest decision that belongs to the episode
    buckets: int  # buckets counted in the episode (flare-ups included)
    networks: tuple[str, ...]  # every network involved so far, in order of appearance
    publication: Publication | None  # the post that preceded the spike, if it came in a watch window
    active: bool
    ended_at: datetime | None = None
    flare_ups: int = 0  # spikes the cooldown held back, told in this episode's thread instead of paging

    @property
    def peak_evidence(self) -> float:
        return self.peak.evidence


@dataclass(frozen=True, slots=True)
class EpisodeEvent:
    """Something the incident layer must act on."""

    kind: EventKind
    episode: Episode
    decision: Decision
    news: tuple[str, ...] = field(default_factory=tuple)  # why an update was reported


class SpikeTracker:
    """Group decisions into episodes; see the module docstring."""

    def __init__(self) -> None:
        self._episode: Episode | None = None

    @property
    def current(self) -> Episode | None:
        """The latest episode (running or ended), or None before the first page."""
        return self._episode

    def push(self, decision: Decision) -> EpisodeEvent | None:
        """Take the next decision; return the event it causes, if any."""
        episode = self._episode
        if decision.alert:
            self._episode = Episode(
                key=f"buzz:{decision.bucket_start.isoformat()}", started_at=decision.bucket_start, first=decision,
                peak=decision, last=decision, buckets=1, networks=decision.networks,
                publication=decision.publication, active=decision.in_episode,
                ended_at=None if decision.in_episode else decision.bucket_start)
            return EpisodeEvent("opened", self._episode, decision)
        if episode is None:
            return None
        if episode.active:
            return self._continue(episode, decision)
        if decision.suppressed:
            # A new spike during the cooldown: same incident, told in its thread, no new page. The gate
            # runs no episode for a held-back spike, so the episode stays ended, one flare-up longer.
            self._episode = replace(self._grow(episode, decision), ended_at=decision.bucket_start,
                                    flare_ups=episode.flare_ups + 1)
            return EpisodeEvent("updated", self._episode, decision, ("flare-up held back by the cooldown",))
        return None

    def _continue(self, episode: Episode, decision: Decision) -> EpisodeEvent | None:
        grown = self._grow(episode, decision)
        if decision.episode_ended or not decision.in_episode:
            self._episode = replace(grown, active=False, ended_at=decision.bucket_start)
            return EpisodeEvent("closed", self._episode, decision)
        self._episode = grown
        news = []
        if grown.peak is decision and decision.evidence > episode.peak.evidence:
            news.append("new peak")
        new_networks = [n for n in grown.networks if n not in episode.networks]
        if new_networks:
            news.append("now also on " + ", ".join(new_networks))
        if news:
            return EpisodeEvent("updated", grown, decision, tuple(news))
        return None

    @staticmethod
    def _grow(episode: Episode, decision: Decision) -> Episode:
        peak = decision if decision.evidence > episode.peak.evidence else episode.peak
        networks = episode.networks + tuple(n for n in decision.networks if n not in episode.networks)
        publication = episode.publication or decision.publication
        return replace(episode, peak=peak, last=decision, buckets=episode.buckets + 1, networks=networks,
                       publication=publication)
