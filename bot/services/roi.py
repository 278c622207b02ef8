"""Campaign ROI: store pushed or imported campaign results, and compute CTR, conversion rate and cost per lead.

A result row is one campaign's totals for one day, optionally for one network ("all" otherwise), as the
ad platform reports them. A row sent again for the same (campaign, day, network) replaces the stored one:
platforms revise their figures for days, and a replay must never count twice.

Units, shared with the SMART objectives (`bot.workspace.Objective`): ctr and conversion_rate are fractions
(0.02 = 2 %), cost_per_lead is in the workspace's ROI currency. Definitions:
    ctr = clicks / impressions, conversion_rate = conversions / clicks, cost_per_lead = spend / leads,
each None when its denominator is zero (no figure rather than a misleading 0 or infinity).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot import models

METRICS = ("ctr", "conversion_rate", "cost_per_lead")
COUNTS = ("impressions", "clicks", "conversions", "leads")
MAX_COUNT = 10**15
MAX_SPEND = Decimal("1e12")
NETWORK = r"^[a-z0-9][a-z0-9_-]{0,19}$"
_CHUNK = 500


class ResultIn(BaseModel):
    """One campaign result as senders write it (webhook JSON object or CSV line)."""

    model_config = ConfigDict(extra="forbid")

    campaign: str = Field(min_length=1, max_length=100)
    day: date
    network: str = Field(default="all", pattern=NETWORK)
    impressions: int = Field(default=0, ge=0, le=MAX_COUNT)
    clicks: int = Field(default=0, ge=0, le=MAX_COUNT)
    conversions: int = Field(default=0, ge=0, le=MAX_COUNT)
    leads: int = Field(default=0, ge=0, le=MAX_COUNT)
    spend: Decimal = Field(default=Decimal(0), ge=0, le=MAX_SPEND)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")

    @field_validator("campaign")
    @classmethod
    def _campaign(cls, value: str) -> str:
        value = value.strip()
        if not value or any(ord(c) < 32 for c in value):
            raise ValueError("must be a non-empty name without control characters")
        return value

    @field_validator("day", mode="before")
    @classmethod
    def _iso_day(cls, value: Any) -> Any:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError("must be a date like 2026-11-20 (YYYY-MM-DD)")
        return value.strip()

    @field_validator("impressions", "clicks", "conversions", "leads", mode="before")
    @classmethod
    def _whole(cls, value: Any) -> Any:
        # JSON floats like 12.0 and booleans are sender bugs worth showing, not silently truncating.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number like 120")
        return value

    @field_validator("spend", mode="before")
    @classmethod
    def _money(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("must be an amount like 250.40")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise ValueError("must be an amount like 250.40") from None
        if not amount.is_finite():
            raise ValueError("must be an amount like 250.40")
        return amount


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    stored: int  # new rows
    updated: int  # rows that replaced an earlier push of the same campaign, day and network


def cents(amount: Decimal) -> int:
    """An amount in cents, rounded half up (platforms report micro-units; we report cents)."""
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _upsert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def store_results(session: Session, results: Sequence[ResultIn], *, source: str, currency: str,
                  now: datetime) -> StoreOutcome:
    """Insert or replace each result by (campaign, day, network); within one batch the last one wins."""
    latest: dict[tuple[str, date, str], ResultIn] = {}
    for result in results:
        latest[(result.campaign, result.day, result.network)] = result
    keys = list(latest)
    existing = 0
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start:start + _CHUNK]
        existing += session.exec(select(func.count()).select_from(models.CampaignResult).where(
            tuple_(col(models.CampaignResult.campaign), col(models.CampaignResult.day),
                   col(models.CampaignResult.network)).in_(chunk))).one()
    insert = _upsert(session)
    table = models.CampaignResult.__table__  # type: ignore[attr-defined]
    rows = [{"campaign": r.campaign, "day": r.day, "network": r.network, "impressions": r.impressions,
             "clicks": r.clicks, "conversions": r.conversions, "leads": r.leads, "spend_cents": cents(r.spend),
             "currency": currency, "source": source, "updated_at": now} for r in latest.values()]
    for start in range(0, len(rows), _CHUNK):
        statement = insert(table).values(rows[start:start + _CHUNK])
        replaced = {name: statement.excluded[name] for name in
                    (*COUNTS, "spend_cents", "currency", "source", "updated_at")}
        session.execute(statement.on_conflict_do_update(index_elements=["campaign", "day", "network"],
                                                        set_=replaced))
    return StoreOutcome(stored=len(rows) - existing, updated=existing)


def wrong_currency(result: ResultIn, currency: str) -> str | None:
    """Why a result's currency is refused (spends in several currencies cannot be added up), or None."""
    if result.currency is not None and result.currency != currency:
        return f"currency {result.currency} differs from the workspace's {currency} (roi.currency); convert first"
    return None


# ---------------------------------------------------------------------------------------------
# Figures


def days_in(start: datetime, end: datetime, tz: str) -> tuple[date, date]:
    """The days [first, last) whose midnight, in the time zone `tz` (the team's), falls in [start, end).

    So "the last 30 days" ending today at 09:00 counts today and the 29 days before: each day once.
    """
    zone = ZoneInfo(tz)
    start, local_end = start.astimezone(zone), end.astimezone(zone)
    first = start.date() + timedelta(days=0 if start.timetz().replace(tzinfo=None) == time(0) else 1)
    last = local_end.date() + timedelta(days=0 if local_end.timetz().replace(tzinfo=None) == time(0) else 1)
    return first, max(first, last)


@dataclass(frozen=True, slots=True)
class Totals:
    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    leads: int = 0
    spend_cents: int = 0

    @property
    def spend(self) -> float:
        return self.spend_cents / 100

    def metric(self, name: str) -> float | None:
        """ctr, conversion_rate or cost_per_lead; None when the denominator is zero."""
        if name == "ctr":
            return self.clicks / self.impressions if self.impressions else None
        if name == "conversion_rate":
            return self.conversions / self.clicks if self.clicks else None
        if name == "cost_per_lead":
            return self.spend_cents / 100 / self.leads if self.leads else None
        raise ValueError(f"unknown ROI metric {name!r}; expected one of {', '.join(METRICS)}")


def _sums() -> tuple[Any, ...]:
    r = models.CampaignResult
    return tuple(func.coalesce(func.sum(getattr(r, name)), 0) for name in (*COUNTS, "spend_cents"))


def _where(first: date, last: date, network: str | None, campaign: str | None = None) -> list[Any]:
    r = models.CampaignResult
    clauses = [col(r.day) >= first, col(r.day) < last]
    if network is not None:
        clauses.append(col(r.network) == network)
    if campaign is not None:
        clauses.append(col(r.campaign) == campaign)
    return clauses


def totals(session: Session, start: datetime, end: datetime, network: str | None = None,
           campaign: str | None = None, *, tz: str) -> Totals:
    """Summed results over the days of [start, end) in the time zone `tz` (see `days_in`)."""
    first, last = days_in(start, end, tz)
    row = session.exec(select(*_sums()).where(*_where(first, last, network, campaign))).one()
    return Totals(*(int(v) for v in row))


def roi_metric(session: Session, metric: str, start: datetime, end: datetime,
               network: str | None = None, *, tz: str) -> float | None:
    """ctr, conversion_rate (fractions) or cost_per_lead (currency) over all campaigns; None: denominator zero.

    Result rows are per day: the days counted are those whose midnight, in the team's time zone `tz`, falls in
    [start, end) (`days_in`).
    """
    if metric not in METRICS:
        raise ValueError(f"unknown ROI metric {metric!r}; expected one of {', '.join(METRICS)}")
    return totals(session, start, end, network, tz=tz).metric(metric)


@dataclass(frozen=True, slots=True)
class Verdict:
    metric: str
    value: float | None
    target: float
    lower_is_better: bool

    @property
    def met(self) -> bool | None:
        """True when the figure reaches the target; None when there is no figure yet."""
        if self.value is None:
            return None
        return self.value <= self.target if self.lower_is_better else self.value >= self.target


@dataclass(frozen=True, slots=True)
class CampaignFigures:
    campaign: str
    totals: Totals
    verdicts: dict[str, Verdict] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RoiSummary:
    first_day: date
    last_day: date  # inclusive, for display
    currency: str
    campaigns: list[CampaignFigures]
    overall: CampaignFigures


def _targets(objectives: Iterable[Any], per_campaign: Mapping[str, Mapping[str, float]], campaign: str | None,
             network: str | None) -> dict[str, tuple[float, bool]]:
    """metric -> (target, lower is better): the campaign's own targets, else the workspace objectives."""
    found: dict[str, tuple[float, bool]] = {}
    for objective in objectives:
        metric = getattr(objective, "metric", None)
        if metric in METRICS and getattr(objective, "network", None) in (None, network):
            found[metric] = (float(objective.target), metric == "cost_per_lead")
    if campaign is not None:
        for metric, target in (per_campaign.get(campaign) or {}).items():
            found[metric] = (float(target), metric == "cost_per_lead")
    return found


def _figures(name: str, tot: Totals, targets: dict[str, tuple[float, bool]]) -> CampaignFigures:
    verdicts = {metric: Verdict(metric, tot.metric(metric), target, lower)
                for metric, (target, lower) in targets.items()}
    return CampaignFigures(name, tot, verdicts)


def campaign_summary(session: Session, start: datetime, end: datetime, *, workspace: Any, tz: str,
                     campaign: str | None = None, network: str | None = None, limit: int = 200) -> RoiSummary:
    """Each campaign's totals, rates and verdicts against its objectives over the days of [start, end) in the
    time zone `tz` (see `days_in`), biggest spend first."""
    first, last = days_in(start, end, tz)
    r = models.CampaignResult
    rows = session.exec(select(r.campaign, *_sums()).where(*_where(first, last, network, campaign))
                        .group_by(r.campaign).order_by(func.sum(r.spend_cents).desc(), r.campaign)
                        .limit(limit)).all()
    roi = getattr(workspace, "roi", None)
    per_campaign = getattr(roi, "objectives", {}) or {}
    objectives = getattr(workspace, "objectives", []) or []
    campaigns = [_figures(name, Totals(*(int(v) for v in sums)), _targets(objectives, per_campaign, name, network))
                 for name, *sums in rows]
    overall_totals = totals(session, start, end, network, campaign, tz=tz)
    overall = _figures(campaign or "", overall_totals, _targets(objectives, per_campaign, campaign, network))
    return RoiSummary(first, last - timedelta(days=1), getattr(roi, "currency", "EUR"), campaigns, overall)


# ---------------------------------------------------------------------------------------------
# CSV import


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    stored: int
    updated: int
    errors: list[LineError]


CSV_COLUMNS = ("campaign", "day", "network", *COUNTS, "spend", "currency")
_ALIASES = {"date": "day", "cost": "spend", "impr": "impressions"}


def _cell(name: str, raw: str) -> Any:
    """A CSV cell as the JSON value the model expects (numbers typed; "1 234" and "12,50" read as people write)."""
    value = raw.strip()
    if value == "":
        return None
    if name in COUNTS:
        compact = value.replace(" ", "").replace("\u202f", "").replace("\u00a0", "")
        return int(compact) if re.fullmatch(r"\d+", compact) else value
    if name == "spend":
        compact = value.replace(" ", "").replace("\u202f", "").replace("\u00a0", "")
        if "," in compact and "." not in compact:
            compact = compact.replace(",", ".")  # French decimal comma
        return compact
    return value


_FIXES = {
    "campaign": "give the campaign's name",
    "day": "write the day as YYYY-MM-DD, like 2026-11-20",
    "network": "use a lowercase network name like instagram, or leave it empty for all networks",
    "spend": "write an amount like 250.40 (no currency sign)",
    "currency": "write the workspace's currency code, or leave it empty",
}


def parse_csv(text: str, *, currency: str) -> tuple[list[ResultIn], list[LineError]]:
    """Read a results CSV (header line first; `,`, `;` or tab separated): the valid lines and each bad one."""
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample.splitlines()[0] if sample else "", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        return [], [LineError(1, "(header)", "the file is empty; the first line must name the columns: "
                              + ", ".join(CSV_COLUMNS))]
    names = [_ALIASES.get(h.strip().lower().lstrip("\ufeff"), h.strip().lower().lstrip("\ufeff")) for h in header]
    errors: list[LineError] = []
    for name in names:
        if name not in CSV_COLUMNS:
            errors.append(LineError(1, name or "(empty)", f"unknown column; the columns are {', '.join(CSV_COLUMNS)}"))
    for required in ("campaign", "day"):
        if required not in names:
            errors.append(LineError(1, required, "required column is missing from the header line; add it"))
    if errors:
        return [], errors
    results: list[ResultIn] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            errors.append(LineError(line, "(line)", f"has {len(row)} cells but the header has {len(names)}; "
                                    "check for a missing or extra separator"))
            continue
        data = {name: _cell(name, raw) for name, raw in zip(names, row, strict=True)}
        data = {name: value for name, value in data.items() if value is not None}
        try:
            result = ResultIn.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                column = str(error["loc"][0]) if error["loc"] else "(line)"
                message = str(error["msg"]).removeprefix("Value error, ")
                fix = _FIXES.get(column, "write a whole number like 120")
                errors.append(LineError(line, column, f"{message}; {fix}"))
            continue
        refused = wrong_currency(result, currency)
        if refused:
            errors.append(LineError(line, "currency", refused))
            continue
        results.append(result)
    return results, errors


def import_csv(session: Session, text: str, *, currency: str, now: datetime, source: str = "csv") -> ImportReport:
    """Store every valid line of a results CSV (idempotent: importing it again changes nothing)."""
    results, errors = parse_csv(text, currency=currency)
    outcome = store_results(session, results, source=source, currency=currency, now=now)
    return ImportReport(outcome.stored, outcome.updated, errors)
