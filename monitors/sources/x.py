"""Parse one X API v2 response page (mentions timeline or recent search) into a `Page` of `Mention`s.

Followed:
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

from datetime import UTC, datetime
from typing import Any

from monitors.sources.base import Mention, Page, PayloadInvalid

NETWORK = "x"


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
