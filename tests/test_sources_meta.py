"""The Facebook Page and Instagram connectors poll, resume, throttle, reply and hide as Meta's Graph API documents."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitors.sources import facebook as fb_mod
from monitors.sources import instagram as ig_mod
from monitors.sources import linkedin as li_mod
from monitors.sources import youtube as yt_mod
from monitors.sources.base import AuthFailed, Mention, NotSupported, PayloadInvalid, RateLimited, SourceUnavailable
from monitors.sources.facebook import FacebookConnector
from monitors.sources.instagram import InstagramConnector
from monitors.sources.meta import signature_valid, usage
from monitors.webhooks import parse_items
from tests.fake_apis import FakeApi, form, json_response, load

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
PAGE = "108352974650231"
POST_A = f"{PAGE}_958755749892765"
POST_B = f"{PAGE}_958700000000001"
IG = "17841400000000001"
MEDIA = "17912345678901234"
HOSTILE = "<!channel> <@U12345> <http://evil.example|your bank> & &amp; <b>x</b> 🙋‍♀️ \u200b\n\ttrailing  "
TOKEN = "EAAG-secret-page-token"


def roundtrip(cursor: dict[str, Any]) -> dict[str, Any]:
    """What the store gives back after a restart: the cursor as JSON text, parsed again."""
    return json.loads(json.dumps(cursor))


# ---------------------------------------------------------------------------------------------
# Facebook


def facebook(**options: Any) -> FacebookConnector:
    opts = FacebookConnector.Options.model_validate({"page_id": PAGE, "access_token": TOKEN, **options})
    return FacebookConnector("fb-main", opts, base_url="https://graph.test", brand_handles={"facebook": "maisonlumen"},
                             keywords=[], backfill=timedelta(days=7), engagement_days=14)


def by_after(*pages: Any) -> Any:
    """A responder that serves `pages` by their `after` parameter: none for the first, then each page's cursor."""
    def respond(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        if after is None:
            return json_response(200, pages[0])
        for index, page in enumerate(pages[:-1]):
            if page["paging"]["cursors"]["after"] == after:
                return json_response(200, pages[index + 1])
        return json_response(400, {"error": {"code": 100, "message": "bad cursor"}})
    return respond


def fb_api(*, comments_a: list[Any] | None = None, tagged: Any = None) -> FakeApi:
    api = FakeApi()
    api.on("GET", f"/v23.0/{PAGE}/posts",
           by_after(load("facebook", "page_posts_p1"), load("facebook", "page_posts_p2")))
    api.on("GET", f"/v23.0/{POST_A}/comments",
           by_after(*(comments_a or [load("facebook", "post_comments"), load("facebook", "post_comments_p2")])))
    api.on("GET", f"/v23.0/{POST_B}/comments", {"data": []})
    api.on("GET", f"/v23.0/{PAGE}/tagged", tagged if tagged is not None else load("facebook", "tagged"))
    return api


class TestFacebookPoll:
    def test_first_poll_reads_posts_comments_over_pages_and_tags(self) -> None:
        api = fb_api()
        result = facebook(impressions_metric="post_impressions").poll({}, http=api.http(), now=NOW)

        assert result.rejected == []
        ids = [m.external_id for m in result.mentions]
        assert ids == [
            "958755749892765_1089274653812345", "958755749892765_1089274653899999",
            "958755749892765_1089274654000001", "958755749892765_1089274654100003",
            "100064012345678_122110000000000001", "100050000000000_122100000000000009",
        ]
        # The Page's own reply is read (it moves the watermark) but is not a mention.
        assert "958755749892765_1089274654100002" not in ids
        comment = result.mentions[3]
        assert comment.conversation_id == POST_A and comment.kind == "comment"
        reply = result.mentions[2]
        assert reply.kind == "reply" and reply.parent_id == "958755749892765_1089274653812345"
        tag = result.mentions[4]
        assert tag.kind == "mention" and tag.author_handle == "Atelier Brume" and tag.conversation_id == tag.external_id
        assert tag.raw == load("facebook", "tagged")["data"][0]

        post = {p.external_id: p for p in result.own_posts}[POST_A]
        assert (post.likes, post.comments, post.shares, post.impressions) == (231, 5, 12, 18250)
        assert post.media_type == "image" and post.text.startswith("Nouvelle collection")
        assert {p.external_id for p in result.own_posts} == {POST_A, POST_B}
        assert json.loads(json.dumps(result.cursor)) == result.cursor

    def test_requests_carry_the_token_in_a_header_and_page_by_after(self) -> None:
        api = fb_api()
        facebook(app_secret="app-secret-123").poll({}, http=api.http(), now=NOW)

        posts = api.calls("GET", f"/v23.0/{PAGE}/posts")
        assert [r.url.params.get("after") for r in posts] == [None, "QVFIUnA3c2NZAeDFn"]
        assert posts[0].url.params["since"] == str(int((NOW - timedelta(days=14)).timestamp()))
        assert "comments.filter(stream).summary(total_count)" in posts[0].url.params["fields"]
        for request in api.requests:
            assert request.headers["authorization"] == f"Bearer {TOKEN}"
            assert TOKEN not in str(request.url)
            assert len(request.url.params["appsecret_proof"]) == 64
        comments = api.calls("GET", f"/v23.0/{POST_A}/comments")[0]
        assert comments.url.params["filter"] == "stream" and comments.url.params["order"] == "chronological"

    def test_a_restarted_connector_fetches_nothing_twice(self) -> None:
        api = fb_api()
        first = facebook().poll({}, http=api.http(), now=NOW)

        api2 = fb_api()
        second = facebook().poll(roundtrip(first.cursor), http=api2.http(), now=NOW + timedelta(minutes=5))

        assert second.mentions == []
        # Comment counts did not move: no post's comments are read again.
        assert not [p for p in api2.paths() if p.endswith("/comments")]
        assert len(second.own_posts) == 2  # engagement is refreshed every poll

    def test_resume_reads_from_the_watermark_and_keeps_a_same_second_newcomer(self) -> None:
        first = facebook().poll({}, http=fb_api().http(), now=NOW)
        posts_p1 = load("facebook", "page_posts_p1")
        posts_p1["data"][0]["comments"]["summary"]["total_count"] = 6
        later = load("facebook", "post_comments_p2")
        same_second = {"id": "958755749892765_1089274654100004", "message": "Et en Suisse ?",
                       "created_time": "2026-11-20T12:20:41+0000", "from": {"id": "1", "name": "Lena"}}
        later["data"].append(same_second)
        api = FakeApi()
        api.on("GET", f"/v23.0/{PAGE}/posts", by_after(posts_p1, load("facebook", "page_posts_p2")))
        api.on("GET", f"/v23.0/{POST_A}/comments", later)
        api.on("GET", f"/v23.0/{PAGE}/tagged", load("facebook", "tagged"))

        second = facebook().poll(roundtrip(first.cursor), http=api.http(), now=NOW + timedelta(minutes=5))

        assert [m.external_id for m in second.mentions] == ["958755749892765_1089274654100004"]
        since = int(api.calls("GET", f"/v23.0/{POST_A}/comments")[0].url.params["since"])
        assert since == int(datetime(2026, 11, 20, 12, 20, 41, tzinfo=UTC).timestamp()) - 1
        assert not api.calls("GET", f"/v23.0/{POST_B}/comments")

    def test_a_damaged_cursor_falls_back_to_re_reading_not_to_a_crash(self) -> None:
        damaged = {"posts": {POST_A: {"wm": {"at": "yesterday"}, "count": "x"}, POST_B: 3},
                   "tagged": {"wm": [], "pending": {"token": 5}}}
        result = facebook().poll(damaged, http=fb_api().http(), now=NOW)
        assert len(result.mentions) == 6 and json.loads(json.dumps(result.cursor)) == result.cursor

    def test_duplicates_across_pages_and_empty_pages_are_handled(self) -> None:
        page1 = load("facebook", "post_comments")
        empty = {"data": [], "paging": {"cursors": {"after": "EMPTY"}, "next": "https://graph.test/next"}}
        page1["paging"]["cursors"]["after"] = "P1"
        empty_prev = copy.deepcopy(page1)
        last = load("facebook", "post_comments_p2")
        last["data"].insert(0, page1["data"][2])  # the same comment again on a later page
        api = fb_api(comments_a=[empty_prev, empty, last])

        result = facebook().poll({}, http=api.http(), now=NOW)

        ids = [m.external_id for m in result.mentions if m.conversation_id == POST_A]
        assert len(ids) == len(set(ids)) == 4
        assert len(api.calls("GET", f"/v23.0/{POST_A}/comments")) == 3

    def test_a_malformed_comment_is_set_aside_and_the_batch_survives(self) -> None:
        page1 = load("facebook", "post_comments")
        page1["data"].insert(1, {"id": "958755749892765_1", "message": "no time"})
        page1["data"].insert(2, {"message": "no id", "created_time": "2026-11-20T11:00:00+0000"})
        page1["data"].append({"id": "958755749892765_2", "message": HOSTILE * 2000,
                              "created_time": "2026-11-20T12:11:00+0000"})
        result = facebook().poll({}, http=fb_api(comments_a=[page1, load("facebook", "post_comments_p2")]).http(),
                                 now=NOW)

        assert sorted(r.reason for r in result.rejected) == [
            "comment 958755749892765_1 created_time is missing or not a string", "comment has no string id"]
        hostile = next(m for m in result.mentions if m.external_id == "958755749892765_2")
        assert hostile.text == HOSTILE * 2000  # kept byte for byte; escaping happens at rendering
        assert len(result.mentions) == 7

    def test_a_post_graph_refuses_is_skipped_not_fatal(self) -> None:
        api = fb_api()
        api.on("GET", f"/v23.0/{POST_B}/comments",
               json_response(400, {"error": {"code": 100, "message": "Unsupported get request."}}))
        result = facebook().poll({}, http=api.http(), now=NOW)

        assert len(result.mentions) == 6
        assert result.cursor["posts"][POST_B]["count"] is None  # read again next time

    def test_a_comments_page_that_is_not_json_is_set_aside(self) -> None:
        api = fb_api()
        api.on("GET", f"/v23.0/{POST_B}/comments", httpx.Response(200, text="<html>oops</html>"))
        result = facebook().poll({}, http=api.http(), now=NOW)

        assert [r.reason for r in result.rejected] == [
            f"GET /v23.0/{POST_B}/comments: the response is not JSON"]
        assert len(result.mentions) == 6

    def test_posts_listing_that_is_not_json_fails_the_poll(self) -> None:
        api = fb_api()
        api.on("GET", f"/v23.0/{PAGE}/posts", httpx.Response(200, text="not json"))
        with pytest.raises(PayloadInvalid):
            facebook().poll({}, http=api.http(), now=NOW)


class TestFacebookErrors:
    def test_usage_header_at_95_percent_raises_rate_limited_before_meta_blocks(self) -> None:
        api = fb_api()
        buc = {PAGE: [{"type": "pages", "call_count": 96, "total_cputime": 20, "total_time": 30,
                       "estimated_time_to_regain_access": 12}]}
        api.on("GET", f"/v23.0/{PAGE}/posts",
               httpx.Response(200, json=load("facebook", "page_posts_p2"),
                              headers={"X-Business-Use-Case-Usage": json.dumps(buc)}))
        with pytest.raises(RateLimited) as caught:
            facebook().poll({}, http=api.http(), now=NOW)
        assert caught.value.retry_after == 12 * 60

    def test_app_usage_header_below_the_limit_is_fine_and_above_waits_a_default(self) -> None:
        assert usage(httpx.Headers({"X-App-Usage": '{"call_count": 40, "total_time": 12, "total_cputime": 9}'})) \
            == (40.0, None)
        assert usage(httpx.Headers({"X-App-Usage": "not json", "X-Business-Use-Case-Usage": "[1]"})) == (0.0, None)
        api = fb_api()
        api.on("GET", f"/v23.0/{PAGE}/posts", httpx.Response(
            200, json={"data": []}, headers={"X-App-Usage": '{"call_count": 99, "total_time": 5, "total_cputime": 5}'}))
        with pytest.raises(RateLimited) as caught:
            facebook().poll({}, http=api.http(), now=NOW)
        assert caught.value.retry_after == 600

    def test_graph_throttling_error_code_is_a_rate_limit_not_a_failure(self) -> None:
        api = fb_api()
        api.on("GET", f"/v23.0/{PAGE}/posts", json_response(400, load("facebook", "error_throttled")))
        with pytest.raises(RateLimited):
            facebook().poll({}, http=api.http(), now=NOW)
        assert len(api.requests) == 1  # no retry into a throttle

    def test_expired_token_is_an_auth_failure_without_the_token(self) -> None:
        api = fb_api()
        api.on("GET", f"/v23.0/{PAGE}/posts", json_response(400, load("facebook", "error_token")))
        with pytest.raises(AuthFailed) as caught:
            facebook().poll({}, http=api.http(), now=NOW)
        assert "190" in caught.value.message and TOKEN not in str(caught.value)

    def test_401_is_an_auth_failure(self) -> None:
        api = fb_api()
        api.on("GET", f"/v23.0/{PAGE}/posts", json_response(401, {"error": {"code": 102, "message": "x"}}))
        with pytest.raises(AuthFailed) as caught:
            facebook().poll({}, http=api.http(), now=NOW)
        assert caught.value.status == 401

    def test_429_with_retry_after_is_waited_then_the_poll_succeeds(self) -> None:
        api = fb_api()
        api.on("GET", f"/v23.0/{PAGE}/tagged", httpx.Response(429, headers={"Retry-After": "2"}),
               load("facebook", "tagged"))
        result = facebook().poll({}, http=api.http(), now=NOW)

        assert 2.0 in api.sleeps and len(result.mentions) == 6

    def test_5xx_then_success(self) -> None:
        api = fb_api()
        api.on("GET", f"/v23.0/{PAGE}/tagged", httpx.Response(502), httpx.Response(503), load("facebook", "tagged"))
        assert len(facebook().poll({}, http=api.http(), now=NOW).mentions) == 6

    def test_timeouts_that_outlast_the_retries_are_unavailable(self) -> None:
        api = fb_api()
        api.on("GET", f"/v23.0/{PAGE}/posts", httpx.ReadTimeout("slow"))
        with pytest.raises(SourceUnavailable):
            facebook().poll({}, http=api.http(), now=NOW)
        assert len(api.requests) == 4


class TestFacebookActions:
    def comment(self) -> Mention:
        page = load("facebook", "post_comments")
        from monitors.sources.facebook import parse_comments

        return parse_comments(page, post_id=POST_A).mentions[0]

    def test_reply_posts_a_comment_under_the_thread(self) -> None:
        api = FakeApi()
        target = "958755749892765_1089274653812345"
        api.on("GET", f"/v23.0/{target}/comments", {"data": []})
        api.on("POST", f"/v23.0/{target}/comments", {"id": "958755749892765_999"})

        new_id = facebook().reply(self.comment(), "Merci !", http=api.http(), idempotency_key="reply:1")

        assert new_id == "958755749892765_999"
        post = api.calls("POST", f"/v23.0/{target}/comments")[0]
        assert form(post) == {"message": "Merci !"}
        assert post.headers["authorization"] == f"Bearer {TOKEN}"

    def test_reply_to_a_reply_goes_to_the_thread_and_an_existing_reply_is_not_posted_again(self) -> None:
        from monitors.sources.facebook import parse_comments

        reply = parse_comments(load("facebook", "post_comments"), post_id=POST_A).mentions[2]
        target = "958755749892765_1089274653812345"
        api = FakeApi()
        api.on("GET", f"/v23.0/{target}/comments",
               {"data": [{"id": "958755749892765_42", "message": "Merci !", "from": {"id": PAGE}}]})

        assert facebook().reply(reply, "Merci !", http=api.http(), idempotency_key="k") == "958755749892765_42"
        assert facebook().reply(reply.raw, "Merci !", http=api.http(), idempotency_key="k") == "958755749892765_42"
        assert not api.calls("POST", f"/v23.0/{target}/comments")

    def test_a_reply_post_that_times_out_is_not_retried_blindly(self) -> None:
        api = FakeApi()
        target = "958755749892765_1089274653812345"
        api.on("GET", f"/v23.0/{target}/comments", {"data": []})
        api.on("POST", f"/v23.0/{target}/comments", httpx.ReadTimeout("slow"))
        with pytest.raises(SourceUnavailable):
            facebook().reply(self.comment(), "Merci !", http=api.http(), idempotency_key="k")
        assert len(api.calls("POST", f"/v23.0/{target}/comments")) == 1

    def test_hide_sets_is_hidden_and_is_idempotent(self) -> None:
        api = FakeApi()
        target = "958755749892765_1089274653812345"
        api.on("POST", f"/v23.0/{target}", {"success": True})
        facebook().hide(self.comment(), http=api.http(), idempotency_key="h")
        facebook().hide(self.comment(), http=api.http(), idempotency_key="h")

        assert [form(r) for r in api.requests] == [{"is_hidden": "true"}] * 2

    def test_a_tagged_post_cannot_be_hidden(self) -> None:
        from monitors.sources.facebook import parse_tagged

        tag = parse_tagged(load("facebook", "tagged")).mentions[0]
        with pytest.raises(NotSupported):
            facebook().hide(tag, http=FakeApi().http(), idempotency_key="h")


MENTION_COMMENT = "998877665544332_1122334455667788"
MENTION_POST = "334455667788990_887766554433221"


def mention_api() -> FakeApi:
    api = FakeApi()
    api.on("GET", f"/v23.0/{MENTION_COMMENT}", load("facebook", "mention_comment"))
    api.on("GET", f"/v23.0/{MENTION_POST}", load("facebook", "mention_post"))
    return api


class TestFacebookMentionWebhook:
    def test_comment_and_post_mentions_are_fetched_through_the_graph_api(self) -> None:
        api = mention_api()
        result = facebook().handle_webhook(load("facebook", "webhook_mention"), http=api.http(), now=NOW)

        assert result.rejected == []
        comment, post = result.mentions
        assert (comment.kind, comment.external_id, comment.conversation_id) == (
            "mention", MENTION_COMMENT, "223344556677889_998877665544332")
        assert comment.author_handle == "Camille Martin" and comment.text.endswith("to Québec?")
        assert comment.created_at == datetime(2026, 11, 20, 6, 59, 50, tzinfo=UTC)
        assert comment.permalink == ("https://www.facebook.com/223344556677889/posts/998877665544332"
                                     "?comment_id=1122334455667788")
        assert (post.kind, post.external_id, post.conversation_id) == ("mention", MENTION_POST, MENTION_POST)
        assert post.author_handle == "Déco Chez Soi"
        assert [(r.url.path, r.url.params["fields"]) for r in api.requests] == [
            (f"/v23.0/{MENTION_COMMENT}", fb_mod.COMMENT_FIELDS), (f"/v23.0/{MENTION_POST}", fb_mod.TAGGED_FIELDS)]
        assert all(r.headers["authorization"] == f"Bearer {TOKEN}" and TOKEN not in str(r.url) for r in api.requests)

    def test_a_remove_verb_fetches_and_ingests_nothing(self) -> None:
        api = mention_api()
        result = facebook().handle_webhook(load("facebook", "webhook_mention_remove"), http=api.http(), now=NOW)
        assert result.mentions == [] and result.rejected == [] and api.requests == []

    def test_bad_changes_are_set_aside_and_the_good_ones_kept(self) -> None:
        payload = load("facebook", "webhook_mention")
        changes = payload["entry"][0]["changes"]
        changes += [{"field": "mention", "value": {"item": "comment", "verb": "add", "comment_id": "../../me"}},
                    {"field": "mention", "value": {"item": "comment", "verb": "add", "post_id": "1_2"}},
                    {"field": "mention", "value": {"item": "post", "verb": "like", "post_id": "1_2"}},
                    {"field": "mention", "value": {"item": "post", "verb": "add", "post_id": "1_3",
                                                   "sender_id": PAGE}},  # the Page naming itself
                    {"field": "feed", "value": {"item": "status", "verb": "add"}},  # not a mention: ignored
                    {"field": "mention", "value": "junk"}]
        api = mention_api()
        api.on("GET", f"/v23.0/{MENTION_POST}", json_response(400, {"error": {
            "code": 100, "message": "Unsupported get request. Object does not exist"}}))
        result = facebook().handle_webhook(payload, http=api.http(), now=NOW)

        assert [m.external_id for m in result.mentions] == [MENTION_COMMENT]
        assert sorted(r.reason for r in result.rejected) == [
            "mention comment_id is not a Graph id", "mention could not be fetched: GET "
            f"/v23.0/{MENTION_POST} answered 400", "mention of a comment has no comment_id",
            "mention verb is not add, edit or remove", "webhook change has no value object"]
        refused = [r for r in result.rejected if "could not be fetched" in r.reason][0]
        assert refused.item["post_id"] == MENTION_POST  # kept aside with the delivery's value

    def test_throttling_and_outages_are_raised_so_meta_delivers_again(self) -> None:
        api = mention_api()
        api.on("GET", f"/v23.0/{MENTION_COMMENT}", json_response(400, load("facebook", "error_throttled")))
        with pytest.raises(RateLimited):
            facebook().handle_webhook(load("facebook", "webhook_mention"), http=api.http(), now=NOW)
        api.on("GET", f"/v23.0/{MENTION_COMMENT}", httpx.Response(503))
        with pytest.raises(SourceUnavailable):
            facebook().handle_webhook(load("facebook", "webhook_mention"), http=api.http(), now=NOW)

    def test_a_delivery_for_another_page_or_not_a_page_is_refused(self) -> None:
        payload = load("facebook", "webhook_mention")
        payload["entry"][0]["id"] = "999"
        result = facebook().handle_webhook(payload, http=mention_api().http(), now=NOW)
        assert result.mentions == [] and all("not this source's page_id" in r.reason for r in result.rejected)
        with pytest.raises(PayloadInvalid):
            facebook().handle_webhook(load("instagram", "webhook_mentions"), http=FakeApi().http(), now=NOW)


# ---------------------------------------------------------------------------------------------
# Instagram


def instagram(**options: Any) -> InstagramConnector:
    opts = InstagramConnector.Options.model_validate({"ig_user_id": IG, "access_token": TOKEN, **options})
    return InstagramConnector("ig-main", opts, base_url="https://graph.test",
                              brand_handles={"instagram": "maisonlumen"}, keywords=[], backfill=timedelta(days=7),
                              engagement_days=14)


def ig_api(comments: Any = None) -> FakeApi:
    api = FakeApi()
    api.on("GET", f"/v23.0/{IG}/media", load("instagram", "media"))
    api.on("GET", f"/v23.0/{MEDIA}/comments", comments or load("instagram", "media_comments"))
    return api


class TestInstagramPoll:
    def test_first_poll_reads_media_engagement_and_comments_with_nested_replies(self) -> None:
        api = ig_api()
        comments = load("instagram", "media_comments")
        del comments["paging"]
        comments["data"].append({"id": "17800000000000009", "text": "Merci ❤️", "timestamp": "2026-11-20T11:00:00+0000",
                                 "from": {"id": IG, "username": "maisonlumen"}, "parent_id": "17870913679156914"})
        api.on("GET", f"/v23.0/{MEDIA}/comments", comments)
        result = instagram().poll({}, http=api.http(), now=NOW)

        assert [m.external_id for m in result.mentions] == [
            "17858154961981086", "17873440459141021", "17870913679156914", "17881234567890123"]
        assert all(m.conversation_id == MEDIA and m.permalink == "https://www.instagram.com/p/DL1umAur0re/"
                   for m in result.mentions)
        (post,) = result.own_posts  # the reel is older than the window: not listed, not read
        assert (post.likes, post.comments, post.media_type) == (842, 4, "carousel")
        assert [r.url.path for r in api.requests] == [f"/v23.0/{IG}/media", f"/v23.0/{MEDIA}/comments"]

    def test_a_restarted_connector_reads_comments_only_when_the_count_moves(self) -> None:
        comments = load("instagram", "media_comments")
        del comments["paging"]
        first = instagram().poll({}, http=ig_api(comments).http(), now=NOW)

        api = ig_api(comments)
        assert instagram().poll(roundtrip(first.cursor), http=api.http(), now=NOW).mentions == []
        assert not api.calls("GET", f"/v23.0/{MEDIA}/comments")

        media = load("instagram", "media")
        media["data"][0]["comments_count"] = 5
        grown = copy.deepcopy(comments)
        grown["data"].insert(0, {"id": "17800000000000010", "text": "🔥", "timestamp": "2026-11-20T12:25:00+0000",
                                 "username": "new.fan"})
        api = ig_api(grown)
        api.on("GET", f"/v23.0/{IG}/media", media)
        third = instagram().poll(roundtrip(first.cursor), http=api.http(), now=NOW)
        assert [m.external_id for m in third.mentions] == ["17800000000000010"]

    def test_malformed_media_is_set_aside(self) -> None:
        media = load("instagram", "media")
        media["data"].insert(0, {"id": "1", "caption": 5, "timestamp": "2026-11-20T00:00:00+0000"})
        api = ig_api()
        api.on("GET", f"/v23.0/{IG}/media", media)
        result = instagram().poll({}, http=api.http(), now=NOW)

        assert [r.reason for r in result.rejected] == ["media 1 caption is not a string"]
        assert len(result.own_posts) == 1


class TestInstagramWebhook:
    def test_mentions_are_fetched_through_the_graph_api(self) -> None:
        api = FakeApi()
        api.on("GET", f"/v23.0/{IG}", lambda r: json_response(200, load(
            "instagram", "mentioned_comment" if "mentioned_comment" in r.url.params["fields"] else "mentioned_media")))
        result = instagram().handle_webhook(load("instagram", "webhook_mentions"), http=api.http(), now=NOW)

        assert result.rejected == []
        comment, media = result.mentions
        assert comment.kind == "mention" and comment.external_id == "17967008497439572"
        assert comment.conversation_id == "17887498072083520" and comment.author_handle == "lea.deco"
        assert media.external_id == "17889114512354744" and media.text == "Mon salon avec @maisonlumen"
        fields = [r.url.params["fields"] for r in api.requests]
        assert fields == ["mentioned_comment.comment_id(17967008497439572){id,text,timestamp,like_count,username}",
                          "mentioned_media.media_id(17889114512354744){id,caption,timestamp,media_type,"
                          "comments_count,like_count,username}"]

    def test_comment_deliveries_are_read_as_they_are(self) -> None:
        api = FakeApi()
        result = instagram().handle_webhook(load("instagram", "webhook_comments"), http=api.http(), now=NOW)

        (mention,) = result.mentions
        assert mention.kind == "comment" and mention.conversation_id == MEDIA
        assert mention.created_at == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
        assert api.requests == []

    def test_a_bad_change_is_set_aside_and_throttling_is_raised(self) -> None:
        payload = load("instagram", "webhook_mentions")
        payload["entry"][0]["changes"].append({"field": "mentions", "value": {"comment_id": "../../me"}})
        payload["entry"][0]["changes"].append({"field": "mentions", "value": {}})
        api = FakeApi()
        api.on("GET", f"/v23.0/{IG}", load("instagram", "mentioned_media"))
        result = instagram().handle_webhook(payload, http=api.http(), now=NOW)
        assert sorted(r.reason for r in result.rejected) == [
            "mentioned_comment is missing or not an object",  # Graph answered with the wrong object
            "mentions change has neither comment_id nor media_id", "mentions comment_id is not a numeric id"]
        assert [m.external_id for m in result.mentions] == ["17889114512354744"]

        api.on("GET", f"/v23.0/{IG}", json_response(400, load("facebook", "error_throttled")))
        with pytest.raises(RateLimited):
            instagram().handle_webhook(payload, http=api.http(), now=NOW)

    def test_a_delivery_for_another_account_is_rejected(self) -> None:
        payload = load("instagram", "webhook_comments")
        payload["entry"][0]["id"] = "999"
        result = instagram().handle_webhook(payload, http=FakeApi().http(), now=NOW)
        assert result.mentions == [] and "not this source's ig_user_id" in result.rejected[0].reason

    @pytest.mark.parametrize("payload", [None, [], {"object": "page", "entry": []}, {"object": "instagram"}])
    def test_a_delivery_that_is_not_instagram_raises(self, payload: Any) -> None:
        with pytest.raises(PayloadInvalid):
            instagram().handle_webhook(payload, http=FakeApi().http(), now=NOW)

    def test_meta_signature_check(self) -> None:
        import hashlib
        import hmac

        body = b'{"object":"instagram"}'
        good = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
        assert signature_valid("app-secret", body, good)
        assert not signature_valid("app-secret", body + b" ", good)
        assert not signature_valid("other", body, good)
        assert not signature_valid("app-secret", body, None)
        assert not signature_valid("app-secret", body, good.replace("sha256=", "sha1="))


class TestInstagramActions:
    def comment(self) -> Mention:
        from monitors.sources.instagram import parse_comments

        return parse_comments(load("instagram", "media_comments"), media_id=MEDIA).mentions[1]  # a nested reply

    def test_reply_goes_to_the_top_level_comment_and_is_idempotent(self) -> None:
        top = "17858154961981086"
        api = FakeApi()
        api.on("GET", f"/v23.0/{top}/replies", {"data": []},
               {"data": [{"id": "17800000000000077", "text": "Oui !", "from": {"id": IG, "username": "maisonlumen"}}]})
        api.on("POST", f"/v23.0/{top}/replies", {"id": "17800000000000077"})

        assert instagram().reply(self.comment(), "Oui !", http=api.http(), idempotency_key="k") == "17800000000000077"
        assert instagram().reply(self.comment(), "Oui !", http=api.http(), idempotency_key="k") == "17800000000000077"
        posts = api.calls("POST", f"/v23.0/{top}/replies")
        assert len(posts) == 1 and form(posts[0]) == {"message": "Oui !"}

    def test_reply_to_a_mention_goes_through_the_mentions_edge(self) -> None:
        from monitors.sources.instagram import parse_mentioned_comment

        mention = parse_mentioned_comment(load("instagram", "mentioned_comment"), media_id="17887498072083520")
        api = FakeApi()
        api.on("POST", f"/v23.0/{IG}/mentions", {"id": "17800000000000088"})
        assert instagram().reply(mention, "Désolés !", http=api.http(), idempotency_key="k") == "17800000000000088"
        assert form(api.requests[0]) == {"media_id": "17887498072083520", "comment_id": "17967008497439572",
                                         "message": "Désolés !"}

    def test_hide_sends_hide_true(self) -> None:
        api = FakeApi()
        api.on("POST", "/v23.0/17873440459141021", {"success": True})
        instagram().hide(self.comment(), http=api.http(), idempotency_key="h")
        assert form(api.requests[0]) == {"hide": "true"}


class TestGraphOptions:
    def test_secrets_are_masked_and_unknown_options_refused(self) -> None:
        connector = facebook()
        assert TOKEN not in repr(connector.options) and TOKEN not in repr(connector)
        with pytest.raises(ValueError):
            FacebookConnector.Options.model_validate({"page_id": PAGE, "access_token": "t", "pageid": "1"})
        with pytest.raises(ValueError):
            InstagramConnector.Options.model_validate({"ig_user_id": "abc", "access_token": "t"})


# ---------------------------------------------------------------------------------------------
# Every parser of these connectors is total: any JSON gives a result or PayloadInvalid, nothing else.

# Keys the parsers look for, so random documents reach deep into them rather than failing at the top.
KEYS = st.sampled_from([
    "data", "paging", "cursors", "after", "next", "id", "message", "created_time", "from", "name", "parent",
    "permalink_url", "reactions", "comments", "summary", "total_count", "shares", "count", "insights", "values",
    "value", "text", "timestamp", "username", "replies", "parent_id", "media", "caption", "like_count",
    "comments_count", "media_type", "mentioned_comment", "mentioned_media", "object", "entry", "changes", "field",
    "time", "elements", "commentUrn", "$URN", "created", "actor", "parentComment", "commentsSummary",
    "aggregatedTotalComments", "commentary", "createdAt", "publishedAt", "lifecycleState", "content", "start",
    "total", "share", "ugcPost", "totalShareStatistics", "likeCount", "items", "snippet", "topLevelComment",
    "publishedAt", "textOriginal", "textDisplay", "authorChannelId", "videoId", "totalReplyCount",
    "nextPageToken", "contentDetails", "videoPublishedAt", "statistics", "viewCount", "title", "description",
    "channelId", "author", "handle", "followers", "created_at", "kind", "network", "url", "lang",
    "verb", "item", "post_id", "comment_id", "sender_id", "action", "generatedActivity", "sourcePost",
    "lastModifiedAt", "results", "errors", "status",
])
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
           | st.sampled_from(["2026-11-20T09:15:02+0000", "2026-11-20T09:15:02Z", "instagram", "PUBLISHED",
                              "urn:li:comment:(a,1)", "urn:li:share:1", "mentions", "comments", "12", "REELS",
                              "mention", "add", "remove", "SHARE_MENTION", "1_2"]))
JSON = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(KEYS | st.text(max_size=8), children, max_size=6), max_leaves=40)

PARSERS = [
    fb_mod.parse_comments, fb_mod.parse_tagged, fb_mod.parse_posts,
    ig_mod.parse_comments, ig_mod.parse_media, ig_mod.parse_webhook, ig_mod.parse_mentioned_media,
    lambda p: ig_mod.parse_mentioned_comment(p, media_id="1"),
    lambda p: [ig_mod.parse_webhook_comment(c, received_at=NOW) for c in ig_mod.parse_webhook(p)[0]],
    fb_mod.parse_page_webhook, fb_mod.parse_mention_change, fb_mod.parse_mention_item,
    lambda p: [fb_mod.parse_mention_change(c.value) for c in fb_mod.parse_page_webhook(p)[0]],
    li_mod.parse_comments, li_mod.parse_posts, li_mod.parse_statistics,
    li_mod.parse_notifications, li_mod.parse_posts_batch, li_mod.parse_post_mention, li_mod.parse_comment_mention,
    yt_mod.parse_threads, lambda p: yt_mod.parse_replies(p, parent_id="x", video_id=None),
    yt_mod.parse_playlist, yt_mod.parse_videos, yt_mod.parse_search,
    lambda p: parse_items(p, network="web"),
]


class TestParsersAreTotal:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(payload=JSON)
    def test_random_json_yields_a_result_or_payload_invalid(self, payload: Any) -> None:
        for parse in PARSERS:
            try:
                parse(copy.deepcopy(payload))
            except PayloadInvalid:
                pass
