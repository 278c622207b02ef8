"""The X connector against recorded API v2 payloads: mentions, keyword search, own posts, reply and hide."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from monitors.sources.base import PayloadInvalid
from monitors.sources.x import XConnector, XOptions
from tests.source_fakes import FakeApi, fixture, ok

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
USER = "1587340021938475008"
MENTIONS = f"/2/users/{USER}/mentions"
TWEETS = f"/2/users/{USER}/tweets"
SEARCH = "/2/tweets/search/recent"
TOKEN = "x-secret-bearer-token-123"


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi(now=NOW)
    yield fake
    fake.close()


def make_x(**options: Any) -> XConnector:
    opts = XOptions(bearer_token=SecretStr(TOKEN), user_id=USER, **options)
    return XConnector("x-brand", opts, base_url="https://api.x.test", brand_handles={"x": "maisonlumen"},
                      keywords=["Maison Lumen", "lampe Aurore"], backfill=timedelta(days=7), engagement_days=14)


def first_page_then_second(request: httpx.Request) -> httpx.Response:
    if request.url.params.get("pagination_token") == fixture("x", "users_mentions")["meta"]["next_token"]:
        return ok(fixture("x", "users_mentions_page2"))
    return ok(fixture("x", "users_mentions"))


class TestFirstPoll:
    def test_backfills_walks_every_page_and_keeps_each_post_once(self, api: FakeApi) -> None:
        api.on("GET", MENTIONS, first_page_then_second).on("GET", SEARCH, ok(fixture("x", "search_recent")))
        api.on("GET", TWEETS, ok(fixture("x", "users_tweets")))

        result = make_x().poll({}, http=api.http(), now=NOW)

        first, second = api.params(MENTIONS)
        assert first["start_time"] == ["2026-11-13T12:00:00Z"] and "since_id" not in first
        assert second["pagination_token"] == ["7140dibdnow9c7btw4b4ehxeuzmmtvvv1dsrbs0lhw3rw"]
        assert api.calls(MENTIONS)[0].headers["authorization"] == f"Bearer {TOKEN}"
        ids = [m.external_id for m in result.mentions]
        # Page 2 repeats page 1's last post and search finds a mention again: each appears once.
        assert ids == ["1991536271841378306", "1991530012345678849", "1991522000000000001", "1991540000000000007"]
        kinds = {m.external_id: m.kind for m in result.mentions}
        assert kinds["1991536271841378306"] == "mention" and kinds["1991540000000000007"] == "keyword"
        assert kinds["1991530012345678849"] == "reply"
        assert result.cursor["mentions"] == {"since_id": "1991536271841378306"}
        assert result.cursor["search"] == {"since_id": "1991540000000000007"}
        assert result.rejected == []

    def test_the_keyword_query_excludes_the_brand_and_retweets(self, api: FakeApi) -> None:
        api.on("GET", MENTIONS, ok(fixture("x", "users_mentions_empty")))
        api.on("GET", SEARCH, ok(fixture("x", "users_mentions_empty")))
        api.on("GET", TWEETS, ok(fixture("x", "users_mentions_empty")))

        make_x().poll({}, http=api.http(), now=NOW)

        [params] = api.params(SEARCH)
        assert params["query"] == ['("Maison Lumen" OR "lampe Aurore") -from:maisonlumen -is:retweet']

    def test_own_posts_come_with_their_engagement(self, api: FakeApi) -> None:
        api.on("GET", MENTIONS, ok(fixture("x", "users_mentions_empty"))).on("GET", TWEETS,
                                                                              ok(fixture("x", "users_tweets")))
        result = make_x(search=False).poll({}, http=api.http(), now=NOW)

        launch = result.own_posts[0]
        assert (launch.external_id, launch.likes, launch.comments, launch.shares, launch.impressions) == (
            "1991120098765432321", 402, 12, 35, 18250)
        assert launch.permalink == "https://x.com/maisonlumen/status/1991120098765432321"
        [params] = api.params(TWEETS)
        assert params["exclude"] == ["retweets,replies"] and params["start_time"] == ["2026-11-06T12:00:00Z"]
        assert result.cursor["own_checked_at"] == NOW.isoformat()


class TestResume:
    def test_a_later_poll_asks_only_for_newer_posts(self, api: FakeApi) -> None:
        api.on("GET", MENTIONS, ok(fixture("x", "users_mentions_empty")))
        cursor = {"mentions": {"since_id": "1991536271841378306"}, "own_checked_at": NOW.isoformat()}

        result = make_x(search=False).poll(cursor, http=api.http(), now=NOW + timedelta(minutes=5))

        [params] = api.params(MENTIONS)
        assert params["since_id"] == ["1991536271841378306"] and "start_time" not in params
        assert result.mentions == [] and result.cursor["mentions"] == {"since_id": "1991536271841378306"}
        assert not api.calls(TWEETS), "engagement refreshed again before engagement_every_s"

    def test_a_walk_cut_short_by_max_pages_is_finished_before_moving_since_id(self, api: FakeApi) -> None:
        api.on("GET", MENTIONS, first_page_then_second)
        cursor = {"mentions": {"since_id": "1991500000000000000"}, "own_checked_at": NOW.isoformat()}

        first = make_x(search=False, max_pages=1).poll(cursor, http=api.http(), now=NOW)
        assert first.cursor["mentions"] == {"since_id": "1991500000000000000",
                                            "next_token": "7140dibdnow9c7btw4b4ehxeuzmmtvvv1dsrbs0lhw3rw",
                                            "newest_id": "1991536271841378306"}
        # After a restart the cursor comes back from the database, through JSON.
        restored = json.loads(json.dumps(first.cursor))
        second = make_x(search=False, max_pages=1).poll(restored, http=api.http(), now=NOW)

        resumed = api.params(MENTIONS)[1]
        assert resumed["pagination_token"] == ["7140dibdnow9c7btw4b4ehxeuzmmtvvv1dsrbs0lhw3rw"]
        assert resumed["since_id"] == ["1991500000000000000"]
        assert second.cursor["mentions"] == {"since_id": "1991536271841378306"}
        assert [m.external_id for m in second.mentions] == ["1991530012345678849", "1991522000000000001"]


    def test_a_search_since_id_older_than_seven_days_restarts_from_the_window(self, api: FakeApi) -> None:
        api.on("GET", MENTIONS, ok(fixture("x", "users_mentions_empty")))
        api.on("GET", SEARCH, ok({"title": "Invalid Request", "detail": "since_id too old"}, status=400),
               ok(fixture("x", "search_recent")))
        cursor = {"search": {"since_id": "1"}, "own_checked_at": NOW.isoformat()}

        result = make_x().poll(cursor, http=api.http(), now=NOW)

        refused, retried = api.params(SEARCH)
        assert refused["since_id"] == ["1"] and "since_id" not in retried
        assert retried["start_time"] == ["2026-11-13T13:00:00Z"]  # 6 days 23 hours: within what X allows
        assert result.cursor["search"] == {"since_id": "1991540000000000007"}


class TestItems:
    def test_a_post_with_missing_fields_is_set_aside_and_the_others_kept(self, api: FakeApi) -> None:
        page = fixture("x", "users_mentions")
        del page["data"][0]["created_at"]
        del page["meta"]["next_token"]
        api.on("GET", MENTIONS, ok(page))

        result = make_x(search=False, engagement_every_s=3600).poll({"own_checked_at": NOW.isoformat()},
                                                                   http=api.http(), now=NOW)

        assert [m.external_id for m in result.mentions] == ["1991530012345678849"]
        [problem] = result.rejected
        assert "created_at is missing" in problem.reason and problem.item["id"] == "1991536271841378306"

    def test_hostile_and_huge_text_comes_through_unchanged(self, api: FakeApi) -> None:
        text = "<!channel> <@U123> <http://evil.example|bank> & &amp; 🙋‍♀️\u202e\u200b" + "z" * 50_000
        page = fixture("x", "users_mentions")
        page["data"][0]["text"] = text
        del page["meta"]["next_token"]
        api.on("GET", MENTIONS, ok(page))

        result = make_x(search=False).poll({"own_checked_at": NOW.isoformat()}, http=api.http(), now=NOW)

        assert result.mentions[0].text == text

    def test_a_malformed_page_is_a_typed_error_without_the_token(self, api: FakeApi) -> None:
        api.on("GET", MENTIONS, ok({"unexpected": True}))
        with pytest.raises(PayloadInvalid) as caught:
            make_x(search=False).poll({}, http=api.http(), now=NOW)
        assert TOKEN not in str(caught.value)


class TestActions:
    def test_reply_posts_once_in_reply_to_the_mention(self, api: FakeApi) -> None:
        api.on("GET", TWEETS, ok(fixture("x", "users_mentions_empty")))
        api.on("POST", "/2/tweets", ok(fixture("x", "tweets_create"), status=201))
        reply_id = make_x().reply({"id": "1991536271841378306"}, "Yes, Aurore works with any dimmer.",
                                 http=api.http(), idempotency_key="reply:42")
        assert reply_id == "1991550000000000000"
        [post] = api.calls("/2/tweets", "POST")
        assert json.loads(post.content) == {"text": "Yes, Aurore works with any dimmer.",
                                            "reply": {"in_reply_to_tweet_id": "1991536271841378306"}}
        assert api.params(TWEETS)[0]["since_id"] == ["1991536271841378306"]

    def test_a_retried_reply_finds_the_first_one_and_posts_nothing(self, api: FakeApi) -> None:
        earlier = {"data": [{"id": "1991550000000000000", "text": "Yes, Aurore works with  any dimmer. https://t.co/x1",
                             "referenced_tweets": [{"type": "replied_to", "id": "1991536271841378306"}]}],
                   "meta": {"result_count": 1}}
        api.on("GET", TWEETS, ok(earlier))
        reply_id = make_x().reply({"id": "1991536271841378306"}, "Yes, Aurore works with any dimmer. https://a.b/c",
                                  http=api.http(), idempotency_key="reply:42")
        assert reply_id == "1991550000000000000"
        assert not api.calls("/2/tweets", "POST")

    def test_hide_is_a_put_hidden_true(self, api: FakeApi) -> None:
        api.on("PUT", "/2/tweets/1991530012345678849/hidden", ok(fixture("x", "tweets_hidden")))
        connector = make_x()
        for _ in range(2):  # hiding twice is harmless: X answers success again
            connector.hide({"id": "1991530012345678849"}, http=api.http(), idempotency_key="hide:7")
        calls = api.calls("/2/tweets/1991530012345678849/hidden", "PUT")
        assert len(calls) == 2 and json.loads(calls[0].content) == {"hidden": True}
