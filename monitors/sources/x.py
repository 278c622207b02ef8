"""The X connector: mentions, keyword search and the brand's own posts (API v2), parsed into `Mention`s.

Polls, each with `since_id` + `pagination_token` and a bearer token (OAuth 2.0 user context for
reply/hide):
- `GET /2/users/:id/mentions`: mentions of the brand, replies to its posts included;
- `GET /2/tweets/search/recent`: the brand's keywords (last 7 days at most), as kind "keyword";
- `GET /2/users/:id/tweets?exclude=retweets,replies`: the brand's posts and their `public_metrics`,
  every `engagement_every_s` for `engagement_days`;
- reply: `POST /2/tweets` with `reply.in_reply_to_tweet_id`; hide: `PUT /2/tweets/:id/hidden`.

Followed:
- https://docs.x.com/x-api/posts/search/quickstart/recent-search (recent search, same page shape);
- https://docs.x.com/x-api/posts/hide-replies/quickstart and
  https://developer.x.com/en/docs/twitter-api/tweets/hide-replies/api-reference (hiding an already
  hidden reply succeeds: the call is idempotent; only replies to the brand's own conversations);
- the `GET /2/users/:id/tweets` parameters (`exclude`, `start_time`, `since_id`, `pagination_token`,
  `max_results` 5-100) as listed by X's OpenAPI spec (via APIS.md §B1 and twapi-v2's generated spec);
- https://docs.x.com/x-api/posts/timelines/quickstart/user-mention-quickstart
  (`GET /2/users/:id/mentions`, same response shape as `GET /2/tweets/search/recent`);
- https://docs.x.com/x-api/fundamentals/expansions (`expansions=author_id` puts the authors in
  `includes.users`);
- /work/shared/docs/APIS.md §B1 (Post and User fields, `referenced_tweets`, `meta`, from X's OpenAPI
  typings and tweepy's recorded responses).

The request this parser expects: `expansions=author_id`,
`tweet.fields=created_at,lang,conversation_id,in_reply_to_user_id,referenced_tweets,public_metrics`,
`user.fields=username,name,public_metrics`.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field, SecretStr

from monitors.sources.base import (
    Connector,
    ConnectorOptions,
    Mention,
    MentionRef,
    OwnPost,
    Page,
    PayloadInvalid,
    PollResult,
    RequestRejected,
    id_order,
    iso_z,
    mention_raw,
    opt_int,
)
from monitors.sources.http import SourceHttp

NETWORK = "x"
TWEET_FIELDS = "created_at,lang,conversation_id,in_reply_to_user_id,referenced_tweets,public_metrics"
USER_FIELDS = "username,name,public_metrics"


def parse_page(payload: dict[str, Any]) -> Page:
    """Turn one X API v2 page into mentions; quarantine malformed Posts in `Page.rejected`.

    - `kind` is "reply" when `referenced_tweets` holds a `replied_to` entry (its id becomes
      `parent_id`), else "mention".
    - `raw` is the Post object as received, plus its expanded author User under `raw["author"]`
      (only when the Post has no `author` key of its own and the author was found in `includes.users`).
    - A Post whose author is missing from `includes.users` is kept with `author_handle="unknown"`
      and the handle-free permalink `https://x.com/i/web/status/<id>`.
    - `cursor` is `meta.newest_id` (the `since_id` of the next poll), or the highest Post id of the
      page when `meta` lacks it; pagination tokens are read with `next_page_token()`.

    Raises:
        PayloadInvalid: the page itself is malformed (not an object, `data` not a list, or neither
            `data` nor `meta`, as in an error-only response).
    """
    if not isinstance(payload, dict):
        raise PayloadInvalid(NETWORK, f"page is {type(payload).__name__}, not an object", item=payload)
    meta = payload.get("meta")
    if "data" not in payload:
        # X omits `data` when a page has no result but still sends `meta.result_count: 0`.
        if not isinstance(meta, dict):
            raise PayloadInvalid(NETWORK, "page has neither data nor meta", item=payload)
        items: list[Any] = []
    else:
        items = payload["data"]
        if not isinstance(items, list):
            raise PayloadInvalid(NETWORK, "data is not a list", item=payload)

    users = _users_by_id(payload.get("includes"))
    mentions: list[Mention] = []
    rejected: list[PayloadInvalid] = []
    for item in items:
        try:
            mentions.append(_parse_post(item, users))
        except PayloadInvalid as exc:
            rejected.append(exc)

    newest = meta.get("newest_id") if isinstance(meta, dict) else None
    if not isinstance(newest, str) or not newest:
        ids = [item["id"] for item in items if isinstance(item, dict) and _is_id(item.get("id"))]
        newest = max(ids, key=_id_order) if ids else None
    return Page(mentions=mentions, cursor=newest, rejected=rejected)


def next_page_token(payload: Any) -> str | None:
    """Return `meta.next_token` (the `pagination_token` of the next, older page), if any."""
    meta = payload.get("meta") if isinstance(payload, dict) else None
    token = meta.get("next_token") if isinstance(meta, dict) else None
    return token if isinstance(token, str) and token else None


def _users_by_id(includes: Any) -> dict[str, dict[str, Any]]:
    # A broken `includes` only costs author details, so it degrades instead of failing the page.
    users = includes.get("users") if isinstance(includes, dict) else None
    if not isinstance(users, list):
        return {}
    return {u["id"]: u for u in users if isinstance(u, dict) and _is_id(u.get("id"))}


def _parse_post(item: Any, users: dict[str, dict[str, Any]]) -> Mention:
    if not isinstance(item, dict):
        raise PayloadInvalid(NETWORK, f"post is {type(item).__name__}, not an object", item=item)
    post_id = item.get("id")
    if not _is_id(post_id):
        raise PayloadInvalid(NETWORK, "post has no string id", item=item)
    text = item.get("text")
    if not isinstance(text, str):
        raise PayloadInvalid(NETWORK, f"post {post_id} has no string text", item=item)
    created_at = _parse_time(item.get("created_at"), item, what=f"post {post_id} created_at")

    author_id = item.get("author_id")
    user = users.get(author_id) if isinstance(author_id, str) else None
    username = user.get("username") if user else None
    if isinstance(username, str) and username:
        handle, permalink = username, f"https://x.com/{username}/status/{post_id}"
    else:
        handle, permalink = "unknown", f"https://x.com/i/web/status/{post_id}"
    metrics = user.get("public_metrics") if user else None
    followers = metrics.get("followers_count") if isinstance(metrics, dict) else None

    raw = dict(item)
    if user is not None and "author" not in raw:
        raw["author"] = user
    parent_id = _replied_to(item.get("referenced_tweets"))
    return Mention(
        network=NETWORK,
        external_id=post_id,
        kind="reply" if parent_id else "mention",
        author_handle=handle,
        text=text,
        created_at=created_at,
        author_name=_opt_str(user.get("name")) if user else None,
        author_followers=_opt_int(followers),
        lang=_opt_str(item.get("lang")),
        permalink=permalink,
        parent_id=parent_id,
        conversation_id=_opt_str(item.get("conversation_id")),
        raw=raw,
    )


def _replied_to(refs: Any) -> str | None:
    if not isinstance(refs, list):
        return None
    for ref in refs:
        if isinstance(ref, dict) and ref.get("type") == "replied_to" and _is_id(ref.get("id")):
            return str(ref["id"])
    return None


def _parse_time(value: Any, item: Any, *, what: str) -> datetime:
    if not isinstance(value, str):
        raise PayloadInvalid(NETWORK, f"{what} is missing or not a string", item=item)
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            # X documents `...Z` timestamps; a naive one means the payload is not what we think.
            raise ValueError("no UTC offset")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise PayloadInvalid(
            NETWORK, f"{what} {value[:40]!r} is not an ISO-8601 time: {exc}", item=item
        ) from None


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _id_order(value: str) -> tuple[int, str]:
    # Post ids are decimal snowflakes sent as strings: compare by length, then lexically.
    return (len(value), value)


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _opt_int(value: Any) -> int | None:
    # bool is an int subclass; a `true` follower count is noise, not a number.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_own_posts(payload: Any, *, handle: str | None = None) -> tuple[list[OwnPost], list[PayloadInvalid]]:
    """Turn one page of the brand's own Posts (`GET /2/users/:id/tweets`) into `OwnPost`s with engagement.

    likes = `like_count`, comments = `reply_count`, shares = `retweet_count + quote_count`,
    impressions = `impression_count` (what X shows as "views").

    Raises:
        PayloadInvalid: the page itself is malformed.
    """
    page = parse_page(payload)  # validates the envelope and every Post the same way as mentions
    by_id = {m.external_id: m for m in page.mentions}
    posts: list[OwnPost] = []
    for item in payload.get("data") or []:
        item_id = item.get("id") if isinstance(item, dict) else None
        # Only a string id can be a Post we parsed; anything else (hostile payloads) is skipped, never raised on.
        mention = by_id.get(item_id) if isinstance(item_id, str) else None
        if mention is None:
            continue
        metrics = item.get("public_metrics") if isinstance(item.get("public_metrics"), dict) else {}
        retweets, quotes = opt_int(metrics.get("retweet_count")), opt_int(metrics.get("quote_count"))
        permalink = f"https://x.com/{handle}/status/{mention.external_id}" if handle else mention.permalink
        posts.append(OwnPost(
            network=NETWORK, external_id=mention.external_id, created_at=mention.created_at, text=mention.text,
            permalink=permalink, media_type="status", likes=opt_int(metrics.get("like_count")),
            comments=opt_int(metrics.get("reply_count")),
            shares=None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0),
            impressions=opt_int(metrics.get("impression_count")), raw=item,
        ))
    return posts, page.rejected


class XOptions(ConnectorOptions):
    bearer_token: SecretStr  # OAuth 2.0 user-context token (tweet.read users.read; tweet.write for replies)
    user_id: str = Field(pattern=r"^[0-9]{1,20}$")  # the brand account's numeric id
    search: bool = True  # also search recent Posts for brand.keywords
    query: str | None = Field(default=None, max_length=512)  # a hand-written search query instead
    max_pages: int = Field(default=5, ge=1, le=50)  # per stream and poll: never more requests than this
    page_size: int = Field(default=100, ge=5, le=100)
    engagement_every_s: int = Field(default=3600, ge=60)


class XConnector(Connector):
    """Mentions, keyword matches and own-post engagement from the X API v2.

    Cursor: `{"mentions": {...}, "search": {...}, "own_checked_at": iso}` where each stream holds
    `since_id` (newest Post already stored) and, when a poll stopped at `max_pages` mid-way,
    `next_token` + `newest_id` so the next poll finishes that walk before moving `since_id`.
    """

    network = NETWORK
    Options = XOptions
    default_base_url = "https://api.x.com"
    options: XOptions

    def poll(self, cursor: dict[str, Any], *, http: SourceHttp, now: datetime) -> PollResult:
        mentions: list[Mention] = []
        rejected: list[PayloadInvalid] = []
        new_cursor = dict(cursor)
        found, bad, new_cursor["mentions"] = self._walk(
            http, f"{self.base_url}/2/users/{self.options.user_id}/mentions", {}, _state(cursor, "mentions"), now=now)
        mentions += found
        rejected += bad
        query = self._query()
        if query:
            url, state = f"{self.base_url}/2/tweets/search/recent", _state(cursor, "search")
            # Recent search only reaches 7 days back.
            window = min(self.backfill, timedelta(days=6, hours=23))
            try:
                found, bad, new_cursor["search"] = self._walk(http, url, {"query": query}, state, now=now,
                                                              window=window)
            except RequestRejected as exc:
                # After a long stop the stored since_id is older than 7 days, which X refuses (400):
                # start again from the window rather than failing every poll from now on.
                if exc.status != 400 or not state:
                    raise
                found, bad, new_cursor["search"] = self._walk(http, url, {"query": query}, {}, now=now,
                                                              window=window)
            mentions += [m if m.kind == "reply" else dataclasses.replace(m, kind="keyword") for m in found]
            rejected += bad
        return self._finish(http, cursor, new_cursor, mentions, rejected, now=now)

    def reply(self, mention: MentionRef, text: str, *, http: SourceHttp, idempotency_key: str) -> str:
        """Reply as the brand; if the brand already replied this text to that Post, return that reply instead.

        X has no idempotency key, so a retry first looks for the brand's earlier reply among its Posts
        newer than the target (`since_id` = the target's id).
        """
        target = _post_id(mention)
        found = http.get_json(f"{self.base_url}/2/users/{self.options.user_id}/tweets", headers=self._auth(),
                              params={"since_id": target, "max_results": 100,
                                      "tweet.fields": "referenced_tweets,created_at"}).data
        earlier = found.get("data") if isinstance(found, dict) else None
        for item in earlier if isinstance(earlier, list) else []:
            if isinstance(item, dict) and _replied_to(item.get("referenced_tweets")) == target \
                    and _same_text(item.get("text"), text):
                return str(item["id"])
        created = http.post_json(f"{self.base_url}/2/tweets", headers=self._auth(),
                                 json={"text": text, "reply": {"in_reply_to_tweet_id": target}}).data
        reply_id = created.get("data", {}).get("id") if isinstance(created, dict) else None
        if not isinstance(reply_id, str):
            raise PayloadInvalid(NETWORK, "POST /2/tweets answered without data.id", item=created)
        return reply_id

    def hide(self, mention: MentionRef, *, http: SourceHttp, idempotency_key: str) -> None:
        """Hide a reply in one of the brand's conversations (X answers success if it is already hidden)."""
        http.put_json(f"{self.base_url}/2/tweets/{_post_id(mention)}/hidden", headers=self._auth(),
                      json={"hidden": True})

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.options.bearer_token.get_secret_value()}"}

    def _query(self) -> str | None:
        if not self.options.search:
            return None
        if self.options.query:
            return self.options.query
        if not self.keywords:
            return None
        terms = " OR ".join(f'"{k}"' if " " in k else k for k in (kw.replace('"', "") for kw in self.keywords) if k)
        exclude = f" -from:{self.handle}" if self.handle else ""
        return f"({terms}){exclude} -is:retweet"[:512]

    def _walk(self, http: SourceHttp, url: str, params: dict[str, Any], state: dict[str, Any], *, now: datetime,
              window: timedelta | None = None) -> tuple[list[Mention], list[PayloadInvalid], dict[str, Any]]:
        """Follow `next_token` from `since_id` (or the backfill window), at most `max_pages` pages."""
        since, token = state.get("since_id"), state.get("next_token")
        newest = state.get("newest_id") or since  # since_id never moves backwards
        mentions: list[Mention] = []
        rejected: list[PayloadInvalid] = []
        for _ in range(self.options.max_pages):
            query = {**params, "max_results": self.options.page_size, "expansions": "author_id",
                     "tweet.fields": TWEET_FIELDS, "user.fields": USER_FIELDS}
            if since:
                query["since_id"] = since
            else:
                start = now - (window or self.backfill)
                query["start_time"] = iso_z(start)
            if token:
                query["pagination_token"] = token
            payload = http.get_json(url, params=query, headers=self._auth()).data
            page = parse_page(payload)
            mentions += page.mentions
            rejected += page.rejected
            if page.cursor and (newest is None or id_order(page.cursor) > id_order(newest)):
                newest = page.cursor
            token = next_page_token(payload)
            if not token:
                return mentions, rejected, {"since_id": newest or since}
        # Stopped at max_pages: keep the walk's place so the next poll finishes it first.
        return mentions, rejected, {"since_id": since, "next_token": token, "newest_id": newest}

    def _own_posts(self, http: SourceHttp, *, now: datetime) -> tuple[list[OwnPost], list[PayloadInvalid]]:
        posts: list[OwnPost] = []
        rejected: list[PayloadInvalid] = []
        token = None
        start = iso_z(now - timedelta(days=self.engagement_days))
        for _ in range(self.options.max_pages):
            query: dict[str, Any] = {"exclude": "retweets,replies", "start_time": start, "max_results": 100,
                                     "tweet.fields": TWEET_FIELDS}
            if token:
                query["pagination_token"] = token
            payload = http.get_json(f"{self.base_url}/2/users/{self.options.user_id}/tweets", params=query,
                                    headers=self._auth()).data
            found, bad = parse_own_posts(payload, handle=self.handle)
            posts += found
            rejected += bad
            token = next_page_token(payload)
            if not token:
                break
        return posts, rejected


def _state(cursor: dict[str, Any], key: str) -> dict[str, Any]:
    value = cursor.get(key)
    return {k: v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {}


def _post_id(mention: MentionRef) -> str:
    post_id = mention.external_id if isinstance(mention, Mention) else mention_raw(mention).get("id")
    if not isinstance(post_id, str) or not post_id.isdigit():
        raise PayloadInvalid(NETWORK, "the item to act on has no Post id", item=mention_raw(mention))
    return post_id


_URL = re.compile(r"https?://\S+")


def _same_text(sent: Any, text: str) -> bool:
    # X rewrites links to t.co and may trim spaces: compare what a reader would see as the same reply.
    def norm(value: str) -> str:
        return " ".join(_URL.sub("<url>", value).split())

    return isinstance(sent, str) and norm(sent) == norm(text)
