"""Render a mention row into its Slack card (Block Kit built with slack_sdk's models, which enforce Slack's limits)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import ids, models
from bot.messages import Lang, t
from bot.render.escape import CONTEXT_TEXT_MAX, FALLBACK_TEXT_MAX, escape, quote, truncate

NETWORK_LABELS = {
    "x": "X", "facebook": "Facebook", "instagram": "Instagram", "linkedin": "LinkedIn", "youtube": "YouTube",
    "mastodon": "Mastodon", "bluesky": "Bluesky", "reddit": "Reddit", "rss": "RSS",
}
# Unicode rather than :shortcodes:, so every surface (Slack, the console, notifications) shows the same dot.
SENTIMENT_ICONS = {"positive": "🟢", "neutral": "⚪", "negative": "🔴"}


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    blocks: list[dict]


def _safe_url(url: str | None) -> str | None:
    # Only http(s) links become clickable; anything else could smuggle mrkdwn control syntax.
    if url and url.startswith(("https://", "http://")) and not any(c in url for c in "<>| \n"):
        return url
    return None


def render_card(mention: models.Mention, author: models.Author, owner: str | None, *, lang: Lang = "en",
                tz: str = "UTC") -> Rendered:
    """The triage card for one mention, from its row."""
    network = NETWORK_LABELS.get(mention.network, escape(mention.network))
    who = f"*{escape(author.name or author.handle)}* (@{escape(author.handle)})"
    if author.followers is not None:
        who += " · " + t("followers", lang, n=f"{author.followers:,}")
    header = f"*{network}* · {escape(mention.kind)} · {who}"
    zone = ZoneInfo(tz)
    when = mention.created_at.astimezone(zone).strftime("%a %d %b %H:%M")
    context = [
        f"{SENTIMENT_ICONS.get(mention.sentiment_label, '')} {mention.sentiment_label} "
        f"({mention.sentiment_compound:+.2f})",
        when,
    ]
    if owner:
        context.append(f"{t('owner', lang)}: <@{owner}>")
    if mention.route_reason:
        context.append(escape(mention.route_reason))
    link = _safe_url(mention.permalink)
    if link:
        context.append(f"<{link}|{t('view_on', lang, network=network)}>")
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=header)),
        SectionBlock(text=MarkdownTextObject(text=quote(mention.text))),
        ContextBlock(elements=[MarkdownTextObject(text=truncate(" · ".join(context), CONTEXT_TEXT_MAX))]),
    ]
    value = str(mention.id)
    if mention.status == "handled":
        handled_at = mention.handled_at.astimezone(zone).strftime("%H:%M") if mention.handled_at else "?"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=":white_check_mark: " + t("handled_by", lang, user=f"<@{mention.handled_by}>", time=handled_at))]))
        blocks.append(ActionsBlock(block_id=f"triage:{mention.id}", elements=[
            ButtonElement(text=t("reopen", lang), action_id=ids.REOPEN, value=value)]))
    else:
        blocks.append(ActionsBlock(block_id=f"triage:{mention.id}", elements=[
            ButtonElement(text=t("mark_handled", lang), action_id=ids.MARK_HANDLED, value=value, style="primary")]))
    # The notification text: escaped too, since Slack renders it in notifications and screen readers.
    fallback = truncate(f"{network} {mention.kind} from @{escape(author.handle)}: {escape(mention.text)}",
                        FALLBACK_TEXT_MAX)
    return Rendered(fallback, [b.to_dict() for b in blocks])
