"""The Reddit connector: username mentions, replies to the brand's posts, keyword search and own-post scores.

Polls `https://oauth.reddit.com` with a "script" app token (`POST /api/v1/access_token`,
`grant_type=password`, HTTP Basic client id/secret), under a descriptive User-Agent:
- `GET /message/mentions` (u/brand mentions) and `GET /message/comments` (replies to the brand's
  posts and comments), newest first, walked back with `after` to the newest item already stored;
- `GET /search?q=…&sort=new` for the brand's keywords (Reddit's search covers posts, not
  comments), kind "keyword";
- `GET /user/{name}/submitted` for the brand's posts: likes = `score`, comments = `num_comments`,
  shares = `num_crossposts` (Reddit gives no views to the API);
- reply: `POST /api/comment` (a retry first looks for the same reply among the brand's recent
  comments: Reddit has no idempotency key); hide: `POST /api/remove` only when `moderator: true`
  (a non-moderator cannot hide anything on Reddit: `NotSupported`).

Followed:
- https://github.com/reddit-archive/reddit/wiki/OAuth2 and
  https://github.com/reddit-archive/reddit/wiki/OAuth2-Quick-Start-Example (script app, password grant,
  token endpoint answering 200 with `{"error": ...}` on a bad password);
- https://github.com/reddit-archive/reddit/wiki/API (User-Agent rules, rate-limit headers);
- https://www.reddit.com/dev/api/ (`/message/{where}`, `/search`, `/user/{username}/submitted`,
  `/api/comment`, `/api/remove`, Listing `after`/`before`);
- praw-dev/praw `praw/endpoints.py` and its recorded cassette `TestInbox.test_mentions.json` for the
  payload shapes (via /work/shared/docs/APIS.md §B6).
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import Field, SecretStr

from monitors.sources.base import (
    AuthFailed,
    Connector,
    ConnectorOptions,
    Mention,
    MentionRef,
    NotSupported,
    OwnPost,
    Page,
    PayloadInvalid,
    PollResult,
    mention_raw,
    opt_int,
    opt_str,
)
from monitors.sources.http import SourceHttp

NETWORK = "reddit"
_CONTEXT_POST = re.compile(r"/comments/([a-z0-9]+)/")


def parse_listing(payload: Any, *, kind: str | None = None) -> Page:
    """Turn one Listing (`t1` comments, `t3` posts) into mentions; `cursor` is `data.after` (older items).

    - `external_id` is the fullname (`t1_…`, `t3_…`); `raw` is the child's `data`.
    - `kind`: the caller's, else "comment" for a `t1` answering a post (`parent_id` `t3_…`), "reply"
      for one answering a comment, "mention" for a `t3`. `conversation_id` is the post's fullname.
    - A post's text is its title, a blank line, then its self text.

    Raises:
        PayloadInvalid: the payload is not a Listing.
    """
    data = payload.get("data") if isinstance(payload, dict) and payload.get("kind") == "Listing" else None
    children = data.get("children") if isinstance(data, dict) else None
    if not isinstance(children, list):
        raise PayloadInvalid(NETWORK, "page is not a Listing with children", item=payload)
    mentions: list[Mention] = []
    rejected: list[PayloadInvalid] = []
    for child in children:
        try:
            mentions.append(_parse_thing(child, kind))
        except PayloadInvalid as exc:
            rejected.append(exc)
    return Page(mentions=mentions, cursor=opt_str(data.get("after")), rejected=rejected)


def parse_own_posts(payload: Any) -> tuple[list[OwnPost], list[PayloadInvalid], str | None]:
    """Turn a Listing of the brand's `t3` posts into `OwnPost`s with their score and comment count."""
    page = parse_listing(payload, kind="mention")
    posts = []
    for mention in page.mentions:
        post = mention.raw
        posts.append(OwnPost(
            network=NETWORK, external_id=mention.external_id, created_at=mention.created_at, text=mention.text,
            permalink=mention.permalink, media_type="link" if not post.get("is_self") else "status",
            likes=opt_int(post.get("score")), comments=opt_int(post.get("num_comments")),
            shares=opt_int(post.get("num_crossposts")), views=opt_int(post.get("view_count")), raw=post,
        ))
    return posts, page.rejected, page.cursor


def _parse_thing(child: Any, kind: str | None) -> Mention:
    if not isinstance(child, dict) or not isinstance(child.get("data"), dict):
        raise PayloadInvalid(NETWORK, "listing child has no data object", item=child)
    thing, data = child.get("kind"), child["data"]
    name = data.get("name")
    if thing not in ("t1", "t3") or not isinstance(name, str) or not name.startswith(f"{thing}_"):
        raise PayloadInvalid(NETWORK, f"child of kind {str(thing)[:10]!r} has no matching fullname", item=child)
    created = data.get("created_utc")
    if not isinstance(created, int | float) or isinstance(created, bool):
        raise PayloadInvalid(NETWORK, f"{name} created_utc is not a number", item=child)
    try:
        created_at = datetime.fromtimestamp(float(created), UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadInvalid(NETWORK, f"{name} created_utc is out of range", item=child) from None
    author = opt_str(data.get("author"))
    if author is None:
        raise PayloadInvalid(NETWORK, f"{name} has no author", item=child)
    if thing == "t1":
        text = data.get("body")
        link = opt_str(data.get("context")) or opt_str(data.get("permalink"))
        parent = opt_str(data.get("parent_id"))
        post = opt_str(data.get("link_id"))
        if post is None and link and (match := _CONTEXT_POST.search(link)):
            post = f"t3_{match.group(1)}"
        default_kind = "comment" if parent and parent.startswith("t3_") else "reply"
    else:
        title, body = data.get("title"), data.get("selftext") or ""
        text = f"{title}\n\n{body}".strip() if isinstance(title, str) and isinstance(body, str) else None
        link, parent, post, default_kind = opt_str(data.get("permalink")), None, name, "mention"
    if not isinstance(text, str):
        raise PayloadInvalid(NETWORK, f"{name} has no text", item=child)
    return Mention(
        network=NETWORK, external_id=name, kind=kind or default_kind, author_handle=author, text=text,
        created_at=created_at,
        permalink=f"https://www.reddit.com{link}" if link and link.startswith("/") else link,
        parent_id=parent, conversation_id=post, raw=data,
    )


class RedditOptions(ConnectorOptions):
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    username: str = Field(pattern=r"^[A-Za-z0-9_-]{3,20}$")  # the brand's account (no u/)
    password: SecretStr
    user_agent: str | None = Field(default=None, max_length=200)  # default: python:veille:0.1 (by /u/<username>)
    auth_url: str = "https://www.reddit.com"
    search: bool = True
    moderator: bool = False  # the account moderates the subreddits where it should hide comments
    max_pages: int = Field(default=5, ge=1, le=50)
    page_size: int = Field(default=100, ge=1, le=100)
    engagement_every_s: int = Field(default=3600, ge=60)


class RedditConnector(Connector):
    """Mentions, replies to the brand, keyword matches and own-post scores for one Reddit account.

    Cursor: `{"mentions": {...}, "comments": {...}, "search": {...}, "own_checked_at": iso}`, each
    stream holding `newest` (created_utc of the newest item stored) and, for a walk cut short by
    `max_pages`, `resume` (the `after` fullname), `stop_at` and `pending`. The token stays in memory.
    """

    network = NETWORK
    Options = RedditOptions
    default_base_url = "https://oauth.reddit.com"
    options: RedditOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._token: tuple[str, float] | None = None  # (access token, monotonic expiry)
        self._lock = threading.Lock()

    def poll(self, cursor: dict[str, Any], *, http: SourceHttp, now: datetime) -> PollResult:
        new_cursor = dict(cursor)
        mentions: list[Mention] = []
        rejected: list[PayloadInvalid] = []
        streams: list[tuple[str, str, dict[str, Any], str | None]] = [
            ("mentions", "/message/mentions", {}, "mention"),
            ("comments", "/message/comments", {}, None),
        ]
        if self.options.search and self.keywords:
            query = " OR ".join(f'"{k}"' for k in (kw.replace('"', "") for kw in self.keywords) if k)[:512]
            streams.append(("search", "/search", {"q": query, "sort": "new", "t": "week", "type": "link"}, "keyword"))
        for key, path, params, kind in streams:
            found, bad, new_cursor[key] = self._walk(http, path, params, kind, _state(cursor.get(key)), now=now)
            mentions += [m for m in found if m.author_handle.lower() != self.options.username.lower()]
            rejected += bad
        return self._finish(http, cursor, new_cursor, mentions, rejected, now=now)

    def reply(self, mention: MentionRef, text: str, *, http: SourceHttp, idempotency_key: str) -> str:
        """Comment as the brand under the item; a retry returns the brand's identical earlier reply."""
        target = _fullname(mention)
        recent = self._get(http, f"/user/{self.options.username}/comments", {"sort": "new", "limit": 100})
        for earlier in parse_listing(recent).mentions:
            if earlier.parent_id == target and " ".join(earlier.text.split()) == " ".join(text.split()):
                return earlier.external_id
        result = http.post_json(f"{self.base_url}/api/comment", headers=self._headers(http),
                                data={"thing_id": target, "text": text, "api_type": "json"}).data
        things = result.get("json", {}).get("data", {}).get("things") if isinstance(result, dict) else None
        name = things[0].get("data", {}).get("name") if isinstance(things, list) and things and \
            isinstance(things[0], dict) else None
        if not isinstance(name, str):
            raise PayloadInvalid(NETWORK, "POST /api/comment answered without the new comment", item=result)
        return name

    def hide(self, mention: MentionRef, *, http: SourceHttp, idempotency_key: str) -> None:
        """Remove the item as a moderator (removing twice is harmless); others cannot hide on Reddit."""
        if not self.options.moderator:
            raise NotSupported(self.name, "Reddit lets only a subreddit's moderators remove a comment; set "
                                          "`moderator: true` if the brand's account moderates it")
        http.post_json(f"{self.base_url}/api/remove", headers=self._headers(http),
                       data={"id": _fullname(mention), "spam": "false"})

    # -------------------------------------------------------------------------------- internals

    def _walk(self, http: SourceHttp, path: str, params: dict[str, Any], kind: str | None, state: dict[str, Any],
              *, now: datetime) -> tuple[list[Mention], list[PayloadInvalid], dict[str, Any]]:
        """Walk newest-first Listing pages back to the stored boundary (first run: the backfill window)."""
        stop_at = _float(state.get("stop_at")) or _float(state.get("newest")) or (now - self.backfill).timestamp()
        pending = _float(state.get("pending"))
        after = state.get("resume") if isinstance(state.get("resume"), str) else None
        mentions: list[Mention] = []
        rejected: list[PayloadInvalid] = []
        for _ in range(self.options.max_pages):
            query = {**params, "limit": self.options.page_size, "raw_json": 1}
            if after:
                query["after"] = after
            page = parse_listing(self._get(http, path, query), kind=kind)
            rejected += page.rejected
            reached = False
            for mention in page.mentions:
                seen = mention.created_at.timestamp()
                if seen < stop_at:
                    reached = True
                    continue
                mentions.append(mention)
                pending = max(pending or 0.0, seen)
            after = page.cursor
            if reached or not after or not page.mentions:
                return mentions, rejected, {"newest": pending or _float(state.get("newest")) or stop_at}
        return mentions, rejected, {"stop_at": stop_at, "resume": after, "pending": pending,
                                    "newest": _float(state.get("newest"))}

    def _own_posts(self, http: SourceHttp, *, now: datetime) -> tuple[list[OwnPost], list[PayloadInvalid]]:
        cutoff = now - timedelta(days=self.engagement_days)
        posts: list[OwnPost] = []
        rejected: list[PayloadInvalid] = []
        after: str | None = None
        for _ in range(self.options.max_pages):
            query: dict[str, Any] = {"sort": "new", "limit": 100, "raw_json": 1}
            if after:
                query["after"] = after
            found, bad, after = parse_own_posts(self._get(http, f"/user/{self.options.username}/submitted", query))
            recent = [post for post in found if post.created_at >= cutoff]
            posts += recent
            rejected += bad
            if not after or len(recent) < len(found) or not found:
                break
        return posts, rejected

    def _get(self, http: SourceHttp, path: str, params: dict[str, Any]) -> Any:
        return http.get_json(f"{self.base_url}{path}", params=params, headers=self._headers(http)).data

    def _user_agent(self) -> str:
        return self.options.user_agent or f"python:veille:0.1 (by /u/{self.options.username})"

    def _headers(self, http: SourceHttp) -> dict[str, str]:
        return {"Authorization": f"bearer {self._access_token(http)}", "User-Agent": self._user_agent()}

    def _access_token(self, http: SourceHttp) -> str:
        with self._lock:
            if self._token is not None and time.monotonic() < self._token[1]:
                return self._token[0]
            result = http.post_json(
                f"{self.options.auth_url.rstrip('/')}/api/v1/access_token", headers={"User-Agent": self._user_agent()},
                auth=httpx.BasicAuth(self.options.client_id, self.options.client_secret.get_secret_value()),
                data={"grant_type": "password", "username": self.options.username,
                      "password": self.options.password.get_secret_value()},
            ).data
            token = result.get("access_token") if isinstance(result, dict) else None
            if not isinstance(token, str) or not token:
                # Reddit answers a wrong password with 200 {"error": "invalid_grant"}: that is an auth failure.
                error = result.get("error") if isinstance(result, dict) else None
                raise AuthFailed(self.name, f"the token endpoint refused the credentials ({str(error)[:40]})",
                                 status=401)
            expires = result.get("expires_in")
            lifetime = float(expires) if isinstance(expires, int | float) and not isinstance(expires, bool) else 3600
            self._token = (token, time.monotonic() + max(60.0, lifetime - 60))
            return token


def _fullname(mention: MentionRef) -> str:
    name = mention.external_id if isinstance(mention, Mention) else mention_raw(mention).get("name")
    if not isinstance(name, str) or not re.fullmatch(r"t[13]_[a-z0-9]+", name):
        raise PayloadInvalid(NETWORK, "the item to act on has no Reddit fullname", item=mention_raw(mention))
    return name


def _state(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
