"""The LinkedIn and YouTube connectors poll, resume, respect quotas, reply and hide as their APIs document."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from monitors.sources.base import (
    AuthFailed,
    ConfigInvalid,
    NotSupported,
    PayloadInvalid,
    RateLimited,
    SourceUnavailable,
)
from monitors.sources.linkedin import LinkedInConnector, enc
from monitors.sources.youtube import YouTubeConnector, parse_threads, seconds_until_pacific_midnight
from tests.fake_apis import FakeApi, json_response, load

ORG = "urn:li:organization:5515715"
S1 = "urn:li:share:7263000000000000001"
U2 = "urn:li:ugcPost:7262000000000000002"
C1 = "urn:li:comment:(urn:li:activity:7263000000000000010,7263100000000000001)"
C2 = "urn:li:comment:(urn:li:activity:7263000000000000010,7263100000000000002)"
LI_NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
LI_TOKEN = "AQV-linkedin-secret"

CHANNEL = "UCmaisonLumen0000000000A"
YT_NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
YT = "/youtube/v3"
HOSTILE = "<!channel> <@U12345> <http://evil.example|your bank> & &amp; <b>x</b> 🙋‍♀️ \u200b\n\ttrailing  "


def roundtrip(cursor: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(cursor))


# ---------------------------------------------------------------------------------------------
# LinkedIn


def linkedin(**options: Any) -> LinkedInConnector:
    opts = LinkedInConnector.Options.model_validate(
        {"organization_id": "5515715", "access_token": LI_TOKEN, "linkedin_version": "202610", **options})
    return LinkedInConnector("li-main", opts, base_url="https://api.linkedin.test/rest", brand_handles={},
                             keywords=[], backfill=timedelta(days=7), engagement_days=14)


def li_api(comments: Any = None) -> FakeApi:
    api = FakeApi()
    api.on("GET", "/rest/posts", load("linkedin", "posts"))
    api.on("GET", "/rest/organizationalEntityShareStatistics", load("linkedin", "share_statistics"))
    api.on("GET", f"/rest/socialActions/{S1}/comments", comments or load("linkedin", "comments"))
    api.on("GET", f"/rest/socialActions/{U2}/comments", {"paging": {"start": 0, "count": 100}, "elements": []})
    api.on("GET", f"/rest/socialActions/{C1}/comments", load("linkedin", "comment_replies"))
    # @mentions have their own tests (test_sources_linkedin_mentions.py): none here.
    api.on("GET", "/rest/organizationalEntityNotifications", {"paging": {"start": 0, "count": 50}, "elements": []})
    return api


class TestLinkedInPoll:
    def test_first_poll_reads_posts_statistics_comments_and_replies(self) -> None:
        api = li_api()
        result = linkedin().poll({}, http=api.http(network="linkedin"), now=LI_NOW)

        assert result.rejected == []
        assert [m.external_id for m in result.mentions] == [C1, C2]  # the organization's own reply is not a mention
        first = result.mentions[0]
        assert first.kind == "comment" and first.conversation_id == S1
        assert first.author_handle == "urn:li:person:Ab12Cd34Ef"
        assert first.created_at == datetime(2026, 11, 20, 14, 13, 20, tzinfo=UTC)
        assert first.permalink == f"https://www.linkedin.com/feed/update/{S1}/?commentUrn={enc(C1)}"
        posts = {p.external_id: p for p in result.own_posts}
        assert set(posts) == {S1, U2}  # the draft is skipped
        assert (posts[S1].likes, posts[S1].comments, posts[S1].shares, posts[S1].impressions) == (131, 3, 9, 3460)
        assert posts[S1].media_type == "link" and posts[U2].media_type == "video"

    def test_every_request_is_versioned_and_urns_are_encoded(self) -> None:
        api = li_api()
        linkedin().poll({}, http=api.http(network="linkedin"), now=LI_NOW)

        for request in api.requests:
            assert request.headers["linkedin-version"] == "202610"
            assert request.headers["x-restli-protocol-version"] == "2.0.0"
            assert request.headers["authorization"] == f"Bearer {LI_TOKEN}"
        raw = [r.url.raw_path.decode() for r in api.requests]
        assert raw[0] == "/rest/posts?q=author&author=urn%3Ali%3Aorganization%3A5515715&sortBy=CREATED&count=50&start=0"
        assert raw[1] == ("/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity="
                          "urn%3Ali%3Aorganization%3A5515715&shares=List(urn%3Ali%3Ashare%3A7263000000000000001)"
                          "&ugcPosts=List(urn%3Ali%3AugcPost%3A7262000000000000002)")
        assert f"/rest/socialActions/{enc(C1)}/comments?start=0&count=100" in raw

    def test_a_restarted_connector_fetches_nothing_twice(self) -> None:
        first = linkedin().poll({}, http=li_api().http(network="linkedin"), now=LI_NOW)

        api = li_api()
        second = linkedin().poll(roundtrip(first.cursor), http=api.http(network="linkedin"), now=LI_NOW)
        assert second.mentions == []
        assert not [r for r in api.requests if "socialActions" in r.url.path]

        stats = load("linkedin", "share_statistics")
        stats["elements"][0]["totalShareStatistics"]["commentCount"] = 4
        comments = load("linkedin", "comments")
        comments["elements"].append({**comments["elements"][1], "commentUrn": C2.replace("0002)", "0005)"),
                                     "$URN": "x", "id": "7263100000000000005",
                                     "created": {"time": 1795360000000}, "message": {"text": HOSTILE}})
        comments["elements"].append({"id": "broken"})
        api = li_api(comments)
        api.on("GET", "/rest/organizationalEntityShareStatistics", stats)
        third = linkedin().poll(roundtrip(first.cursor), http=api.http(network="linkedin"), now=LI_NOW)
        assert [m.text for m in third.mentions] == [HOSTILE]
        assert [r.reason for r in third.rejected] == ["comment has no commentUrn"]
        # Reply counts did not move: the thread's replies are not read again.
        assert not api.calls("GET", f"/rest/socialActions/{C1}/comments")

    def test_pages_by_start_until_a_short_page(self) -> None:
        full = load("linkedin", "comments")
        full["paging"] = {"start": 0, "count": 2, "links": []}
        rest = {"paging": {"start": 2, "count": 2, "links": []}, "elements": []}
        api = li_api()
        api.on("GET", f"/rest/socialActions/{S1}/comments",
               lambda r: json_response(200, full if r.url.params["start"] == "0" else rest))
        result = linkedin().poll({}, http=api.http(network="linkedin"), now=LI_NOW)

        starts = [r.url.params["start"] for r in api.calls("GET", f"/rest/socialActions/{S1}/comments")]
        assert starts == ["0", "2"] and len(result.mentions) == 2

    def test_statistics_can_be_turned_off(self) -> None:
        api = li_api()
        result = linkedin(share_statistics=False).poll({}, http=api.http(network="linkedin"), now=LI_NOW)
        assert not api.calls("GET", "/rest/organizationalEntityShareStatistics")
        assert all(p.likes is None for p in result.own_posts)

    def test_rate_limit_and_auth_errors(self) -> None:
        api = li_api()
        api.on("GET", "/rest/posts", httpx.Response(429, headers={"Retry-After": "3600"}))
        with pytest.raises(RateLimited) as caught:
            linkedin().poll({}, http=api.http(network="linkedin"), now=LI_NOW)
        assert caught.value.retry_after == 3600

        api.on("GET", "/rest/posts", json_response(401, {"status": 401, "serviceErrorCode": 65600,
                                                         "code": "INVALID_ACCESS_TOKEN", "message": "Invalid token"}))
        with pytest.raises(AuthFailed):
            linkedin().poll({}, http=api.http(network="linkedin"), now=LI_NOW)

        api.on("GET", "/rest/posts", json_response(200, {"elements": "nope"}))
        with pytest.raises(PayloadInvalid):
            linkedin().poll({}, http=api.http(network="linkedin"), now=LI_NOW)


class TestLinkedInActions:
    def test_reply_is_a_nested_comment_as_the_organization_and_is_idempotent(self) -> None:
        from monitors.sources.linkedin import parse_comments

        mention = parse_comments(load("linkedin", "comments"), post_urn=S1).mentions[0]
        api = FakeApi()
        api.on("GET", f"/rest/socialActions/{C1}/comments", load("linkedin", "comment_replies"))
        api.on("POST", f"/rest/socialActions/{C1}/comments",
               json_response(201, load("linkedin", "comment_created"), {"x-restli-id": "ignored"}))

        new = linkedin().reply(mention, "Thanks!", http=api.http(network="linkedin"), idempotency_key="k")

        assert new == "urn:li:comment:(urn:li:activity:7263000000000000010,7263100000000000009)"
        post = api.calls("POST", f"/rest/socialActions/{C1}/comments")[0]
        assert json.loads(post.content) == {"actor": ORG, "object": "urn:li:activity:7263000000000000010",
                                            "message": {"text": "Thanks!"}, "parentComment": C1}
        assert post.url.raw_path.decode() == f"/rest/socialActions/{enc(C1)}/comments"
        assert post.headers["x-restli-protocol-version"] == "2.0.0"

        existing = linkedin().reply(mention.raw, "Yes, hybrid! DM us.", http=api.http(network="linkedin"),
                                    idempotency_key="k")
        assert existing.endswith("7263100000000000003)")
        assert len(api.calls("POST", f"/rest/socialActions/{C1}/comments")) == 1

    def test_hide_is_not_supported(self) -> None:
        with pytest.raises(NotSupported):
            linkedin().hide({"commentUrn": C1}, http=FakeApi().http(), idempotency_key="h")


# ---------------------------------------------------------------------------------------------
# YouTube


def youtube(**options: Any) -> YouTubeConnector:
    opts = YouTubeConnector.Options.model_validate({"channel_id": CHANNEL, "api_key": "AIza-secret-key", **options})
    return YouTubeConnector("yt-main", opts, base_url="https://yt.test/youtube/v3", brand_handles={},
                            keywords=["Maison Lumen", "aurore"], backfill=timedelta(days=7), engagement_days=14)


def by_token(*pages: Any) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("pageToken")
        if token is None:
            return json_response(200, pages[0])
        for index, page in enumerate(pages[:-1]):
            if page.get("nextPageToken") == token:
                return json_response(200, pages[index + 1])
        return json_response(400, {"error": {"code": 400, "errors": [{"reason": "invalidPageToken"}]}})
    return respond


def yt_api() -> FakeApi:
    api = FakeApi()
    api.on("GET", f"{YT}/channels", load("youtube", "channels"))
    api.on("GET", f"{YT}/playlistItems", load("youtube", "playlist_items"))
    api.on("GET", f"{YT}/videos", load("youtube", "videos"))
    api.on("GET", f"{YT}/commentThreads", by_token(load("youtube", "comment_threads_p1"),
                                                   load("youtube", "comment_threads_p2")))
    api.on("GET", f"{YT}/comments", load("youtube", "comment_replies"))
    api.on("GET", f"{YT}/search", load("youtube", "search"))
    return api


class TestYouTubePoll:
    def test_first_poll_reads_statistics_threads_over_pages_and_missing_replies(self) -> None:
        api = yt_api()
        result = youtube().poll({}, http=api.http(network="youtube"), now=YT_NOW)

        assert result.rejected == []
        assert [m.external_id for m in result.mentions] == [
            "UgzNewest000000000001", "UgzNewest000000000001.AAAreply00001", "UgzSecond000000000002",
            "UgzThird0000000000003", "UgzFourth000000000004",
            "UgzSecond000000000002.AAAreply00003", "UgzSecond000000000002.AAAreply00004"]
        reply = result.mentions[1]
        assert reply.kind == "reply" and reply.parent_id == "UgzNewest000000000001"
        assert reply.conversation_id == "dQw4w9WgXcQ" and reply.author_handle == "@mo-b"
        assert reply.permalink == "https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=UgzNewest000000000001.AAAreply00001"
        (video,) = result.own_posts  # the September upload is past engagement_days
        assert (video.views, video.likes, video.comments, video.media_type) == (48213, 1904, 87, "video")
        assert result.cursor["uploads"] == "UUmaisonLumen0000000000A"
        assert api.calls("GET", f"{YT}/comments")[0].url.params["parentId"] == "UgzSecond000000000002"
        threads = api.calls("GET", f"{YT}/commentThreads")
        assert [r.url.params.get("pageToken") for r in threads] == [None, "QURTSl9pM2x0"]
        assert threads[0].url.params["allThreadsRelatedToChannelId"] == CHANNEL
        assert threads[0].url.params["order"] == "time"
        assert all(r.headers["x-goog-api-key"] == "AIza-secret-key" for r in api.requests)
        assert all("AIza" not in str(r.url) for r in api.requests)
        assert not api.calls("GET", f"{YT}/search")  # keyword search is off by default

    def test_a_restarted_connector_fetches_nothing_twice_and_stops_at_the_watermark(self) -> None:
        first = youtube().poll({}, http=yt_api().http(network="youtube"), now=YT_NOW)

        api = yt_api()
        second = youtube().poll(roundtrip(first.cursor), http=api.http(network="youtube"), now=YT_NOW)
        assert second.mentions == []
        assert len(api.calls("GET", f"{YT}/commentThreads")) == 1  # stopped on the first page
        assert not api.calls("GET", f"{YT}/channels")  # the uploads playlist comes from the cursor

    def test_a_spent_page_budget_resumes_from_the_saved_page_token(self) -> None:
        first = youtube(max_pages=1).poll({}, http=yt_api().http(network="youtube"), now=YT_NOW)
        assert first.cursor["threads"]["pending"]["token"] == "QURTSl9pM2x0"

        api = yt_api()
        second = youtube(max_pages=1).poll(roundtrip(first.cursor), http=api.http(network="youtube"), now=YT_NOW)
        assert [m.external_id for m in second.mentions] == ["UgzThird0000000000003", "UgzFourth000000000004"]
        assert api.calls("GET", f"{YT}/commentThreads")[0].url.params["pageToken"] == "QURTSl9pM2x0"
        assert "pending" not in second.cursor["threads"]

        third = youtube(max_pages=1).poll(roundtrip(second.cursor), http=yt_api().http(network="youtube"), now=YT_NOW)
        assert third.mentions == []
        all_ids = [m.external_id for r in (first, second) for m in r.mentions]
        assert len(all_ids) == len(set(all_ids)) == 7

    def test_quota_exceeded_is_a_rate_limit_until_pacific_midnight(self) -> None:
        api = yt_api()
        api.on("GET", f"{YT}/commentThreads", json_response(403, load("youtube", "error_quota")))
        with pytest.raises(RateLimited) as caught:
            youtube().poll({}, http=api.http(network="youtube"), now=YT_NOW)
        # 12:30 UTC is 04:30 PST; the quota resets at 00:00 PST, 08:00 UTC the next day.
        assert caught.value.retry_after == 19.5 * 3600
        assert seconds_until_pacific_midnight(datetime(2026, 7, 1, 6, 59, tzinfo=UTC)) == 60  # PDT, 23:59

    def test_other_403s_are_auth_failures(self) -> None:
        api = yt_api()
        api.on("GET", f"{YT}/channels", json_response(403, load("youtube", "error_forbidden")))
        with pytest.raises(AuthFailed):
            youtube().poll({}, http=api.http(network="youtube"), now=YT_NOW)

    def test_5xx_then_success_and_timeouts(self) -> None:
        api = yt_api()
        api.on("GET", f"{YT}/videos", httpx.Response(500), load("youtube", "videos"))
        assert len(youtube().poll({}, http=api.http(network="youtube"), now=YT_NOW).own_posts) == 1

        api.on("GET", f"{YT}/videos", httpx.ConnectTimeout("down"))
        with pytest.raises(SourceUnavailable):
            youtube().poll({}, http=api.http(network="youtube"), now=YT_NOW)

    def test_malformed_threads_are_set_aside(self) -> None:
        page = load("youtube", "comment_threads_p2")
        page["items"].insert(0, {"kind": "youtube#commentThread", "id": "x"})
        page["items"][2]["snippet"]["topLevelComment"]["snippet"]["publishedAt"] = "last tuesday"
        parsed = parse_threads(page)
        assert [m.external_id for m in parsed.mentions] == ["UgzThird0000000000003"]
        assert sorted(r.reason for r in parsed.rejected) == [
            "comment UgzFourth000000000004 publishedAt 'last tuesday' is not an ISO-8601 time: "
            "Invalid isoformat string: 'last tuesday'", "comment thread has no snippet"]

    def test_keyword_search_runs_only_when_enabled_and_due(self) -> None:
        api = yt_api()
        first = youtube(keyword_search=True).poll({}, http=api.http(network="youtube"), now=YT_NOW)
        (search,) = api.calls("GET", f"{YT}/search")
        assert search.url.params["q"] == '"Maison Lumen"|aurore'
        assert search.url.params["type"] == "video"
        assert search.url.params["publishedAfter"] == "2026-11-13T12:30:00Z"
        keyword = next(m for m in first.mentions if m.kind == "keyword")
        assert keyword.external_id == "rEv1ewVid01" and keyword.author_handle == "Lamp Nerd"

        api = yt_api()
        youtube(keyword_search=True).poll(roundtrip(first.cursor), http=api.http(network="youtube"),
                                          now=YT_NOW + timedelta(hours=1))
        assert not api.calls("GET", f"{YT}/search")
        youtube(keyword_search=True).poll(roundtrip(first.cursor), http=api.http(network="youtube"),
                                          now=YT_NOW + timedelta(hours=7))
        assert len(api.calls("GET", f"{YT}/search")) == 1


class TestYouTubeAuthAndActions:
    def oauth(self) -> YouTubeConnector:
        return youtube(api_key=None, refresh_token="1//refresh-secret", client_id="cid.apps.googleusercontent.com",
                       client_secret="GOCSPX-secret", token_url="https://oauth.test/token")

    def top_comment(self) -> Any:
        return parse_threads(load("youtube", "comment_threads_p1")).mentions[0]

    def test_oauth_tokens_are_refreshed_and_sent_as_bearer(self) -> None:
        api = yt_api()
        api.on("POST", "/token", {"access_token": "ya29.first", "expires_in": 3599},
               {"access_token": "ya29.second", "expires_in": 3599})
        api.on("GET", f"{YT}/channels", json_response(401, {"error": {"code": 401}}), load("youtube", "channels"))
        connector = self.oauth()
        connector.poll({}, http=api.http(network="youtube"), now=YT_NOW)

        assert len(api.calls("POST", "/token")) == 2  # first token, then once more after the 401
        assert api.calls("GET", f"{YT}/videos")[0].headers["authorization"] == "Bearer ya29.second"
        assert all("x-goog-api-key" not in r.headers for r in api.requests)

    def test_a_revoked_refresh_token_is_an_auth_failure(self) -> None:
        api = yt_api()
        api.on("POST", "/token", json_response(400, {"error": "invalid_grant", "error_description": "Bad"}))
        with pytest.raises(AuthFailed) as caught:
            self.oauth().poll({}, http=api.http(network="youtube"), now=YT_NOW)
        assert "1//refresh-secret" not in str(caught.value)

    def test_reply_inserts_under_the_thread_once(self) -> None:
        api = FakeApi()
        api.on("POST", "/token", {"access_token": "ya29.t", "expires_in": 3599})
        api.on("GET", f"{YT}/comments", {"items": []},
               {"items": [load("youtube", "comment_inserted")]})
        api.on("POST", f"{YT}/comments", load("youtube", "comment_inserted"))
        connector = self.oauth()

        first = connector.reply(self.top_comment(), "Thanks! We ship to Canada.", http=api.http(), idempotency_key="k")
        again = connector.reply(self.top_comment(), "Thanks! We ship to Canada.", http=api.http(), idempotency_key="k")

        assert first == again == "UgzNewest000000000001.AAAreply00099"
        (insert,) = api.calls("POST", f"{YT}/comments")
        assert insert.url.params["part"] == "snippet"
        assert json.loads(insert.content) == {"snippet": {"parentId": "UgzNewest000000000001",
                                                          "textOriginal": "Thanks! We ship to Canada."}}

    def test_a_reply_insert_that_times_out_is_not_retried_blindly(self) -> None:
        api = FakeApi()
        api.on("POST", "/token", {"access_token": "ya29.t", "expires_in": 3599})
        api.on("GET", f"{YT}/comments", {"items": []})
        api.on("POST", f"{YT}/comments", httpx.ReadTimeout("slow"))
        with pytest.raises(SourceUnavailable):
            self.oauth().reply(self.top_comment(), "Hi", http=api.http(), idempotency_key="k")
        assert len(api.calls("POST", f"{YT}/comments")) == 1

    def test_hide_holds_the_comment_for_review(self) -> None:
        api = FakeApi()
        api.on("POST", "/token", {"access_token": "ya29.t", "expires_in": 3599})
        api.on("POST", f"{YT}/comments/setModerationStatus", httpx.Response(204))
        reply = parse_threads(load("youtube", "comment_threads_p1")).mentions[1]
        self.oauth().hide(reply.raw, http=api.http(), idempotency_key="h")

        (call,) = api.calls("POST", f"{YT}/comments/setModerationStatus")
        assert dict(call.url.params) == {"id": "UgzNewest000000000001.AAAreply00001",
                                         "moderationStatus": "heldForReview"}

    def test_an_api_key_cannot_reply_and_keywords_cannot_be_answered(self) -> None:
        api = FakeApi()
        with pytest.raises(ConfigInvalid):
            youtube().reply(self.top_comment(), "Hi", http=api.http(), idempotency_key="k")
        with pytest.raises(NotSupported):
            youtube().hide(load("youtube", "search")["items"][0], http=api.http(), idempotency_key="k")
        assert api.requests == []

    def test_options_need_a_credential(self) -> None:
        with pytest.raises(ValueError, match="api_key"):
            YouTubeConnector.Options.model_validate({"channel_id": CHANNEL})
        with pytest.raises(ValueError, match="go together"):
            YouTubeConnector.Options.model_validate({"channel_id": CHANNEL, "refresh_token": "x"})


class TestRegistry:
    @pytest.mark.parametrize(("kind", "options", "cls"), [
        ("facebook", {"page_id": "1", "access_token": "${T}"}, "FacebookConnector"),
        ("instagram", {"ig_user_id": "1", "access_token": "${T}", "verify_token": "v"}, "InstagramConnector"),
        ("linkedin", {"organization_id": "1", "access_token": "${T}"}, "LinkedInConnector"),
        ("youtube", {"channel_id": CHANNEL, "api_key": "${T}"}, "YouTubeConnector"),
    ])
    def test_each_connector_is_built_from_its_config(self, kind: str, options: dict[str, Any], cls: str) -> None:
        from bot.workspace import SourceConfig
        from monitors.sources import build_source

        source = build_source(SourceConfig(name=f"{kind}-main", type=kind, options=options, engagement_days=3),
                              environ={"T": "tok-secret"})
        assert type(source).__name__ == cls and source.network == kind
        assert source.engagement_days == 3 and "tok-secret" not in repr(source.options)
