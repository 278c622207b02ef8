"""Compile the workspace and its rule files, once, into a `RuleSet`; evaluate items against it.

`RuleSet.evaluate(item, now=..., assignment=..., campaigns=...)` is the one entry point of the rules:
the item's text is normalized once (`rules/match.py`) and shared by the three engines, which run in
this order because each reads the one before:

1. charter (`rules/charter.py`): every clause, fan-out -> violations with their spans;
   impersonation watch on the author (`rules/impersonation.py`);
2. routing (`rules/routing.py`): ordered, first match wins, explicit fallback -> one route;
3. engagement (`rules/engagement.py`): every rule, fan-out -> tasks with due times, owed by the rule's
   owner or the routed owner.

Compilation checks every cross-reference (templates, schedules, tiers, clause ids) and every regex;
a rule that cannot compile is a `ConfigError` at load time (with file and line), never a silent
"no match" at run time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from rules.campaign import CampaignWindow
from rules.charter import CharterEngine, Violation
from rules.conditions import (
    SEVERITY_RANK,
    Facts,
    Gate,
    KeywordRegistry,
    Report,
    Vocabulary,
    Window,
    check_refs,
    compile_condition,
    keyword_hits,
    looks_like_question,
    raise_problem,
)
from rules.engagement import Brand, CompiledRule, EngagementEngine, EngagementMatch, Task
from rules.impersonation import ImpersonationFlag, ImpersonationWatch
from rules.match import Normalizer, PhraseIndex
from rules.routing import AssignmentState, NoAssignmentState, Route, Router, compile_router
from rules.schema import Clause, EngagementRule, Impersonation, RulesFile, Schedule

if TYPE_CHECKING:
    from bot.workspace import Workspace

_NO_STATE = NoAssignmentState()
_NO_CLAUSES: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ItemContext:
    """One item as the rules see it. `key` (network:external_id) makes reply variants stable."""

    text: str
    network: str = "x"
    kind: str = "mention"
    lang: str | None = None
    sentiment: str = "neutral"
    author_handle: str = ""
    author_name: str | None = None
    author_followers: int | None = None
    is_question: bool | None = None  # None: guessed from the text (question mark, interrogative first word)
    key: str = ""
    created_at: datetime | None = None

    @classmethod
    def from_mention(cls, mention: Any, *, sentiment: str, lang: str | None = None) -> ItemContext:
        """From a `monitors.sources.base.Mention` (or anything with its fields) and its sentiment label."""
        return cls(text=mention.text, network=mention.network, kind=mention.kind, lang=lang or mention.lang,
                   sentiment=sentiment, author_handle=mention.author_handle, author_name=mention.author_name,
                   author_followers=mention.author_followers, key=f"{mention.network}:{mention.external_id}",
                   created_at=mention.created_at)


class Decision(NamedTuple):
    """Everything the rules decided about one item, each part with its evidence."""

    violations: tuple[Violation, ...]
    impersonation: ImpersonationFlag | None
    engagement: tuple[EngagementMatch, ...]
    route: Route
    influencer_tier: str | None
    is_question: bool

    def tasks(self, *, created_at: datetime, item: Any = None) -> list[Task]:
        """The engagement tasks to store for this item."""
        return [Task.from_match(m, created_at=created_at, item=item) for m in self.engagement if m.creates_task]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (`veille rules explain` prints it)."""

        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "violations": [{"clause": v.clause_id, "title": v.title, "severity": v.severity, "action": list(v.action),
                            "start": v.start, "end": v.end, "matched": v.matched, "how": v.how}
                           for v in self.violations],
            "impersonation": self.impersonation._asdict() | {"reason": self.impersonation.reason}
            if self.impersonation else None,
            "engagement": [{"rule": m.rule_id, "action": m.action, "reason": m.reason, "owner": m.owner,
                            "due_at": when(m.due_at), "nudge_at": when(m.nudge_at), "escalate_to": m.escalate_to,
                            "reply": m.reply.text if m.reply else None, "suppressed_by": m.suppressed_by}
                           for m in self.engagement],
            "route": self.route._asdict(),
            "influencer_tier": self.influencer_tier,
            "question": self.is_question,
        }


@dataclass(slots=True)
class RuleSet:
    """The compiled rules of one workspace: evaluate items, the same way every time."""

    workspace: Workspace
    charter: CharterEngine
    impersonation: ImpersonationWatch | None
    engagement: EngagementEngine
    router: Router
    phrases: PhraseIndex[int]  # the charter's terms and the conditions' keywords
    normalizer: Normalizer = field(default_factory=Normalizer)
    sources: tuple[str, ...] = ()
    version: str = ""
    vocabulary: Vocabulary = field(default_factory=lambda: Vocabulary(frozenset(), frozenset(), frozenset()))

    @classmethod
    def from_workspace(cls, workspace: Workspace) -> RuleSet:
        """Compile a workspace without rule files (routing only); problems raise at once, without lines."""
        return compile_rules(workspace, [], raise_problem(), lambda _file: raise_problem(_file))

    def new_campaign_window(self) -> CampaignWindow:
        return CampaignWindow()

    def seed(self, window: CampaignWindow, items: Iterable[ItemContext], *, now: datetime) -> None:
        """Feed recently stored items (oldest first) into a campaign window, as after a restart."""
        for item in items:
            lang = item.lang or self.workspace.brand.language
            tokens = self.normalizer.analyze(item.text).tokens
            for clause in self.charter.clauses:
                if clause.campaign is not None and (clause.languages is None or lang in clause.languages):
                    window.observe(clause.id, clause.campaign, author=(item.network, item.author_handle),
                                   words=tokens, at=item.created_at or now)

    def evaluate(self, item: ItemContext, *, now: datetime, assignment: AssignmentState | None = None,
                 campaigns: CampaignWindow | None = None) -> Decision:
        """Apply the charter, routing and engagement rules to one item.

        `assignment` answers who is away / has what open / was assigned last (default: nobody, nothing);
        `campaigns` is the sliding window for coordinated-campaign clauses (None: those clauses are skipped).
        Pure apart from `campaigns`, which records the item.
        """
        analysis = self.normalizer.analyze(item.text)
        hits = self.phrases.find(analysis)  # charter terms and condition keywords, in one search
        violations = self.charter.check(analysis, lang=item.lang or self.workspace.brand.language,
                                        author=(item.network, item.author_handle), at=item.created_at or now,
                                        campaigns=campaigns, hits=hits)
        flag = (self.impersonation.check(item.author_handle, item.author_name)
                if self.impersonation is not None and item.author_handle else None)
        tier, tier_reason = self.router.influencers.tier(item.network, item.author_handle, item.author_followers)
        question = item.is_question if item.is_question is not None else looks_like_question(item.text,
                                                                                               analysis.tokens)
        if violations:
            clause_ids = frozenset(v.clause_id for v in violations)
            severity = max(SEVERITY_RANK[v.severity] for v in violations)
        else:
            clause_ids, severity = _NO_CLAUSES, -1
        facts = Facts(item.sentiment, item.kind, item.network, item.lang, tier, question, clause_ids, severity,
                      keyword_hits(hits) if hits else {},
                      self.vocabulary.signature(item.sentiment, item.kind, item.network, item.lang, tier, question,
                                                clause_ids, severity))
        route = self.router.decide(facts, now=now, state=assignment or _NO_STATE, tier_reason=tier_reason)
        engagement = self.engagement.match(facts, now=now, routed_owner=route.owner, item=item)
        return Decision(tuple(violations), flag, tuple(engagement), route, tier, question)

    def summary(self) -> str:
        """'12 clauses, 9 engagement rules, 4 responsibilities'."""
        n_clauses, n_rules = len(self.charter.clauses), len(self.engagement.rules)
        n_resp = len(self.router.responsibilities)
        return (f"{n_clauses} clause{'s' * (n_clauses != 1)}, {n_rules} engagement rule{'s' * (n_rules != 1)}, "
                f"{n_resp} responsibilit{'ies' if n_resp != 1 else 'y'}")


# ---------------------------------------------------------------------------------------------
# Compilation


@dataclass(frozen=True, slots=True)
class SourcedRules:
    """A parsed rules file and its name (for error messages)."""

    file: str
    rules: RulesFile
    text: str = ""


def compile_rules(workspace: Workspace, files: list[SourcedRules], report_workspace: Report,
                  report_in: Any, *, sources: tuple[str, ...] = (), workspace_text: str = "") -> RuleSet:
    """Merge the rule files, check every reference and compile; problems go to the reporters.

    `report_workspace(loc, message)` reports in veille.yaml; `report_in(file)` returns the reporter of a
    rules file. The caller raises one `ConfigError` with everything reported (see `rules/loader.py`).
    """
    schedules: dict[str, Window] = {}
    definitions: dict[str, Schedule] = {}
    zone = workspace.brand.timezone

    def add_schedule(name: str, schedule: Schedule, report: Report, loc: tuple[object, ...]) -> None:
        # The same definition twice is fine (a rules file may carry the schedules it needs).
        if name in definitions and definitions[name] != schedule:
            report(loc, f"schedule {name!r} is defined twice, differently; rename one or make them equal")
        elif name not in definitions:
            definitions[name] = schedule
            schedules[name] = Window(name, schedule, zone)

    for name, schedule in workspace.schedules.items():
        add_schedule(name, schedule, report_workspace, ("schedules", name))
    clauses: list[Clause] = []
    clause_reporters: list[tuple[Report, tuple[object, ...]]] = []
    rules: list[tuple[EngagementRule, Report, tuple[object, ...]]] = []
    templates: dict[str, dict[str, tuple[str, ...]]] = {}
    links: dict[str, str] = {}
    impersonation: tuple[Impersonation, Report] | None = None
    seen_clauses: set[str] = set()
    seen_rules: set[str] = set()
    for source in files:
        report = report_in(source.file)
        doc = source.rules
        for name, schedule in doc.schedules.items():
            add_schedule(name, schedule, report, ("schedules", name))
        if doc.charter is not None:
            for lang, url in doc.charter.link.items():
                if links.setdefault(lang, url) != url:
                    report(("charter", "link", lang), f"another rules file gives another {lang} charter link "
                           f"({links[lang]}); keep one")
            for index, clause in enumerate(doc.charter.clauses):
                loc = ("charter", "clauses", index, "id")
                if clause.id in seen_clauses:
                    report(loc, f"clause id {clause.id!r} is used twice; ids must be unique across rule files")
                    continue
                seen_clauses.add(clause.id)
                clauses.append(clause)
                clause_reporters.append((report, ("charter", "clauses", index)))
        for index, rule in enumerate(doc.engagement):
            if rule.id in seen_rules:
                report(("engagement", index, "id"), f"rule id {rule.id!r} is used twice; ids must be unique across "
                       "rule files")
                continue
            seen_rules.add(rule.id)
            rules.append((rule, report, ("engagement", index)))
        for template_id, by_lang in doc.templates.items():
            if not by_lang:
                report(("templates", template_id), "a template needs at least one language; add fr: or en: "
                       "with its variants")
                continue
            if template_id in templates:
                report(("templates", template_id), f"template {template_id!r} is defined twice; rename one")
            templates[template_id] = {lang: tuple(v) for lang, v in by_lang.items()}
        if doc.impersonation is not None:
            if impersonation is not None:
                report(("impersonation",), "impersonation is configured in two rule files; keep one")
            impersonation = (doc.impersonation, report)

    def report_clause(loc: tuple[object, ...], message: str) -> None:
        index = loc[0]
        if isinstance(index, int):
            clause_report, base = clause_reporters[index]
            clause_report(base + loc[1:], message)

    phrases: PhraseIndex[int] = PhraseIndex()
    charter = CharterEngine(clauses, report_clause, phrases)
    clause_ids = frozenset(seen_clauses)
    registry = KeywordRegistry(phrases)
    router = compile_router(workspace, registry, report_workspace, schedules=schedules, clauses=clause_ids)
    compiled = []
    for rule, report, loc in rules:
        check_refs(rule.when, loc + ("when",), report, tiers=workspace.influencers.tiers, clauses=clause_ids)
        gate = None
        name = rule.during or rule.outside
        if name is not None:
            if name not in schedules:
                report(loc + ("during" if rule.during else "outside",),
                       f"unknown schedule {name!r}; define it under schedules: ({', '.join(schedules) or 'none yet'})")
            else:
                gate = Gate(schedules[name], outside=rule.outside is not None)
        if rule.template is not None and rule.template not in templates:
            report(loc + ("template",), f"unknown template {rule.template!r}; define it under templates: "
                   f"({', '.join(templates) or 'none yet'})")
        node = compile_condition(rule.when, registry.add)
        for keyword in registry.unusable:
            report(loc + ("when", "keywords"), f"keyword {keyword!r} has no letters or digits to match; remove it")
        registry.unusable.clear()
        compiled.append((CompiledRule.build(rule.id, rule.title, rule.action, rule.within, rule.nudge_before,
                                            rule.owner, rule.escalate_to,
                                            templates.get(rule.template) if rule.template else None, rule.template,
                                            gate), node))
    brand = workspace.brand
    engagement = EngagementEngine(compiled, fallback_owner=workspace.fallback_owner,
                                  brand=Brand(brand.name, brand.language, links))
    watch = None
    if impersonation is not None:
        config, _ = impersonation
        names = [brand.name, *brand.handles.values(), *config.handles]
        watch = ImpersonationWatch(names, allow=config.allow, threshold=config.threshold, action=tuple(config.action),
                                   severity=config.severity)
    digest = hashlib.sha256(workspace_text.encode())
    for source in files:
        digest.update(source.text.encode())
    vocabulary = Vocabulary.of([*workspace.responsibilities, *(rule.when for rule, _, _ in rules)])
    return RuleSet(workspace, charter, watch, engagement, router, phrases, Normalizer(), sources,
                   digest.hexdigest()[:12], vocabulary)
