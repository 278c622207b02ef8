"""The shared shape of every source: `Mention`, `OwnPost`, `PollResult`, the `Connector` interface, typed errors."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, SecretStr

if TYPE_CHECKING:
    from monitors.sources.http import SourceHttp

MAX_ID = 255  # the store's id and handle columns
MAX_LANG = 10

Network = Literal["x", "facebook", "instagram", "linkedin", "youtube", "mastodon", "bluesky", "reddit", "rss"]
Kind = Literal["mention", "comment", "reply", "keyword", "dm"]


class PayloadInvalid(ValueError):
    """A payload (or one item of it) does not have the network's documented shape."""

    def __init__(self, network: str, reason: str, *, item: Any = None) -> None:
        super().__init__(f"{network}: {reason}")
        self.network = network
        self.reason = reason
        self.item = item


@dataclass(frozen=True, slots=True)
class Mention:
    """One thing someone said about the brand, normalized across networks.

    `external_id` is the network's own id: (network, external_id) is unique in the store.
    `raw` keeps the payload item exactly as the network sent it.
    """

    network: str
    external_id: str
    kind: str
    author_handle: str
    text: str
    created_at: datetime
    author_name: str | None = None
    author_followers: int | None = None
    lang: str | None = None
    permalink: str | None = None
    parent_id: str | None = None
    conversation_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.external_id:
            raise PayloadInvalid(self.network, "item has no id")
        if len(self.external_id) > MAX_ID:
            # Truncating would merge distinct items: an id the store cannot hold is a malformed item.
            raise PayloadInvalid(self.network, f"item id is {len(self.external_id)} characters long", item=self.raw)
        if self.created_at.tzinfo is None:
            # Networks document UTC timestamps; a naive one would silently shift KPIs.
            object.__setattr__(self, "created_at", self.created_at.replace(tzinfo=UTC))
        # Keep hostile payloads within the store's columns, so one odd item never fails its whole batch.
        for name in ("parent_id", "conversation_id"):
            value = getattr(self, name)
            if value is not None and len(value) > MAX_ID:
                object.__setattr__(self, name, None)  # a cut reference would point at the wrong item
        if self.lang is not None and len(self.lang) > MAX_LANG:
            object.__setattr__(self, "lang", None)
        for name in ("author_handle", "author_name"):
            value = getattr(self, name)
            if value is not None and len(value) > MAX_ID:
                object.__setattr__(self, name, value[:MAX_ID])


@dataclass(slots=True)
class Page:
    """What one fetch returns: the mentions, the items set aside, and the cursor to resume from."""

    mentions: list[Mention]
    cursor: str | None
    rejected: list[PayloadInvalid] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Polled connectors: the shared interface (one module per network implements it)


@dataclass(frozen=True, slots=True)
class OwnPost:
    """One of the brand's own published posts and its engagement, as the network reports it now."""

    network: str
    external_id: str
    created_at: datetime
    text: str
    permalink: str | None = None
    media_type: str | None = None  # status | image | video | link | carousel
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    impressions: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(slots=True)
class PollResult:
    """What one poll of one source brought back.

    `cursor` is the connector's whole resumable state (JSON-serializable: since_id, page tokens,
    ETag/Last-Modified, per-post comment cursors...). The caller stores it in the same transaction
    as the mentions, so a restart resumes exactly where the last committed poll stopped.
    """

    mentions: list[Mention]
    cursor: dict[str, Any]
    rejected: list[PayloadInvalid] = field(default_factory=list)
    own_posts: list[OwnPost] = field(default_factory=list)


class SourceError(Exception):
    """A source could not be polled. Subclasses say what the scheduler should do about it."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


class SourceUnavailable(SourceError):
    """Network trouble, 5xx or timeouts that outlasted the retries: try again at the next poll."""


class RateLimited(SourceError):
    """The network said to slow down; poll again no sooner than `retry_after` seconds."""

    def __init__(self, source: str, message: str, *, retry_after: float) -> None:
        super().__init__(source, message)
        self.retry_after = retry_after


class AuthFailed(SourceError):
    """401/403: credentials are wrong or revoked. The source pauses until its config changes."""

    def __init__(self, source: str, message: str, *, status: int) -> None:
        super().__init__(source, message)
        self.status = status


class ConfigInvalid(SourceError):
    """The source's options cannot work (e.g. a keyword query the network refuses); fix the config."""


class RequestRejected(SourceError):
    """A 4xx other than 401/403/429: the request was refused as such (bad id, expired session on Bluesky...).

    `code` is the network's short error name when its body has one (`{"error": "ExpiredToken"}`).
    """

    def __init__(self, source: str, message: str, *, status: int, code: str | None = None) -> None:
        super().__init__(source, message)
        self.status = status
        self.code = code


class NotSupported(SourceError):
    """The network's API does not allow this action (e.g. hiding a comment on Reddit)."""


# ---------------------------------------------------------------------------------------------
# The connector interface: one subclass per network, built from `SourceConfig` by `build_source`.

MentionRef = Mention | dict[str, Any]  # a normalized mention, or the raw payload item stored with it


class ConnectorOptions(BaseModel):
    """Base of every connector's `Options`: unknown keys are errors; secrets are `SecretStr` fields.

    `${VAR}` references in the YAML are resolved from the environment by `build_source` before
    validation, so a model only ever sees final values.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class Connector(ABC):
    """Polls one configured source of one network and normalizes what it finds.

    Subclasses set `network`, `Options` and `default_base_url`, and implement `poll`. They keep no
    resumable state in memory: everything a restart needs is in the cursor dict `poll` returns,
    which the caller commits with the mentions. In-memory state is only for things that must not
    reach the database (access tokens from a login, refreshed on demand).
    """

    network: ClassVar[str]
    Options: ClassVar[type[ConnectorOptions]]
    default_base_url: ClassVar[str] = ""
    uses_http: ClassVar[bool] = True

    def __init__(self, name: str, options: ConnectorOptions, *, base_url: str | None = None,
                 brand_handles: dict[str, str] | None = None, keywords: list[str] | None = None,
                 backfill: timedelta = timedelta(days=7), engagement_days: int = 14) -> None:
        self.name = name
        self.options = options
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.brand_handles = dict(brand_handles or {})
        self.keywords = list(keywords or [])
        self.backfill = backfill
        self.engagement_days = engagement_days

    @classmethod
    def from_config(cls, name: str, options: ConnectorOptions, **common: Any) -> Connector:
        """Build from validated options and the workspace-wide settings (`build_source` calls this)."""
        return cls(name, options, **common)

    @property
    def handle(self) -> str | None:
        """The brand's handle on this network (`brand.handles.<network>`), if configured."""
        return self.brand_handles.get(self.network)

    @abstractmethod
    def poll(self, cursor: dict[str, Any], *, http: SourceHttp, now: datetime) -> PollResult:
        """Fetch what is new since `cursor` ({} on the first run: backfill `self.backfill`).

        Returns the mentions, the items set aside, the brand's own posts whose engagement was
        refreshed, and the whole new cursor. Raises a `SourceError` when nothing could be read.
        """

    def reply(self, mention: MentionRef, text: str, *, http: SourceHttp, idempotency_key: str) -> str:
        """Publish `text` as the brand's reply to `mention`; return the reply's id. Idempotent per key."""
        raise NotSupported(self.name, f"{self.network} replies are not supported by this connector")

    def hide(self, mention: MentionRef, *, http: SourceHttp, idempotency_key: str) -> None:
        """Hide `mention` from the public where the network allows it. Idempotent."""
        raise NotSupported(self.name, f"{self.network} does not let the brand hide an item")

    def _own_posts(self, http: SourceHttp, *, now: datetime) -> tuple[list[OwnPost], list[PayloadInvalid]]:
        """The brand's own recent posts with engagement; connectors that read them override this."""
        return [], []

    def _finish(self, http: SourceHttp, cursor: dict[str, Any], new_cursor: dict[str, Any],
                mentions: list[Mention], rejected: list[PayloadInvalid], *, now: datetime) -> PollResult:
        """End a poll: refresh own posts when due (every `engagement_every_s`), drop repeats, build the result.

        Repeats keep their first form (e.g. a Post that is both a mention and a keyword match stays a mention).
        """
        own: list[OwnPost] = []
        every = getattr(self.options, "engagement_every_s", None)
        if self.engagement_days and every is not None and refresh_due(cursor.get("own_checked_at"), now, every):
            own, bad = self._own_posts(http, now=now)
            rejected = rejected + bad
            new_cursor["own_checked_at"] = now.isoformat()
        return PollResult(mentions=unique_mentions(mentions), cursor=new_cursor, rejected=rejected, own_posts=own)

    def config_fingerprint(self) -> str:
        """A short hash of everything configured (secrets included, never shown): pauses end when it changes."""
        return config_fingerprint(self.name, self.network, self.base_url, self.options)

    def __repr__(self) -> str:
        # Options hold SecretStr, whose repr is masked; the rest is plain config.
        return f"{type(self).__name__}(name={self.name!r}, base_url={self.base_url!r})"


def config_fingerprint(name: str, network: str, base_url: str, options: BaseModel) -> str:
    """Hash a source's config, secrets included, into 16 hex characters (irreversible, safe to store)."""

    def reveal(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        if isinstance(value, BaseModel):
            return {k: reveal(v) for k, v in value}
        if isinstance(value, dict):
            return {str(k): reveal(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [reveal(v) for v in value]
        return value

    blob = json.dumps([name, network, base_url, reveal(options)], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def mention_raw(mention: MentionRef) -> dict[str, Any]:
    """The raw payload item behind a mention reference."""
    return mention.raw if isinstance(mention, Mention) else mention


def id_order(value: str) -> tuple[int, str]:
    """Sort key for decimal or opaque ids sent as strings: by length, then lexically (X, Mastodon)."""
    return (len(value), value)


def opt_str(value: Any) -> str | None:
    """`value` if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def opt_int(value: Any) -> int | None:
    """`value` if it is a real int (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_iso_time(network: str, value: Any, item: Any, *, what: str) -> datetime:
    """Read an ISO-8601 time with an offset, or raise `PayloadInvalid` naming `what`."""
    if not isinstance(value, str):
        raise PayloadInvalid(network, f"{what} is missing or not a string", item=item)
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("no UTC offset")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise PayloadInvalid(network, f"{what} {value[:40]!r} is not an ISO-8601 time: {exc}",
                             item=item) from None


def refresh_due(checked: Any, now: datetime, every_s: float) -> bool:
    """True when a periodic refresh last ran (`checked`: ISO time from the cursor) `every_s` ago or more, or never."""
    try:
        return bool(now - datetime.fromisoformat(checked) >= timedelta(seconds=every_s))
    except (ValueError, TypeError):
        return True


def iso_z(value: datetime) -> str:
    """`value` as `YYYY-MM-DDTHH:MM:SSZ` (the form X, Bluesky and Reddit-style APIs take)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unique_mentions(mentions: list[Mention]) -> list[Mention]:
    """Drop repeats of the same item (across pages or endpoints), keeping each first occurrence in order."""
    seen: set[str] = set()
    unique = []
    for mention in mentions:
        if mention.external_id not in seen:
            seen.add(mention.external_id)
            unique.append(mention)
    return unique
