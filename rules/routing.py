"""Routing: which responsibility owns an item, who gets it, in which channel, and why.

Semantics (the fallback chain is explicit):

1. responsibilities are tried in config order; the first whose conditions hold *and* whose schedule
   is in force wins (a scheduled one is skipped outside its hours);
2. within it, an owner is picked by `round_robin` (in turn after the last one assigned) or
   `least_open` (fewest open items; ties broken in turn); owners marked away are skipped;
3. when every owner of the winning responsibility is away, the item goes to the fallback owner,
   in the responsibility's channel;
4. when no responsibility matches: the triage channel and the fallback owner.

Influencers (a tier by follower count, or a known account) are flagged and routed with priority.
Every decision carries its reason, in words a team member can read on the card:
"support: keyword 'livraison', negative · round-robin → U0SUPPORT2 (U0SUPPORT1 away)", always in
the same order: keywords, then sentiment, kind, network, language, tier, question, violations.

Who is away, how many items each owner has open and who was assigned last live in the store; they
reach routing through the `AssignmentState` protocol, so routing stays a pure function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple, Protocol

from rules.conditions import (
    Facts,
    Gate,
    KeywordRegistry,
    Node,
    Plan,
    Report,
    Window,
    check_refs,
    compile_condition,
    keyword_hits,
    looks_like_question,
    raise_problem,
    say,
)
from rules.match import Normalizer, PhraseIndex
from rules.schema import Influencers

if TYPE_CHECKING:
    from bot.workspace import Workspace


class Route(NamedTuple):
    """Where an item goes: its responsibility (None: triage), owner, channel, and why."""

    responsibility: str | None
    owner: str | None
    channel: str
    reason: str
    priority: str = "normal"  # normal | high
    influencer_tier: str | None = None


class AssignmentState(Protocol):
    """What routing needs to know about the team right now (the store answers; tests use `MemoryAssignmentState`)."""

    def is_away(self, owner: str) -> bool: ...

    def open_items(self, owner: str) -> int: ...

    def last_assigned(self, responsibility: str) -> str | None: ...


class NoAssignmentState:
    """Nobody away, nothing open, nothing assigned yet: routing picks each responsibility's first owner."""

    def is_away(self, owner: str) -> bool:
        return False

    def open_items(self, owner: str) -> int:
        return 0

    def last_assigned(self, responsibility: str) -> str | None:
        return None


@dataclass(slots=True)
class MemoryAssignmentState:
    """An in-memory `AssignmentState` that learns from the routes it is told about (tests, replays, bench)."""

    away: set[str] = field(default_factory=set)
    open: dict[str, int] = field(default_factory=dict)
    last: dict[str, str] = field(default_factory=dict)

    def is_away(self, owner: str) -> bool:
        return owner in self.away

    def open_items(self, owner: str) -> int:
        return self.open.get(owner, 0)

    def last_assigned(self, responsibility: str) -> str | None:
        return self.last.get(responsibility)

    def record(self, route: Route) -> None:
        """Count a routed item as open for its owner and move the round-robin pointer."""
        if route.owner is not None:
            self.open[route.owner] = self.open.get(route.owner, 0) + 1
            if route.responsibility is not None:
                self.last[route.responsibility] = route.owner

    def close(self, owner: str) -> None:
        self.open[owner] = max(0, self.open.get(owner, 0) - 1)


@dataclass(frozen=True, slots=True)
class CompiledResponsibility:
    name: str
    owners: tuple[str, ...]
    channel: str | None
    assign: str
    priority: str
    gate: Gate | None

    @property
    def sole_owner_note(self) -> str:
        return f"→ {self.owners[0]}"


class InfluencerIndex:
    """An author's tier: a known account's tier first, else the highest tier their follower count reaches."""

    def __init__(self, config: Influencers) -> None:
        self.tiers = sorted(config.tiers.items(), key=lambda kv: kv[1])
        self.rank = {name: i for i, (name, _) in enumerate(self.tiers)}
        self.priority_rank = self.rank[config.priority_from] if config.priority_from else 0
        self.accounts: dict[tuple[str | None, str], str] = {
            (a.network, a.handle.lower().lstrip("@")): a.tier for a in config.accounts}

    def tier(self, network: str, handle: str, followers: int | None) -> tuple[str | None, str]:
        """(tier or None, why)."""
        if self.accounts:
            key = handle.lower().lstrip("@")
            known = self.accounts.get((network, key)) or self.accounts.get((None, key))
            if known:
                return known, f"influencer {known} (known account)"
        if followers is None or not self.tiers or followers < self.tiers[0][1]:
            return None, ""  # most authors
        found = None
        for name, minimum in self.tiers:
            if followers >= minimum:
                found = name
        return found, f"influencer {found} ({_count(followers or 0)} followers)"

    def priority(self, tier: str | None) -> bool:
        return tier is not None and self.rank.get(tier, -1) >= self.priority_rank


def _count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
    if n >= 1_000:
        return f"{n / 1_000:.0f}k"
    return str(n)


def _ungated(resp: CompiledResponsibility) -> bool:
    return resp.gate is None


class Router:
    """The compiled routing of one workspace."""

    def __init__(self, responsibilities: list[tuple[CompiledResponsibility, Node]], *, triage: str,
                 fallback_owner: str | None, influencers: InfluencerIndex) -> None:
        self.responsibilities = [r for r, _ in responsibilities]
        self._by_name = {r.name: r for r in self.responsibilities}
        self._plan: Plan[CompiledResponsibility] = Plan(responsibilities, stop_at_first=True, unconditional=_ungated)
        self.triage = triage
        self.fallback_owner = fallback_owner
        self.influencers = influencers

    def decide(self, facts: Facts, *, now: datetime, state: AssignmentState, tier_reason: str = "") -> Route:
        """Route one item (first matching responsibility in force wins)."""
        priority_flag = facts.tier is not None and self.influencers.priority(facts.tier)
        extra = f" · {tier_reason}" if priority_flag and tier_reason else ""
        for resp, residual, why in self._plan.candidates(facts):
            if resp.gate is not None and not resp.gate.open(now):
                continue
            if residual is not None:
                reasons = residual.eval(facts)
                if reasons is None:
                    continue
                why = say(reasons)
            if resp.gate is not None:
                why += f" ({resp.gate.describe()})"
            owner, how = self.pick_owner(resp, state)
            priority = "high" if priority_flag or resp.priority == "high" else "normal"
            return Route(resp.name, owner, resp.channel or self.triage, f"{resp.name}: {why} · {how}{extra}",
                         priority, facts.tier)
        owner, how = self._fallback(state)
        return Route(None, owner, self.triage, f"no responsibility matched: triage · {how}{extra}",
                     "high" if priority_flag else "normal", facts.tier)

    def _fallback(self, state: AssignmentState) -> tuple[str | None, str]:
        if self.fallback_owner is None:
            return None, "no fallback owner"
        if state.is_away(self.fallback_owner):
            return None, f"fallback owner {self.fallback_owner} away too: unassigned"
        return self.fallback_owner, f"fallback owner {self.fallback_owner}"

    def pick_owner(self, resp: CompiledResponsibility, state: AssignmentState) -> tuple[str | None, str]:
        """The owner for one more item of `resp`, and how it was chosen."""
        owners = resp.owners
        count = len(owners)
        if count == 1 and not state.is_away(owners[0]):
            return owners[0], resp.sole_owner_note
        # In turn: starting after the last owner assigned, wrapping around; one pass over the owners.
        last = state.last_assigned(resp.name)
        start = owners.index(last) + 1 if last in owners else 0
        least = resp.assign == "least_open"
        away: list[str] = []
        chosen: str | None = None
        fewest = -1
        ties = 0
        for step in range(count):
            owner = owners[(start + step) % count]
            if state.is_away(owner):
                away.append(owner)
            elif least:
                load = state.open_items(owner)
                if chosen is None or load < fewest:
                    chosen, fewest, ties = owner, load, 1
                elif load == fewest:
                    ties += 1
            elif chosen is None:
                chosen = owner
        note = f" ({', '.join(a for a in owners if a in away)} away)" if away else ""
        if chosen is None:
            owner, how = self._fallback(state)
            return owner, f"every owner away ({', '.join(owners)}); {how}"
        if count == 1:
            return chosen, resp.sole_owner_note
        if least:
            return chosen, f"least open ({fewest}{', tie broken in turn' if ties > 1 else ''}) → {chosen}{note}"
        return chosen, f"round-robin → {chosen}{note}"

    def reassign(self, current: Route, *, to: str, by: str, state: AssignmentState) -> Route:
        """One-click reassignment: to another responsibility (an owner is picked there) or straight to a person."""
        resp = self._by_name.get(to)
        if resp is not None:
            owner, how = self.pick_owner(resp, state)
            reason = f"reassigned by {by} from {current.responsibility or 'triage'} to {resp.name} · {how}"
            return current._replace(responsibility=resp.name, owner=owner, channel=resp.channel or self.triage,
                                    reason=reason)
        return current._replace(owner=to, reason=f"reassigned by {by} from {current.owner or 'nobody'} to {to}")


# ---------------------------------------------------------------------------------------------
# The pipeline's entry point until it calls RuleSet.evaluate (rules/compile.py)


def compile_router(workspace: Workspace, keyword_list: KeywordRegistry, report: Report, *,
                   schedules: dict[str, Window], clauses: frozenset[str] | None = None) -> Router:
    """Compile the workspace's responsibilities and influencers into a `Router`, reporting broken references."""
    compiled = []
    for index, resp in enumerate(workspace.responsibilities):
        loc = ("responsibilities", index)
        gate = None
        name = resp.during or resp.outside
        if name is not None:
            if name not in schedules:
                report(loc + ("during" if resp.during else "outside",),
                       f"unknown schedule {name!r}; define it under schedules: ({', '.join(schedules) or 'none yet'})")
            else:
                gate = Gate(schedules[name], outside=resp.outside is not None)
        check_refs(resp, loc, report, tiers=workspace.influencers.tiers, clauses=clauses)
        node = compile_condition(resp, keyword_list.add)
        for keyword in keyword_list.unusable:
            report(loc + ("keywords",), f"keyword {keyword!r} has no letters or digits to match; remove it")
        keyword_list.unusable.clear()
        compiled.append((CompiledResponsibility(resp.name, tuple(resp.owners), resp.channel, resp.assign,
                                                resp.priority, gate), node))
    return Router(compiled, triage=workspace.channels.triage, fallback_owner=workspace.fallback_owner,
                  influencers=InfluencerIndex(workspace.influencers))


@dataclass(slots=True)
class _RoutingOnly:
    workspace: Workspace
    router: Router
    keywords: PhraseIndex[int]
    normalizer: Normalizer


_ROUTERS: dict[int, _RoutingOnly] = {}


def route(workspace: Workspace, *, text: str, network: str, sentiment: str, kind: str = "mention",
          lang: str | None = None, followers: int | None = None, handle: str = "",
          now: datetime | None = None) -> Route:
    """Decide the owner of one mention with the workspace's routing alone (no charter, no assignment state)."""
    compiled = _ROUTERS.get(id(workspace))
    if compiled is None or compiled.workspace is not workspace:
        keywords: PhraseIndex[int] = PhraseIndex()
        zone = workspace.brand.timezone
        windows = {name: Window(name, schedule, zone) for name, schedule in workspace.schedules.items()}
        router = compile_router(workspace, KeywordRegistry(keywords), raise_problem(), schedules=windows)
        compiled = _RoutingOnly(workspace, router, keywords, Normalizer(cache_size=10_000))
        if len(_ROUTERS) > 16:
            _ROUTERS.clear()
        _ROUTERS[id(workspace)] = compiled
    analysis = compiled.normalizer.analyze(text)
    tier, tier_reason = compiled.router.influencers.tier(network, handle, followers)
    facts = Facts(sentiment, kind, network, lang, tier, looks_like_question(text, analysis.tokens), frozenset(), -1,
                  keyword_hits(compiled.keywords.find(analysis)))
    # The pipeline has no clock to pass yet; scheduled responsibilities need one, so read the wall clock here.
    at = now or datetime.now(UTC)
    return compiled.router.decide(facts, now=at, state=NoAssignmentState(), tier_reason=tier_reason)
