"""Triage actions on a mention. Each one changes the row, records who did what (a `CardEvent`), posts that
line in the card's thread and asks for the card to be re-rendered — all in the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from bot import models
from bot.errors import NotFound, UserError
from bot.messages import Lang, t
from bot.outbox import enqueue_thread, touch_card, touch_homes
from bot.render.escape import escape, truncate
from bot.services.engagement import close_tasks

SENTIMENTS = ("positive", "neutral", "negative")


def _mention(session: Session, mention_id: int) -> models.Mention:
    mention = session.get(models.Mention, mention_id)
    if mention is None:
        raise NotFound(f"mention {mention_id}")
    return mention


def current_owner(session: Session, mention_id: int) -> str | None:
    return session.exec(
        select(models.Assignment.owner)
        .where(models.Assignment.mention_id == mention_id, models.Assignment.active == True)  # noqa: E712
        .order_by(models.Assignment.id.desc())  # type: ignore[union-attr]
    ).first()


HOME_DEBOUNCE = timedelta(seconds=10)


def record(session: Session, mention: models.Mention, *, actor: str, action: str, now: datetime, lang: Lang,
           tz: str, thread: bool = True, **detail: Any) -> models.CardEvent:
    """Store the event, queue its line in the card's thread, and re-render the card and the App Homes."""
    assert mention.id is not None
    event = models.CardEvent(mention_id=mention.id, actor=actor, action=action,
                             detail={k: _json(v) for k, v in detail.items()}, at=now)
    session.add(event)
    session.flush()
    if thread:
        text = t(f"history_{action}", lang, user=f"<@{actor}>", **{k: _fmt(v, tz) for k, v in detail.items()})
        enqueue_thread(session, key=f"history:{event.id}", parent_key=f"card:{mention.id}", text=text, now=now)
    close_tasks(session, mention.id, action, now)
    touch_card(session, mention.id, now)
    touch_homes(session, now, debounce=HOME_DEBOUNCE)
    return event


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _fmt(value: Any, tz: str) -> Any:
    if isinstance(value, datetime):
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M")
    if isinstance(value, str) and value.startswith(("U", "W")) and value.isalnum() and value.isupper():
        return f"<@{value}>"
    if isinstance(value, str):
        # Reply drafts and network errors are user or third-party text: never raw into mrkdwn.
        return truncate(escape(" ".join(value.split())), 500)
    return value


def _set_owner(session: Session, mention: models.Mention, owner: str, *, by: str, now: datetime, reason: str) -> None:
    for active in session.exec(select(models.Assignment).where(models.Assignment.mention_id == mention.id,
                                                               models.Assignment.active == True)):  # noqa: E712
        active.active = False
        session.add(active)
    session.add(models.Assignment(mention_id=mention.id, responsibility=mention.responsibility, owner=owner,
                                  reason=reason, assigned_by=by, assigned_at=now))


def take(session: Session, *, mention_id: int, user: str, now: datetime, lang: Lang = "en", tz: str = "UTC") -> bool:
    """Make `user` the owner; False if they already are."""
    mention = _mention(session, mention_id)
    if current_owner(session, mention_id) == user:
        return False
    _set_owner(session, mention, user, by=user, now=now, reason="taken")
    record(session, mention, actor=user, action="taken", now=now, lang=lang, tz=tz)
    return True


def reassign(session: Session, *, mention_id: int, user: str, to: str, now: datetime, lang: Lang = "en",
             tz: str = "UTC") -> bool:
    """Give the mention to `to`; False if they already own it."""
    mention = _mention(session, mention_id)
    if current_owner(session, mention_id) == to:
        return False
    _set_owner(session, mention, to, by=user, now=now, reason=f"reassigned by {user}")
    record(session, mention, actor=user, action="reassigned", now=now, lang=lang, tz=tz, to=to)
    return True


def mark_handled(session: Session, *, mention_id: int, user: str, now: datetime, lang: Lang = "en",
                 tz: str = "UTC") -> bool:
    """Mark a mention handled; False (and nothing changed) if it already was."""
    mention = _mention(session, mention_id)
    if mention.status == "handled":
        return False
    mention.status, mention.handled_by, mention.handled_at, mention.snoozed_until = "handled", user, now, None
    session.add(mention)
    record(session, mention, actor=user, action="handled", now=now, lang=lang, tz=tz)
    return True


def reopen(session: Session, *, mention_id: int, user: str, now: datetime, lang: Lang = "en",
           tz: str = "UTC") -> bool:
    """Reopen a handled, snoozed or dismissed mention; False if it was open."""
    mention = _mention(session, mention_id)
    if mention.status == "open":
        return False
    mention.status, mention.handled_by, mention.handled_at, mention.snoozed_until = "open", None, None, None
    session.add(mention)
    record(session, mention, actor=user, action="reopened", now=now, lang=lang, tz=tz)
    return True


def snooze(session: Session, *, mention_id: int, user: str, until: datetime, now: datetime, lang: Lang = "en",
           tz: str = "UTC") -> bool:
    """Hide a mention from the open queue until `until`; it reopens by itself then."""
    if until <= now:
        raise UserError(t("snooze_in_past", lang))
    mention = _mention(session, mention_id)
    if mention.status == "handled":
        return False
    mention.status, mention.snoozed_until = "snoozed", until
    session.add(mention)
    record(session, mention, actor=user, action="snoozed", now=now, lang=lang, tz=tz, until=until)
    return True


def wake_snoozed(session: Session, *, now: datetime, lang: Lang = "en", tz: str = "UTC") -> int:
    """Reopen every mention whose snooze has ended (a scheduled job); returns how many."""
    due = session.exec(select(models.Mention).where(models.Mention.status == "snoozed",
                                                    models.Mention.snoozed_until <= now)).all()  # type: ignore[operator]
    for mention in due:
        mention.status, mention.snoozed_until = "open", None
        session.add(mention)
        record(session, mention, actor="veille", action="woke", now=now, lang=lang, tz=tz)
    return len(due)


def not_relevant(session: Session, *, mention_id: int, user: str, now: datetime, lang: Lang = "en",
                 tz: str = "UTC") -> bool:
    """Dismiss a mention as not relevant (it stays in the store and the volume KPIs)."""
    mention = _mention(session, mention_id)
    if mention.status == "not_relevant":
        return False
    mention.status, mention.handled_by, mention.handled_at = "not_relevant", user, now
    session.add(mention)
    record(session, mention, actor=user, action="dismissed", now=now, lang=lang, tz=tz)
    return True


def correct_sentiment(session: Session, *, mention_id: int, user: str, label: str, now: datetime,
                      term: str | None = None, lang: Lang = "en", tz: str = "UTC") -> bool:
    """Replace the mention's sentiment with a member's judgement and keep the correction."""
    if label not in SENTIMENTS:
        raise UserError(t("bad_sentiment", lang, labels=", ".join(SENTIMENTS)))
    mention = _mention(session, mention_id)
    if mention.sentiment_label == label:
        return False
    session.add(models.SentimentCorrection(mention_id=mention_id, old_label=mention.sentiment_label, new_label=label,
                                           term=term, corrected_by=user, at=now))
    old = mention.sentiment_label
    mention.sentiment_label, mention.sentiment_corrected_by = label, user
    session.add(mention)
    record(session, mention, actor=user, action="sentiment", now=now, lang=lang, tz=tz, old=old, new=label)
    return True


def _digest(session: Session, key: str) -> models.OutboxMessage:
    digest = session.exec(select(models.OutboxMessage).where(models.OutboxMessage.key == key,
                                                             models.OutboxMessage.kind == "digest")).first()
    if digest is None:
        raise NotFound(f"digest {key}")
    return digest


def expand_digest(session: Session, *, key: str, user: str, now: datetime) -> int:
    """Post every card of a digest in its thread (paced like any post); returns how many were queued."""
    digest = _digest(session, key)
    if digest.payload.get("expanded"):
        return 0
    members = session.exec(select(models.OutboxMessage).where(models.OutboxMessage.digest_key == key,
                                                              models.OutboxMessage.status == "digested")
                           .order_by(models.OutboxMessage.id)).all()  # type: ignore[arg-type]
    for row in members:
        row.status, row.parent_key, row.next_attempt_at, row.updated_at = "pending", key, now, now
        session.add(row)
    digest.payload = {**digest.payload, "expanded": True, "expanded_by": user}
    digest.version += 1
    if digest.status == "sent":
        digest.status = "pending"
    digest.next_attempt_at = now
    session.add(digest)
    return len(members)


def handle_digest(session: Session, *, key: str, user: str, now: datetime, lang: Lang = "en",
                  tz: str = "UTC") -> int:
    """Mark every open item of a digest handled, with one line in the digest's thread; returns how many."""
    digest = _digest(session, key)
    ids = list(digest.payload.get("mention_ids") or [])
    mentions = session.exec(select(models.Mention).where(models.Mention.id.in_(ids),  # type: ignore[union-attr]
                                                         models.Mention.status == "open")).all()
    for mention in mentions:
        mention.status, mention.handled_by, mention.handled_at = "handled", user, now
        session.add(mention)
        # Each item keeps its own audit row; the thread gets one line, not one per item.
        record(session, mention, actor=user, action="handled", now=now, lang=lang, tz=tz, thread=False)
    if mentions:
        # LIMIT 1: the ORM would otherwise buffer the id of every audit row ever written.
        first = session.exec(select(models.CardEvent.id).order_by(models.CardEvent.id.desc())  # type: ignore[union-attr]
                             .limit(1)).first()
        enqueue_thread(session, key=f"history:digest:{key}:{first}", parent_key=key, now=now,
                       text=t("history_digest_handled", lang, user=f"<@{user}>", n=len(mentions)))
    return len(mentions)


def override_term(session: Session, *, mention_id: int, user: str, term: str, label: str, now: datetime,
                  lang: Lang = "en", tz: str = "UTC") -> bool:
    """Make `term` read as `label` for this brand from now on (e.g. a product name VADER reads as negative)."""
    if label not in SENTIMENTS:
        raise UserError(t("bad_sentiment", lang, labels=", ".join(SENTIMENTS)))
    mention = _mention(session, mention_id)
    session.add(models.SentimentCorrection(mention_id=mention_id, old_label=mention.sentiment_label, new_label=label,
                                           term=term, corrected_by=user, at=now))
    record(session, mention, actor=user, action="override", now=now, lang=lang, tz=tz, term=term, label=label)
    return True
