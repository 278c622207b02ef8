"""Buzz: spike detection on bucketed mention counts -- the detector the incidents and on-call paging build on.

Layers, each usable on its own:

- `model`: one series' baseline (seasonal, growth-aware) and surprise (multi-horizon z against a bar
  calibrated on the series' own tail) -- `CountModel`, `ShareModel`.
- `alerting`: the paging policy -- `AlertGate`: one page per episode, hysteresis, a cooldown that backs
  off on a noisy series, breakthroughs when things get much worse.
- `detector`: `BuzzDetector.observe(bucket_start, BucketCounts) -> Decision`, over the whole brand,
  each network, negative volume and share, and the comments of recent posts, publication-aware.
- `tracker`: `SpikeTracker.push(Decision) -> EpisodeEvent | None` -- opened / updated / closed episodes:
  one incident per spike.
- `explain`: terms, authors (influencers first) and example items behind a spike.
- `series`: `veille buzz score` -- a NAB `timestamp,value` CSV scored with the default configuration.

Typical use by the scheduler job (one detector per brand, clock injected)::

    for start in closed_buckets(last_decided, clock.now(), config.bucket):
        decision = detector.observe(start, counts_from_store(start))
        event = tracker.push(decision)
        if event: incidents.apply(event)      # open + page / post in thread / mark spike over
"""

from monitors.buzz.alerting import AlertGate, GateStep
from monitors.buzz.config import (
    NEGATIVE,
    NEGATIVE_SHARE,
    TOTAL,
    AlertConfig,
    BuzzConfig,
    ModelConfig,
    PublicationConfig,
)
from monitors.buzz.detector import (
    ALL,
    BucketCounts,
    BuzzDetector,
    Counts,
    Decision,
    Publication,
    Reading,
    anomaly_score,
    bucket_floor,
    closed_buckets,
)
from monitors.buzz.explain import AuthorDriver, Drivers, Item, drivers
from monitors.buzz.model import Assessment, CountModel, ShareModel
from monitors.buzz.tracker import Episode, EpisodeEvent, SpikeTracker

__all__ = [
    "ALL", "NEGATIVE", "NEGATIVE_SHARE", "TOTAL",
    "AlertConfig", "AlertGate", "Assessment", "AuthorDriver", "BucketCounts", "BuzzConfig", "BuzzDetector",
    "CountModel", "Counts", "Decision", "Drivers", "Episode", "EpisodeEvent", "GateStep", "Item", "ModelConfig",
    "Publication", "PublicationConfig", "Reading", "ShareModel", "SpikeTracker",
    "anomaly_score", "bucket_floor", "closed_buckets", "drivers",
]
