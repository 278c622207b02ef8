"""The Reddit connector against recorded Listings: token, inbox mentions and replies, search, own posts, actions."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from monitors.sources.base import AuthFailed, NotSupported
from monitors.sources.reddit import RedditConnector, RedditOptions
from tests.source_fakes import FakeApi, fixture, ok

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
T = datetime(2026, 11, 20, 10, 0, tzinfo=UTC).timestamp()
TOKEN_PATH = "/api/v1/access_token"


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi(now=NOW)
    fake.on("POST", TOKEN_PATH, ok(fixture("reddit", "access_token")))
    fake.on("GET", "/message/mentions", mentions)
    fake.on("GET", "/message/comments", ok(fixture("reddit", "message_comments")))
    fake.on("GET", "/search", ok(fixture("reddit", "search")))
    fake.on("GET", "/user/maisonlumen/submitted", ok(fixture("reddit", "user_submitted")))
    yield fake
    fake.close()


def mentions(request: httpx.Request) -> httpx.Response:
    if request.url.params.get("after") == "t1_m0ent2":
        return ok(fixture("reddit", "message_mentions_page2"))
    return ok(fixture("reddit", "message_mentions"))


def make_reddit(**options: Any) -> RedditConnector:
    opts = RedditOptions(client_id="cid-123", client_secret=SecretStr("reddit-secret"), username="maisonlumen",
                         password=SecretStr("hunter2-reddit"), auth_url="https://www.reddit.test", **options)
    return RedditConnector("reddit-brand", opts, base_url="https://oauth.reddit.test", keywords=["Maison Lumen"],
                           backfill=timedelta(days=7), engagement_days=14)


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode())


class TestPoll:
    def test_first_poll_reads_mentions_replies_search_and_own_posts(self, api: FakeApi) -> None:
        result = make_reddit().poll({}, http=api.http(network="reddit"), now=NOW)

        [token] = api.calls(TOKEN_PATH)
        assert token.headers["authorization"] == "Basic " + base64.b64encode(b"cid-123:reddit-secret").decode()
        assert form(token) == {"grant_type": ["password"], "username": ["maisonlumen"],
                               "password": ["hunter2-reddit"]}
        first = api.calls("/message/mentions")[0]
        assert first.headers["authorization"] == "bearer eyJhbGciOiJSUzI1NiJ9.fake-reddit-token.sig"
        assert first.headers["user-agent"] == "python:veille:0.1 (by /u/maisonlumen)"
        by_id = {m.external_id: m for m in result.mentions}
        # Page 2 repeats t1_m0ent2: it is kept once.
        assert list(by_id) == ["t1_m0ent3", "t1_m0ent2", "t1_m0ent1", "t1_m0cmt1", "t3_1gxsrch"]
        assert [m.kind for m in result.mentions] == ["mention", "mention", "mention", "comment", "keyword"]
        comment = by_id["t1_m0cmt1"]
        assert (comment.parent_id, comment.conversation_id) == ("t3_1gxbrand", "t3_1gxbrand")
        assert comment.permalink.startswith("https://www.reddit.com/r/maisonlumen/comments/1gxbrand/")
        assert by_id["t3_1gxsrch"].text.startswith("Avis sur la lampe Aurore de Maison Lumen ?\n\nJe hésite")
        assert result.cursor["mentions"] == {"newest": T + 1200}
        [own] = result.own_posts
        assert (own.external_id, own.likes, own.comments, own.shares) == ("t3_1gxbrand", 321, 45, 2)

    def test_a_later_poll_stops_at_the_stored_boundary_and_reuses_the_token(self, api: FakeApi) -> None:
        connector = make_reddit(search=False)
        cursor = {"mentions": {"newest": T + 600}, "comments": {"newest": T + 900},
                  "own_checked_at": NOW.isoformat()}

        result = connector.poll(cursor, http=api.http(network="reddit"), now=NOW)
        connector.poll(result.cursor, http=api.http(network="reddit"), now=NOW)

        assert [m.external_id for m in result.mentions] == ["t1_m0ent3", "t1_m0ent2", "t1_m0cmt1"]
        assert len(api.calls(TOKEN_PATH)) == 1
        assert not api.calls("/user/maisonlumen/submitted")

    def test_a_wrong_password_answered_200_invalid_grant_is_an_auth_failure(self, api: FakeApi) -> None:
        api.on("POST", TOKEN_PATH, ok(fixture("reddit", "access_token_invalid_grant")))
        with pytest.raises(AuthFailed) as caught:
            make_reddit().poll({}, http=api.http(network="reddit"), now=NOW)
        assert "invalid_grant" in str(caught.value) and "hunter2" not in str(caught.value)


class TestActions:
    def test_reply_comments_under_the_item(self, api: FakeApi) -> None:
        api.on("GET", "/user/maisonlumen/comments", ok(fixture("reddit", "user_comments")))
        api.on("POST", "/api/comment", ok(fixture("reddit", "comment_create")))
        reply = make_reddit().reply({"name": "t1_m0ent3"}, "Bonjour ! Oui, nous livrons en Suisse.",
                                    http=api.http(network="reddit"), idempotency_key="r:1")
        assert reply == "t1_m0rep1"
        [post] = api.calls("/api/comment", "POST")
        assert form(post) == {"thing_id": ["t1_m0ent3"], "text": ["Bonjour ! Oui, nous livrons en Suisse."],
                              "api_type": ["json"]}

    def test_a_retried_reply_finds_the_brands_earlier_comment(self, api: FakeApi) -> None:
        earlier = fixture("reddit", "message_mentions")
        earlier["data"]["children"][0]["data"].update(name="t1_m0rep1", parent_id="t1_m0ent3", author="maisonlumen",
                                                      body="Bonjour !  Oui, nous livrons en Suisse.")
        api.on("GET", "/user/maisonlumen/comments", ok(earlier))
        reply = make_reddit().reply({"name": "t1_m0ent3"}, "Bonjour ! Oui, nous livrons en Suisse.",
                                    http=api.http(network="reddit"), idempotency_key="r:1")
        assert reply == "t1_m0rep1" and not api.calls("/api/comment", "POST")

    def test_hide_needs_a_moderator_account(self, api: FakeApi) -> None:
        with pytest.raises(NotSupported, match="moderator"):
            make_reddit().hide({"name": "t1_m0ent3"}, http=api.http(network="reddit"), idempotency_key="h")
        api.on("POST", "/api/remove", ok({}))
        make_reddit(moderator=True).hide({"name": "t1_m0ent3"}, http=api.http(network="reddit"),
                                         idempotency_key="h")
        assert form(api.calls("/api/remove")[0]) == {"id": ["t1_m0ent3"], "spam": ["false"]}
