"""FakeSlack answers the real slack_sdk clients the way Slack does, records calls and injects failures."""

from __future__ import annotations

import json
import threading
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from bot.clock import FrozenClock
from bot.console.fake_slack import Call, FakeSlack, ResponsePost

T0 = datetime.fromtimestamp(1_700_000_000, UTC)
CARD_BLOCKS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*New mention* from @bob"}},
    {
        "type": "actions",
        "block_id": "triage",
        "elements": [
            {
                "type": "button",
                "action_id": "mark_handled",
                "value": "42",
                "text": {"type": "plain_text", "text": "Mark handled"},
            }
        ],
    },
]


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(clock=FrozenClock(T0)) as fake:
        yield fake


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    # No retry handlers: a test that wants retries builds its own client.
    return WebClient(token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[])


class TestServer:
    def test_binds_an_ephemeral_port_on_loopback(self) -> None:
        with FakeSlack() as first, FakeSlack() as second:
            assert first.base_url.startswith("http://127.0.0.1:")
            assert first.base_url.endswith("/api/")
            assert first.base_url != second.base_url

    def test_stop_closes_the_port_and_is_idempotent(self) -> None:
        fake = FakeSlack().start()
        url = fake.base_url + "auth.test"
        fake.stop()
        fake.stop()
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url, timeout=1)

    def test_unknown_method_is_http_200_with_unknown_method(self, client: WebClient) -> None:
        with pytest.raises(SlackApiError) as caught:
            client.api_call("chat.teleport", json={"channel": "C1"})
        assert caught.value.response.status_code == 200
        assert caught.value.response["error"] == "unknown_method"

    def test_missing_bearer_token_is_not_authed(self, fake_slack: FakeSlack) -> None:
        anonymous = WebClient(base_url=fake_slack.base_url, retry_handlers=[])
        with pytest.raises(SlackApiError) as caught:
            anonymous.auth_test()
        assert caught.value.response["error"] == "not_authed"


class TestAuthAndUsers:
    def test_auth_test_describes_the_bot(self, client: WebClient, fake_slack: FakeSlack) -> None:
        answer = client.auth_test()
        assert answer["user_id"] == fake_slack.bot_user_id
        assert answer["bot_id"] == fake_slack.bot_id
        assert answer["team_id"] == fake_slack.team_id
        assert answer["url"] == "https://veille.slack.com/"

    def test_users_info_is_plausible_and_overridable(self, client: WebClient, fake_slack: FakeSlack) -> None:
        generated = client.users_info(user="U0ALICE")["user"]
        assert generated["id"] == "U0ALICE"
        assert generated["is_bot"] is False
        assert generated["profile"]["display_name"]
        fake_slack.add_user("U0ALICE", name="alice", tz="America/New_York", profile={"display_name": "Alice"})
        alice = client.users_info(user="U0ALICE")["user"]
        assert (alice["name"], alice["tz"], alice["profile"]["display_name"]) == (
            "alice",
            "America/New_York",
            "Alice",
        )
        with pytest.raises(SlackApiError, match="user_not_found"):
            client.users_info(user="nobody")


class TestMessages:
    def test_post_message_records_what_the_user_sees(self, client: WebClient, fake_slack: FakeSlack) -> None:
        metadata = {"event_type": "mention_triaged", "event_payload": {"mention_id": 42}}
        answer = client.chat_postMessage(channel="C0TRIAGE", text="New mention", blocks=CARD_BLOCKS, metadata=metadata)
        assert answer["ts"] == "1700000000.000000"
        assert answer["channel"] == "C0TRIAGE"
        assert answer["message"]["metadata"] == metadata

        (call,) = fake_slack.calls("chat.postMessage")
        assert call.body["text"] == "New mention"
        assert call.body["blocks"][1]["elements"][0]["action_id"] == "mark_handled"
        assert call.headers["authorization"] == "Bearer xoxb-test"
        assert call.ok and call.status == 200

        (stored,) = fake_slack.messages("C0TRIAGE")
        assert stored["ts"] == answer["ts"]
        assert stored["metadata"] == metadata
        assert stored["blocks"][1]["block_id"] == "triage"

    def test_timestamps_are_unique_and_increasing_on_a_frozen_clock(self, client: WebClient) -> None:
        stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(3)]
        assert stamps == ["1700000000.000000", "1700000000.000001", "1700000000.000002"]

    def test_form_and_json_bodies_normalize_blocks_to_dicts(self, client: WebClient, fake_slack: FakeSlack) -> None:
        client.api_call(
            "chat.postMessage",
            params={"channel": "C1", "text": "form", "blocks": json.dumps(CARD_BLOCKS)},
        )
        client.chat_postMessage(channel="C1", text="json", blocks=CARD_BLOCKS)
        form_call, json_call = fake_slack.calls("chat.postMessage")
        assert form_call.headers["content-type"].startswith("application/x-www-form-urlencoded")
        assert json_call.headers["content-type"].startswith("application/json")
        assert form_call.body["blocks"] == json_call.body["blocks"] == CARD_BLOCKS

    def test_post_without_text_or_blocks_is_no_text(self, client: WebClient) -> None:
        with pytest.raises(SlackApiError, match="no_text"):
            client.api_call("chat.postMessage", json={"channel": "C1"})  # raw: chat_postMessage would warn

    def test_update_changes_the_stored_message_and_keeps_omitted_blocks(
        self, client: WebClient, fake_slack: FakeSlack
    ) -> None:
        posted = client.chat_postMessage(channel="C1", text="open", blocks=CARD_BLOCKS)
        answer = client.chat_update(channel="C1", ts=posted["ts"], text="handled by <@U0ALICE>")
        assert answer["ts"] == posted["ts"]
        assert answer["text"] == "handled by <@U0ALICE>"
        (stored,) = fake_slack.messages("C1")
        assert stored["text"] == "handled by <@U0ALICE>"
        assert stored["blocks"][0]["text"]["text"] == "*New mention* from @bob"
        assert "edited" in stored

        client.chat_update(channel="C1", ts=posted["ts"], text="closed", blocks=[])
        assert "blocks" not in fake_slack.messages("C1")[0]

    def test_update_of_an_unknown_message_is_message_not_found(self, client: WebClient) -> None:
        with pytest.raises(SlackApiError) as caught:
            client.chat_update(channel="C1", ts="1.000001", text="x")
        assert caught.value.response["error"] == "message_not_found"

    def test_ephemeral_is_answered_but_stays_out_of_history(self, client: WebClient, fake_slack: FakeSlack) -> None:
        answer = client.chat_postEphemeral(channel="C1", user="U0ALICE", text="only you")
        assert answer["message_ts"]
        assert fake_slack.messages("C1") == []
        assert fake_slack.calls("chat.postEphemeral")[0].body["user"] == "U0ALICE"

    def test_permalink_points_at_the_message(self, client: WebClient) -> None:
        ts = client.chat_postMessage(channel="C1", text="x")["ts"]
        link = client.chat_getPermalink(channel="C1", message_ts=ts)["permalink"]
        assert link == "https://veille.slack.com/archives/C1/p1700000000000000"
        with pytest.raises(SlackApiError, match="message_not_found"):
            client.chat_getPermalink(channel="C1", message_ts="2.000000")

    def test_reactions_add_once_per_user(self, client: WebClient, fake_slack: FakeSlack) -> None:
        ts = client.chat_postMessage(channel="C1", text="x")["ts"]
        client.reactions_add(channel="C1", timestamp=ts, name="eyes")
        assert fake_slack.messages("C1")[0]["reactions"] == [
            {"name": "eyes", "users": [fake_slack.bot_user_id], "count": 1}
        ]
        with pytest.raises(SlackApiError, match="already_reacted"):
            client.reactions_add(channel="C1", timestamp=ts, name="eyes")


class TestHistory:
    def test_history_pages_newest_first_with_cursor(self, client: WebClient) -> None:
        posted = [client.chat_postMessage(channel="C1", text=f"m{i}")["ts"] for i in range(5)]
        first = client.conversations_history(channel="C1", limit=2)
        assert [m["text"] for m in first["messages"]] == ["m4", "m3"]
        assert first["has_more"] is True
        cursor = first["response_metadata"]["next_cursor"]
        second = client.conversations_history(channel="C1", limit=2, cursor=cursor)
        assert [m["text"] for m in second["messages"]] == ["m2", "m1"]

        # slack_sdk's own pagination follows next_cursor until it is empty (it reuses one response object).
        seen: list[str] = []
        for page in client.conversations_history(channel="C1", limit=2):
            seen.extend(m["ts"] for m in page["messages"])
        assert seen == posted[::-1]
        assert page["has_more"] is False
        assert page["response_metadata"]["next_cursor"] == ""

    def test_oldest_and_latest_are_exclusive_unless_inclusive(self, client: WebClient) -> None:
        ts = [client.chat_postMessage(channel="C1", text=f"m{i}")["ts"] for i in range(4)]
        window = client.conversations_history(channel="C1", oldest=ts[0], latest=ts[3])
        assert [m["text"] for m in window["messages"]] == ["m2", "m1"]
        inclusive = client.conversations_history(channel="C1", oldest=ts[0], latest=ts[3], inclusive=True)
        assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1", "m0"]

    def test_metadata_only_with_include_all_metadata(self, client: WebClient) -> None:
        metadata = {"event_type": "mention_triaged", "event_payload": {"mention_id": 7}}
        client.chat_postMessage(channel="C1", text="card", metadata=metadata)
        plain = client.conversations_history(channel="C1")["messages"][0]
        assert "metadata" not in plain
        full = client.conversations_history(channel="C1", include_all_metadata=True)["messages"][0]
        assert full["metadata"] == metadata

    def test_replies_stay_in_their_thread(self, client: WebClient, fake_slack: FakeSlack) -> None:
        parent = client.chat_postMessage(channel="C1", text="card")["ts"]
        client.chat_postMessage(channel="C1", text="reply 1", thread_ts=parent)
        client.chat_postMessage(channel="C1", text="reply 2", thread_ts=parent)

        history = client.conversations_history(channel="C1")["messages"]
        assert [m["text"] for m in history] == ["card"]
        assert history[0]["reply_count"] == 2

        thread = client.conversations_replies(channel="C1", ts=parent)["messages"]
        assert [m["text"] for m in thread] == ["card", "reply 1", "reply 2"]
        assert all(m["thread_ts"] == parent for m in thread)
        assert [m["text"] for m in fake_slack.messages("C1")] == ["card", "reply 1", "reply 2"]
        with pytest.raises(SlackApiError, match="thread_not_found"):
            client.conversations_replies(channel="C1", ts="1.000000")


class TestViews:
    def test_publish_then_update_home_and_modals(self, client: WebClient, fake_slack: FakeSlack) -> None:
        home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}
        published = client.views_publish(user_id="U0ALICE", view=home)["view"]
        assert published["type"] == "home"
        republished = client.views_publish(user_id="U0ALICE", view=home)["view"]
        assert republished["id"] == published["id"]
        assert fake_slack.home("U0ALICE") == republished

        modal = {"type": "modal", "callback_id": "snooze", "title": {"type": "plain_text", "text": "Snooze"}}
        opened = client.views_open(trigger_id="123.456", view=modal)["view"]
        assert opened["callback_id"] == "snooze"
        updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view={**modal, "blocks": []})
        assert updated["view"]["id"] == opened["id"]
        with pytest.raises(SlackApiError, match="hash_conflict"):
            client.views_update(view_id=opened["id"], hash="stale", view=modal)
        with pytest.raises(SlackApiError, match="not_found"):
            client.views_update(view_id="V404", view=modal)


class TestFiles:
    def test_files_upload_v2_round_trip(self, client: WebClient, fake_slack: FakeSlack) -> None:
        png = b"\x89PNG\r\n\x1a\nchart"
        answer = client.files_upload_v2(
            content=png, filename="kpi.png", title="KPI, last 7 days", channel="C1", initial_comment="Your KPIs"
        )
        assert answer["file"]["title"] == "KPI, last 7 days"
        assert answer["file"]["size"] == len(png)
        assert fake_slack.file_content(answer["file"]["id"]) == png
        assert [c.method for c in fake_slack.calls()] == [
            "files.getUploadURLExternal",
            "files.completeUploadExternal",
        ]
        (shared,) = fake_slack.messages("C1")
        assert shared["text"] == "Your KPIs"
        assert shared["files"][0]["name"] == "kpi.png"

    def test_completing_a_file_never_uploaded_is_an_error(self, client: WebClient) -> None:
        with pytest.raises(SlackApiError, match="file_not_found"):
            client.files_completeUploadExternal(files=[{"id": "F404", "title": "x"}], channel_id="C1")


class TestFailureInjection:
    def test_server_error_then_success_with_retry_handler(self, fake_slack: FakeSlack) -> None:
        retrying = WebClient(
            token="xoxb-test",
            base_url=fake_slack.base_url,
            retry_handlers=[ServerErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0.01))],
        )
        fake_slack.fail("chat.postMessage", status=503)
        assert retrying.chat_postMessage(channel="C1", text="hello")["ok"]
        assert [c.status for c in fake_slack.calls("chat.postMessage")] == [503, 200]
        assert len(fake_slack.messages("C1")) == 1

    def test_server_error_without_retry_raises(self, client: WebClient, fake_slack: FakeSlack) -> None:
        fake_slack.fail("chat.postMessage")
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel="C1", text="hello")
        assert caught.value.response.status_code == 500
        assert client.chat_postMessage(channel="C1", text="hello")["ok"]

    def test_ratelimited_sends_retry_after_and_slack_sdk_honours_it(
        self, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        slept: list[float] = []
        # Replace the handler module's `time`, not the global one: the test records, never waits.
        monkeypatch.setattr(builtin_handlers, "time", types.SimpleNamespace(sleep=slept.append))
        retrying = WebClient(
            token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[RateLimitErrorRetryHandler()]
        )
        fake_slack.fail("chat.postMessage", error="ratelimited", retry_after=7)
        assert retrying.chat_postMessage(channel="C1", text="hello")["ok"]
        assert len(slept) == 1 and 7 <= slept[0] < 8
        first, second = fake_slack.calls("chat.postMessage")
        assert (first.status, first.error) == (429, "ratelimited")
        assert second.ok

    def test_ratelimited_without_retry_exposes_the_header(self, client: WebClient, fake_slack: FakeSlack) -> None:
        fake_slack.fail("conversations.history", error="ratelimited", retry_after=3)
        with pytest.raises(SlackApiError) as caught:
            client.conversations_history(channel="C1")
        assert caught.value.response.status_code == 429
        assert caught.value.response.headers["retry-after"] == "3"

    def test_slack_error_code_is_http_200_and_raises(self, client: WebClient, fake_slack: FakeSlack) -> None:
        fake_slack.fail("chat.postMessage", error="channel_not_found", times=2)
        for _ in range(2):
            with pytest.raises(SlackApiError) as caught:
                client.chat_postMessage(channel="C404", text="x")
            assert caught.value.response.status_code == 200
            assert caught.value.response["error"] == "channel_not_found"
        assert client.chat_postMessage(channel="C404", text="x")["ok"]
        assert [c.error for c in fake_slack.calls("chat.postMessage")] == [
            "channel_not_found",
            "channel_not_found",
            None,
        ]

    def test_outage_answers_503_until_it_ends(self, client: WebClient, fake_slack: FakeSlack) -> None:
        over = threading.Event()
        fake_slack.outage(over.is_set)
        with pytest.raises(SlackApiError) as caught:
            client.auth_test()
        assert caught.value.response.status_code == 503
        over.set()
        assert client.auth_test()["ok"]

        fake_slack.outage(60)
        with pytest.raises(SlackApiError):
            client.auth_test()
        fake_slack.outage(None)
        assert client.auth_test()["ok"]

    def test_delay_makes_the_client_time_out(self, fake_slack: FakeSlack) -> None:
        impatient = WebClient(token="xoxb-test", base_url=fake_slack.base_url, timeout=0.2, retry_handlers=[])
        fake_slack.delay("auth.test", 5)
        with pytest.raises((TimeoutError, urllib.error.URLError)):
            impatient.auth_test()
        fake_slack.delay("auth.test", 0)
        assert impatient.auth_test()["ok"]

    def test_stub_returns_a_canned_response(self, client: WebClient, fake_slack: FakeSlack) -> None:
        fake_slack.stub("team.info", {"ok": True, "team": {"id": "T1", "name": "Acme"}}, times=1)
        assert client.team_info()["team"]["name"] == "Acme"
        with pytest.raises(SlackApiError, match="unknown_method"):
            client.team_info()


class TestResponseUrls:
    def test_webhook_client_posts_are_recorded(self, fake_slack: FakeSlack) -> None:
        url = fake_slack.response_url("kpi-1")
        answer = WebhookClient(url).send(text="KPIs for *7d*", blocks=CARD_BLOCKS, response_type="ephemeral")
        assert (answer.status_code, answer.body) == (200, "ok")
        (post,) = fake_slack.responses()
        assert isinstance(post, ResponsePost)
        assert post.name == "kpi-1"
        assert post.body["text"] == "KPIs for *7d*"
        assert post.body["blocks"] == CARD_BLOCKS

    def test_bound_response_url_replaces_deletes_and_posts(self, client: WebClient, fake_slack: FakeSlack) -> None:
        ts = client.chat_postMessage(channel="C1", text="open", blocks=CARD_BLOCKS)["ts"]
        url = fake_slack.response_url("click-1", channel="C1", message_ts=ts)
        WebhookClient(url).send(text="handled", replace_original=True)
        (card,) = fake_slack.messages("C1")
        assert (card["ts"], card["text"]) == (ts, "handled")

        WebhookClient(url).send(text="Escalated to <!here>", response_type="in_channel")
        assert [m["text"] for m in fake_slack.messages("C1")] == ["handled", "Escalated to <!here>"]
        WebhookClient(url).send(text="only you see this")  # ephemeral by default: stored nowhere
        WebhookClient(url).send_dict({"delete_original": True})
        assert [m["text"] for m in fake_slack.messages("C1")] == ["Escalated to <!here>"]


class TestHooksAndReset:
    def test_on_call_sees_each_successful_call_before_the_client_returns(
        self, client: WebClient, fake_slack: FakeSlack
    ) -> None:
        seen: list[Call] = []
        fake_slack.on_call = seen.append
        fake_slack.fail("chat.postMessage", error="channel_not_found")
        with pytest.raises(SlackApiError):
            client.chat_postMessage(channel="C1", text="lost")
        answer = client.chat_postMessage(channel="C1", text="shown")
        assert [(c.method, c.body["text"], c.response["ts"]) for c in seen] == [
            ("chat.postMessage", "shown", answer["ts"])
        ]

    def test_a_failing_hook_does_not_break_the_client(self, client: WebClient, fake_slack: FakeSlack) -> None:
        def explode(call: Call) -> None:
            raise RuntimeError("console crashed")

        fake_slack.on_call = explode
        assert client.auth_test()["ok"]

    def test_on_response_sees_response_url_posts(self, fake_slack: FakeSlack) -> None:
        seen: list[tuple[str, dict]] = []
        fake_slack.on_response = lambda name, body: seen.append((name, body))
        WebhookClient(fake_slack.response_url("cmd")).send(text="done")
        assert seen == [("cmd", {"text": "done"})]

    def test_reset_forgets_everything(self, client: WebClient, fake_slack: FakeSlack) -> None:
        client.chat_postMessage(channel="C1", text="x")
        fake_slack.fail("auth.test", times=None)
        fake_slack.reset()
        assert fake_slack.calls() == []
        assert fake_slack.messages("C1") == []
        assert client.auth_test()["ok"]
