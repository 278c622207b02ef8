"""Render `/kpi` answers as Block Kit (with slack_sdk's models); the calendar's are in bot.render.calendar."""

from __future__ import annotations

from bot.messages import Lang
from bot.render.escape import escape
from rules.engagement import Consistency


def consistency_lines(report: Consistency | None, lang: Lang, *, owner: str | None = None) -> list[str]:
    """One line per engagement rule: "thank-positive: thanked 3 of 4 — 75%" (for one owner, or overall)."""
    if report is None:
        return []
    lines = []
    for rule_id, rule in sorted(report.by_rule.items()):
        tally = rule.overall if owner is None else rule.by_owner.get(owner)
        if tally is None or not tally.decided:
            continue
        lines.append(f"• {escape(rule_id)}: {tally.describe(rule.action, lang)}")
    return lines
