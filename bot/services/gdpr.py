"""Personal-data requests about one author (GDPR articles 15 and 17): export what is held, or forget them.

Forgetting erases the author's handle, name and follower count, their items' texts, permalinks and raw payloads,
the reply drafts and errors about those items, the incident titles and facts that quote or name them, the copies of
their texts in messages the bot posted (thread lines, nudges, pages, digests), and the items set aside that carry
their handle. Their cards in Slack are re-rendered as a tombstone through the outbox (chat.update by the running
bot); thread lines of those cards are rewritten the same way. What stays is what carries no personal data and keeps
the figures true: each item's network, external id, timestamps, sentiment, status, rules decisions (without quoted
text), assignments, tasks and card events — so /kpi, the buzz baselines and consistency do not change. The
external id stays on purpose: it is what stops a poll from ingesting the same post again.

A later post by the same handle is a new item: Veille keeps listening to public mentions of the brand (legitimate
interest), so it is ingested under a new author row, and forgetting again erases it too. An audit row
(`GdprRequest`) keeps who ran the request, when, the network and a salted hash of the handle — never the handle.
Forgetting twice is harmless: the second run finds nothing held.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, null, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import models
from bot.db import session_scope
from bot.errors import UserError
from bot.messages import Lang, t
from bot.outbox import touch_card, touch_homes
from bot.render.escape import escape
from bot.services.engagement import close_tasks
from bot.services.retention import strip_rules
from bot.workspace import NETWORKS, Workspace

EXPORT_SCHEMA = "veille.gdpr-export/1"
SLACK_ID = re.compile(r"^[UWBCGD][A-Z0-9]{2,}$")
# Texts shorter than this are not hunted for inside other messages: "ok" would erase too much.
MIN_TEXT_NEEDLE = 4
# A copy of a text is often cut ("…"): a copy that starts with this much of it is taken for it.
PREFIX_PROBE = 24
HOME_DEBOUNCE = timedelta(seconds=10)


@dataclass(slots=True)
class ForgetReport:
    authors: int = 0
    mentions: int = 0
    events: int = 0
    actions: int = 0
    corrections: int = 0
    messages: int = 0  # Slack messages (threads, DMs, digests) rewritten, or dropped before sending
    incidents: int = 0
    rejected: int = 0

    @property
    def nothing_held(self) -> bool:
        return not (self.authors or self.mentions or self.rejected)

    def counts(self) -> dict[str, int]:
        return asdict(self)


def normalize(session: Session, network: str, handle: str, lang: Lang) -> tuple[str, str]:
    """(network, handle) as stored: the network checked, the handle without its '@'."""
    network = network.strip().lower()
    handle = handle.strip().lstrip("@").strip()
    known = set(NETWORKS) | set(session.exec(select(models.Author.network).distinct()).all())
    if network not in known:
        raise UserError(t("gdpr_unknown_network", lang, network=network, choices=", ".join(sorted(known))))
    if not handle:
        raise UserError(t("gdpr_bad_handle", lang))
    return network, handle


def subject_hash(session: Session, network: str, handle: str, now: datetime) -> str:
    """HMAC-SHA256 of network and handle with the installation's salt: checks a request was done, names no one."""
    row = session.exec(select(models.GdprSalt).order_by(col(models.GdprSalt.id))).first()
    if row is None:
        try:
            with session.begin_nested():
                row = models.GdprSalt(id=1, salt=secrets.token_hex(32), created_at=now)
                session.add(row)
                session.flush()
        except IntegrityError:  # another process created it first: use theirs
            row = session.exec(select(models.GdprSalt).order_by(col(models.GdprSalt.id))).one()
    message = f"{network}\n{handle.casefold()}".encode()
    return hmac.new(row.salt.encode(), message, hashlib.sha256).hexdigest()


def _authors(session: Session, network: str, handle: str) -> list[models.Author]:
    # Handles are case-insensitive on the networks: "Jane_Doe" and "jane_doe" are the same person.
    return list(session.exec(select(models.Author).where(
        models.Author.network == network, func.lower(models.Author.handle) == handle.lower(),
        col(models.Author.erased_at).is_(None)).order_by(col(models.Author.id))).all())


class Redactor:
    """Replace a person's handle, name and texts (also escaped, re-spaced or cut with '…') inside any JSON value."""

    def __init__(self, *, handles: Iterable[str], names: Iterable[str], texts: Iterable[str], marker: str) -> None:
        self.marker = marker
        handles = sorted({re.escape(h) for h in handles if h}, key=len, reverse=True)
        names = sorted({re.escape(n) for n in names if n and len(n) >= 4}, key=len, reverse=True)
        # In text a handle is "@handle" (a bare word like "support" may be anyone's); a name is distinctive enough.
        parts = ([r"@(?:" + "|".join(handles) + r")"] if handles else []) + names
        self._words = re.compile(r"(?<![\w.])(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE) if parts else None
        self._bare = re.compile(r"(?<![\w.])@?(?:" + "|".join(handles) + r")(?!\w)", re.IGNORECASE) \
            if handles else None
        forms: set[str] = set()
        for text in texts:
            for form in (text.strip(), " ".join(text.split())):
                forms |= {form, escape(form)}
        self._forms = sorted((f for f in forms if len(f) >= MIN_TEXT_NEEDLE), key=len, reverse=True)

    def text(self, value: str) -> str:
        for form in self._forms:
            value = self._cut(value, form)
        if self._words is not None:
            value = self._words.sub(self.marker, value)
        return value

    def _cut(self, value: str, form: str) -> str:
        probe = form[:PREFIX_PROBE]
        start = value.find(probe)
        while start != -1:
            length = len(probe)
            while length < len(form) and start + length < len(value) and value[start + length] == form[length]:
                length += 1
            end = start + length
            if end < len(value) and value[end] == "…":
                end += 1
            value = value[:start] + self.marker + value[end:]
            start = value.find(probe, start + len(self.marker))
        return value

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        return value

    def names(self, value: str) -> bool:
        """Whether `value` (a raw payload, say) contains the handle, with or without '@', or the name."""
        return bool(self._bare is not None and self._bare.search(value)
                    or self._words is not None and self._words.search(value))


def forget(engine: Engine, workspace: Workspace, *, network: str, handle: str, requested_by: str, now: datetime,
           batch_size: int = 500) -> ForgetReport:
    """Erase everything personal held about `network`/`handle` and queue the tombstones in Slack; idempotent.

    Items are erased in batches of `batch_size`, each committed; the author row goes last, so a run cut short is
    finished by running it again.
    """
    lang: Lang = workspace.brand.language
    marker = t("gdpr_removed", lang)
    report = ForgetReport()
    with Session(engine) as session:
        network, handle = normalize(session, network, handle, lang)
        authors = _authors(session, network, handle)
    author_ids = [a.id for a in authors if a.id is not None]
    handles = {handle, *(a.handle for a in authors)}
    names = {a.name for a in authors if a.name}
    incidents: set[int] = set()
    scrubbed = False
    while author_ids:
        # Each batch erases its items and every copy of their texts in one transaction: a run cut short leaves no
        # text whose copies can no longer be found.
        with session_scope(engine) as session:
            rows = list(session.exec(select(models.Mention).where(
                col(models.Mention.author_id).in_(author_ids), col(models.Mention.forgotten_at).is_(None))
                .order_by(col(models.Mention.id)).limit(batch_size)).all())
            if not rows:
                break
            redact = Redactor(handles=handles, names=names, texts=[m.text for m in rows], marker=marker)
            ids = {m.id for m in rows if m.id is not None}
            for mention in rows:
                _forget_mention(session, mention, redact, now, lang, report)
            _scrub_outbox(session, redact, ids, now, report)
            incidents |= _scrub_incidents(session, redact, ids, handles, now)
            scrubbed = True
    with session_scope(engine) as session:
        redact = Redactor(handles=handles, names=names, texts=[], marker=marker)
        if not scrubbed and author_ids:  # every item was erased by an earlier run: their handle and name may remain
            _scrub_outbox(session, redact, set(), now, report)
            incidents |= _scrub_incidents(session, redact, set(), handles, now)
        report.incidents = len(incidents)
        _scrub_rejected(session, redact, network, report)
        for author in session.exec(select(models.Author).where(col(models.Author.id).in_(author_ids))).all():
            author.handle, author.name, author.followers, author.erased_at = f"~{author.id}", None, None, now
            session.add(author)
            report.authors += 1
        if not report.nothing_held:
            touch_homes(session, now, debounce=HOME_DEBOUNCE)
        session.add(models.GdprRequest(kind="forget", network=network, requested_by=requested_by[:100], at=now,
                                       subject_hash=subject_hash(session, network, handle, now),
                                       counts=report.counts()))
    return report


def _forget_mention(session: Session, mention: models.Mention, redact: Redactor, now: datetime, lang: Lang,
                    report: ForgetReport) -> None:
    assert mention.id is not None
    mention.text, mention.permalink, mention.raw = "", None, {}
    mention.rules = redact(strip_rules(mention.rules or {}, lang))
    mention.route_reason = redact(mention.route_reason) if mention.route_reason else None
    mention.forgotten_at = now
    mention.text_purged_at = mention.text_purged_at or now
    mention.raw_purged_at = mention.raw_purged_at or now
    if mention.status in ("open", "snoozed"):
        # Nobody can act on an erased item any more: it leaves the queues and its open tasks stop counting.
        mention.status, mention.handled_by, mention.handled_at = "not_relevant", "veille", now
        mention.snoozed_until = None
        close_tasks(session, mention.id, "dismissed", now)
    session.add(mention)
    report.mentions += 1
    for event in session.exec(select(models.CardEvent).where(models.CardEvent.mention_id == mention.id)).all():
        detail = redact({k: v for k, v in event.detail.items() if k not in ("text", "error")})
        if detail != event.detail:
            event.detail = detail
            session.add(event)
            report.events += 1
    for action in session.exec(select(models.NetworkAction).where(models.NetworkAction.mention_id == mention.id)):
        if action.text is None and action.error is None and action.status not in ("awaiting_approval", "approved"):
            continue
        if action.status in ("awaiting_approval", "approved"):
            action.status = "rejected"  # never answer someone who asked to be forgotten
        action.text, action.error = None, None
        session.add(action)
        report.actions += 1
    for correction in session.exec(select(models.SentimentCorrection)
                                   .where(models.SentimentCorrection.mention_id == mention.id)):
        if correction.term and redact.text(correction.term) != correction.term:
            correction.term = None
            session.add(correction)
            report.corrections += 1
    # The card's thread lines quote reply drafts: rewritten in Slack, or never sent if still waiting.
    tombstone = t("gdpr_tombstone", lang)
    for row in session.exec(select(models.OutboxMessage).where(models.OutboxMessage.parent_key == f"card:{mention.id}",
                                                               models.OutboxMessage.kind == "thread")):
        if row.payload.get("text") == tombstone:
            continue
        row.payload = {"text": tombstone, "blocks": []}
        if row.ts is not None:
            row.version, row.next_attempt_at, row.updated_at = row.version + 1, now, now
            row.status = "pending" if row.status in ("sent", "pending") else row.status
        elif row.status in ("pending", "in_doubt"):
            row.status, row.last_error = "parked", "gdpr: author forgotten"
        session.add(row)
        report.messages += 1
    touch_card(session, mention.id, now)


def _scrub_outbox(session: Session, redact: Redactor, ids: set[int], now: datetime, report: ForgetReport) -> None:
    """Rewrite every delivered copy of their texts or handle (DMs, nudges, pages, digests); chat.update them."""
    after = 0
    while True:
        rows = list(session.exec(select(models.OutboxMessage).where(
            col(models.OutboxMessage.id) > after, col(models.OutboxMessage.kind).in_(("message", "thread", "digest")))
            .order_by(col(models.OutboxMessage.id)).limit(1000)).all())
        if not rows:
            return
        after = max(r.id or 0 for r in rows)
        for row in rows:
            payload = redact(row.payload)
            if row.kind == "digest" and ids & set(row.payload.get("mention_ids") or []):
                payload["leader"] = ""  # a forgotten text led this digest's grouping (already touched as a card)
            if payload == row.payload:
                continue
            row.payload = payload
            if row.ts is not None and row.kind != "digest":
                row.version, row.next_attempt_at, row.updated_at = row.version + 1, now, now
                if row.status == "sent":
                    row.status = "pending"
            session.add(row)
            report.messages += 1


def _scrub_incidents(session: Session, redact: Redactor, ids: set[int], handles: set[str],
                     now: datetime) -> set[int]:
    """Take their texts and handle out of incident titles, facts and timelines; re-render those incidents' cards."""
    touched: set[int] = set()
    with_items = set(session.exec(select(models.IncidentItem.incident_id).where(
        col(models.IncidentItem.mention_id).in_(ids))).all()) if ids else set()
    lowered = {h.lower() for h in handles}
    for incident in session.exec(select(models.Incident).order_by(col(models.Incident.id))).all():
        facts = dict(incident.facts or {})
        facts["authors"] = [a for a in facts.get("authors") or []
                            if str(a.get("handle", "")).lstrip("@").lower() not in lowered]
        facts = redact(facts)
        title = redact.text(incident.title)
        changed = facts != incident.facts or title != incident.title
        if changed:
            incident.facts, incident.title = facts, title
            session.add(incident)
            for event in session.exec(select(models.IncidentEvent).where(
                    models.IncidentEvent.incident_id == incident.id)):
                detail = redact(event.detail)
                if detail != event.detail:
                    event.detail = detail
                    session.add(event)
        if changed or incident.id in with_items:
            # Its card lists negative examples: re-rendered without theirs.
            session.execute(update(models.OutboxMessage).where(
                col(models.OutboxMessage.key) == f"incident:{incident.id}").values(
                version=models.OutboxMessage.version + 1, next_attempt_at=now, updated_at=now,
                status=case((col(models.OutboxMessage.status) == "sent", "pending"),
                            else_=models.OutboxMessage.status)))
            touched.add(incident.id or 0)
    return touched


def _scrub_rejected(session: Session, redact: Redactor, network: str, report: ForgetReport) -> None:
    """Items set aside as malformed that carry their handle: the raw item goes (its fingerprint stays, so the same
    item is not kept again)."""
    after = 0
    while True:
        rows = list(session.exec(select(models.RejectedItem).where(
            col(models.RejectedItem.id) > after, models.RejectedItem.network == network)
            .order_by(col(models.RejectedItem.id)).limit(1000)).all())
        if not rows:
            return
        after = max(r.id or 0 for r in rows)
        for row in rows:
            if row.raw is None:
                continue
            blob = json.dumps(row.raw, ensure_ascii=False, default=str)
            if redact.names(blob):  # the redactor holds no texts here: names() finds all that text() would change
                session.execute(update(models.RejectedItem).where(col(models.RejectedItem.id) == row.id)
                                .values(raw=null(), reason=redact.text(row.reason)))
                report.rejected += 1


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _no_team_ids(detail: dict[str, Any]) -> dict[str, Any]:
    # The export is the author's data: which team member did what is the team's, not theirs.
    return {k: v for k, v in detail.items() if not (isinstance(v, str) and SLACK_ID.match(v))}


def export(engine: Engine, workspace: Workspace, *, network: str, handle: str, requested_by: str,
           now: datetime) -> dict[str, Any]:
    """Everything held about `network`/`handle` as plain JSON data (schema `veille.gdpr-export/1`: the CLI help)."""
    lang: Lang = workspace.brand.language
    with session_scope(engine) as session:
        network, handle = normalize(session, network, handle, lang)
        authors = _authors(session, network, handle)
        author_ids = [a.id for a in authors]
        mentions = list(session.exec(select(models.Mention).where(col(models.Mention.author_id).in_(author_ids))
                                     .order_by(col(models.Mention.created_at), col(models.Mention.id))).all()) \
            if author_ids else []
        items = [_export_mention(session, m) for m in mentions]
        redact = Redactor(handles={handle, *(a.handle for a in authors)}, names=[], texts=[], marker="")
        rejected = []
        for row in session.exec(select(models.RejectedItem).where(models.RejectedItem.network == network)
                                .order_by(col(models.RejectedItem.id))):
            if row.raw is not None and redact.names(json.dumps(row.raw, ensure_ascii=False, default=str)):
                rejected.append({"source": row.source, "reason": row.reason, "seen_at": _iso(row.seen_at),
                                 "raw": row.raw})
        data = {
            "schema": EXPORT_SCHEMA,
            "generated_at": _iso(now),
            "subject": {"network": network, "handle": handle},
            "authors": [{"network": a.network, "handle": a.handle, "name": a.name, "followers": a.followers,
                         "first_seen_at": _iso(a.first_seen_at), "last_seen_at": _iso(a.last_seen_at)}
                        for a in authors],
            "mentions": items,
            "rejected_items": rejected,
        }
        session.add(models.GdprRequest(kind="export", network=network, requested_by=requested_by[:100], at=now,
                                       subject_hash=subject_hash(session, network, handle, now),
                                       counts={"authors": len(authors), "mentions": len(items),
                                               "rejected": len(rejected)}))
    return data


def _export_mention(session: Session, m: models.Mention) -> dict[str, Any]:
    tasks = session.exec(select(models.Task).where(models.Task.mention_id == m.id).order_by(col(models.Task.id))).all()
    events = session.exec(select(models.CardEvent).where(models.CardEvent.mention_id == m.id)
                          .order_by(col(models.CardEvent.id))).all()
    actions = session.exec(select(models.NetworkAction).where(models.NetworkAction.mention_id == m.id)
                           .order_by(col(models.NetworkAction.id))).all()
    corrections = session.exec(select(models.SentimentCorrection).where(models.SentimentCorrection.mention_id == m.id)
                               .order_by(col(models.SentimentCorrection.id))).all()
    incidents = session.exec(select(models.Incident).join(
        models.IncidentItem, models.IncidentItem.incident_id == models.Incident.id)  # type: ignore[arg-type]
        .where(models.IncidentItem.mention_id == m.id).order_by(col(models.Incident.id))).all()
    return {
        "network": m.network, "external_id": m.external_id, "kind": m.kind, "source": m.source,
        "created_at": _iso(m.created_at), "ingested_at": _iso(m.ingested_at), "lang": m.lang, "text": m.text,
        "permalink": m.permalink, "parent_id": m.parent_id, "conversation_id": m.conversation_id, "raw": m.raw,
        "sentiment": {"label": m.sentiment_label, "compound": m.sentiment_compound,
                      "corrected": m.sentiment_corrected_by is not None},
        "rules": m.rules, "responsibility": m.responsibility, "status": m.status, "handled_at": _iso(m.handled_at),
        "text_purged_at": _iso(m.text_purged_at), "raw_purged_at": _iso(m.raw_purged_at),
        "tasks": [{"rule": x.rule_id, "action": x.action, "created_at": _iso(x.created_at), "due_at": _iso(x.due_at),
                   "done_at": _iso(x.done_at), "cancelled": x.cancelled} for x in tasks],
        "events": [{"action": e.action, "at": _iso(e.at), "detail": _no_team_ids(e.detail)} for e in events],
        "network_actions": [{"kind": a.kind, "text": a.text, "status": a.status, "requested_at": _iso(a.requested_at),
                             "done_at": _iso(a.done_at)} for a in actions],
        "sentiment_corrections": [{"old_label": c.old_label, "new_label": c.new_label, "term": c.term,
                                   "at": _iso(c.at)} for c in corrections],
        "incidents": [{"id": i.id, "title": i.title, "severity": i.severity, "status": i.status,
                       "opened_at": _iso(i.opened_at), "resolved_at": _iso(i.resolved_at)} for i in incidents],
    }
