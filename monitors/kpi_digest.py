"""The weekly KPI digest: the past week's report posted once per week (Monday 9:00 by default), then its chart.

Exactly once, even when the job runs twice or on two replicas:
- the text goes through the outbox under the key `kpi-digest:<ISO year>-W<week>` (a second enqueue is a no-op);
- the chart (a file upload, which the outbox does not carry) is uploaded by whoever first claims the key
  `kpi-digest-chart:<ISO week>` in `processed_requests` (a primary key: one claim wins), and only after the text
  was sent, so it lands under it. A failed upload releases its claim and is tried again on the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot import models
from bot.db import reader, session_scope
from bot.messages import t
from bot.outbox import enqueue_message
from bot.render.kpi import render_report
from bot.services import kpi
from bot.workspace import Workspace

logger = logging.getLogger(__name__)

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# A digest missed by more than this (the bot was down) is skipped: a Thursday "weekly" digest misleads.
GRACE = timedelta(hours=12)
CHART_METRIC = "volume"


@dataclass(frozen=True, slots=True)
class Slot:
    """One week's digest: when it is due, the week it reports on, and its idempotency keys."""

    due: datetime
    period: kpi.Period
    week: str  # "2026-W48"

    @property
    def key(self) -> str:
        return f"kpi-digest:{self.week}"

    @property
    def chart_key(self) -> str:
        return f"kpi-digest-chart:{self.week}"


def latest_slot(workspace: Workspace, now: datetime) -> Slot:
    """The most recent digest time at or before `now`, and the 7 local days before that day."""
    config, zone = workspace.kpi, ZoneInfo(workspace.kpi_timezone)
    local = now.astimezone(zone)
    hour, minute = (int(x) for x in config.digest_time.split(":"))
    day = local.date() - timedelta(days=(local.weekday() - DAYS.index(config.digest_day)) % 7)
    due = datetime.combine(day, time(hour, minute), zone)
    if due > now:
        day -= timedelta(days=7)
        due = datetime.combine(day, time(hour, minute), zone)
    iso = day.isocalendar()
    start, end = datetime.combine(day - timedelta(days=7), time(), zone), datetime.combine(day, time(), zone)
    label = t("kpi_digest_period", workspace.brand.language, start=f"{start:%d/%m}",
              end=f"{end - timedelta(days=1):%d/%m}")
    return Slot(due, kpi.Period(start, end, label), f"{iso.year}-W{iso.week:02d}")


def run_weekly_digest(engine: Engine, workspace: Workspace, *, now: datetime, client: Any = None) -> bool:
    """Queue this week's digest if it is due and not queued yet, then upload its chart once the text is out.

    Returns True when something was queued or uploaded (the caller wakes the outbox).
    """
    if not workspace.kpi.enabled:
        return False
    slot = latest_slot(workspace, now)
    if now - slot.due > GRACE:
        return False
    lang, tz, channel = workspace.brand.language, workspace.kpi_timezone, workspace.kpi_channel
    # The report is read on a snapshot (`reader`): on SQLite a writing session would hold the write lock, and so
    # hold up ingestion, for as long as the report takes. Only the short enqueue writes.
    with Session(reader(engine)) as session:
        row = session.exec(select(models.OutboxMessage).where(models.OutboxMessage.key == slot.key)).first()
        if row is None:
            report = kpi.report(session, slot.period, workspace=workspace, now=now)
            rendered = render_report(report, brand=workspace.brand.name, lang=lang, tz=tz)
    if row is None:
        title = t("kpi_digest_title", lang, brand=workspace.brand.name, monday=f"{slot.period.start:%Y-%m-%d}")
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}}, *rendered.blocks[1:]]
        with session_scope(engine) as session:
            return enqueue_message(session, key=slot.key, channel=channel, text=title, blocks=blocks[:50], now=now)
    if row.status != "sent":
        return False  # the chart goes under the text: wait until the text is posted
    return _upload_chart(engine, workspace, slot, client=client, channel=row.channel_id or row.channel, now=now)


def _upload_chart(engine: Engine, workspace: Workspace, slot: Slot, *, client: Any, channel: str,
                  now: datetime) -> bool:
    if client is None:
        return False
    try:
        from bot.render.charts import kpi_chart_png
        from bot.services.kpi_upload import upload_chart
    except ImportError:
        return False  # charts not installed: the digest is text only
    try:
        with session_scope(engine) as session:
            session.add(models.ProcessedRequest(key=slot.chart_key, seen_at=now))
    except IntegrityError:
        return False  # uploaded already (or being uploaded by another replica)
    try:
        with Session(reader(engine)) as session:
            png = kpi_chart_png(session, CHART_METRIC, slot.period.start, slot.period.end, network=None,
                                tz=workspace.kpi_timezone, lang=workspace.brand.language)
        upload_chart(client, channel, png, t("kpi_digest_chart", workspace.brand.language, period=slot.period.label))
    except Exception:
        logger.exception("weekly KPI chart %s could not be uploaded; will retry", slot.week)
        with session_scope(engine) as session:
            claim = session.get(models.ProcessedRequest, slot.chart_key)
            if claim is not None:
                session.delete(claim)
        return False
    return True
