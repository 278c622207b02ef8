"""The outbox's renderer: each kind of outbox row becomes what Slack shows, from the rows as they are now."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import models
from bot.clock import Clock
from bot.flood import headline_term
from bot.render.cards import CardContext, Rendered, render_card, render_digest, render_tombstone
from bot.render.home import render_home
from bot.render.incident import render_incident
from bot.services import replies
from bot.services.home import home_data
from bot.services.triage import current_owner
from bot.workspace import Workspace


class OutboxRenderer:
    """Render a card, a digest, an App Home or a plain message for the sender, at send time."""

    def __init__(self, workspace: Workspace, clock: Clock) -> None:
        self.workspace = workspace
        self.clock = clock

    def __call__(self, session: Session, row: models.OutboxMessage) -> Rendered:
        brand = self.workspace.brand
        if row.kind == "card":
            mention = session.get(models.Mention, row.mention_id)
            if mention is None:
                raise LookupError(f"outbox {row.key}: mention {row.mention_id} is gone")
            if mention.forgotten_at is not None:
                return render_tombstone(mention, lang=brand.language, tz=brand.timezone)
            author = session.get(models.Author, mention.author_id)
            assert author is not None
            decided = mention.rules or {}
            # A span removed under the retention policy leaves the clause's title alone.
            violations = [f"{v.get('title')}: «{v['matched']}»" if v.get("matched") else str(v.get("title"))
                          for v in decided.get("violations", [])]
            if decided.get("impersonation"):
                violations.append(str(decided["impersonation"]))
            rule = None
            if decided.get("engagement"):
                first = decided["engagement"][0]
                due = first.get("due_at")
                when = datetime.fromisoformat(due).astimezone(ZoneInfo(brand.timezone)).strftime("%a %H:%M") \
                    if due else ""
                rule = f"{first.get('title') or first.get('rule')}" + (f" — {when}" if when else "")
            context = CardContext(
                influencer=decided.get("tier"), violations=violations, rule=rule,
                owner=current_owner(session, mention.id or 0),
                can_reply=mention.network in replies.CAN_REPLY, can_hide=mention.network in replies.CAN_HIDE,
                action=replies.pending_action(session, mention.id or 0),
                done=replies.last_done(session, mention.id or 0),
                approvers=replies.approvers_for(self.workspace, mention.responsibility))
            return render_card(mention, author, context, lang=brand.language, tz=brand.timezone)
        if row.kind == "digest":
            ids = list(row.payload.get("mention_ids") or [])
            mentions = session.exec(select(models.Mention).where(col(models.Mention.id).in_(ids))
                                    .order_by(col(models.Mention.created_at))).all()
            authors = {a.id: a for a in session.exec(select(models.Author).where(
                col(models.Author.id).in_({m.author_id for m in mentions})))}
            handles = frozenset(h.casefold() for h in brand.handles.values())
            term = headline_term([m.text for m in mentions if m.forgotten_at is None], ignore=handles)
            return render_digest(row.key, mentions, authors, term=term, expanded=bool(row.payload.get("expanded")),
                                 lang=brand.language, tz=brand.timezone)
        if row.kind == "incident":
            incident_id = int(row.key.split(":", 1)[1])
            incident = session.get(models.Incident, incident_id)
            if incident is None:
                raise LookupError(f"outbox {row.key}: incident is gone")
            mention_ids = session.exec(select(models.IncidentItem.mention_id).where(
                models.IncidentItem.incident_id == incident_id)).all()
            examples = session.exec(
                select(models.Mention, models.Author).join(models.Author, models.Author.id == models.Mention.author_id)  # type: ignore[arg-type]
                .where(col(models.Mention.id).in_(mention_ids), models.Mention.sentiment_label == "negative",
                       col(models.Mention.forgotten_at).is_(None), col(models.Mention.text_purged_at).is_(None))
                .order_by(col(models.Author.followers).desc().nulls_last()).limit(3)).all() if mention_ids else []
            return render_incident(incident, list(examples), items=len(mention_ids), lang=brand.language,
                                   tz=brand.timezone)
        if row.kind == "home":
            triage = self.workspace.triage
            data = home_data(session, user=row.channel, workspace=self.workspace, now=self.clock.now(),
                             overdue_after=timedelta(hours=triage.overdue_after_h))
            return render_home(data, brand=brand.name, lang=brand.language, tz=brand.timezone,
                               overdue_hours=triage.overdue_after_h)
        return Rendered(str(row.payload.get("text", "")), list(row.payload.get("blocks") or []))
