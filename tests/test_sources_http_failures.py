"""Every connector under network trouble: 429 and reset headers, 5xx, timeouts, 401, non-JSON, empty pages.

Each case is served through `httpx.MockTransport` from the recorded payloads; `SourceHttp`'s sleeps
are recorded, not slept, so the retries and backoffs cost no time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from monitors.sources.base import AuthFailed, Connector, PayloadInvalid, RateLimited, SourceUnavailable
from monitors.sources.bluesky import BlueskyConnector, BlueskyOptions
from monitors.sources.mastodon import MastodonConnector, MastodonOptions
from monitors.sources.reddit import RedditConnector, RedditOptions
from monitors.sources.rss import RssConnector, RssOptions
from monitors.sources.x import XConnector, XOptions
from tests.source_fakes import FakeApi, fixture, fixture_bytes, ok, raw

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SECRET = "s3cr3t-value-never-shown"
CHECKED = {"own_checked_at": NOW.isoformat()}  # engagement just refreshed: one stream per poll


@dataclass(frozen=True)
class Case:
    network: str
    build: Callable[[], Connector]
    path: str  # the request the failures are injected into
    good: Callable[[], httpx.Response]
    empty: Callable[[], httpx.Response]
    reset_header: tuple[str, str]  # the network's own "wait until" header, 90 s from NOW
    setup: Callable[[FakeApi], None] = lambda api: None


def _epoch_in(seconds: float) -> str:
    return str(int(NOW.timestamp() + seconds))


CASES = [
    Case("x", lambda: XConnector("x", XOptions(bearer_token=SecretStr(SECRET), user_id="1", search=False)),
         "/2/users/1/mentions", lambda: ok(fixture("x", "users_mentions_page2")),
         lambda: ok(fixture("x", "users_mentions_empty")), ("x-rate-limit-reset", _epoch_in(90))),
    Case("mastodon", lambda: MastodonConnector("m", MastodonOptions(access_token=SecretStr(SECRET), account_id="1")),
         "/api/v1/notifications", lambda: ok(fixture("mastodon", "notifications_newer")), lambda: ok([]),
         ("x-ratelimit-reset", (NOW + timedelta(seconds=90)).isoformat().replace("+00:00", "Z"))),
    Case("bluesky", lambda: BlueskyConnector("b", BlueskyOptions(identifier="brand.test",
                                                                 app_password=SecretStr(SECRET), search=False)),
         "/xrpc/app.bsky.notification.listNotifications",
         lambda: ok(fixture("bluesky", "listNotifications_page2")), lambda: ok({"notifications": []}),
         ("ratelimit-reset", _epoch_in(90)),
         setup=lambda api: api.on("POST", "/xrpc/com.atproto.server.createSession",
                                  ok(fixture("bluesky", "createSession")))),
    Case("reddit", lambda: RedditConnector("r", RedditOptions(client_id="c", client_secret=SecretStr(SECRET),
                                                              username="brand", password=SecretStr(SECRET),
                                                              search=False)),
         "/message/mentions", lambda: ok(fixture("reddit", "message_mentions_page2")),
         lambda: ok({"kind": "Listing", "data": {"after": None, "children": []}}), ("x-ratelimit-reset", "90"),
         setup=lambda api: (api.on("POST", "/api/v1/access_token", ok(fixture("reddit", "access_token"))),
                            api.on("GET", "/message/comments", ok({"kind": "Listing", "data": {"children": []}})))),
    Case("rss", lambda: RssConnector("f", RssOptions(url=f"https://feeds.test/alerts?key={SECRET}")),
         "/alerts", lambda: raw(fixture_bytes("rss", "google_alerts.xml")),
         lambda: raw(b"<rss version='2.0'><channel><title>Alerts</title></channel></rss>"),
         ("retry-after", "90")),
]


@pytest.fixture(params=CASES, ids=[c.network for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


@pytest.fixture
def api(case: Case) -> Iterator[FakeApi]:
    fake = FakeApi(now=NOW)
    case.setup(fake)
    yield fake
    fake.close()


def poll(case: Case, api: FakeApi, *answers: Any) -> Any:
    api.on("GET", case.path, *answers)
    return case.build().poll(dict(CHECKED), http=api.http(network=case.network), now=NOW)


def test_a_short_retry_after_is_waited_out_then_the_poll_succeeds(case: Case, api: FakeApi) -> None:
    result = poll(case, api, ok({}, status=429, headers={"Retry-After": "2"}), case.good())
    assert api.sleeps == [2.0] and result.mentions


def test_a_long_retry_after_stops_the_poll_with_the_wait(case: Case, api: FakeApi) -> None:
    with pytest.raises(RateLimited) as caught:
        poll(case, api, ok({}, status=429, headers={"Retry-After": "120"}))
    assert caught.value.retry_after == 120 and len(api.calls(case.path)) == 1 and api.sleeps == []


def test_the_networks_own_reset_header_is_honoured(case: Case, api: FakeApi) -> None:
    name, value = case.reset_header
    with pytest.raises(RateLimited) as caught:
        poll(case, api, ok({}, status=429, headers={name: value}))
    assert caught.value.retry_after == pytest.approx(90, abs=1)


def test_5xx_then_success_backs_off_with_jitter(case: Case, api: FakeApi) -> None:
    result = poll(case, api, ok({}, status=503), raw(b"Bad Gateway", status=502), case.good())
    # Full jitter (rng 0.5) over 1 s, then 2 s: never a fixed beat that many sources would share.
    assert api.sleeps == [0.5, 1.0] and result.mentions


def test_5xx_that_outlasts_the_retries_is_unavailable(case: Case, api: FakeApi) -> None:
    with pytest.raises(SourceUnavailable, match="answered 500 .after 4 attempts"):
        poll(case, api, ok({}, status=500))
    assert len(api.calls(case.path)) == 4


def test_timeouts_are_retried_then_reported(case: Case, api: FakeApi) -> None:
    assert poll(case, api, httpx.ReadTimeout("slow"), case.good()).mentions
    with pytest.raises(SourceUnavailable, match="timed out"):
        poll(case, api, httpx.ConnectTimeout("down"))


def test_401_is_an_auth_failure_at_once_without_the_secret(case: Case, api: FakeApi) -> None:
    with pytest.raises(AuthFailed) as caught:
        poll(case, api, ok({"error": "unauthorized"}, status=401))
    assert caught.value.status == 401 and len(api.calls(case.path)) == 1
    assert SECRET not in str(caught.value)


def test_a_body_that_is_not_the_documented_format_is_a_typed_error(case: Case, api: FakeApi) -> None:
    with pytest.raises(PayloadInvalid) as caught:
        poll(case, api, raw(b"<html><body>Service temporarily replaced by a captive portal</body></html>",
                            headers={"Content-Type": "text/html"}))
    assert caught.value.network == case.network and SECRET not in str(caught.value)


def test_an_empty_page_is_a_successful_poll_with_nothing_new(case: Case, api: FakeApi) -> None:
    result = poll(case, api, case.empty())
    assert result.mentions == [] and result.rejected == []


class TestResponseHooks:
    """`SourceHttp.inspecting` lets a connector read an error body before the status is mapped."""

    def test_a_hook_sees_the_error_body_first_and_its_error_wins(self) -> None:
        from monitors.sources.base import RequestRejected

        api = FakeApi(now=NOW).on("GET", "/item", ok({"message": "private post"}, status=403))
        seen: list[int] = []

        def private_is_not_auth(response: httpx.Response) -> None:
            seen.append(response.status_code)
            if response.status_code == 403 and response.json()["message"] == "private post":
                raise RequestRejected("src", "403: private post", status=403)

        http = api.http()
        with pytest.raises(RequestRejected):
            http.inspecting(private_is_not_auth).get_json("https://api.test/item")
        with pytest.raises(AuthFailed):  # the original client is unchanged
            http.get_json("https://api.test/item")
        assert seen == [403]

    def test_hooks_stack_and_see_every_attempt(self) -> None:
        api = FakeApi(now=NOW).on("GET", "/item", raw(b"", status=503), ok({"ok": True}))
        order: list[str] = []
        http = api.http().inspecting(lambda r: order.append(f"a{r.status_code}")).inspecting(
            lambda r: order.append(f"b{r.status_code}"))
        assert http.get_json("https://api.test/item").data == {"ok": True}
        assert order == ["a503", "b503", "a200", "b200"]

    def test_without_retries_sends_once(self) -> None:
        api = FakeApi(now=NOW).on("POST", "/item", httpx.ReadTimeout("slow"))
        with pytest.raises(SourceUnavailable):
            api.http().without_retries().post_json("https://api.test/item", json={})
        assert len(api.requests) == 1 and api.sleeps == []
        with pytest.raises(SourceUnavailable):
            api.http().post_json("https://api.test/item", json={})
        assert len(api.requests) == 5  # the default client still retries
