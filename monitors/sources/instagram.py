"""Parse one Instagram Graph API page of comments on a media into a `Page` of `Mention`s.

Followed:
- https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments
  (`GET /{ig-media-id}/comments`, `data` + `paging.cursors.after` / `paging.next`);
- https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment
  (IG Comment fields) and https://developers.facebook.com/docs/graph-api/changelog/ooc-changes/oct-20-2021
  (`from{id,username}` and `parent_id`);
- https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies
  (replies are IG Comments; a reply to a reply is attached to the top-level comment).

The request this parser expects:
`fields=id,text,timestamp,username,like_count,from,parent_id,replies` (the same shape also comes
from `GET /{ig-comment-id}/replies`, whose items carry `parent_id`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitors.sources.base import Mention, Page, PayloadInvalid

NETWORK = "instagram"


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
    if not isinstance(payload, dict):
        raise PayloadInvalid(NETWORK, f"page is {type(payload).__name__}, not an object", item=payload)
    items = payload.get("data")
    if not isinstance(items, list):
        raise PayloadInvalid(NETWORK, "data is missing or not a list", item=payload)

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
    return Page(mentions=mentions, cursor=_after_cursor(payload.get("paging")), rejected=rejected)


def _nested_replies(item: dict[str, Any]) -> list[Any]:
    replies = item.get("replies")
    data = replies.get("data") if isinstance(replies, dict) else None
    return data if isinstance(data, list) else []


def _parse_comment(
    item: Any, media_id: str | None, media_permalink: str | None, *, parent_id: str | None
) -> Mention:
    if not isinstance(item, dict):
        raise PayloadInvalid(NETWORK, f"comment is {type(item).__name__}, not an object", item=item)
    comment_id = item.get("id")
    if not isinstance(comment_id, str) or not comment_id:
        raise PayloadInvalid(NETWORK, "comment has no string id", item=item)
    text = item.get("text", "")
    if not isinstance(text, str):
        raise PayloadInvalid(NETWORK, f"comment {comment_id} text is not a string", item=item)
    created_at = _parse_time(item.get("timestamp"), item, what=f"comment {comment_id} timestamp")

    sender = item.get("from")
    sender_name = sender.get("username") if isinstance(sender, dict) else None
    handle = _opt_str(item.get("username")) or _opt_str(sender_name) or "unknown"
    parent = _opt_str(item.get("parent_id")) or parent_id
    media = item.get("media")
    conversation = media_id or (_opt_str(media.get("id")) if isinstance(media, dict) else None)
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


def _after_cursor(paging: Any) -> str | None:
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    return _opt_str(after)


def _parse_time(value: Any, item: Any, *, what: str) -> datetime:
    if not isinstance(value, str):
        raise PayloadInvalid(NETWORK, f"{what} is missing or not a string", item=item)
    try:
        # Graph timestamps look like 2026-11-20T09:15:02+0000, which fromisoformat reads since 3.11.
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
