"""YouTube: parse Data API v3 payloads, and `YouTubeConnector`, which polls a channel.

What a poll reads, and what it costs in quota units (10,000 a day per Google Cloud project; reads
cost 1 unit per call, `comments.insert` and `comments.setModerationStatus` 50, `search.list` 100):
1. once, the channel's uploads playlist (`channels.list?part=contentDetails`, 1 unit, then kept in the cursor);
2. the uploads of the last `engagement_days` (`playlistItems.list`, 1 unit per 50 videos, newest first)
   and their statistics (`videos.list?part=snippet,statistics`, 1 unit per 50 videos): views, likes,
   comments (YouTube reports no shares or impressions through this API);
3. the channel's comment threads newest first (`commentThreads.list?allThreadsRelatedToChannelId=
   ..&order=time&pageToken=..`, 1 unit per 100 threads) down to the last one read; when a thread has
   more replies than YouTube inlined, its replies (`comments.list?parentId=..`, 1 unit, at most
   `max_reply_fetches` per poll).
A poll every 5 minutes therefore costs about 3 units, ~900 a day.

Keywords: `commentThreads.list` accepts `searchTerms` only together with a single video or channel
filter, so it cannot search YouTube as a whole; the only API that can is `search.list`, at 100 units
a call and a separate daily cap on calls. It is off by default; `keyword_search: true` runs it at most
every `keyword_search_every_h` hours (4 calls, 400 units a day at the default) and turns the new
videos that match the brand's keywords into "keyword" mentions. @mentions of a channel in other
channels' comments are not exposed by the API at all.

Followed:
- https://developers.google.com/youtube/v3/docs/commentThreads/list (`allThreadsRelatedToChannelId`,
  `order=time`, `pageToken`, `maxResults` <= 100, `textFormat=plainText`) and
  https://developers.google.com/youtube/v3/docs/commentThreads (`replies` may not hold every reply);
- https://developers.google.com/youtube/v3/docs/comments (comment fields), .../comments/list (`parentId`),
  .../comments/insert (`snippet.parentId`, `snippet.textOriginal`; replies only to top-level comments),
  .../comments/setModerationStatus (`heldForReview` or `rejected`; 204 No Content; only for comments on
  the channel's own videos);
- https://developers.google.com/youtube/v3/docs/channels/list (`contentDetails.relatedPlaylists.uploads`),
  .../playlistItems/list, .../videos/list (`statistics.viewCount` etc. are decimal strings),
  .../search/list (`q` with `|` for OR, `type=video`, `order=date`, `publishedAfter`);
- https://cloud.google.com/apis/docs/system-parameters (the `key` system parameter may be sent as the
  `X-Goog-Api-Key` header instead of the query string);
- https://developers.google.com/youtube/v3/determine_quota_cost (costs above; reset at midnight Pacific
  time) and https://developers.google.com/youtube/v3/docs/errors (403 `quotaExceeded`,
  `rateLimitExceeded`, `userRateLimitExceeded`);
- https://developers.google.com/identity/protocols/oauth2/web-server#offline (refreshing an access token).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field, SecretStr, model_validator

from monitors.sources.base import (
    AuthFailed,
    ConfigInvalid,
    Connector,
    ConnectorOptions,
    Mention,
    MentionRef,
    NotSupported,
    OwnPost,
    PayloadInvalid,
    PollResult,
    RateLimited,
    SourceError,
    mention_raw,
    parse_iso_time,
)
from monitors.sources.http import SourceHttp
from monitors.sources.kit import Watermark, guarded, is_fatal, json_body, once, to_count, walk_descending

logger = logging.getLogger(__name__)

NETWORK = "youtube"
DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
PACIFIC = ZoneInfo("America/Los_Angeles")
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


def seconds_until_pacific_midnight(now: datetime) -> float:
    """YouTube quotas reset at midnight Pacific time: how long until the next one."""
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=PACIFIC)
    return max(60.0, (midnight - now).total_seconds())


def error_reasons(body: Any) -> set[str]:
    """The `error.errors[].reason`s of a Google API error body."""
    error = body.get("error") if isinstance(body, dict) else None
    errors = error.get("errors") if isinstance(error, dict) else None
    return {e["reason"] for e in errors or [] if isinstance(e, dict) and isinstance(e.get("reason"), str)} \
        if isinstance(errors, list) else set()


def inspector(source: str, now: Callable[[], datetime]) -> Callable[[httpx.Response], None]:
    """Map YouTube's 403 quota and rate errors to `RateLimited` before `SourceHttp` calls them auth failures."""

    def inspect(response: httpx.Response) -> None:
        if response.status_code not in (400, 403, 429):
            return
        where = f"{response.request.method} {response.request.url.path}"
        body = json_body(response)
        reasons = error_reasons(body)
        if reasons & QUOTA_REASONS:
            raise RateLimited(source, f"{where}: the YouTube daily quota is spent; it resets at midnight Pacific",
                              retry_after=seconds_until_pacific_midnight(now()))
        if reasons & RATE_REASONS:
            raise RateLimited(source, f"{where}: YouTube asked to slow down", retry_after=60.0)
        if response.status_code == 400 and isinstance(body, dict) and body.get("error") == "invalid_grant":
            # Google's token endpoint: the refresh token was revoked or expired.
            raise AuthFailed(source, f"{where}: the refresh token was refused (invalid_grant)", status=400)

    return inspect


# ---------------------------------------------------------------------------------------------
# Parsers


def _comment(item: Any, *, video_id: str | None, parent_id: str | None) -> Mention:
    if not isinstance(item, dict):
        raise PayloadInvalid(NETWORK, f"comment is {type(item).__name__}, not an object", item=item)
    comment_id = item.get("id")
    if not isinstance(comment_id, str) or not comment_id:
        raise PayloadInvalid(NETWORK, "comment has no string id", item=item)
    snippet = item.get("snippet")
    if not isinstance(snippet, dict):
        raise PayloadInvalid(NETWORK, f"comment {comment_id} has no snippet", item=item)
    # textOriginal is only returned to the comment's author; textDisplay (plainText requested) otherwise.
    text = snippet.get("textOriginal", snippet.get("textDisplay", ""))
    if not isinstance(text, str):
        raise PayloadInvalid(NETWORK, f"comment {comment_id} text is not a string", item=item)
    created = parse_iso_time(NETWORK, snippet.get("publishedAt"), item, what=f"comment {comment_id} publishedAt")
    channel = snippet.get("authorChannelId")
    channel_id = channel.get("value") if isinstance(channel, dict) else None
    name = _opt_str(snippet.get("authorDisplayName"))
    parent = _opt_str(snippet.get("parentId")) or parent_id
    video = video_id or _opt_str(snippet.get("videoId"))
    return Mention(
        network=NETWORK, external_id=comment_id, kind="reply" if parent else "comment",
        author_handle=name or _opt_str(channel_id) or "unknown", text=text, created_at=created,
        author_name=name, permalink=f"https://www.youtube.com/watch?v={video}&lc={comment_id}" if video else None,
        parent_id=parent, conversation_id=video, raw=item,
    )


@dataclass(slots=True)
class ThreadsPage:
    """One page of comment threads, flattened: each top-level comment followed by its inlined replies."""

    mentions: list[Mention]
    thread_time: dict[str, datetime] = field(default_factory=dict)  # mention id -> its thread's top comment time
    incomplete: dict[str, str | None] = field(default_factory=dict)  # thread id -> video id, replies not all inlined
    rejected: list[PayloadInvalid] = field(default_factory=list)
    next_token: str | None = None


def parse_threads(payload: Any) -> ThreadsPage:
    """Turn one `commentThreads.list` page into mentions ("comment" for top-level, "reply" for replies).

    `conversation_id` is the video id (the calendar's external id for the video); a reply's
    `parent_id` is its top-level comment. `raw` is the comment resource.

    Raises:
        PayloadInvalid: the page is not an object with an `items` list.
    """
    items = _items(payload)
    page = ThreadsPage(mentions=[], next_token=_opt_str(payload.get("nextPageToken")))
    for thread in items:
        try:
            if not isinstance(thread, dict) or not isinstance(thread.get("snippet"), dict):
                raise PayloadInvalid(NETWORK, "comment thread has no snippet", item=thread)
            snippet = thread["snippet"]
            video = _opt_str(snippet.get("videoId"))
            top = _comment(snippet.get("topLevelComment"), video_id=video, parent_id=None)
        except PayloadInvalid as exc:
            page.rejected.append(exc)
            continue
        page.mentions.append(top)
        page.thread_time[top.external_id] = top.created_at
        replies = thread.get("replies")
        inlined = replies.get("comments") if isinstance(replies, dict) else None
        inlined = inlined if isinstance(inlined, list) else []
        for reply in inlined:
            try:
                mention = _comment(reply, video_id=video, parent_id=top.external_id)
            except PayloadInvalid as exc:
                page.rejected.append(exc)
                continue
            page.mentions.append(mention)
            page.thread_time[mention.external_id] = top.created_at
        total = to_count(snippet.get("totalReplyCount"))
        if total is not None and total > len(inlined):
            page.incomplete[top.external_id] = video
    return page


def parse_replies(payload: Any, *, parent_id: str, video_id: str | None) -> tuple[list[Mention], list[PayloadInvalid]]:
    """Turn one `comments.list?parentId=` page into "reply" mentions.

    Raises:
        PayloadInvalid: the page is not an object with an `items` list.
    """
    mentions: list[Mention] = []
    rejected: list[PayloadInvalid] = []
    for item in _items(payload):
        try:
            mentions.append(_comment(item, video_id=video_id, parent_id=parent_id))
        except PayloadInvalid as exc:
            rejected.append(exc)
    return mentions, rejected


def parse_playlist(payload: Any) -> tuple[list[tuple[str, datetime]], list[PayloadInvalid], str | None]:
    """Turn one `playlistItems.list?part=contentDetails` page into (video id, published at) pairs.

    Raises:
        PayloadInvalid: the page is not an object with an `items` list.
    """
    videos: list[tuple[str, datetime]] = []
    rejected: list[PayloadInvalid] = []
    for item in _items(payload):
        details = item.get("contentDetails") if isinstance(item, dict) else None
        video = details.get("videoId") if isinstance(details, dict) else None
        if not isinstance(video, str) or not video:
            rejected.append(PayloadInvalid(NETWORK, "playlist item has no contentDetails.videoId", item=item))
            continue
        try:
            videos.append((video, parse_iso_time(NETWORK, details.get("videoPublishedAt"), item,
                                                 what=f"video {video[:20]} videoPublishedAt")))
        except PayloadInvalid as exc:
            rejected.append(exc)
    return videos, rejected, _opt_str(payload.get("nextPageToken"))


def parse_videos(payload: Any) -> tuple[list[OwnPost], list[PayloadInvalid]]:
    """Turn a `videos.list?part=snippet,statistics` page into `OwnPost`s (views, likes, comments).

    Raises:
        PayloadInvalid: the page is not an object with an `items` list.
    """
    posts: list[OwnPost] = []
    rejected: list[PayloadInvalid] = []
    for item in _items(payload):
        try:
            video, snippet = _video_snippet(item)
            title = snippet.get("title", "")
            if not isinstance(title, str):
                raise PayloadInvalid(NETWORK, f"video {video} title is not a string", item=item)
            created = parse_iso_time(NETWORK, snippet.get("publishedAt"), item, what=f"video {video} publishedAt")
            stats = item.get("statistics") if isinstance(item.get("statistics"), dict) else {}
            posts.append(OwnPost(network=NETWORK, external_id=video, created_at=created, text=title,
                                 permalink=f"https://www.youtube.com/watch?v={video}", media_type="video",
                                 likes=to_count(stats.get("likeCount")), comments=to_count(stats.get("commentCount")),
                                 views=to_count(stats.get("viewCount")), raw=item))
        except PayloadInvalid as exc:
            rejected.append(exc)
    return posts, rejected


def parse_search(payload: Any, *, exclude_channel: str | None = None) -> tuple[list[Mention], list[PayloadInvalid]]:
    """Turn a `search.list?type=video` page into "keyword" mentions (title, a blank line, description).

    Raises:
        PayloadInvalid: the page is not an object with an `items` list.
    """
    mentions: list[Mention] = []
    rejected: list[PayloadInvalid] = []
    for item in _items(payload):
        try:
            ident = item.get("id") if isinstance(item, dict) else None
            video = ident.get("videoId") if isinstance(ident, dict) else None
            snippet = item.get("snippet") if isinstance(item, dict) else None
            if not isinstance(video, str) or not video or not isinstance(snippet, dict):
                raise PayloadInvalid(NETWORK, "search result has no id.videoId or snippet", item=item)
            title, description = snippet.get("title", ""), snippet.get("description", "")
            if not isinstance(title, str) or not isinstance(description, str):
                raise PayloadInvalid(NETWORK, f"search result {video} title or description is not a string",
                                     item=item)
            channel = _opt_str(snippet.get("channelId"))
            if exclude_channel and channel == exclude_channel:
                continue
            created = parse_iso_time(NETWORK, snippet.get("publishedAt"), item,
                                     what=f"search result {video} publishedAt")
            name = _opt_str(snippet.get("channelTitle"))
            mentions.append(Mention(network=NETWORK, external_id=video, kind="keyword",
                                    author_handle=name or channel or "unknown", author_name=name,
                                    text=f"{title}\n\n{description}".strip(), created_at=created,
                                    permalink=f"https://www.youtube.com/watch?v={video}",
                                    conversation_id=video, raw=item))
        except PayloadInvalid as exc:
            rejected.append(exc)
    return mentions, rejected


def _video_snippet(item: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise PayloadInvalid(NETWORK, "video has no string id", item=item)
    snippet = item.get("snippet")
    if not isinstance(snippet, dict):
        raise PayloadInvalid(NETWORK, f"video {item['id'][:20]} has no snippet", item=item)
    return item["id"], snippet


def _items(payload: Any) -> list[Any]:
    if not isinstance(payload, dict):
        raise PayloadInvalid(NETWORK, f"page is {type(payload).__name__}, not an object", item=payload)
    items = payload.get("items", [])
    if not isinstance(items, list):
        raise PayloadInvalid(NETWORK, "items is not a list", item=payload)
    return items


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# ---------------------------------------------------------------------------------------------
# The connector


class YouTubeOptions(ConnectorOptions):
    channel_id: str = Field(pattern=r"^UC[A-Za-z0-9_-]{22}$")
    # Reading public comments needs only an API key; replying, hiding and held comments need OAuth.
    api_key: SecretStr | None = None
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    token_url: str = "https://oauth2.googleapis.com/token"
    max_pages: int = Field(default=5, ge=1, le=50)
    max_reply_fetches: int = Field(default=20, ge=0, le=200)
    hide_status: Literal["heldForReview", "rejected"] = "heldForReview"
    keyword_search: bool = False
    keyword_search_every_h: int = Field(default=6, ge=1, le=168)

    @model_validator(mode="after")
    def _some_credential(self) -> YouTubeOptions:
        refresh = [self.refresh_token, self.client_id, self.client_secret]
        if any(refresh) and not all(refresh):
            raise ValueError("refresh_token, client_id and client_secret go together; set all three")
        if not (self.api_key or self.access_token or all(refresh)):
            raise ValueError("set api_key (reading only) or OAuth credentials (refresh_token, client_id, "
                             "client_secret) so Veille can read the channel")
        return self


class YouTubeConnector(Connector):
    """Polls one YouTube channel: upload statistics, comment threads and replies, optional keyword search.

    Cursor (JSON): `{"uploads": playlist id, "threads": {"wm": ..., "pending": {"token", "top"}},
    "search": {"at": last search time}}`. Threads are read newest first down to the watermark; when
    `max_pages` runs out first, the next page token is kept and the next poll resumes from it.
    Known limit: threads come ordered by their top-level comment, so a new reply on a thread older
    than the watermark is seen only if YouTube lists that thread again on the pages read.
    """

    network: ClassVar[str] = NETWORK
    Options: ClassVar[type[YouTubeOptions]] = YouTubeOptions
    default_base_url: ClassVar[str] = DEFAULT_BASE_URL
    options: YouTubeOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Access tokens from a refresh live in memory only (an hour), never in the cursor or the logs.
        self._token: str | None = self.options.access_token.get_secret_value() if self.options.access_token else None
        self._token_expires: datetime | None = None

    # -- HTTP ---------------------------------------------------------------------------------

    def _oauth_possible(self) -> bool:
        return bool(self._token or self.options.refresh_token)

    def _refresh(self, http: SourceHttp, now: datetime) -> None:
        opts = self.options
        assert opts.refresh_token and opts.client_id and opts.client_secret
        answer = http.post_json(opts.token_url, data={
            "grant_type": "refresh_token", "refresh_token": opts.refresh_token.get_secret_value(),
            "client_id": opts.client_id, "client_secret": opts.client_secret.get_secret_value()}).data
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthFailed(self.name, "the token endpoint returned no access_token", status=200)
        expires = answer.get("expires_in") if isinstance(answer, dict) else None
        lifetime = expires if isinstance(expires, int) and not isinstance(expires, bool) and expires > 0 else 3600
        self._token, self._token_expires = token, now + timedelta(seconds=lifetime - 60)

    def _call(self, http: SourceHttp, method: str, path: str, params: dict[str, Any], *, now: datetime,
              json: Any = None, oauth: bool = False, retry: bool = True) -> Any:
        """One API call: OAuth when configured (refreshing an expired token once), else the API key."""
        view = guarded(http, inspector(self.name, lambda: now))
        if not retry:
            view = once(view)
        url = f"{self.base_url}/{path}"
        for attempt in (0, 1):
            if self.options.refresh_token and (self._token is None or (
                    self._token_expires is not None and now >= self._token_expires)):
                self._refresh(view, now)
            headers: dict[str, str] = {}
            query = dict(params)
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            elif oauth:
                raise ConfigInvalid(self.name, "replying and hiding need OAuth credentials (refresh_token, "
                                    "client_id, client_secret), not only an api_key")
            else:
                assert self.options.api_key is not None
                # Google APIs take the key as a header too: it stays out of URLs (and any log of them).
                headers["X-Goog-Api-Key"] = self.options.api_key.get_secret_value()
            try:
                if method == "GET":
                    return view.get_json(url, params=query, headers=headers).data
                return view.post_json(url, params=query, headers=headers, json=json).data
            except AuthFailed as exc:
                # An access token expires after an hour: refresh once, then give up.
                if exc.status != 401 or attempt or not self.options.refresh_token:
                    raise
                self._token = None
        raise AssertionError("unreachable")

    # -- Polling ------------------------------------------------------------------------------

    def poll(self, cursor: dict[str, Any], *, http: SourceHttp, now: datetime) -> PollResult:
        """Refresh the recent uploads' statistics, read new comment threads, and search keywords when due."""
        result = PollResult(mentions=[], cursor={})
        uploads = cursor.get("uploads") if isinstance(cursor.get("uploads"), str) else None
        uploads = uploads or self._uploads_playlist(http, now)
        result.cursor["uploads"] = uploads
        result.own_posts.extend(self._recent_videos(http, uploads, now, result))
        threads = cursor.get("threads") if isinstance(cursor.get("threads"), dict) else None
        result.cursor["threads"] = self._read_threads(http, threads, now, result)
        search = cursor.get("search") if isinstance(cursor.get("search"), dict) else None
        result.cursor["search"] = self._search(http, search, now, result) if self.options.keyword_search else search
        return result

    def _uploads_playlist(self, http: SourceHttp, now: datetime) -> str:
        answer = self._call(http, "GET", "channels", {"part": "contentDetails", "id": self.options.channel_id},
                            now=now)
        items = answer.get("items") if isinstance(answer, dict) else None
        try:
            uploads = items[0]["contentDetails"]["relatedPlaylists"]["uploads"]  # type: ignore[index]
        except (TypeError, KeyError, IndexError):
            uploads = None
        if not isinstance(uploads, str) or not uploads:
            raise ConfigInvalid(self.name, f"channel {self.options.channel_id} was not found or has no uploads "
                                "playlist; check channel_id")
        return uploads

    def _recent_videos(self, http: SourceHttp, uploads: str, now: datetime, result: PollResult) -> list[OwnPost]:
        if self.engagement_days <= 0:
            return []
        since = now - timedelta(days=self.engagement_days)
        ids: list[str] = []
        token: str | None = None
        for _ in range(self.options.max_pages):
            params = {"part": "contentDetails", "playlistId": uploads, "maxResults": 50}
            if token:
                params["pageToken"] = token
            videos, rejected, token = parse_playlist(self._call(http, "GET", "playlistItems", params, now=now))
            result.rejected.extend(rejected)
            ids.extend(video for video, published in videos if published >= since)
            if token is None or any(published < since for _video, published in videos):
                break
        posts: list[OwnPost] = []
        for i in range(0, len(ids), 50):
            found, rejected = parse_videos(self._call(http, "GET", "videos", {
                "part": "snippet,statistics", "id": ",".join(ids[i:i + 50]), "maxResults": 50}, now=now))
            posts.extend(found)
            result.rejected.extend(rejected)
        return posts

    def _read_threads(self, http: SourceHttp, state: dict[str, Any] | None, now: datetime,
                      result: PollResult) -> dict[str, Any]:
        thread_time: dict[str, datetime] = {}
        incomplete: dict[str, str | None] = {}

        def fetch(token: str | None) -> tuple[list[Mention], str | None]:
            params: dict[str, Any] = {"part": "snippet,replies", "order": "time", "maxResults": 100,
                                      "allThreadsRelatedToChannelId": self.options.channel_id,
                                      "textFormat": "plainText"}
            if token:
                params["pageToken"] = token
            page = parse_threads(self._call(http, "GET", "commentThreads", params, now=now))
            thread_time.update(page.thread_time)
            incomplete.update(page.incomplete)
            result.rejected.extend(page.rejected)
            return page.mentions, page.next_token

        wm = Watermark.from_json((state or {}).get("wm"), default=now - self.backfill)
        walk = walk_descending(fetch, state=state, default=now - self.backfill, max_pages=self.options.max_pages,
                               when=lambda m: m.created_at, ident=lambda m: m.external_id,
                               stop_when=lambda m: thread_time.get(m.external_id, m.created_at))
        found = {m.external_id: m for m in walk.items}
        pending = walk.state.get("pending")
        # The newest item read so far: the next watermark (or, mid-backlog, the backlog's provisional top).
        top = Watermark.from_json(pending["top"] if pending else walk.state.get("wm"), default=wm.at)
        for thread_id, video in list(incomplete.items())[: self.options.max_reply_fetches]:
            try:
                replies, rejected = parse_replies(self._call(http, "GET", "comments", {
                    "part": "snippet", "parentId": thread_id, "maxResults": 100, "textFormat": "plainText"}, now=now),
                    parent_id=thread_id, video_id=video)
            except SourceError as exc:
                if is_fatal(exc):
                    raise
                logger.warning("source %s: skipped the replies of thread %s: %s", self.name, thread_id, exc.message)
                continue
            result.rejected.extend(rejected)
            for reply in replies:
                if wm.is_new(reply.created_at, reply.external_id):
                    found.setdefault(reply.external_id, reply)
            top = top.advance((r.created_at, r.external_id) for r in replies)
        if pending:
            pending["top"] = top.to_json()
        else:
            walk.state["wm"] = top.to_json()
        result.mentions.extend(m for m in found.values() if not self._is_own(m))
        return walk.state

    def _is_own(self, mention: Mention) -> bool:
        snippet = mention.raw.get("snippet") if isinstance(mention.raw, dict) else None
        channel = snippet.get("authorChannelId") if isinstance(snippet, dict) else None
        return isinstance(channel, dict) and channel.get("value") == self.options.channel_id

    def _search(self, http: SourceHttp, state: dict[str, Any] | None, now: datetime,
                result: PollResult) -> dict[str, Any] | None:
        if not self.keywords:
            return state
        last = Watermark.from_json({"at": (state or {}).get("at")}, default=now - self.backfill).at
        if state and now - last < timedelta(hours=self.options.keyword_search_every_h):
            return state
        # `|` is search.list's OR; quoting keeps a multi-word keyword together.
        query = "|".join(f'"{k}"' if " " in k else k for k in self.keywords)[:500]
        answer = self._call(http, "GET", "search", {
            "part": "snippet", "q": query, "type": "video", "order": "date", "maxResults": 50,
            "publishedAfter": last.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}, now=now)
        mentions, rejected = parse_search(answer, exclude_channel=self.options.channel_id)
        result.mentions.extend(mentions)
        result.rejected.extend(rejected)
        return {"at": now.isoformat()}

    # -- Actions ------------------------------------------------------------------------------

    def reply(self, mention: MentionRef, text: str, *, http: SourceHttp, idempotency_key: str) -> str:
        """Reply `text` as the channel (`comments.insert`, 50 units); return the reply's id.

        Idempotent without storing the key on YouTube: the thread's replies are listed first
        (`comments.list`, 1 unit) and a reply by this channel with the very same text is returned
        instead of posting again; the insert is never retried blindly. YouTube replies attach to
        top-level comments only, so a reply to a reply goes to its thread.
        """
        now = datetime.now(UTC)
        ref = _ref(mention)
        if ref["kind"] == "keyword":
            raise NotSupported(self.name, "Veille replies to comments, not to videos found by keyword search")
        parent = ref["parent"] or ref["id"]
        existing, _rejected = parse_replies(self._call(http, "GET", "comments", {
            "part": "snippet", "parentId": parent, "maxResults": 100, "textFormat": "plainText"}, now=now, oauth=True),
            parent_id=parent, video_id=None)
        for item in existing:
            if self._is_own(item) and item.text == text:
                logger.info("source %s: reply %s already exists; not posting again", self.name, idempotency_key)
                return item.external_id
        answer = self._call(http, "POST", "comments", {"part": "snippet"}, now=now, oauth=True, retry=False,
                            json={"snippet": {"parentId": parent, "textOriginal": text}})
        new_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(new_id, str):
            raise PayloadInvalid(NETWORK, "the reply was sent but YouTube returned no id", item=answer)
        return new_id

    def hide(self, mention: MentionRef, *, http: SourceHttp, idempotency_key: str) -> None:
        """Hold a comment for review (or reject it, per `hide_status`) with `comments.setModerationStatus` (50 units).

        Idempotent by nature: setting the same status twice leaves it as it is.
        """
        ref = _ref(mention)
        if ref["kind"] == "keyword":
            raise NotSupported(self.name, "a video found by keyword search is not the channel's to hide")
        self._call(http, "POST", "comments/setModerationStatus",
                   {"id": ref["id"], "moderationStatus": self.options.hide_status}, now=datetime.now(UTC), oauth=True)


def _ref(mention: MentionRef) -> dict[str, Any]:
    if isinstance(mention, Mention):
        return {"id": mention.external_id, "parent": mention.parent_id, "kind": mention.kind}
    raw = mention_raw(mention)
    if raw.get("kind") == "youtube#searchResult":
        return {"id": "", "parent": None, "kind": "keyword"}
    snippet = raw.get("snippet") if isinstance(raw.get("snippet"), dict) else {}
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise PayloadInvalid(NETWORK, "the mention's raw item has no id", item=raw)
    return {"id": item_id, "parent": _opt_str(snippet.get("parentId")), "kind": "comment"}
