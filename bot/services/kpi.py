"""KPI figures over a period, computed from the store with one aggregated query per figure.

Definitions (what `/kpi` and the weekly digest show; tests/test_kpi_figures.py checks each by hand):

- Every figure counts the brand's items only (`Mention.subject IS NULL`); competitor-listening items only feed
  share of voice. A period is `[start, end)`; an item belongs to it by `created_at` (its publication time).
- Volume: items in the period; trend: (volume - previous) / previous, the previous period being the one of the
  same length just before (None when it had no item).
- Sentiment shares: positive / neutral / negative over the volume; net sentiment = (positive - negative) / volume.
- Response rate: items the team responded to / items that called for a response. Responded = status `handled`
  (marked handled on the card, or answered or hidden through Veille, which marks it handled too). Items dismissed
  as not relevant, and past items backfilled on a source's first run (status `archived`, never shown to the team),
  are left out of both sides: they called for no response.
- First-response time: `handled_at - created_at` of each responded item (from when the author posted: the wait
  the author lived), rounded to the nearest minute; the median is over the period's responded items (the mean of
  the two middle ones for an even count). A reopened item handled again counts from its latest handling (the store
  keeps the handling that stands).
- Speed: whole UTC days are read from daily rollups kept exact by triggers (bot/services/kpi_rollup.py), the
  partial days at the period's ends from the rows.
- Consistency per engagement rule: `rules.engagement.consistency` over the tasks created in the period.
- Deadline breaches: tasks due in the period (not cancelled) done after their deadline (`late`) or still open
  past it (`missed`).
- Open / overdue by owner: the period's items still open, by their active assignment's owner; overdue = open for
  longer than `triage.overdue_after_h` (the App Home's rule).
- Top authors: most items in the period; influencers: authors of the period's items with a tier
  (`workspace.influencers`: a known account's tier, else the tier their follower count reaches).
- Share of voice: the brand's items / (brand + every competitor of `brand.competitors` that a source listens to).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal_column, or_
from sqlalchemy.engine import Engine
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from bot import models
from bot.db import reader
from bot.errors import UserError
from bot.messages import Lang, t
from bot.services import kpi_rollup
from bot.workspace import Workspace
from rules.engagement import Consistency, RuleConsistency, Tally
from rules.routing import InfluencerIndex

M = models.Mention
RELATIVE = re.compile(r"^(\d{1,3})([dhw])$")
RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
MAX_DAYS = 400
TOP = 5
PARALLEL = 4  # connections one report uses at most
# Statuses left out of the response rate: dismissed as not relevant, or backfilled history (never shown to the team).
NO_RESPONSE_EXPECTED = frozenset({"not_relevant", "archived"})


@dataclass(frozen=True, slots=True)
class Period:
    """`[start, end)`, with the label the user typed and the previous period of the same length."""

    start: datetime
    end: datetime
    label: str

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def days(self) -> float:
        return self.length / timedelta(days=1)

    def previous(self) -> Period:
        return Period(self.start - self.length, self.start, f"before {self.label}")


def parse_period(token: str, *, now: datetime, tz: str, lang: Lang = "en") -> Period | None:
    """`7d`, `24h`, `2w`, `week` (since Monday), `month` (since the 1st) or `2026-11-01..2026-11-15` (local days,
    both included); None if `token` is not a period. Relative periods are shifted by a microsecond, ending just
    after `now`, so an item stamped exactly now counts."""
    end = now + timedelta(microseconds=1)
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    if match := RELATIVE.match(token):
        n, unit = int(match[1]), match[2]
        length = {"d": timedelta(days=n), "h": timedelta(hours=n), "w": timedelta(weeks=n)}[unit]
        if n == 0 or length > timedelta(days=MAX_DAYS):
            raise UserError(t("kpi_bad_period", lang, period=token, max=MAX_DAYS))
        return Period(end - length, end, token)  # (now - length, now]: exact length, `now` included
    if token in ("week", "semaine"):
        monday = datetime.combine(local.date() - timedelta(days=local.weekday()), time(), zone)
        return Period(monday, end, token)
    if token in ("month", "mois"):
        first = datetime.combine(local.date().replace(day=1), time(), zone)
        return Period(first, end, token)
    if match := RANGE.match(token):
        try:
            first_day, last_day = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        except ValueError:
            raise UserError(t("kpi_bad_period", lang, period=token, max=MAX_DAYS)) from None
        if last_day < first_day or (last_day - first_day).days >= MAX_DAYS:
            raise UserError(t("kpi_bad_period", lang, period=token, max=MAX_DAYS))
        return Period(datetime.combine(first_day, time(), zone),
                      datetime.combine(last_day + timedelta(days=1), time(), zone), token)
    return None


@dataclass(frozen=True, slots=True)
class MentionFigures:
    """Counts from one scan of the period's items (brand and competitors)."""

    volume: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    dismissed: int = 0  # not relevant: out of the response rate
    responded: int = 0
    by_network: dict[str, int] = field(default_factory=dict)
    by_subject: dict[str, int] = field(default_factory=dict)  # competitors' volumes

    def share(self, count: int) -> float | None:
        return count / self.volume if self.volume else None

    @property
    def net_sentiment(self) -> float | None:
        return (self.positive - self.negative) / self.volume if self.volume else None

    @property
    def response_rate(self) -> float | None:
        called_for = self.volume - self.dismissed
        return self.responded / called_for if called_for else None

    def share_of_voice(self, competitors: Sequence[str]) -> float | None:
        total = self.volume + sum(self.by_subject.get(c, 0) for c in competitors)
        return self.volume / total if total and competitors else None


def _in(period: Period, network: str | None) -> list[ColumnElement[bool]]:
    where = [col(M.created_at) >= period.start, col(M.created_at) < period.end]
    if network:
        where.append(col(M.network) == network)
    return where


def _rows_in(start: datetime, end: datetime, network: str | None) -> list[ColumnElement[bool]]:
    where = [col(M.created_at) >= start, col(M.created_at) < end]
    if network:
        where.append(col(M.network) == network)
    return where


def _day_rows(table: Any, split: kpi_rollup.Split, network: str | None) -> list[ColumnElement[bool]]:
    where = [col(table.day) >= split.first_day, col(table.day) <= split.last_day]
    if network:
        where.append(col(table.network) == network)
    return where


def mention_figures(session: Session, period: Period, network: str | None = None, *,
                    rollup: bool = True) -> MentionFigures:
    """Volume, sentiment, responses, by network and competitors' volumes.

    Whole UTC days come from the `kpi_daily` rollup, the partial days at both ends from the rows (`rollup=False`:
    everything from the rows; the tests check both agree).
    """
    cut = kpi_rollup.split(period.start, period.end) if rollup else kpi_rollup.Split(None, None, [
        (period.start, period.end)])
    rows: list[Any] = []
    if cut.first_day is not None:
        day = models.KpiDaily
        rows += session.exec(
            select(day.subject, day.network, day.sentiment_label, day.status, func.sum(day.n))
            .where(*_day_rows(day, cut, network))
            .group_by(day.subject, day.network, day.sentiment_label, day.status)).all()
    for start, end in cut.raw:
        rows += session.exec(
            select(M.subject, M.network, M.sentiment_label, M.status, func.count())
            .where(*_rows_in(start, end, network)).group_by(M.subject, M.network, M.sentiment_label, M.status)).all()
    counts: dict[str, int] = {"positive": 0, "neutral": 0, "negative": 0, "dismissed": 0, "responded": 0}
    by_network: dict[str, int] = {}
    by_subject: dict[str, int] = {}
    for subject, net, label, status, n in rows:
        n = int(n or 0)
        if subject:  # None in the rows, '' in the rollup: the brand
            by_subject[subject] = by_subject.get(subject, 0) + n
            continue
        by_network[net] = by_network.get(net, 0) + n
        counts[label] = counts.get(label, 0) + n
        counts["dismissed"] += n if status in NO_RESPONSE_EXPECTED else 0
        counts["responded"] += n if status == "handled" else 0
    return MentionFigures(volume=sum(by_network.values()), positive=counts["positive"], neutral=counts["neutral"],
                          negative=counts["negative"], dismissed=counts["dismissed"], responded=counts["responded"],
                          by_network=dict(sorted(((k, v) for k, v in by_network.items() if v),
                                                 key=lambda kv: (-kv[1], kv[0]))),
                          by_subject={k: v for k, v in by_subject.items() if v})


def response_histogram(session: Session, period: Period, network: str | None = None, *,
                       rollup: bool = True) -> dict[int, int]:
    """How many of the period's responded brand items waited each number of minutes (rounded)."""
    cut = kpi_rollup.split(period.start, period.end) if rollup else kpi_rollup.Split(None, None, [
        (period.start, period.end)])
    histogram: dict[int, int] = {}
    rows: list[Any] = []
    if cut.first_day is not None:
        day = models.KpiResponseDaily
        rows += session.exec(select(day.minutes, func.sum(day.n)).where(*_day_rows(day, cut, network))
                             .group_by(day.minutes)).all()
    minutes = literal_column(kpi_rollup.minutes_sql(session.get_bind().dialect.name))
    for start, end in cut.raw:
        rows += session.exec(select(minutes, func.count()).select_from(M).where(
            *_rows_in(start, end, network), col(M.subject).is_(None), col(M.status) == "handled",
            col(M.handled_at).is_not(None)).group_by(minutes)).all()
    for value, n in rows:
        if n:
            histogram[int(value)] = histogram.get(int(value), 0) + int(n)
    return histogram


def median_first_response_min(session: Session, period: Period, network: str | None = None) -> float | None:
    """Median first-response time in minutes (each item's wait rounded to the minute) over the period's responded
    brand items; with an even count, the mean of the two middle ones."""
    histogram = response_histogram(session, period, network)
    total = sum(histogram.values())
    if not total:
        return None
    wanted = {(total - 1) // 2, total // 2}  # the 0-based ranks of the middle item(s)
    found: list[int] = []
    seen = 0
    for value in sorted(histogram):
        count = histogram[value]
        found += [value for rank in wanted if seen <= rank < seen + count]
        seen += count
        if len(found) == len(wanted):
            break
    return sum(found) / len(found)


def _total(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _task_cut(period: Period, network: str | None, rollup: bool) -> kpi_rollup.Split:
    """Whole days from the task rollup (which has no network), the rest from the rows."""
    if rollup and not network:
        return kpi_rollup.split(period.start, period.end)
    return kpi_rollup.Split(None, None, [(period.start, period.end)])


def _rollup_tasks(session: Session, basis: str, cut: kpi_rollup.Split, *columns: Any) -> list[Any]:
    """Closed tasks (on time or late) of the whole days, summed by `columns` and state."""
    if cut.first_day is None:
        return []
    day = models.KpiTaskDaily
    return list(session.exec(
        select(*columns, day.state, func.sum(day.n))
        .where(day.basis == basis, col(day.day) >= cut.first_day, col(day.day) <= cut.last_day,
               col(day.state).in_(("on_time", "late")))
        .group_by(*columns, day.state)).all())


def _whole_days(cut: kpi_rollup.Split) -> tuple[datetime, datetime] | None:
    if cut.first_day is None or cut.last_day is None:
        return None
    first = datetime.combine(date.fromisoformat(cut.first_day), time(), UTC)
    return first, datetime.combine(date.fromisoformat(cut.last_day) + timedelta(days=1), time(), UTC)


def rule_consistency(session: Session, period: Period, *, now: datetime, network: str | None = None,
                     rollup: bool = True) -> Consistency:
    """`rules.engagement.consistency` over the tasks created in the period, tallied by the database.

    Closed tasks of whole days come from `kpi_task_daily`; closed tasks of the partial days, and every open task
    (overdue or pending depends on `now`), from the rows.
    """
    task, day = models.Task, models.KpiTaskDaily
    done, due = col(task.done_at), col(task.due_at)
    cut = _task_cut(period, network, rollup)
    tallies: list[tuple[str, str, str | None, int, int, int, int]] = []
    for rule_id, action, owner, state, n in _rollup_tasks(session, "created", cut, day.rule_id, day.action,
                                                          day.owner):
        n = int(n or 0)
        tallies.append((rule_id, action, owner or None, n if state == "on_time" else 0, n if state == "late" else 0,
                        0, 0))
    ranges = [(start, end, False) for start, end in cut.raw]
    if (whole := _whole_days(cut)) is not None:
        ranges.append((whole[0], whole[1], True))
    for start, end, open_only in ranges:
        query = (select(task.rule_id, task.action, task.owner, _total(and_(done.is_not(None), done <= due)),
                        _total(and_(done.is_not(None), done > due)), _total(and_(done.is_(None), due <= now)),
                        _total(and_(done.is_(None), due > now)))
                 .where(col(task.created_at) >= start, col(task.created_at) < end, col(task.cancelled).is_(False))
                 .group_by(task.rule_id, task.action, task.owner))
        if open_only:
            query = query.where(done.is_(None))
        if network:
            query = query.join(M, col(M.id) == col(task.mention_id)).where(col(M.network) == network)
        tallies += [(r, a, o, int(x or 0), int(y or 0), int(z or 0), int(w or 0))
                    for r, a, o, x, y, z, w in session.exec(query).all()]
    report = Consistency()
    for rule_id, action, owner, on_time, late, overdue, pending in tallies:
        rule = report.by_rule.setdefault(rule_id, RuleConsistency(rule_id, action))
        for bucket in (rule.overall, rule.by_owner.setdefault(owner, Tally()),
                       report.by_owner.setdefault(owner, Tally()), report.overall):
            bucket.on_time += on_time
            bucket.late += late
            bucket.overdue += overdue
            bucket.pending += pending
    return report


@dataclass(frozen=True, slots=True)
class Breach:
    rule_id: str
    due: int  # tasks due in the period
    late: int  # done after the deadline
    missed: int  # still open past the deadline


def deadline_breaches(session: Session, period: Period, *, now: datetime, network: str | None = None,
                      rollup: bool = True) -> list[Breach]:
    """Per rule, among the tasks due in the period: done late, and still open past their deadline."""
    task, day = models.Task, models.KpiTaskDaily
    done, due = col(task.done_at), col(task.due_at)
    cut = _task_cut(period, network, rollup)
    counts: dict[str, list[int]] = {}
    for rule_id, state, n in _rollup_tasks(session, "due", cut, day.rule_id):
        tally = counts.setdefault(rule_id, [0, 0, 0])
        tally[0] += int(n or 0)
        tally[1] += int(n or 0) if state == "late" else 0
    ranges = [(start, end, False) for start, end in cut.raw]
    if (whole := _whole_days(cut)) is not None:
        ranges.append((whole[0], whole[1], True))
    for start, end, open_only in ranges:
        query = (select(task.rule_id, func.count(), _total(and_(done.is_not(None), done > due)),
                        _total(and_(done.is_(None), due <= now)))
                 .where(due >= start, due < end, col(task.cancelled).is_(False)).group_by(task.rule_id))
        if open_only:
            query = query.where(done.is_(None))
        if network:
            query = query.join(M, col(M.id) == col(task.mention_id)).where(col(M.network) == network)
        for rule_id, n, late, missed in session.exec(query).all():
            tally = counts.setdefault(rule_id, [0, 0, 0])
            tally[0] += int(n)
            tally[1] += int(late or 0)
            tally[2] += int(missed or 0)
    rows = [Breach(rule, n, late, missed) for rule, (n, late, missed) in counts.items()]
    return sorted(rows, key=lambda b: (-(b.late + b.missed), b.rule_id))


@dataclass(frozen=True, slots=True)
class OwnerLoad:
    owner: str | None
    open: int
    overdue: int


def owner_load(session: Session, period: Period, *, now: datetime, overdue_after: timedelta,
               network: str | None = None) -> list[OwnerLoad]:
    """The period's brand items still open, by the owner of their active assignment (None: unassigned)."""
    a = models.Assignment
    overdue = func.sum(case((col(M.created_at) < now - overdue_after, 1), else_=0))
    # One index-only probe per open item (ix_assignments_kpi), rather than letting the planner hash every
    # assignment. An item has at most one active assignment (a reassignment deactivates the previous one).
    owner = (select(a.owner).where(col(a.mention_id) == col(M.id), col(a.active).is_(True))
             .limit(1).correlate(M).scalar_subquery().label("owner"))
    rows = session.exec(
        select(owner, func.count(), overdue).select_from(M)
        .where(col(M.status) == "open", *_in(period, network), col(M.subject).is_(None))
        .group_by(owner)).all()
    loads = [OwnerLoad(who, int(n), int(late or 0)) for who, n, late in rows]
    return sorted(loads, key=lambda o: (-o.overdue, -o.open, o.owner or ""))


@dataclass(frozen=True, slots=True)
class AuthorFigure:
    handle: str
    network: str
    followers: int | None
    items: int
    tier: str | None


@dataclass(frozen=True, slots=True)
class Authors:
    top: list[AuthorFigure]
    influencers: list[AuthorFigure]  # by tier rank, then followers
    by_tier: dict[str, int]  # distinct influencer authors per tier


ROUND = 200  # candidate authors counted per query while looking for the top ones
MAX_CANDIDATES = 4000  # past this (a flat spread of authors), one grouped scan of the period is cheaper
IN_CHUNK = 900  # ids per IN list: under SQLite's default bound-parameter limit with the other parameters


def _period_counts(session: Session, period: Period, network: str | None, ids: Sequence[int]) -> dict[int, int]:
    """These authors' brand items in the period (authors without any are left out): one index range each."""
    counts: dict[int, int] = {}
    for chunk in range(0, len(ids), IN_CHUNK):
        counts.update(session.exec(
            select(M.author_id, func.count())
            .where(col(M.author_id).in_(ids[chunk:chunk + IN_CHUNK]), *_in(period, network), col(M.subject).is_(None))
            .group_by(M.author_id)).all())
    return counts


def _top_by_bound(session: Session, period: Period, network: str | None) -> dict[int, int] | None:
    """The period's counts of enough authors to rank the top TOP exactly, or None when that would cost more than a
    scan.

    Authors are taken in decreasing order of their all-time count (`kpi_author_totals`), which bounds their count
    in any period. Once the TOP-th best period count so far is above the bound of the last author taken, no author
    left can reach the top (ties included, as ties are broken by id among equal counts).
    """
    totals = models.KpiAuthorTotal
    query = select(totals.author_id, totals.n).where(col(totals.n) > 0)
    if network:
        query = query.join(models.Author, col(models.Author.id) == col(totals.author_id)).where(
            col(models.Author.network) == network)
    query = query.order_by(col(totals.n).desc(), col(totals.author_id))
    found: dict[int, int] = {}
    taken = 0
    while taken < MAX_CANDIDATES:
        batch = session.exec(query.offset(taken).limit(ROUND)).all()
        if not batch:
            return found
        taken += len(batch)
        found.update(_period_counts(session, period, network, [author_id for author_id, _ in batch]))
        ranked = sorted(found.values(), reverse=True)
        if len(ranked) >= TOP and ranked[TOP - 1] > batch[-1][1]:
            return found
        if len(batch) < ROUND:
            return found
    return None


def _top_by_scan(session: Session, period: Period, network: str | None) -> dict[int, int]:
    """The TOP authors of the period by one grouped scan of its rows (the fallback for a flat spread)."""
    rows = session.exec(
        select(M.author_id, func.count().label("n_items"))
        .where(*_in(period, network), col(M.subject).is_(None)).group_by(M.author_id)
        .order_by(func.count().desc(), col(M.author_id)).limit(TOP)).all()
    return {author_id: int(n) for author_id, n in rows}


def authors(session: Session, period: Period, *, workspace: Workspace, network: str | None = None) -> Authors:
    """The most active authors of the period, and the influencers among its authors.

    Neither needs a scan of the period: the top authors are found from the all-time counts' bound
    (`_top_by_bound`), and the influencers are the few authors who may have a tier (enough followers, or a known
    account), each counted with one index range.
    """
    author = models.Author
    index = InfluencerIndex(workspace.influencers)
    lowest = min(workspace.influencers.tiers.values(), default=None)
    known = {a.handle.lower().lstrip("@") for a in workspace.influencers.accounts}
    counts = _top_by_bound(session, period, network)
    if counts is None:
        counts = _top_by_scan(session, period, network)
    top_ids = sorted(counts, key=lambda i: (-counts[i], i))[:TOP]
    counts = {i: counts[i] for i in top_ids}
    figures: dict[int, AuthorFigure] = {}

    def add(row_id: int, handle: str, net: str, followers: int | None, items: int) -> None:
        tier, _ = index.tier(net, handle, followers)
        figures[row_id] = AuthorFigure(handle, net, followers, items, tier)

    may_have_tier = []
    if lowest is not None:
        may_have_tier.append(col(author.followers) >= lowest)
    if known:
        may_have_tier.append(func.lower(author.handle).in_(known))
    if may_have_tier:
        # The few authors who may have a tier, each with their items of the period counted on one range of
        # ix_mentions_author_created (a correlated count: both planners then start from the authors).
        where = [or_(*may_have_tier)] + ([col(author.network) == network] if network else [])
        items = (select(func.count()).select_from(M)
                 .where(col(M.author_id) == col(author.id), *_in(period, network), col(M.subject).is_(None))
                 .correlate(author).scalar_subquery())
        for row_id, handle, net, followers, n in session.exec(
                select(author.id, author.handle, author.network, author.followers, items).where(*where)).all():
            if n:
                add(row_id, handle, net, followers, int(n))
    missing = [i for i in top_ids if i not in figures]
    if missing:
        for row_id, handle, net, followers in session.exec(
                select(author.id, author.handle, author.network, author.followers)
                .where(col(author.id).in_(missing))).all():
            add(row_id, handle, net, followers, counts[row_id])
    top = [figures[i] for i in top_ids if i in figures]
    influencers = sorted((f for f in figures.values() if f.tier is not None),
                         key=lambda f: (-index.rank.get(f.tier or "", -1), -(f.followers or 0), f.handle))
    by_tier: dict[str, int] = {}
    for figure in influencers:
        by_tier[figure.tier or ""] = by_tier.get(figure.tier or "", 0) + 1
    return Authors(top, influencers[:TOP], by_tier)


@dataclass(frozen=True, slots=True)
class Report:
    """Everything `/kpi` shows for one period (and optional network)."""

    period: Period
    network: str | None
    now: datetime
    current: MentionFigures
    previous: MentionFigures
    median_response_min: float | None
    consistency: Consistency
    breaches: list[Breach]
    owners: list[OwnerLoad]
    authors: Authors
    competitors: list[str]  # the competitors a source listens to (share of voice is measured against them)
    objectives: list[Any]  # bot.services.kpi_objectives.ObjectiveStatus
    unlistened: list[str] = field(default_factory=list)  # competitors in the config that no source listens to

    @property
    def trend(self) -> float | None:
        if not self.previous.volume:
            return None
        return (self.current.volume - self.previous.volume) / self.previous.volume

    @property
    def share_of_voice(self) -> float | None:
        return self.current.share_of_voice(self.competitors)


def _shared_database(engine: Engine) -> bool:
    """Whether other connections see the same data: not for an in-memory SQLite database (one per connection)."""
    return engine.dialect.name != "sqlite" or engine.url.database not in (None, "", ":memory:")


def report(session: Session, period: Period, *, workspace: Workspace, now: datetime,
           network: str | None = None) -> Report:
    """Compute every figure of `/kpi` for the period.

    The figures are independent reads, so they run side by side, each on its own connection: on PostgreSQL, and
    on a SQLite file through `bot.db.reader` (deferred transactions on a WAL snapshot, which neither take nor
    wait for the write lock). Each figure is one statement, so the snapshots differ only by what committed
    between them, milliseconds apart.
    """
    from bot.services.kpi_objectives import evaluate_all

    bind = session.get_bind()
    overdue_after = timedelta(hours=workspace.triage.overdue_after_h)
    jobs: dict[str, Callable[[Session], Any]] = {
        "current": lambda s: mention_figures(s, period, network),
        "previous": lambda s: mention_figures(s, period.previous(), network),
        "median": lambda s: median_first_response_min(s, period, network),
        "consistency": lambda s: rule_consistency(s, period, now=now, network=network),
        "breaches": lambda s: deadline_breaches(s, period, now=now, network=network),
        "owners": lambda s: owner_load(s, period, now=now, network=network, overdue_after=overdue_after),
        "authors": lambda s: authors(s, period, workspace=workspace, network=network),
    }
    if isinstance(bind, Engine) and _shared_database(bind):
        engine = reader(bind)

        def run(job: Callable[[Session], Any]) -> Any:
            with Session(engine) as own:
                return job(own)

        # Slowest first, so the pool's threads finish together.
        order = ["authors", "consistency", "owners", "breaches", "median", "current", "previous"]
        with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="kpi") as pool:
            futures = {name: pool.submit(run, jobs[name]) for name in order}
            found = {name: future.result() for name, future in futures.items()}
    else:
        found = {name: job(session) for name, job in jobs.items()}
    # The objectives reuse what the report already computed instead of scanning the period again.
    cache: dict[tuple[str, Period, str | None], Any] = {
        ("figures", period, network): found["current"], ("figures", period.previous(), network): found["previous"],
        ("median", period, network): found["median"]}
    return Report(
        period=period, network=network, now=now, current=found["current"], previous=found["previous"],
        median_response_min=found["median"], consistency=found["consistency"], breaches=found["breaches"],
        owners=found["owners"], authors=found["authors"], competitors=workspace.listened_competitors,
        unlistened=[c for c in workspace.brand.competitors if c not in workspace.listened_competitors],
        objectives=evaluate_all(session, workspace=workspace, period=period, now=now, figures=cache),
    )
