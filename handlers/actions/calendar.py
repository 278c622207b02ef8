"""The calendar's buttons (Edit, Cancel, Mark published) and its modals (post form, publish, import)."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot import models
from bot.db import session_scope
from bot.deps import Deps
from bot.errors import NotFound
from bot.messages import t
from bot.render import calendar as render
from bot.render.escape import escape, safe_url
from bot.services import calendar, calendar_io
from handlers.commands.calendar import listing, may_plan, refusal

logger = logging.getLogger(__name__)


def _target(body: dict[str, Any]) -> tuple[int | None, str]:
    """The post id and the listing's view argument a button carries."""
    try:
        value = json.loads((body.get("actions") or [{}])[0].get("value") or "{}")
        return int(value["id"]), str(value.get("view") or "")
    except (TypeError, ValueError, KeyError):
        return None, ""


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def register(app: App, deps: Deps) -> None:
    ws = deps.workspace
    tz = ws.brand.timezone
    profiles = calendar.HourProfiles()

    def private(respond: Respond, text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    def refresh(response_url: str | None, view_arg: str | None, note: str) -> None:
        """Show the change where it was asked for: the listing re-rendered in place, or a short confirmation."""
        if not response_url:
            return
        client = WebhookClient(response_url)
        try:
            parsed = calendar.parse_view(view_arg, now=deps.clock.now(), tz=tz) if view_arg is not None else None
            if parsed is not None:
                rendered = listing(deps, parsed, profiles)
                client.send(text=note, blocks=rendered.blocks, response_type="ephemeral", replace_original=True)
            else:
                client.send(text=note, response_type="ephemeral", replace_original=False)
        except Exception:  # the change is saved; a lost refresh only means the listing is one step behind
            logger.exception("could not refresh the calendar listing")

    def open_modal(body: dict[str, Any], respond: Respond, client: WebClient, *, publish: bool) -> None:
        if not may_plan(deps, body["user"]["id"]):
            private(respond, refusal(deps))
            return
        post_id, view_arg = _target(body)
        with session_scope(deps.engine) as session:
            post = session.get(models.CalendarPost, post_id) if post_id else None
            if post is None:
                private(respond, t("cal_post_gone", deps.lang))
                return
            metadata = {"post_id": post.id, "response_url": body.get("response_url"), "view": view_arg}
            view = render.publish_modal(post, lang=deps.lang, metadata=metadata) if publish else \
                render.post_modal(post, tz=tz, lang=deps.lang, reminder_min=ws.calendar.reminder_before_min,
                                  metadata=metadata, now=deps.clock.now())
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(render.EDIT)
    def edit(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        open_modal(body, respond, client, publish=False)

    @app.action(render.PUBLISH)
    def publish(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        open_modal(body, respond, client, publish=True)

    @app.action(render.CANCEL)
    def cancel(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user = body["user"]["id"]
        if not may_plan(deps, user):
            private(respond, refusal(deps))
            return
        post_id, view_arg = _target(body)
        try:
            with session_scope(deps.engine) as session:
                post = calendar.cancel(session, post_id=post_id or 0, user=user, now=deps.clock.now())
                title = post.title
        except NotFound:
            private(respond, t("cal_post_gone", deps.lang))
            return
        refresh(body.get("response_url"), view_arg, t("cal_cancelled", deps.lang, title=escape(title)))

    @app.view(render.POST_MODAL)
    def post_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        metadata = _metadata(view)
        post_id = metadata.get("post_id")
        if not may_plan(deps, user):
            ack(response_action="errors", errors={render.TITLE: refusal(deps)})
            return
        values = (view.get("state") or {}).get("values") or {}
        try:
            with session_scope(deps.engine) as session:
                previous = session.get(models.CalendarPost, int(post_id)) if post_id else None
                if post_id and previous is None:
                    raise NotFound(str(post_id))
                data, errors = render.read_post_modal(values, tz=tz, lang=deps.lang, now=deps.clock.now(),
                                                      previous=previous)
                if data is None:
                    ack(response_action="errors", errors=errors)
                    return
                post = calendar.save(session, data=data, user=user, now=deps.clock.now(), post=previous)
                line = render.post_line(post, tz=tz, lang=deps.lang)
        except NotFound:
            ack(response_action="errors", errors={render.TITLE: t("cal_post_gone", deps.lang)})
            return
        ack()
        refresh(metadata.get("response_url"), metadata.get("view"), t("cal_saved", deps.lang, post=line))

    @app.view(render.PUBLISH_MODAL)
    def publish_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        metadata = _metadata(view)
        if not may_plan(deps, user):
            ack(response_action="errors", errors={render.LINK: refusal(deps)})
            return
        values = (view.get("state") or {}).get("values") or {}
        link = render.text_value(values, render.LINK) or None
        if link and not safe_url(link):
            ack(response_action="errors", errors={render.LINK: t("cal_err_link", deps.lang)})
            return
        try:
            with session_scope(deps.engine) as session:
                post = calendar.mark_published(session, post_id=int(metadata.get("post_id") or 0), user=user,
                                               now=deps.clock.now(), link=link,
                                               external_id=render.text_value(values, render.EXTERNAL_ID) or None)
                title = post.title
        except NotFound:
            ack(response_action="errors", errors={render.LINK: t("cal_post_gone", deps.lang)})
            return
        ack()
        refresh(metadata.get("response_url"), metadata.get("view"), t("cal_published", deps.lang, title=escape(title)))

    @app.view(render.IMPORT_MODAL)
    def import_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        if user not in ws.admins:
            ack(response_action="errors", errors={render.IMPORT_TEXT: t(
                "cal_admin_only", deps.lang, admins=", ".join(f"<@{a}>" for a in ws.admins))})
            return
        text = render.text_value((view.get("state") or {}).get("values") or {}, render.IMPORT_TEXT)
        with session_scope(deps.engine) as session:
            result = calendar_io.import_text(session, text, tz=tz, user=user, now=deps.clock.now(), lang=deps.lang)
        # The report replaces the form: what was added, updated, and each refused line with its fix.
        ack(response_action="update", view=render.import_report_modal(escape(result.describe(deps.lang)),
                                                                       lang=deps.lang))
