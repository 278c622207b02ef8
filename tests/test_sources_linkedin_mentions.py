"""LinkedIn @mentions of the organization: notifications by time range, then the posts and comments they name."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from monitors.sources.base import AuthFailed, RateLimited
from monitors.sources.linkedin import LinkedInConnector, enc
from tests.fake_apis import FakeApi, json_response, load

ORG = "urn:li:organization:5515715"
SHARE = "urn:li:share:7264000000000000101"  # a member's post, 14:00
UGC = "urn:li:ugcPost:7264000000000000102"  # a supplier's post, 13:00
COMMENT = "urn:li:comment:(urn:li:activity:7264000000000000110,7264100000000000103)"  # 14:30
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
NOW_MS = 1_795_186_800_000
DAY_MS = 86_400_000
FINDER = "/rest/organizationalEntityNotifications"


def ms(hour: int, minute: int, second: int = 0) -> int:
    return int(datetime(2026, 11, 20, hour, minute, second, tzinfo=UTC).timestamp() * 1000)


def linkedin(**options: Any) -> LinkedInConnector:
    opts = LinkedInConnector.Options.model_validate(
        {"organization_id": "5515715", "access_token": "AQV-secret", "share_statistics": False, **options})
    return LinkedInConnector("li-main", opts, base_url="https://api.linkedin.test/rest", backfill=timedelta(days=7),
                             engagement_days=14)


def roundtrip(cursor: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(cursor))


def recorded_notices() -> list[dict[str, Any]]:
    return load("linkedin", "notifications_mentions_p1")["elements"] + \
        load("linkedin", "notifications_mentions_p2")["elements"]


def notice(target: str, at: int, *, action: str = "SHARE_MENTION", nid: int = 1) -> dict[str, Any]:
    return {"notificationId": nid, "organizationalEntity": ORG, "action": action, "sourcePost": target,
            "generatedActivity": target, "lastModifiedAt": at}


def post(urn: str, at: int, *, author: str = "urn:li:person:Zx1", text: str = "Thanks @Maison Lumen") -> dict[str, Any]:
    return {"id": urn, "author": author, "commentary": text, "createdAt": at, "publishedAt": at,
            "lifecycleState": "PUBLISHED", "visibility": "PUBLIC"}


class Notifications:
    """The criteria finder as LinkedIn answers it: only the `timeRange`, `page_size` elements a page, Rest.li paging."""

    def __init__(self, elements: list[dict[str, Any]], *, page_size: int = 2) -> None:
        self.elements = elements
        self.page_size = page_size
        self.ranges: list[tuple[int, int]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        found = re.fullmatch(r"\(start:(\d+),end:(\d+)\)", request.url.params["timeRange"])
        assert found, request.url.params["timeRange"]
        low, high = int(found[1]), int(found[2])
        self.ranges.append((low, high))
        # An element without a time (malformed) is served anyway, like LinkedIn would serve a broken one.
        inside = [e for e in self.elements if not isinstance(e, dict) or not isinstance(e.get("lastModifiedAt"), int)
                  or low <= e["lastModifiedAt"] <= high]
        start = int(request.url.params["start"])
        page = inside[start:start + self.page_size]
        return json_response(200, {"paging": {"start": start, "count": self.page_size, "total": len(inside),
                                              "links": []}, "elements": page})


class Posts:
    """`/rest/posts`: the organization's own listing (empty here) or a Rest.li batch GET by `ids`."""

    def __init__(self, posts: dict[str, dict[str, Any]], errors: dict[str, Any] | None = None) -> None:
        self.posts = posts
        self.errors = errors or {}
        self.batches: list[list[str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        ids = request.url.params.get("ids")
        if ids is None:
            return json_response(200, {"paging": {"start": 0, "count": 50}, "elements": []})
        wanted = ids.removeprefix("List(").removesuffix(")").split(",")
        self.batches.append(wanted)
        return json_response(200, {
            "results": {u: self.posts[u] for u in wanted if u in self.posts},
            "statuses": {u: 200 for u in wanted if u in self.posts},
            "errors": {u: self.errors.get(u, {"status": 404, "message": "Not found"})
                       for u in wanted if u not in self.posts}})


def api_for(notices: Notifications, posts: Posts) -> FakeApi:
    api = FakeApi()
    api.on("GET", "/rest/posts", posts)
    api.on("GET", FINDER, notices)
    api.on("GET", f"/rest/socialActions/{UGC}/comments/7264100000000000103", load("linkedin", "comment_mention"))
    return api


def recorded_posts() -> Posts:
    return Posts(load("linkedin", "posts_batch_mentions")["results"])


class TestMentionsPoll:
    def test_notifications_are_paged_then_posts_read_in_one_batch_and_the_comment_on_its_own(self) -> None:
        notices = Notifications(recorded_notices())
        posts = recorded_posts()
        api = api_for(notices, posts)
        result = linkedin(mention_actions=["SHARE_MENTION", "COMMENT_MENTION"]).poll(
            {}, http=api.http(network="linkedin"), now=NOW)

        assert result.rejected == []
        found = {m.external_id: m for m in result.mentions}
        assert set(found) == {SHARE, UGC, COMMENT}
        share = found[SHARE]
        assert share.kind == "mention" and share.author_handle == "urn:li:person:Kq7Lm2Np4R"
        assert share.text.startswith("Just hung my new Aurore lamp from @[Maison Lumen]")
        assert share.created_at == datetime(2026, 11, 20, 13, 58, 20, tzinfo=UTC)
        assert share.permalink == f"https://www.linkedin.com/feed/update/{SHARE}/" and share.conversation_id == SHARE
        comment = found[COMMENT]
        assert comment.kind == "mention" and comment.author_handle == "urn:li:person:Rt5Yu6Io7P"
        assert comment.conversation_id == UGC and comment.created_at == datetime(2026, 11, 20, 14, 28, 20, tzinfo=UTC)
        assert comment.permalink == f"https://www.linkedin.com/feed/update/{UGC}/?commentUrn={enc(COMMENT)}"

        # Two pages of two and one; the first run backfills 7 days (less the 10-minute overlap).
        assert [r.url.params["start"] for r in api.calls("GET", FINDER)] == ["0", "2"]
        assert notices.ranges == [(NOW_MS - 7 * DAY_MS - 600_000, NOW_MS)] * 2
        raw = api.calls("GET", FINDER)[0].url.raw_path.decode()
        assert raw.startswith(f"{FINDER}?q=criteria&organizationalEntity=urn%3Ali%3Aorganization%3A5515715"
                              "&actions=List(SHARE_MENTION,COMMENT_MENTION)&timeRange=(start:")
        assert posts.batches == [[SHARE, UGC]]  # one batch GET for both posts
        batch = [r for r in api.calls("GET", "/rest/posts") if "ids" in r.url.params][0]
        assert f"ids=List({enc(SHARE)},{enc(UGC)})" in batch.url.raw_path.decode()
        assert result.cursor["mentions"] == {"since": NOW_MS, "seen": {}}

    def test_only_the_documented_action_is_asked_for_by_default(self) -> None:
        api = api_for(Notifications(recorded_notices()), recorded_posts())
        result = linkedin().poll({}, http=api.http(network="linkedin"), now=NOW)
        assert "actions=List(SHARE_MENTION)&" in api.calls("GET", FINDER)[0].url.raw_path.decode()
        # A COMMENT_MENTION LinkedIn sends anyway is still read.
        assert COMMENT in {m.external_id for m in result.mentions}

    def test_a_restart_resumes_from_the_cursor_and_reads_nothing_twice(self) -> None:
        late = notice("urn:li:share:7264000000000000201", ms(14, 55), nid=7)
        notices = Notifications([*recorded_notices(), late])
        posts = Posts({**load("linkedin", "posts_batch_mentions")["results"],
                       "urn:li:share:7264000000000000201": post("urn:li:share:7264000000000000201", ms(14, 54)),
                       "urn:li:share:7264000000000000202": post("urn:li:share:7264000000000000202", ms(15, 1))})
        first = linkedin(mention_actions=["SHARE_MENTION", "COMMENT_MENTION"]).poll(
            {}, http=api_for(notices, posts).http(network="linkedin"), now=NOW)
        assert len(first.mentions) == 4
        # The 14:55 notification lies in the overlap the next poll re-reads: it is remembered.
        assert first.cursor["mentions"]["seen"] == {"urn:li:share:7264000000000000201": ms(14, 55)}

        notices.elements.append(notice("urn:li:share:7264000000000000202", ms(15, 2), nid=8))
        posts.batches.clear()
        later = NOW + timedelta(minutes=5)
        api = api_for(notices, posts)
        second = linkedin(mention_actions=["SHARE_MENTION", "COMMENT_MENTION"]).poll(
            roundtrip(first.cursor), http=api.http(network="linkedin"), now=later)

        assert [m.external_id for m in second.mentions] == ["urn:li:share:7264000000000000202"]
        assert notices.ranges[-1] == (NOW_MS - 600_000, NOW_MS + 300_000)
        assert posts.batches == [["urn:li:share:7264000000000000202"]]
        assert not api.calls("GET", f"/rest/socialActions/{UGC}/comments/7264100000000000103")
        assert second.cursor["mentions"]["since"] == NOW_MS + 300_000

    def test_a_spent_page_budget_resumes_the_same_range_at_its_next_page(self) -> None:
        notices = Notifications(recorded_notices())
        options = {"mention_actions": ["SHARE_MENTION", "COMMENT_MENTION"], "max_pages": 1}
        first = linkedin(**options).poll({}, http=api_for(notices, recorded_posts()).http(network="linkedin"),
                                         now=NOW)
        assert {m.external_id for m in first.mentions} == {SHARE, UGC}
        pending = first.cursor["mentions"]
        assert pending["pending"] == {"end": NOW_MS, "start": 2} and pending["since"] == NOW_MS - 7 * DAY_MS

        api = api_for(notices, recorded_posts())
        second = linkedin(**options).poll(roundtrip(first.cursor), http=api.http(network="linkedin"),
                                          now=NOW + timedelta(minutes=5))
        assert [m.external_id for m in second.mentions] == [COMMENT]
        assert [r.url.params["start"] for r in api.calls("GET", FINDER)] == ["2"]
        assert notices.ranges[-1][1] == NOW_MS  # the same range, finished
        assert second.cursor["mentions"]["since"] == NOW_MS and "pending" not in second.cursor["mentions"]

    def test_duplicates_across_pages_are_read_and_yielded_once(self) -> None:
        again = {**recorded_notices()[0], "notificationId": 90009, "lastModifiedAt": ms(14, 1)}
        notices = Notifications([*recorded_notices(), again])
        posts = recorded_posts()
        result = linkedin().poll({}, http=api_for(notices, posts).http(network="linkedin"), now=NOW)

        assert sorted(m.external_id for m in result.mentions) == sorted([SHARE, UGC, COMMENT])
        assert posts.batches == [[SHARE, UGC]]

    def test_a_post_that_404s_or_403s_in_the_batch_is_set_aside_and_the_rest_kept(self) -> None:
        gone, private = "urn:li:share:7264000000000000301", "urn:li:share:7264000000000000302"
        notices = Notifications([*recorded_notices(), notice(gone, ms(14, 10), nid=31),
                                 notice(private, ms(14, 11), nid=32)], page_size=10)
        posts = recorded_posts()
        posts.errors = {private: {"status": 403, "message": "Not enough permissions to access: partnerApiPosts.GET"}}
        result = linkedin().poll({}, http=api_for(notices, posts).http(network="linkedin"), now=NOW)

        assert {m.external_id for m in result.mentions} == {SHARE, UGC, COMMENT}
        reasons = sorted(r.reason for r in result.rejected)
        assert reasons == [f"SHARE_MENTION {gone} could not be read (404: Not found)",
                           f"SHARE_MENTION {private} could not be read "
                           "(403: Not enough permissions to access: partnerApiPosts.GET)"]
        assert all(r.item["notificationId"] in (31, 32) for r in result.rejected)  # the notification is kept
        assert result.cursor["mentions"]["since"] == NOW_MS  # the range is done: not retried forever

    def test_a_refused_batch_falls_back_to_single_reads_and_a_403_post_does_not_pause_the_source(self) -> None:
        private = "urn:li:share:7264000000000000302"
        notices = Notifications([notice(SHARE, ms(14, 0)), notice(private, ms(14, 11), nid=32)])
        api = FakeApi()

        def posts(request: httpx.Request) -> httpx.Response:
            if "ids" in request.url.params:
                return json_response(403, {"status": 403, "message": "Not enough permissions"})
            return json_response(200, {"paging": {"start": 0, "count": 50}, "elements": []})

        api.on("GET", "/rest/posts", posts)
        api.on("GET", FINDER, notices)
        api.on("GET", f"/rest/posts/{SHARE}", load("linkedin", "posts_batch_mentions")["results"][SHARE])
        api.on("GET", f"/rest/posts/{private}", json_response(403, {"status": 403, "message": "Private post"}))
        result = linkedin().poll({}, http=api.http(network="linkedin"), now=NOW)

        assert [m.external_id for m in result.mentions] == [SHARE]
        assert [r.reason for r in result.rejected] == [f"SHARE_MENTION {private} could not be read (403: Private post)"]

    def test_a_comment_that_is_gone_is_set_aside(self) -> None:
        notices = Notifications([recorded_notices()[2]])
        api = api_for(notices, recorded_posts())
        api.on("GET", f"/rest/socialActions/{UGC}/comments/7264100000000000103",
               json_response(404, {"status": 404, "message": "Comment not found"}))
        result = linkedin().poll({}, http=api.http(network="linkedin"), now=NOW)
        assert result.mentions == []
        assert [r.reason for r in result.rejected] == [f"COMMENT_MENTION {COMMENT} could not be read "
                                                       "(404: Comment not found)"]

    def test_malformed_notifications_and_posts_are_set_aside_and_own_posts_skipped(self) -> None:
        own = "urn:li:share:7264000000000000401"
        bad_post = "urn:li:share:7264000000000000402"
        elements = [*recorded_notices()[:2], {"action": "SHARE_MENTION", "lastModifiedAt": ms(14, 2)},
                    {**notice(own, ms(14, 3)), "lastModifiedAt": ms(14, 3)}, notice(bad_post, ms(14, 4)), "junk",
                    {"action": "LIKE", "sourcePost": SHARE, "lastModifiedAt": ms(14, 5)}]
        posts = Posts({**load("linkedin", "posts_batch_mentions")["results"], own: post(own, ms(14, 3), author=ORG),
                       bad_post: {**post(bad_post, ms(14, 4)), "commentary": {"text": 1}}})
        result = linkedin().poll({}, http=api_for(Notifications(elements, page_size=10), posts).http(
            network="linkedin"), now=NOW)

        assert {m.external_id for m in result.mentions} == {SHARE, UGC}
        assert sorted(r.reason for r in result.rejected) == sorted([
            "SHARE_MENTION notification names no post or comment URN",
            f"post {bad_post} commentary is not a string",
            "notification is str, not an object"])

    def test_429_is_a_rate_limit_and_a_short_one_is_waited(self) -> None:
        notices = Notifications(recorded_notices())
        api = api_for(notices, recorded_posts())
        api.on("GET", FINDER, httpx.Response(429, headers={"Retry-After": "3600"}))
        with pytest.raises(RateLimited) as caught:
            linkedin().poll({}, http=api.http(network="linkedin"), now=NOW)
        assert caught.value.retry_after == 3600

        api = api_for(notices, recorded_posts())
        api.on("GET", FINDER, httpx.Response(429, headers={"Retry-After": "2"}), notices)
        result = linkedin().poll({}, http=api.http(network="linkedin"), now=NOW)
        assert api.sleeps == [2.0] and len(result.mentions) == 3

    def test_a_429_on_the_post_batch_fails_the_poll_so_nothing_is_lost(self) -> None:
        api = api_for(Notifications(recorded_notices()), recorded_posts())
        api.on("GET", "/rest/posts", httpx.Response(429, headers={"Retry-After": "900"}))
        with pytest.raises(RateLimited):
            linkedin().poll({}, http=api.http(network="linkedin"), now=NOW)

    def test_403_on_the_finder_names_the_missing_permission(self) -> None:
        api = api_for(Notifications([]), recorded_posts())
        api.on("GET", FINDER, json_response(403, {"status": 403, "message": "Not enough permissions"}))
        with pytest.raises(AuthFailed) as caught:
            linkedin().poll({}, http=api.http(network="linkedin"), now=NOW)
        assert "rw_organization_admin" in caught.value.message and "mentions: false" in caught.value.message

    def test_a_refused_finder_is_noted_once_and_the_range_read_again(self) -> None:
        api = api_for(Notifications([]), recorded_posts())
        api.on("GET", FINDER, json_response(400, {"status": 400, "message": "Invalid param"}))
        state = {"mentions": {"since": NOW_MS - DAY_MS, "seen": {}}}
        result = linkedin().poll(state, http=api.http(network="linkedin"), now=NOW)
        assert result.cursor["mentions"] == state["mentions"]
        assert [r.reason for r in result.rejected] == [
            "@mentions could not be read: GET /rest/organizationalEntityNotifications answered 400"]

    def test_a_notifications_page_that_is_not_json_is_set_aside_and_the_comments_still_count(self) -> None:
        api = api_for(Notifications([]), recorded_posts())
        api.on("GET", FINDER, httpx.Response(200, content=b"<html>maintenance</html>"))
        state = {"mentions": {"since": NOW_MS - DAY_MS, "seen": {}}}
        result = linkedin().poll(state, http=api.http(network="linkedin"), now=NOW)
        assert result.cursor["mentions"] == state["mentions"] and "posts" in result.cursor
        assert [r.reason for r in result.rejected] == [
            "GET /rest/organizationalEntityNotifications: the response is not JSON"]

    def test_mentions_can_be_turned_off_and_old_cursors_start_from_the_backfill(self) -> None:
        api = api_for(Notifications(recorded_notices()), recorded_posts())
        assert linkedin(mentions=False).poll({}, http=api.http(network="linkedin"), now=NOW).mentions == []
        assert not api.calls("GET", FINDER)

        notices = Notifications([])
        linkedin().poll({"posts": {}, "mentions": {"since": "garbage", "seen": [1]}},
                        http=api_for(notices, recorded_posts()).http(network="linkedin"), now=NOW)
        assert notices.ranges == [(NOW_MS - 7 * DAY_MS - 600_000, NOW_MS)]
        notices = Notifications([])
        linkedin().poll({"mentions": {"since": NOW_MS - 90 * DAY_MS}},
                        http=api_for(notices, recorded_posts()).http(network="linkedin"), now=NOW)
        assert notices.ranges == [(NOW_MS - 60 * DAY_MS, NOW_MS)]  # LinkedIn keeps 60 days


class TestMentionsStored:
    """Through `poll_once` into the store (SQLite and PostgreSQL): stored once, resumed after a restart, set aside."""

    def test_mentions_are_stored_once_and_a_restart_resumes_from_the_stored_cursor(
            self, engine, workspace, clock) -> None:  # type: ignore[no-untyped-def]
        from sqlmodel import Session, select

        from bot import models
        from bot.deps import Deps
        from bot.sentiment import SentimentScorer
        from monitors.poll import poll_once

        t0 = int(clock.now().timestamp() * 1000)
        first_post, second_post = "urn:li:share:7264000000000000501", "urn:li:share:7264000000000000502"
        gone = "urn:li:share:7264000000000000503"
        notices = Notifications([notice(first_post, t0 - 3_600_000, nid=1), notice(gone, t0 - 1_800_000, nid=2)])
        posts = Posts({first_post: post(first_post, t0 - 3_700_000, text="Love my lamp from @Maison Lumen"),
                       second_post: post(second_post, t0 + 60_000, text="Where is my @Maison Lumen order?")})
        deps = Deps(workspace=workspace, engine=engine, clock=clock, scorer=SentimentScorer())
        first = poll_once(deps, name="li-main", source=linkedin(), http=api_for(notices, posts).http(
            network="linkedin"))
        assert (first.status, first.ingest.stored, first.ingest.rejected) == ("ok", 1, 1)

        # A new process, the same database: only the newer notification is read.
        clock.advance(timedelta(minutes=5))
        notices.elements.append(notice(second_post, t0 + 120_000, nid=3))
        restarted = Deps(workspace=workspace, engine=engine, clock=clock, scorer=SentimentScorer())
        second = poll_once(restarted, name="li-main", source=linkedin(), http=api_for(notices, posts).http(
            network="linkedin"))
        assert (second.status, second.ingest.stored, second.ingest.duplicates) == ("ok", 1, 0)
        assert notices.ranges[-1] == (t0 - 600_000, t0 + 300_000)
        assert posts.batches[-1] == [second_post]

        with Session(engine) as session:
            rows = session.exec(select(models.Mention).where(models.Mention.source == "li-main")).all()
            assert sorted((r.external_id, r.kind) for r in rows) == [(first_post, "mention"), (second_post, "mention")]
            aside = session.exec(select(models.RejectedItem).where(models.RejectedItem.source == "li-main")).all()
            assert [r.reason for r in aside] == [f"SHARE_MENTION {gone} could not be read (404: Not found)"]
