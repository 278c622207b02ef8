"""The workspace config (`veille.yaml`): its schema, and a loader whose errors name file, line, field and fix.

Validation is complete and happens once: every problem is collected into one `ConfigError`, and
only `bot.cli` turns that into an exit code, so the bot refuses to start on a broken file.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from rapidfuzz import process

from bot.errors import ConfigError, ConfigProblem

# Routing config (responsibilities with their conditions, influencer tiers, schedules) is the rules' schema.
from rules.schema import Influencers, Responsibility, Schedule

SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
NETWORKS = ("x", "facebook", "instagram", "linkedin", "youtube", "mastodon", "bluesky", "reddit", "rss")


class Strict(BaseModel):
    """Unknown fields are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _slack_user(value: str) -> str:
    if not SLACK_USER.match(value):
        raise ValueError(f"{value!r} is not a Slack user id (like U0123ABCD)")
    return value


class Brand(Strict):
    name: str = Field(min_length=1)
    language: Literal["fr", "en"] = "en"
    timezone: str = "UTC"
    handles: dict[str, str] = Field(default_factory=dict)
    keywords: list[str] = Field(default_factory=list)
    competitors: list[str] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like Europe/Paris") from None
        return value

    @field_validator("handles")
    @classmethod
    def _known_networks(cls, value: dict[str, str]) -> dict[str, str]:
        for network in value:
            if network not in NETWORKS:
                raise ValueError(f"unknown network {network!r}; expected one of {', '.join(NETWORKS)}")
        return value


class Channels(Strict):
    triage: str
    alerts: str | None = None
    digest: str | None = None
    admin: str | None = None

    @field_validator("triage", "alerts", "digest", "admin")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not SLACK_CHANNEL.match(value):
            # Ids, not names: chat.update and conversations.history take ids, and ids survive renames.
            raise ValueError(f"{value!r} is not a channel id; use the id (like C0123ABCD) shown at the "
                             "bottom of the channel's details in Slack")
        return value


class SourceConfig(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    type: Literal[NETWORKS + ("replay", "webhook")]  # type: ignore[valid-type]
    enabled: bool = True
    poll_every_s: int = Field(default=300, ge=10, le=86_400)
    base_url: str | None = None
    # First run: how far back to fetch. Own posts: how many days after publication their engagement is refreshed.
    backfill_days: int = Field(default=7, ge=0, le=90)
    engagement_days: int = Field(default=14, ge=0, le=365)
    # Network-specific settings (account ids, credentials as ${VAR} references); each source validates its own.
    options: dict[str, Any] = Field(default_factory=dict)
    # Competitor listening: the name (from brand.competitors) this source watches. Its items are stored with that
    # subject for share of voice, never carded nor tasked, and left out of every other KPI. None: the brand.
    subject: str | None = Field(default=None, min_length=1, max_length=100)


class EscalationLevel(Strict):
    """Who to page once an incident has gone `after_min` minutes without acknowledgement."""

    after_min: int = Field(ge=0)
    # "oncall" (whoever is on call), "next" (the next in the rotation), or Slack user ids.
    notify: list[str] = Field(min_length=1)

    @field_validator("notify")
    @classmethod
    def _targets(cls, value: list[str]) -> list[str]:
        return [v if v in ("oncall", "next") else _slack_user(v) for v in value]


class Oncall(Strict):
    timezone: str = "UTC"
    handoff: Literal["daily", "weekly"] = "weekly"
    handoff_time: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # local time of the handoff
    handoff_day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    rotation: list[str] = Field(default_factory=list)
    # Pages go up these levels until someone acknowledges; the last level repeats every repeat_min.
    escalation: list[EscalationLevel] = Field(default_factory=lambda: [
        EscalationLevel(after_min=0, notify=["oncall"]), EscalationLevel(after_min=15, notify=["next"])])
    repeat_min: int = Field(default=30, ge=1)

    _rotation = field_validator("rotation")(lambda cls, v: [_slack_user(u) for u in v])

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return Brand._known_zone(value)  # type: ignore[operator]

    @field_validator("escalation")
    @classmethod
    def _ordered(cls, value: list[EscalationLevel]) -> list[EscalationLevel]:
        if not value:
            raise ValueError("at least one escalation level is needed, e.g. {after_min: 0, notify: [oncall]}")
        delays = [level.after_min for level in value]
        if delays != sorted(delays) or delays[0] != 0:
            raise ValueError("levels must start at after_min 0 and go up in time")
        return value


class Triage(Strict):
    """How the triage channel behaves under load, and who may act."""

    post_interval_s: float = Field(default=1.0, ge=0, le=60)  # Slack's pace: about 1 message/s per channel
    flood_threshold: int = Field(default=20, ge=1)  # unposted cards in a channel before digests start
    flood_similarity: int = Field(default=75, ge=50, le=100)  # how alike texts must be to share a digest
    flood_min_group: int = Field(default=3, ge=2)
    overdue_after_h: int = Field(default=24, ge=1)  # App Home's "overdue" until rules give deadlines
    home_debounce_s: int = Field(default=10, ge=0)  # App Home re-published at most this often per member
    # responsibility -> members whose click a reply must wait for (four eyes); drafts by them go straight out.
    approvals: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("approvals")
    @classmethod
    def _approvers(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return {name: [_slack_user(u) for u in users] for name, users in value.items()}


ObjectiveMetric = Literal["posts_per_day", "avg_likes", "response_rate", "median_first_response_min",
                          "net_sentiment", "volume", "share_of_voice", "ctr", "conversion_rate", "cost_per_lead"]
# Metrics where a smaller figure is the better one: the verdict compares the other way round.
LOWER_IS_BETTER = frozenset({"median_first_response_min", "cost_per_lead"})


class Objective(Strict):
    """A SMART objective: `metric` reaches `target` (on `network`, for posts of `format`) by `deadline`.

    Rates are fractions (response_rate 0.8 = 80 %), net_sentiment is in -1..1, volume and posts_per_day are per
    day. Measured over the /kpi period; the verdict rule is in bot/services/kpi_objectives.py.
    "Instagram: a photo every 2 days" is `metric: posts_per_day, target: 0.5, network: instagram, format: image`.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    metric: ObjectiveMetric
    target: float
    network: str | None = None
    format: Literal["status", "image", "video", "link"] | None = None
    deadline: date | None = None

    @field_validator("network")
    @classmethod
    def _network(cls, value: str | None) -> str | None:
        if value is not None and value not in NETWORKS:
            raise ValueError(f"unknown network {value!r}; expected one of {', '.join(NETWORKS)}")
        return value

    @model_validator(mode="after")
    def _format_for_posts(self) -> Objective:
        if self.format is not None and self.metric not in ("posts_per_day", "avg_likes"):
            raise ValueError("format only applies to posts_per_day and avg_likes")
        return self

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER


class KpiConfig(Strict):
    """The weekly KPI digest: where and when (local time in `timezone`, default the brand's)."""

    digest_channel: str | None = None  # default: channels.alerts, else channels.triage
    digest_day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    digest_time: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str | None = None
    enabled: bool = True

    @field_validator("digest_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return Channels._channel(value)  # type: ignore[operator]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return Brand._known_zone(value) if value is not None else None  # type: ignore[operator]


class SentimentConfig(Strict):
    """Brand-specific sentiment: terms scored differently for this brand (valence on VADER's -4..+4 scale)."""

    overrides: dict[str, float] = Field(default_factory=dict)
    neutral_terms: list[str] = Field(default_factory=list)

    @field_validator("overrides")
    @classmethod
    def _valences(cls, value: dict[str, float]) -> dict[str, float]:
        for term, valence in value.items():
            if not term.strip():
                raise ValueError("an override needs a term or phrase")
            if not -4.0 <= valence <= 4.0:
                raise ValueError(f"{term!r}: valence {valence} is outside -4..4 "
                                 "(e.g. -2 negative, 0 neutral, 2 positive)")
        return value


RoiMetric = Literal["ctr", "conversion_rate", "cost_per_lead"]


class RoiHook(Strict):
    """A sender of campaign results (`POST /hooks/roi/<name>`), signed with its own secret."""

    secret: str = Field(description="shared HMAC secret, as ${VAR}")


class RoiConfig(Strict):
    """Campaign ROI (`/kpi roi`): who may push results, their currency, and per-campaign targets.

    Targets use the objectives' units: ctr and conversion_rate are fractions (0.02 = 2 %), cost_per_lead is
    in `currency`. Workspace-wide targets are `objectives:` with those metric names.
    """

    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")  # every spend is in this currency
    hooks: dict[str, RoiHook] = Field(default_factory=dict)
    objectives: dict[str, dict[RoiMetric, float]] = Field(default_factory=dict)  # campaign -> metric -> target

    @field_validator("hooks")
    @classmethod
    def _hook_names(cls, value: dict[str, RoiHook]) -> dict[str, RoiHook]:
        for name in value:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name):
                raise ValueError(f"hook name {name!r}: use lowercase letters, digits, - and _ (it is in the URL)")
        return value


class BadHour(Strict):
    """When an hour of the day counts as one that performs badly (engagement on our own posts)."""

    lookback_days: int = Field(default=90, ge=7, le=365)
    min_posts: int = Field(default=3, ge=1)  # posts an hour needs before it is judged
    min_hours: int = Field(default=3, ge=2)  # hours with enough posts before any hour is judged
    ratio: float = Field(default=0.5, gt=0, lt=1)  # bad: average below this share of the median hour's


class CalendarConfig(Strict):
    """The content calendar's warnings and reminders."""

    min_gap_h: float = Field(default=3.0, ge=0, le=72)  # two posts on one network closer than this: warned
    reminder_before_min: int = Field(default=60, ge=0, le=7 * 24 * 60)  # DM the owner this long before
    overdue_after_min: int = Field(default=30, ge=0, le=7 * 24 * 60)  # then nudge if still not published
    promo_max_share: float = Field(default=0.2, ge=0, le=1)  # the 80/20 rule
    bad_hour: BadHour = Field(default_factory=BadHour)


class Retention(Strict):
    """How long personal data is kept, in days (0 or null: kept until forgotten). `bot.services.retention` purges
    what is older; counts, sentiment, rules decisions, timings and tasks are always kept, so /kpi does not change.

    `raw_days`: the networks' raw payloads (mentions, items set aside, own posts' raw copies).
    `text_days`: texts and personal fields (text, permalink, reply drafts, handles of authors not seen since).
    """

    raw_days: int | None = Field(default=30, ge=0, le=36500)
    text_days: int | None = Field(default=365, ge=0, le=36500)
    batch_size: int = Field(default=1000, ge=10, le=100_000)  # rows per transaction


class Workspace(Strict):
    """The whole `veille.yaml`."""

    brand: Brand
    channels: Channels
    admins: list[str] = Field(min_length=1)
    sources: list[SourceConfig] = Field(default_factory=list)
    responsibilities: list[Responsibility] = Field(default_factory=list)
    fallback_owner: str | None = None
    influencers: Influencers = Field(default_factory=Influencers)
    schedules: dict[str, Schedule] = Field(default_factory=dict)
    # Charter and engagement rule files, relative to this file (or example:charter.fr.yaml for a shipped one).
    rules_files: list[str] = Field(default_factory=list)
    oncall: Oncall = Field(default_factory=Oncall)
    triage: Triage = Field(default_factory=Triage)
    objectives: list[Objective] = Field(default_factory=list)
    sentiment: SentimentConfig = Field(default_factory=SentimentConfig)
    kpi: KpiConfig = Field(default_factory=KpiConfig)
    roi: RoiConfig = Field(default_factory=RoiConfig)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    retention: Retention = Field(default_factory=Retention)

    _admins = field_validator("admins")(lambda cls, v: [_slack_user(u) for u in v])

    @field_validator("fallback_owner")
    @classmethod
    def _fallback(cls, value: str | None) -> str | None:
        return _slack_user(value) if value is not None else None

    @model_validator(mode="after")
    def _unique_names(self) -> Workspace:
        for label, names in (
            ("sources", [s.name for s in self.sources]),
            ("responsibilities", [r.name for r in self.responsibilities]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{label}: duplicate name(s) {', '.join(dupes)}; each must be unique")
        for source in self.sources:
            if source.subject is not None and source.subject not in self.brand.competitors:
                raise ValueError(f"sources: '{source.name}' listens to {source.subject!r}, which is not in "
                                 "brand.competitors; add it there (share of voice compares the same names)")
        return self

    @property
    def listened_competitors(self) -> list[str]:
        """The competitors some source listens to: share of voice can only be measured against these."""
        listened = {s.subject for s in self.sources if s.subject is not None and s.enabled}
        return [c for c in self.brand.competitors if c in listened]

    def subject_of(self, source: str) -> str | None:
        """The competitor a source listens to, or None when its items are about the brand."""
        return next((s.subject for s in self.sources if s.name == source), None)

    @property
    def kpi_channel(self) -> str:
        return self.kpi.digest_channel or self.channels.alerts or self.channels.triage

    @property
    def kpi_timezone(self) -> str:
        return self.kpi.timezone or self.brand.timezone

    def responsibility(self, name: str | None) -> Responsibility | None:
        return next((r for r in self.responsibilities if r.name == name), None)


# ---------------------------------------------------------------------------------------------
# Loading with line numbers


def _lines_by_path(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int],
                   problems: list[ConfigProblem], file: str) -> None:
    """Record the 1-based line of every value (and key) under `node`, and flag duplicate keys."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                problems.append(ConfigProblem(file, key_node.start_mark.line + 1, _dotted(path + (key,)),
                                              "duplicate key; YAML would silently keep only the last one"))
            seen.add(key)
            out[path + (key,)] = key_node.start_mark.line + 1
            _lines_by_path(value_node, path + (key,), out, problems, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines_by_path(item, path + (index,), out, problems, file)


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _line_for(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _fields_at(loc: tuple[Any, ...], root: type[BaseModel] | None = None) -> list[str]:
    """Field names (as written in YAML: aliases) valid at the parent of `loc`, for 'did you mean' hints."""
    model: Any = root or Workspace
    keyed = False  # the previous part was a dict field: this part is one of its keys
    for part in loc[:-1]:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        fields = {f.alias or n: f for n, f in model.model_fields.items()} if hasattr(model, "model_fields") else {}
        field = fields.get(part)
        if field is None:
            return []
        # Look through `X | None`, `list[X]` and `dict[str, X]` for the model X.
        inner = [field.annotation]
        for _ in range(3):
            keyed = keyed or any(getattr(a, "__origin__", None) is dict for a in inner)
            inner = [b for a in inner for b in getattr(a, "__args__", (a,))]
        model = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return [f.alias or n for n, f in model.model_fields.items()] if model is not None else []


def _fix(error: dict[str, Any], root: type[BaseModel] | None = None) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _fields_at(loc, root)
        guess = process.extractOne(str(loc[-1]), known, score_cutoff=60) if known else None
        hint = f"did you mean '{guess[0]}'?" if guess else f"allowed here: {', '.join(known)}"
        return f"unknown field; {hint}"
    if kind == "missing":
        return "required field is missing; add it"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def parse_workspace(text: str, file: str = "veille.yaml") -> Workspace:
    """Validate config text; raise one `ConfigError` listing every problem with its line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError([ConfigProblem(file, line, "(yaml)", f"not valid YAML: {exc.problem or exc}")]) from None
    if not isinstance(data, dict) or root is None:
        raise ConfigError([ConfigProblem(file, 1, "(top level)", "expected a mapping (brand:, channels:, ...)")])
    lines: dict[tuple[Any, ...], int] = {}
    problems: list[ConfigProblem] = []
    _lines_by_path(root, (), lines, problems, file)
    try:
        workspace = Workspace.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            problems.append(ConfigProblem(file, _line_for(loc, lines), _dotted(loc), _fix(dict(error))))
        workspace = None
    if problems or workspace is None:
        raise ConfigError(sorted(problems, key=lambda p: (p.line or 0, p.field)))
    return workspace


def load_workspace(path: str | Path) -> Workspace:
    """Read and validate the workspace config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(str(path), None, "(file)",
                                         "not found; copy veille.example.yaml to it, or set VEILLE_CONFIG")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(str(path), None, "(file)", f"cannot be read: {exc}")]) from None
    return parse_workspace(text, str(path))
