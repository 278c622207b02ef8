"""LinkedIn Pages: parse Community Management API payloads, and `LinkedInConnector`, which polls an organization.

What a poll reads (every call with `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0`):
1. the organization's posts of the last `max(engagement_days, backfill)` days, newest first:
   `GET /rest/posts?q=author&author={org-urn}&sortBy=CREATED&count=..&start=..`;
2. their lifetime share statistics (likes, comments, shares, impressions, clicks):
   `GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={org-urn}
   &shares=List(..)&ugcPosts=List(..)` (needs `rw_organization_admin`; `share_statistics: false` skips it);
3. the comments on each post whose comment count moved, `GET /rest/socialActions/{post-urn}/comments`,
   and the replies of each comment whose own count moved, `GET /rest/socialActions/{comment-urn}/comments`;
4. @mentions of the organization in members' posts (`mentions: true`, needs `rw_organization_admin`):
   `GET /rest/organizationalEntityNotifications?q=criteria&actions=List(SHARE_MENTION)
   &organizationalEntity={org-urn}&timeRange=(start:{ms},end:{ms})&start=..&count=..`, whose elements
   name the mentioning post (`generatedActivity`, else `sourcePost`) but carry no text; the posts are
   then read in batches, `GET /rest/posts?ids=List({urn},{urn},..)`, and a comment URN (`COMMENT_MENTION`,
   opt-in through `mention_actions`) is read with `GET /rest/socialActions/{post-urn}/comments/{comment-id}`.
The organization's own comments and posts are read (they move watermarks) but are not mentions.

Followed:
- https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
  ("All APIs require the request header LinkedIn-Version: {Version in YYYYMM format}" and
  "X-Restli-Protocol-Version: 2.0.0"; find posts by author; Post fields `id`, `author`, `commentary`,
  `createdAt`, `publishedAt`, `lifecycleState`, `content`);
- https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/comments-api
  (Get Comments on Shares / on Comments, Create a Comment; `w_organization_social` allows to
  "Comment on behalf of an organization", so replies are supported, with `actor` the organization URN;
  comment fields `actor`, `commentUrn`, `created.time`, `message.text`, `object`, `parentComment`,
  `commentsSummary`);
- https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/share-statistics
  (`totalShareStatistics{likeCount, commentCount, shareCount, impressionCount, clickCount, ...}`,
  organic only, rolling 12 months);
- https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/organization-social-action-notifications
  (Rest.li 2.0: every URN in a URL is percent-encoded, `urn%3Ali%3Aorganization%3A12345`; the
  `organizationalEntityNotifications` criteria finder with `organizationalEntity`, `actions=List(..)` and
  `timeRange=(start:..,end:..)` in epoch milliseconds; notifications are kept 60 days; an element has
  `notificationId`, `organizationalEntity`, `action`, `sourcePost`, `generatedActivity`, `lastModifiedAt`;
  the documented actions are LIKE, COMMENT, SHARE, SHARE_MENTION, ADMIN_COMMENT, COMMENT_EDIT, COMMENT_DELETE);
- https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
  ("Batch Get Posts": `GET /rest/posts?ids=List(..)`, answered as Rest.li batch results
  `{"results": {urn: post}, "statuses": {urn: status}, "errors": {urn: {status, message}}}`) and the
  Comments API's "Get a Comment".
Not done: LinkedIn offers no way for a Page to hide a comment (the Comments API can only delete the
organization's own comments), so `hide` raises `NotSupported`. `COMMENT_MENTION` (the organization tagged in a
member's comment) is not in the documented action list, so it is only requested when `mention_actions`
names it; its elements are read like any other when LinkedIn sends them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import quote

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
    RequestRejected,
    SourceError,
    mention_raw,
    opt_str,
)
from monitors.sources.http import SourceHttp
from monitors.sources.kit import EPOCH, PollWindow, Watermark, epoch_ms, is_fatal, json_body, refresh_comments

logger = logging.getLogger(__name__)

NETWORK = "linkedin"
DEFAULT_BASE_URL = "https://api.linkedin.com/rest"
POSTS_PER_PAGE = 50
COMMENTS_PER_PAGE = 100
STATS_BATCH = 20
NOTIFICATIONS_PER_PAGE = 50
POSTS_BATCH = 20  # ids per batch GET: keeps the URL short, and one refused batch costs few single reads
NOTIFICATION_RETENTION = timedelta(days=60)
# Re-read this much before the last range's end: a notification may be indexed a little after its time.
MENTION_OVERLAP_MS = 10 * 60 * 1000
MAX_SEEN_MENTIONS = 500
POST_URN = re.compile(r"^urn:li:(share|ugcPost):[0-9]{1,30}$")
COMMENT_URN = re.compile(r"^urn:li:comment:\((urn:li:[A-Za-z]+:[0-9]{1,30}),([0-9]{1,30})\)$")
MentionAction = Literal["SHARE_MENTION", "COMMENT_MENTION"]


def enc(urn: str) -> str:
    """Percent-encode a URN for a Rest.li 2.0 URL (every reserved character, `:` included)."""
    return quote(urn, safe="")


def parse_comments(payload: Any, *, post_urn: str | None = None) -> Page:
    """Turn one page of `socialActions/{urn}/comments` into mentions; quarantine malformed comments.

    - `external_id` is the `commentUrn` (else `$URN`): replies and the API address comments by it.
    - `kind` is "reply" when `parentComment` is set (it becomes `parent_id`), else "comment".
    - `conversation_id` is `post_urn` (the share or ugcPost the calendar knows), else the comment's `object`.
    - `author_handle` is the `actor` URN: LinkedIn gives no commenter name without a profile lookup.
    - `permalink` opens the post at the comment.
    - `cursor` is the `start` of the next page, or None on the last page.

    Raises:
        PayloadInvalid: the page is not an object with an `elements` list.
    """
    elements = _elements(payload)
    mentions: list[Mention] = []
    rejected: list[PayloadInvalid] = []
    for item in elements:
        try:
            mentions.append(_parse_comment(item, post_urn))
        except PayloadInvalid as exc:
            rejected.append(exc)
    return Page(mentions=mentions, cursor=_next_start(payload, len(elements)), rejected=rejected)


def _parse_comment(item: Any, post_urn: str | None) -> Mention:
    if not isinstance(item, dict):
        raise PayloadInvalid(NETWORK, f"comment is {type(item).__name__}, not an object", item=item)
    urn = opt_str(item.get("commentUrn")) or opt_str(item.get("$URN"))
    if urn is None or not urn.startswith("urn:li:comment:"):
        raise PayloadInvalid(NETWORK, "comment has no commentUrn", item=item)
    message = item.get("message")
    text = message.get("text", "") if isinstance(message, dict) else ""
    if not isinstance(text, str):
        raise PayloadInvalid(NETWORK, f"comment {urn[:80]} message.text is not a string", item=item)
    created = item.get("created")
    created_at = epoch_ms(NETWORK, created.get("time") if isinstance(created, dict) else None, item,
                          what=f"comment {urn[:80]} created.time")
    actor = opt_str(item.get("actor")) or "unknown"
    parent = opt_str(item.get("parentComment"))
    conversation = post_urn or opt_str(item.get("object"))
    return Mention(
        network=NETWORK, external_id=urn, kind="reply" if parent else "comment", author_handle=actor, text=text,
        created_at=created_at,
        permalink=f"https://www.linkedin.com/feed/update/{conversation}/?commentUrn={enc(urn)}" if conversation
        else None,
        parent_id=parent, conversation_id=conversation, raw=item,
    )


def reply_count(item: dict[str, Any]) -> int | None:
    """How many replies a comment has (`commentsSummary.aggregatedTotalComments`), when LinkedIn says."""
    summary = item.get("commentsSummary")
    for key in ("aggregatedTotalComments", "totalFirstLevelComments"):
        value = summary.get(key) if isinstance(summary, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


@dataclass(slots=True)
class PostsPage:
    posts: list[OwnPost]
    rejected: list[PayloadInvalid] = field(default_factory=list)
    next_start: int | None = None


def parse_posts(payload: Any) -> PostsPage:
    """Turn one page of `/rest/posts?q=author` into `OwnPost`s (engagement is filled in by `merge_statistics`).

    Only `PUBLISHED` posts are kept (drafts and processing posts are skipped, not rejected).

    Raises:
        PayloadInvalid: the page is not an object with an `elements` list.
    """
    elements = _elements(payload)
    result = PostsPage(posts=[], next_start=_next_start(payload, len(elements)))
    for item in elements:
        try:
            if not isinstance(item, dict):
                raise PayloadInvalid(NETWORK, f"post is {type(item).__name__}, not an object", item=item)
            urn = opt_str(item.get("id"))
            if urn is None or not urn.startswith("urn:li:"):
                raise PayloadInvalid(NETWORK, "post has no URN id", item=item)
            if item.get("lifecycleState", "PUBLISHED") != "PUBLISHED":
                continue
            text = item.get("commentary", "")
            if not isinstance(text, str):
                raise PayloadInvalid(NETWORK, f"post {urn[:80]} commentary is not a string", item=item)
            created = epoch_ms(NETWORK, item.get("publishedAt", item.get("createdAt")), item,
                               what=f"post {urn[:80]} publishedAt")
            result.posts.append(OwnPost(network=NETWORK, external_id=urn, created_at=created, text=text,
                                        permalink=f"https://www.linkedin.com/feed/update/{urn}/",
                                        media_type=_media_type(item.get("content")), raw=item))
        except PayloadInvalid as exc:
            result.rejected.append(exc)
    return result


def _media_type(content: Any) -> str:
    if not isinstance(content, dict) or not content:
        return "status"
    if "multiImage" in content or "carousel" in content:
        return "carousel"
    if "article" in content:
        return "link"
    media = content.get("media")
    media_id = media.get("id") if isinstance(media, dict) else None
    if isinstance(media_id, str) and media_id.startswith("urn:li:video:"):
        return "video"
    return "image" if isinstance(media_id, str) else "status"


def parse_statistics(payload: Any) -> tuple[dict[str, dict[str, int | None]], list[PayloadInvalid]]:
    """Read `organizationalEntityShareStatistics` elements into {post urn: {likes, comments, shares, impressions}}.

    Raises:
        PayloadInvalid: the page is not an object with an `elements` list.
    """
    stats: dict[str, dict[str, int | None]] = {}
    rejected: list[PayloadInvalid] = []
    for item in _elements(payload):
        urn = (opt_str(item.get("share")) or opt_str(item.get("ugcPost"))) if isinstance(item, dict) else None
        totals = item.get("totalShareStatistics") if isinstance(item, dict) else None
        if urn is None or not isinstance(totals, dict):
            rejected.append(PayloadInvalid(NETWORK, "statistics element has no share/ugcPost or totals", item=item))
            continue
        stats[urn] = {"likes": _count(totals.get("likeCount")), "comments": _count(totals.get("commentCount")),
                      "shares": _count(totals.get("shareCount")), "impressions": _count(totals.get("impressionCount"))}
    return stats, rejected


def merge_statistics(post: OwnPost, stats: dict[str, int | None] | None) -> OwnPost:
    if not stats:
        return post
    return OwnPost(network=post.network, external_id=post.external_id, created_at=post.created_at, text=post.text,
                   permalink=post.permalink, media_type=post.media_type, likes=stats["likes"],
                   comments=stats["comments"], shares=stats["shares"], impressions=stats["impressions"],
                   raw=post.raw)


def _elements(payload: Any) -> list[Any]:
    if not isinstance(payload, dict):
        raise PayloadInvalid(NETWORK, f"page is {type(payload).__name__}, not an object", item=payload)
    elements = payload.get("elements")
    if not isinstance(elements, list):
        raise PayloadInvalid(NETWORK, "elements is missing or not a list", item=payload)
    return elements


def _next_start(payload: dict[str, Any], received: int) -> int | None:
    """The `start` of the next page: Rest.li pages by start/count; a short page, or a `total` reached, is the last."""
    paging = payload.get("paging")
    if not isinstance(paging, dict) or received == 0:
        return None
    start, count, total = _count(paging.get("start")), _count(paging.get("count")), _count(paging.get("total"))
    if start is None or count is None or received < count or (total is not None and start + received >= total):
        return None
    return start + received


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


# ---------------------------------------------------------------------------------------------
# @mentions: organization notifications, then the posts and comments they name


@dataclass(frozen=True, slots=True)
class MentionNotice:
    """One `SHARE_MENTION` / `COMMENT_MENTION` notification: what to read, and when LinkedIn noted it."""

    action: str
    target: str  # the mentioning post (urn:li:share / urn:li:ugcPost) or comment (urn:li:comment:(..))
    source_post: str | None
    at_ms: int
    raw: dict[str, Any]


@dataclass(slots=True)
class NoticesPage:
    notices: list[MentionNotice]
    rejected: list[PayloadInvalid] = field(default_factory=list)
    next_start: int | None = None


def parse_notifications(payload: Any) -> NoticesPage:
    """Turn one page of `organizationalEntityNotifications?q=criteria` into the mentions it announces.

    The target is `generatedActivity` when it is a post or comment URN, else `sourcePost`; `lastModifiedAt`
    (epoch ms) is required, it moves the cursor. Elements of other actions are skipped; an element without
    a readable target or time is set aside.

    Raises:
        PayloadInvalid: the page is not an object with an `elements` list.
    """
    elements = _elements(payload)
    page = NoticesPage(notices=[], next_start=_next_start(payload, len(elements)))
    for item in elements:
        if not isinstance(item, dict):
            page.rejected.append(PayloadInvalid(NETWORK, f"notification is {type(item).__name__}, not an object",
                                                item=item))
            continue
        action = item.get("action")
        if action not in ("SHARE_MENTION", "COMMENT_MENTION"):
            continue
        source_post = opt_str(item.get("sourcePost"))
        target = next((u for u in (opt_str(item.get("generatedActivity")), source_post)
                       if u and (POST_URN.match(u) or COMMENT_URN.match(u))), None)
        at = _count(item.get("lastModifiedAt"))
        if target is None:
            page.rejected.append(PayloadInvalid(NETWORK, f"{action} notification names no post or comment URN",
                                                item=item))
        elif at is None or at > 32_503_680_000_000:
            page.rejected.append(PayloadInvalid(NETWORK, f"{action} notification has no lastModifiedAt", item=item))
        else:
            page.notices.append(MentionNotice(str(action), target, source_post, at, item))
    return page


@dataclass(slots=True)
class PostsBatch:
    """A Rest.li batch GET of posts: the posts found, and why each other one could not be read."""

    posts: dict[str, dict[str, Any]]
    errors: dict[str, str]


def parse_posts_batch(payload: Any) -> PostsBatch:
    """Read `GET /rest/posts?ids=List(..)`: `results` by URN, and `errors` by URN (`{status, message}`).

    Raises:
        PayloadInvalid: the answer has no `results` object.
    """
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, dict):
        raise PayloadInvalid(NETWORK, "batch answer has no results object", item=payload)
    errors = payload.get("errors")
    return PostsBatch(
        posts={str(k): v for k, v in results.items() if isinstance(v, dict)},
        errors={str(k): _error_text(v) for k, v in errors.items()} if isinstance(errors, dict) else {})


def _error_text(error: Any) -> str:
    status = error.get("status") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    text = str(status) if isinstance(status, int) and not isinstance(status, bool) else "error"
    # The message is cut short: it is LinkedIn's prose, kept for the admins, not for parsing.
    return f"{text}: {message[:160]}" if isinstance(message, str) and message else text


def parse_post_mention(payload: Any) -> Mention | None:
    """Turn a member's post that mentions the organization (a Posts API `Post`) into a "mention".

    `author_handle` is the `author` URN (a name needs a profile lookup LinkedIn restricts); `text` is
    `commentary`; the post is its own conversation. A post that is not `PUBLISHED` (deleted, processing)
    gives None.

    Raises:
        PayloadInvalid: the post has no URN id, no time, or a commentary that is not text.
    """
    if not isinstance(payload, dict):
        raise PayloadInvalid(NETWORK, f"post is {type(payload).__name__}, not an object", item=payload)
    urn = opt_str(payload.get("id"))
    if urn is None or not POST_URN.match(urn):
        raise PayloadInvalid(NETWORK, "mentioning post has no share or ugcPost id", item=payload)
    if payload.get("lifecycleState", "PUBLISHED") != "PUBLISHED":
        return None
    text = payload.get("commentary", "")
    if not isinstance(text, str):
        raise PayloadInvalid(NETWORK, f"post {urn} commentary is not a string", item=payload)
    created = epoch_ms(NETWORK, payload.get("publishedAt", payload.get("createdAt")), payload,
                       what=f"post {urn} publishedAt")
    return Mention(network=NETWORK, external_id=urn, kind="mention",
                   author_handle=opt_str(payload.get("author")) or "unknown", text=text, created_at=created,
                   permalink=f"https://www.linkedin.com/feed/update/{urn}/", conversation_id=urn, raw=payload)


def parse_comment_mention(payload: Any, *, post_urn: str | None = None) -> Mention:
    """Turn a comment that mentions the organization (Comments API "Get a Comment") into a "mention".

    Raises:
        PayloadInvalid: the comment has no URN, no `created.time`, or a message that is not text.
    """
    return replace(_parse_comment(payload, post_urn), kind="mention")


# ---------------------------------------------------------------------------------------------
# The connector


class LinkedInOptions(ConnectorOptions):
    organization_id: str = Field(pattern=r"^[0-9]{1,20}$")
    access_token: SecretStr
    # Each LinkedIn-Version lives about a year: keep this within LinkedIn's supported versions.
    linkedin_version: str = Field(default="202610", pattern=r"^20[0-9]{2}(0[1-9]|1[0-2])$")
    share_statistics: bool = True
    max_pages: int = Field(default=10, ge=1, le=100)
    # @mentions in members' posts (Organization Social Action Notifications; needs rw_organization_admin).
    mentions: bool = True
    mention_actions: tuple[MentionAction, ...] = Field(default=("SHARE_MENTION",), min_length=1)


class LinkedInConnector(Connector):
    """Polls one LinkedIn organization: its posts, their statistics, the comments and replies on them, @mentions.

    Cursor (JSON): `{"posts": {post_urn: {"wm": watermark, "count": comment count when last read,
    "threads": {comment_urn: reply count when last read}}}, "mentions": {"since": ms, "seen": {urn: ms},
    "pending": {"end": ms, "start": n}}}`; posts leave it when they leave the window.
    Comments are filtered by watermark rather than by position (the order of the comments finder
    is not documented), so nothing is yielded twice. Mentions are read by time range: each poll asks
    from `since` (less a 10-minute overlap for late notifications; `seen` drops what the overlap
    repeats) to now, and a range the page budget cannot finish resumes at its next page (`pending`).
    """

    network: ClassVar[str] = NETWORK
    Options: ClassVar[type[LinkedInOptions]] = LinkedInOptions
    default_base_url: ClassVar[str] = DEFAULT_BASE_URL
    options: LinkedInOptions

    @property
    def org_urn(self) -> str:
        return f"urn:li:organization:{self.options.organization_id}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.options.access_token.get_secret_value()}",
                "LinkedIn-Version": self.options.linkedin_version, "X-Restli-Protocol-Version": "2.0.0"}

    def _get(self, http: SourceHttp, path_and_query: str) -> Any:
        # The query is built by hand: Rest.li wants `List(...)` and `(...)` kept, and URNs encoded inside.
        return http.get_json(f"{self.base_url}/{path_and_query}", headers=self._headers()).data

    def poll(self, cursor: dict[str, Any], *, http: SourceHttp, now: datetime) -> PollResult:
        """Read recent posts with their statistics, then new comments and replies where counts moved."""
        window = PollWindow.of(cursor, now=now, backfill=self.backfill, engagement_days=self.engagement_days)
        result = PollResult(mentions=[], cursor={})

        posts = self._read_posts(http, window.since, result)
        stats = self._read_statistics(http, [p.external_id for p in posts], result) \
            if self.options.share_statistics and posts else {}
        posts = [merge_statistics(post, stats.get(post.external_id)) for post in posts]
        result.own_posts.extend(p for p in posts if p.created_at >= window.engagement_start)
        result.cursor["posts"] = refresh_comments(
            posts, cursor.get("posts"), window, count=lambda post: post.comments,
            read=lambda post, state, default: self._read_comments(http, post, state, default, result))
        if self.options.mentions:
            result.cursor["mentions"] = self._read_mentions(http, cursor.get("mentions"), now, result)
        return result

    # -- @mentions ------------------------------------------------------------------------------

    def _read_mentions(self, http: SourceHttp, state: Any, now: datetime, result: PollResult) -> dict[str, Any]:
        """Read the mention notifications of one time range, then the posts and comments they name."""
        state = state if isinstance(state, dict) else {}
        now_ms = _ms(now)
        oldest = _ms(now - NOTIFICATION_RETENTION)
        since = _count(state.get("since"))
        since = max(oldest, min(since if since is not None else _ms(now - self.backfill), now_ms))
        raw_seen = state.get("seen")
        seen = {k: v for k, v in raw_seen.items() if isinstance(k, str) and _count(v) is not None} \
            if isinstance(raw_seen, dict) else {}
        pending = state.get("pending") if isinstance(state.get("pending"), dict) else {}
        end = _count(pending.get("end"))
        start = _count(pending.get("start")) if end is not None else None
        end, start = (end, start or 0) if end is not None and since < end <= now_ms else (now_ms, 0)

        finder = (f"organizationalEntityNotifications?q=criteria&organizationalEntity={enc(self.org_urn)}"
                  f"&actions=List({','.join(self.options.mention_actions)})"
                  f"&timeRange=(start:{max(oldest, since - MENTION_OVERLAP_MS)},end:{end})")
        notices: dict[str, MentionNotice] = {}
        next_start: int | None = start
        try:
            for _ in range(self.options.max_pages):
                page = parse_notifications(self._get(http.inspecting(_notifications_refused(self.name)),
                                                     f"{finder}&start={next_start}&count={NOTIFICATIONS_PER_PAGE}"))
                result.rejected.extend(page.rejected)
                for notice in page.notices:
                    if notice.target not in seen:
                        notices.setdefault(notice.target, notice)
                next_start = page.next_start
                if next_start is None:
                    break
        except PayloadInvalid as exc:
            # A page that is not JSON or has no elements: set aside; the range is read again next time.
            result.rejected.append(exc)
            return state
        except SourceError as exc:
            if is_fatal(exc):
                raise
            # Refused as a request (a version or parameter LinkedIn no longer takes): shown to the admins
            # once, and the range is read again next time.
            result.rejected.append(PayloadInvalid(NETWORK, f"@mentions could not be read: {exc.message}",
                                                  item={"finder": "organizationalEntityNotifications"}))
            return state
        self._fetch_mentions(http, list(notices.values()), result)
        for notice in notices.values():
            seen[notice.target] = notice.at_ms
        if next_start is not None:
            # Page budget spent: resume this very range at its next page; `since` stays until it is done.
            return {"since": since, "seen": _newest(seen), "pending": {"end": end, "start": next_start}}
        return {"since": end, "seen": _newest({k: v for k, v in seen.items() if v >= end - MENTION_OVERLAP_MS})}

    def _fetch_mentions(self, http: SourceHttp, notices: list[MentionNotice], result: PollResult) -> None:
        """Read the posts (batch GET) and comments the notices name; what cannot be read is set aside."""
        view = http.inspecting(_item_refused(self.name))
        posts = [n for n in notices if POST_URN.match(n.target)]
        for i in range(0, len(posts), POSTS_BATCH):
            self._fetch_post_batch(view, posts[i:i + POSTS_BATCH], result)
        for notice in (n for n in notices if not POST_URN.match(n.target)):
            self._keep(notice, result, lambda n=notice: self._fetch_comment(view, n))

    def _fetch_post_batch(self, http: SourceHttp, batch: list[MentionNotice], result: PollResult) -> None:
        ids = ",".join(enc(n.target) for n in batch)
        try:
            found = parse_posts_batch(self._get(http, f"posts?ids=List({ids})"))
        except (PayloadInvalid, RequestRejected) as exc:
            # The whole batch refused (or unreadable): read its posts one by one, so one bad post costs only itself.
            logger.info("source %s: batch read of %d mentioning posts failed (%s); reading them one by one",
                        self.name, len(batch), exc)
            for notice in batch:
                self._keep(notice, result, lambda n=notice: parse_post_mention(
                    self._get(http, f"posts/{enc(n.target)}")))
            return
        for notice in batch:
            post = found.posts.get(notice.target)
            if post is None:
                why = found.errors.get(notice.target, "missing from the batch answer")
                result.rejected.append(_unreadable(notice, why))
                continue
            self._keep(notice, result, lambda p=post: parse_post_mention(p))

    def _fetch_comment(self, http: SourceHttp, notice: MentionNotice) -> Mention:
        match = COMMENT_URN.match(notice.target)
        assert match is not None  # only comment URNs get here
        obj, comment_id = match.groups()
        post = notice.source_post if notice.source_post and POST_URN.match(notice.source_post) else obj
        comment = self._get(http, f"socialActions/{enc(post)}/comments/{comment_id}")
        if isinstance(comment, dict) and not (comment.get("commentUrn") or comment.get("$URN")):
            comment = {**comment, "commentUrn": notice.target}
        return parse_comment_mention(comment, post_urn=notice.source_post or obj)

    def _keep(self, notice: MentionNotice, result: PollResult, read: Callable[[], Mention | None]) -> None:
        """Run `read()` for one notice: keep its mention, or set the notice aside with the reason."""
        try:
            mention = read()
        except PayloadInvalid as exc:
            result.rejected.append(exc)
            return
        except RequestRejected as exc:
            result.rejected.append(_unreadable(notice, exc.message))
            return
        if mention is not None and mention.author_handle != self.org_urn:
            result.mentions.append(mention)

    def _read_posts(self, http: SourceHttp, since: datetime, result: PollResult) -> list[OwnPost]:
        posts: list[OwnPost] = []
        start: int | None = 0
        for _ in range(self.options.max_pages):
            page = parse_posts(self._get(http, f"posts?q=author&author={enc(self.org_urn)}&sortBy=CREATED"
                                               f"&count={POSTS_PER_PAGE}&start={start}"))
            result.rejected.extend(page.rejected)
            posts.extend(p for p in page.posts if p.created_at >= since)
            start = page.next_start
            # Newest first (sortBy=CREATED): a post older than the window means the rest are too.
            if start is None or any(p.created_at < since for p in page.posts):
                break
        return posts

    def _read_statistics(self, http: SourceHttp, urns: list[str],
                         result: PollResult) -> dict[str, dict[str, int | None]]:
        stats: dict[str, dict[str, int | None]] = {}
        for i in range(0, len(urns), STATS_BATCH):
            batch = urns[i:i + STATS_BATCH]
            query = ("organizationalEntityShareStatistics?q=organizationalEntity"
                     f"&organizationalEntity={enc(self.org_urn)}")
            shares = [u for u in batch if u.startswith("urn:li:share:")]
            ugc = [u for u in batch if u.startswith("urn:li:ugcPost:")]
            if shares:
                query += f"&shares=List({','.join(enc(u) for u in shares)})"
            if ugc:
                query += f"&ugcPosts=List({','.join(enc(u) for u in ugc)})"
            if not shares and not ugc:
                continue
            try:
                found, rejected = parse_statistics(self._get(http, query))
            except PayloadInvalid as exc:
                result.rejected.append(exc)
                continue
            stats.update(found)
            result.rejected.extend(rejected)
        return stats

    def _pages(self, http: SourceHttp, urn: str, post_urn: str | None = None) -> Iterator[tuple[Page, bool]]:
        start: int | None = 0
        for _ in range(self.options.max_pages):
            page = parse_comments(self._get(http, f"socialActions/{enc(urn)}/comments?start={start}"
                                                  f"&count={COMMENTS_PER_PAGE}"), post_urn=post_urn)
            start = int(page.cursor) if page.cursor is not None else None
            yield page, start is None
            if start is None:
                return

    def _read_comments(self, http: SourceHttp, post: OwnPost, state: dict[str, Any], default: datetime,
                       result: PollResult) -> dict[str, Any]:
        wm = Watermark.from_json(state.get("wm"), default=default)
        old_threads = state.get("threads") if isinstance(state.get("threads"), dict) else {}
        seen: list[Mention] = []
        threads: dict[str, int] = {}
        finished = False
        try:
            for page, last in self._pages(http, post.external_id, post.external_id):
                result.rejected.extend(page.rejected)
                seen.extend(page.mentions)
                finished = last
            for top in [m for m in seen if m.kind == "comment"]:
                count = reply_count(top.raw)
                if not count:
                    continue
                threads[top.external_id] = count
                if old_threads.get(top.external_id) == count:
                    continue
                for page, _last in self._pages(http, top.external_id, post.external_id):
                    result.rejected.extend(page.rejected)
                    seen.extend(replace(m, kind="reply", parent_id=m.parent_id or top.external_id)
                                for m in page.mentions)
        except PayloadInvalid as exc:
            result.rejected.append(exc)
            finished = False
        except SourceError as exc:
            if is_fatal(exc):
                raise
            finished = False
            logger.warning("source %s: skipped the comments of post %s: %s", self.name, post.external_id, exc.message)
        unique = {m.external_id: m for m in seen}
        result.mentions.extend(m for m in unique.values()
                               if wm.is_new(m.created_at, m.external_id) and m.author_handle != self.org_urn)
        wm = wm.advance((m.created_at, m.external_id) for m in unique.values())
        return {"wm": wm.to_json(), "count": post.comments if finished else None, "threads": threads}

    def reply(self, mention: MentionRef, text: str, *, http: SourceHttp, idempotency_key: str) -> str:
        """Comment `text` as the organization under a comment (a nested comment); return its `commentUrn`.

        Idempotent without storing the key on LinkedIn: the comment's existing replies are read first,
        and one by the organization with the very same text is returned instead of posting again; the
        POST is never retried blindly. LinkedIn nests one level deep, so a reply to a reply goes under
        its parent comment.
        """
        ref = _ref(mention)
        target = ref["parent"] or ref["id"]
        for page, _last in self._pages(http, target):
            for item in page.mentions:
                if item.author_handle == self.org_urn and item.text == text:
                    logger.info("source %s: reply %s already exists; not posting again", self.name, idempotency_key)
                    return item.external_id
        body = {"actor": self.org_urn, "object": ref["object"], "message": {"text": text}, "parentComment": target}
        answer = http.without_retries().post_json(f"{self.base_url}/socialActions/{enc(target)}/comments", json=body,
                                      headers=self._headers())
        data = answer.data if isinstance(answer.data, dict) else {}
        new_id = opt_str(data.get("commentUrn")) or opt_str(data.get("$URN")) or answer.headers.get("x-restli-id")
        if not new_id:
            raise PayloadInvalid(NETWORK, "the reply was sent but LinkedIn returned no comment URN", item=data)
        return new_id

    def hide(self, mention: MentionRef, *, http: SourceHttp, idempotency_key: str) -> None:
        """LinkedIn's API cannot hide a member's comment (only delete the organization's own)."""
        raise NotSupported(self.name, "LinkedIn does not let a Page hide comments through its API")


def _ms(moment: datetime) -> int:
    return int((moment - EPOCH) / timedelta(milliseconds=1))


def _newest(seen: dict[str, int]) -> dict[str, int]:
    """The `MAX_SEEN_MENTIONS` newest entries: the cursor stays small whatever a burst brings."""
    return dict(sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))[-MAX_SEEN_MENTIONS:])


def _unreadable(notice: MentionNotice, why: str) -> PayloadInvalid:
    return PayloadInvalid(NETWORK, f"{notice.action} {notice.target[:100]} could not be read ({why})",
                          item=notice.raw)


def _notifications_refused(source: str) -> Callable[[httpx.Response], None]:
    """403 on the notifications finder: the token lacks `rw_organization_admin`; say so, then pause."""

    def inspect(response: httpx.Response) -> None:
        if response.status_code == 403:
            raise AuthFailed(source, "reading @mentions (organizationalEntityNotifications) answered 403: the token "
                             "needs rw_organization_admin as a Page ADMINISTRATOR, or set mentions: false",
                             status=403)

    return inspect


def _item_refused(source: str) -> Callable[[httpx.Response], None]:
    """403/404 on one mentioning post or comment concerns that item (private, deleted), not the credentials."""

    def inspect(response: httpx.Response) -> None:
        if response.status_code in (403, 404, 410):
            body = json_body(response)
            message = body.get("message") if isinstance(body, dict) else None
            detail = f": {message[:160]}" if isinstance(message, str) and message else ""
            raise RequestRejected(source, f"{response.status_code}{detail}", status=response.status_code)

    return inspect


def _ref(mention: MentionRef) -> dict[str, Any]:
    raw = mention_raw(mention)
    if isinstance(mention, Mention):
        urn, parent = mention.external_id, mention.parent_id
        obj = opt_str(raw.get("object")) or mention.conversation_id
    else:
        urn = opt_str(raw.get("commentUrn")) or opt_str(raw.get("$URN"))
        parent, obj = opt_str(raw.get("parentComment")), opt_str(raw.get("object"))
    if not urn or not urn.startswith("urn:li:comment:") or not obj:
        raise PayloadInvalid(NETWORK, "only comments (with their commentUrn and object) can be answered", item=raw)
    return {"id": urn, "parent": parent, "object": obj}
