"""Render an incident card for the alerts channel: what is happening, why we think so, who has it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot import ids, models
from bot.messages import Lang, t
from bot.render.cards import Rendered, network_label
from bot.render.escape import escape, truncate

SEVERITY_ICONS = {"sev1": "🟥", "sev2": "🟧", "sev3": "🟨"}


def render_incident(incident: models.Incident, examples: Sequence[tuple[models.Mention, models.Author]], *,
                    items: int, lang: Lang, tz: str) -> Rendered:
    zone = ZoneInfo(tz)
    facts = incident.facts or {}
    status_user = f"<@{incident.resolved_by or incident.acknowledged_by}>"
    status = t(f"incident_status_{incident.status}", lang, user=status_user)
    head = (f"🚨 {SEVERITY_ICONS.get(incident.severity, '')} *{escape(incident.title)}*\n{status} · "
            f"{incident.opened_at.astimezone(zone):%a %d %b %H:%M}")
    lines = []
    if "observed" in facts:
        lines.append(t("incident_facts", lang, observed=facts["observed"], minutes=facts.get("bucket_minutes", "?"),
                       baseline=f"{float(facts.get('baseline', 0)):.1f}"))
    if facts.get("networks"):
        lines.append(", ".join(f"{network_label(n)} {c}" for n, c in sorted(facts["networks"].items(),
                                                                            key=lambda kv: -kv[1])))
    if facts.get("terms"):
        lines.append(t("incident_terms", lang, terms=", ".join(f"«{escape(x)}»" for x in facts["terms"][:6])))
    if facts.get("authors"):
        people = []
        for author in facts["authors"][:6]:
            star = "⭐ " if author.get("influencer") else ""
            followers = f" ({author['followers']:,})" if author.get("followers") else ""
            people.append(f"{star}@{escape(str(author.get('handle', '?')))}{followers}")
        lines.append(t("incident_authors", lang, authors=", ".join(people)))
    post = facts.get("post")
    if post:
        at = datetime.fromisoformat(post["at"]).astimezone(zone).strftime("%a %H:%M") if post.get("at") else "?"
        lines.append("📅 " + t("incident_after_post", lang, title=escape(str(post.get("title", ""))),
                               network=network_label(str(post.get("network", ""))), time=at))
    blocks: list = [SectionBlock(text=MarkdownTextObject(text=truncate(head, 3000)))]
    if lines:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), 3000))))
    if examples:
        quoted = "\n".join(f"> @{escape(a.handle)}: {truncate(escape(' '.join(m.text.split())), 180)}"
                           for m, a in examples[:3])
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(quoted, 3000))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t("incident_items", lang, n=items))]))
    if incident.status != "resolved":
        buttons = []
        if incident.status == "open":
            buttons.append(ButtonElement(text=t("incident_ack", lang), action_id=ids.ACK_INCIDENT,
                                         value=str(incident.id), style="primary"))
        buttons.append(ButtonElement(text=t("incident_resolve", lang), action_id=ids.RESOLVE_INCIDENT,
                                     value=str(incident.id)))
        blocks.append(ActionsBlock(block_id=f"incident:{incident.id}", elements=buttons))
    return Rendered(truncate(f"🚨 {incident.title}", 3000), [b.to_dict() for b in blocks])
