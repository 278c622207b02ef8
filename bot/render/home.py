"""Render a member's App Home (a Slack `home` view, at most 100 blocks)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import ids, models
from bot.messages import Lang, t
from bot.render.cards import SENTIMENT_ICONS, Rendered, network_label
from bot.render.escape import escape, truncate
from bot.render.reports import consistency_lines
from bot.services.home import HomeData

MAX_HOME_BLOCKS = 100


def _item_line(mention: models.Mention, tz: str) -> str:
    when = mention.created_at.astimezone(ZoneInfo(tz)).strftime("%d/%m %H:%M")
    text = truncate(escape(" ".join(mention.text.split())), 120)
    return f"{SENTIMENT_ICONS.get(mention.sentiment_label, '')} `{when}` *{network_label(mention.network)}* {text}"


def _section(title: str, lines: list[str], lang: Lang) -> list:
    body = "\n".join(lines) if lines else "_" + t("home_none", lang) + "_"
    return [SectionBlock(text=MarkdownTextObject(text=truncate(f"*{title}*\n{body}", 3000)))]


def render_home(data: HomeData, *, brand: str, lang: Lang, tz: str, overdue_hours: int) -> Rendered:
    zone = ZoneInfo(tz)
    blocks: list = [HeaderBlock(text=truncate(t("home_title", lang, brand=brand), 150))]
    oncall = f"<@{data.oncall}>" if data.oncall else t("home_nobody", lang)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="📟 " + t("home_oncall", lang, user=oncall))]))
    # Away members are skipped by routing until they come back (rules.routing, via the store).
    blocks.append(ActionsBlock(block_id="home:away", elements=[ButtonElement(
        text=t("home_back" if data.away else "home_away", lang), action_id=ids.AWAY_TOGGLE,
        value="back" if data.away else "away")]))
    blocks += _section(t("home_mine", lang, n=len(data.mine)), [_item_line(m, tz) for m in data.mine], lang)
    blocks += _section(t("home_overdue", lang, n=len(data.overdue), hours=overdue_hours),
                       [_item_line(m, tz) for m in data.overdue], lang)
    mine = consistency_lines(data.consistency, lang, owner=data.user)
    team = consistency_lines(data.consistency, lang)
    if mine or team:
        blocks += _section(t("home_consistency", lang), [*(f"{line} (me)" for line in mine), *team], lang)
    blocks.append(DividerBlock())
    blocks += _section(t("home_queue", lang), [f"• {escape(name)}: *{n}*" for name, n in data.queue.items()], lang)
    source_lines = []
    for source in data.sources:
        state = "🔴" if source.last_error_at and (not source.last_success_at
                                                 or source.last_error_at > source.last_success_at) else "🟢"
        last = source.last_success_at.astimezone(zone).strftime("%d/%m %H:%M") if source.last_success_at else "—"
        source_lines.append(f"{state} {escape(source.source)} · {source.items_seen} · {last}")
    blocks += _section(t("home_sources", lang), source_lines, lang)
    post_lines = [f"`{p.scheduled_at.astimezone(zone):%a %d %H:%M}` *{network_label(p.network)}* {escape(p.title)}"
                  for p in data.next_posts]
    blocks += _section(t("home_calendar", lang), post_lines, lang)
    return Rendered("", [b.to_dict() for b in blocks[:MAX_HOME_BLOCKS]])
