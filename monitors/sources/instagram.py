"""Instagram (professional accounts): parse Graph API payloads, and `InstagramConnector`.

What a poll reads (through `monitors.sources.meta.Graph`):
1. the account's media of the last `max(engagement_days, backfill)` days, newest first, with
   `like_count`, `comments_count` (and an insights metric when configured): `GET /{ig-user-id}/media`;
2. the comments (and their nested replies) of each of those media whose `comments_count` moved.
@mentions are not pollable: Meta only delivers them by webhook (field `mentions`), which
`monitors.webhooks` receives and hands to `InstagramConnector.handle_webhook`; it then fetches the
mentioning comment or caption through `GET /{ig-user-id}?fields=mentioned_comment.comment_id(...)`
or `mentioned_media.media_id(...)`. The webhook field `comments` (comments on the account's own
media) is read straight from the delivery, so a comment shows up before the next poll.

Followed:
- https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
  and https://developers.facebook.com/docs/instagram-platform/reference/instagram-media (IG Media fields:
  `caption`, `media_type`, `media_product_type`, `permalink`, `timestamp`, `like_count`, `comments_count`);
- https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments
  (`GET /{ig-media-id}/comments`, `data` + `paging.cursors.after` / `paging.next`);
- https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment
  (IG Comment fields; `POST /{ig-comment-id}?hide=true` hides a comment) and
  https://developers.facebook.com/docs/graph-api/changelog/ooc-changes/oct-20-2021 (`from{id,username}`
  and `parent_id`);
- https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies
  (`POST /{ig-comment-id}/replies` with `message`; replies are IG Comments; a reply to a reply is
  attached to the top-level comment);
- https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/mentions
  and https://developers.facebook.com/docs/instagram-platform/webhooks (the `mentions` and `comments`
  webhook fields and their `value`s); field shapes of `mentioned_comment` / `mentioned_media` from
  sns-sdks/python-facebook `testdata/instagram/apidata/users/mentioned_*.json` (APIS.md §B4).
Unverified (APIS.md gaps): whether every comment carries `parent_id`; the order of the comments
edge, which is why comments are filtered by watermark rather than by position.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field

from monitors.sources.base import (
    Connector,
    Mention,
    MentionRef,
    OwnPost,
    Page,
    PayloadInvalid,
    PollResult,
    SourceError,
    mention_raw,
    opt_str,
)
from monitors.sources.http import SourceHttp
from monitors.sources.kit import PollWindow, Watermark, refresh_comments
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
    webhook_changes,
)

logger = logging.getLogger(__name__)

NETWORK = "instagram"
REPLY_FIELDS = "id,text,timestamp,username,like_count,from{id,username},parent_id"
COMMENT_FIELDS = f"{REPLY_FIELDS},replies{{{REPLY_FIELDS}}}"
MEDIA_FIELDS = "id,caption,media_type,media_product_type,permalink,timestamp,like_count,comments_count"
MENTIONED_COMMENT_FIELDS = "id,text,timestamp,like_count,username"
MENTIONED_MEDIA_FIELDS = "id,caption,timestamp,media_type,comments_count,like_count,username"
MEDIA_TYPES = {"IMAGE": "image", "VIDEO": "video", "CAROUSEL_ALBUM": "carousel"}
WEBHOOK_FIELDS = frozenset({"mentions", "comments"})


def parse_comments(
    payload: dict[str, Any], *, media_id: str | None = None, media_permalink: str | None = None
) -> Page:
    """Turn one page of IG Comments into mentions; quarantine malformed comments in `Page.rejected`.

    - `kind` is "reply" when the comment has a `parent_id` or was nested under `replies.data`
      (nested replies are flattened right after their parent, `raw` being the reply object).
    - `conversation_id` is the media id (`media_id`, else the comment's own `media.id`).
    - IG Comments have no URL of their own: `permalink` is `media_permalink` when the caller knows it.
    - `author_handle` is `username`, else `from.username`, else "unknown"; IG gives no follower
      count or language for commenters.
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
            mentions.append(_parse_comment(item, media_id, media_permalink, parent_id=None))
        except PayloadInvalid as exc:
            rejected.append(exc)
            continue
        for reply in _nested_replies(item):
            try:
                mentions.append(_parse_comment(reply, media_id, media_permalink, parent_id=item["id"]))
            except PayloadInvalid as exc:
                rejected.append(exc)
    return Page(mentions=mentions, cursor=next_after(payload), rejected=rejected)


@dataclass(slots=True)
class MediaPage:
    """One page of the account's media: engagement snapshots and the paging cursor."""

    posts: list[OwnPost]
    rejected: list[PayloadInvalid] = field(default_factory=list)
    after: str | None = None


def parse_media(payload: dict[str, Any], *, impressions_metric: str | None = None) -> MediaPage:
    """Turn one page of `/{ig-user-id}/media` (requested with `MEDIA_FIELDS`) into `OwnPost`s.

    likes = `like_count`, comments = `comments_count`, views/impressions = the configured insights
    metric (Instagram reports no shares for media). Reels count as "video".

    Raises:
        PayloadInvalid: the page is not a Graph list page.
    """
    result = MediaPage(posts=[], after=next_after(payload))
    for item in data_list(NETWORK, payload):
        try:
            media_id, caption, created = graph_object(NETWORK, item, what="media", text="caption", time="timestamp")
            kind = MEDIA_TYPES.get(str(item.get("media_type")))
            if item.get("media_product_type") == "REELS":
                kind = "video"
            metric = insight_value(item.get("insights"), impressions_metric)
            result.posts.append(OwnPost(
                network=NETWORK, external_id=media_id, created_at=created, text=caption,
                permalink=opt_str(item.get("permalink")), media_type=kind,
                likes=_opt_count(item.get("like_count")), comments=_opt_count(item.get("comments_count")),
                views=metric if impressions_metric == "views" else None,
                impressions=metric if impressions_metric != "views" else None, raw=item,
            ))
        except PayloadInvalid as exc:
            result.rejected.append(exc)
    return result


def parse_mentioned_comment(payload: Any, *, media_id: str | None) -> Mention:
    """Turn `GET /{ig-user-id}?fields=mentioned_comment.comment_id(...){...}` into a "mention".

    Raises:
        PayloadInvalid: no `mentioned_comment` object, or it lacks an id or a valid timestamp.
    """
    item = payload.get("mentioned_comment") if isinstance(payload, dict) else None
    if not isinstance(item, dict):
        raise PayloadInvalid(NETWORK, "mentioned_comment is missing or not an object", item=payload)
    comment = _parse_comment(item, media_id, None, parent_id=None)
    return Mention(network=NETWORK, external_id=comment.external_id, kind="mention",
                   author_handle=comment.author_handle, text=comment.text, created_at=comment.created_at,
                   conversation_id=media_id, raw=item)


def parse_mentioned_media(payload: Any) -> Mention:
    """Turn `GET /{ig-user-id}?fields=mentioned_media.media_id(...){...}` (a caption @mention) into a "mention".

    Raises:
        PayloadInvalid: no `mentioned_media` object, or it lacks an id or a valid timestamp.
    """
    item = payload.get("mentioned_media") if isinstance(payload, dict) else None
    if not isinstance(item, dict):
        raise PayloadInvalid(NETWORK, "mentioned_media is missing or not an object", item=payload)
    media_id, caption, created = graph_object(NETWORK, item, what="mentioned media", text="caption", time="timestamp")
    return Mention(network=NETWORK, external_id=media_id, kind="mention",
                   author_handle=opt_str(item.get("username")) or "unknown", text=caption, created_at=created,
                   permalink=opt_str(item.get("permalink")), conversation_id=media_id, raw=item)


def parse_webhook(payload: Any) -> tuple[list[WebhookChange], list[PayloadInvalid]]:
    """Split a delivery (`{"object": "instagram", "entry": [{"id", "time", "changes": [...]}]}`) into changes.

    Only the `mentions` and `comments` fields are kept; other fields are ignored (not rejected).

    Raises:
        PayloadInvalid: the delivery is not an Instagram webhook payload at all.
    """
    return webhook_changes(NETWORK, payload, object_name="instagram", fields=WEBHOOK_FIELDS)


def parse_webhook_comment(change: WebhookChange, *, received_at: datetime) -> Mention:
    """Turn a `comments` webhook value (`{id, text, from{id,username}, media{id}, parent_id}`) into a mention.

    The value carries no timestamp: the entry's `time` (else the reception time) stands in.

    Raises:
        PayloadInvalid: the value has no id or its text is not a string.
    """
    item = dict(change.value)
    item.setdefault("timestamp", (change.time or received_at).astimezone(UTC).isoformat())
    return _parse_comment(item, None, None, parent_id=None)


def _nested_replies(item: dict[str, Any]) -> list[Any]:
    replies = item.get("replies")
    data = replies.get("data") if isinstance(replies, dict) else None
    return data if isinstance(data, list) else []


def _parse_comment(
    item: Any, media_id: str | None, media_permalink: str | None, *, parent_id: str | None
) -> Mention:
    comment_id, text, created_at = graph_object(NETWORK, item, what="comment", text="text", time="timestamp")

    sender = item.get("from")
    sender_name = sender.get("username") if isinstance(sender, dict) else None
    handle = opt_str(item.get("username")) or opt_str(sender_name) or "unknown"
    parent = opt_str(item.get("parent_id")) or parent_id
    media = item.get("media")
    conversation = media_id or (opt_str(media.get("id")) if isinstance(media, dict) else None)
    return Mention(
        network=NETWORK,
        external_id=comment_id,
        kind="reply" if parent else "comment",
        author_handle=handle,
        text=text,
        created_at=created_at,
        permalink=media_permalink,
        parent_id=parent,
        conversation_id=conversation,
        raw=item,
    )


def _opt_count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


# ---------------------------------------------------------------------------------------------
# The connector


class InstagramOptions(GraphOptions):
    ig_user_id: str = Field(pattern=r"^[0-9]{1,32}$")


class InstagramConnector(Connector):
    """Polls one Instagram professional account: media engagement and comments; mentions arrive by webhook.

    Cursor (JSON): `{"media": {media_id: {"wm": watermark, "count": comments_count when last read}}}`.
    A media's comments are read again only when `comments_count` moved. They are filtered by
    watermark, not by position, so the (undocumented) order of the comments edge does not matter;
    a media with more comments than `max_pages` pages moves its watermark to the newest one read and
    logs that older ones were skipped.
    """

    network: ClassVar[str] = NETWORK
    Options: ClassVar[type[InstagramOptions]] = InstagramOptions
    default_base_url: ClassVar[str] = DEFAULT_GRAPH_URL
    options: InstagramOptions

    def _graph(self, http: SourceHttp) -> Graph:
        return Graph(self.name, NETWORK, self.base_url, self.options, http)

    def poll(self, cursor: dict[str, Any], *, http: SourceHttp, now: datetime) -> PollResult:
        """Read recent media and their engagement, then new comments on media whose count moved."""
        graph = self._graph(http)
        window = PollWindow.of(cursor, now=now, backfill=self.backfill, engagement_days=self.engagement_days)
        result = PollResult(mentions=[], cursor={})

        media = self._read_media(graph, window.since, result)
        result.own_posts.extend(p for p in media if p.created_at >= window.engagement_start)
        result.cursor["media"] = refresh_comments(
            media, cursor.get("media"), window, count=lambda post: post.comments,
            read=lambda post, state, default: self._read_comments(
                graph, post, Watermark.from_json(state.get("wm"), default=default), result))
        return result

    def _read_media(self, graph: Graph, since: datetime, result: PollResult) -> list[OwnPost]:
        fields = MEDIA_FIELDS
        if self.options.impressions_metric:
            fields += f",insights.metric({self.options.impressions_metric})"
        media: list[OwnPost] = []
        for payload, _after in graph.pages(f"{self.options.ig_user_id}/media", {"fields": fields, "limit": 50},
                                           max_pages=self.options.max_pages):
            page = parse_media(payload, impressions_metric=self.options.impressions_metric)
            result.rejected.extend(page.rejected)
            media.extend(p for p in page.posts if p.created_at >= since)
            # Newest first: once a page reaches past the window, the next pages are older still.
            if any(p.created_at < since for p in page.posts):
                break
        return media

    def _read_comments(self, graph: Graph, post: OwnPost, wm: Watermark, result: PollResult) -> dict[str, Any]:
        seen, finished = read_comment_pages(
            graph, f"{post.external_id}/comments", {"fields": COMMENT_FIELDS, "limit": 50},
            max_pages=self.options.max_pages, result=result, what=f"media {post.external_id}",
            parse=lambda payload: parse_comments(payload, media_id=post.external_id, media_permalink=post.permalink))
        if not finished and seen:
            logger.warning("source %s: media %s has more comments than %d pages; older ones were not read",
                           self.name, post.external_id, self.options.max_pages)
        # The account's own replies move the watermark but are not mentions.
        result.mentions.extend(m for m in seen if wm.is_new(m.created_at, m.external_id) and not self._is_own(m.raw))
        wm = wm.advance((m.created_at, m.external_id) for m in seen)
        return {"wm": wm.to_json(), "count": post.comments if finished else None}

    def handle_webhook(self, payload: Any, *, http: SourceHttp, now: datetime) -> PollResult:
        """Turn a signed webhook delivery into mentions, fetching @mention details from the Graph API.

        `mentions` changes with a `comment_id` fetch `mentioned_comment`, those with only a `media_id`
        (a caption @mention) fetch `mentioned_media`; `comments` changes are read as they are. A change
        the Graph API refuses is set aside in `rejected`; throttling and token errors are raised (the
        webhook route answers 503 and Meta delivers again later).

        Raises:
            PayloadInvalid: the delivery is not an Instagram webhook payload.
        """
        changes, rejected = parse_webhook(payload)
        graph = self._graph(http)

        def read(change: WebhookChange) -> Mention:
            if change.field == "comments":
                return parse_webhook_comment(change, received_at=now)
            return self._fetch_mention(graph, change.value)

        return handle_changes(NETWORK, changes, rejected, account_id=self.options.ig_user_id,
                              account_option="ig_user_id", read=read)

    def _fetch_mention(self, graph: Graph, value: dict[str, Any]) -> Mention:
        comment_id, media_id = opt_str(value.get("comment_id")), opt_str(value.get("media_id"))
        for name, ident in (("comment_id", comment_id), ("media_id", media_id)):
            if ident is not None and not ident.isdigit():
                raise PayloadInvalid(NETWORK, f"mentions {name} is not a numeric id", item=value)
        if comment_id:
            fields = f"mentioned_comment.comment_id({comment_id}){{{MENTIONED_COMMENT_FIELDS}}}"
            return parse_mentioned_comment(graph.get(self.options.ig_user_id, {"fields": fields}), media_id=media_id)
        if media_id:
            fields = f"mentioned_media.media_id({media_id}){{{MENTIONED_MEDIA_FIELDS}}}"
            return parse_mentioned_media(graph.get(self.options.ig_user_id, {"fields": fields}))
        raise PayloadInvalid(NETWORK, "mentions change has neither comment_id nor media_id", item=value)

    def reply(self, mention: MentionRef, text: str, *, http: SourceHttp, idempotency_key: str) -> str:
        """Reply `text` as the account under a comment (`POST /{ig-comment-id}/replies`); return the reply's id.

        Idempotent without storing the key on Instagram: the existing replies of that comment are read
        first, and a reply by this account with the very same text is returned instead of posting
        again; the POST is never retried blindly. A reply to a reply goes to its top-level comment
        (Instagram threads are one level deep). An @mention is on someone else's media: the answer
        goes through `POST /{ig-user-id}/mentions` (`media_id`, plus `comment_id` for a comment
        @mention), whose existing replies cannot be listed, so there idempotency rests on the
        no-blind-retry rule and the caller's key (pass the `Mention`, whose kind says it is one).
        """
        ref = _ref(mention)
        graph = self._graph(http)
        if ref["kind"] == "mention":
            # Someone else's media: its replies cannot be listed, so only the no-blind-retry rule applies.
            data = {"media_id": ref["media"] or ref["id"], "message": text}
            if ref["media"] and ref["id"] != ref["media"]:
                data["comment_id"] = ref["id"]
            answer = graph.post_once(f"{self.options.ig_user_id}/mentions", data)
        else:
            target = ref["parent"] or ref["id"]
            existing = graph.get(f"{target}/replies", {"fields": "id,text,username,from{id,username}", "limit": 100})
            for item in existing.get("data", []) if isinstance(existing, dict) else []:
                if isinstance(item, dict) and item.get("text") == text and self._is_own(item):
                    logger.info("source %s: reply %s already exists; not posting again", self.name, idempotency_key)
                    return str(item["id"])
            answer = graph.post_once(f"{target}/replies", {"message": text})
        new_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(new_id, str):
            raise PayloadInvalid(NETWORK, "the reply was sent but Graph returned no id", item=answer)
        return new_id

    def _is_own(self, item: dict[str, Any]) -> bool:
        sender = item.get("from")
        if isinstance(sender, dict) and sender.get("id") == self.options.ig_user_id:
            return isinstance(item.get("id"), str)
        return bool(self.handle) and item.get("username") == self.handle and isinstance(item.get("id"), str)

    def hide(self, mention: MentionRef, *, http: SourceHttp, idempotency_key: str) -> None:
        """Hide a comment on the account's media (`POST /{ig-comment-id}?hide=true`); idempotent by nature."""
        ref = _ref(mention)
        answer = self._graph(http).post_once(ref["id"], {"hide": "true"})
        if not (isinstance(answer, dict) and answer.get("success") is True):
            raise SourceError(self.name, f"Graph did not confirm hiding comment {ref['id']}")


def _ref(mention: MentionRef) -> dict[str, Any]:
    if isinstance(mention, Mention):
        return {"id": mention.external_id, "parent": mention.parent_id, "kind": mention.kind,
                "media": mention.conversation_id}
    raw = mention_raw(mention)
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise PayloadInvalid(NETWORK, "the mention's raw item has no id", item=raw)
    media = raw.get("media")
    if "caption" in raw:  # only a `mentioned_media` item has a caption among what this connector stores
        return {"id": item_id, "parent": None, "kind": "mention", "media": item_id}
    return {"id": item_id, "parent": opt_str(raw.get("parent_id")), "kind": "comment",
            "media": opt_str(media.get("id")) if isinstance(media, dict) else None}
