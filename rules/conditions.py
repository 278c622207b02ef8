"""Compiled conditions and schedules, shared by engagement rules and responsibilities.

A `Condition` (rules/schema.py) compiles into a tree of nodes that return the *reasons* it holds
("negative", "keyword 'livraison'") or None. Most leaves read only discrete facts of the item
(sentiment, kind, network, language, tier, question, violations); only keyword leaves read its words.
`Plan` exploits that: for each combination of discrete facts it evaluates every rule once, keeps the
rules that hold whatever the words (with their reasons) or that still depend on keywords (a residual
node), and drops the others. An item then costs one dict lookup plus its residual keyword checks,
however many rules there are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from bot.errors import ConfigError, ConfigProblem
from rules.match import PhraseHit, PhraseIndex
from rules.schema import DAYS, SEVERITIES, Condition, Schedule, hours_range

R = TypeVar("R")
Reasons = tuple[str, ...]
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
ONE_DAY = timedelta(days=1)

# First words that ask even without a question mark. Not "quel", "what", "how", "quand": they open
# exclamations ("Quel service !", "What a lamp") and statements ("Quand je pense que...") as often.
_QUESTION_STARTS = frozenset(
    "pourquoi combien pouvez pourriez avez auriez savez why can could does did do is are will would should "
    "anyone anybody yat".split())  # "yat": "y a-t-il", once one-letter words are joined
_QUESTION_PAIRS = frozenset({"est ce", "peut on", "sait on"})


def looks_like_question(text: str, tokens: Sequence[str]) -> bool:
    """A question mark anywhere, or a French/English interrogative opening."""
    if "?" in text:
        return True
    if not tokens:
        return False
    return tokens[0] in _QUESTION_STARTS or " ".join(tokens[:2]) in _QUESTION_PAIRS


class Facts:
    """What conditions look at, computed once per item."""

    __slots__ = ("sentiment", "kind", "network", "lang", "tier", "question", "violation_ids", "severity",
                 "keyword_hits", "signature")

    def __init__(self, sentiment: str, kind: str, network: str, lang: str | None, tier: str | None, question: bool,
                 violation_ids: frozenset[str], severity: int, keyword_hits: dict[int, str],
                 signature: tuple[object, ...] | None = None) -> None:
        self.sentiment = sentiment
        self.kind = kind
        self.network = network
        self.lang = lang
        self.tier = tier
        self.question = question
        self.violation_ids = violation_ids
        self.severity = severity  # rank of the most severe violation, -1 when there is none
        self.keyword_hits = keyword_hits  # keyword list id -> first keyword of that list found, as written
        # Every discrete fact: the plans' cache key (the caller may pass a coarser one, see `Vocabulary`).
        self.signature = signature or (sentiment, kind, network, lang, tier, question, violation_ids, severity)


OTHER = "~"  # a value no condition names


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The kinds, networks and languages some condition names. Two items that differ only by values no
    condition names get the same plan, so plans are shared (no reason ever shows such a value)."""

    kinds: frozenset[str]
    networks: frozenset[str]
    languages: frozenset[str]

    @classmethod
    def of(cls, conditions: Iterable[Condition]) -> Vocabulary:
        kinds: set[str] = set()
        networks: set[str] = set()
        languages: set[str] = set()

        def walk(cond: Condition) -> None:
            kinds.update(cond.kinds or ())
            networks.update(cond.networks or ())
            languages.update(cond.languages or ())
            for sub in [*(cond.all_ or ()), *(cond.any_ or ()), *([cond.not_] if cond.not_ else [])]:
                walk(sub)

        for cond in conditions:
            walk(cond)
        return cls(frozenset(kinds), frozenset(networks), frozenset(languages))

    def signature(self, sentiment: str, kind: str, network: str, lang: str | None, tier: str | None,
                  question: bool, violation_ids: frozenset[str], severity: int) -> tuple[object, ...]:
        return (sentiment, kind if kind in self.kinds else OTHER, network if network in self.networks else OTHER,
                lang if lang in self.languages else OTHER, tier, question, violation_ids, severity)


class Node:
    """A compiled condition."""

    def eval(self, facts: Facts) -> Reasons | None:
        raise NotImplementedError

    def partial(self, facts: Facts) -> Reasons | Node | None:
        """Evaluate what discrete facts decide; return the residual node when keywords still matter."""
        return self.eval(facts)


class Leaf(Node):
    """A test of discrete facts."""

    __slots__ = ("_test",)

    def __init__(self, test: Callable[[Facts], str | None]) -> None:
        self._test = test

    def eval(self, facts: Facts) -> Reasons | None:
        reason = self._test(facts)
        return None if reason is None else (reason,)


class Keywords(Node):
    """Any keyword of one list found in the item's words (the only leaf that depends on the text)."""

    __slots__ = ("list_id",)

    def __init__(self, list_id: int) -> None:
        self.list_id = list_id

    def eval(self, facts: Facts) -> Reasons | None:
        found = facts.keyword_hits.get(self.list_id)
        return None if found is None else (f"keyword '{found}'",)

    def partial(self, facts: Facts) -> Reasons | Node | None:
        return self


class All(Node):
    __slots__ = ("children",)

    def __init__(self, children: Sequence[Node]) -> None:
        self.children = tuple(children)

    def eval(self, facts: Facts) -> Reasons | None:
        reasons: Reasons = ()
        for child in self.children:
            found = child.eval(facts)
            if found is None:
                return None
            reasons += found
        return reasons

    def partial(self, facts: Facts) -> Reasons | Node | None:
        residual: list[Node] = []
        for child in self.children:
            found = child.partial(facts)
            if found is None:
                return None
            residual.append(found if isinstance(found, Node) else Const(found))
        if all(isinstance(n, Const) for n in residual):
            return tuple(r for n in residual for r in n.eval(facts) or ())
        return All(residual)


class AnyOf(Node):
    """The first child that holds gives the reasons."""

    __slots__ = ("children",)

    def __init__(self, children: Sequence[Node]) -> None:
        self.children = tuple(children)

    def eval(self, facts: Facts) -> Reasons | None:
        for child in self.children:
            found = child.eval(facts)
            if found is not None:
                return found
        return None

    def partial(self, facts: Facts) -> Reasons | Node | None:
        residual: list[Node] = []
        for child in self.children:
            found = child.partial(facts)
            if found is None:
                continue
            if not isinstance(found, Node):
                if not residual:
                    return found  # holds whatever the words: earlier children are all false
                residual.append(Const(found))
                break
            residual.append(found)
        return AnyOf(residual) if residual else None


class Not(Node):
    __slots__ = ("child", "label")

    def __init__(self, child: Node, label: str) -> None:
        self.child = child
        self.label = label

    def eval(self, facts: Facts) -> Reasons | None:
        return (self.label,) if self.child.eval(facts) is None else None

    def partial(self, facts: Facts) -> Reasons | Node | None:
        found = self.child.partial(facts)
        if isinstance(found, Node):
            return Not(found, self.label)
        return (self.label,) if found is None else None


class Const(Node):
    __slots__ = ("reasons",)

    def __init__(self, reasons: Reasons) -> None:
        self.reasons = reasons

    def eval(self, facts: Facts) -> Reasons | None:
        return self.reasons


def _in(attr: str, values: Sequence[str], label: Callable[[str], str]) -> Leaf:
    allowed = frozenset(values)

    def test(facts: Facts) -> str | None:
        value = getattr(facts, attr)
        return label(value) if value in allowed else None

    return Leaf(test)


def describe(cond: Condition) -> str:
    """A short human description of a condition (used for `not` reasons)."""
    parts = []
    for name, value in (("sentiment", cond.sentiment), ("kind", cond.kinds), ("network", cond.networks),
                        ("lang", cond.languages), ("tier", cond.tiers), ("keyword", cond.keywords)):
        if value:
            parts.append(f"{name} {'/'.join(value)}")
    if cond.influencer is not None:
        parts.append("influencer" if cond.influencer else "not an influencer")
    if cond.question is not None:
        parts.append("question" if cond.question else "not a question")
    if cond.violation is True:
        parts.append("a violation")
    elif cond.violation is False:
        parts.append("no violation")
    elif cond.violation:
        parts.append(f"violation {'/'.join(cond.violation)}")
    if cond.severity:
        parts.append(f"severity ≥ {cond.severity}")
    if cond.all_ or cond.any_ or cond.not_:
        parts.append("…")
    return ", ".join(parts) or "anything"


def compile_condition(cond: Condition, keyword_list: Callable[[list[str]], int]) -> Node:
    """Compile a condition; `keyword_list` registers a keyword list and returns its id."""
    nodes: list[Node] = []
    if cond.keywords:  # first: the most telling reason ("support: keyword 'livraison', negative")
        nodes.append(Keywords(keyword_list(list(cond.keywords))))
    if cond.sentiment:
        nodes.append(_in("sentiment", cond.sentiment, str))
    if cond.kinds:
        nodes.append(_in("kind", cond.kinds, str))
    if cond.networks:
        nodes.append(_in("network", cond.networks, str))
    if cond.languages:
        nodes.append(_in("lang", cond.languages, lambda v: f"lang {v}"))
    if cond.tiers:
        nodes.append(_in("tier", cond.tiers, lambda v: f"influencer ({v})"))
    if cond.influencer is not None:
        wanted = cond.influencer
        nodes.append(Leaf(lambda f: (f"influencer ({f.tier})" if f.tier else "not an influencer")
                          if (f.tier is not None) == wanted else None))
    if cond.question is not None:
        asked = cond.question
        nodes.append(Leaf(lambda f: ("question" if asked else "not a question") if f.question == asked else None))
    if cond.violation is True:
        nodes.append(Leaf(lambda f: f"violation {'/'.join(sorted(f.violation_ids))}" if f.violation_ids else None))
    elif cond.violation is False:
        nodes.append(Leaf(lambda f: None if f.violation_ids else "no violation"))
    elif cond.violation:
        clauses = frozenset(cond.violation)
        nodes.append(Leaf(lambda f: (f"violation {'/'.join(sorted(clauses & f.violation_ids))}"
                                     if clauses & f.violation_ids else None)))
    if cond.severity:
        rank = SEVERITY_RANK[cond.severity]
        nodes.append(Leaf(lambda f: f"{SEVERITIES[f.severity]} violation" if f.severity >= rank else None))
    for sub in cond.all_ or []:
        nodes.append(compile_condition(sub, keyword_list))
    if cond.any_:
        nodes.append(AnyOf([compile_condition(sub, keyword_list) for sub in cond.any_]))
    if cond.not_ is not None:
        nodes.append(Not(compile_condition(cond.not_, keyword_list), f"not ({describe(cond.not_)})"))
    if not nodes:
        return Const(())
    return nodes[0] if len(nodes) == 1 else All(nodes)


@dataclass(slots=True)
class Plan(Generic[R]):
    """Rules in order with their compiled conditions; what holds for a set of discrete facts is cached.

    Two lists are kept per set of discrete facts: one for items with keyword hits (rules that depend on
    keywords come with their residual node), one for items without any (every rule in it holds, with its
    reason: most items take this path and evaluate nothing).
    """

    rules: list[tuple[R, Node]]
    stop_at_first: bool = False  # routing: nothing after an unconditional match can be reached
    unconditional: Callable[[R], bool] = lambda rule: True  # ... and which matches are unconditional
    cache_size: int = 50_000
    _cache: dict[tuple[object, ...], tuple[list[Candidate[R]], list[Candidate[R]]]] = field(default_factory=dict,
                                                                                        init=False)

    def candidates(self, facts: Facts) -> list[Candidate[R]]:
        """The rules that may hold for this item, in order, each with either a residual node to evaluate
        (it depends on keywords) or the reason it holds, already in words."""
        found = self._cache.get(facts.signature)
        if found is None:
            found = self._plan(facts)
        return found[1] if facts.keyword_hits else found[0]

    def _plan(self, facts: Facts) -> tuple[list[Candidate[R]], list[Candidate[R]]]:
        bare = Facts(facts.sentiment, facts.kind, facts.network, facts.lang, facts.tier, facts.question,
                     facts.violation_ids, facts.severity, {}, facts.signature)
        without: list[Candidate[R]] = []
        general: list[Candidate[R]] = []
        done_without = False
        for rule, node in self.rules:
            result = node.partial(bare)
            if result is None:
                continue
            if isinstance(result, Node):
                general.append((rule, result, None))
                reasons = result.eval(bare)  # exact: only keywords are left to decide, and there are none
                if reasons is not None and not done_without:
                    without.append((rule, None, say(reasons)))
                    done_without = self.stop_at_first and self.unconditional(rule)
                continue
            if not done_without:
                without.append((rule, None, say(result)))
                done_without = self.stop_at_first and self.unconditional(rule)
            general.append((rule, None, say(result)))
            if self.stop_at_first and self.unconditional(rule):
                break
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[facts.signature] = (without, general)
        return without, general


# A planned rule: (rule, residual node to evaluate or None, reason in words when it holds regardless).
Candidate = tuple[R, "Node | None", "str | None"]


def say(reasons: Reasons) -> str:
    """Reasons in words: 'negative, keyword 'livraison''."""
    return ", ".join(reasons) or "every item"


class Window:
    """A compiled schedule: is a moment inside it, in its time zone?"""

    __slots__ = ("name", "zone", "days", "start", "end", "first", "last", "_from", "_until", "_active")

    def __init__(self, name: str, schedule: Schedule, default_zone: str) -> None:
        self.name = name
        self.zone = ZoneInfo(schedule.timezone or default_zone)
        self.days = frozenset(DAYS.index(d) for d in schedule.days) if schedule.days else None
        bounds: tuple[time, time] | None = hours_range(schedule.hours) if schedule.hours else None
        self.start, self.end = bounds if bounds else (None, None)
        self.first = schedule.dates.from_ if schedule.dates else None
        self.last = schedule.dates.to if schedule.dates else None
        self._from: datetime | None = None
        self._until: datetime | None = None
        self._active = False

    def active(self, at: datetime) -> bool:
        # The answer only changes at a start, an end or midnight: remember it until the next one.
        if self._from is not None and self._until is not None and self._from <= at < self._until:
            return self._active
        local = at.astimezone(self.zone)
        self._active = self._compute(local)
        # In the caller's zone (UTC), so the check above compares like with like, without zone arithmetic.
        self._from, self._until = at, self._next_change(local).astimezone(at.tzinfo)
        return self._active

    def _next_change(self, local: datetime) -> datetime:
        day = local.date()
        changes = [datetime.combine(day + ONE_DAY, time(0), tzinfo=self.zone)]
        for moment in (self.start, self.end):
            if moment is not None:
                change = datetime.combine(day, moment, tzinfo=self.zone)
                changes.append(change if change > local else datetime.combine(day + ONE_DAY, moment,
                                                                              tzinfo=self.zone))
        # An hour early: a wall-clock time inside a daylight-saving jump may not exist; asking again is safe.
        return min(changes) - timedelta(hours=1)

    def _compute(self, local: datetime) -> bool:
        day = local.date()
        if self.start is not None and self.end is not None:
            clock = local.time()
            if self.start <= self.end:
                inside = self.start <= clock < self.end
            else:  # wraps midnight (22:00-06:00): the night belongs to the day it started
                inside = clock >= self.start or clock < self.end
                if clock < self.end:
                    day = date.fromordinal(day.toordinal() - 1)
            if not inside:
                return False
        if self.first is not None and self.last is not None and not self.first <= day <= self.last:
            return False
        return self.days is None or day.weekday() in self.days


@dataclass(frozen=True, slots=True)
class Gate:
    """A rule's schedule: in force `during` a window, or `outside` it (off-duty)."""

    window: Window
    outside: bool

    def open(self, at: datetime) -> bool:
        return self.window.active(at) != self.outside

    def describe(self) -> str:
        return f"{'outside' if self.outside else 'during'} {self.window.name}"


_SPACES = re.compile(r"\s+")


def short(text: str, limit: int = 60) -> str:
    """One line, at most `limit` characters (for reasons)."""
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Keywords: every condition's keyword list in one phrase index, searched once per item

Report = Callable[[tuple[object, ...], str], None]


class KeywordRegistry:
    """Gives each condition's keyword list an id and indexes its words; `unusable` collects empty keywords.

    The index may be shared with the charter's terms (one search per item for both): keyword lists are
    stored under negative payloads (-1 for list 0, -2 for list 1, ...), clause indexes under positive ones.
    """

    def __init__(self, index: PhraseIndex[int]) -> None:
        self.index = index
        self.lists = 0
        self.unusable: list[str] = []

    def add(self, keywords: list[str]) -> int:
        list_id = self.lists
        self.lists += 1
        for keyword in keywords:
            if not self.index.add(keyword, -1 - list_id):
                self.unusable.append(keyword)
        return list_id


def keyword_hits(hits: list[PhraseHit[int]]) -> dict[int, str]:
    """For each keyword list, its first keyword found in the item (as written in the config)."""
    found: dict[int, str] = {}
    for payload, phrase, _, _ in hits:
        if payload < 0:
            found.setdefault(-1 - payload, phrase)
    return found


def raise_problem(file: str = "veille.yaml") -> Report:
    """A `Report` that raises at once (for callers without line numbers, like the pipeline's `route`)."""

    def report(loc: tuple[object, ...], message: str) -> None:
        field = ".".join(str(p) for p in loc)
        raise ConfigError([ConfigProblem(file, None, field, message)])

    return report


def check_refs(cond: Condition, loc: tuple[object, ...], report: Report, *, tiers: Iterable[str],
               clauses: frozenset[str] | None) -> None:
    """Report tiers and clause ids a condition names that do not exist (nested conditions included)."""
    known_tiers = list(tiers)
    for tier in cond.tiers or []:
        if tier not in known_tiers:
            report(loc + ("tiers",), f"unknown influencer tier {tier!r}; tiers are {', '.join(known_tiers)}")
    if clauses is not None and isinstance(cond.violation, list):
        for clause in cond.violation:
            if clause not in clauses:
                report(loc + ("violation",), f"unknown charter clause {clause!r}; clauses are "
                       f"{', '.join(sorted(clauses)) or 'none yet'}")
    for name, subs in (("all", cond.all_ or []), ("any", cond.any_ or [])):
        for index, sub in enumerate(subs):
            check_refs(sub, loc + (name, index), report, tiers=known_tiers, clauses=clauses)
    if cond.not_ is not None:
        check_refs(cond.not_, loc + ("not",), report, tiers=known_tiers, clauses=clauses)
