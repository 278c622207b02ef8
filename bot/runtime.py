"""Assemble and run the whole bot: store, outbox worker, Slack app over HTTP, and the poll scheduler.

`veille run`, `veille demo` and the end-to-end tests all build the same `Runtime`; only the clock,
the sources and the Slack URL differ.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import models
from bot.app import build_app
from bot.clock import Clock
from bot.coordination import Coordinator, migration_lock
from bot.db import make_engine, session_scope
from bot.deps import Deps
from bot.flood import FloodPolicy
from bot.http import HttpServer, build_asgi
from bot.messages import t
from bot.metrics import VeilleMetrics
from bot.migrate import upgrade
from bot.network_actions import Executor, NetworkActionRunner
from bot.outbox import OutboxSender, OutboxWorker, enqueue_message
from bot.pipeline import RulesContext
from bot.render.escape import escape
from bot.render.outbox_render import OutboxRenderer
from bot.sentiment import SentimentScorer
from bot.sentiment.scorer import Correction
from bot.services.engagement import follow_up
from bot.services.retention import purge_expired
from bot.slack_client import make_client
from bot.workspace import Workspace
from monitors.buzz_watch import BuzzWatch
from monitors.calendar_reminders import remind_due_posts
from monitors.escalation import run_escalations
from monitors.kpi_digest import run_weekly_digest
from monitors.roi_webhook import RoiHookSecret, roi_routes
from monitors.schedule import ScheduledSource, build_scheduler, job
from monitors.sources.base import Mention, NotSupported
from monitors.webhooks import GenericHook, MetaHook, make_ingest, webhook_routes

logger = logging.getLogger(__name__)

FOLLOW_UP_EVERY = timedelta(minutes=15)
CALENDAR_EVERY = timedelta(minutes=1)  # reminders are due to the minute at best
KPI_DIGEST_EVERY = timedelta(minutes=1)


@dataclass(slots=True)
class RuntimeOptions:
    token: str
    signing_secret: str
    slack_api_url: str
    database_url: str
    workspace: Workspace
    clock: Clock
    sources: list[ScheduledSource] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    outbox_idle_s: float = 1.0
    serve_http: bool = True
    # Pushed mentions (`monitors.webhooks.hooks_from_config`): served on the HTTP server under /hooks/.
    webhooks: dict[str, GenericHook] = field(default_factory=dict)
    meta_webhooks: dict[str, MetaHook] = field(default_factory=dict)
    # Campaign results pushed to /hooks/roi/<name> (`monitors.roi_webhook.roi_hooks_from_config`).
    roi_hooks: dict[str, RoiHookSecret] = field(default_factory=dict)
    # (source name, mention, action) -> network id: how replies and hides reach the networks
    network_executor: Executor | None = None
    # The compiled charter, engagement and routing rules (rules.loader.load_rules); None: plain routing.
    rules: Any = None
    # How often (wall seconds) the bad-buzz job decides the buckets closed since its last run; 0: never.
    buzz_every_s: float = 60.0
    # How often (wall seconds) expired texts and raw payloads are purged (`bot.services.retention`); 0: never.
    retention_every_s: float = 3600.0
    # How long a dead replica's jobs wait before another replica takes them (None: VEILLE_LEASE_TTL_S, or 30 s).
    lease_ttl_s: float | None = None


def _corrections(engine: Engine) -> list[Correction]:
    """Members' sentiment corrections, so the scorer learns the brand's own words (whole texts and terms)."""
    with Session(engine) as session:
        rows = session.exec(select(models.SentimentCorrection, models.Mention.text).join(
            models.Mention, models.Mention.id == models.SentimentCorrection.mention_id)).all()  # type: ignore[arg-type]
    found = []
    for correction, text in rows:
        if not (correction.term or text):
            continue  # the text was forgotten or expired (bot.services.gdpr, retention): nothing left to learn
        found.append(Correction(text=correction.term or text, label=correction.new_label,  # type: ignore[arg-type]
                                kind="term" if correction.term else "text"))
    return found


def _no_connector(source: str, mention: Mention, action: models.NetworkAction) -> str | None:
    raise NotSupported(source, f"no connector can {action.kind} on {mention.network} for source '{source}'")


class Runtime:
    """Everything `veille run` needs, started and stopped together."""

    def __init__(self, options: RuntimeOptions) -> None:
        self.options = options
        self.engine = make_engine(options.database_url)
        # The app upgrades the schema on start: a new version never runs on an old schema. Replicas starting
        # together take turns.
        with migration_lock(self.engine):
            upgrade(self.engine)
        # Replicas share the database: every job below runs in exactly one of them, under a lease.
        self.coordinator = Coordinator(self.engine, ttl_s=options.lease_ttl_s)
        lease = self.coordinator.leased
        self.client = make_client(options.token, options.slack_api_url)
        triage = options.workspace.triage
        self.sender = OutboxSender(
            engine=self.engine, client=self.client, clock=options.clock,
            render=OutboxRenderer(options.workspace, options.clock),
            post_interval=timedelta(seconds=triage.post_interval_s),
            flood=FloodPolicy(threshold=triage.flood_threshold, similarity=triage.flood_similarity,
                              min_group=triage.flood_min_group),
            role=self.coordinator.role("outbox", on_acquire=lambda: self.sender.recover()),
        )
        self.actions = NetworkActionRunner(engine=self.engine, clock=options.clock, workspace=options.workspace,
                                           execute=options.network_executor or _no_connector)
        # Jobs driven by the outbox's wake-ups; each under its own lease (`lease(name, fn)`), so one replica runs it.
        self.worker = OutboxWorker(self.sender, idle_s=options.outbox_idle_s,
                                   also=[lease("network-actions", self._run_actions, on_acquire=self.actions.recover),
                                         lease("escalations", self._run_escalations),
                                         lease("follow-ups", self._follow_up_tasks),
                                         lease("kpi-digest", self._kpi_digest),
                                         lease("calendar-reminders", self._calendar_reminders)])
        self.deps = Deps(workspace=options.workspace, engine=self.engine, clock=options.clock,
                         scorer=SentimentScorer.for_workspace(options.workspace, _corrections(self.engine)),
                         wake_outbox=self.worker.wake,
                         rules=RulesContext(options.rules, getattr(options.rules, "current", options.rules)
                                            .new_campaign_window()) if options.rules is not None else None)
        self.app = build_app(self.deps, client=self.client, signing_secret=options.signing_secret)
        hooks = webhook_routes(generic=options.webhooks, meta=options.meta_webhooks, ingest=make_ingest(self.deps),
                               clock=options.clock.now) if options.webhooks or options.meta_webhooks else []
        if options.roi_hooks:
            hooks = [*hooks, *roi_routes(hooks=options.roi_hooks, engine=self.engine,
                                         currency=options.workspace.roi.currency, clock=options.clock.now)]
        # Per runtime, not global: tests build many apps in one process. Polled sources decide readiness.
        self.metrics = VeilleMetrics(self.engine)
        polled = [s.name for s in options.sources]
        self.http = HttpServer(build_asgi(self.app, self.engine, extra_routes=hooks, sources=lambda: polled,
                                          metrics=self.metrics), host=options.host,
                               port=options.port) if options.serve_http else None
        self.scheduler = build_scheduler(self.deps, options.sources, self.coordinator)
        self.buzz = BuzzWatch(engine=self.engine, workspace=options.workspace)
        if hasattr(options.rules, "reload_if_changed"):
            # An edited rule file is picked up by itself; an invalid edit keeps the last good rules.
            self.scheduler.add_job(job("rules-reload", self._reload_rules_if_changed), "interval", seconds=30,
                                   id="rules-reload", replace_existing=True, coalesce=True, max_instances=1)
        if options.buzz_every_s > 0:
            # The detector's state is in memory: it lives in the lease holder, rebuilt from the store on a move.
            buzz = lease("buzz", self._watch_buzz, on_acquire=self._reset_buzz)
            self.scheduler.add_job(job("buzz", buzz), "interval", seconds=options.buzz_every_s, id="buzz",
                                   replace_existing=True, coalesce=True, max_instances=1)
        if options.retention_every_s > 0:
            retention = lease("retention", self._purge_expired)
            self.scheduler.add_job(job("retention", retention), "interval", seconds=options.retention_every_s,
                                   id="retention", replace_existing=True, coalesce=True, max_instances=1)
        self._started = False
        self._last_follow_up: datetime | None = None
        self._last_kpi_digest: datetime | None = None
        self._last_calendar: datetime | None = None

    @property
    def url(self) -> str:
        assert self.http is not None
        return self.http.url

    def _run_actions(self) -> None:
        report = self.actions.run_due()
        if report.done or report.failed:
            self.worker.wake()  # the card and its thread changed: send them without waiting for the tick

    def _reload_rules_if_changed(self) -> None:
        problems = self.options.rules.reload_if_changed()
        if problems:
            ws, now = self.options.workspace, self.options.clock.now()
            text = t("rules_reload_refused", ws.brand.language,
                     problems="\n".join(f"• {escape(str(p))}" for p in problems[:10]))
            # Keyed by what was refused, not when: every replica reloads its own rules, the admins hear it once.
            digest = hashlib.sha256(text.encode()).hexdigest()[:16]
            with session_scope(self.engine) as session:
                enqueue_message(session, key=f"rules-refused:{digest}", now=now, blocks=[], text=text,
                                channel=ws.channels.admin or ws.channels.alerts or ws.channels.triage)
            self.worker.wake()

    def _purge_expired(self) -> None:
        # Bounded per run (the next run goes on), so a first purge over years of data never hogs the lease.
        purge_expired(self.engine, self.options.workspace, self.options.clock.now(), max_batches=200)

    def _reset_buzz(self) -> None:
        self.buzz = BuzzWatch(engine=self.engine, workspace=self.options.workspace, config=self.buzz.config)

    def _watch_buzz(self) -> None:
        if self.buzz.run(self.options.clock.now()):
            self.worker.wake()  # an incident opened or grew: its card and pages are queued

    def _follow_up_tasks(self) -> None:
        ws = self.options.workspace
        now = self.options.clock.now()
        # Every few minutes, not at every wake-up: follow-ups are grouped per pass, so fewer passes, fewer messages.
        if self._last_follow_up is not None and now - self._last_follow_up < FOLLOW_UP_EVERY:
            return
        self._last_follow_up = now
        with session_scope(self.engine) as session:
            sent = follow_up(session, now=self.options.clock.now(), lang=ws.brand.language,
                             channel=ws.channels.alerts or ws.channels.triage)
        if sent:
            self.worker.wake()

    def _kpi_digest(self) -> None:
        now = self.options.clock.now()
        # Once a minute is plenty: the digest is due once a week and keyed by its week (monitors/kpi_digest.py).
        if self._last_kpi_digest is not None and now - self._last_kpi_digest < KPI_DIGEST_EVERY:
            return
        self._last_kpi_digest = now
        if run_weekly_digest(self.engine, self.options.workspace, now=now, client=self.client):
            self.worker.wake()

    def _calendar_reminders(self) -> None:
        now = self.options.clock.now()
        if self._last_calendar is not None and now - self._last_calendar < CALENDAR_EVERY:
            return
        self._last_calendar = now
        if remind_due_posts(self.engine, self.options.workspace, now):
            self.worker.wake()

    def _run_escalations(self) -> None:
        if run_escalations(self.engine, self.options.workspace, self.options.clock.now()):
            self.worker.wake()

    def start(self, *, poll: bool = True) -> None:
        # Rows a dead process left in flight are recovered by whichever replica takes their lease (on_acquire).
        self.coordinator.start()
        self.worker.start()
        if self.http is not None:
            self.http.start()
        if poll:
            self.scheduler.start()
        self._started = True

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.http is not None:
            self.http.stop()
        self.worker.stop()
        self.coordinator.stop()  # leases released: another replica takes the jobs over at once
        self.engine.dispose()
        self._started = False
