"""Render `/kpi` and `/calendar` answers as Block Kit (with slack_sdk's models)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot import models
from bot.messages import Lang, t
from bot.render.cards import NETWORK_LABELS, Rendered
from bot.render.escape import escape, truncate
from bot.services.kpi import WindowFigures
from rules.engagement import Consistency


def _figures_line(figures: WindowFigures, lang: Lang) -> str:
    return t("kpi_line", lang, n=figures.total, pos=figures.share(figures.positive),
             neu=figures.share(figures.neutral), neg=figures.share(figures.negative), open=figures.open,
             handled=figures.handled)


def consistency_lines(report: Consistency | None, lang: Lang, *, owner: str | None = None) -> list[str]:
    """One line per engagement rule: "thank-positive: thanked 3 of 4 — 75%" (for one owner, or overall)."""
    if report is None:
        return []
    lines = []
    for rule_id, rule in sorted(report.by_rule.items()):
        tally = rule.overall if owner is None else rule.by_owner.get(owner)
        if tally is None or not tally.decided:
            continue
        lines.append(f"• {escape(rule_id)}: {tally.describe(rule.action, lang)}")
    return lines


def render_kpi(today: WindowFigures, week: WindowFigures, *, brand: str, lang: Lang,
               consistency: Consistency | None = None) -> Rendered:
    blocks = [HeaderBlock(text=truncate(t("kpi_title", lang, brand=brand), 150))]
    for label, figures in ((t("kpi_today", lang), today), (t("kpi_7d", lang), week)):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{label}*\n{_figures_line(figures, lang)}")))
    if week.by_network:
        parts = ", ".join(f"{NETWORK_LABELS.get(n, escape(n))} {c}" for n, c in week.by_network.items())
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t("kpi_by_network", lang, parts=parts))]))
    lines = consistency_lines(consistency, lang)
    if lines:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text=truncate(f"*{t('kpi_consistency', lang)}*\n" + "\n".join(lines), 3000))))
    text = f"{t('kpi_today', lang)}: {today.total} · {t('kpi_7d', lang)}: {week.total}"
    return Rendered(text, [b.to_dict() for b in blocks])


def render_calendar(posts: Sequence[models.CalendarPost], *, days: int, tz: str, lang: Lang) -> Rendered:
    zone = ZoneInfo(tz)
    blocks: list = [HeaderBlock(text=t("calendar_title", lang, days=days))]
    if not posts:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=t("calendar_empty", lang, days=days))))
    for day, day_posts in groupby(posts, key=lambda p: p.scheduled_at.astimezone(zone).date()):
        lines = []
        for post in day_posts:
            kind = t("promo", lang) if post.promo else t("value", lang)
            pillar = f" · {escape(post.pillar)}" if post.pillar else ""
            owner = f" · <@{post.owner}>" if post.owner else ""
            network = NETWORK_LABELS.get(post.network, escape(post.network))
            lines.append(f"`{post.scheduled_at.astimezone(zone):%H:%M}` *{network}*"
                         f" — {escape(post.title)} _({kind}{pillar}, {escape(post.status)})_{owner}")
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(f"*{day:%A %d %B}*\n" + "\n".join(lines),
                                                                         3000))))
    return Rendered(f"{len(posts)} posts in the next {days} days", [b.to_dict() for b in blocks[:50]])
