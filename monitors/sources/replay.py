"""Replay a recorded scenario of network pages against a virtual clock, as a source like any other.

A scenario directory holds one JSON file per network (`x.json`, `instagram.json`, `facebook.json`,
`mastodon.json`), each a list of events::

    {"at": "2026-11-20T09:16:00Z", "network": "x", "payload": <one page in the network's format>,
     "object_id": "<IG media id / FB post id the comments belong to>"}   # object_id: Graph only

plus an optional `calendar.json` (the brand's planned posts). Every page goes through the same
parser a live connector uses, so the demo exercises the real parsing path.
"""

from __future__ import annotations

import json
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from monitors.sources import facebook, instagram, mastodon, x
from monitors.sources.base import Connector, ConnectorOptions, Mention, Page, PayloadInvalid, PollResult
from monitors.sources.http import SourceHttp

NETWORK = "replay"
NETWORK_FILES = ("x", "instagram", "facebook", "mastodon")
CALENDAR_FILE = "calendar.json"

EventKey = tuple[datetime, int]


def default_scenario_dir() -> Traversable:
    """Return the scenario bundled with the package (`bot/demo/scenario/`)."""
    return files("bot.demo").joinpath("scenario")


@dataclass(frozen=True, slots=True)
class _Event:
    key: EventKey  # (at, rank among the events sharing `at`, from 1): the replay cursor's unit
    network: str
    payload: Any
    object_id: str | None


class ReplayOptions(ConnectorOptions):
    path: str | None = None  # a scenario directory; default: the bundled Maison Lumen scenario
    networks: list[str] | None = None  # deliver only these networks' events


class ReplaySource(Connector):
    """Deliver a scenario's items as their event time passes a caller-supplied `now`.

    Cursor: `"<event time ISO-8601>#<rank>"` of the last event delivered, where rank orders the
    events sharing one time (network file order, then position in the file). Resuming from a
    stored cursor after a restart therefore neither repeats nor skips an event, as long as the
    scenario files are unchanged. Events are delivered whole: every item of a page at once.
    Through the connector interface (`poll`), that string is kept under the cursor dict's "event" key.
    """

    network = "replay"
    Options = ReplayOptions
    uses_http = False

    def __init__(
        self, scenario_dir: Path | Traversable | str | None = None, *, networks: Iterable[str] | None = None,
        name: str = "replay",
    ) -> None:
        """Load and validate the scenario; `networks` restricts delivery to some networks.

        Raises:
            PayloadInvalid: a scenario file is not a list of well-formed events.
        """
        super().__init__(name, ReplayOptions(path=str(scenario_dir) if isinstance(scenario_dir, str | Path) else None,
                                             networks=list(networks) if networks is not None else None))
        if scenario_dir is None:
            self._dir: Path | Traversable = default_scenario_dir()
        else:
            self._dir = Path(scenario_dir) if isinstance(scenario_dir, str) else scenario_dir
        self._networks = frozenset(networks) if networks is not None else frozenset(NETWORK_FILES)
        unknown = self._networks - set(NETWORK_FILES)
        if unknown:
            raise ValueError(f"replay: unknown networks {sorted(unknown)}; known: {list(NETWORK_FILES)}")
        self._calendar = self._load_calendar()
        self._media_permalinks = {
            post["external_id"]: post["permalink"]
            for post in self._calendar
            if post.get("network") == "instagram" and post.get("external_id") and post.get("permalink")
        }
        self._parsers: dict[str, Callable[[_Event], Page]] = {
            "x": lambda e: x.parse_page(e.payload),
            "instagram": lambda e: instagram.parse_comments(
                e.payload, media_id=e.object_id, media_permalink=self._media_permalinks.get(e.object_id or "")
            ),
            "facebook": lambda e: facebook.parse_comments(e.payload, post_id=e.object_id),
            "mastodon": lambda e: mastodon.parse_notifications(e.payload),
        }
        self._events = self._load_events()
        self._keys = [event.key for event in self._events]
        self._total: int | None = None

    @classmethod
    def from_config(cls, name: str, options: ConnectorOptions, **common: Any) -> ReplaySource:
        """Build from `sources[].options` (`path`, `networks`); the workspace-wide settings do not apply."""
        assert isinstance(options, ReplayOptions)
        return cls(Path(options.path) if options.path else None, networks=options.networks, name=name)

    def poll(self, cursor: dict[str, Any], *, http: SourceHttp, now: datetime) -> PollResult:
        """`fetch` behind the connector interface: the event cursor lives under the "event" key."""
        event = cursor.get("event") or cursor.get("value")  # "value": a cursor stored before the dict form
        page = self.fetch(event if isinstance(event, str) else None, now=now)
        return PollResult(mentions=page.mentions, cursor={"event": page.cursor} if page.cursor else dict(cursor),
                          rejected=page.rejected)

    def fetch(self, cursor: str | None, *, now: datetime) -> Page:
        """Return every item whose event time is after `cursor` and at or before `now`, oldest first.

        The returned cursor is unchanged when nothing new is due. A page the parser refuses as a
        whole lands in `rejected` like a malformed item, so one bad event never stalls the replay.
        """
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        start = 0 if cursor is None else bisect_right(self._keys, parse_cursor(cursor))
        end = bisect_right(self._keys, (now.astimezone(UTC), sys.maxsize))
        if end <= start:
            return Page(mentions=[], cursor=cursor)

        mentions: list[Mention] = []
        rejected: list[PayloadInvalid] = []
        for event in self._events[start:end]:
            if event.network not in self._networks:
                continue
            page = self._parse(event)
            mentions.extend(page.mentions)
            rejected.extend(page.rejected)
        # Stable sort: items of one page keep their order when they share a timestamp.
        mentions.sort(key=lambda mention: mention.created_at)
        return Page(mentions=mentions, cursor=format_cursor(self._keys[end - 1]), rejected=rejected)

    def scenario_span(self) -> tuple[datetime, datetime]:
        """Return the times of the first and last events (the demo clock starts at the first)."""
        if not self._keys:
            raise ValueError("replay: the scenario has no events")
        return self._keys[0][0], self._keys[-1][0]

    def calendar_posts(self) -> list[dict[str, Any]]:
        """Return the brand's planned posts from `calendar.json` (a fresh copy; [] without the file)."""
        return [dict(post) for post in self._calendar]

    def total_items(self) -> int:
        """Return how many items (mentions plus rejected ones) a full replay delivers."""
        if self._total is None:
            pages = [self._parse(e) for e in self._events if e.network in self._networks]
            self._total = sum(len(p.mentions) + len(p.rejected) for p in pages)
        return self._total

    def _parse(self, event: _Event) -> Page:
        try:
            return self._parsers[event.network](event)
        except PayloadInvalid as exc:
            return Page(mentions=[], cursor=None, rejected=[exc])

    def _load_calendar(self) -> list[dict[str, Any]]:
        path = self._dir.joinpath(CALENDAR_FILE)
        if not path.is_file():
            return []
        posts = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(posts, list) or not all(isinstance(p, dict) for p in posts):
            raise PayloadInvalid(NETWORK, f"{CALENDAR_FILE} is not a list of objects")
        return posts

    def _load_events(self) -> list[_Event]:
        loaded: list[tuple[datetime, str, Any, str | None]] = []
        for network in NETWORK_FILES:
            path = self._dir.joinpath(f"{network}.json")
            if not path.is_file():
                continue
            events = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(events, list):
                raise PayloadInvalid(NETWORK, f"{network}.json is not a list of events")
            for index, event in enumerate(events):
                loaded.append(_check_event(event, where=f"{network}.json event {index}"))
        # Stable sort keeps file order (network order, then position) among events sharing a time.
        loaded.sort(key=lambda event: event[0])
        result: list[_Event] = []
        for at, network, payload, object_id in loaded:
            rank = result[-1].key[1] + 1 if result and result[-1].key[0] == at else 1
            result.append(_Event(key=(at, rank), network=network, payload=payload, object_id=object_id))
        return result


def format_cursor(key: EventKey) -> str:
    """Return the cursor string for an event key."""
    at, rank = key
    return f"{at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{rank}"


def parse_cursor(cursor: str) -> EventKey:
    """Return the event key a cursor string names."""
    at_text, sep, rank_text = cursor.rpartition("#")
    try:
        if not sep:
            raise ValueError("no '#'")
        at = datetime.fromisoformat(at_text)
        rank = int(rank_text)
        if at.tzinfo is None or rank < 1:
            raise ValueError("naive time or rank below 1")
    except ValueError as exc:
        raise ValueError(f"replay: cursor {cursor!r} is not '<ISO time>#<rank>': {exc}") from None
    return at.astimezone(UTC), rank


def _check_event(event: Any, *, where: str) -> tuple[datetime, str, Any, str | None]:
    if not isinstance(event, dict):
        raise PayloadInvalid(NETWORK, f"{where} is not an object", item=event)
    network = event.get("network")
    if network not in NETWORK_FILES:
        raise PayloadInvalid(NETWORK, f"{where} has unknown network {network!r}", item=event)
    if "payload" not in event:
        raise PayloadInvalid(NETWORK, f"{where} has no payload", item=event)
    object_id = event.get("object_id")
    if object_id is not None and not isinstance(object_id, str):
        raise PayloadInvalid(NETWORK, f"{where} object_id is not a string", item=event)
    at_text = event.get("at")
    try:
        at = datetime.fromisoformat(at_text) if isinstance(at_text, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise PayloadInvalid(NETWORK, f"{where} 'at' is not an ISO-8601 UTC time", item=event)
    return at.astimezone(UTC), network, event["payload"], object_id
