"""The shared shape of every source: the normalized `Mention`, a page of them, and typed parse errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

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
        if self.created_at.tzinfo is None:
            # Networks document UTC timestamps; a naive one would silently shift KPIs.
            object.__setattr__(self, "created_at", self.created_at.replace(tzinfo=UTC))


@dataclass(slots=True)
class Page:
    """What one fetch returns: the mentions, the items set aside, and the cursor to resume from."""

    mentions: list[Mention]
    cursor: str | None
    rejected: list[PayloadInvalid] = field(default_factory=list)
