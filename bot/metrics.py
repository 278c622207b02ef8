"""Prometheus metrics of one running bot, served at `/metrics`.

Counters are fed as things happen (mentions stored per network, pipeline latency, Slack API errors); the
backlog, source health and open incidents are read from the store at each scrape, so every replica reports
the shared truth and a restart loses nothing. Each `Runtime` has its own `CollectorRegistry` (tests build many
apps in one process), found from its engine by the pipeline and the outbox, which need no extra argument.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot import models

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# The outbox states worth watching, reported even at zero so dashboards and alerts have a series to read.
BACKLOG_STATES = ("pending", "sending", "in_doubt", "parked")
# Seconds per mention: a pipeline that keeps up with a flood stays well under a millisecond per item.
LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

_BY_ENGINE: weakref.WeakKeyDictionary[Engine, VeilleMetrics] = weakref.WeakKeyDictionary()


class _StoreCollector(Collector):
    """Gauges read from the database at scrape time: outbox backlog, source health, open incidents."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("veille_database_up", "1 when the last scrape could read the database")
        try:
            with Session(self._engine) as session:
                backlog = dict(session.exec(
                    select(models.OutboxMessage.status, func.count()).where(col(models.OutboxMessage.status) != "sent")
                    .group_by(models.OutboxMessage.status)).all())
                sources = session.exec(select(models.SourceCursor.source, models.SourceCursor.consecutive_failures,
                                              models.SourceCursor.items_seen, models.SourceCursor.paused_reason)
                                       ).all()
                incidents = session.exec(select(func.count()).select_from(models.Incident)
                                         .where(col(models.Incident.status) != "resolved")).one()
        except Exception:  # noqa: BLE001 - a scrape reports the outage rather than failing
            logger.warning("metrics: database unreachable at scrape", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        queue = GaugeMetricFamily("veille_outbox_backlog", "Slack messages owed, by outbox status",
                                  labels=["status"])
        for status in sorted(set(BACKLOG_STATES) | set(backlog)):
            queue.add_metric([status], backlog.get(status, 0))
        yield queue
        failures = GaugeMetricFamily("veille_source_consecutive_failures",
                                     "Polls of a source that failed in a row (0: its last poll succeeded)",
                                     labels=["source"])
        paused = GaugeMetricFamily("veille_source_paused", "1 when a source is paused (credentials refused)",
                                   labels=["source"])
        seen = CounterMetricFamily("veille_source_items", "Mentions stored from a source, since it was added",
                                   labels=["source"])
        for source, failed, items, reason in sources:
            failures.add_metric([source], failed)
            paused.add_metric([source], 1 if reason else 0)
            seen.add_metric([source], items)
        yield failures
        yield paused
        yield seen
        open_incidents = GaugeMetricFamily("veille_open_incidents", "Incidents not resolved yet")
        open_incidents.add_metric([], incidents)
        yield open_incidents


class VeilleMetrics:
    """The metrics of one bot, on a registry of its own."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.ingested = Counter("veille_items_ingested", "Mentions stored by the pipeline, by network", ["network"],
                                registry=self.registry)
        self.latency = Histogram("veille_pipeline_latency_seconds",
                                 "Time to process one mention: normalise, detect, score, apply the rules, store",
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.slack_errors = Counter("veille_slack_api_errors", "Slack Web API calls of the outbox that failed, "
                                    "by error code", ["error"], registry=self.registry)
        self.registry.register(_StoreCollector(engine))
        _BY_ENGINE[engine] = self

    def render(self) -> bytes:
        """The exposition text of every metric (what a scrape of /metrics returns)."""
        return generate_latest(self.registry)


def _metrics_of(bind: object) -> VeilleMetrics | None:
    engine = getattr(bind, "engine", bind)  # a Connection knows its Engine
    try:
        return _BY_ENGINE.get(engine)  # type: ignore[arg-type]
    except TypeError:  # not weak-referenceable: no metrics
        return None


def observe_ingest(session: Session, networks: Sequence[str], seconds: float) -> None:
    """Count a page's stored mentions per network and their latency (the page's time shared among them)."""
    metrics = _metrics_of(session.get_bind())
    if metrics is None or not networks:
        return
    per_item = seconds / len(networks)
    counts: dict[str, int] = {}
    for network in networks:
        counts[network] = counts.get(network, 0) + 1
        metrics.latency.observe(per_item)
    for network, n in counts.items():
        metrics.ingested.labels(network=network).inc(n)


def count_slack_error(engine: Engine, code: str) -> None:
    """Count one failed Slack API call of the outbox (its error code, or the exception's name)."""
    metrics = _metrics_of(engine)
    if metrics is not None:
        metrics.slack_errors.labels(error=code[:60]).inc()
