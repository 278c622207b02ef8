"""The Mastodon connector: mention notifications, hashtag timelines and the brand's statuses, HTML turned to text.

Polls with a user token (scopes `read:notifications read:statuses read:accounts`, `write:statuses`
to reply):
- `GET /api/v1/notifications?types[]=mention` with `min_id` = the newest notification stored, so
  polling walks forward without gaps (the first run walks back with `Link rel="next"` over the
  backfill window);
- `GET /api/v1/timelines/tag/:hashtag` for the configured `hashtags` (Mastodon's full-text search
  only covers posts the account interacted with, so hashtags are its keyword search), kind "keyword";
- `GET /api/v1/accounts/:id/statuses` for the brand's own statuses and their favourites/reblogs/replies;
- reply: `POST /api/v1/statuses` with `in_reply_to_id` and an `Idempotency-Key` header (the server
  keeps keys for an hour, so a retried click returns the same status). Mastodon cannot hide another
  account's post from others: `hide` raises `NotSupported` (muting or blocking only changes what the
  brand's own account sees, so it is left to a person in the Mastodon app).

Followed:
- https://docs.joinmastodon.org/methods/statuses/#create (`in_reply_to_id`, `visibility`, `Idempotency-Key`);
- https://docs.joinmastodon.org/methods/accounts/#statuses (`exclude_reblogs`, `exclude_replies`);
- https://docs.joinmastodon.org/methods/timelines/#tag (hashtag timeline, a list of Statuses);
- https://docs.joinmastodon.org/methods/notifications/ (`GET /api/v1/notifications?types[]=mention`,
  a JSON list of Notification objects, newest first);
- https://docs.joinmastodon.org/entities/Notification/, https://docs.joinmastodon.org/entities/Status/
  and https://docs.joinmastodon.org/entities/Account/ (fields; `Status.url` is nullable, `content`
  is HTML);
- https://docs.joinmastodon.org/api/guidelines/#pagination (ids are opaque strings that sort by
  length, then lexically).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from pydantic import Field, SecretStr, field_validator

from monitors.sources.base import (
    Connector,
    ConnectorOptions,
    Mention,
    MentionRef,
    NotSupported,
    OwnPost,
    Page,
    PayloadInvalid,
    PollResult,
    id_order,
    mention_raw,
    opt_int,
)
from monitors.sources.http import SourceHttp

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


def parse_statuses(payload: Any) -> Page:
    """Turn a list of Statuses (a hashtag timeline) into mentions of kind "keyword"; `raw` is the Status.

    Raises:
        PayloadInvalid: the page is not a JSON list.
    """
    if not isinstance(payload, list):
        raise PayloadInvalid(NETWORK, f"page is {type(payload).__name__}, not a list", item=payload)
    wrapped = [{"id": item.get("id"), "type": "mention", "status": item, "account": item.get("account")}
               if isinstance(item, dict) else item for item in payload]
    page = parse_notifications(wrapped)
    mentions = [dataclasses.replace(m, kind="keyword" if m.kind == "mention" else m.kind, raw=m.raw["status"])
                for m in page.mentions]
    rejected = [PayloadInvalid(NETWORK, r.reason.replace("notification", "status"),
                               item=r.item.get("status") if isinstance(r.item, dict) else r.item)
                for r in page.rejected]
    return Page(mentions=mentions, cursor=page.cursor, rejected=rejected)


def parse_own_statuses(payload: Any) -> tuple[list[OwnPost], list[PayloadInvalid]]:
    """Turn the brand's statuses (`GET /api/v1/accounts/:id/statuses`) into `OwnPost`s with engagement.

    likes = `favourites_count`, comments = `replies_count`, shares = `reblogs_count`; Mastodon has no views.

    Raises:
        PayloadInvalid: the page is not a JSON list.
    """
    page = parse_statuses(payload)
    posts = []
    for mention in page.mentions:
        status = mention.raw
        posts.append(OwnPost(
            network=NETWORK, external_id=mention.external_id, created_at=mention.created_at, text=mention.text,
            permalink=mention.permalink, media_type="image" if status.get("media_attachments") else "status",
            likes=opt_int(status.get("favourites_count")), comments=opt_int(status.get("replies_count")),
            shares=opt_int(status.get("reblogs_count")), raw=status,
        ))
    return posts, page.rejected


_LINK = re.compile(r'<([^>]*)>\s*((?:;\s*[a-zA-Z]+\s*=\s*"?[^";,]*"?\s*)*)')
_REL = re.compile(r'rel\s*=\s*"?([^";,]*)"?')


def parse_link_header(value: str | None) -> dict[str, str]:
    """Map each `rel` of an RFC 8288 `Link` header to its URL (Mastodon's next/prev pages)."""
    links: dict[str, str] = {}
    for match in _LINK.finditer(value or ""):
        rel = _REL.search(match.group(2))
        if rel:
            for name in rel.group(1).split():
                links.setdefault(name, match.group(1))
    return links


def link_param(links: dict[str, str], rel: str, name: str) -> str | None:
    """The query parameter `name` of the `rel` link (e.g. `max_id` of "next"), if any."""
    url = links.get(rel)
    values = parse_qs(urlsplit(url).query).get(name) if url else None
    return values[0] if values else None


class MastodonOptions(ConnectorOptions):
    access_token: SecretStr
    account_id: str | None = Field(default=None, pattern=r"^[0-9A-Za-z]{1,40}$")  # else verify_credentials
    hashtags: list[str] = Field(default_factory=list)  # without '#'; the keyword search Mastodon allows
    max_pages: int = Field(default=5, ge=1, le=50)
    page_size: int = Field(default=40, ge=1, le=80)
    engagement_every_s: int = Field(default=3600, ge=60)

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        tags = [tag.removeprefix("#") for tag in value]
        for tag in tags:
            if not re.fullmatch(r"\w{1,100}", tag):
                raise ValueError(f"{tag!r} is not a hashtag (letters, digits and _ only)")
        return tags


class MastodonConnector(Connector):
    """Mentions, hashtag matches and own-status engagement from one Mastodon account.

    `base_url` is the brand's instance (`https://piaille.fr`); there is no network-wide default.
    Cursor: `{"notifications": newest id, "tags": {tag: newest id}, "own_checked_at": iso}`.
    """

    network = NETWORK
    Options = MastodonOptions
    default_base_url = "https://mastodon.social"
    options: MastodonOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._account_id: str | None = self.options.account_id

    def poll(self, cursor: dict[str, Any], *, http: SourceHttp, now: datetime) -> PollResult:
        new_cursor = dict(cursor)
        since = cursor.get("notifications") if isinstance(cursor.get("notifications"), str) else None
        mentions, rejected, new_cursor["notifications"] = self._walk(
            http, f"{self.base_url}/api/v1/notifications", {"types[]": "mention"}, since, parse_notifications,
            now=now)
        tags = dict(cursor.get("tags") or {}) if isinstance(cursor.get("tags"), dict) else {}
        for tag in self.options.hashtags:
            found, bad, tags[tag] = self._walk(http, f"{self.base_url}/api/v1/timelines/tag/{quote(tag)}", {},
                                               tags.get(tag) if isinstance(tags.get(tag), str) else None,
                                               parse_statuses, now=now)
            mentions += found
            rejected += bad
        if self.options.hashtags:
            new_cursor["tags"] = tags
        return self._finish(http, cursor, new_cursor, mentions, rejected, now=now)

    def reply(self, mention: MentionRef, text: str, *, http: SourceHttp, idempotency_key: str) -> str:
        """Reply as the brand, addressed to the author, no more visible than the status answered."""
        status = _status(mention)
        account = status.get("account") if isinstance(status.get("account"), dict) else {}
        acct = account.get("acct") if isinstance(account.get("acct"), str) else None
        body = text if not acct or f"@{acct}" in text else f"@{acct} {text}"
        visibility = status.get("visibility")
        created = http.post_json(
            f"{self.base_url}/api/v1/statuses", headers={**self._auth(), "Idempotency-Key": idempotency_key},
            json={"status": body, "in_reply_to_id": status["id"],
                  "visibility": visibility if visibility in ("public", "unlisted", "private", "direct") else "public"},
        ).data
        reply_id = created.get("id") if isinstance(created, dict) else None
        if not isinstance(reply_id, str):
            raise PayloadInvalid(NETWORK, "POST /api/v1/statuses answered without an id", item=created)
        return reply_id

    def hide(self, mention: MentionRef, *, http: SourceHttp, idempotency_key: str) -> None:
        raise NotSupported(self.name, "Mastodon cannot hide another account's post from others; mute or block "
                                      "the author from the brand's account in the Mastodon app if needed")

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.options.access_token.get_secret_value()}"}

    def _walk(self, http: SourceHttp, url: str, params: dict[str, Any], since: str | None,
              parse: Any, *, now: datetime) -> tuple[list[Mention], list[PayloadInvalid], str | None]:
        """Forward from `since` with `min_id` (gap-free); on a first run, back over the backfill window."""
        mentions: list[Mention] = []
        rejected: list[PayloadInvalid] = []
        newest = since
        max_id: str | None = None
        cutoff = now - self.backfill
        for _ in range(self.options.max_pages):
            query = {**params, "limit": self.options.page_size}
            if since:
                query["min_id"] = newest
            elif max_id:
                query["max_id"] = max_id
            result = http.get_json(url, params=query, headers=self._auth())
            page = parse(result.data)
            if since is None:
                fresh = [m for m in page.mentions if m.created_at >= cutoff]
                mentions += fresh
                rejected += page.rejected
                if page.cursor and (newest is None or id_order(page.cursor) > id_order(newest)):
                    newest = page.cursor
                max_id = link_param(parse_link_header(result.headers.get("link")), "next", "max_id")
                if not max_id or len(fresh) < len(page.mentions) or not result.data:
                    break
            else:
                mentions += page.mentions
                rejected += page.rejected
                if page.cursor and id_order(page.cursor) > id_order(newest or ""):
                    newest = page.cursor
                if len(result.data) < self.options.page_size:
                    break
        return mentions, rejected, newest

    def _account(self, http: SourceHttp) -> str:
        if self._account_id is None:
            me = http.get_json(f"{self.base_url}/api/v1/accounts/verify_credentials", headers=self._auth()).data
            account_id = me.get("id") if isinstance(me, dict) else None
            if not isinstance(account_id, str) or not account_id:
                raise PayloadInvalid(NETWORK, "verify_credentials answered without an account id", item=me)
            self._account_id = account_id
        return self._account_id

    def _own_posts(self, http: SourceHttp, *, now: datetime) -> tuple[list[OwnPost], list[PayloadInvalid]]:
        url = f"{self.base_url}/api/v1/accounts/{quote(self._account(http))}/statuses"
        cutoff = now - timedelta(days=self.engagement_days)
        posts: list[OwnPost] = []
        rejected: list[PayloadInvalid] = []
        max_id: str | None = None
        for _ in range(self.options.max_pages):
            query: dict[str, Any] = {"exclude_reblogs": "true", "exclude_replies": "true", "limit": 40}
            if max_id:
                query["max_id"] = max_id
            result = http.get_json(url, params=query, headers=self._auth())
            found, bad = parse_own_statuses(result.data)
            recent = [post for post in found if post.created_at >= cutoff]
            posts += recent
            rejected += bad
            max_id = link_param(parse_link_header(result.headers.get("link")), "next", "max_id")
            if not max_id or len(recent) < len(found) or not found:
                break
        return posts, rejected


def _status(mention: MentionRef) -> dict[str, Any]:
    raw = mention_raw(mention)
    status = raw.get("status") if isinstance(raw.get("status"), dict) else raw
    if not isinstance(status.get("id"), str) or not status["id"]:
        raise PayloadInvalid(NETWORK, "the item to act on has no status id", item=raw)
    return status
