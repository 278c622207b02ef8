"""The content calendar in Block Kit: the listing with its buttons and warnings, the post, publish and import modals.

Modal block ids live here with the code that reads the submitted values back (`read_post_modal`), so the two
never drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot import models
from bot.messages import Lang, t
from bot.render.cards import NETWORK_LABELS, Rendered, network_label
from bot.render.escape import SECTION_TEXT_MAX, escape, safe_url, truncate
from bot.services import calendar
from bot.workspace import NETWORKS

# Action and callback ids (kept with the calendar: no other surface emits them).
EDIT = "calendar_edit"
CANCEL = "calendar_cancel"
PUBLISH = "calendar_publish"
POST_MODAL = "calendar_post_modal"
PUBLISH_MODAL = "calendar_publish_modal"
IMPORT_MODAL = "calendar_import_modal"

# Modal blocks; each input's element has the action id "v".
NETWORK, DATE, TIME, TITLE, PILLAR = "cal_network", "cal_date", "cal_time", "cal_title", "cal_pillar"
KIND, FORMAT, OWNER, STATUS = "cal_kind", "cal_format", "cal_owner", "cal_status"
LINK, EXTERNAL_ID, IMPORT_TEXT = "cal_link", "cal_external_id", "cal_import_text"
INPUT = "v"

MAX_BLOCKS = 50
STATUS_ICONS = {"draft": "📝", "scheduled": "🗓️", "published": "✅", "cancelled": "✖️"}
IMPORT_MAX_CHARS = 3000  # Slack's limit for a plain-text input: bigger files go through `veille calendar import`


# ---------------------------------------------------------------------------------------------------------
# Dates in words


def day_label(day: date, lang: Lang) -> str:
    weekdays = t("cal_weekdays", lang).split(",")
    months = t("cal_months", lang).split(",")
    return t("cal_day", lang, weekday=weekdays[day.weekday()], day=day.day, month=months[day.month - 1])


def short_at(at: datetime, tz: str, lang: Lang) -> str:
    """'Tue 24 Nov 14:00' in the brand's time zone."""
    local = at.astimezone(ZoneInfo(tz))
    weekday = t("cal_weekdays", lang).split(",")[local.weekday()][:3]
    month = t("cal_months", lang).split(",")[local.month - 1][:3]
    return f"{weekday} {local.day} {month} {local:%H:%M}"


def _title(view: calendar.CalendarView, lang: Lang) -> str:
    start = view.start.date()
    if view.period == "today":
        text = t("calendar_title_today", lang, date=day_label(start, lang))
    elif view.period == "week":
        text = t("calendar_title_week", lang, date=day_label(start, lang))
    elif view.period == "month":
        text = t("calendar_title_month", lang, month=f"{t('cal_months', lang).split(',')[start.month - 1]} "
                                                     f"{start.year}")
    else:
        text = t("calendar_title", lang, days=view.days)
    if view.network:
        text += f" · {NETWORK_LABELS.get(view.network, view.network)}"
    return truncate(text, 150)


# ---------------------------------------------------------------------------------------------------------
# The listing


def post_line(post: models.CalendarPost, *, tz: str, lang: Lang) -> str:
    """`14:00` 🗓️ *Instagram* — Title  _(value · pillar · image)_ · <@owner>"""
    local = post.scheduled_at.astimezone(ZoneInfo(tz))
    kind = t("promo", lang) if post.promo else t("value", lang)
    details = [kind] + ([escape(post.pillar)] if post.pillar else []) + (
        [t(f"cal_format_{post.format}", lang).lower()] if post.format in calendar.FORMATS else [])
    status = t(f"cal_status_{post.status}", lang) if post.status in calendar.STATUSES else escape(post.status)
    line = (f"`{local:%H:%M}` {STATUS_ICONS.get(post.status, '')} *{network_label(post.network)}* — "
            f"{escape(post.title)}  _({' · '.join(details)})_ · {status}")
    if post.owner:
        line += f" · <@{post.owner}>"
    link = safe_url(post.permalink)
    if link:
        line += f" · <{link}|{t('view_on', lang, network=network_label(post.network))}>"
    return line


def _buttons(post: models.CalendarPost, view_arg: str, lang: Lang) -> ActionsBlock:
    value = json.dumps({"id": post.id, "view": view_arg})
    elements = [ButtonElement(text=t("cal_edit", lang), action_id=EDIT, value=value)]
    if post.status != "published":
        elements.append(ButtonElement(text=t("cal_publish", lang), action_id=PUBLISH, value=value, style="primary"))
    elements.append(ButtonElement(
        text=t("cal_cancel", lang), action_id=CANCEL, value=value, style="danger",
        confirm=ConfirmObject(title=t("cal_cancel_confirm_title", lang),
                              text=PlainTextObject(text=truncate(t("cal_cancel_confirm_text", lang,
                                                                   title=post.title), 300)),
                              confirm=t("cal_cancel_confirm_yes", lang), deny=t("cal_cancel_confirm_no", lang))))
    return ActionsBlock(block_id=f"calendar:{post.id}", elements=elements)


def _number(value: float, lang: Lang) -> str:
    text = f"{round(value, 1):g}"
    return text.replace(".", ",") if lang == "fr" else text


def warning_lines(warnings: calendar.Warnings, *, tz: str, lang: Lang) -> list[str]:
    """One sentence per warning, in the order a planner acts on them."""
    lines = []
    for gap in warnings.gaps:
        every = t("cal_every_days", lang, n=_number(1 / gap.target, lang)) if gap.target < 1 else \
            t("cal_per_day", lang, n=_number(gap.target, lang))
        fmt = f" ({t(f'cal_format_{gap.format}', lang).lower()})" if gap.format in calendar.FORMATS else ""
        lines.append(t("cal_gap", lang, network=network_label(gap.network), format=fmt,
                       days=_number(gap.days, lang), start=short_at(gap.start, tz, lang),
                       end=short_at(gap.end, tz, lang), every=every))
    mix = warnings.mix
    if mix is not None and mix.over:
        add = t("cal_mix_add", lang, n=mix.to_add) if mix.to_add else ""
        lines.append(t("cal_mix_over", lang, days=mix.days, promo=mix.promo, total=mix.total,
                       share=round(100 * mix.share), max=round(100 * mix.max_share), convert=mix.to_convert, add=add))
    for close in warnings.too_close:
        minutes = int(close.gap.total_seconds() // 60)
        gap = f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"
        lines.append(t("cal_too_close", lang, network=network_label(close.first.network),
                       first=escape(close.first.title), first_at=short_at(close.first.scheduled_at, tz, lang),
                       second=escape(close.second.title), second_at=short_at(close.second.scheduled_at, tz, lang),
                       gap=gap, min=_number(close.min_gap_h, lang)))
    for bad in warnings.bad_hours:
        lines.append(t("cal_bad_hour", lang, title=escape(bad.post.title), network=network_label(bad.post.network),
                       at=short_at(bad.post.scheduled_at, tz, lang), hour=f"{bad.hour:02d}",
                       avg=_number(bad.stats.average, lang), median=_number(bad.median, lang),
                       best=f"{bad.best_hour:02d}", best_avg=_number(bad.best.average, lang)))
    return lines


def render_listing(view: calendar.CalendarView, posts: Sequence[models.CalendarPost],
                   warnings: calendar.Warnings | None, *, tz: str, lang: Lang) -> Rendered:
    """The view's posts grouped by local day; buttons on each post when they fit in one message."""
    zone = ZoneInfo(tz)
    blocks: list[Block] = [HeaderBlock(text=_title(view, lang))]
    lines = warning_lines(warnings, tz=tz, lang=lang) if warnings else []
    tail: list[Block] = []
    if lines:
        tail.append(SectionBlock(text=MarkdownTextObject(
            text=truncate(f"*{t('cal_warnings', lang)}*\n" + "\n".join(lines), SECTION_TEXT_MAX))))
    mix = warnings.mix if warnings else None
    if mix is not None and not mix.over:
        tail.append(ContextBlock(elements=[MarkdownTextObject(text=t(
            "cal_mix_ok", lang, days=mix.days, promo=mix.promo, value=mix.total - mix.promo,
            share=round(100 * mix.share), max=round(100 * mix.max_share)))]))
    days = [(day, list(group)) for day, group in groupby(posts, key=lambda p: p.scheduled_at.astimezone(zone).date())]
    room = MAX_BLOCKS - len(blocks) - len(tail) - 1  # one left for the "more" note
    if not posts:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=t("calendar_empty", lang))))
    elif len(days) + 2 * len(posts) <= room:
        for day, day_posts in days:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{day_label(day, lang)}*")))
            for post in day_posts:
                blocks.append(SectionBlock(text=MarkdownTextObject(
                    text=truncate(post_line(post, tz=tz, lang=lang), SECTION_TEXT_MAX))))
                blocks.append(_buttons(post, view.arg, lang))
    else:
        # Too many posts for a button row each: one block per day, and a hint to narrow the view.
        shown = days[:room]
        for day, day_posts in shown:
            text = f"*{day_label(day, lang)}*\n" + "\n".join(post_line(p, tz=tz, lang=lang) for p in day_posts)
            blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX))))
        hidden = len(posts) - sum(len(p) for _, p in shown)
        note = t("cal_more", lang, n=hidden) if hidden else t("cal_compact", lang)
        tail.insert(0, ContextBlock(elements=[MarkdownTextObject(text=note)]))
    fallback = f"{_title(view, lang)}: {len(posts)}"
    return Rendered(fallback, [b.to_dict() for b in blocks + tail])


# ---------------------------------------------------------------------------------------------------------
# Modals


def _option(text: str, value: str) -> Option:
    return Option(text=PlainTextObject(text=truncate(text, 75)), value=value)


def post_modal(post: models.CalendarPost | None, *, tz: str, lang: Lang, reminder_min: int,
               metadata: dict[str, Any], now: datetime) -> dict:
    """The add / edit form; `post` prefills it."""
    networks = [_option(NETWORK_LABELS.get(n, n), n) for n in NETWORKS]
    formats = [_option(t(f"cal_format_{f}", lang), f) for f in calendar.FORMATS]
    statuses = [_option(t(f"cal_status_{s}", lang).capitalize(), s) for s in calendar.STATUSES]
    kinds = [_option(t("cal_kind_value", lang), "value"), _option(t("cal_kind_promo", lang), "promo")]
    local = (post.scheduled_at if post else now).astimezone(ZoneInfo(tz))

    def pick(options: list[Option], value: str | None) -> Option | None:
        return next((o for o in options if o.value == value), None)

    view = View(
        type="modal", callback_id=POST_MODAL,
        title=t("cal_modal_edit" if post else "cal_modal_add", lang),
        submit=t("save", lang), close=t("cancel", lang), private_metadata=json.dumps(metadata),
        blocks=[
            InputBlock(block_id=NETWORK, label=t("cal_network", lang), element=StaticSelectElement(
                action_id=INPUT, options=networks, initial_option=pick(networks, post.network if post else None))),
            InputBlock(block_id=DATE, label=t("cal_date", lang),
                       element=DatePickerElement(action_id=INPUT, initial_date=local.date().isoformat())),
            InputBlock(block_id=TIME, label=t("cal_time", lang, tz=tz), element=TimePickerElement(
                action_id=INPUT, initial_time=f"{local:%H:%M}" if post else None, timezone=tz)),
            InputBlock(block_id=TITLE, label=t("cal_title_label", lang), element=PlainTextInputElement(
                action_id=INPUT, max_length=300, initial_value=post.title if post else None)),
            InputBlock(block_id=PILLAR, label=t("cal_pillar", lang), optional=True, element=PlainTextInputElement(
                action_id=INPUT, max_length=100, initial_value=post.pillar if post and post.pillar else None)),
            InputBlock(block_id=KIND, label=t("cal_kind", lang), element=RadioButtonsElement(
                action_id=INPUT, options=kinds, initial_option=kinds[1] if post and post.promo else kinds[0])),
            InputBlock(block_id=FORMAT, label=t("cal_format", lang), optional=True, element=StaticSelectElement(
                action_id=INPUT, options=formats, initial_option=pick(formats, post.format if post else None))),
            InputBlock(block_id=OWNER, label=t("cal_owner", lang), optional=True, element=UserSelectElement(
                action_id=INPUT, initial_user=post.owner if post and post.owner else None)),
            InputBlock(block_id=STATUS, label=t("cal_status", lang), element=StaticSelectElement(
                action_id=INPUT, options=statuses,
                initial_option=pick(statuses, post.status if post else "scheduled"))),
            ContextBlock(elements=[MarkdownTextObject(text=t("cal_modal_hint", lang, tz=tz, minutes=reminder_min))]),
        ],
    )
    return view.to_dict()


def publish_modal(post: models.CalendarPost, *, lang: Lang, metadata: dict[str, Any]) -> dict:
    """Mark published: an optional link and network post id, so comments are tied to this post."""
    view = View(
        type="modal", callback_id=PUBLISH_MODAL, title=t("cal_publish", lang),
        submit=t("cal_publish", lang), close=t("cancel", lang), private_metadata=json.dumps(metadata),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f"*{network_label(post.network)}* — {escape(post.title)}")),
            InputBlock(block_id=LINK, label=t("cal_link", lang), optional=True, element=PlainTextInputElement(
                action_id=INPUT, initial_value=post.permalink or None)),
            InputBlock(block_id=EXTERNAL_ID, label=t("cal_external_id", lang), optional=True,
                       element=PlainTextInputElement(action_id=INPUT, max_length=255,
                                                     initial_value=post.external_id or None)),
            ContextBlock(elements=[MarkdownTextObject(text=t("cal_publish_hint", lang))]),
        ],
    )
    return view.to_dict()


def import_modal(*, tz: str, lang: Lang, metadata: dict[str, Any]) -> dict:
    view = View(
        type="modal", callback_id=IMPORT_MODAL, title=t("cal_import_title", lang),
        submit=t("cal_import_submit", lang), close=t("cancel", lang), private_metadata=json.dumps(metadata),
        blocks=[
            InputBlock(block_id=IMPORT_TEXT, label=t("cal_import_label", lang), element=PlainTextInputElement(
                action_id=INPUT, multiline=True, max_length=IMPORT_MAX_CHARS)),
            ContextBlock(elements=[MarkdownTextObject(text=t("cal_import_hint", lang, tz=tz))]),
        ],
    )
    return view.to_dict()


def import_report_modal(text: str, *, lang: Lang) -> dict:
    """What the import did, shown in place of the form."""
    view = View(type="modal", callback_id=f"{IMPORT_MODAL}_done", title=t("cal_import_title", lang),
                close=t("cal_close", lang),
                blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))])
    return view.to_dict()


# ---------------------------------------------------------------------------------------------------------
# Reading a submitted post modal back


def _value(values: dict[str, Any], block: str) -> dict[str, Any]:
    return (values.get(block) or {}).get(INPUT) or {}


def _selected(values: dict[str, Any], block: str) -> str | None:
    option = _value(values, block).get("selected_option")
    return option.get("value") if isinstance(option, dict) else None


def text_value(values: dict[str, Any], block: str) -> str:
    return (_value(values, block).get("value") or "").strip()


def read_post_modal(values: dict[str, Any], *, tz: str, lang: Lang, now: datetime,
                    previous: models.CalendarPost | None) -> tuple[calendar.PostInput | None, dict[str, str]]:
    """The post a member submitted, or the field errors to show next to the fields (Slack's response_action)."""
    errors: dict[str, str] = {}
    network = _selected(values, NETWORK)
    if network not in NETWORKS:
        errors[NETWORK] = t("cal_err_network", lang)
    title = text_value(values, TITLE)
    if not title:
        errors[TITLE] = t("cal_err_title", lang)
    day_text, time_text = _value(values, DATE).get("selected_date"), _value(values, TIME).get("selected_time")
    at: datetime | None = None
    try:
        day = date.fromisoformat(day_text or "")
    except ValueError:
        errors[DATE] = t("cal_err_date", lang)
        day = None
    try:
        clock = time.fromisoformat(time_text or "")
    except ValueError:
        errors[TIME] = t("cal_err_time", lang)
        clock = None
    if day is not None and clock is not None:
        at = datetime.combine(day, clock, tzinfo=ZoneInfo(tz))
    status = _selected(values, STATUS) or "scheduled"
    if status not in calendar.STATUSES:
        status = "scheduled"
    moved = previous is None or at != previous.scheduled_at
    # Planning in the past is a typo, unless the post is being recorded as already published.
    if at is not None and moved and at < now and status in ("draft", "scheduled"):
        errors[TIME] = t("cal_err_past", lang, at=short_at(at, tz, lang))
    owner = _value(values, OWNER).get("selected_user") or None
    if errors or at is None or network is None:
        return None, errors
    fmt = _selected(values, FORMAT)
    return calendar.PostInput(network=network, scheduled_at=at, title=title, pillar=text_value(values, PILLAR) or None,
                              promo=_selected(values, KIND) == "promo",
                              format=fmt if fmt in calendar.FORMATS else None, owner=owner, status=status), {}
