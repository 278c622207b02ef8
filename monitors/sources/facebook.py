"""Parse one Facebook Graph API page of comments on a Page post into a `Page` of `Mention`s.

Followed:
- https://developers.facebook.com/docs/graph-api/reference/object/comments
  (`GET /{object-id}/comments`; since v11 other users' profile data may be withheld, so `from`
  can be absent);
- https://developers.facebook.com/docs/graph-api/reference/comment (Comment fields: `id`, `message`,
  `created_time`, `from`, `permalink_url`, `parent`);
- https://developers.facebook.com/docs/graph-api/results/ (cursor paging: `paging.cursors.after`,
  `paging.next`).

The request this parser expects:
`fields=id,message,created_time,from{id,name},permalink_url,parent` (`filter=stream` to also get replies).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitors.sources.base import Mention, Page, PayloadInvalid

NETWORK = "facebook"


def parse_comments(payload: dict[str, Any], *, post_id: str | None = None) -> Page:
    """Turn one page of Page-post comments into mentions; quarantine malformed ones in `Page.rejected`.

    - `kind` is "reply" when the comment has a `parent` (its id becomes `parent_id`), else "comment".
    - `conversation_id` is `post_id`.
    - `author_handle` is `from.name`, else `from.id`, else "unknown" when Facebook withholds the
      commenter (privacy); `author_name` is `from.name`. Facebook gives no follower count or language.
    - A comment without `message` (a sticker or photo only) is kept with empty text.
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
            mentions.append(_parse_comment(item, post_id))
        except PayloadInvalid as exc:
            rejected.append(exc)
    return Page(mentions=mentions, cursor=_after_cursor(payload.get("paging")), rejected=rejected)


def _parse_comment(item: Any, post_id: str | None) -> Mention:
    if not isinstance(item, dict):
        raise PayloadInvalid(NETWORK, f"comment is {type(item).__name__}, not an object", item=item)
    comment_id = item.get("id")
    if not isinstance(comment_id, str) or not comment_id:
        raise PayloadInvalid(NETWORK, "comment has no string id", item=item)
    text = item.get("message", "")
    if not isinstance(text, str):
        raise PayloadInvalid(NETWORK, f"comment {comment_id} message is not a string", item=item)
    created_at = _parse_time(item.get("created_time"), item, what=f"comment {comment_id} created_time")

    sender = item.get("from")
    name = _opt_str(sender.get("name")) if isinstance(sender, dict) else None
    sender_id = _opt_str(sender.get("id")) if isinstance(sender, dict) else None
    parent = item.get("parent")
    parent_id = _opt_str(parent.get("id")) if isinstance(parent, dict) else None
    return Mention(
        network=NETWORK,
        external_id=comment_id,
        kind="reply" if parent_id else "comment",
        author_handle=name or sender_id or "unknown",
        text=text,
        created_at=created_at,
        author_name=name,
        permalink=_opt_str(item.get("permalink_url")),
        parent_id=parent_id,
        conversation_id=post_id,
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
