"""Assemble and run the whole bot: store, outbox worker, Slack app over HTTP, and the poll scheduler.

`veille run`, `veille demo` and the end-to-end tests all build the same `Runtime`; only the clock,
the sources and the Slack URL differ.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from bot import models
from bot.app import build_app
from bot.clock import Clock
from bot.db import make_engine
from bot.deps import Deps
from bot.flood import FloodPolicy
from bot.http import HttpServer, build_asgi
from bot.migrate import upgrade
from bot.network_actions import Executor, NetworkActionRunner
from bot.outbox import OutboxSender, OutboxWorker
from bot.render.outbox_render import OutboxRenderer
from bot.sentiment import SentimentScorer
from bot.slack_client import make_client
from bot.workspace import Workspace
from monitors.escalation import run_escalations
from monitors.schedule import ScheduledSource, build_scheduler
from monitors.sources.base import Mention, NotSupported
from monitors.webhooks import GenericHook, MetaHook, make_ingest, webhook_routes

logger = logging.getLogger(__name__)


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
    # (source name, mention, action) -> network id: how replies and hides reach the networks
    network_executor: Executor | None = None


def _no_connector(source: str, mention: Mention, action: models.NetworkAction) -> str | None:
    raise NotSupported(source, f"no connector can {action.kind} on {mention.network} for source '{source}'")


class Runtime:
    """Everything `veille run` needs, started and stopped together."""

    def __init__(self, options: RuntimeOptions) -> None:
        self.options = options
        self.engine = make_engine(options.database_url)
        # The app upgrades the schema on start: a new version never runs on an old schema.
        upgrade(self.engine)
        self.client = make_client(options.token, options.slack_api_url)
        triage = options.workspace.triage
        self.sender = OutboxSender(
            engine=self.engine, client=self.client, clock=options.clock,
            render=OutboxRenderer(options.workspace, options.clock),
            post_interval=timedelta(seconds=triage.post_interval_s),
            flood=FloodPolicy(threshold=triage.flood_threshold, similarity=triage.flood_similarity,
                              min_group=triage.flood_min_group),
        )
        self.actions = NetworkActionRunner(engine=self.engine, clock=options.clock, workspace=options.workspace,
                                           execute=options.network_executor or _no_connector)
        self.worker = OutboxWorker(self.sender, idle_s=options.outbox_idle_s,
                                   also=[self._run_actions, self._run_escalations])
        self.deps = Deps(workspace=options.workspace, engine=self.engine, clock=options.clock,
                         scorer=SentimentScorer(), wake_outbox=self.worker.wake)
        self.app = build_app(self.deps, client=self.client, signing_secret=options.signing_secret)
        hooks = webhook_routes(generic=options.webhooks, meta=options.meta_webhooks, ingest=make_ingest(self.deps),
                               clock=options.clock.now) if options.webhooks or options.meta_webhooks else []
        self.http = HttpServer(build_asgi(self.app, self.engine, extra_routes=hooks), host=options.host,
                               port=options.port) if options.serve_http else None
        self.scheduler = build_scheduler(self.deps, options.sources)
        self._started = False

    @property
    def url(self) -> str:
        assert self.http is not None
        return self.http.url

    def _run_actions(self) -> None:
        report = self.actions.run_due()
        if report.done or report.failed:
            self.worker.wake()  # the card and its thread changed: send them without waiting for the tick

    def _run_escalations(self) -> None:
        if run_escalations(self.engine, self.options.workspace, self.options.clock.now()):
            self.worker.wake()

    def start(self, *, poll: bool = True) -> None:
        self.actions.recover()
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
        self.engine.dispose()
        self._started = False
