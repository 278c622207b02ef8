"""`/kpi chart [metric] [period] [network]` and `/kpi roi [period] [campaign]`, called by `handlers.commands.kpi`.

The caller has already acknowledged the command. A chart takes matplotlib a few hundred milliseconds and an
upload a few Slack calls, so both run on a small worker pool after the ack: Slack's 3-second limit never
waits for them, and the chart appears in the channel the command came from. Problems reach the user
ephemerally: a usage line for words we cannot read, "invite @Veille" when the bot is not in the channel.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from rapidfuzz import process
from slack_sdk import WebClient
from sqlmodel import Session

from bot.db import reader
from bot.deps import Deps
from bot.errors import SlackDeliveryError, UserError
from bot.messages import t
from bot.render.charts import METRICS, chart_days, kpi_chart_png, span_label
from bot.render.escape import escape, truncate
from bot.render.roi import render_roi
from bot.services import kpi
from bot.services.kpi_upload import upload_chart
from bot.services.roi import campaign_summary
from bot.workspace import NETWORKS

logger = logging.getLogger(__name__)

DEFAULT_METRIC = "volume"
DEFAULT_PERIOD = "30d"
METRIC_ALIASES = {"réponse": "response", "reponse": "response", "mentions": "volume"}
# Rendering is CPU work on a small machine: two charts at a time at most, the others queue.
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kpi-chart")
Respond = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class ChartRequest:
    metric: str
    period: kpi.Period
    network: str | None


def _zone(deps: Deps) -> str:
    """The KPIs' time zone (`kpi.timezone`, default the brand's): the days of charts and ROI are the team's days."""
    return str(getattr(deps.workspace, "kpi_timezone", None) or deps.workspace.brand.timezone)


def _usage_error(word: str, choices: list[str], deps: Deps, usage_key: str) -> UserError:
    guess = process.extractOne(word.lower(), choices, score_cutoff=60)
    hint = t("did_you_mean", deps.lang, suggestion=guess[0]) if guess else ""
    return UserError(t("chart_unknown_arg", deps.lang, arg=truncate(escape(word), 60), hint=hint) + "\n"
                     + t(usage_key, deps.lang))


def parse_chart(args: list[str], deps: Deps) -> ChartRequest:
    """Metric, period and network in any order (each at most once); defaults volume, 30d, all networks.

    Raises:
        UserError: a word that is none of them, or a period out of range, with the usage line.
    """
    now, tz = deps.clock.now(), _zone(deps)
    metric: str | None = None
    period: kpi.Period | None = None
    network: str | None = None
    for word in args:
        lowered = word.lower()
        lowered = METRIC_ALIASES.get(lowered, lowered)
        if metric is None and lowered in METRICS:
            metric = lowered
        elif network is None and lowered in NETWORKS:
            network = lowered
        elif period is None and (found := kpi.parse_period(lowered, now=now, tz=tz, lang=deps.lang)) is not None:
            period = found
        else:
            raise _usage_error(word, [*METRICS, *NETWORKS, "7d", "30d", "month"], deps, "chart_usage")
    if period is None:
        period = kpi.parse_period(DEFAULT_PERIOD, now=now, tz=tz)
        assert period is not None  # our own default is a valid period
    return ChartRequest(metric or DEFAULT_METRIC, period, network)


def draw_and_upload(request: ChartRequest, *, channel: str, respond: Respond, client: WebClient, deps: Deps) -> None:
    """Render the chart and share it in `channel`; tell the user privately if that fails (runs after the ack)."""
    tz = _zone(deps)
    try:
        with Session(reader(deps.engine)) as session:
            png = kpi_chart_png(session, request.metric, request.period.start, request.period.end,
                                network=request.network, tz=tz, lang=deps.lang)
        span = span_label(chart_days(request.period.start, request.period.end, tz), deps.lang)
        title = t("chart_file_title", deps.lang, metric=t(f"chart_title_{request.metric}", deps.lang), span=span)
        upload_chart(client, channel, png, title)
    except SlackDeliveryError as exc:
        logger.warning("kpi chart: upload to %s refused: %s", channel, exc.code)
        text = (t("chart_not_in_channel", deps.lang) if exc.code in ("not_in_channel", "channel_not_found")
                else t("chart_upload_failed", deps.lang, code=escape(exc.code)))
        _tell(respond, text)
    except Exception:  # noqa: BLE001 - in a worker thread nobody else would see it: log with an id, tell the user
        correlation_id = uuid.uuid4().hex[:12]
        logger.exception("kpi chart failed", extra={"correlation_id": correlation_id})
        _tell(respond, t("chart_failed", deps.lang, cid=correlation_id))


def _tell(respond: Respond, text: str) -> None:
    try:
        respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception:  # noqa: BLE001 - the response_url expired or Slack is down: the log is all we have
        logger.exception("kpi chart: could not tell the user")


def handle_chart(args: list[str], command: dict[str, Any], respond: Respond, client: WebClient,
                 deps: Deps) -> None:
    """`/kpi chart`: check the words now (usage errors at once), draw and upload after the ack on the worker pool."""
    try:
        request = parse_chart(args, deps)
    except UserError as exc:
        respond(text=str(exc), response_type="ephemeral")
        return
    respond(text=t("chart_on_its_way", deps.lang), response_type="ephemeral")
    _POOL.submit(draw_and_upload, request, channel=command["channel_id"], respond=respond, client=client, deps=deps)


def parse_roi(args: list[str], deps: Deps) -> tuple[kpi.Period, str | None]:
    """The period (first word, when it is one; default 30d) and the campaign (the remaining words)."""
    now, tz = deps.clock.now(), _zone(deps)
    words = list(args)
    period = kpi.parse_period(words[0].lower(), now=now, tz=tz, lang=deps.lang) if words else None
    if period is not None:
        words = words[1:]
    else:
        period = kpi.parse_period(DEFAULT_PERIOD, now=now, tz=tz)
        assert period is not None
    campaign = " ".join(words).strip() or None
    return period, campaign


def handle_roi(args: list[str], command: dict[str, Any], respond: Respond, deps: Deps) -> None:
    """`/kpi roi [period] [campaign]`: each campaign's CTR, conversion rate and cost per lead against objectives."""
    if args and args[0].lower() in ("help", "aide"):
        respond(text=t("roi_usage", deps.lang), response_type="ephemeral")
        return
    try:
        period, campaign = parse_roi(args, deps)
    except UserError as exc:
        respond(text=f"{exc}\n{t('roi_usage', deps.lang)}", response_type="ephemeral")
        return
    tz = _zone(deps)
    with Session(reader(deps.engine)) as session:
        summary = campaign_summary(session, period.start, period.end, workspace=deps.workspace, tz=tz,
                                   campaign=campaign)
    rendered = render_roi(summary, lang=deps.lang,
                          span=span_label(chart_days(period.start, period.end, tz), deps.lang))
    respond(text=rendered.text, blocks=rendered.blocks, response_type="ephemeral")
