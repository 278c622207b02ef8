"""SMART objectives from the config: each metric measured over a period, a linear projection, and a verdict.

The rule, stated once (tests/test_kpi_objectives.py checks it by hand):

- `current` is the metric over the report's period, `previous` over the period of the same length before it
  (measured only for an objective with a deadline: it only serves the projection).
- The projection extends that change linearly to the deadline (end of the deadline day, brand time zone):
  `projected = current + (current - previous) / period_days * days_left`, bounded to the metric's range.
  Without a previous value or a deadline, `projected = current`.
- Verdict: `on_track` when the projection meets the target (>= target; <= for lower-is-better metrics:
  median_first_response_min, cost_per_lead), else `at_risk`. Once the deadline day is over: `met` or `missed` on
  the current value. `no_data` when the period has nothing to measure; `unavailable` when the ROI figures are not
  installed.
- Progress: current / target (target / current for lower-is-better), capped at 100 %.

Units: rates and share of voice are fractions (0.8 = 80 %), net sentiment is in -1..1, posts_per_day and volume
are per day, avg_likes is likes per post, median_first_response_min is minutes, cost_per_lead is money per lead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import models
from bot.services import kpi
from bot.workspace import Objective, Workspace

logger = logging.getLogger(__name__)

ROI_METRICS = ("ctr", "conversion_rate", "cost_per_lead")
# An objective's `format` and the media types the connectors store for it (a carousel is photos).
FORMATS: dict[str, tuple[str, ...]] = {"status": ("status",), "image": ("image", "carousel"), "video": ("video",),
                                       "link": ("link",)}
BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "response_rate": (0.0, 1.0), "share_of_voice": (0.0, 1.0), "ctr": (0.0, 1.0), "conversion_rate": (0.0, 1.0),
    "net_sentiment": (-1.0, 1.0)}


class RoiUnavailable(Exception):
    """The ROI figures (bot.services.roi) are not installed."""


@dataclass(frozen=True, slots=True)
class ObjectiveStatus:
    objective: Objective
    current: float | None
    previous: float | None
    projected: float | None
    progress: float | None  # 0..1
    verdict: str  # on_track | at_risk | met | missed | no_data | unavailable
    days_left: float | None


# Figures already computed for the report, by (what, period, network): "figures" or "median".
FigureCache = dict[tuple[str, kpi.Period, str | None], Any]


def _figures(session: Session, cache: FigureCache, period: kpi.Period, network: str | None) -> kpi.MentionFigures:
    key = ("figures", period, network)
    if key not in cache:
        cache[key] = kpi.mention_figures(session, period, network)
    return cache[key]  # type: ignore[no-any-return]


def _median(session: Session, cache: FigureCache, period: kpi.Period, network: str | None) -> float | None:
    key = ("median", period, network)
    if key not in cache:
        cache[key] = kpi.median_first_response_min(session, period, network)
    return cache[key]  # type: ignore[no-any-return]


def _own_posts(objective: Objective, period: kpi.Period) -> list[Any]:
    post = models.OwnPost
    where = [col(post.created_at) >= period.start, col(post.created_at) < period.end]
    if objective.network:
        where.append(col(post.network) == objective.network)
    if objective.format:
        where.append(col(post.media_type).in_(FORMATS[objective.format]))
    return where


def measure(session: Session, objective: Objective, period: kpi.Period, *, workspace: Workspace,
            cache: FigureCache) -> float | None:
    """The objective's metric over `period` (None when there is nothing to measure)."""
    metric, network = objective.metric, objective.network
    if metric == "posts_per_day":
        n = session.exec(select(func.count()).select_from(models.OwnPost).where(*_own_posts(objective, period))).one()
        return n / period.days
    if metric == "avg_likes":
        value = session.exec(select(func.avg(models.OwnPost.likes)).where(
            *_own_posts(objective, period), col(models.OwnPost.likes).is_not(None))).one()
        return float(value) if value is not None else None
    if metric == "median_first_response_min":
        return _median(session, cache, period, network)
    if metric in ROI_METRICS:
        try:
            from bot.services.roi import roi_metric
        except ImportError:
            raise RoiUnavailable() from None
        # Result rows are per day: the team's days, as `/kpi roi` counts them.
        return roi_metric(session, metric, period.start, period.end, network=network, tz=workspace.kpi_timezone)
    figures = _figures(session, cache, period, network)
    if metric == "volume":
        return figures.volume / period.days
    if metric == "response_rate":
        return figures.response_rate
    if metric == "net_sentiment":
        return figures.net_sentiment
    if metric == "share_of_voice":
        return figures.share_of_voice(workspace.listened_competitors)
    raise ValueError(f"unknown objective metric {metric!r}")


def _bounded(metric: str, value: float) -> float:
    low, high = BOUNDS.get(metric, (0.0, None))
    if low is not None:
        value = max(low, value)
    if high is not None:
        value = min(high, value)
    return value


def _meets(objective: Objective, value: float) -> bool:
    return value <= objective.target if objective.lower_is_better else value >= objective.target


def _progress(objective: Objective, current: float) -> float | None:
    if objective.lower_is_better:
        return 1.0 if current <= objective.target else (objective.target / current if current > 0 else None)
    if objective.target <= 0:
        return 1.0 if current >= objective.target else None
    return max(0.0, min(1.0, current / objective.target))


def evaluate(session: Session, objective: Objective, *, workspace: Workspace, period: kpi.Period, now: datetime,
             cache: FigureCache | None = None) -> ObjectiveStatus:
    """Measure an objective over the period and the one before, project it to its deadline, give a verdict."""
    cache = {} if cache is None else cache
    days_left = None
    if objective.deadline is not None:
        zone = ZoneInfo(workspace.brand.timezone)
        deadline_end = datetime.combine(objective.deadline + timedelta(days=1), time(), zone)
        days_left = (deadline_end - now) / timedelta(days=1)
    try:
        current = measure(session, objective, period, workspace=workspace, cache=cache)
        # The previous period only serves the projection to a deadline: not measured without one.
        previous = measure(session, objective, period.previous(), workspace=workspace, cache=cache) \
            if objective.deadline is not None else None
    except RoiUnavailable:
        return ObjectiveStatus(objective, None, None, None, None, "unavailable", days_left)
    if current is None:
        return ObjectiveStatus(objective, None, previous, None, None, "no_data", days_left)
    progress = _progress(objective, current)
    if days_left is not None and days_left <= 0:
        return ObjectiveStatus(objective, current, previous, current, progress,
                               "met" if _meets(objective, current) else "missed", days_left)
    projected = current
    if previous is not None and days_left is not None:
        projected = _bounded(objective.metric, current + (current - previous) / period.days * days_left)
    verdict = "on_track" if _meets(objective, projected) else "at_risk"
    return ObjectiveStatus(objective, current, previous, projected, progress, verdict, days_left)


def evaluate_all(session: Session, *, workspace: Workspace, period: kpi.Period, now: datetime,
                 figures: FigureCache | None = None) -> list[ObjectiveStatus]:
    """Every objective of the config, in the config's order."""
    cache = {} if figures is None else figures
    return [evaluate(session, o, workspace=workspace, period=period, now=now, cache=cache)
            for o in workspace.objectives]
