"""Reply, Thank and Hide from a card, and the approval buttons: open the composer, record the draft, approve."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import ids, models
from bot.db import session_scope
from bot.deps import Deps
from bot.errors import NotFound, UserError
from bot.messages import t
from bot.render.modals import REPLY_BLOCK, REPLY_INPUT, reply_modal
from bot.services import replies
from handlers.middleware import authorize, can_act


def _value(body: dict[str, Any]) -> int | None:
    try:
        return int((body.get("actions") or [{}])[0].get("value"))
    except (TypeError, ValueError):
        return None


def register(app: App, deps: Deps) -> None:
    ws = deps.workspace

    def private(respond: Respond, text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    def open_composer(body: dict[str, Any], respond: Respond, client: WebClient, *, thank: bool) -> None:
        mention_id = _value(body)
        with session_scope(deps.engine) as session:
            mention = session.get(models.Mention, mention_id) if mention_id else None
            if mention is None:
                private(respond, t("mention_gone", deps.lang))
                return
            if not authorize(deps, body, respond, mention.responsibility):
                return
            author = session.get(models.Author, mention.author_id)
            assert author is not None
            # Thank the author in their own language when we know it, else in the brand's.
            lang = mention.lang if mention.lang in ("fr", "en") else ws.brand.language
            # The engagement rule's template (variants, author's language) when a rule matched; else a plain thanks.
            templated = next((e.get("reply") for e in (mention.rules or {}).get("engagement", []) if e.get("reply")),
                             None)
            prefill = templated or (t("thank_template", lang, name=author.name or author.handle) if thank else "")
            view = reply_modal(mention, author, prefill=prefill,
                               approvers=[] if body["user"]["id"] in replies.approvers_for(ws, mention.responsibility)
                               else replies.approvers_for(ws, mention.responsibility),
                               max_length=replies.MAX_REPLY.get(mention.network, replies.DEFAULT_MAX_REPLY),
                               lang=ws.brand.language)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(ids.REPLY)
    def reply(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        open_composer(body, respond, client, thank=False)

    @app.action(ids.THANK)
    def thank(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        open_composer(body, respond, client, thank=True)

    @app.view(ids.REPLY_MODAL)
    def reply_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        try:
            mention_id = int(json.loads(view.get("private_metadata") or "{}")["mention_id"])
            text = view["state"]["values"][REPLY_BLOCK][REPLY_INPUT].get("value") or ""
        except (KeyError, TypeError, ValueError):
            ack(response_action="errors", errors={REPLY_BLOCK: t("mention_gone", deps.lang)})
            return
        try:
            with session_scope(deps.engine) as session:
                mention = session.get(models.Mention, mention_id)
                if mention is None:
                    raise NotFound(str(mention_id))
                if not can_act(deps, user, mention.responsibility):
                    raise UserError(t("not_team_member", deps.lang,
                                      admins=", ".join(f"<@{a}>" for a in ws.admins)))
                replies.request(session, workspace=ws, mention_id=mention_id, kind="reply", user=user,
                                now=deps.clock.now(), text=text)
        except (UserError, NotFound) as error:
            message = t("mention_gone", deps.lang) if isinstance(error, NotFound) else str(error)
            ack(response_action="errors", errors={REPLY_BLOCK: message})
            return
        ack()
        deps.wake_outbox()

    @app.action(ids.HIDE)
    def hide(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        mention_id = _value(body)
        try:
            with session_scope(deps.engine) as session:
                mention = session.get(models.Mention, mention_id) if mention_id else None
                if mention is None:
                    raise NotFound(str(mention_id))
                if not authorize(deps, body, respond, mention.responsibility):
                    return
                replies.request(session, workspace=ws, mention_id=mention.id or 0, kind="hide",
                                user=body["user"]["id"], now=deps.clock.now())
        except NotFound:
            private(respond, t("mention_gone", deps.lang))
            return
        except UserError as error:
            private(respond, str(error))
            return
        deps.wake_outbox()

    def decide(ack: Ack, body: dict[str, Any], respond: Respond, *, approve: bool) -> None:
        ack()
        action_id = _value(body)
        try:
            with session_scope(deps.engine) as session:
                replies.decide(session, workspace=ws, action_id=action_id or 0, user=body["user"]["id"],
                               approve=approve, now=deps.clock.now())
        except NotFound:
            private(respond, t("mention_gone", deps.lang))
            return
        except UserError as error:
            private(respond, str(error))
            return
        deps.wake_outbox()

    @app.action(ids.APPROVE_ACTION)
    def approve(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        decide(ack, body, respond, approve=True)

    @app.action(ids.REJECT_ACTION)
    def reject(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        decide(ack, body, respond, approve=False)
