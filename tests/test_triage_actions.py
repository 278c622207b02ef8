"""Every card button end to end: signed clicks in, the row changed, the card updated in place, the history in
its thread, and refusals said privately to whoever may not act."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot import ids, models
from bot.console import slack_requests
from bot.runtime import Runtime, RuntimeOptions
from tests.slackbot import SECRET, SlackBot, wait_until

ADMIN, SUPPORT, CM = "U0ADMIN", "U0SUPPORT1", "U0CM1"


@pytest.fixture
def bot(db_url, fake_slack, workspace, clock) -> Iterator[SlackBot]:  # type: ignore[no-untyped-def]
    runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                     database_url=db_url, workspace=workspace, clock=clock, outbox_idle_s=0.05))
    runtime.start(poll=False)
    yield SlackBot(runtime, fake_slack)
    runtime.stop()


def mention_row(bot: SlackBot, card: dict) -> models.Mention:
    mention_id = int(card["blocks"][-1]["block_id"].removeprefix("triage:"))
    with Session(bot.runtime.engine) as session:
        row = session.get(models.Mention, mention_id)
        assert row is not None
        return row


class TestButtons:
    def test_mark_handled_updates_the_card_and_writes_history_in_its_thread(self, bot, make_mention) -> None:
        bot.ingest(make_mention(text="Where is my order?"))
        [card] = bot.wait_cards(1)
        bot.act(card, ids.MARK_HANDLED, user=SUPPORT)
        wait_until(lambda: bot.updates_of(card) and bot.thread(card), what="update and history")
        assert "Handled by <@U0SUPPORT1>" in json.dumps(bot.current(card)["blocks"])
        assert [m["text"] for m in bot.thread(card)] == ["✅ <@U0SUPPORT1> marked it handled"]
        assert mention_row(bot, card).status == "handled"

    def test_take_makes_me_the_owner(self, bot, make_mention) -> None:
        bot.ingest(make_mention(text="Is the Aurore lamp dimmable?"))  # triage, fallback owner U0CM1
        [card] = bot.wait_cards(1)
        assert "Owner: <@U0CM1>" in json.dumps(card["blocks"])
        bot.act(card, ids.TAKE, user=ADMIN)
        wait_until(lambda: "Owner: <@U0ADMIN>" in json.dumps(bot.current(card)["blocks"]), what="new owner")
        wait_until(lambda: bot.thread(card))
        assert bot.thread(card)[0]["text"] == "🙋 <@U0ADMIN> took it"

    def test_reassign_with_the_user_picker(self, bot, make_mention) -> None:
        bot.ingest(make_mention(text="Is the Aurore lamp dimmable?"))
        [card] = bot.wait_cards(1)
        bot.act(card, ids.REASSIGN, user=CM, selected_user=SUPPORT)
        wait_until(lambda: "Owner: <@U0SUPPORT1>" in json.dumps(bot.current(card)["blocks"]), what="reassigned")
        wait_until(lambda: bot.thread(card))
        assert bot.thread(card)[0]["text"] == "↪️ <@U0CM1> reassigned it to <@U0SUPPORT1>"
        with Session(bot.runtime.engine) as session:
            owners = session.exec(select(models.Assignment.owner, models.Assignment.active)
                                  .order_by(models.Assignment.id)).all()
        assert owners == [("U0CM1", False), ("U0SUPPORT1", True)]  # the history of owners is kept

    def test_snooze_hides_it_until_the_time_then_it_comes_back(self, bot, make_mention, clock) -> None:
        bot.ingest(make_mention(text="Is the Aurore lamp dimmable?"))
        [card] = bot.wait_cards(1)
        snooze = bot.element(card, ids.SNOOZE)
        four_hours = next(o for o in snooze["options"] if o["value"].endswith(":240"))
        bot.act(card, ids.SNOOZE, user=CM, selected_option=four_hours)
        wait_until(lambda: "Snoozed until" in json.dumps(bot.current(card)["blocks"]), what="snoozed card")
        assert mention_row(bot, card).status == "snoozed"
        from bot.db import session_scope
        from bot.services.triage import wake_snoozed

        clock.advance(timedelta(hours=4, minutes=1))
        with session_scope(bot.runtime.engine) as session:
            assert wake_snoozed(session, now=clock.now()) == 1
        bot.runtime.worker.wake()
        wait_until(lambda: "Mark handled" in json.dumps(bot.current(card)["blocks"]), what="back in the queue")
        assert mention_row(bot, card).status == "open"

    def test_not_relevant_and_wrong_sentiment_from_the_menu(self, bot, make_mention) -> None:
        bot.ingest(make_mention(text="This lamp is sick!"))  # VADER reads "sick" as negative
        [card] = bot.wait_cards(1)
        menu = bot.element(card, ids.CARD_MENU)
        fix = next(o for o in menu["options"] if o["value"].startswith("sentiment:positive:"))
        bot.act(card, ids.CARD_MENU, user=CM, selected_option=fix)
        wait_until(lambda: "positive ✎" in json.dumps(bot.current(card)["blocks"], ensure_ascii=False))
        with Session(bot.runtime.engine) as session:
            correction = session.exec(select(models.SentimentCorrection)).one()
        assert (correction.old_label, correction.new_label, correction.corrected_by) == ("negative", "positive", CM)
        dismiss = next(o for o in bot.element(bot.current(card), ids.CARD_MENU)["options"]
                       if o["value"].startswith("dismiss:"))
        bot.act(bot.current(card), ids.CARD_MENU, user=CM, selected_option=dismiss)
        wait_until(lambda: mention_row(bot, card).status == "not_relevant")

    def test_reopen_after_handled(self, bot, make_mention) -> None:
        bot.ingest(make_mention())
        [card] = bot.wait_cards(1)
        bot.act(card, ids.MARK_HANDLED, user=CM)
        wait_until(lambda: "Reopen" in json.dumps(bot.current(card)["blocks"]))
        bot.act(bot.current(card), ids.REOPEN, user=CM)
        wait_until(lambda: mention_row(bot, card).status == "open")


class TestWhoMayAct:
    def test_a_support_item_refuses_someone_outside_support(self, bot, make_mention) -> None:
        bot.ingest(make_mention(text="Still no delivery, order 1234"))  # routed to support
        [card] = bot.wait_cards(1)
        bot.act(card, ids.MARK_HANDLED, user=CM)
        wait_until(lambda: bot.ephemerals(), what="a private refusal")
        assert bot.ephemerals()[-1].startswith("You are not in the support group: ask <@U0SUPPORT1>")
        assert mention_row(bot, card).status == "open"
        assert not bot.updates_of(card)

    def test_admins_may_act_on_everything(self, bot, make_mention) -> None:
        bot.ingest(make_mention(text="Still no delivery, order 1234"))
        [card] = bot.wait_cards(1)
        bot.act(card, ids.MARK_HANDLED, user=ADMIN)
        wait_until(lambda: mention_row(bot, card).status == "handled")


class TestAppHome:
    def test_opening_the_home_publishes_my_items_and_the_queue(self, bot, make_mention) -> None:
        bot.ingest(make_mention(text="Still no delivery, order 1234"), make_mention(text="Nice lamp"))
        bot.wait_cards(2)
        event = {"type": "app_home_opened", "user": SUPPORT, "channel": "D0HOME", "tab": "home",
                 "event_ts": "1700000000.000100"}
        response = bot.post(slack_requests.event_callback(event, event_id="Ev001"), content_type="application/json")
        assert response.status_code == 200
        wait_until(lambda: bot.fake.home(SUPPORT) is not None, what="home published")
        home = json.dumps(bot.fake.home(SUPPORT), ensure_ascii=False)
        assert "My open items (1)" in home and "Still no delivery" in home
        assert "support: *1*" in home
        assert "On call now" in home

    def test_a_retried_event_is_applied_once(self, bot) -> None:
        event = {"type": "app_home_opened", "user": CM, "channel": "D0HOME", "tab": "home"}
        body = slack_requests.event_callback(event, event_id="Ev042")
        bot.post(body, content_type="application/json")
        wait_until(lambda: bot.fake.calls("views.publish"), what="first publish")
        retry = bot.post(body, content_type="application/json",
                         headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
        assert retry.status_code == 200
        with Session(bot.runtime.engine) as session:
            assert session.exec(select(models.ProcessedRequest.key)).all() == ["event:Ev042"]


class TestReplies:
    @pytest.fixture
    def sent(self) -> list:
        return []

    @pytest.fixture
    def bot(self, db_url, fake_slack, workspace, clock, sent) -> Iterator[SlackBot]:  # type: ignore[no-untyped-def]
        from bot.workspace import parse_workspace
        from tests.conftest import WORKSPACE_YAML

        ws = parse_workspace(WORKSPACE_YAML + "  approvals: {support: [U0ADMIN]}\n", "test.yaml")

        def executor(source, mention, action):  # type: ignore[no-untyped-def]
            sent.append((source, mention.external_id, action.kind, action.text, action.idempotency_key))
            return f"net-{len(sent)}"

        runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET,
                                         slack_api_url=fake_slack.base_url, database_url=db_url, workspace=ws,
                                         clock=clock, outbox_idle_s=0.05, network_executor=executor))
        runtime.start(poll=False)
        yield SlackBot(runtime, fake_slack)
        runtime.stop()

    def submit(self, bot: SlackBot, card: dict, text: str, *, user: str) -> dict:
        wait_until(lambda: bot.fake.calls("views.open"), what="the composer")
        view = bot.fake.calls("views.open")[-1].body["view"]
        payload = {"type": "view_submission", "team": {"id": "T0VEILLE"}, "user": {"id": user},
                   "api_app_id": "A0VEILLE", "trigger_id": "1.2",
                   "view": {**view, "id": "V1", "state": {"values": {"reply_text": {"text": {
                       "type": "plain_text_input", "value": text}}}}}}
        from urllib.parse import urlencode

        response = bot.post(urlencode({"payload": json.dumps(payload)}))
        assert response.status_code == 200
        return response.json() if response.content else {}

    def test_thank_prefills_in_the_authors_language_and_sends_once(self, bot, make_mention, sent) -> None:
        bot.ingest(make_mention(text="J'adore la lampe Aurore, merci ! 😍", lang="fr", author_name="Léa"))
        [card] = bot.wait_cards(1)
        bot.act(card, ids.THANK, user=CM)
        wait_until(lambda: bot.fake.calls("views.open"))
        view = bot.fake.calls("views.open")[-1].body["view"]
        assert view["blocks"][1]["element"]["initial_value"] == "Merci beaucoup Léa ! 💛"
        assert self.submit(bot, card, "Merci beaucoup Léa ! 💛", user=CM) == {}
        wait_until(lambda: sent, what="the reply on the network")
        wait_until(lambda: "Replied by <@U0CM1>" in json.dumps(bot.current(card)["blocks"], ensure_ascii=False))
        assert len(sent) == 1 and sent[0][2:4] == ("reply", "Merci beaucoup Léa ! 💛")
        assert mention_row(bot, card).status == "handled"  # answering is handling
        wait_until(lambda: any(m["text"].startswith("💬 Reply sent on the network") for m in bot.thread(card)),
                   what="the reply in the card's thread")

    def test_a_support_reply_waits_for_an_approver(self, bot, make_mention, sent) -> None:
        bot.ingest(make_mention(text="Where is my order? <!channel>"))
        [card] = bot.wait_cards(1)
        bot.act(card, ids.REPLY, user=SUPPORT)
        self.submit(bot, card, "Sorry! Your order ships today <@U999>", user=SUPPORT)
        wait_until(lambda: "waiting for <@U0ADMIN>" in json.dumps(bot.current(card)["blocks"]), what="awaiting")
        blob = json.dumps(bot.current(card)["blocks"])
        assert "&lt;@U999&gt;" in blob and "<@U999>" not in blob  # the draft is escaped on the card
        assert not sent
        bot.act(bot.current(card), ids.APPROVE_ACTION, user=SUPPORT)  # the drafter cannot approve
        wait_until(lambda: bot.ephemerals())
        assert bot.ephemerals()[-1] == "Only <@U0ADMIN> can approve replies here."
        bot.act(bot.current(card), ids.APPROVE_ACTION, user=ADMIN)
        wait_until(lambda: sent)
        wait_until(lambda: "(approved by <@U0ADMIN>)" in json.dumps(bot.current(card)["blocks"]))

    def test_an_empty_or_too_long_reply_is_refused_in_the_modal(self, bot, make_mention) -> None:
        bot.ingest(make_mention(text="Is the Aurore lamp dimmable?"))
        [card] = bot.wait_cards(1)
        bot.act(card, ids.REPLY, user=CM)
        answer = self.submit(bot, card, "x" * 300, user=CM)  # X allows 280
        assert answer == {"response_action": "errors",
                          "errors": {"reply_text": "300 characters: this network allows 280."}}

    def test_hide_goes_to_the_network_and_a_refusal_shows_on_the_card(self, db_url, fake_slack, workspace, clock,
                                                                       make_mention) -> None:
        from monitors.sources.base import NotSupported

        def executor(source, mention, action):  # type: ignore[no-untyped-def]
            raise NotSupported(source, "this account may not hide comments (missing permission)")

        runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET,
                                         slack_api_url=fake_slack.base_url, database_url=db_url, workspace=workspace,
                                         clock=clock, outbox_idle_s=0.05, network_executor=executor))
        runtime.start(poll=False)
        try:
            bot = SlackBot(runtime, fake_slack)
            bot.ingest(make_mention(text="You are all idiots"))
            [card] = bot.wait_cards(1)
            bot.act(card, ids.HIDE, user=CM)
            wait_until(lambda: "Not done on the network: this account may not hide" in json.dumps(
                bot.current(card)["blocks"]), what="the refusal on the card")
            assert mention_row(bot, card).status == "open"
        finally:
            runtime.stop()


class TestSentimentCorrections:
    def submit_override(self, bot: SlackBot, term: str, label: str, user: str) -> None:
        from urllib.parse import urlencode

        wait_until(lambda: bot.fake.calls("views.open"), what="the override modal")
        view = bot.fake.calls("views.open")[-1].body["view"]
        payload = {"type": "view_submission", "team": {"id": "T0VEILLE"}, "user": {"id": user},
                   "api_app_id": "A0VEILLE", "view": {**view, "id": "V2", "state": {"values": {
                       "override_term": {"term": {"type": "plain_text_input", "value": term}},
                       "override_label": {"label": {"type": "static_select",
                                                    "selected_option": {"value": label}}}}}}}
        assert bot.post(urlencode({"payload": json.dumps(payload)})).status_code == 200

    def test_a_brand_word_override_changes_how_the_next_items_read(self, bot, make_mention) -> None:
        bot.ingest(make_mention(text="The Killer lamp is back in stock", lang="en"))
        [card] = bot.wait_cards(1)
        assert mention_row(bot, card).sentiment_label == "negative"  # VADER reads "killer" as negative
        menu = bot.element(card, ids.CARD_MENU)
        option = next(o for o in menu["options"] if o["value"].startswith("override:"))
        bot.act(card, ids.CARD_MENU, user=CM, selected_option=option)
        self.submit_override(bot, "Killer lamp", "neutral", CM)
        wait_until(lambda: any("now reads as neutral" in m["text"] for m in bot.thread(card)), what="the history")
        bot.ingest(make_mention(text="Killer lamp restocked today", lang="en"))
        second = bot.wait_cards(2)[1]
        assert mention_row(bot, second).sentiment_label == "neutral"
        with Session(bot.runtime.engine) as session:
            correction = session.exec(select(models.SentimentCorrection)).one()
        assert (correction.term, correction.new_label) == ("Killer lamp", "neutral")


class TestMoreClicks:
    def test_reject_a_drafted_reply_and_the_card_offers_reply_again(self, db_url, fake_slack, clock,
                                                                     make_mention) -> None:
        from bot.workspace import parse_workspace
        from tests.conftest import WORKSPACE_YAML

        ws = parse_workspace(WORKSPACE_YAML + "  approvals: {support: [U0ADMIN]}\n", "test.yaml")
        sent: list = []
        runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                         database_url=db_url, workspace=ws, clock=clock, outbox_idle_s=0.05,
                                         network_executor=lambda *a: sent.append(a) or "x"))
        runtime.start(poll=False)
        try:
            bot = SlackBot(runtime, fake_slack)
            bot.ingest(make_mention(text="Where is my order?"))
            [card] = bot.wait_cards(1)
            bot.act(card, ids.REPLY, user=SUPPORT)
            TestReplies().submit(bot, card, "On its way!", user=SUPPORT)
            wait_until(lambda: "Reject" in json.dumps(bot.current(card)["blocks"]), what="the approval buttons")
            bot.act(bot.current(card), ids.REJECT_ACTION, user=ADMIN)
            wait_until(lambda: any("rejected the reply" in m["text"] for m in bot.thread(card)))
            wait_until(lambda: bot.element(bot.current(card), ids.REPLY) is not None)
            assert not sent
        finally:
            runtime.stop()

    def test_digest_buttons_expand_and_handle_all(self, bot, make_mention) -> None:
        from bot.flood import FloodPolicy

        bot.runtime.sender._flood = FloodPolicy(threshold=5, similarity=60, min_group=3)  # noqa: SLF001
        bot.runtime.worker.stop()  # let the backlog build, as during a flood
        bot.ingest(*[make_mention(text=f"still no delivery for my order, day {i}") for i in range(12)])
        bot.runtime.sender.deliver_due()
        digest = next(m for m in bot.top_level() if "🌊" in json.dumps(m["blocks"], ensure_ascii=False))
        bot.runtime.worker = type(bot.runtime.worker)(bot.runtime.sender, idle_s=0.05)
        bot.runtime.deps.wake_outbox = bot.runtime.worker.wake
        bot.runtime.worker.start()
        bot.act(digest, ids.DIGEST_EXPAND, user=ADMIN)
        wait_until(lambda: len(bot.thread(digest)) >= 3, what="the items in the digest's thread")
        bot.act(bot.current(digest), ids.DIGEST_HANDLE_ALL, user=ADMIN)
        wait_until(lambda: "Mark all handled" not in json.dumps(bot.current(digest)["blocks"]),
                   what="the digest marked handled")
        with Session(bot.runtime.engine) as session:
            assert set(session.exec(select(models.Mention.status)).all()) == {"handled"}
