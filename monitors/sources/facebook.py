"""Facebook Pages: parse Graph API payloads, and `FacebookConnector`, which polls a Page.

What a poll reads (all through `monitors.sources.meta.Graph`):
1. the Page's posts published in the last `max(engagement_days, backfill)` days, with their engagement:
   `GET /{page-id}/posts?since=...&fields=id,message,created_time,permalink_url,status_type,shares,
   reactions.summary(total_count).limit(0),comments.filter(stream).summary(total_count).limit(0)`
   (plus `insights.metric(<impressions_metric>)` when configured);
2. the comments and replies on each of those posts whose comment count changed since the last poll:
   `GET /{post-id}/comments?filter=stream&order=chronological&since=...`, oldest first, so a poll
   that spends its page budget resumes exactly at the last comment it read;
3. the posts the Page is tagged in (`GET /{page-id}/tagged`), newest first, as "mention"s.
@mentions of the Page in comments and posts elsewhere are not pollable: Meta delivers them through the
Page webhook field `mention` (`{post_id, comment_id, item: post|comment, verb: add|edit|remove,
sender_id, sender_name, ...}`), which `monitors.webhooks` receives and hands to
`FacebookConnector.handle_webhook`; the mentioning comment or post is then read with
`GET /{comment-id}?fields=...` or `GET /{post-id}?fields=...`. The `feed` field is not read: it
announces activity on the Page's own feed, which the poll already reads.

Followed:
- https://developers.facebook.com/docs/graph-api/reference/page/feed (`/posts`, `/published_posts`,
  `/tagged`; `since`/`until` time paging) and https://developers.facebook.com/docs/graph-api/reference/post
  (Post fields: `message`, `created_time`, `permalink_url`, `status_type`, `shares`);
- https://developers.facebook.com/docs/graph-api/reference/object/reactions (`summary(total_count)`);
- https://developers.facebook.com/docs/graph-api/reference/object/comments
  (`GET /{object-id}/comments`: `filter=stream`, `order=chronological`, `since`; since v11 other
  users' profile data may be withheld, so `from` can be absent; `POST /{object-id}/comments` with
  `message` publishes a comment as the Page);
- https://developers.facebook.com/docs/graph-api/reference/comment (Comment fields: `id`, `message`,
  `created_time`, `from`, `permalink_url`, `parent`; `POST /{comment-id}` with `is_hidden=true` hides
  a comment on the Page's own posts);
- https://developers.facebook.com/docs/graph-api/reference/insights (post metrics);
- https://developers.facebook.com/docs/graph-api/results/ (cursor paging: `paging.cursors.after`,
  `paging.next`);
- https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#mention and
  https://developers.facebook.com/docs/pages-api/webhooks-for-pages (the `page` object's `mention`
  field, its `value`; `pages_manage_metadata` and the app installed on the Page through `subscribed_apps`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from monitors.sources.base import (
    Connector,
    Mention,
    MentionRef,
    NotSupported,
    OwnPost,
    Page,
    PayloadInvalid,
    PollResult,
    SourceError,
    mention_raw,
    opt_str,
)
from monitors.sources.http import SourceHttp
from monitors.sources.kit import (
    PollWindow,
    Watermark,
    refresh_comments,
    unix_seconds,
    walk_descending,
)
from monitors.sources.meta import (
    DEFAULT_GRAPH_URL,
    Graph,
    GraphOptions,
    WebhookChange,
    data_list,
    graph_object,
    handle_changes,
    insight_value,
    next_after,
    read_comment_pages,
    summary_count,
    webhook_changes,
)

logger = logging.getLogger(__name__)

NETWORK = "facebook"
COMMENT_FIELDS = "id,message,created_time,from{id,name},permalink_url,parent{id}"
TAGGED_FIELDS = "id,message,created_time,from{id,name},permalink_url"
POST_FIELDS = ("id,message,created_time,permalink_url,status_type,shares,reactions.summary(total_count).limit(0),"
               "comments.filter(stream).summary(total_count).limit(0)")
WEBHOOK_FIELDS = frozenset({"mention"})
GRAPH_ID = re.compile(r"^[0-9]{1,32}(_[0-9]{1,32})?$")  # a Page-scoped id: "123" or "pageid_postid"
MEDIA_TYPES = {"added_photos": "image", "added_video": "video", "shared_story": "link",
               "mobile_status_update": "status", "created_note": "status"}


def parse_comments(payload: dict[str, Any], *, post_id: str | None = None) -> Page:
    """Turn one page of Page-post comments into mentions; quarantine malformed ones in `Page.rejected`.

    - `kind` is "reply" when the comment has a `parent` (its id becomes `parent_id`), else "comment".
    - `conversation_id` is `post_id`: the store matches it to the calendar post's external id.
    - `author_handle` is `from.name`, else `from.id`, else "unknown" when Facebook withholds the
      commenter (privacy); `author_name` is `from.name`. Facebook gives no follower count or language.
    - A comment without `message` (a sticker or photo only) is kept with empty text.
    - `cursor` is `paging.cursors.after` while `paging.next` exists, None on the last page. Graph
      cursors go stale: use it to page through one poll, not as a long-term resume point.

    Raises:
        PayloadInvalid: the page is not an object or its `data` is not a list (e.g. a Graph `error`).
    """
    items = data_list(NETWORK, payload)
    mentions: list[Mention] = []
    rejected: list[PayloadInvalid] = []
    for item in items:
        try:
            mentions.append(_parse_comment(item, post_id))
        except PayloadInvalid as exc:
            rejected.append(exc)
    return Page(mentions=mentions, cursor=next_after(payload), rejected=rejected)


def parse_tagged(payload: dict[str, Any]) -> Page:
    """Turn one page of `/{page-id}/tagged` (posts that tag the Page) into "mention"s.

    The post is its own conversation (`conversation_id` is its id); `author_handle` is the poster's
    name, else id, else "unknown".

    Raises:
        PayloadInvalid: the page is not a Graph list page.
    """
    items = data_list(NETWORK, payload)
    mentions: list[Mention] = []
    rejected: list[PayloadInvalid] = []
    for item in items:
        try:
            mention = _parse_comment(item, None, what="tagged post")
            mentions.append(Mention(
                network=NETWORK, external_id=mention.external_id, kind="mention",
                author_handle=mention.author_handle, text=mention.text, created_at=mention.created_at,
                author_name=mention.author_name, permalink=mention.permalink,
                conversation_id=mention.external_id, raw=item,
            ))
        except PayloadInvalid as exc:
            rejected.append(exc)
    return Page(mentions=mentions, cursor=next_after(payload), rejected=rejected)


@dataclass(slots=True)
class PostsPage:
    """One page of the Page's own posts: engagement snapshots, the comment count of each, the rest set aside."""

    posts: list[OwnPost]
    comment_counts: dict[str, int | None] = field(default_factory=dict)
    rejected: list[PayloadInvalid] = field(default_factory=list)
    after: str | None = None


def parse_posts(payload: dict[str, Any], *, impressions_metric: str | None = None) -> PostsPage:
    """Turn one page of `/{page-id}/posts` (requested with `POST_FIELDS`) into `OwnPost`s.

    likes = `reactions.summary.total_count` (every reaction type, as Facebook's own counter shows),
    comments = `comments.summary.total_count` (with `filter(stream)`: replies included),
    shares = `shares.count`, impressions = the configured insights metric. `text` is `message`.

    Raises:
        PayloadInvalid: the page is not a Graph list page.
    """
    result = PostsPage(posts=[], after=next_after(payload))
    for item in data_list(NETWORK, payload):
        try:
            post_id, message, created = graph_object(NETWORK, item, what="post", text="message", time="created_time")
            shares = item.get("shares")
            share_count = shares.get("count") if isinstance(shares, dict) else None
            comments = summary_count(item.get("comments"))
            result.posts.append(OwnPost(
                network=NETWORK, external_id=post_id, created_at=created, text=message,
                permalink=opt_str(item.get("permalink_url")),
                media_type=MEDIA_TYPES.get(str(item.get("status_type")), None),
                likes=summary_count(item.get("reactions")), comments=comments,
                shares=share_count if isinstance(share_count, int) and not isinstance(share_count, bool) else None,
                impressions=insight_value(item.get("insights"), impressions_metric), raw=item,
            ))
            result.comment_counts[post_id] = comments
        except PayloadInvalid as exc:
            result.rejected.append(exc)
    return result


def _parse_comment(item: Any, post_id: str | None, *, what: str = "comment") -> Mention:
    comment_id, text, created_at = graph_object(NETWORK, item, what=what, text="message", time="created_time")

    sender = item.get("from")
    name = opt_str(sender.get("name")) if isinstance(sender, dict) else None
    sender_id = opt_str(sender.get("id")) if isinstance(sender, dict) else None
    parent = item.get("parent")
    parent_id = opt_str(parent.get("id")) if isinstance(parent, dict) else None
    return Mention(
        network=NETWORK,
        external_id=comment_id,
        kind="reply" if parent_id else "comment",
        author_handle=name or sender_id or "unknown",
        text=text,
        created_at=created_at,
        author_name=name,
        permalink=opt_str(item.get("permalink_url")),
        parent_id=parent_id,
        conversation_id=post_id,
        raw=item,
    )


# ---------------------------------------------------------------------------------------------
# @mentions pushed by the Page webhook


def parse_page_webhook(payload: Any) -> tuple[list[WebhookChange], list[PayloadInvalid]]:
    """Split a Page delivery (`{"object": "page", "entry": [{"id", "time", "changes": [...]}]}`) into its
    `mention` changes; other fields are ignored (not rejected).

    Raises:
        PayloadInvalid: the delivery is not a Page webhook payload at all.
    """
    return webhook_changes(NETWORK, payload, object_name="page", fields=WEBHOOK_FIELDS)


@dataclass(frozen=True, slots=True)
class MentionChange:
    """A `mention` change's value: which post or comment mentions the Page, and what happened to it."""

    verb: str  # add | edit | remove
    item: str  # post | comment
    post_id: str | None
    comment_id: str | None
    sender_id: str | None


def parse_mention_change(payload: Any) -> MentionChange:
    """Read a `mention` value: `item` (post/comment; inferred from `comment_id` when absent), `verb`, the ids.

    Raises:
        PayloadInvalid: an unknown verb or item, an id that is not a Graph id, or no id to fetch.
    """
    if not isinstance(payload, dict):
        raise PayloadInvalid(NETWORK, f"mention value is {type(payload).__name__}, not an object", item=payload)
    verb = payload.get("verb")
    if verb not in ("add", "edit", "remove"):
        raise PayloadInvalid(NETWORK, "mention verb is not add, edit or remove", item=payload)
    ids: dict[str, str | None] = {}
    for name in ("post_id", "comment_id", "sender_id"):
        value = payload.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            value = str(value)  # sender ids have been seen as numbers
        if value is not None and not (isinstance(value, str) and GRAPH_ID.match(value)):
            raise PayloadInvalid(NETWORK, f"mention {name} is not a Graph id", item=payload)
        ids[name] = value
    item = payload.get("item", "comment" if ids["comment_id"] else "post")
    if item not in ("post", "comment"):
        raise PayloadInvalid(NETWORK, "mention item is not post or comment", item=payload)
    if (item == "comment" and not ids["comment_id"]) or (item == "post" and not ids["post_id"]):
        raise PayloadInvalid(NETWORK, f"mention of a {item} has no {item}_id", item=payload)
    return MentionChange(str(verb), str(item), ids["post_id"], ids["comment_id"], ids["sender_id"])


def parse_mention_item(payload: Any, *, post_id: str | None = None) -> Mention:
    """Turn the mentioning comment (`GET /{comment-id}`) or post (`GET /{post-id}`) into a "mention".

    `post_id` is the post a comment is on (its conversation); a post is its own conversation.

    Raises:
        PayloadInvalid: no id, no valid `created_time`, or a message that is not text.
    """
    found = _parse_comment(payload, post_id, what="mentioning item")
    return replace(found, kind="mention", conversation_id=post_id or found.external_id)


# ---------------------------------------------------------------------------------------------
# The connector


class FacebookOptions(GraphOptions):
    page_id: str = Field(pattern=r"^[0-9]{1,32}$")
    include_tagged: bool = True


class FacebookConnector(Connector):
    """Polls one Facebook Page: its posts and their engagement, comments on them, posts that tag it;
    @mentions of the Page elsewhere arrive by webhook (`handle_webhook`).

    Cursor (JSON): `{"posts": {post_id: {"wm": watermark, "count": comment count when last read}},
    "tagged": {"wm": ..., "pending": {...}}}`. A post's comments are re-read only when its comment
    count moved (one call per changed post, not per post); posts leave the cursor when they leave the
    window. Comment watermarks are (time, ids at that second), so nothing is yielded twice.
    """

    network: ClassVar[str] = NETWORK
    Options: ClassVar[type[FacebookOptions]] = FacebookOptions
    default_base_url: ClassVar[str] = DEFAULT_GRAPH_URL
    options: FacebookOptions

    def _graph(self, http: SourceHttp) -> Graph:
        return Graph(self.name, NETWORK, self.base_url, self.options, http)

    def poll(self, cursor: dict[str, Any], *, http: SourceHttp, now: datetime) -> PollResult:
        """Read posts and engagement, new comments per changed post, and new tags; see the class docstring."""
        graph = self._graph(http)
        window = PollWindow.of(cursor, now=now, backfill=self.backfill, engagement_days=self.engagement_days)
        result = PollResult(mentions=[], cursor={})

        posts, counts = self._read_posts(graph, window.since, result)
        result.own_posts.extend(p for p in posts if p.created_at >= window.engagement_start)
        result.cursor["posts"] = refresh_comments(
            posts, cursor.get("posts"), window, count=lambda post: counts.get(post.external_id),
            read=lambda post, state, default: self._read_comments(
                graph, post.external_id, Watermark.from_json(state.get("wm"), default=default),
                counts.get(post.external_id), result))

        if self.options.include_tagged:
            result.cursor["tagged"] = self._read_tagged(graph, cursor.get("tagged"), window.backfill_start, result)
        return result

    def _read_posts(self, graph: Graph, since: datetime,
                    result: PollResult) -> tuple[list[OwnPost], dict[str, int | None]]:
        fields = POST_FIELDS
        if self.options.impressions_metric:
            fields += f",insights.metric({self.options.impressions_metric})"
        posts: list[OwnPost] = []
        counts: dict[str, int | None] = {}
        params = {"fields": fields, "since": unix_seconds(since), "limit": 25}
        for payload, _after in graph.pages(f"{self.options.page_id}/posts", params, max_pages=self.options.max_pages):
            page = parse_posts(payload, impressions_metric=self.options.impressions_metric)
            posts.extend(p for p in page.posts if p.created_at >= since)
            counts.update(page.comment_counts)
            result.rejected.extend(page.rejected)
        return posts, counts

    def _read_comments(self, graph: Graph, post_id: str, wm: Watermark, count: int | None,
                       result: PollResult) -> dict[str, Any]:
        """Read a post's comments oldest first from its watermark; return the post's new cursor entry."""
        # `since` is taken one second early: whether Graph's bound is inclusive is not documented,
        # and the watermark drops what was already read at that second.
        params = {"fields": COMMENT_FIELDS, "filter": "stream", "order": "chronological", "limit": 100,
                  "since": unix_seconds(wm.at) - 1}
        seen, finished = read_comment_pages(graph, f"{post_id}/comments", params, max_pages=self.options.max_pages,
                                            parse=lambda payload: parse_comments(payload, post_id=post_id),
                                            result=result, what=f"post {post_id}")
        result.mentions.extend(m for m in seen if wm.is_new(m.created_at, m.external_id) and not self._is_own(m))
        wm = wm.advance((m.created_at, m.external_id) for m in seen)
        # An unfinished read leaves the count unknown, so the next poll continues from the watermark.
        return {"wm": wm.to_json(), "count": count if finished else None}

    def _read_tagged(self, graph: Graph, state: Any, backfill_start: datetime, result: PollResult) -> dict[str, Any]:
        path = f"{self.options.page_id}/tagged"

        def fetch(token: str | None) -> tuple[list[Mention], str | None]:
            params: dict[str, Any] = {"fields": TAGGED_FIELDS, "limit": 50}
            if token:
                params["after"] = token
            page = parse_tagged(graph.get(path, params))
            result.rejected.extend(page.rejected)
            return page.mentions, page.cursor

        walk = walk_descending(fetch, state=state if isinstance(state, dict) else None, default=backfill_start,
                               max_pages=self.options.max_pages, when=lambda m: m.created_at,
                               ident=lambda m: m.external_id)
        result.mentions.extend(m for m in walk.items if not self._is_own(m))
        return walk.state

    def handle_webhook(self, payload: Any, *, http: SourceHttp, now: datetime) -> PollResult:
        """Turn a signed Page delivery into mentions, reading each mentioning comment or post from the Graph API.

        `add` and `edit` fetch the item (an edit of a mention already stored is a duplicate the store
        drops); `remove` is logged and ingests nothing (the mention was deleted or untagged). A change the
        Graph API refuses (deleted since, not visible to the Page) is set aside; throttling, token errors
        and outages are raised, so the route answers 503 and Meta delivers again.

        Raises:
            PayloadInvalid: the delivery is not a Page webhook payload.
        """
        changes, rejected = parse_page_webhook(payload)
        graph = self._graph(http)

        def read(change: WebhookChange) -> Mention | None:
            mention = parse_mention_change(change.value)
            if mention.verb == "remove":
                logger.info("source %s: a mention was removed (%s %s); nothing to ingest", self.name, mention.item,
                            mention.comment_id or mention.post_id)
                return None
            if mention.sender_id == self.options.page_id:
                return None  # the Page naming itself
            if mention.item == "comment":
                return parse_mention_item(graph.get(str(mention.comment_id), {"fields": COMMENT_FIELDS}),
                                          post_id=mention.post_id)
            return parse_mention_item(graph.get(str(mention.post_id), {"fields": TAGGED_FIELDS}))

        return handle_changes(NETWORK, changes, rejected, account_id=self.options.page_id, account_option="page_id",
                              read=read)

    def _is_own(self, mention: Mention) -> bool:
        """The Page's own comments (its replies) are read, to move watermarks, but are not mentions."""
        sender = mention.raw.get("from") if isinstance(mention.raw, dict) else None
        return isinstance(sender, dict) and sender.get("id") == self.options.page_id

    def reply(self, mention: MentionRef, text: str, *, http: SourceHttp, idempotency_key: str) -> str:
        """Comment `text` as the Page under `mention`; return the new comment's id.

        Idempotent without relying on the key, which Graph cannot store: before posting, the Page's
        existing replies in that thread are read, and a reply by the Page with the very same text is
        returned instead of posting again. The POST itself is never retried blindly (a timed-out
        POST may have been applied); the caller's retry comes back through this check. A reply to a
        reply goes to its thread's top comment, where Facebook shows it.
        """
        target = _thread_id(mention)
        graph = self._graph(http)
        existing = graph.get(f"{target}/comments", {"fields": "id,message,from{id}", "filter": "toplevel",
                                                    "order": "reverse_chronological", "limit": 100})
        for item in existing.get("data", []) if isinstance(existing, dict) else []:
            sender = item.get("from") if isinstance(item, dict) else None
            if (isinstance(sender, dict) and sender.get("id") == self.options.page_id
                    and item.get("message") == text and isinstance(item.get("id"), str)):
                logger.info("source %s: reply %s already exists; not posting again", self.name, idempotency_key)
                return str(item["id"])
        created = graph.post_once(f"{target}/comments", {"message": text})
        new_id = created.get("id") if isinstance(created, dict) else None
        if not isinstance(new_id, str):
            raise PayloadInvalid(NETWORK, "the reply was sent but Graph returned no id", item=created)
        return new_id

    def hide(self, mention: MentionRef, *, http: SourceHttp, idempotency_key: str) -> None:
        """Hide a comment on the Page's posts (`POST /{comment-id}` with `is_hidden=true`); idempotent by nature."""
        ref = _ref(mention)
        if ref["kind"] == "mention":
            raise NotSupported(self.name, "a Page can hide comments on its own posts, not posts that tag it")
        answer = self._graph(http).post_once(ref["id"], {"is_hidden": "true"})
        if not (isinstance(answer, dict) and answer.get("success") is True):
            raise SourceError(self.name, f"Graph did not confirm hiding comment {ref['id']}")


def _ref(mention: MentionRef) -> dict[str, Any]:
    """The ids of a mention, from the normalized mention or its raw Graph item."""
    if isinstance(mention, Mention):
        return {"id": mention.external_id, "parent": mention.parent_id, "kind": mention.kind}
    raw = mention_raw(mention)
    parent = raw.get("parent")
    parent_id = parent.get("id") if isinstance(parent, dict) else None
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise PayloadInvalid(NETWORK, "the mention's raw item has no id", item=raw)
    # A raw item does not say whether it was a tagged post or a comment; Graph refuses what does not apply.
    parent_id = parent_id if isinstance(parent_id, str) and parent_id else None
    return {"id": item_id, "parent": parent_id, "kind": "reply" if parent_id else "comment"}


def _thread_id(mention: MentionRef) -> str:
    ref = _ref(mention)
    return str(ref["parent"] or ref["id"])
