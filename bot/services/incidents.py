"""Incidents: opened by a spike, by hand or from a card; paged up the escalation levels until acknowledged;
summarized at resolution. All state is in the store; Slack messages go through the outbox."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import ids, models
from bot.errors import NotFound, UserError
from bot.messages import Lang, t
from bot.outbox import enqueue_message, enqueue_thread, touch_homes
from bot.render.escape import escape, truncate
from bot.services import oncall
from bot.workspace import Workspace

SEVERITIES = ("sev1", "sev2", "sev3")
UNRESOLVED = ("open", "acknowledged")


@dataclass(frozen=True, slots=True)
class SpikeFacts:
    """What the detector saw, so the alert explains itself (all plain data; escaped when rendered)."""

    key: str
    started_at: datetime
    observed: int
    baseline: float
    bucket_minutes: int
    networks: dict[str, int] = field(default_factory=dict)
    terms: list[str] = field(default_factory=list)
    authors: list[dict[str, Any]] = field(default_factory=list)  # {handle, network, followers, influencer}
    mention_ids: list[int] = field(default_factory=list)
    post: dict[str, Any] | None = None  # the calendar post that preceded it: {id, network, title, at}
    negative_share: float | None = None
    score: float | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        return data


def unresolved(session: Session) -> models.Incident | None:
    return session.exec(select(models.Incident).where(col(models.Incident.status).in_(UNRESOLVED))
                        .order_by(col(models.Incident.id).desc())).first()


def _event(session: Session, incident: models.Incident, kind: str, now: datetime, actor: str | None = None,
           **detail: Any) -> None:
    assert incident.id is not None
    session.add(models.IncidentEvent(incident_id=incident.id, kind=kind, actor=actor, detail=detail, at=now))


def _touch(session: Session, incident: models.Incident, now: datetime) -> None:
    """Re-render the incident card (it is an outbox row keyed by the incident)."""
    key = f"incident:{incident.id}"
    row = session.exec(select(models.OutboxMessage).where(models.OutboxMessage.key == key)).first()
    if row is not None:
        row.version += 1
        if row.status == "sent":
            row.status = "pending"
        row.next_attempt_at, row.updated_at = now, now
        session.add(row)
    touch_homes(session, now, debounce=timedelta(seconds=10))


def _attach(session: Session, incident: models.Incident, mention_ids: list[int], now: datetime,
            by: str | None = None) -> int:
    assert incident.id is not None
    known = set(session.exec(select(models.IncidentItem.mention_id).where(
        models.IncidentItem.incident_id == incident.id)).all())
    added = 0
    for mention_id in dict.fromkeys(mention_ids):
        if mention_id not in known:
            session.add(models.IncidentItem(incident_id=incident.id, mention_id=mention_id, added_by=by, at=now))
            added += 1
    return added


def _create(session: Session, workspace: Workspace, *, key: str, title: str, severity: str, source: str,
            now: datetime, opened_by: str | None, facts: dict[str, Any]) -> models.Incident:
    channel = workspace.channels.alerts or workspace.channels.triage
    incident = models.Incident(
        key=key, title=title[:300], severity=severity, source=source, opened_by=opened_by, opened_at=now,
        channel=channel, facts=facts, policy=[level.model_dump() for level in workspace.oncall.escalation],
        step=0, next_step_at=now)
    session.add(incident)
    session.flush()
    session.add(models.OutboxMessage(key=f"incident:{incident.id}", kind="incident", channel=channel,
                                     next_attempt_at=now, created_at=now, updated_at=now))
    _event(session, incident, "opened", now, opened_by, source=source)
    return incident


def spike_title(facts: SpikeFacts, lang: Lang) -> str:
    about = t("digest_about", lang, term=facts.terms[0]) if facts.terms else ""
    return t("incident_spike_title", lang, n=facts.observed, about=about, minutes=facts.bucket_minutes,
             baseline=f"{facts.baseline:.0f}")


def open_or_update(session: Session, *, workspace: Workspace, facts: SpikeFacts,
                   now: datetime) -> tuple[models.Incident, bool]:
    """One incident per bad buzz: a spike while one is unresolved updates it instead of opening another."""
    lang = workspace.brand.language
    current = unresolved(session)
    if current is not None:
        added = _attach(session, current, facts.mention_ids, now)
        peak = max(int(current.facts.get("observed", 0)), facts.observed)
        current.facts = {**current.facts, "observed": peak, "updates": int(current.facts.get("updates", 0)) + 1}
        session.flush()
        session.add(current)
        _event(session, current, "updated", now, observed=facts.observed, added=added)
        updates = int(current.facts.get("updates", 0))
        enqueue_thread(session, key=f"incident-update:{current.id}:{updates}", parent_key=f"incident:{current.id}",
                       now=now, text=t("incident_updated", lang, n=facts.observed,
                                       baseline=f"{facts.baseline:.0f}", added=added))
        _touch(session, current, now)
        return current, False
    severity = "sev1" if facts.baseline and facts.observed >= 5 * max(facts.baseline, 1) else "sev2"
    incident = _create(session, workspace, key=facts.key, title=spike_title(facts, lang), severity=severity,
                       source="spike", now=now, opened_by=None, facts=facts.as_json())
    _attach(session, incident, facts.mention_ids, now)
    return incident, True


def open_manual(session: Session, *, workspace: Workspace, title: str, severity: str, user: str, now: datetime,
                mention_id: int | None = None) -> models.Incident:
    if severity not in SEVERITIES:
        raise UserError(t("incident_bad_severity", workspace.brand.language, choices=", ".join(SEVERITIES)))
    incident = _create(session, workspace, key=f"manual:{user}:{now.isoformat()}", title=title or "Incident",
                       severity=severity, source="card" if mention_id else "manual", now=now, opened_by=user,
                       facts={})
    if mention_id is not None:
        _attach(session, incident, [mention_id], now, by=user)
    return incident


def escalate_mention(session: Session, *, workspace: Workspace, mention_id: int, user: str,
                     now: datetime) -> tuple[models.Incident, bool]:
    """A member's Escalate click: join the incident in progress, or open one seeded with this item."""
    lang = workspace.brand.language
    mention = session.get(models.Mention, mention_id)
    if mention is None:
        raise NotFound(str(mention_id))
    current = unresolved(session)
    if current is not None:
        if _attach(session, current, [mention_id], now, by=user):
            _event(session, current, "item_added", now, user, mention_id=mention_id)
            enqueue_thread(session, key=f"incident-item:{current.id}:{mention_id}", parent_key=f"incident:{current.id}",
                           now=now, text=t("incident_item_added", lang, user=f"<@{user}>",
                                           text=truncate(escape(" ".join(mention.text.split())), 200)))
            _touch(session, current, now)
        return current, False
    title = t("incident_from_card", lang, text=truncate(" ".join(mention.text.split()), 120))
    return open_manual(session, workspace=workspace, title=title, severity="sev2", user=user, now=now,
                       mention_id=mention_id), True


def acknowledge(session: Session, *, workspace: Workspace, incident_id: int, user: str, now: datetime) -> bool:
    """Stop the paging: someone has it. False if it was already acknowledged or resolved."""
    incident = _get(session, incident_id)
    if incident.status != "open":
        return False
    incident.status, incident.acknowledged_by, incident.acknowledged_at = "acknowledged", user, now
    incident.next_step_at = None
    session.add(incident)
    _event(session, incident, "acknowledged", now, user)
    minutes = max(0, round((now - incident.opened_at).total_seconds() / 60))
    enqueue_thread(session, key=f"incident-ack:{incident.id}", parent_key=f"incident:{incident.id}", now=now,
                   text=t("incident_acked", workspace.brand.language, user=f"<@{user}>", minutes=minutes))
    _touch(session, incident, now)
    return True


def _duration(delta: timedelta) -> str:
    minutes = max(0, round(delta.total_seconds() / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def resolve(session: Session, *, workspace: Workspace, incident_id: int, user: str, now: datetime) -> bool:
    """Close the incident and post its summary: duration, volume, time to acknowledge, what was done."""
    lang = workspace.brand.language
    incident = _get(session, incident_id)
    if incident.status == "resolved":
        return False
    if incident.acknowledged_at is None:
        incident.acknowledged_by, incident.acknowledged_at = user, now
    incident.status, incident.resolved_by, incident.resolved_at, incident.next_step_at = "resolved", user, now, None
    session.add(incident)
    _event(session, incident, "resolved", now, user)
    item_ids = session.exec(select(models.IncidentItem.mention_id).where(
        models.IncidentItem.incident_id == incident.id)).all()
    sentiments = Counter(session.exec(select(models.Mention.sentiment_label).where(
        col(models.Mention.id).in_(item_ids))).all()) if item_ids else Counter()
    done = Counter(dict(session.exec(select(models.CardEvent.action, func.count()).where(
        col(models.CardEvent.mention_id).in_(item_ids), col(models.CardEvent.at) >= incident.opened_at,
        col(models.CardEvent.action).in_(("handled", "replied", "hidden"))).group_by(models.CardEvent.action)).all())) \
        if item_ids else Counter()
    summary = t("incident_summary", lang, title=escape(incident.title), user=f"<@{user}>",
                duration=_duration(now - incident.opened_at), n=len(item_ids), negative=sentiments["negative"],
                ack=_duration(incident.acknowledged_at - incident.opened_at),
                ack_by=f"<@{incident.acknowledged_by}>", handled=done["handled"], replied=done["replied"],
                hidden=done["hidden"])
    enqueue_message(session, key=f"incident-summary:{incident.id}", channel=incident.channel, text=summary,
                    blocks=[], now=now)
    _touch(session, incident, now)
    return True


def _get(session: Session, incident_id: int) -> models.Incident:
    incident = session.get(models.Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id}")
    return incident


def due(session: Session, now: datetime, limit: int = 20) -> list[int]:
    """Incidents whose next escalation step is due (locked rows are skipped: another replica has them)."""
    query = (select(models.Incident.id).where(models.Incident.status == "open",
                                              col(models.Incident.next_step_at) <= now)
             .order_by(col(models.Incident.next_step_at)).limit(limit))
    return [i for i in session.exec(query.with_for_update(skip_locked=True)).all() if i is not None]


def page_step(session: Session, *, workspace: Workspace, incident_id: int, now: datetime) -> list[str]:
    """Run one escalation step: page this level's people, then schedule the next (or a repeat)."""
    lang = workspace.brand.language
    incident = session.get(models.Incident, incident_id, with_for_update=True)
    if incident is None or incident.status != "open" or incident.next_step_at is None or incident.next_step_at > now:
        return []  # acknowledged, resolved, or another wake-up already ran this step
    levels = incident.policy or [{"after_min": 0, "notify": ["oncall"]}]
    level = levels[min(incident.step, len(levels) - 1)]
    cfg = workspace.oncall
    targets: list[str] = []
    for who in level["notify"]:
        if who == "oncall":
            shift = oncall.on_call(session, cfg, now)
            user = shift.user if shift else None
        elif who == "next":
            shift = oncall.next_on_call(session, cfg, now)
            user = shift.user if shift else None
        else:
            user = who
        if user and user not in targets:
            targets.append(user)
    if not targets:
        targets = list(workspace.admins)  # nobody on call: the admins are paged rather than no one
    level_no = incident.step + 1
    for user in targets:
        enqueue_message(session, key=f"page:{incident.id}:{incident.step}:{user}", channel=user, now=now,
                        text=t("page_text", lang, title=incident.title, level=level_no),
                        blocks=page_blocks(incident, lang, level_no))
    mentions = " ".join(f"<@{u}>" for u in targets)
    enqueue_message(session, key=f"page-mention:{incident.id}:{incident.step}", channel=incident.channel, now=now,
                    text=t("page_channel", lang, users=mentions, title=escape(incident.title), level=level_no),
                    blocks=[])
    _event(session, incident, "paged", now, level=level_no, users=targets)
    # Next: the next level at its delay after opening; past the last level, repeat it every repeat_min.
    incident.step += 1
    if incident.step < len(levels):
        incident.next_step_at = incident.opened_at + timedelta(minutes=int(levels[incident.step]["after_min"]))
    else:
        incident.next_step_at = now + timedelta(minutes=cfg.repeat_min)
    session.add(incident)
    _touch(session, incident, now)
    return targets


def page_blocks(incident: models.Incident, lang: Lang, level: int) -> list[dict]:
    from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

    return [b.to_dict() for b in (
        SectionBlock(text=MarkdownTextObject(text=t("page_dm", lang, title=escape(incident.title), level=level,
                                                    severity=incident.severity))),
        ActionsBlock(block_id=f"incident:{incident.id}", elements=[
            ButtonElement(text=t("incident_ack", lang), action_id=ids.ACK_INCIDENT, value=str(incident.id),
                          style="primary"),
            ButtonElement(text=t("incident_resolve", lang), action_id=ids.RESOLVE_INCIDENT, value=str(incident.id))]),
    )]
