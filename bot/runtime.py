"""Assemble and run the whole bot: store, outbox worker, Slack app over HTTP, and the poll scheduler.

`veille run`, `veille demo` and the end-to-end tests all build the same `Runtime`; only the clock,
the sources and the Slack URL differ.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlmodel import Session, select

from bot import models
from bot.app import build_app
from bot.clock import Clock
from bot.db import make_engine
from bot.deps import Deps
from bot.http import HttpServer, build_asgi
from bot.migrate import upgrade
from bot.outbox import OutboxSender, OutboxWorker
from bot.render.cards import Rendered, render_card
from bot.sentiment import SentimentScorer
from bot.slack_client import make_client
from bot.workspace import Workspace
from monitors.schedule import ScheduledSource, build_scheduler
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


def card_renderer(workspace: Workspace):  # type: ignore[no-untyped-def]
    """The outbox's renderer: a card from its mention row, a one-off message from its payload."""

    def render(session: Session, row: models.OutboxMessage) -> Rendered:
        if row.kind != "card":
            return Rendered(str(row.payload.get("text", "")), list(row.payload.get("blocks") or []))
        mention = session.get(models.Mention, row.mention_id)
        if mention is None:
            raise LookupError(f"outbox {row.key}: mention {row.mention_id} is gone")
        author = session.get(models.Author, mention.author_id)
        assert author is not None
        owner = session.exec(
            select(models.Assignment.owner).where(models.Assignment.mention_id == mention.id,
                                                  models.Assignment.active == True)  # noqa: E712
            .order_by(models.Assignment.id.desc())  # type: ignore[union-attr]
        ).first()
        return render_card(mention, author, owner, lang=workspace.brand.language, tz=workspace.brand.timezone)

    return render


class Runtime:
    """Everything `veille run` needs, started and stopped together."""

    def __init__(self, options: RuntimeOptions) -> None:
        self.options = options
        self.engine = make_engine(options.database_url)
        # The app upgrades the schema on start: a new version never runs on an old schema.
        upgrade(self.engine)
        self.client = make_client(options.token, options.slack_api_url)
        self.sender = OutboxSender(engine=self.engine, client=self.client, clock=options.clock,
                                   render=card_renderer(options.workspace))
        self.worker = OutboxWorker(self.sender, idle_s=options.outbox_idle_s)
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

    def start(self, *, poll: bool = True) -> None:
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
