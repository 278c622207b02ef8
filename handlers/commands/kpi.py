"""`/kpi [period] [network] [public]`, `/kpi posts [period] [network]`, and the `chart` / `roi` subcommands.

The answer is ephemeral unless `public` is given: figures about the team's work are shared on purpose, not by
accident. `chart` and `roi` live in `handlers.commands.kpi_extra` (loaded when present).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlmodel import Session

from bot.db import reader
from bot.deps import Deps
from bot.errors import UserError
from bot.messages import t
from bot.render.kpi import render_posts, render_report
from bot.services import kpi
from bot.services.kpi_posts import posts_report
from bot.workspace import NETWORKS
from handlers.commands.usage import reject_unknown

DEFAULT_PERIOD = "7d"
DEFAULT_POSTS_PERIOD = "90d"  # posts are few: a longer default gives each hour and format a usable sample
HELP = ("help", "aide")
PUBLIC = ("public", "publique")
KNOWN = ("", "7d", "24h", "30d", "90d", "week", "month", "posts", "chart", "roi", "public", "help", *NETWORKS)


@dataclass(frozen=True, slots=True)
class KpiRequest:
    period: kpi.Period
    network: str | None
    public: bool


def parse(args: list[str], deps: Deps, *, default: str = DEFAULT_PERIOD) -> KpiRequest | str:
    """The period, network and visibility asked for, or the first word we could not read."""
    now, tz = deps.clock.now(), deps.workspace.brand.timezone
    period, network, public = None, None, False
    for word in args:
        lowered = word.lower()
        if lowered in PUBLIC:
            public = True
        elif lowered in NETWORKS and network is None:
            network = lowered
        elif period is None and (found := kpi.parse_period(lowered, now=now, tz=tz, lang=deps.lang)) is not None:
            period = found
        else:
            return word
    if period is None:
        period = kpi.parse_period(default, now=now, tz=tz)
        assert period is not None  # our own defaults are valid periods
    return KpiRequest(period, network, public)


def _extra(name: str) -> Any:
    """A `kpi_extra` handler, or None when that module is not installed (yet)."""
    try:
        from handlers.commands import kpi_extra
    except ImportError:
        return None
    return getattr(kpi_extra, name, None)


def register(app: App, deps: Deps) -> None:
    @app.command("/kpi")
    def kpi_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()  # first: everything below may take longer than Slack's 3 seconds
        args = (command.get("text") or "").split()
        head = args[0].lower() if args else ""
        if head in HELP:
            respond(text=t("kpi_help", deps.lang), response_type="ephemeral")
            return
        if head in ("chart", "roi"):
            handler = _extra(f"handle_{head}")
            if handler is None:
                respond(text=t("kpi_extra_unavailable", deps.lang, what=head), response_type="ephemeral")
            elif head == "chart":
                handler(args[1:], command, respond, client, deps)
            else:
                handler(args[1:], command, respond, deps)
            return
        posts = head == "posts"
        try:
            request = parse(args[1:] if posts else args, deps,
                            default=DEFAULT_POSTS_PERIOD if posts else DEFAULT_PERIOD)
        except UserError as error:  # an impossible period: say how to write one
            respond(text=str(error), response_type="ephemeral")
            return
        if isinstance(request, str):
            reject_unknown("/kpi", request, known=KNOWN, respond=respond, deps=deps)
            return
        tz = deps.workspace.brand.timezone
        with Session(reader(deps.engine)) as session:
            if posts:
                rendered = render_posts(posts_report(session, request.period, tz=tz, network=request.network),
                                        lang=deps.lang, tz=tz)
            else:
                figures = kpi.report(session, request.period, workspace=deps.workspace, now=deps.clock.now(),
                                     network=request.network)
                rendered = render_report(figures, brand=deps.workspace.brand.name, lang=deps.lang, tz=tz)
        respond(text=rendered.text, blocks=rendered.blocks,
                response_type="in_channel" if request.public else "ephemeral")

