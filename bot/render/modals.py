"""Modals: the reply composer, prefilled with the rule's template in the author's language."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import ContextBlock, InputBlock, MarkdownTextObject, PlainTextInputElement, SectionBlock
from slack_sdk.models.views import View

from bot import ids, models
from bot.messages import Lang, t
from bot.render.cards import network_label
from bot.render.escape import escape, quote, truncate

REPLY_BLOCK = "reply_text"
REPLY_INPUT = "text"


def reply_modal(mention: models.Mention, author: models.Author, *, prefill: str, approvers: list[str],
                max_length: int, lang: Lang) -> dict:
    network = network_label(mention.network)
    approval = t("reply_modal_needs_approval", lang, approvers=", ".join(f"<@{a}>" for a in approvers)) \
        if approvers else ""
    view = View(
        type="modal", callback_id=ids.REPLY_MODAL,
        title=truncate(t("reply_modal_title", lang, network=network), 24),
        submit=t("send", lang), close=t("cancel", lang),
        private_metadata=json.dumps({"mention_id": mention.id}),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f"*@{escape(author.handle)}*\n{quote(mention.text, 2000)}")),
            InputBlock(block_id=REPLY_BLOCK, label=truncate(t("reply_modal_label", lang, handle=author.handle), 2000),
                       element=PlainTextInputElement(action_id=REPLY_INPUT, multiline=True,
                                                     initial_value=prefill[:max_length], max_length=max_length)),
            ContextBlock(elements=[MarkdownTextObject(text=t("reply_modal_hint", lang, network=network,
                                                             approval=approval))]),
        ],
    )
    return view.to_dict()


OVERRIDE_TERM = "override_term"
OVERRIDE_LABEL = "override_label"


def override_modal(mention_id: int, lang: Lang) -> dict:
    """A brand word override: this word or phrase reads as positive / neutral / negative for this brand."""
    from slack_sdk.models.blocks import Option, StaticSelectElement

    view = View(
        type="modal", callback_id=ids.OVERRIDE_MODAL, title=truncate(t("override_title", lang), 24),
        submit=t("save", lang), close=t("cancel", lang), private_metadata=str(mention_id),
        blocks=[
            InputBlock(block_id=OVERRIDE_TERM, label=t("override_term", lang),
                       element=PlainTextInputElement(action_id="term", max_length=100)),
            InputBlock(block_id=OVERRIDE_LABEL, label=t("override_label", lang),
                       element=StaticSelectElement(action_id="label", options=[
                           Option(text=t(f"sentiment_word_{x}", lang).strip(), value=x)
                           for x in ("neutral", "positive", "negative")])),
            ContextBlock(elements=[MarkdownTextObject(text=t("override_hint", lang))]),
        ],
    )
    return view.to_dict()
