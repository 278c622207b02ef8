"""Engagement rules: what the team owes each item (thank, reply, like, escalate), by when, and how well it keeps up.

Semantics:

- every rule runs on every item (fan-out); each match becomes a task due `within` after the item was
  seen, owed by the rule's `owner` or else by the owner the item is routed to;
- an `ignore` rule that matches vetoes the item's other tasks (they are reported with `suppressed_by`),
  so "thank every positive mention" never thanks spam the team chose to ignore;
- a rule with a schedule (`during` / `outside`) only matches while it is in force;
- a reply template's variant is picked by a stable hash of the item and the rule, so replays and
  replicas agree, and consecutive thanks don't read the same.

Consistency, nudges and escalations are pure functions over `Task` records, which the store keeps:
`consistency(tasks, now)`, `nudge_due(tasks, now)`, `escalations_due(tasks, now)`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from rules.conditions import Facts, Gate, Node, Plan, say

VERBS = {
    "en": {"thank": "thanked", "reply": "answered", "like": "liked", "escalate": "escalated"},
    "fr": {"thank": "remercié", "reply": "répondu à", "like": "aimé", "escalate": "escaladé"},
}


class Reply(NamedTuple):
    """A reply drafted from a template: which variant, in which language, with its placeholders filled."""

    template: str
    lang: str
    variant: int
    text: str


class EngagementMatch(NamedTuple):
    """One rule matched: the task it creates (none for `ignore`, or when an ignore rule vetoed it)."""

    rule_id: str
    title: str
    action: str
    reason: str
    owner: str | None
    due_at: datetime | None
    nudge_at: datetime | None
    escalate_to: str | None
    reply: Reply | None
    suppressed_by: str | None = None

    @property
    def creates_task(self) -> bool:
        return self.action != "ignore" and self.suppressed_by is None and self.due_at is not None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: str
    title: str
    action: str
    within: timedelta | None
    nudge_before: timedelta | None
    owner: str | None
    escalate_to: str | None
    template: dict[str, tuple[str, ...]] | None
    template_id: str | None
    gate: Gate | None
    within_or_zero: timedelta = timedelta(0)
    nudge_after: timedelta = timedelta(0)  # the nudge goes out this long after the match

    @classmethod
    def build(cls, id: str, title: str, action: str, within: timedelta | None, nudge_before: timedelta | None,
              owner: str | None, escalate_to: str | None, template: dict[str, tuple[str, ...]] | None,
              template_id: str | None, gate: Gate | None) -> CompiledRule:
        span = within or timedelta(0)
        before = nudge_before if nudge_before is not None else span / 4
        return cls(id, title, action, within, nudge_before, owner, escalate_to, template, template_id, gate, span,
                   span - before)


class ReplyItem(Protocol):
    """What a reply template needs to know about the item (`rules.compile.ItemContext` has it)."""

    @property
    def key(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def lang(self) -> str | None: ...

    @property
    def author_handle(self) -> str: ...

    @property
    def author_name(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Brand:
    """What placeholders are filled with, besides the item: {brand}, {charter_link}, the default language."""

    name: str
    lang: str
    charter_links: dict[str, str]

    def link(self, lang: str) -> str:
        """The charter link in `lang`, else in any language, else ''."""
        return self.charter_links.get(lang) or next(iter(self.charter_links.values()), "")


class EngagementEngine:
    """The compiled engagement rules, planned per set of discrete facts (see `rules/conditions.py`)."""

    def __init__(self, rules: list[tuple[CompiledRule, Node]], *, fallback_owner: str | None, brand: Brand) -> None:
        self.rules = [r for r, _ in rules]
        self._plan: Plan[CompiledRule] = Plan(rules)
        self._fallback = fallback_owner
        self._brand = brand

    def match(self, facts: Facts, *, now: datetime, routed_owner: str | None, item: ReplyItem) -> list[EngagementMatch]:
        """Every rule that applies to this item, in rule order."""
        found: list[EngagementMatch] = []
        veto: str | None = None
        for rule, residual, reason in self._plan.candidates(facts):
            if rule.gate is not None and not rule.gate.open(now):
                continue
            if residual is not None:
                reasons = residual.eval(facts)
                if reasons is None:
                    continue
                reason = say(reasons)
            if rule.gate is not None:
                reason += f" ({rule.gate.describe()})"
            if rule.action == "ignore":
                veto = veto or rule.id
                found.append(EngagementMatch(rule.id, rule.title, rule.action, reason, None, None, None, None, None))
                continue
            found.append(EngagementMatch(
                rule.id, rule.title, rule.action, reason, rule.owner or routed_owner, now + rule.within_or_zero,
                now + rule.nudge_after, rule.escalate_to or self._fallback,
                _reply(rule, item, self._brand) if rule.template is not None else None))
        if veto is not None:
            found = [m if m.action == "ignore" else _suppress(m, veto) for m in found]
        return found


def _suppress(match: EngagementMatch, by: str) -> EngagementMatch:
    return match._replace(suppressed_by=by)


def _reply(rule: CompiledRule, item: ReplyItem, brand: Brand) -> Reply | None:
    template = rule.template
    if template is None or rule.template_id is None:
        return None
    lang = item.lang
    if lang not in template:
        lang = brand.lang if brand.lang in template else next(iter(template))
    variants = template[lang]  # type: ignore[index]
    # crc32, not hash(): stable across processes, so a replay picks the same variant.
    variant = zlib.crc32(f"{item.key or item.text}|{rule.id}".encode("utf-8", "surrogatepass")) % len(variants)
    handle = item.author_handle.lstrip("@")
    text = variants[variant].format(author=f"@{handle}" if handle else (item.author_name or ""),
                                    name=item.author_name or handle, brand=brand.name,
                                    charter_link=brand.link(lang))  # type: ignore[arg-type]
    return Reply(rule.template_id, lang, variant, text)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Tasks and how consistently they are done


@dataclass(frozen=True, slots=True)
class Task:
    """A stored engagement task (the lead's `tasks` table maps onto this)."""

    rule_id: str
    action: str
    owner: str | None
    created_at: datetime
    due_at: datetime
    done_at: datetime | None = None
    nudge_at: datetime | None = None
    nudged_at: datetime | None = None
    escalate_to: str | None = None
    escalated_at: datetime | None = None
    cancelled: bool = False  # the item was removed or judged not relevant: out of every count
    item: Any = None  # the caller's key (mention id)

    @classmethod
    def from_match(cls, match: EngagementMatch, *, created_at: datetime, item: Any = None) -> Task:
        if not match.creates_task or match.due_at is None:
            raise ValueError(f"rule {match.rule_id!r} creates no task for this item")
        return cls(match.rule_id, match.action, match.owner, created_at, match.due_at, nudge_at=match.nudge_at,
                   escalate_to=match.escalate_to, item=item)

    @property
    def open(self) -> bool:
        return self.done_at is None and not self.cancelled


@dataclass(slots=True)
class Tally:
    """Tasks by outcome at a moment. `share` = on time / decided, where decided = on time + late + overdue.

    Tasks still open and not yet due are `pending`: they count neither for nor against consistency.
    """

    on_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0

    @property
    def decided(self) -> int:
        return self.on_time + self.late + self.overdue

    @property
    def matched(self) -> int:
        return self.decided + self.pending

    @property
    def share(self) -> float | None:
        return self.on_time / self.decided if self.decided else None

    def add(self, task: Task, now: datetime) -> None:
        if task.done_at is not None:
            if task.done_at <= task.due_at:
                self.on_time += 1
            else:
                self.late += 1
        elif task.due_at <= now:
            self.overdue += 1
        else:
            self.pending += 1

    def describe(self, action: str, lang: str = "en") -> str:
        """'thanked 3 of 4 — 75%'."""
        verb = VERBS.get(lang, VERBS["en"]).get(action, action)
        if not self.decided:
            return f"{verb} 0 of 0 — n/a" if lang == "en" else f"{verb} 0 sur 0 — n/d"
        percent = round(100 * self.on_time / self.decided)
        word = "of" if lang == "en" else "sur"
        sep = "%" if lang == "en" else "\u202f%"
        return f"{verb} {self.on_time} {word} {self.decided} — {percent}{sep}"


@dataclass(slots=True)
class RuleConsistency:
    rule_id: str
    action: str
    overall: Tally = field(default_factory=Tally)
    by_owner: dict[str | None, Tally] = field(default_factory=dict)


@dataclass(slots=True)
class Consistency:
    """For each rule, the share of matching items actioned within the deadline, per owner and overall."""

    by_rule: dict[str, RuleConsistency] = field(default_factory=dict)
    by_owner: dict[str | None, Tally] = field(default_factory=dict)
    overall: Tally = field(default_factory=Tally)


def consistency(tasks: Iterable[Task], now: datetime) -> Consistency:
    """Tally tasks by rule, by rule and owner, by owner, and overall; cancelled tasks are left out."""
    report = Consistency()
    for task in tasks:
        if task.cancelled:
            continue
        rule = report.by_rule.get(task.rule_id)
        if rule is None:
            rule = report.by_rule[task.rule_id] = RuleConsistency(task.rule_id, task.action)
        rule.overall.add(task, now)
        rule.by_owner.setdefault(task.owner, Tally()).add(task, now)
        report.by_owner.setdefault(task.owner, Tally()).add(task, now)
        report.overall.add(task, now)
    return report


def nudge_due(tasks: Iterable[Task], now: datetime) -> list[Task]:
    """Open tasks whose nudge time has come, not nudged yet and not yet overdue (overdue ones escalate)."""
    return [t for t in tasks if t.open and t.nudged_at is None and t.nudge_at is not None
            and t.nudge_at <= now < t.due_at]


def escalations_due(tasks: Iterable[Task], now: datetime) -> list[Task]:
    """Open tasks past their deadline that have not been escalated yet."""
    return [t for t in tasks if t.open and t.escalated_at is None and t.due_at <= now]
