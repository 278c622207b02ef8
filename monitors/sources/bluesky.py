"""The Bluesky connector: mentions, replies and quotes, keyword search and own-post engagement over XRPC.

Polls, through the account's PDS (default `https://bsky.social`) with a session from an app password:
- `app.bsky.notification.listNotifications?reasons=mention&reasons=reply&reasons=quote`, newest
  first, walked back with `cursor` until the newest `indexedAt` already stored;
- `app.bsky.feed.searchPosts?q=…&sort=latest&since=…` per brand keyword (kind "keyword");
- `app.bsky.feed.getAuthorFeed?filter=posts_no_replies` for the brand's posts and their
  like/repost/quote/reply counts;
- reply: `com.atproto.repo.createRecord` of an `app.bsky.feed.post` with `reply.root/parent`, under a
  record key derived from the idempotency key, so a retry finds its post (`getRecord`) instead of
  posting twice;
- hide: Bluesky's "hide reply" is the `hiddenReplies` list of the `app.bsky.feed.threadgate` record
  of the thread's root post, so it only exists for threads the brand started; elsewhere `NotSupported`.

Followed:
- https://docs.bsky.app/docs/get-started (createSession with an app password, Bearer accessJwt) and
  https://docs.bsky.app/docs/advanced-guides/rate-limits (30 logins per 5 minutes: the session is
  kept and refreshed with `com.atproto.server.refreshSession`, not re-created every poll);
- lexicons in bluesky-social/atproto: `app/bsky/notification/listNotifications.json`,
  `app/bsky/feed/searchPosts.json`, `app/bsky/feed/getAuthorFeed.json`, `app/bsky/feed/defs.json`
  (postView counts), `app/bsky/feed/post.json` (record, `reply.root/parent` strong refs),
  `app/bsky/feed/threadgate.json` (`hiddenReplies`, at most 50), `com/atproto/repo/createRecord.json`,
  `com/atproto/repo/getRecord.json`, `com/atproto/repo/putRecord.json`;
- https://docs.bsky.app/docs/advanced-guides/posts (at-uri and permalink `bsky.app/profile/…/post/<rkey>`);
- https://atproto.com/specs/record-key and https://atproto.com/specs/tid (TID record keys);
- /work/shared/docs/APIS.md §B3.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

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
    RequestRejected,
    iso_z,
    mention_raw,
    opt_int,
    opt_str,
    parse_iso_time,
)
from monitors.sources.http import HttpResult, SourceHttp

NETWORK = "bluesky"
REASONS = {"mention": "mention", "reply": "reply", "quote": "mention"}
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def parse_notifications(payload: Any) -> Page:
    """Turn one `listNotifications` page into mentions; other reasons (likes, follows...) are skipped.

    - `external_id` is the post's at-uri; `kind` is "reply" for reason reply, else "mention".
    - `parent_id` / `conversation_id` are the `record.reply.parent` / `root` at-uris.
    - `cursor` is the page's `cursor` (older items), None on the last page.

    Raises:
        PayloadInvalid: the page is not an object with a `notifications` list.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("notifications"), list):
        raise PayloadInvalid(NETWORK, "page has no notifications list", item=payload)
    mentions: list[Mention] = []
    rejected: list[PayloadInvalid] = []
    for item in payload["notifications"]:
        # A reason that is not a string (a hostile or broken payload) is no reason we know: skip, never raise.
        if isinstance(item, dict) and (not isinstance(item.get("reason"), str) or item["reason"] not in REASONS):
            continue
        try:
            reason = item.get("reason") if isinstance(item, dict) else None
            mentions.append(_parse_post(item, record_key="record", kind=REASONS.get(str(reason), "mention")))
        except PayloadInvalid as exc:
            rejected.append(exc)
    return Page(mentions=mentions, cursor=opt_str(payload.get("cursor")), rejected=rejected)


def parse_search(payload: Any) -> Page:
    """Turn one `searchPosts` page (postViews) into mentions of kind "keyword".

    Raises:
        PayloadInvalid: the page is not an object with a `posts` list.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("posts"), list):
        raise PayloadInvalid(NETWORK, "page has no posts list", item=payload)
    mentions: list[Mention] = []
    rejected: list[PayloadInvalid] = []
    for item in payload["posts"]:
        try:
            mentions.append(_parse_post(item, record_key="record", kind="keyword"))
        except PayloadInvalid as exc:
            rejected.append(exc)
    return Page(mentions=mentions, cursor=opt_str(payload.get("cursor")), rejected=rejected)


def parse_author_feed(payload: Any, *,
                      did: str | None = None) -> tuple[list[OwnPost], list[PayloadInvalid], str | None]:
    """Turn one `getAuthorFeed` page into the brand's `OwnPost`s and the next cursor.

    Reposts (items with a `reason`) and other authors' posts are skipped.

    likes = `likeCount`, comments = `replyCount`, shares = `repostCount + quoteCount`.

    Raises:
        PayloadInvalid: the page is not an object with a `feed` list.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("feed"), list):
        raise PayloadInvalid(NETWORK, "page has no feed list", item=payload)
    posts: list[OwnPost] = []
    rejected: list[PayloadInvalid] = []
    for item in payload["feed"]:
        if isinstance(item, dict) and item.get("reason") is not None:
            continue
        view = item.get("post") if isinstance(item, dict) else None
        try:
            mention = _parse_post(view, record_key="record", kind="mention")
        except PayloadInvalid as exc:
            rejected.append(exc)
            continue
        assert isinstance(view, dict)
        author = view.get("author") if isinstance(view.get("author"), dict) else {}
        if did and author.get("did") != did:
            continue
        reposts, quotes = opt_int(view.get("repostCount")), opt_int(view.get("quoteCount"))
        posts.append(OwnPost(
            network=NETWORK, external_id=mention.external_id, created_at=mention.created_at, text=mention.text,
            permalink=mention.permalink, media_type="image" if view.get("embed") else "status",
            likes=opt_int(view.get("likeCount")), comments=opt_int(view.get("replyCount")),
            shares=None if reposts is None and quotes is None else (reposts or 0) + (quotes or 0), raw=view,
        ))
    return posts, rejected, opt_str(payload.get("cursor"))


def permalink(uri: str, handle: str | None) -> str | None:
    """`at://did/app.bsky.feed.post/rkey` as `https://bsky.app/profile/<handle or did>/post/<rkey>`."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3 or parts[1] != "app.bsky.feed.post":
        return None
    return f"https://bsky.app/profile/{handle or parts[0]}/post/{parts[2]}"


def _parse_post(item: Any, *, record_key: str, kind: str) -> Mention:
    if not isinstance(item, dict):
        raise PayloadInvalid(NETWORK, f"post is {type(item).__name__}, not an object", item=item)
    uri = item.get("uri")
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise PayloadInvalid(NETWORK, "post has no at-uri", item=item)
    record = item.get(record_key)
    if not isinstance(record, dict):
        raise PayloadInvalid(NETWORK, f"post {uri} has no record", item=item)
    text = record.get("text", "")
    if not isinstance(text, str):
        raise PayloadInvalid(NETWORK, f"post {uri} text is not a string", item=item)
    created = record.get("createdAt") or item.get("indexedAt")
    created_at = parse_iso_time(NETWORK, created, item, what=f"post {uri} createdAt")
    author = item.get("author")
    handle = opt_str(author.get("handle")) if isinstance(author, dict) else None
    if handle is None:
        raise PayloadInvalid(NETWORK, f"post {uri} has no author handle", item=item)
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    parent = reply.get("parent") if isinstance(reply.get("parent"), dict) else {}
    root = reply.get("root") if isinstance(reply.get("root"), dict) else {}
    langs = record.get("langs")
    return Mention(
        network=NETWORK, external_id=uri, kind=kind, author_handle=handle, text=text, created_at=created_at,
        author_name=opt_str(author.get("displayName")) if isinstance(author, dict) else None,
        lang=opt_str(langs[0]) if isinstance(langs, list) and langs else None,
        permalink=permalink(uri, handle), parent_id=opt_str(parent.get("uri")),
        conversation_id=opt_str(root.get("uri")), raw=item,
    )


def tid_for(key: str, *, at: datetime) -> str:
    """A valid TID record key, the same for the same (key, at): 53 bits of microseconds, 10 of clock id."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    # Spread within one second after `at`, so two replies to one post get different keys.
    micros = int(at.timestamp() * 1_000_000) + digest % 1_000_000
    value = ((micros & ((1 << 53) - 1)) << 10) | ((digest >> 20) & 0x3FF)
    return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in range(12, -1, -1))


class BlueskyOptions(ConnectorOptions):
    identifier: str = Field(min_length=3, max_length=253)  # the brand's handle or DID
    app_password: SecretStr  # an app password (Settings → App passwords), never the account password
    search: bool = True  # searchPosts for brand.keywords
    max_pages: int = Field(default=5, ge=1, le=50)
    page_size: int = Field(default=50, ge=1, le=100)
    engagement_every_s: int = Field(default=3600, ge=60)


class BlueskyConnector(Connector):
    """Mentions, replies, quotes, keyword matches and own-post engagement for one Bluesky account.

    Cursor: `{"notifications": {"newest": iso, ...}, "search": {keyword: {"newest": iso, ...}},
    "own_checked_at": iso}`. A walk cut short by `max_pages` keeps `resume` (the API cursor),
    `stop_at` (the old boundary) and `pending` (the new one) so the next poll finishes it first.
    The session tokens stay in memory only.
    """

    network = NETWORK
    Options = BlueskyOptions
    default_base_url = "https://bsky.social"
    options: BlueskyOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session: dict[str, str] | None = None
        self._lock = threading.Lock()

    def poll(self, cursor: dict[str, Any], *, http: SourceHttp, now: datetime) -> PollResult:
        new_cursor = dict(cursor)
        mentions, rejected, new_cursor["notifications"] = self._walk(
            http, "app.bsky.notification.listNotifications",
            {"reasons": ["mention", "reply", "quote"]}, parse_notifications,
            _walk_state(cursor.get("notifications")), now=now)
        if self.options.search and self.keywords:
            states = cursor.get("search") if isinstance(cursor.get("search"), dict) else {}
            searched: dict[str, Any] = {}
            for keyword in self.keywords[:10]:
                state = _walk_state(states.get(keyword))
                params: dict[str, Any] = {"q": keyword, "sort": "latest"}
                if state.get("newest"):
                    params["since"] = state["newest"]
                found, bad, searched[keyword] = self._walk(http, "app.bsky.feed.searchPosts", params, parse_search,
                                                           state, now=now)
                mentions += [m for m in found if m.author_handle != self._own_handle()]
                rejected += bad
            new_cursor["search"] = searched
        return self._finish(http, cursor, new_cursor, mentions, rejected, now=now)

    def reply(self, mention: MentionRef, text: str, *, http: SourceHttp, idempotency_key: str) -> str:
        """Post the brand's reply; a retry with the same key returns the reply already posted."""
        raw = mention_raw(mention)
        uri, cid = opt_str(raw.get("uri")), opt_str(raw.get("cid"))
        record = raw.get("record") if isinstance(raw.get("record"), dict) else {}
        if not uri or not cid:
            raise PayloadInvalid(NETWORK, "the item to reply to has no uri/cid", item=raw)
        parent = {"uri": uri, "cid": cid}
        reply_ref = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        root = reply_ref.get("root") if isinstance(reply_ref.get("root"), dict) else parent
        created = parse_iso_time(NETWORK, record.get("createdAt") or raw.get("indexedAt"), raw, what="createdAt")
        rkey = tid_for(idempotency_key, at=created)
        did = self._did(http)
        existing = self._get_record(http, did, "app.bsky.feed.post", rkey)
        if existing is not None:
            return str(existing.get("uri") or f"at://{did}/app.bsky.feed.post/{rkey}")
        result = self._xrpc(http, "POST", "com.atproto.repo.createRecord", json={
            "repo": did, "collection": "app.bsky.feed.post", "rkey": rkey,
            "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": iso_z(datetime.now(UTC)),
                       "reply": {"root": {"uri": root.get("uri"), "cid": root.get("cid")}, "parent": parent}},
        })
        reply_uri = result.data.get("uri") if isinstance(result.data, dict) else None
        if not isinstance(reply_uri, str):
            raise PayloadInvalid(NETWORK, "createRecord answered without a uri", item=result.data)
        return reply_uri

    def hide(self, mention: MentionRef, *, http: SourceHttp, idempotency_key: str) -> None:
        """Add the reply to the `hiddenReplies` of the brand's thread root (a set: hiding twice is a no-op)."""
        raw = mention_raw(mention)
        uri = opt_str(raw.get("uri"))
        record = raw.get("record") if isinstance(raw.get("record"), dict) else {}
        reply_ref = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        root = opt_str(reply_ref.get("root", {}).get("uri")) if isinstance(reply_ref.get("root"), dict) else None
        did = self._did(http)
        if not uri or not root or not root.startswith(f"at://{did}/app.bsky.feed.post/"):
            raise NotSupported(self.name, "Bluesky can only hide replies in threads the brand started "
                                          "(threadgate hiddenReplies); this item is not one")
        rkey = root.rsplit("/", 1)[1]
        gate = self._get_record(http, did, "app.bsky.feed.threadgate", rkey)
        value = dict(gate.get("value") or {}) if gate else {"$type": "app.bsky.feed.threadgate", "post": root,
                                                            "createdAt": iso_z(datetime.now(UTC))}
        hidden = [u for u in value.get("hiddenReplies") or [] if isinstance(u, str)]
        if uri in hidden:
            return
        if len(hidden) >= 50:
            raise NotSupported(self.name, "Bluesky hides at most 50 replies per thread; this thread is full")
        value["hiddenReplies"] = [*hidden, uri]
        body: dict[str, Any] = {"repo": did, "collection": "app.bsky.feed.threadgate", "rkey": rkey, "record": value}
        if gate and gate.get("cid"):
            body["swapRecord"] = gate["cid"]  # refuse to overwrite a gate someone changed meanwhile
        self._xrpc(http, "POST", "com.atproto.repo.putRecord", json=body)

    # -------------------------------------------------------------------------------- internals

    def _walk(self, http: SourceHttp, method: str, params: dict[str, Any], parse: Any, state: dict[str, Any], *,
              now: datetime) -> tuple[list[Mention], list[PayloadInvalid], dict[str, Any]]:
        """Walk newest-first pages back to the stored boundary (first run: the backfill window)."""
        stop_at = state.get("stop_at") or state.get("newest") or iso_z(now - self.backfill)
        pending = state.get("pending")
        api_cursor = state.get("resume")
        boundary = _time(stop_at)
        mentions: list[Mention] = []
        rejected: list[PayloadInvalid] = []
        for _ in range(self.options.max_pages):
            query = {**params, "limit": self.options.page_size}
            if api_cursor:
                query["cursor"] = api_cursor
            page = parse(self._xrpc(http, "GET", method, params=query).data)
            rejected += page.rejected
            reached = False
            for mention in page.mentions:
                seen = _indexed_at(mention)
                if seen < boundary:
                    reached = True
                    continue
                mentions.append(mention)
                if pending is None or seen > _time(pending):
                    pending = iso_z_ms(seen)
            api_cursor = page.cursor
            if reached or not api_cursor or not page.mentions:
                return mentions, rejected, {"newest": pending or state.get("newest") or stop_at}
        return mentions, rejected, {"stop_at": stop_at, "resume": api_cursor, "pending": pending,
                                    "newest": state.get("newest")}

    def _own_posts(self, http: SourceHttp, *, now: datetime) -> tuple[list[OwnPost], list[PayloadInvalid]]:
        did = self._did(http)
        cutoff = now - timedelta(days=self.engagement_days)
        posts: list[OwnPost] = []
        rejected: list[PayloadInvalid] = []
        cursor: str | None = None
        for _ in range(self.options.max_pages):
            query: dict[str, Any] = {"actor": did, "filter": "posts_no_replies", "limit": 100}
            if cursor:
                query["cursor"] = cursor
            found, bad, cursor = parse_author_feed(self._xrpc(http, "GET", "app.bsky.feed.getAuthorFeed",
                                                              params=query).data, did=did)
            recent = [post for post in found if post.created_at >= cutoff]
            posts += recent
            rejected += bad
            if not cursor or len(recent) < len(found) or not found:
                break
        return posts, rejected

    def _get_record(self, http: SourceHttp, did: str, collection: str, rkey: str) -> dict[str, Any] | None:
        try:
            found = self._xrpc(http, "GET", "com.atproto.repo.getRecord",
                               params={"repo": did, "collection": collection, "rkey": rkey}).data
        except RequestRejected as exc:
            if exc.code == "RecordNotFound" or exc.status == 404:
                return None
            raise
        return found if isinstance(found, dict) else None

    def _own_handle(self) -> str | None:
        return self._session.get("handle") if self._session else None

    def _did(self, http: SourceHttp) -> str:
        return self._login(http)["did"]

    def _login(self, http: SourceHttp, *, refresh: bool = False) -> dict[str, str]:
        with self._lock:
            if self._session is not None and not refresh:
                return self._session
            if self._session is not None and refresh:
                try:
                    data = http.post_json(f"{self.base_url}/xrpc/com.atproto.server.refreshSession",
                                          headers={"Authorization": f"Bearer {self._session['refreshJwt']}"}).data
                    self._session = _session(data, self._session)
                    return self._session
                except (RequestRejected, AuthFailed, PayloadInvalid):
                    self._session = None  # the refresh token expired too: log in again below
            data = http.post_json(f"{self.base_url}/xrpc/com.atproto.server.createSession", json={
                "identifier": self.options.identifier, "password": self.options.app_password.get_secret_value()}).data
            self._session = _session(data, None)
            return self._session

    def _xrpc(self, http: SourceHttp, verb: str, method: str, **kwargs: Any) -> HttpResult:
        session = self._login(http)
        url = f"{self.base_url}/xrpc/{method}"
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {session['accessJwt']}"}
            try:
                if verb == "GET":
                    return http.get_json(url, headers=headers, **kwargs)
                return http.post_json(url, headers=headers, **kwargs)
            except RequestRejected as exc:
                # Access tokens live minutes; the PDS says so with 400 ExpiredToken.
                if exc.code != "ExpiredToken" or attempt == 2:
                    raise
                session = self._login(http, refresh=True)
        raise AssertionError("unreachable")


def _session(data: Any, previous: dict[str, str] | None) -> dict[str, str]:
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("accessJwt", "refreshJwt")):
        raise PayloadInvalid(NETWORK, "createSession/refreshSession answered without tokens")  # no item: tokens
    did = data.get("did") if isinstance(data.get("did"), str) else (previous or {}).get("did")
    if not did:
        raise PayloadInvalid(NETWORK, "the session has no DID")
    return {"accessJwt": data["accessJwt"], "refreshJwt": data["refreshJwt"], "did": did,
            "handle": str(data.get("handle") or (previous or {}).get("handle") or "")}


def _walk_state(value: Any) -> dict[str, Any]:
    return {k: v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {}


def _time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _indexed_at(mention: Mention) -> datetime:
    # indexedAt is when the AppView saw the post; it orders listNotifications, unlike the author-set createdAt.
    value = mention.raw.get("indexedAt")
    return _time(value) if isinstance(value, str) else mention.created_at


def iso_z_ms(value: datetime) -> str:
    """`value` as ISO-8601 UTC with milliseconds (Bluesky's own datetime form)."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
