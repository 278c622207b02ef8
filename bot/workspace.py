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


class Objective(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    metric: Literal["posts_per_day", "avg_likes", "response_rate", "median_first_response_min", "net_sentiment"]
    target: float
    network: str | None = None
    deadline: date | None = None


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
        return self

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
