"""The Mastodon connector against recorded payloads: gap-free notification polling, hashtags, own statuses, reply."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from monitors.sources.base import NotSupported
from monitors.sources.mastodon import MastodonConnector, MastodonOptions, link_param, parse_link_header
from tests.source_fakes import FakeApi, fixture, ok

NOW = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
BASE = "https://piaille.test"
NOTIFICATIONS = "/api/v1/notifications"
BRAND_ID = "109384756120394857"


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi(now=NOW)
    yield fake
    fake.close()


def make_mastodon(**options: Any) -> MastodonConnector:
    opts = MastodonOptions(access_token=SecretStr("masto-secret"), account_id=BRAND_ID, **options)
    return MastodonConnector("mastodon-brand", opts, base_url=BASE, brand_handles={"mastodon": "maisonlumen"},
                             backfill=timedelta(days=7), engagement_days=14)


def test_link_headers_are_read_per_rfc_8288() -> None:
    links = parse_link_header('<https://piaille.test/api/v1/notifications?max_id=48213598>; rel="next", '
                              '<https://piaille.test/api/v1/notifications?min_id=48213650>; rel="prev"')
    assert link_param(links, "next", "max_id") == "48213598"
    assert link_param(links, "prev", "min_id") == "48213650"
    assert parse_link_header(None) == {} and parse_link_header("garbage <") == {}


class TestNotifications:
    def test_first_poll_walks_back_over_the_backfill_window(self, api: FakeApi) -> None:
        page1 = fixture("mastodon", "notifications_newer")
        page2 = fixture("mastodon", "notifications_mention")
        api.on("GET", NOTIFICATIONS,
               ok(page1, headers={"Link": f'<{BASE}{NOTIFICATIONS}?max_id=48213700>; rel="next"'}),
               ok(page2, headers={"Link": f'<{BASE}{NOTIFICATIONS}?max_id=48213598>; rel="next"'}),
               ok([]))
        api.on("GET", f"/api/v1/accounts/{BRAND_ID}/statuses", ok(fixture("mastodon", "account_statuses")))

        result = make_mastodon().poll({}, http=api.http(network="mastodon"), now=NOW)

        params = api.params(NOTIFICATIONS)
        assert params[0]["types[]"] == ["mention"] and "max_id" not in params[0]
        assert params[1]["max_id"] == ["48213700"] and params[2]["max_id"] == ["48213598"]
        assert [m.external_id for m in result.mentions] == [
            "115577100000000002", "115577090000000001", "115577002871553024", "115576980000000001"]
        assert result.cursor["notifications"] == "48213720"
        assert api.calls(NOTIFICATIONS)[0].headers["authorization"] == "Bearer masto-secret"

    def test_later_polls_walk_forward_with_min_id_until_a_short_page(self, api: FakeApi) -> None:
        api.on("GET", NOTIFICATIONS, ok(fixture("mastodon", "notifications_newer")), ok([]))
        cursor = {"notifications": "48213650", "own_checked_at": NOW.isoformat()}

        result = make_mastodon(page_size=2).poll(cursor, http=api.http(network="mastodon"), now=NOW)

        first, second = api.params(NOTIFICATIONS)
        assert first["min_id"] == ["48213650"] and second["min_id"] == ["48213720"]
        assert result.cursor["notifications"] == "48213720"
        reply = result.mentions[0]
        assert (reply.kind, reply.parent_id, reply.text) == ("reply", "115577050000000000",
                                                             "@maisonlumen merci pour la réponse rapide 🙏")

    def test_an_empty_page_keeps_the_cursor(self, api: FakeApi) -> None:
        api.on("GET", NOTIFICATIONS, ok([]))
        cursor = {"notifications": "48213720", "own_checked_at": NOW.isoformat()}
        result = make_mastodon().poll(cursor, http=api.http(network="mastodon"), now=NOW)
        assert result.mentions == [] and result.cursor["notifications"] == "48213720"


class TestHashtagsAndOwnPosts:
    def test_hashtag_matches_are_keywords_and_own_statuses_carry_engagement(self, api: FakeApi) -> None:
        api.on("GET", NOTIFICATIONS, ok([]))
        api.on("GET", "/api/v1/timelines/tag/MaisonLumen", ok(fixture("mastodon", "tag_timeline")))
        api.on("GET", f"/api/v1/accounts/{BRAND_ID}/statuses", ok(fixture("mastodon", "account_statuses")))

        result = make_mastodon(hashtags=["#MaisonLumen"]).poll({"notifications": "1"},
                                                               http=api.http(network="mastodon"), now=NOW)

        [keyword] = result.mentions
        assert keyword.kind == "keyword" and keyword.raw["id"] == "115577110000000003"
        assert result.cursor["tags"] == {"MaisonLumen": "115577110000000003"}
        launch, older = result.own_posts
        assert (launch.likes, launch.comments, launch.shares) == (140, 7, 21)
        assert older.created_at < launch.created_at

    def test_the_account_id_is_looked_up_once_when_not_configured(self, api: FakeApi) -> None:
        api.on("GET", NOTIFICATIONS, ok([]))
        api.on("GET", "/api/v1/accounts/verify_credentials", ok(fixture("mastodon", "verify_credentials")))
        api.on("GET", f"/api/v1/accounts/{BRAND_ID}/statuses", ok([]))
        opts = MastodonOptions(access_token=SecretStr("masto-secret"))
        connector = MastodonConnector("m", opts, base_url=BASE, engagement_days=14)
        connector.poll({}, http=api.http(network="mastodon"), now=NOW)
        connector.poll({}, http=api.http(network="mastodon"), now=NOW + timedelta(hours=2))
        assert len(api.calls("/api/v1/accounts/verify_credentials")) == 1


class TestActions:
    def test_reply_addresses_the_author_and_sends_the_idempotency_key(self, api: FakeApi) -> None:
        api.on("POST", "/api/v1/statuses", ok(fixture("mastodon", "statuses_create")))
        notification = fixture("mastodon", "notifications_newer")[1]

        reply_id = make_mastodon().reply(notification, "Oui, nous livrons en Belgique !",
                                         http=api.http(network="mastodon"), idempotency_key="reply:9")

        assert reply_id == "115577200000000000"
        [request] = api.calls("/api/v1/statuses", "POST")
        assert request.headers["idempotency-key"] == "reply:9"
        assert json.loads(request.content) == {"status": "@marc@framapiaf.org Oui, nous livrons en Belgique !",
                                               "in_reply_to_id": "115577090000000001", "visibility": "public"}

    def test_hide_is_not_supported_and_says_why(self, api: FakeApi) -> None:
        with pytest.raises(NotSupported, match="cannot hide another account's post"):
            make_mastodon().hide({"id": "1"}, http=api.http(network="mastodon"), idempotency_key="h")
        assert api.requests == []


def test_a_mention_older_than_the_backfill_is_left_out(api: FakeApi) -> None:
    old = fixture("mastodon", "notifications_mention")
    api.on("GET", NOTIFICATIONS, ok(old, headers={"Link": f'<{BASE}{NOTIFICATIONS}?max_id=1>; rel="next"'}))
    api.on("GET", f"/api/v1/accounts/{BRAND_ID}/statuses", ok([]))
    result = make_mastodon().poll({}, http=api.http(network="mastodon"), now=NOW + timedelta(days=30))
    assert result.mentions == []
    assert len(api.calls(NOTIFICATIONS)) == 1, "kept walking back past the backfill window"
    assert isinstance(api.requests[0], httpx.Request)
