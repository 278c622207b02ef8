"""Card and digest buttons. Each: ack, parse, authorize, call a triage service in one transaction, wake the
outbox — the card is re-rendered from its row and the action lands in the card's thread."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import ids, models
from bot.db import session_scope
from bot.deps import Deps
from bot.errors import NotFound, UserError
from bot.messages import t
from bot.render.modals import OVERRIDE_LABEL, OVERRIDE_TERM, override_modal
from bot.sentiment.scorer import Correction
from bot.services import incidents, triage
from handlers.middleware import authorize, can_act


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    return actions[0] if isinstance(actions[0], dict) else {}


def _int(text: str | None) -> int | None:
    try:
        return int(str(text))
    except (TypeError, ValueError):
        return None


def _mention_from_block(action: dict[str, Any]) -> int | None:
    block = str(action.get("block_id", ""))
    return _int(block.removeprefix("triage:")) if block.startswith("triage:") else None


def register(app: App, deps: Deps) -> None:
    ws = deps.workspace
    opts = {"lang": ws.brand.language, "tz": ws.brand.timezone}

    def on_mention(body: dict[str, Any], respond: Respond, mention_id: int | None,
                   change: Callable[..., bool]) -> None:
        """Authorize against the mention's responsibility, then apply `change(session)` in one transaction."""
        if mention_id is None:
            respond(text=t("mention_gone", deps.lang), response_type="ephemeral", replace_original=False)
            return
        try:
            with session_scope(deps.engine) as session:
                mention = session.get(models.Mention, mention_id)
                if mention is None:
                    raise NotFound(str(mention_id))
                if not authorize(deps, body, respond, mention.responsibility):
                    return
                changed = change(session)
        except NotFound:
            respond(text=t("mention_gone", deps.lang), response_type="ephemeral", replace_original=False)
            return
        except UserError as error:
            respond(text=str(error), response_type="ephemeral", replace_original=False)
            return
        if changed:
            deps.wake_outbox()

    def user_of(body: dict[str, Any]) -> str:
        return str(body["user"]["id"])

    @app.action(ids.MARK_HANDLED)
    def mark_handled(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        mention_id = _int(_action(body).get("value"))
        on_mention(body, respond, mention_id, lambda s: triage.mark_handled(
            s, mention_id=mention_id, user=user_of(body), now=deps.clock.now(), **opts))

    @app.action(ids.REOPEN)
    def reopen(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        mention_id = _int(_action(body).get("value"))
        on_mention(body, respond, mention_id, lambda s: triage.reopen(
            s, mention_id=mention_id, user=user_of(body), now=deps.clock.now(), **opts))

    @app.action(ids.TAKE)
    def take(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        mention_id = _int(_action(body).get("value"))
        on_mention(body, respond, mention_id, lambda s: triage.take(
            s, mention_id=mention_id, user=user_of(body), now=deps.clock.now(), **opts))

    @app.action(ids.REASSIGN)
    def reassign(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        action = _action(body)
        mention_id, to = _mention_from_block(action), action.get("selected_user")
        if not to:
            return
        on_mention(body, respond, mention_id, lambda s: triage.reassign(
            s, mention_id=mention_id, user=user_of(body), to=str(to), now=deps.clock.now(), **opts))

    @app.action(ids.SNOOZE)
    def snooze(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        value = str((_action(body).get("selected_option") or {}).get("value", ""))
        raw_id, _, minutes = value.partition(":")
        mention_id, delay = _int(raw_id), _int(minutes)
        if delay is None:
            return
        now = deps.clock.now()
        on_mention(body, respond, mention_id, lambda s: triage.snooze(
            s, mention_id=mention_id, user=user_of(body), until=now + timedelta(minutes=delay), now=now, **opts))

    @app.action(ids.CARD_MENU)
    def card_menu(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        value = str((_action(body).get("selected_option") or {}).get("value", ""))
        parts = value.split(":")
        if parts[0] == "dismiss" and len(parts) == 2:
            mention_id = _int(parts[1])
            on_mention(body, respond, mention_id, lambda s: triage.not_relevant(
                s, mention_id=mention_id, user=user_of(body), now=deps.clock.now(), **opts))
        elif parts[0] == "escalate" and len(parts) == 2:
            mention_id = _int(parts[1])
            on_mention(body, respond, mention_id, lambda s: bool(incidents.escalate_mention(
                s, workspace=ws, mention_id=mention_id, user=user_of(body), now=deps.clock.now())))
        elif parts[0] == "sentiment" and len(parts) == 3:
            mention_id = _int(parts[2])
            text: list[str] = []

            def correct(s: Any) -> bool:
                mention = s.get(models.Mention, mention_id)
                text.append(mention.text if mention else "")
                return triage.correct_sentiment(s, mention_id=mention_id, user=user_of(body), label=parts[1],
                                                now=deps.clock.now(), **opts)

            on_mention(body, respond, mention_id, correct)
            if text and text[0]:
                # The same text is now read as the member said, from the next item on (the scorer is shared).
                deps.scorer = deps.scorer.with_overrides(corrections=[Correction(text[0], parts[1], "text")])
        elif parts[0] == "override" and len(parts) == 2 and body.get("trigger_id"):
            client.views_open(trigger_id=body["trigger_id"], view=override_modal(_int(parts[1]) or 0, deps.lang))

    def on_digest(body: dict[str, Any], respond: Respond, change: Callable[..., int]) -> None:
        if not authorize(deps, body, respond, None):
            return
        try:
            with session_scope(deps.engine) as session:
                changed = change(session)
        except NotFound:
            respond(text=t("mention_gone", deps.lang), response_type="ephemeral", replace_original=False)
            return
        if changed:
            deps.wake_outbox()

    @app.view(ids.OVERRIDE_MODAL)
    def override_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        values = view.get("state", {}).get("values", {})
        term = str((values.get(OVERRIDE_TERM, {}).get("term") or {}).get("value") or "").strip()
        label = str(((values.get(OVERRIDE_LABEL, {}).get("label") or {}).get("selected_option") or {}).get("value", ""))
        mention_id = _int(view.get("private_metadata"))
        if not term or len(term) > 100:
            ack(response_action="errors", errors={OVERRIDE_TERM: t("override_term_needed", deps.lang)})
            return
        try:
            with session_scope(deps.engine) as session:
                mention = session.get(models.Mention, mention_id) if mention_id else None
                if mention is None:
                    raise NotFound(str(mention_id))
                if not can_act(deps, user, mention.responsibility):
                    raise UserError(t("not_team_member", deps.lang, admins=", ".join(f"<@{a}>" for a in ws.admins)))
                triage.override_term(session, mention_id=mention.id or 0, user=user, term=term, label=label,
                                     now=deps.clock.now(), **opts)
        except (NotFound, UserError) as error:
            ack(response_action="errors", errors={OVERRIDE_TERM: str(error) if isinstance(error, UserError)
                                                  else t("mention_gone", deps.lang)})
            return
        ack()
        deps.scorer = deps.scorer.with_overrides(corrections=[Correction(term, label, "term")])  # type: ignore[arg-type]
        deps.wake_outbox()

    @app.action(ids.DIGEST_EXPAND)
    def digest_expand(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        key = str(_action(body).get("value", ""))
        on_digest(body, respond, lambda s: triage.expand_digest(s, key=key, user=user_of(body),
                                                                now=deps.clock.now()))

    @app.action(ids.DIGEST_HANDLE_ALL)
    def digest_handle_all(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        key = str(_action(body).get("value", ""))
        on_digest(body, respond, lambda s: triage.handle_digest(s, key=key, user=user_of(body),
                                                                now=deps.clock.now(), **opts))
