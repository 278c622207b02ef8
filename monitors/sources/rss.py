"""The RSS/Atom connector: alert feeds (Google Alerts and the like) polled with conditional GETs, kind "keyword".

One source is one feed `url`. The feed is fetched with httpx (`If-None-Match` / `If-Modified-Since`
from the stored ETag / Last-Modified, so an unchanged feed costs a 304 and no parsing), then read
by feedparser from the bytes (feedparser never touches the network here). Entries are deduplicated
on their id (`<id>` / `<guid>`, else the link); Google Alerts links are unwrapped from their
`https://www.google.com/url?...&url=<target>` redirect, and the entry's HTML becomes plain text.
Feeds have no replies, hiding or engagement: `reply`/`hide` are not supported and no own posts come out.

Followed:
- https://feedparser.readthedocs.io/en/latest/http-etag.html (conditional GET with ETag/Last-Modified),
  https://feedparser.readthedocs.io/en/latest/bozo.html (malformed feeds) and
  https://feedparser.readthedocs.io/en/latest/html-sanitization.html (embedded HTML is sanitized);
- RFC 4287 (Atom `id`, `published`/`updated`) and RSS 2.0 (`guid`, `pubDate`);
- the Google Alerts Atom shape recorded in feedjira's `spec/sample_feeds/google_alerts_atom.xml`
  (/work/shared/docs/APIS.md §B7): entry id `tag:google.com,2013:googlealerts/feed:…`, empty author,
  link through the google.com redirect, title with `<b>` around the matched terms.
"""

from __future__ import annotations

import calendar
import hashlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser
from pydantic import Field, HttpUrl

from monitors.sources.base import (
    Connector,
    ConnectorOptions,
    Mention,
    Page,
    PayloadInvalid,
    PollResult,
    opt_str,
    unique_mentions,
)
from monitors.sources.http import SourceHttp
from monitors.sources.mastodon import html_to_text

NETWORK = "rss"
SEEN_KEEP = 1000  # entry ids remembered in the cursor; alert feeds hold far fewer entries than this
_MAX_ID = 255  # the store's external_id column


def unwrap_link(link: str) -> str:
    """The real article URL of a Google redirect link (`google.com/url?...&url=<target>`), else `link`."""
    parts = urlsplit(link)
    host = parts.hostname or ""
    if (host == "google.com" or host.endswith(".google.com")) and parts.path == "/url":
        params = parse_qs(parts.query)
        for name in ("url", "q"):
            target = params.get(name)
            if target and target[0].startswith(("http://", "https://")):
                return target[0]
    return link


def parse_feed(content: bytes, *, now: datetime) -> Page:
    """Parse a feed's bytes into mentions of kind "keyword"; entries without an id or link are rejected.

    - `external_id` is the entry id (a hash of it when longer than the store allows).
    - `author_handle` is the entry's author, else the article's domain (Google Alerts has no author).
    - `created_at` is `published`, else `updated`, else `now` (some feeds date nothing).
    - `text` is the title, a blank line, then the summary, both as plain text.

    Raises:
        PayloadInvalid: the bytes are not a feed at all (no RSS/Atom dialect recognized and no entry).
    """
    if not isinstance(content, bytes | bytearray):
        raise PayloadInvalid(NETWORK, f"feed is {type(content).__name__}, not bytes", item=None)
    parsed = feedparser.parse(bytes(content), sanitize_html=True, resolve_relative_uris=False)
    if not parsed.entries and not parsed.get("version"):
        # feedparser names the dialect it recognized (rss20, atom10...); none means this is not a feed.
        reason = type(parsed.get("bozo_exception")).__name__ if parsed.get("bozo") else "no feed element"
        raise PayloadInvalid(NETWORK, f"not an RSS or Atom feed ({reason})",
                             item=bytes(content[:2000]).decode("utf-8", "replace"))
    language = opt_str(parsed.feed.get("language"))
    mentions: list[Mention] = []
    rejected: list[PayloadInvalid] = []
    for entry in parsed.entries:
        try:
            mentions.append(_parse_entry(entry, now=now, language=language))
        except PayloadInvalid as exc:
            rejected.append(exc)
    return Page(mentions=mentions, cursor=None, rejected=rejected)


def _parse_entry(entry: Any, *, now: datetime, language: str | None) -> Mention:
    raw = _jsonable(entry)
    link = opt_str(entry.get("link"))
    entry_id = opt_str(entry.get("id")) or link
    if entry_id is None:
        raise PayloadInvalid(NETWORK, "entry has neither id nor link", item=raw)
    target = unwrap_link(link) if link else None
    title, summary = _text(entry, "title"), _text(entry, "summary")
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    try:
        created_at = datetime.fromtimestamp(calendar.timegm(when), UTC) if when else now
    except (TypeError, ValueError, OverflowError):
        created_at = now
    domain = urlsplit(target).hostname if target else None
    author = opt_str(entry.get("author")) or (domain.removeprefix("www.") if domain else None) or "unknown"
    if len(entry_id) > _MAX_ID:
        entry_id = "sha256:" + hashlib.sha256(entry_id.encode()).hexdigest()
    return Mention(
        network=NETWORK, external_id=entry_id, kind="keyword", author_handle=author[:255],
        text="\n\n".join(part for part in (title, summary) if part), created_at=created_at,
        lang=language.split("-")[0].lower()[:10] if language else None, permalink=target, raw=raw,
    )


def _text(entry: Any, key: str) -> str:
    """An entry field as plain text: HTML (feedparser says which in `<key>_detail.type`) is converted."""
    value = entry.get(key)
    if not isinstance(value, str):
        return ""
    detail = entry.get(f"{key}_detail")
    kind = detail.get("type") if isinstance(detail, dict) else None
    # Plain text stays as is: "<!channel>" in a text title is text, not a tag to drop.
    return (html_to_text(value) if isinstance(kind, str) and "html" in kind else value).strip()


def _jsonable(value: Any) -> Any:
    """feedparser's dicts hold `time.struct_time`s; keep what JSON can store, times as ISO strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items() if not str(k).endswith("_parsed")}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class RssOptions(ConnectorOptions):
    url: HttpUrl  # the feed (Google Alerts: "Deliver to: RSS feed", then copy the feed's link)
    max_bytes: int = Field(default=5_000_000, ge=10_000)  # a feed larger than this is refused, not parsed


class RssConnector(Connector):
    """One RSS or Atom feed of alerts.

    Cursor: `{"etag": ..., "modified": ..., "seen": [entry ids, newest last]}`; on a first run
    (no `seen` yet) entries older than the backfill window are skipped.
    """

    network = NETWORK
    Options = RssOptions
    options: RssOptions

    def poll(self, cursor: dict[str, Any], *, http: SourceHttp, now: datetime) -> PollResult:
        headers = {"Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5"}
        if isinstance(cursor.get("etag"), str):
            headers["If-None-Match"] = cursor["etag"]
        if isinstance(cursor.get("modified"), str):
            headers["If-Modified-Since"] = cursor["modified"]
        response = http.request("GET", str(self.options.url), headers=headers)
        if response.status_code == 304:
            return PollResult(mentions=[], cursor=dict(cursor))
        if len(response.content) > self.options.max_bytes:
            raise PayloadInvalid(NETWORK, f"feed is {len(response.content)} bytes, over max_bytes")
        page = parse_feed(response.content, now=now)
        seen_list = [s for s in cursor.get("seen") or [] if isinstance(s, str)] if isinstance(
            cursor.get("seen"), list) else []
        seen = set(seen_list)
        first_run = not seen_list and "etag" not in cursor and "modified" not in cursor
        fresh = [m for m in page.mentions if m.external_id not in seen
                 and not (first_run and m.created_at < now - self.backfill)]
        # One feed can repeat an entry: keep its first occurrence.
        unique = unique_mentions(fresh)
        seen_list = [*seen_list, *(m.external_id for m in page.mentions if m.external_id not in seen)]
        new_cursor: dict[str, Any] = {"seen": list(dict.fromkeys(seen_list))[-SEEN_KEEP:]}
        for name, header in (("etag", "etag"), ("modified", "last-modified")):
            if response.headers.get(header):
                new_cursor[name] = response.headers[header]
        return PollResult(mentions=unique, cursor=new_cursor, rejected=page.rejected)
