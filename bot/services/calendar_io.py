"""Calendar import (CSV or ICS text) and export (ICS): parse, report each bad line, and upsert by uid.

CSV columns (header line required, `,` or `;` separated, names case-insensitive):
  network, title, date (YYYY-MM-DD) + time (HH:MM, brand time zone) — or datetime (ISO 8601) — are required;
  pillar, type (promo | value), format (status | image | video | link), owner (Slack user id),
  status (draft | scheduled | published | cancelled), link, external_id and uid are optional.
A row is recognised on re-import by its uid, or without one by network + time + title: importing the same
file twice updates the posts, never duplicates them. ICS: one VEVENT per post (UID, DTSTART, SUMMARY, URL,
STATUS, and Veille's own X-VEILLE-* properties, which `export_ics` writes so an export imports back as is).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from sqlmodel import Session, col, select

from bot import models
from bot.messages import Lang, t
from bot.render.cards import NETWORK_LABELS
from bot.render.escape import safe_url
from bot.services import calendar
from bot.workspace import NETWORKS, SLACK_USER

REQUIRED = ("network", "title")
MAX_LENGTHS = {"title": 300, "pillar": 100, "uid": 255, "external_id": 255}
LEGACY_UID = re.compile(r"^veille-post-(\d+)@veille$")  # what export_ics gives a post created before uids
_LABELS = {label.casefold(): network for network, label in NETWORK_LABELS.items()}
_TYPES = {"promo": True, "promotional": True, "promotionnel": True, "promotion": True, "true": True, "yes": True,
          "value": False, "valeur": False, "false": False, "no": False, "": False}
_ICS_STATUS = {"CANCELLED": "cancelled", "TENTATIVE": "draft", "CONFIRMED": "scheduled"}


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad line: where, which field, and what to do about it."""

    line: int
    field: str
    problem: str

    def describe(self, lang: Lang) -> str:
        return t("cal_import_line", lang, line=self.line, field=self.field, problem=self.problem)


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    uid: str
    post: calendar.PostInput


@dataclass(slots=True)
class Parsed:
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class ImportResult:
    created: int = 0
    updated: int = 0
    problems: list[Problem] = field(default_factory=list)

    def describe(self, lang: Lang, *, limit: int = 30) -> str:
        lines = [t("cal_import_done", lang, created=self.created, updated=self.updated, errors=len(self.problems))]
        lines += [p.describe(lang) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append("…")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# Field readers: each returns the value or raises _Bad with the sentence to show


class _Bad(ValueError):
    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field_name
        self.problem = problem


def _network(value: str, lang: Lang) -> str:
    key = value.strip().casefold()
    network = key if key in NETWORKS else _LABELS.get(key)
    if network is None:
        raise _Bad("network", t("io_missing", lang) if not key else
                   t("io_network", lang, value=value.strip(), allowed=", ".join(NETWORKS)))
    return network


def _choice(name: str, value: str, allowed: Iterable[str], lang: Lang) -> str | None:
    key = value.strip().lower()
    if not key:
        return None
    if key not in allowed:
        raise _Bad(name, t("io_choice", lang, value=value.strip(), allowed=", ".join(allowed)))
    return key


def _text(name: str, value: str | None, lang: Lang, *, required: bool = False) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise _Bad(name, t("io_missing", lang))
        return None
    limit = MAX_LENGTHS.get(name)
    if limit and len(text) > limit:
        raise _Bad(name, t("io_too_long", lang, n=limit))
    return text


def _owner(value: str, lang: Lang) -> str | None:
    text = value.strip().removeprefix("<@").removesuffix(">").split("|")[0]
    if not text:
        return None
    if not SLACK_USER.match(text):
        raise _Bad("owner", t("io_user", lang, value=value.strip()))
    return text


def _link(value: str, lang: Lang) -> str | None:
    text = value.strip()
    if not text:
        return None
    if safe_url(text) is None:  # the rule the listing's links follow
        raise _Bad("link", t("io_link", lang, value=text))
    return text


def _promo(value: str, lang: Lang) -> bool:
    key = value.strip().lower()
    if key not in _TYPES:
        raise _Bad("type", t("io_choice", lang, value=value.strip(), allowed="promo, value"))
    return _TYPES[key]


def _derived_uid(prefix: str, post: calendar.PostInput) -> str:
    """A uid for a row that has none: the same network, time and title give the same uid."""
    digest = hashlib.sha256(f"{post.network}|{post.scheduled_at.isoformat()}|{post.title}".encode()).hexdigest()
    return f"{prefix}:{digest[:32]}"


# ---------------------------------------------------------------------------------------------------------
# CSV


def _csv_when(row: dict[str, str], zone: ZoneInfo, lang: Lang) -> datetime:
    if (row.get("datetime") or "").strip():
        text = row["datetime"].strip()
        try:
            at = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _Bad("datetime", t("io_datetime", lang, value=text)) from None
        return at if at.tzinfo else at.replace(tzinfo=zone)
    day_text, time_text = (row.get("date") or "").strip(), (row.get("time") or "").strip()
    if not day_text:
        raise _Bad("date", t("io_missing", lang))
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise _Bad("date", t("io_date", lang, value=day_text)) from None
    if not time_text:
        raise _Bad("time", t("io_missing", lang))
    try:
        clock = time.fromisoformat(time_text if len(time_text) > 2 else f"{int(time_text):02d}:00")
    except ValueError:
        raise _Bad("time", t("io_time", lang, value=time_text)) from None
    return datetime.combine(day, clock.replace(tzinfo=None), tzinfo=zone)


def parse_csv(text: str, *, tz: str, lang: Lang = "en") -> Parsed:
    """Read CSV text: the good rows, and one problem per bad line (the good ones are kept)."""
    parsed = Parsed()
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter, skipinitialspace=True)
    columns = {(name or "").strip().lower() for name in reader.fieldnames or []}
    missing = [c for c in REQUIRED if c not in columns]
    if "datetime" not in columns:
        missing += [c for c in ("date", "time") if c not in columns]
    if missing:
        parsed.problems.append(Problem(1, "header", t("io_columns", lang, columns=", ".join(missing))))
        return parsed
    zone = ZoneInfo(tz)
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        row = {(k or "").strip().lower(): (v if isinstance(v, str) else "") for k, v in raw.items()}
        if not any(v.strip() for v in row.values()):
            continue
        try:
            post = calendar.PostInput(
                network=_network(row.get("network", ""), lang),
                scheduled_at=_csv_when(row, zone, lang),
                title=_text("title", row.get("title"), lang, required=True) or "",
                pillar=_text("pillar", row.get("pillar"), lang),
                promo=_promo(row.get("type", ""), lang),
                format=_choice("format", row.get("format", ""), calendar.FORMATS, lang),
                owner=_owner(row.get("owner", ""), lang),
                status=_choice("status", row.get("status", ""), calendar.STATUSES, lang) or "scheduled",
                permalink=_link(row.get("link", ""), lang),
                external_id=_text("external_id", row.get("external_id"), lang),
            )
            uid = _text("uid", row.get("uid"), lang) or _derived_uid("csv", post)
        except _Bad as bad:
            parsed.problems.append(Problem(line, bad.field, bad.problem))
            continue
        if uid in seen:
            parsed.problems.append(Problem(line, "uid", t("io_duplicate", lang, value=uid, first=seen[uid])))
            continue
        seen[uid] = line
        parsed.rows.append(Row(line, uid, post))
    return parsed


# ---------------------------------------------------------------------------------------------------------
# ICS


def _prop(event: Any, name: str) -> str:
    value = event.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0]
    if hasattr(value, "cats"):  # CATEGORIES
        return ",".join(str(c) for c in value.cats)
    return str(value)


def _ics_network(event: Any, lang: Lang) -> str:
    explicit = _prop(event, "X-VEILLE-NETWORK")
    if explicit:
        return _network(explicit, lang)
    for candidate in [_prop(event, "LOCATION"), *_prop(event, "CATEGORIES").split(",")]:
        key = candidate.strip().casefold()
        if key in NETWORKS or key in _LABELS:
            return _network(candidate, lang)
    raise _Bad("network", t("io_missing", lang))


def _ics_when(event: Any, zone: ZoneInfo, lang: Lang) -> datetime:
    start = event.get("DTSTART")
    value = start.dt if start is not None else None
    if not isinstance(value, datetime):  # missing, or an all-day event: a post needs a time
        raise _Bad("DTSTART", t("io_missing", lang) if value is None else
                   t("io_datetime", lang, value=value.isoformat()))
    return value if value.tzinfo else value.replace(tzinfo=zone)


def parse_ics(text: str, *, tz: str, lang: Lang = "en") -> Parsed:
    """Read ICS text: one post per VEVENT, with the line of its BEGIN:VEVENT for problems."""
    parsed = Parsed()
    try:
        cal = icalendar.Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        parsed.problems.append(Problem(1, "ics", t("io_bad_ics", lang, problem=reason)))
        return parsed
    starts = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip().upper() == "BEGIN:VEVENT"]
    zone = ZoneInfo(tz)
    seen: dict[str, int] = {}
    for index, event in enumerate(cal.walk("VEVENT")):
        line = starts[index] if index < len(starts) else 1
        try:
            network = _ics_network(event, lang)
            title = _prop(event, "SUMMARY").strip()
            label = NETWORK_LABELS.get(network, network)
            if _prop(event, "X-VEILLE-NETWORK") and title.startswith(f"{label}: "):
                title = title.removeprefix(f"{label}: ")  # export_ics puts the network first, for the agenda
            status = _choice("X-VEILLE-STATUS", _prop(event, "X-VEILLE-STATUS"), calendar.STATUSES, lang) or \
                _ICS_STATUS.get(_prop(event, "STATUS").upper(), "scheduled")
            post = calendar.PostInput(
                network=network, scheduled_at=_ics_when(event, zone, lang),
                title=_text("SUMMARY", title, lang, required=True) or "",
                pillar=_text("pillar", _prop(event, "X-VEILLE-PILLAR"), lang),
                promo=_promo(_prop(event, "X-VEILLE-TYPE"), lang),
                format=_choice("X-VEILLE-FORMAT", _prop(event, "X-VEILLE-FORMAT"), calendar.FORMATS, lang),
                owner=_owner(_prop(event, "X-VEILLE-OWNER"), lang), status=status,
                permalink=_link(_prop(event, "URL"), lang),
                external_id=_text("external_id", _prop(event, "X-VEILLE-POST-ID"), lang),
            )
            uid = _text("uid", _prop(event, "UID"), lang) or _derived_uid("ics", post)
        except _Bad as bad:
            parsed.problems.append(Problem(line, bad.field, bad.problem))
            continue
        if uid in seen:
            parsed.problems.append(Problem(line, "UID", t("io_duplicate", lang, value=uid, first=seen[uid])))
            continue
        seen[uid] = line
        parsed.rows.append(Row(line, uid, post))
    return parsed


def parse(text: str, *, tz: str, lang: Lang = "en") -> Parsed:
    """CSV or ICS, told apart by the text itself."""
    body = text.lstrip("\ufeff \r\n\t")
    if body.upper().startswith("BEGIN:VCALENDAR"):
        return parse_ics(body, tz=tz, lang=lang)
    first = body.splitlines()[0].lower() if body else ""
    if "network" in first and "title" in first:
        return parse_csv(body, tz=tz, lang=lang)
    return Parsed(problems=[Problem(1, "file", t("io_unknown_format", lang))])


# ---------------------------------------------------------------------------------------------------------
# Import into the store


def _existing(session: Session, uid: str) -> models.CalendarPost | None:
    post = session.exec(select(models.CalendarPost).where(models.CalendarPost.import_uid == uid)).first()
    if post is not None:
        return post
    legacy = LEGACY_UID.match(uid)
    if legacy:  # exported before it had a uid: the same row of this database
        post = session.get(models.CalendarPost, int(legacy.group(1)))
        if post is not None and post.import_uid is None:
            return post
    return None


def apply(session: Session, parsed: Parsed, *, user: str, now: datetime) -> ImportResult:
    """Upsert the parsed rows by uid; the parse problems are carried into the result."""
    result = ImportResult(problems=list(parsed.problems))
    for row in parsed.rows:
        post = _existing(session, row.uid)
        if post is None:
            calendar.save(session, data=row.post, user=user, now=now, import_uid=row.uid, imported=True)
            result.created += 1
        else:
            calendar.save(session, data=row.post, user=user, now=now, post=post, imported=True)
            if post.import_uid is None:
                post.import_uid = row.uid
            result.updated += 1
    result.problems.sort(key=lambda p: p.line)
    return result


def import_text(session: Session, text: str, *, tz: str, user: str, now: datetime,
                lang: Lang = "en") -> ImportResult:
    """Parse and import: the good lines are saved even when others are refused."""
    return apply(session, parse(text, tz=tz, lang=lang), user=user, now=now)


# ---------------------------------------------------------------------------------------------------------
# Export


def export_posts(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                 limit: int = 20_000) -> list[models.CalendarPost]:
    query = select(models.CalendarPost)
    if start is not None:
        query = query.where(col(models.CalendarPost.scheduled_at) >= start)
    if end is not None:
        query = query.where(col(models.CalendarPost.scheduled_at) < end)
    return list(session.exec(query.order_by(col(models.CalendarPost.scheduled_at)).limit(limit)).all())


def export_ics(posts: Iterable[models.CalendarPost], *, brand: str, now: datetime) -> str:
    """An iCalendar file any agenda opens; Veille's own fields ride along as X-VEILLE-* properties."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Veille//Content calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{brand} — content calendar")
    for post in posts:
        label = NETWORK_LABELS.get(post.network, post.network)
        event = icalendar.Event()
        event.add("uid", post.import_uid or f"veille-post-{post.id}@veille")
        event.add("dtstamp", now)
        event.add("dtstart", post.scheduled_at)
        event.add("dtend", post.scheduled_at + timedelta(minutes=15))
        event.add("summary", f"{label}: {post.title}")
        event.add("location", label)
        event.add("status", {"cancelled": "CANCELLED", "draft": "TENTATIVE"}.get(post.status, "CONFIRMED"))
        details = [f"{'promo' if post.promo else 'value'}", post.pillar, post.format, post.status,
                   f"owner {post.owner}" if post.owner else None]
        event.add("description", " · ".join(d for d in details if d))
        if post.permalink:
            event.add("url", post.permalink)
        for name, value in (("x-veille-network", post.network), ("x-veille-pillar", post.pillar),
                            ("x-veille-type", "promo" if post.promo else "value"), ("x-veille-format", post.format),
                            ("x-veille-owner", post.owner), ("x-veille-status", post.status),
                            ("x-veille-post-id", post.external_id)):
            if value:
                event.add(name, value)
        cal.add_component(event)
    return cal.to_ical().decode("utf-8")
