"""`/kpi chart`: one KPI per day as a PNG readable at Slack's preview size (800 × 450 px, large type).

Drawn with matplotlib's object API on the Agg canvas (`Figure` + `FigureCanvasAgg`), never pyplot: no GUI
backend is ever selected, no global figure registry is touched, so importing this module changes nothing
and rendering works in any thread. matplotlib's text and font caches are not thread-safe, so renders take
turns behind one lock (a chart takes a few hundred milliseconds, and they are rare).

Metrics, per local day of the brand's time zone (the x axis), brand items only (competitor items, which
have a `subject`, feed share of voice and nothing else):
- volume: items per day, stacked by network;
- sentiment: positive / neutral / negative shares per day, and net sentiment ((pos - neg) / volume);
- response: median first-response time per day, over the items created that day that were responded to;
- engagement: average likes, comments and shares per own post, over the posts published that day.

Days are counted by the database: the period is cut where the zone's UTC offset changes (daylight saving),
and within each span the local day is `(unix seconds + offset) // 86400`, an expression both SQLite and
PostgreSQL compute. So volume and sentiment come back as one row per day and series, whatever the volume.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sqlalchemy import BigInteger, Integer, cast, extract, func, literal_column
from sqlmodel import Session, col, select

from bot import models
from bot.messages import Lang, t
from bot.render.cards import NETWORK_LABELS

METRICS = ("volume", "sentiment", "response", "engagement")
WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.5, 100  # 800 × 450 px: Slack shows it unscaled in the channel preview
MAX_DAYS = 400
MAX_NETWORKS = 6  # more stacked colours stop being readable: the smallest are drawn as "other"

_RENDER_LOCK = threading.Lock()
_SENTIMENT_COLORS = {"positive": "#2e9e5b", "neutral": "#b8bec6", "negative": "#d64545"}
_PALETTE = ("#3d6fd6", "#e08a1e", "#2e9e5b", "#9b59b6", "#d64545", "#16a3b8", "#7f8c8d")


# ---------------------------------------------------------------------------------------------
# Days and buckets


def chart_days(start: datetime, end: datetime, tz: str) -> list[date]:
    """The local days shown for [start, end): from the first local midnight at or after `start` to `end`'s day.

    "30d" ending today at 09:00 shows the 29 full days before today and today so far: 30 bars.
    """
    zone = ZoneInfo(tz)
    local_start, local_end = start.astimezone(zone), (end - timedelta(microseconds=1)).astimezone(zone)
    first = local_start.date() + timedelta(days=0 if local_start.time() == time(0) else 1)
    first = min(first, local_end.date())
    days = (local_end.date() - first).days + 1
    return [first + timedelta(days=i) for i in range(max(1, min(days, MAX_DAYS)))]


def _window(days: list[date], tz: str) -> tuple[datetime, datetime]:
    """[first local midnight, last day's next local midnight) as UTC datetimes."""
    zone = ZoneInfo(tz)
    return (datetime.combine(days[0], time(), zone).astimezone(UTC),
            datetime.combine(days[-1] + timedelta(days=1), time(), zone).astimezone(UTC))


@dataclass(frozen=True, slots=True)
class Span:
    """[start, end) in UTC during which the zone keeps one UTC offset (`offset_s` seconds)."""

    start: datetime
    end: datetime
    offset_s: int


def _offset(zone: ZoneInfo, unix: int) -> int:
    offset = datetime.fromtimestamp(unix, UTC).astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def spans(start: datetime, end: datetime, tz: str) -> list[Span]:
    """Cut [start, end) where `tz` changes its UTC offset (found to the second: transitions fall on whole seconds)."""
    zone = ZoneInfo(tz)
    lo_unix, end_unix = int(start.timestamp()), int(end.timestamp())
    found: list[Span] = []
    while lo_unix < end_unix:
        offset = _offset(zone, lo_unix)
        cursor, change = lo_unix, end_unix
        while cursor < end_unix:  # a day at a time (offsets change at most once a day), then bisect
            probe = min(cursor + 86_400, end_unix)
            if _offset(zone, probe) != offset:
                low, high = cursor, probe
                while high - low > 1:
                    mid = (low + high) // 2
                    low, high = (mid, high) if _offset(zone, mid) == offset else (low, mid)
                change = high
                break
            cursor = probe
        found.append(Span(datetime.fromtimestamp(lo_unix, UTC), datetime.fromtimestamp(change, UTC), offset))
        lo_unix = change
    return found


def _local_day(session: Session, column: Any, offset_s: int) -> Any:
    """The local day of a timestamp column as days since 1970-01-01, for a span with offset `offset_s`."""
    # Inline integers, not bound parameters: the same expression is in SELECT and GROUP BY, and PostgreSQL only
    # sees them as the same when their text is identical.
    offset, day = literal_column(str(int(offset_s))), literal_column("86400")
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor((extract("epoch", column) + offset) / day), BigInteger)
    # SQLite keeps UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime('%s') reads it as UTC seconds. A raw `/` of
    # two integers is SQLite's integer division (SQLAlchemy's `//` needs FLOOR, missing from some builds).
    return (cast(func.strftime("%s", column), Integer) + offset).self_group().op("/")(day)


_EPOCH = date(1970, 1, 1).toordinal()


def _day(number: int) -> date:
    return date.fromordinal(_EPOCH + int(number))


def _per_day(session: Session, days: list[date], tz: str, column: Any, build: Any) -> list[Any]:
    """Run `build(local_day_expression, span)` once per constant-offset span of the days; rows with a `date` first."""
    start, end = _window(days, tz)
    rows: list[Any] = []
    for span in spans(start, end, tz):
        day = _local_day(session, column, span.offset_s)
        rows.extend((_day(first), *rest) for first, *rest in _rows(session, build(day, span)))
    return rows


def _rows(session: Session, query: Any) -> list[Any]:
    """Plain rows through the Core connection: tens of thousands of tuples, no ORM loading per row."""
    return list(session.connection().execute(query).all())


def _brand_only(where: list[Any]) -> list[Any]:
    # Competitor items carry a subject (added with the KPI capability); without the column, all items are ours.
    subject = getattr(models.Mention, "subject", None)
    return [*where, col(subject).is_(None)] if subject is not None else where


def _mention_where(start: datetime, end: datetime, network: str | None) -> list[Any]:
    """Brand items created in [start, end), on one network or all."""
    m = models.Mention
    where = [col(m.created_at) >= start, col(m.created_at) < end]
    if network:
        where.append(col(m.network) == network)
    return _brand_only(where)


# ---------------------------------------------------------------------------------------------
# Series


@dataclass(slots=True)
class Series:
    """What one chart draws: a value per day for each named series (None: no figure that day)."""

    days: list[date]
    values: dict[str, list[float | None]] = field(default_factory=dict)
    extra: dict[str, list[float | None]] = field(default_factory=dict)  # drawn on a second axis
    overall: float | None = None

    @property
    def empty(self) -> bool:
        """No item at all in the period: volumes all zero, other figures all missing."""
        return not any(v is not None and (v != 0 or not self.zero_is_empty)
                       for series in self.values.values() for v in series)

    zero_is_empty: bool = False  # volumes: a day with 0 items is no data; a median of 0 minutes is data


def volume_series(session: Session, days: list[date], tz: str, network: str | None) -> Series:
    """Brand items per local day, per network (the smallest networks beyond 6 merged as "other")."""
    m = models.Mention
    rows = _per_day(session, days, tz, col(m.created_at), lambda day, span: select(day, m.network, func.count())
                    .where(*_mention_where(span.start, span.end, network)).group_by(day, m.network))
    index = {d: i for i, d in enumerate(days)}
    counts: dict[str, list[float | None]] = {}
    for day, net, n in rows:
        i = index.get(day)
        if i is not None:
            counts.setdefault(net, [0.0] * len(days))[i] += n  # type: ignore[operator]
    ranked = sorted(counts, key=lambda k: (-sum(v or 0 for v in counts[k]), k))
    if len(ranked) > MAX_NETWORKS:
        other = [sum(counts[k][i] or 0 for k in ranked[MAX_NETWORKS - 1:]) for i in range(len(days))]
        counts = {k: counts[k] for k in ranked[:MAX_NETWORKS - 1]} | {"other": list(other)}
    else:
        counts = {k: counts[k] for k in ranked}
    return Series(days, counts, zero_is_empty=True)


def sentiment_series(session: Session, days: list[date], tz: str, network: str | None) -> Series:
    """Positive / neutral / negative shares of each day's items (%), and net sentiment (%) on a second axis."""
    m = models.Mention
    rows = _per_day(session, days, tz, col(m.created_at), lambda day, span: select(
        day, m.sentiment_label, func.count()).where(*_mention_where(span.start, span.end, network))
        .group_by(day, m.sentiment_label))
    index = {d: i for i, d in enumerate(days)}
    counts = {label: [0] * len(days) for label in ("positive", "neutral", "negative")}
    for day, label, n in rows:
        i = index.get(day)
        if i is not None and label in counts:
            counts[label][i] += n
    totals = [sum(counts[label][i] for label in counts) for i in range(len(days))]
    shares: dict[str, list[float | None]] = {
        label: [100 * c / n if n else None for c, n in zip(values, totals, strict=True)]
        for label, values in counts.items()}
    net = [100 * (p - q) / n if n else None
           for p, q, n in zip(counts["positive"], counts["negative"], totals, strict=True)]
    return Series(days, shares, {"net": net})


def first_response_minutes(session: Session, days: list[date], tz: str,
                           network: str | None = None) -> list[tuple[date, float]]:
    """(local day of creation, minutes to first response) for the brand items created on `days` answered so far.

    First response, the same definition as `/kpi` (bot/services/kpi.py): an item is responded to when its status
    is `handled` (marked handled on its card, or answered or hidden through Veille, which marks it handled too);
    its response time is `handled_at - created_at`, the wait the author lived. Items dismissed as not relevant
    called for no response and are left out.
    """
    m = models.Mention
    if session.get_bind().dialect.name == "postgresql":
        minutes: Any = extract("epoch", col(m.handled_at) - col(m.created_at)) / 60.0
    else:
        minutes = (func.julianday(m.handled_at) - func.julianday(m.created_at)) * 1440.0
    rows = _per_day(session, days, tz, col(m.created_at), lambda day, span: select(day, minutes).where(
        *_mention_where(span.start, span.end, network), col(m.status) == "handled", col(m.handled_at).is_not(None)))
    return [(day, max(0.0, float(v))) for day, v in rows]


def response_series(session: Session, days: list[date], tz: str, network: str | None) -> Series:
    """Median first-response time (minutes) of the items created each day; the period's median as `overall`."""
    index = {d: i for i, d in enumerate(days)}
    per_day: list[list[float]] = [[] for _ in days]
    everything: list[float] = []
    for day, minutes in first_response_minutes(session, days, tz, network):
        i = index.get(day)
        if i is not None:
            per_day[i].append(minutes)
            everything.append(minutes)
    medians: list[float | None] = [median(v) if v else None for v in per_day]
    return Series(days, {"median": medians}, overall=median(everything) if everything else None)


def engagement_series(session: Session, days: list[date], tz: str, network: str | None) -> Series:
    """Average likes, comments and shares per own post, over the posts published each local day."""
    p = models.OwnPost

    def query(day: Any, span: Span) -> Any:
        where = [col(p.created_at) >= span.start, col(p.created_at) < span.end]
        if network:
            where.append(col(p.network) == network)
        return (select(day, func.count(), func.coalesce(func.sum(p.likes), 0), func.coalesce(func.sum(p.comments), 0),
                       func.coalesce(func.sum(p.shares), 0)).where(*where).group_by(day))

    index = {d: i for i, d in enumerate(days)}
    posts = [0] * len(days)
    sums = {key: [0] * len(days) for key in ("likes", "comments", "shares")}
    for day, n, likes, comments, shares in _per_day(session, days, tz, col(p.created_at), query):
        i = index.get(day)
        if i is not None:
            posts[i] += n
            for key, value in (("likes", likes), ("comments", comments), ("shares", shares)):
                sums[key][i] += int(value)
    averages: dict[str, list[float | None]] = {
        key: [s / n if n else None for s, n in zip(values, posts, strict=True)] for key, values in sums.items()}
    return Series(days, averages, {"posts": [float(n) for n in posts]})


_SERIES = {"volume": volume_series, "sentiment": sentiment_series, "response": response_series,
           "engagement": engagement_series}


# ---------------------------------------------------------------------------------------------
# Drawing


def _style(fig: Figure) -> Any:
    ax = fig.add_axes((0.09, 0.2, 0.8, 0.66))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e3e6ea", linewidth=1)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=12)
    return ax


def _date_axis(ax: Any, days: list[date], lang: Lang, tz: str) -> None:
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m" if lang == "fr" else "%b %d"))
    ax.set_xlim(mdates.date2num(days[0]) - 0.6, mdates.date2num(days[-1]) + 0.6)
    ax.set_xlabel(t("chart_day_axis", lang, tz=tz), fontsize=12)


def _xs(days: Iterable[date]) -> list[float]:
    return [float(mdates.date2num(d)) for d in days]


def _nan(values: Iterable[float | None]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def _legend(ax: Any, *others: Any) -> None:
    handles, labels = ax.get_legend_handles_labels()
    for other in others:
        more = other.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    if handles:
        ax.figure.legend(handles, labels, loc="lower center", ncol=min(len(handles), 6), fontsize=11,
                         frameon=False, bbox_to_anchor=(0.5, 0.0))


def _draw_volume(ax: Any, series: Series, lang: Lang) -> None:
    xs, bottom = _xs(series.days), [0.0] * len(series.days)
    for k, (net, values) in enumerate(series.values.items()):
        heights = [v or 0.0 for v in values]
        label = t("chart_other", lang) if net == "other" else NETWORK_LABELS.get(net, net)
        ax.bar(xs, heights, bottom=bottom, width=0.8, color=_PALETTE[k % len(_PALETTE)], label=label)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_ylabel(t("chart_items", lang), fontsize=12)
    ax.yaxis.get_major_locator().set_params(integer=True)
    _legend(ax)


def _draw_sentiment(ax: Any, series: Series, lang: Lang) -> None:
    xs, bottom = _xs(series.days), [0.0] * len(series.days)
    for label, values in series.values.items():
        heights = [v or 0.0 for v in values]
        ax.bar(xs, heights, bottom=bottom, width=0.8, color=_SENTIMENT_COLORS[label],
               label=t(f"chart_{label}", lang))
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_ylim(0, 100)
    ax.set_ylabel(t("chart_share", lang), fontsize=12)
    right = ax.twinx()
    right.plot(xs, _nan(series.extra["net"]), color="#1f2933", marker="o", markersize=4, linewidth=2,
               label=t("chart_net_sentiment", lang))
    right.axhline(0, color="#1f2933", linewidth=0.8, linestyle=":")
    right.set_ylim(-100, 100)
    right.set_ylabel(t("chart_net_axis", lang), fontsize=12)
    right.tick_params(labelsize=12)
    right.spines[["top"]].set_visible(False)
    _legend(ax, right)


def _draw_response(ax: Any, series: Series, lang: Lang) -> None:
    values = series.values["median"]
    known = [v for v in values if v is not None]
    hours = bool(known) and max(known) >= 180  # beyond 3 hours, minutes stop being readable
    scale, unit = (60.0, t("chart_hours", lang)) if hours else (1.0, t("chart_minutes", lang))
    xs = _xs(series.days)
    ax.bar(xs, [(v or 0.0) / scale for v in values], width=0.8, color=_PALETTE[0],
           label=t("chart_median_day", lang))
    if series.overall is not None:
        ax.axhline(series.overall / scale, color="#d64545", linestyle="--", linewidth=2,
                   label=t("chart_median_period", lang, value=f"{series.overall / scale:.1f} {unit}"))
    ax.set_ylabel(unit, fontsize=12)
    _legend(ax)


def _draw_engagement(ax: Any, series: Series, lang: Lang) -> None:
    xs = _xs(series.days)
    for k, (key, values) in enumerate(series.values.items()):
        ax.plot(xs, _nan(values), marker="o", markersize=5, linewidth=2, color=_PALETTE[k],
                label=t(f"chart_{key}", lang))
    ax.set_ylabel(t("chart_per_post", lang), fontsize=12)
    _legend(ax)


_DRAW = {"volume": _draw_volume, "sentiment": _draw_sentiment, "response": _draw_response,
         "engagement": _draw_engagement}


def span_label(days: list[date], lang: Lang) -> str:
    """The days shown, as the title says them: "Oct 22, 2026 → Nov 20, 2026" or "22/10/2026 → 20/11/2026"."""
    fmt = "%d/%m/%Y" if lang == "fr" else "%b %d, %Y"
    return days[0].strftime(fmt) if len(days) == 1 else f"{days[0].strftime(fmt)} → {days[-1].strftime(fmt)}"


def render_png(metric: str, series: Series, *, network: str | None, tz: str, lang: Lang) -> bytes:
    """Draw `series` as an 800 × 450 PNG; an empty series gives a readable "no data" chart."""
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    ax = _style(fig)
    where = f" — {NETWORK_LABELS.get(network, network)}" if network else ""
    fig.text(0.09, 0.93, t(f"chart_title_{metric}", lang) + where, fontsize=16, fontweight="bold", va="bottom")
    fig.text(0.09, 0.885, span_label(series.days, lang), fontsize=11, color="#52606d", va="bottom")
    if series.empty:
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.text(0.5, 0.5, t("chart_no_data", lang), transform=ax.transAxes, ha="center", va="center",
                fontsize=18, color="#52606d")
    else:
        _DRAW[metric](ax, series, lang)
    _date_axis(ax, series.days, lang, tz)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)  # no bbox_inches="tight": the size must stay 800 × 450
    return out.getvalue()


def kpi_chart_png(session: Session, metric: str, start: datetime, end: datetime, *, network: str | None, tz: str,
                  lang: Lang) -> bytes:
    """The PNG of `metric` per local day of `tz` over [start, end), for one network or all.

    Raises:
        ValueError: `metric` is not one of METRICS.
    """
    if metric not in _SERIES:
        raise ValueError(f"unknown chart metric {metric!r}; expected one of {', '.join(METRICS)}")
    days = chart_days(start, end, tz)
    series = _SERIES[metric](session, days, tz, network)
    with _RENDER_LOCK:
        return render_png(metric, series, network=network, tz=tz, lang=lang)
