"""Render triage cards and flood digests from their rows (Block Kit built with slack_sdk's models,
which enforce Slack's limits). User text only reaches mrkdwn through `bot.render.escape`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)

from bot import ids, models
from bot.messages import Lang, t
from bot.render.escape import CONTEXT_TEXT_MAX, FALLBACK_TEXT_MAX, escape, quote, safe_url, truncate

NETWORK_LABELS = {
    "x": "X", "facebook": "Facebook", "instagram": "Instagram", "linkedin": "LinkedIn", "youtube": "YouTube",
    "mastodon": "Mastodon", "bluesky": "Bluesky", "reddit": "Reddit", "rss": "RSS",
}
# Unicode rather than :shortcodes:, so every surface (Slack, the console, notifications) shows the same dot.
SENTIMENT_ICONS = {"positive": "🟢", "neutral": "⚪", "negative": "🔴"}
SNOOZE_CHOICES = (("1h", 60), ("4h", 240), ("tomorrow", 24 * 60), ("3d", 3 * 24 * 60))


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    blocks: list[dict] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CardContext:
    """What a card shows besides its mention and author: decided elsewhere, rendered here."""

    owner: str | None = None
    influencer: str | None = None  # tier name, when the author is one
    violations: Sequence[str] = ()  # "clause title: «matched span»", already plain text
    rule: str | None = None  # engagement rule and its deadline, plain text
    can_reply: bool = False  # the network's API lets us reply / hide (the connector says so)
    can_hide: bool = False
    action: models.NetworkAction | None = None  # a reply or hide in progress
    done: models.NetworkAction | None = None  # the last reply or hide done
    approvers: Sequence[str] = ()


def _when(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M")


def network_label(network: str) -> str:
    return NETWORK_LABELS.get(network, escape(network))


def _status_line(mention: models.Mention, lang: Lang, tz: str) -> str | None:
    if mention.status == "handled":
        at = mention.handled_at.astimezone(ZoneInfo(tz)).strftime("%H:%M") if mention.handled_at else "?"
        return "✅ " + t("handled_by", lang, user=f"<@{mention.handled_by}>", time=at)
    if mention.status == "snoozed" and mention.snoozed_until:
        return "💤 " + t("snoozed_until", lang, time=_when(mention.snoozed_until, tz))
    if mention.status == "not_relevant":
        return "🚫 " + t("dismissed_by", lang, user=f"<@{mention.handled_by}>")
    return None


def _actions(mention: models.Mention, ctx: CardContext, lang: Lang) -> ActionsBlock:
    value = str(mention.id)
    if mention.status != "open":
        elements: list = [ButtonElement(text=t("reopen", lang), action_id=ids.REOPEN, value=value)]
    else:
        replies = []
        free = ctx.action is None or ctx.action.status == "failed"  # a failed attempt may be tried again
        if ctx.can_reply and free:
            if mention.sentiment_label == "positive":
                replies.append(ButtonElement(text=t("thank", lang), action_id=ids.THANK, value=value))
            replies.append(ButtonElement(text=t("reply", lang), action_id=ids.REPLY, value=value))
        if ctx.can_hide and free:
            network = network_label(mention.network)
            replies.append(ButtonElement(text=t("hide", lang), action_id=ids.HIDE, value=value, style="danger",
                                         confirm=ConfirmObject(title=t("hide_confirm_title", lang),
                                                               text=t("hide_confirm_text", lang, network=network),
                                                               confirm=t("confirm", lang), deny=t("cancel", lang))))
        elements = [
            ButtonElement(text=t("mark_handled", lang), action_id=ids.MARK_HANDLED, value=value, style="primary"),
            *replies,
            ButtonElement(text=t("take", lang), action_id=ids.TAKE, value=value),
            UserSelectElement(placeholder=t("reassign", lang), action_id=ids.REASSIGN),
            StaticSelectElement(placeholder=t("snooze", lang), action_id=ids.SNOOZE, options=[
                Option(text=t(f"snooze_{label}", lang), value=f"{value}:{minutes}")
                for label, minutes in SNOOZE_CHOICES]),
        ]
    elements.append(OverflowMenuElement(action_id=ids.CARD_MENU, options=[
        Option(text=t("escalate", lang), value=f"escalate:{value}"),
        Option(text=t("not_relevant", lang), value=f"dismiss:{value}"),
        *[Option(text=t(f"sentiment_is_{label}", lang), value=f"sentiment:{label}:{value}")
          for label in ("positive", "neutral", "negative") if label != mention.sentiment_label],
        Option(text=t("override_menu", lang), value=f"override:{value}"),
    ]))
    return ActionsBlock(block_id=f"triage:{mention.id}", elements=elements)


def _network_action_blocks(ctx: CardContext, lang: Lang) -> list:
    """What the card says about a reply or hide: waiting for approval, sending, failed, or done."""
    blocks: list = []
    action, done = ctx.action, ctx.done
    if done is not None and (action is None or action.id != done.id):
        who = f"<@{done.requested_by}>"
        if done.kind == "hide":
            line = t("card_hidden", lang, user=f"<@{done.approved_by or done.requested_by}>")
        else:
            approved = t("card_approved_by", lang, user=f"<@{done.approved_by}>") \
                if done.approved_by and done.approved_by != done.requested_by else ""
            line = t("card_replied", lang, user=who, approved=approved, text=truncate(escape(done.text or ""), 500))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line)]))
    if action is None:
        return blocks
    if action.status == "awaiting_approval":
        approvers = ", ".join(f"<@{a}>" for a in ctx.approvers) or "?"
        line = t("card_awaiting", lang, user=f"<@{action.requested_by}>", approvers=approvers,
                 text=truncate(escape(action.text or ""), 1500))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
        blocks.append(ActionsBlock(block_id=f"approval:{action.id}", elements=[
            ButtonElement(text=t("approve", lang), action_id=ids.APPROVE_ACTION, value=str(action.id),
                          style="primary"),
            ButtonElement(text=t("reject", lang), action_id=ids.REJECT_ACTION, value=str(action.id))]))
    elif action.status in ("approved", "sending"):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t("card_sending", lang))]))
    elif action.status == "failed":
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=t("card_failed", lang, error=truncate(escape(action.error or "?"), 500)))]))
    return blocks


def render_card(mention: models.Mention, author: models.Author, context: CardContext | str | None = None, *,
                lang: Lang = "en", tz: str = "UTC") -> Rendered:
    """The triage card for one mention, from its row."""
    ctx = context if isinstance(context, CardContext) else CardContext(owner=context)
    network = network_label(mention.network)
    who = f"*{escape(author.name or author.handle)}* (@{escape(author.handle)})"
    if author.followers is not None:
        who += " · " + t("followers", lang, n=f"{author.followers:,}")
    if ctx.influencer:
        who += f" · ⭐ {escape(ctx.influencer)}"
    header = f"*{network}* · {escape(mention.kind)} · {who}"
    corrected = " ✎" if mention.sentiment_corrected_by else ""
    context = [
        f"{SENTIMENT_ICONS.get(mention.sentiment_label, '')} {mention.sentiment_label}{corrected} "
        f"({mention.sentiment_compound:+.2f})",
        _when(mention.created_at, tz),
    ]
    if ctx.owner:
        context.append(f"{t('owner', lang)}: <@{ctx.owner}>")
    if mention.route_reason:
        context.append(escape(mention.route_reason))
    link = safe_url(mention.permalink)
    if link:
        context.append(f"<{link}|{t('view_on', lang, network=network)}>")
    # A text expired under the retention policy says so, rather than showing an empty quote.
    body = t("text_purged", lang) if mention.text_purged_at is not None and not mention.text else quote(mention.text)
    blocks: list = [
        SectionBlock(text=MarkdownTextObject(text=header)),
        SectionBlock(text=MarkdownTextObject(text=body)),
    ]
    if ctx.violations:
        lines = "\n".join(f"⚠️ {escape(v)}" for v in ctx.violations[:5])
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(lines, 3000))))
    if ctx.rule:
        context.append(f"⏱ {escape(ctx.rule)}")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(" · ".join(context), CONTEXT_TEXT_MAX))]))
    status = _status_line(mention, lang, tz)
    if status:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=status)]))
    blocks += _network_action_blocks(ctx, lang)
    blocks.append(_actions(mention, ctx, lang))
    # The notification text: escaped too, since Slack renders it in notifications and screen readers.
    fallback = truncate(f"{network} {mention.kind} from @{escape(author.handle)}: {escape(mention.text)}",
                        FALLBACK_TEXT_MAX)
    return Rendered(fallback, [b.to_dict() for b in blocks])


def render_tombstone(mention: models.Mention, *, lang: Lang = "en", tz: str = "UTC") -> Rendered:
    """What stays of a card whose author asked to be forgotten: network, kind and date; no text, no buttons."""
    line = t("gdpr_tombstone", lang)
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=line)),
        ContextBlock(elements=[MarkdownTextObject(
            text=f"*{network_label(mention.network)}* · {escape(mention.kind)} · {_when(mention.created_at, tz)}")]),
    ]
    return Rendered(line, [b.to_dict() for b in blocks])


def digest_headline(mentions: Sequence[models.Mention], term: str | None, lang: Lang) -> str:
    labels = Counter(m.sentiment_label for m in mentions)
    label, _ = labels.most_common(1)[0]
    minutes = max(1, round((max(m.created_at for m in mentions) - min(m.created_at for m in mentions))
                           .total_seconds() / 60))
    sentiment = t(f"sentiment_word_{label}", lang) if labels[label] * 2 > len(mentions) else ""
    about = t("digest_about", lang, term=escape(term)) if term else ""
    return t("digest_headline", lang, n=len(mentions), sentiment=sentiment, about=about, minutes=minutes)


def render_digest(key: str, mentions: Sequence[models.Mention], authors: dict[int, models.Author], *,
                  term: str | None, expanded: bool, lang: Lang = "en", tz: str = "UTC") -> Rendered:
    """One card standing for many near-duplicate mentions during a flood."""
    headline = digest_headline(mentions, term, lang)
    networks = Counter(m.network for m in mentions)
    done = sum(1 for m in mentions if m.status != "open")
    examples = []
    # Forgotten authors and expired texts are left out of the examples; they still count in the headline.
    for mention in [m for m in mentions if m.forgotten_at is None and m.text_purged_at is None][:3]:
        author = authors.get(mention.author_id)
        handle = f"@{escape(author.handle)}" if author else "?"
        examples.append(f"{handle}: {truncate(escape(' '.join(mention.text.split())), 200)}")
    blocks: list = [
        SectionBlock(text=MarkdownTextObject(text=f"🌊 *{headline}*")),
        SectionBlock(text=MarkdownTextObject(text="\n".join("> " + e for e in examples) or t(
            "gdpr_tombstone" if any(m.forgotten_at for m in mentions) else "text_purged", lang))),
        ContextBlock(elements=[MarkdownTextObject(text=" · ".join(
            [", ".join(f"{network_label(n)} {c}" for n, c in networks.most_common()),
             t("digest_progress", lang, done=done, n=len(mentions)),
             _when(min(m.created_at for m in mentions), tz)]))]),
    ]
    buttons = []
    if not expanded:
        buttons.append(ButtonElement(text=t("digest_expand", lang, n=len(mentions)), action_id=ids.DIGEST_EXPAND,
                                     value=key))
    if done < len(mentions):
        buttons.append(ButtonElement(text=t("digest_handle_all", lang), action_id=ids.DIGEST_HANDLE_ALL, value=key,
                                     style="primary"))
    if buttons:
        blocks.append(ActionsBlock(block_id=f"digest:{key}"[:255], elements=buttons))
    return Rendered(truncate(headline, FALLBACK_TEXT_MAX), [b.to_dict() for b in blocks])
