"""The Bluesky connector against recorded XRPC payloads: session, notifications, search, own posts, reply, hide."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from monitors.sources.base import AuthFailed, NotSupported
from monitors.sources.bluesky import BlueskyConnector, BlueskyOptions, tid_for
from tests.source_fakes import FakeApi, fixture, ok

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
X = "/xrpc/"
SESSION, REFRESH = X + "com.atproto.server.createSession", X + "com.atproto.server.refreshSession"
NOTIFS, SEARCH, FEED = (X + "app.bsky.notification.listNotifications", X + "app.bsky.feed.searchPosts",
                        X + "app.bsky.feed.getAuthorFeed")
GET_RECORD, CREATE, PUT = X + "com.atproto.repo.getRecord", X + "com.atproto.repo.createRecord", \
    X + "com.atproto.repo.putRecord"
BRAND_DID = "did:plc:maisonlumen4brand7x2q"


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi(now=NOW)
    fake.on("POST", SESSION, ok(fixture("bluesky", "createSession")))
    yield fake
    fake.close()


def make_bluesky(**options: Any) -> BlueskyConnector:
    opts = BlueskyOptions(identifier="maisonlumen.bsky.social", app_password=SecretStr("app-pass-1234"), **options)
    return BlueskyConnector("bsky", opts, base_url="https://pds.test", keywords=["Aurore lamp"],
                            backfill=timedelta(days=7), engagement_days=14)


def notifications(request: httpx.Request) -> httpx.Response:
    if request.url.params.get("cursor"):
        return ok(fixture("bluesky", "listNotifications_page2"))
    return ok(fixture("bluesky", "listNotifications_page1"))


def not_found(request: httpx.Request) -> httpx.Response:
    return ok(fixture("bluesky", "error_record_not_found"), status=400)


class TestPoll:
    def test_first_poll_logs_in_once_and_reads_mentions_replies_quotes_search_and_own_posts(self,
                                                                                            api: FakeApi) -> None:
        api.on("GET", NOTIFS, notifications).on("GET", SEARCH, ok(fixture("bluesky", "searchPosts")))
        api.on("GET", FEED, ok(fixture("bluesky", "getAuthorFeed")))

        result = make_bluesky().poll({}, http=api.http(network="bluesky"), now=NOW)

        [login] = api.calls(SESSION)
        assert json.loads(login.content) == {"identifier": "maisonlumen.bsky.social", "password": "app-pass-1234"}
        assert api.calls(NOTIFS)[0].headers["authorization"].startswith("Bearer eyJ0eXAiOiJhdCtqd3Qi")
        assert api.params(NOTIFS)[0]["reasons"] == ["mention", "reply", "quote"]
        kinds = [(m.kind, m.author_handle) for m in result.mentions]
        # The like is skipped, the mention from before the backfill window left out; search adds a keyword.
        assert kinds == [("reply", "alice.bsky.social"), ("mention", "tomdesign.bsky.social"),
                         ("mention", "alice.bsky.social"), ("keyword", "tomdesign.bsky.social")]
        reply = result.mentions[0]
        assert reply.parent_id == reply.conversation_id == f"at://{BRAND_DID}/app.bsky.feed.post/3lbrandaurore22"
        assert reply.permalink == "https://bsky.app/profile/alice.bsky.social/post/3lreplyalice001"
        assert result.cursor["notifications"] == {"newest": "2026-11-20T10:05:00.123Z"}
        [own] = result.own_posts  # the brand's repost of someone else's post is not the brand's post
        assert (own.likes, own.comments, own.shares) == (230, 9, 17)
        assert api.params(FEED)[0]["actor"] == [BRAND_DID]

    def test_a_later_poll_stops_at_the_newest_item_already_seen_and_keeps_the_session(self,
                                                                                     api: FakeApi) -> None:
        api.on("GET", NOTIFS, notifications)
        connector = make_bluesky(search=False)
        cursor = {"notifications": {"newest": "2026-11-20T10:05:00.123Z"}, "own_checked_at": NOW.isoformat()}

        result = connector.poll(cursor, http=api.http(network="bluesky"), now=NOW)
        connector.poll(result.cursor, http=api.http(network="bluesky"), now=NOW)

        assert len(api.calls(NOTIFS)) == 2, "walked past the stored boundary"
        assert [m.external_id for m in result.mentions] == [
            "at://did:plc:alice5h2k3l4m5n6o7p8q9/app.bsky.feed.post/3lreplyalice001"]
        assert len(api.calls(SESSION)) == 1

    def test_an_expired_access_token_is_refreshed_then_the_call_retried(self, api: FakeApi) -> None:
        refreshed = dict(fixture("bluesky", "createSession"), accessJwt="fresh-access", refreshJwt="fresh-refresh")
        api.on("GET", NOTIFS, ok(fixture("bluesky", "error_expired_token"), status=400), ok({"notifications": []}))
        api.on("POST", REFRESH, ok(refreshed))

        make_bluesky(search=False).poll({"own_checked_at": NOW.isoformat()}, http=api.http(network="bluesky"),
                                        now=NOW)

        [refresh] = api.calls(REFRESH)
        assert refresh.headers["authorization"] == "Bearer eyJ0eXAiOiJyZWZyZXNoK2p3dCJ9.fake-refresh.sig"
        assert api.calls(NOTIFS)[1].headers["authorization"] == "Bearer fresh-access"
        assert len(api.calls(SESSION)) == 1

    def test_a_wrong_app_password_is_an_auth_failure_that_quotes_no_secret(self, api: FakeApi) -> None:
        api.on("POST", SESSION, ok(fixture("bluesky", "error_auth"), status=401))
        with pytest.raises(AuthFailed) as caught:
            make_bluesky().poll({}, http=api.http(network="bluesky"), now=NOW)
        assert caught.value.status == 401 and "app-pass-1234" not in str(caught.value)


class TestActions:
    def test_reply_creates_one_post_under_a_key_derived_from_the_idempotency_key(self, api: FakeApi) -> None:
        api.on("GET", GET_RECORD, not_found).on("POST", CREATE, ok(fixture("bluesky", "createRecord")))
        reply_to = fixture("bluesky", "listNotifications_page1")["notifications"][0]

        uri = make_bluesky().reply(reply_to, "Not yet in green, but soon!", http=api.http(network="bluesky"),
                                   idempotency_key="reply:17")

        assert uri == f"at://{BRAND_DID}/app.bsky.feed.post/3lreplybrand07"
        [create] = api.calls(CREATE)
        body = json.loads(create.content)
        assert body["repo"] == BRAND_DID and body["rkey"] == api.params(GET_RECORD)[0]["rkey"][0]
        record = body["record"]
        assert record["text"] == "Not yet in green, but soon!"
        assert record["reply"]["root"]["uri"] == f"at://{BRAND_DID}/app.bsky.feed.post/3lbrandaurore22"
        assert record["reply"]["parent"] == {"uri": reply_to["uri"], "cid": reply_to["cid"]}

    def test_a_retried_reply_finds_its_record_and_creates_nothing(self, api: FakeApi) -> None:
        api.on("GET", GET_RECORD, ok({"uri": f"at://{BRAND_DID}/app.bsky.feed.post/3lexisting0001", "value": {}}))
        reply_to = fixture("bluesky", "listNotifications_page1")["notifications"][0]
        uri = make_bluesky().reply(reply_to, "again", http=api.http(network="bluesky"), idempotency_key="reply:17")
        assert uri.endswith("/3lexisting0001") and not api.calls(CREATE)

    def test_hide_adds_the_reply_to_the_threadgate_of_the_brands_thread(self, api: FakeApi) -> None:
        api.on("GET", GET_RECORD, not_found).on("POST", PUT, ok({"uri": "at://x", "cid": "y"}))
        reply = fixture("bluesky", "listNotifications_page1")["notifications"][0]

        make_bluesky().hide(reply, http=api.http(network="bluesky"), idempotency_key="hide:1")

        [put] = api.calls(PUT)
        body = json.loads(put.content)
        assert (body["collection"], body["rkey"]) == ("app.bsky.feed.threadgate", "3lbrandaurore22")
        assert body["record"]["hiddenReplies"] == [reply["uri"]]
        assert "allow" not in body["record"], "an empty allow list would forbid every reply"

    def test_hiding_twice_changes_nothing_the_second_time(self, api: FakeApi) -> None:
        reply = fixture("bluesky", "listNotifications_page1")["notifications"][0]
        gate = {"uri": "at://g", "cid": "bafygate", "value": {"$type": "app.bsky.feed.threadgate",
                                                              "post": "p", "hiddenReplies": [reply["uri"]]}}
        api.on("GET", GET_RECORD, ok(gate))
        make_bluesky().hide(reply, http=api.http(network="bluesky"), idempotency_key="hide:1")
        assert not api.calls(PUT)

    def test_hide_outside_the_brands_threads_is_not_supported(self, api: FakeApi) -> None:
        mention = fixture("bluesky", "listNotifications_page1")["notifications"][2]
        with pytest.raises(NotSupported, match="threads the brand started"):
            make_bluesky().hide(mention, http=api.http(network="bluesky"), idempotency_key="hide:2")


def test_record_keys_are_valid_tids_stable_per_key() -> None:
    at = datetime(2026, 11, 20, 10, 5, tzinfo=UTC)
    first, again, other = tid_for("reply:17", at=at), tid_for("reply:17", at=at), tid_for("reply:18", at=at)
    assert first == again != other
    # https://atproto.com/specs/tid: 13 base32-sortable characters, the top bit clear.
    assert re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", first)
