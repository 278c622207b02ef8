"""Render `/kpi` answers (the period report, our posts' performance) as Block Kit, in English or French."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.messages import Lang, t
from bot.render.cards import NETWORK_LABELS, Rendered
from bot.render.escape import escape, truncate
from bot.render.reports import consistency_lines
from bot.services.kpi import Report
from bot.services.kpi_objectives import ObjectiveStatus
from bot.services.kpi_posts import MIN_SAMPLE, Group, PostsReport

SECTION_MAX = 3000
WEEKDAYS = {"en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
            "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")}
VERDICT_ICONS = {"on_track": "✅", "met": "✅", "at_risk": "⚠️", "missed": "❌", "no_data": "➖", "unavailable": "➖"}


def pct(value: float | None, lang: Lang, *, signed: bool = False) -> str:
    """75 % as "75%" (en) or "75 %" (fr); "n/a" for None."""
    if value is None:
        return "n/a" if lang == "en" else "n/d"
    number = f"{100 * value:+.0f}" if signed else f"{100 * value:.0f}"
    return f"{number}%" if lang == "en" else f"{number}\u202f%"


def number(value: float | None, lang: Lang, digits: int = 1) -> str:
    if value is None:
        return "n/a" if lang == "en" else "n/d"
    text = f"{value:,.{digits}f}" if digits else f"{value:,.0f}"
    if digits and text.endswith("." + "0" * digits):
        text = text[: -digits - 1]
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text


def signed(value: float, lang: Lang) -> str:
    """Net sentiment: "+0.25" ("+0,25" in French)."""
    text = f"{value:+.2f}"
    return text.replace(".", ",") if lang == "fr" else text


def minutes(value: float | None, lang: Lang) -> str:
    """A duration: "42 min", "3 h 05", "2 d 4 h" ("2 j 4 h" in French)."""
    if value is None:
        return "n/a" if lang == "en" else "n/d"
    total = round(value)
    if total < 60:
        return f"{total} min"
    hours, mins = divmod(total, 60)
    if hours < 24:
        return f"{hours} h {mins:02d}"
    days, hours = divmod(hours, 24)
    return f"{days} {'d' if lang == 'en' else 'j'} {hours} h"


def network_label(network: str) -> str:
    return NETWORK_LABELS.get(network, escape(network))


def metric_value(metric: str, value: float | None, lang: Lang) -> str:
    """An objective's figure in its unit."""
    if metric in ("response_rate", "share_of_voice", "ctr", "conversion_rate"):
        return pct(value, lang)
    if metric == "median_first_response_min":
        return minutes(value, lang)
    if metric == "net_sentiment":
        return "n/a" if value is None else signed(value, lang)
    if metric in ("posts_per_day", "volume"):
        return number(value, lang, 2) + ("/day" if lang == "en" else "/jour")
    return number(value, lang, 2)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_MAX)))


def _titled(title: str, lines: list[str]) -> SectionBlock:
    return _section(f"*{title}*\n" + "\n".join(lines))


def _range(start: datetime, end: datetime, tz: str, network: str | None, lang: Lang) -> str:
    zone = ZoneInfo(tz)
    last = (end - timedelta(microseconds=1)).astimezone(zone)
    where = f" · {network_label(network)}" if network else ""
    return t("kpi_range", lang, start=f"{start.astimezone(zone):%Y-%m-%d %H:%M}", end=f"{last:%Y-%m-%d %H:%M}",
             tz=escape(tz), network=where)


def objective_line(status: ObjectiveStatus, lang: Lang) -> str:
    objective = status.objective
    verdict = t(f"kpi_verdict_{status.verdict}", lang)
    projection = ""
    if status.projected is not None and status.days_left is not None and status.days_left > 0:
        projection = t("kpi_projection", lang, value=metric_value(objective.metric, status.projected, lang))
    deadline = t("kpi_deadline", lang, date=objective.deadline.isoformat()) if objective.deadline else ""
    line = t("kpi_objective_line", lang, icon=VERDICT_ICONS[status.verdict], title=escape(objective.title),
             current=metric_value(objective.metric, status.current, lang),
             target=metric_value(objective.metric, objective.target, lang), progress=pct(status.progress, lang),
             projection=projection, deadline=deadline)
    return f"{line} — _{verdict}_"


def render_report(report: Report, *, brand: str, lang: Lang, tz: str) -> Rendered:
    """The `/kpi` answer: every figure of the period, in the order a weekly review reads them."""
    cur = report.current
    blocks: list[Any] = [
        HeaderBlock(text=truncate(t("kpi_report_title", lang, brand=brand, period=report.period.label), 150)),
        ContextBlock(elements=[MarkdownTextObject(text=_range(report.period.start, report.period.end, tz,
                                                              report.network, lang))]),
    ]
    if report.trend is None:
        trend = t("kpi_trend_none", lang)
    else:
        arrow = "↗️" if report.trend > 0 else ("↘️" if report.trend < 0 else "➡️")
        trend = t("kpi_trend", lang, arrow=arrow, pct=pct(report.trend, lang, signed=True), prev=report.previous.volume)
    volume = t("kpi_volume", lang, n=cur.volume, trend=trend)
    if cur.by_network and report.network is None:
        volume += "\n" + t("kpi_by_network", lang, parts=", ".join(
            f"{network_label(n)} {c}" for n, c in cur.by_network.items()))
    blocks.append(_section(volume))
    net = "n/a" if cur.net_sentiment is None else signed(cur.net_sentiment, lang)
    responses = t("kpi_responses", lang, rate=pct(cur.response_rate, lang), responded=cur.responded,
                  called=cur.volume - cur.dismissed, median=minutes(report.median_response_min, lang))
    blocks.append(_section(t("kpi_sentiment", lang, pos=pct(cur.share(cur.positive), lang),
                             neu=pct(cur.share(cur.neutral), lang), neg=pct(cur.share(cur.negative), lang),
                             net=net) + "\n" + responses))
    if report.competitors:
        total = cur.volume + sum(cur.by_subject.get(c, 0) for c in report.competitors)
        parts = [f"*{escape(brand)}* {pct(cur.volume / total if total else None, lang)}"]
        parts += [f"{escape(c)} {pct(cur.by_subject.get(c, 0) / total if total else None, lang)}"
                  for c in report.competitors]
        blocks.append(_section(t("kpi_share_of_voice", lang, parts=" · ".join(parts))))
    if report.unlistened:  # a competitor nobody listens to would show as 0 %: say why it is missing instead
        blocks.append(_section(t("kpi_sov_unlistened", lang, names=", ".join(escape(c) for c in report.unlistened))))
    if report.objectives:
        blocks.append(DividerBlock())
        blocks.append(_titled(t("kpi_objectives", lang), [objective_line(s, lang) for s in report.objectives]))
    blocks.append(DividerBlock())
    lines = consistency_lines(report.consistency, lang)
    if lines:
        blocks.append(_titled(t("kpi_period_consistency", lang), lines))
    breaches = [t("kpi_breach_line", lang, rule=escape(b.rule_id), late=b.late, missed=b.missed, due=b.due)
                for b in report.breaches if b.late or b.missed]
    if breaches:
        blocks.append(_titled(t("kpi_breaches", lang), breaches[:10]))
    owners = [t("kpi_owner_line", lang, owner=f"<@{o.owner}>" if o.owner else t("kpi_unassigned", lang),
                open=o.open, overdue=o.overdue) for o in report.owners]
    if owners:
        blocks.append(_titled(t("kpi_owners", lang), owners[:10]))
    people = report.authors
    if people.top:
        blocks.append(_titled(t("kpi_top_authors", lang), [_author_line(a, lang) for a in people.top]))
    if people.influencers:
        tiers = " · ".join(f"{escape(tier)} {n}" for tier, n in people.by_tier.items())
        blocks.append(_titled(f"{t('kpi_influencers', lang)} ({tiers})",
                              [_author_line(a, lang) for a in people.influencers]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t("kpi_footer", lang))]))
    text = f"{t('kpi_report_title', lang, brand=brand, period=report.period.label)}: {cur.volume}"
    return Rendered(text, [b.to_dict() for b in blocks[:50]])


def _author_line(author: Any, lang: Lang) -> str:
    followers = ""
    if author.followers is not None:
        followers = ", " + t("followers", lang, n=number(author.followers, lang, 0))
    if author.tier:
        followers += f", {escape(author.tier)}"
    return t("kpi_author_line", lang, handle=escape(author.handle), network=network_label(author.network),
             followers=followers, n=author.items)


def _group_lines(groups: list[Group], lang: Lang, label: Any = str) -> list[str]:
    return [t("kpi_group_line", lang, name=label(g.key), mean=number(g.mean, lang), n=g.posts,
              flag=t("kpi_small_sample", lang) if g.small else "") for g in groups]


def render_posts(report: PostsReport, *, lang: Lang, tz: str) -> Rendered:
    """`/kpi posts`: when and what to publish, with the sample sizes beside every figure."""
    title = t("kpi_posts_title", lang, period=report.period.label)
    blocks: list[Any] = [HeaderBlock(text=truncate(title, 150)),
                         ContextBlock(elements=[MarkdownTextObject(text=_range(
                             report.period.start, report.period.end, tz, report.network, lang))])]
    if not report.posts:
        blocks.append(_section(t("kpi_posts_none", lang)))
        return Rendered(title, [b.to_dict() for b in blocks])
    blocks.append(_section(t("kpi_posts_intro", lang, n=report.posts, min=MIN_SAMPLE)))
    days = WEEKDAYS[lang]
    # Hours and days: only the groups with enough posts are ranked (the best five). Formats and pillars: all of
    # them, small ones flagged, since the team decides what to drop from the full list.
    for heading, groups, label, everything in (
        (t("kpi_best_hours", lang, tz=escape(tz)), report.by_hour, lambda k: f"{int(k):02d}:00", False),
        (t("kpi_best_days", lang), report.by_weekday, lambda k: days[int(k)], False),
        (t("kpi_formats", lang), report.by_format, escape, True),
        (t("kpi_pillars", lang), report.by_pillar, escape, True),
    ):
        if not groups:
            continue
        ranked = PostsReport.ranked(groups, reliable_only=not everything)[:10 if everything else 5]
        lines = _group_lines(ranked, lang, label) or [f"_{t('kpi_no_reliable', lang)}_"]
        blocks.append(_titled(heading, lines))
    return Rendered(title, [b.to_dict() for b in blocks[:50]])
