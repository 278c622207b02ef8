"""Triage actions on a mention: each changes the row, records who did it, and asks for the card to be re-rendered."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import models
from bot.errors import NotFound
from bot.outbox import touch_card


def mark_handled(session: Session, *, mention_id: int, user: str, now: datetime) -> bool:
    """Mark a mention handled; False (and nothing changed) if it already was."""
    mention = session.get(models.Mention, mention_id)
    if mention is None:
        raise NotFound(f"mention {mention_id}")
    if mention.status == "handled":
        return False
    mention.status, mention.handled_by, mention.handled_at = "handled", user, now
    session.add(mention)
    touch_card(session, mention_id, now)
    return True


def reopen(session: Session, *, mention_id: int, user: str, now: datetime) -> bool:
    """Reopen a handled mention; False if it was open."""
    mention = session.get(models.Mention, mention_id)
    if mention is None:
        raise NotFound(f"mention {mention_id}")
    if mention.status == "open":
        return False
    mention.status, mention.handled_by, mention.handled_at = "open", None, None
    session.add(mention)
    touch_card(session, mention_id, now)
    return True
