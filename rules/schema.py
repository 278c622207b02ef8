"""The rules' YAML schema: pydantic models for the charter, engagement rules, routing and influencers.

Where each part lives:

- `veille.yaml` (the workspace, `bot/workspace.py`) holds what is about *people*: `responsibilities`
  (who owns what, in which order), `fallback_owner`, `influencers`, `schedules`, and `rules_files`,
  the list of rule files to load.
- each rules file (`rules/examples/*.yaml`) holds *policy*: `charter` clauses, `engagement` rules,
  reply `templates`, `impersonation` watch and more `schedules`. Policy is long, written per language
  and shared between brands, and `veille rules test` swaps one file at a time, so it has its own files.

Unknown fields are errors everywhere (a typo is never silently ignored). Cross-references (a template,
a schedule, a clause or a tier named somewhere else) are checked when the rules compile
(`rules/compile.py`), with the file and line of the reference.
"""

from __future__ import annotations

import re
import string
from datetime import date, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

NETWORKS = ("x", "facebook", "instagram", "linkedin", "youtube", "mastodon", "bluesky", "reddit", "rss")
KINDS = ("mention", "comment", "reply", "keyword", "dm")
SENTIMENTS = ("negative", "neutral", "positive")
SEVERITIES = ("low", "medium", "high", "critical")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
SLACK_OWNER = re.compile(r"^[UWS][A-Z0-9]{2,}$")
SLACK_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")

Sentiment = Literal["negative", "neutral", "positive"]
Kind = Literal["mention", "comment", "reply", "keyword", "dm"]
Severity = Literal["low", "medium", "high", "critical"]
CharterAction = Literal["hide", "reply_charter", "report", "escalate"]
EngagementAction = Literal["thank", "reply", "like", "escalate", "ignore"]
Detector = Literal["email", "phone", "iban", "card", "shortener"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Strict(BaseModel):
    """Unknown fields are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _listify(value: Any) -> Any:
    """Let a single value stand for a one-item list (`sentiment: negative`)."""
    return [value] if isinstance(value, str | int | float) and not isinstance(value, bool) else value


_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*(?:m|min))?\s*$")


def parse_duration(value: Any) -> Any:
    """'24h', '90m', '1h30m', '2d' -> timedelta; other values go on to pydantic unchanged."""
    if isinstance(value, str):
        found = _DURATION.match(value.lower())
        if not found or not any(found.groups()):
            raise ValueError(f"{value!r} is not a duration; write it like 30m, 2h, 1h30m or 7d")
        days, hours, minutes = (int(g) if g else 0 for g in found.groups())
        return timedelta(days=days, hours=hours, minutes=minutes)
    return value


def _owner(value: str) -> str:
    if not SLACK_OWNER.match(value):
        raise ValueError(f"{value!r} is not a Slack user or user group id (like U0123ABCD or S0123ABCD)")
    return value


def _channel(value: str | None) -> str | None:
    if value is not None and not SLACK_CHANNEL_ID.match(value):
        raise ValueError(f"{value!r} is not a channel id; use the id (like C0123ABCD) shown at the bottom of "
                         "the channel's details in Slack")
    return value


def _network(value: str) -> str:
    if value not in NETWORKS:
        raise ValueError(f"unknown network {value!r}; expected one of {', '.join(NETWORKS)}")
    return value


def _language_codes(value: list[str] | None) -> list[str] | None:
    for lang in value or []:
        if not re.fullmatch(r"[a-z]{2,3}", lang):
            raise ValueError(f"{lang!r} is not a language code; use ISO 639-1 like fr or en")
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Owner = Annotated[str, BeforeValidator(_owner)]
Network = Annotated[str, BeforeValidator(_network)]
Ident = Annotated[str, Field(pattern=ID_PATTERN)]


SentimentList = Annotated[list[Sentiment], BeforeValidator(_listify)]
KindList = Annotated[list[Kind], BeforeValidator(_listify)]
NetworkList = Annotated[list[Network], BeforeValidator(_listify)]
DayList = Annotated[list[Day], BeforeValidator(_listify)]
ActionList = Annotated[list[CharterAction], BeforeValidator(_listify)]
Strings = Annotated[list[str], BeforeValidator(_listify)]


# ---------------------------------------------------------------------------------------------
# Conditions (engagement rules and responsibilities)


class Condition(Strict):
    """What an item must be for a rule to apply. Every field given must hold (all of them);
    `all`, `any` and `not` combine nested conditions. An empty condition matches every item."""

    sentiment: SentimentList | None = None
    kinds: KindList | None = None
    networks: NetworkList | None = None
    languages: Strings | None = None
    # Influencer tiers (named in veille.yaml `influencers.tiers`); `influencer: true` is any tier.
    tiers: Strings | None = None
    influencer: bool | None = None
    # Whole words or phrases, case- and accent-insensitive; any one of them.
    keywords: Strings | None = None
    question: bool | None = None
    # true/false: has (not) any charter violation; a list: a violation of one of these clause ids.
    violation: bool | Strings | None = None
    # A violation at least this severe.
    severity: Severity | None = None
    all_: list[Condition] | None = Field(default=None, alias="all")
    any_: list[Condition] | None = Field(default=None, alias="any")
    not_: Condition | None = Field(default=None, alias="not")

    _langs = field_validator("languages")(lambda cls, v: _language_codes(v))


# ---------------------------------------------------------------------------------------------
# Schedules, routing, influencers (veille.yaml)


class DateRange(Strict):
    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.to < self.from_:
            raise ValueError(f"'to' ({self.to}) is before 'from' ({self.from_}); swap them")
        return self


class Schedule(Strict):
    """When something is in force, in the team's time zone (brand.timezone) unless `timezone` is set.

    `days` and `hours` describe a weekly pattern (hours may wrap midnight: 22:00-06:00); `dates` a
    campaign's first and last day (inclusive). All the fields given must hold.
    """

    days: DayList | None = None
    hours: str | None = None
    dates: DateRange | None = None
    timezone: str | None = None

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None:
            hours_range(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}; use an IANA name like Europe/Paris") from None
        return value

    @model_validator(mode="after")
    def _something(self) -> Schedule:
        if self.days is None and self.hours is None and self.dates is None:
            raise ValueError("a schedule needs days, hours or dates")
        return self


def hours_range(text: str) -> tuple[time, time]:
    """'09:00-18:00' -> (09:00, 18:00)."""
    found = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not found:
        raise ValueError(f"{text!r} is not an hours range; write it like 09:00-18:00")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{text!r} has an impossible time; hours go 00:00 to 24:00")
    return time(h1, m1), (time(23, 59, 59, 999_999) if h2 == 24 else time(h2, m2))


class Scheduled(Strict):
    """A rule in force only `during` a named schedule, or only `outside` it (off-duty)."""

    during: str | None = None
    outside: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Scheduled:
        if self.during and self.outside:
            raise ValueError("give either 'during' or 'outside', not both")
        return self


class Responsibility(Condition, Scheduled):
    """Who owns the items that match; responsibilities are tried in order, the first match wins."""

    name: Ident
    owners: list[Owner] = Field(min_length=1)
    channel: str | None = None
    # round_robin: owners in turn; least_open: the owner with the fewest open items (ties: in turn).
    assign: Literal["round_robin", "least_open"] = "round_robin"
    # Items routed here are flagged high priority (influencers' items are, whatever the responsibility).
    priority: Literal["normal", "high"] = "normal"

    _check_channel = field_validator("channel")(lambda cls, v: _channel(v))


class InfluencerAccount(Strict):
    handle: str = Field(min_length=1)
    network: Network | None = None
    tier: str


class Influencers(Strict):
    """Tiers by follower count (the lowest count of each tier, ascending) plus known accounts."""

    tiers: dict[Ident, int] = Field(default_factory=lambda: {"micro": 10_000, "macro": 100_000, "mega": 1_000_000})
    # Items from this tier and up are routed with priority (default: every tier).
    priority_from: str | None = None
    accounts: list[InfluencerAccount] = Field(default_factory=list)

    @field_validator("tiers")
    @classmethod
    def _growing(cls, value: dict[str, int]) -> dict[str, int]:
        counts = list(value.values())
        if counts != sorted(counts) or len(set(counts)) != len(counts) or any(c < 1 for c in counts):
            raise ValueError("tiers must list growing, positive follower counts (micro: 10000, macro: 100000, ...)")
        return value

    @model_validator(mode="after")
    def _known(self) -> Influencers:
        names = list(self.tiers)
        if self.priority_from is not None and self.priority_from not in names:
            raise ValueError(f"priority_from: unknown tier {self.priority_from!r}; tiers are {', '.join(names)}")
        for account in self.accounts:
            if account.tier not in names:
                raise ValueError(f"account {account.handle!r}: unknown tier {account.tier!r}; tiers are "
                                 f"{', '.join(names)}")
        return self


# ---------------------------------------------------------------------------------------------
# Charter, impersonation, engagement, templates (rules files)


class Campaign(Strict):
    """The same text from many authors within a window: a coordinated campaign."""

    authors: int = Field(default=3, ge=2)
    within: Duration = timedelta(hours=6)
    similarity: int = Field(default=90, ge=50, le=100)
    # Shorter texts ("merci !", "top") are said by many people independently; never a campaign.
    min_chars: int = Field(default=25, ge=1)


class Clause(Strict):
    """One charter clause: its public wording, and the matchers that find breaches of it.

    terms: whole words or phrases, case- and accent-insensitive, found through l33t, repeated letters,
    separators and spaces inside words. fuzzy: also catch near-misspellings of terms of `fuzzy_min_length`
    letters or more, at this rapidfuzz ratio (0-100). except: words never reported for this clause.
    regex: Python regular expressions, case-insensitive, searched in the original text.
    detect: built-in detectors. campaign: flag the same text from many authors.
    """

    id: Ident
    title: str = Field(min_length=1)
    wording: str = Field(min_length=1)
    severity: Severity = "medium"
    action: ActionList = Field(min_length=1)
    terms: list[str] = Field(default_factory=list)
    fuzzy: int | None = Field(default=None, ge=50, le=100)
    fuzzy_min_length: int = Field(default=5, ge=3)
    except_: list[str] = Field(default_factory=list, alias="except")
    regex: list[str] = Field(default_factory=list)
    detect: list[Detector] = Field(default_factory=list)
    shorteners: list[str] = Field(default_factory=list)
    campaign: Campaign | None = None
    # Only items in these languages (an item of unknown language counts as brand.language). For clauses
    # whose wording is per language while their detectors are not (personal data, spam): load the French
    # and English charters together without reporting each breach twice.
    languages: Strings | None = None

    _langs = field_validator("languages")(lambda cls, v: _language_codes(v))

    @model_validator(mode="after")
    def _has_a_matcher(self) -> Clause:
        if not (self.terms or self.regex or self.detect or self.campaign):
            raise ValueError("a clause needs at least one matcher: terms, regex, detect or campaign")
        if self.fuzzy is not None and not self.terms:
            raise ValueError("fuzzy applies to terms; add terms or remove fuzzy")
        if self.shorteners and "shortener" not in self.detect:
            raise ValueError("shorteners extend the 'shortener' detector; add it to detect")
        return self


class Charter(Strict):
    # The public charter, per language: `reply_charter` and the {charter_link} placeholder use it.
    link: dict[str, str] = Field(default_factory=dict)
    clauses: list[Clause] = Field(default_factory=list)


class Impersonation(Strict):
    """Authors whose handle or display name is a near copy of the brand's own are flagged for the team."""

    # Added to brand.handles and brand.name.
    handles: list[str] = Field(default_factory=list)
    threshold: int = Field(default=85, ge=50, le=100)
    # The brand's other accounts and known fan accounts: never flagged.
    allow: list[str] = Field(default_factory=list)
    action: ActionList = Field(default_factory=lambda: ["report"])
    severity: Severity = "high"


class EngagementRule(Scheduled):
    """When an item matches `when`, someone owes it `action` within `within` (a task with a due time).

    owner: who owes it (default: the owner the item is routed to). Nudged `nudge_before` the deadline
    (default: a quarter of `within`), escalated to `escalate_to` (default: the fallback owner) after it.
    """

    id: Ident
    title: str = Field(min_length=1)
    when: Condition = Field(default_factory=Condition)
    action: EngagementAction
    within: Duration | None = None
    template: str | None = None
    owner: Owner | None = None
    nudge_before: Duration | None = None
    escalate_to: Owner | None = None

    @model_validator(mode="after")
    def _deadline(self) -> EngagementRule:
        if self.action != "ignore" and self.within is None:
            raise ValueError(f"action {self.action!r} needs a deadline; add within: (like 24h)")
        if self.action == "ignore" and (self.within or self.template):
            raise ValueError("an ignore rule creates no task; remove within and template")
        if self.within is not None and self.within <= timedelta(0):
            raise ValueError("within must be positive")
        if self.nudge_before is not None and self.within is not None and self.nudge_before >= self.within:
            raise ValueError("nudge_before must be shorter than within")
        return self


PLACEHOLDERS = ("author", "name", "brand", "charter_link")


def _template(text: str) -> str:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ValueError(f"{exc}; double {{{{ and }}}} to write braces literally") from None
    for name in names:
        if name not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {{{name}}}; use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
    return text


TemplateText = Annotated[str, AfterValidator(_template)]


class RulesFile(Strict):
    """One rules file; several are merged (ids must be unique across them)."""

    charter: Charter | None = None
    engagement: list[EngagementRule] = Field(default_factory=list)
    # Reply templates: id -> language -> variants. Placeholders: {author}, {name}, {brand}, {charter_link}.
    templates: dict[Ident, dict[str, Annotated[list[TemplateText], Field(min_length=1)]]] = Field(default_factory=dict)
    impersonation: Impersonation | None = None
    schedules: dict[Ident, Schedule] = Field(default_factory=dict)
