"""Parse one Mastodon page of mention notifications into a `Page` of `Mention`s, HTML turned to text.

Followed:
- https://docs.joinmastodon.org/methods/notifications/ (`GET /api/v1/notifications?types[]=mention`,
  a JSON list of Notification objects, newest first);
- https://docs.joinmastodon.org/entities/Notification/, https://docs.joinmastodon.org/entities/Status/
  and https://docs.joinmastodon.org/entities/Account/ (fields; `Status.url` is nullable, `content`
  is HTML);
- https://docs.joinmastodon.org/api/guidelines/#pagination (ids are opaque strings that sort by
  length, then lexically).
"""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from monitors.sources.base import Mention, Page, PayloadInvalid

NETWORK = "mastodon"

# Block elements Mastodon keeps when sanitizing remote content; each starts a new paragraph.
_BLOCKS = frozenset({"p", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"})


def parse_notifications(payload: list[Any]) -> Page:
    """Turn one page of mention notifications into mentions; quarantine malformed ones.

    - `external_id` is the Status id (what a reply targets); `raw` is the whole Notification.
    - `text` is the Status `content` converted to plain text (see `html_to_text`).
    - `kind` is "reply" when the Status has `in_reply_to_id` (it becomes `parent_id`), else "mention".
    - `author_handle` is `account.acct` (`user` on the home instance, `user@domain` elsewhere).
    - `permalink` is `url`, falling back to the federation `uri` when `url` is null.
    - Notifications of another `type` are skipped (not rejected): the endpoint was asked for mentions.
    - `cursor` is the highest notification id of the page (rejected ones included, so a bad item is
      not fetched forever), to pass as `since_id` / `min_id`; None for an empty page.

    Raises:
        PayloadInvalid: the page is not a JSON list (e.g. an `{"error": ...}` object).
    """
    if not isinstance(payload, list):
        raise PayloadInvalid(NETWORK, f"page is {type(payload).__name__}, not a list", item=payload)

    mentions: list[Mention] = []
    rejected: list[PayloadInvalid] = []
    ids: list[str] = []
    for item in payload:
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
            ids.append(item["id"])
        try:
            mention = _parse_notification(item)
        except PayloadInvalid as exc:
            rejected.append(exc)
            continue
        if mention is not None:
            mentions.append(mention)
    cursor = max(ids, key=lambda value: (len(value), value)) if ids else None
    return Page(mentions=mentions, cursor=cursor, rejected=rejected)


def html_to_text(content: str) -> str:
    """Return the text of Mastodon status HTML: entities unescaped, `<br>` and paragraphs as line breaks."""
    extractor = _TextExtractor()
    extractor.feed(content)
    extractor.close()
    return "".join(extractor.parts)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        # convert_charrefs unescapes &amp; &lt; &#39; … inside text, which is what a reader saw.
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._pending = 0  # line breaks owed before the next text: blocks collapse, not stack
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._flush()
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self._pending = max(self._pending, 2)
        elif tag == "li":
            self._pending = max(self._pending, 1)
        elif tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        # Mastodon's `invisible` / `ellipsis` spans split long links for display; keeping every
        # span's text restores the full URL.
        if self._hidden or not data:
            return
        self._flush()
        self.parts.append(data)

    def _flush(self) -> None:
        if self.parts and self._pending:
            trailing = 0  # newlines already at the end of the output (from <br>)
            for part in reversed(self.parts):
                stripped = part.rstrip("\n")
                trailing += len(part) - len(stripped)
                if stripped:
                    break
            if self._pending > trailing:
                self.parts.append("\n" * (self._pending - trailing))
        self._pending = 0


def _parse_notification(item: Any) -> Mention | None:
    if not isinstance(item, dict):
        raise PayloadInvalid(NETWORK, f"notification is {type(item).__name__}, not an object", item=item)
    notification_id = item.get("id")
    if not isinstance(notification_id, str) or not notification_id:
        raise PayloadInvalid(NETWORK, "notification has no string id", item=item)
    kind = item.get("type", "mention")
    if kind != "mention":
        return None
    status = item.get("status")
    if not isinstance(status, dict):
        raise PayloadInvalid(NETWORK, f"notification {notification_id} has no status object", item=item)
    status_id = status.get("id")
    if not isinstance(status_id, str) or not status_id:
        raise PayloadInvalid(NETWORK, f"notification {notification_id} status has no string id", item=item)
    content = status.get("content")
    if not isinstance(content, str):
        raise PayloadInvalid(NETWORK, f"status {status_id} content is not a string", item=item)
    created_at = _parse_time(status.get("created_at"), item, what=f"status {status_id} created_at")
    account = status.get("account")
    if not isinstance(account, dict):
        account = item.get("account")
    acct = account.get("acct") if isinstance(account, dict) else None
    if not isinstance(acct, str) or not acct:
        raise PayloadInvalid(NETWORK, f"status {status_id} has no account.acct", item=item)

    parent_id = _opt_str(status.get("in_reply_to_id"))
    followers = account.get("followers_count")
    return Mention(
        network=NETWORK,
        external_id=status_id,
        kind="reply" if parent_id else "mention",
        author_handle=acct,
        text=html_to_text(content),
        created_at=created_at,
        author_name=_opt_str(account.get("display_name")),
        author_followers=followers
        if isinstance(followers, int) and not isinstance(followers, bool)
        else None,
        lang=_opt_str(status.get("language")),
        permalink=_opt_str(status.get("url")) or _opt_str(status.get("uri")),
        parent_id=parent_id,
        raw=item,
    )


def _parse_time(value: Any, item: Any, *, what: str) -> datetime:
    if not isinstance(value, str):
        raise PayloadInvalid(NETWORK, f"{what} is missing or not a string", item=item)
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("no UTC offset")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise PayloadInvalid(
            NETWORK, f"{what} {value[:40]!r} is not an ISO-8601 time: {exc}", item=item
        ) from None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
