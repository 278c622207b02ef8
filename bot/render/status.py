"""Render source health (`/veille status`) as Block Kit; every config- or network-supplied string is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.messages import Lang, t
from bot.render.cards import NETWORK_LABELS, Rendered
from bot.render.escape import SECTION_TEXT_MAX, escape, truncate
from bot.services.sources import SourceHealth, ago

STATE_ICONS = {"ok": "🟢", "failing": "🔴", "paused": "⏸️", "waiting": "🟡", "new": "⚪", "disabled": "⚫"}
MAX_SOURCES = 45  # Slack allows 50 blocks in a message; the rest is summed up in one line


def render_status(health: Sequence[SourceHealth], *, now: datetime, lang: Lang) -> Rendered:
    """One section per source: state, last success, items seen, next poll, and the last error quoted."""
    blocks: list = [HeaderBlock(text=truncate(t("status_title", lang, n=len(health)), 150))]
    if not health:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=t("status_empty", lang))))
    for item in health[:MAX_SOURCES]:
        network = NETWORK_LABELS.get(item.type, escape(item.type))
        line = (f"{STATE_ICONS.get(item.state, '•')} *{escape(item.name)}* ({network}) — *{item.state}*\n"
                f"last success {ago(item.last_success_at, now)} · {item.items_seen:,} items seen")
        if item.next_poll_at is not None:
            line += f" · next poll {ago(item.next_poll_at, now)}"
        if item.rejected:
            line += f" · {item.rejected} malformed item(s) set aside"
        if item.paused_reason:
            line += f"\n> paused: {escape(truncate(item.paused_reason, 300))}"
        elif item.last_error:
            when = ago(item.last_error_at, now)
            line += f"\n> last error ({when}): {escape(truncate(item.last_error, 300))}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(line, SECTION_TEXT_MAX))))
    if len(health) > MAX_SOURCES:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"…and {len(health) - MAX_SOURCES} more: run `veille status` on the server for all of them")]))
    counts = {state: sum(1 for h in health if h.state == state) for state in STATE_ICONS}
    text = ", ".join(f"{n} {state}" for state, n in counts.items() if n) or t("status_empty", lang)
    return Rendered(text, [b.to_dict() for b in blocks])
