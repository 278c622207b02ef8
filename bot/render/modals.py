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
