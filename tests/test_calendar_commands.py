"""`/calendar` end to end: signed slash commands and clicks in, what the member sees out, the rows changed.

The brand is in Europe/Paris; T0 is Friday 20 November 2026, 09:00 UTC (10:00 in Paris).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, select

from bot import models
from bot.console import slack_requests
from bot.render import calendar as cal
from bot.runtime import Runtime, RuntimeOptions
from bot.services import calendar_io
from tests.conftest import T0
from tests.slackbot import SECRET, SlackBot, wait_until

ADMIN, SUPPORT, CM, STRANGER = "U0ADMIN", "U0SUPPORT1", "U0CM1", "U0STRANGER"


@pytest.fixture
def bot(db_url, fake_slack, workspace, clock) -> Iterator[SlackBot]:  # type: ignore[no-untyped-def]
    runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                     database_url=db_url, workspace=workspace, clock=clock, outbox_idle_s=0.05))
    runtime.start(poll=False)
    yield SlackBot(runtime, fake_slack)
    runtime.stop()


# ---------------------------------------------------------------------------------------------------------
# Helpers a member's gestures go through


def add_post(bot: SlackBot, at: datetime, title: str, **fields: Any) -> int:
    with Session(bot.runtime.engine) as session:
        post = models.CalendarPost(network=fields.pop("network", "instagram"), scheduled_at=at, title=title, **fields)
        session.add(post)
        session.commit()
        assert post.id is not None
        return post.id


def post_row(bot: SlackBot, post_id: int) -> models.CalendarPost:
    with Session(bot.runtime.engine) as session:
        row = session.get(models.CalendarPost, post_id)
        assert row is not None
        return row


def slash(bot: SlackBot, text: str = "", *, user: str = ADMIN, channel: str = "C0TRIAGE") -> dict:
    """Run `/calendar text` and return the first answer posted to its response_url."""
    name = f"cmd-{time.monotonic_ns()}"
    response = bot.post(slack_requests.slash_command("/calendar", text, user_id=user, channel_id=channel,
                                                     response_url=bot.fake.response_url(name)))
    assert response.status_code == 200
    wait_until(lambda: any(r.name == name for r in bot.fake.responses()), what=f"/calendar {text}")
    return next(r.body for r in bot.fake.responses() if r.name == name)


def slash_opening(bot: SlackBot, text: str, *, user: str) -> dict:
    """Run `/calendar text` that opens a modal; return the view opened."""
    before = len(bot.fake.calls("views.open"))
    response = bot.post(slack_requests.slash_command("/calendar", text, user_id=user, channel_id="C0TRIAGE",
                                                     response_url=bot.fake.response_url(f"cmd-{time.monotonic_ns()}")))
    assert response.status_code == 200
    wait_until(lambda: len(bot.fake.calls("views.open")) > before, what="the modal")
    return bot.fake.calls("views.open")[-1].body["view"]


def lines(answer: dict) -> list[str]:
    """The listing as a member reads it: day headings and post lines, in order."""
    return [b["text"]["text"] for b in answer.get("blocks") or [] if b["type"] == "section"]


def button(answer: dict, post_id: int, action_id: str) -> dict:
    block = next(b for b in answer["blocks"] if b.get("block_id") == f"calendar:{post_id}")
    element = next(e for e in block["elements"] if e["action_id"] == action_id)
    return {**element, "block_id": block["block_id"]}


def actions_of(answer: dict, post_id: int) -> list[str]:
    block = next(b for b in answer["blocks"] if b.get("block_id") == f"calendar:{post_id}")
    return [e["action_id"] for e in block["elements"]]


def click(bot: SlackBot, answer: dict, post_id: int, action_id: str, *, user: str) -> str:
    """Click a button of an ephemeral listing; returns the response_url name its answers go to."""
    name = f"click-{time.monotonic_ns()}"
    response = bot.post(slack_requests.block_action(
        user_id=user, channel_id="C0TRIAGE", message={"ts": "1.000001", "blocks": answer["blocks"]},
        button=button(answer, post_id, action_id), response_url=bot.fake.response_url(name)))
    assert response.status_code == 200
    return name


def answers_to(bot: SlackBot, name: str) -> list[dict]:
    return [r.body for r in bot.fake.responses() if r.name == name]


def submit(bot: SlackBot, view: dict, values: dict, *, user: str) -> dict:
    payload = {"type": "view_submission", "team": {"id": "T0VEILLE"}, "user": {"id": user},
               "api_app_id": "A0VEILLE", "trigger_id": "1.2",
               "view": {**view, "id": "V1", "state": {"values": values}}}
    response = bot.post(urlencode({"payload": json.dumps(payload)}))
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def form(*, network: str | None = "instagram", day: str | None = "2026-11-21", at: str | None = "14:00",
         title: str = "Aurore launch", pillar: str = "", kind: str = "value", fmt: str | None = None,
         owner: str | None = None, status: str = "scheduled") -> dict:
    def select_(value: str | None) -> dict:
        return {cal.INPUT: {"type": "static_select", "selected_option": {"value": value} if value else None}}

    return {
        cal.NETWORK: select_(network),
        cal.DATE: {cal.INPUT: {"type": "datepicker", "selected_date": day}},
        cal.TIME: {cal.INPUT: {"type": "timepicker", "selected_time": at}},
        cal.TITLE: {cal.INPUT: {"type": "plain_text_input", "value": title}},
        cal.PILLAR: {cal.INPUT: {"type": "plain_text_input", "value": pillar}},
        cal.KIND: {cal.INPUT: {"type": "radio_buttons", "selected_option": {"value": kind}}},
        cal.FORMAT: select_(fmt),
        cal.OWNER: {cal.INPUT: {"type": "users_select", "selected_user": owner}},
        cal.STATUS: select_(status),
    }


# ---------------------------------------------------------------------------------------------------------


class TestListing:
    def test_the_next_7_days_grouped_by_paris_day_across_midnight(self, bot) -> None:
        late = add_post(bot, datetime(2026, 11, 20, 22, 30, tzinfo=UTC), "Late teaser", network="x")  # Fri 23:30
        after = add_post(bot, datetime(2026, 11, 20, 23, 30, tzinfo=UTC), "After midnight",
                         pillar="product", promo=True, owner=CM)  # Sat 00:30 in Paris
        add_post(bot, T0 + timedelta(days=1), "Saturday <!channel> post", format="video")  # Sat 10:00
        add_post(bot, T0 + timedelta(days=9), "Too far ahead")
        add_post(bot, T0 + timedelta(days=2), "Cancelled one", status="cancelled")
        add_post(bot, datetime(2026, 11, 26, 22, 59, tzinfo=UTC), "Last minute of the week")  # Thu 23:59
        add_post(bot, datetime(2026, 11, 26, 23, 0, tzinfo=UTC), "Friday 27, out")  # Fri 27 00:00 in Paris
        answer = slash(bot)
        assert answer["response_type"] == "ephemeral"
        assert answer["blocks"][0]["text"]["text"] == "Content calendar — next 7 days"
        assert lines(answer) == [
            "*Friday 20 November*",
            "`23:30` 🗓️ *X* — Late teaser  _(value)_ · scheduled",
            "*Saturday 21 November*",
            "`00:30` 🗓️ *Instagram* — After midnight  _(promo · product)_ · scheduled · <@U0CM1>",
            "`10:00` 🗓️ *Instagram* — Saturday &lt;!channel&gt; post  _(value · video)_ · scheduled",
            "*Thursday 26 November*",
            "`23:59` 🗓️ *Instagram* — Last minute of the week  _(value)_ · scheduled",
        ]
        # Each post has its three buttons; Cancel asks first.
        assert actions_of(answer, late) == actions_of(answer, after) == [cal.EDIT, cal.PUBLISH, cal.CANCEL]
        assert button(answer, after, cal.CANCEL)["confirm"]["title"]["text"] == "Cancel this post?"

    def test_today_week_month_and_network_filters(self, bot, clock) -> None:
        add_post(bot, datetime(2026, 11, 20, 7, 0, tzinfo=UTC), "This morning", status="published")  # today 08:00
        add_post(bot, datetime(2026, 11, 16, 8, 0, tzinfo=UTC), "Monday", network="x")  # Mon 16, this week
        add_post(bot, datetime(2026, 11, 22, 22, 0, tzinfo=UTC), "Sunday night")  # Sun 22 23:00, this week
        add_post(bot, datetime(2026, 11, 22, 23, 30, tzinfo=UTC), "Next Monday", network="x")  # Mon 23 00:30
        add_post(bot, datetime(2026, 11, 30, 22, 30, tzinfo=UTC), "Last of November")  # Mon 30 23:30
        add_post(bot, datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "First of December")  # Tue 1 Dec 00:30

        def titles(answer: dict) -> list[str]:
            return [line.split(" — ")[1].split("  _")[0] for line in lines(answer) if " — " in line]

        today = slash(bot, "today")
        assert today["blocks"][0]["text"]["text"] == "Content calendar — today, Friday 20 November"
        assert titles(today) == ["This morning"]
        assert "✅" in lines(today)[1]
        week = slash(bot, "week")
        assert week["blocks"][0]["text"]["text"] == "Content calendar — week of Monday 16 November"
        assert titles(week) == ["Monday", "This morning", "Sunday night"]
        assert titles(slash(bot, "month")) == ["Monday", "This morning", "Sunday night", "Next Monday",
                                               "Last of November"]
        instagram = slash(bot, "instagram")
        assert instagram["blocks"][0]["text"]["text"] == "Content calendar — next 7 days · Instagram"
        assert titles(instagram) == ["This morning", "Sunday night"]
        assert titles(slash(bot, "month x")) == ["Monday", "Next Monday"]

    def test_an_empty_calendar_and_an_unknown_word(self, bot) -> None:
        assert "Nothing planned in this period. Plan a post with `/calendar add`." in lines(slash(bot))
        assert slash(bot, "instagarm")["text"] == ("I don't know `/calendar instagarm`. Did you mean "
                                                   "`/calendar instagram`? Try `/calendar help`.")

    def test_help_lists_every_subcommand(self, bot) -> None:
        text = slash(bot, "help")["text"]
        for part in ("`/calendar today`", "`/calendar week`", "`/calendar month`", "`/calendar instagram`",
                     "`/calendar add`", "`/calendar export`", "`/calendar import`", "x, facebook, instagram"):
            assert part in text


class TestAddEditCancelPublish:
    def test_add_opens_the_form_and_saves_the_post(self, bot, clock) -> None:
        view = slash_opening(bot, "add", user=CM)
        assert view["callback_id"] == cal.POST_MODAL
        blocks = {b.get("block_id"): b for b in view["blocks"]}
        assert [o["value"] for o in blocks[cal.NETWORK]["element"]["options"]][:3] == ["x", "facebook", "instagram"]
        assert blocks[cal.TIME]["element"]["timezone"] == "Europe/Paris"
        assert blocks[cal.DATE]["element"]["initial_date"] == "2026-11-20"
        assert submit(bot, view, form(title="Aurore launch", pillar="product", kind="promo", fmt="image",
                                      owner=SUPPORT), user=CM) == {}
        with Session(bot.runtime.engine) as session:
            post = session.exec(select(models.CalendarPost)).one()
        assert (post.network, post.scheduled_at, post.title, post.pillar, post.promo, post.format, post.owner,
                post.status, post.created_by) == ("instagram", datetime(2026, 11, 21, 13, 0, tzinfo=UTC),
                                                  "Aurore launch", "product", True, "image", SUPPORT, "scheduled", CM)
        assert post.import_uid and post.import_uid.endswith("@veille")
        wait_until(lambda: any(r.body.get("text", "").startswith("Saved: `14:00`") for r in bot.fake.responses()))
        assert "*Instagram* — Aurore launch" in lines(slash(bot))[1]

    def test_the_form_says_what_to_fix(self, bot) -> None:
        view = slash_opening(bot, "add", user=CM)
        assert submit(bot, view, form(network=None, title="  ", day="2026-11-19", at="18:00"), user=CM) == {
            "response_action": "errors", "errors": {
                cal.NETWORK: "Pick a network.", cal.TITLE: "Give the post a title.",
                cal.TIME: "Thu 19 Nov 18:00 has passed: pick a time ahead, or set the status to published."}}
        # Recording a post that already went out is fine.
        assert submit(bot, view, form(day="2026-11-19", at="18:00", status="published"), user=CM) == {}
        with Session(bot.runtime.engine) as session:
            post = session.exec(select(models.CalendarPost)).one()
        assert post.status == "published" and post.published_at == T0  # learnt now

    def test_only_the_team_may_change_the_calendar(self, bot) -> None:
        post_id = add_post(bot, T0 + timedelta(days=1), "Aurore launch")
        refusal = ("Only the team can change the calendar: ask an admin (<@U0ADMIN>) to add you to a "
                   "responsibility in veille.yaml.")
        assert slash(bot, "add", user=STRANGER)["text"] == refusal
        answer = slash(bot, user=STRANGER)  # reading is open to everyone
        for action in (cal.CANCEL, cal.EDIT, cal.PUBLISH):
            name = click(bot, answer, post_id, action, user=STRANGER)
            wait_until(lambda name=name: answers_to(bot, name))
            assert answers_to(bot, name)[0]["text"] == refusal
        assert not bot.fake.calls("views.open")
        view = slash_opening(bot, "add", user=CM)
        assert submit(bot, view, form(), user=STRANGER)["errors"] == {cal.TITLE: refusal}
        assert post_row(bot, post_id).status == "scheduled"
        with Session(bot.runtime.engine) as session:
            assert len(session.exec(select(models.CalendarPost)).all()) == 1

    def test_edit_is_prefilled_and_moving_a_post_rearms_its_reminder(self, bot) -> None:
        post_id = add_post(bot, T0 + timedelta(days=1), "Aurore launch", promo=True, pillar="product", owner=CM,
                           format="image", reminded_at=T0)
        answer = slash(bot)
        name = click(bot, answer, post_id, cal.EDIT, user=SUPPORT)
        wait_until(lambda: bot.fake.calls("views.open"))
        view = bot.fake.calls("views.open")[-1].body["view"]
        blocks = {b.get("block_id"): b["element"] for b in view["blocks"] if b["type"] == "input"}
        assert view["title"]["text"] == "Edit the post"
        assert (blocks[cal.NETWORK]["initial_option"]["value"], blocks[cal.DATE]["initial_date"],
                blocks[cal.TIME]["initial_time"], blocks[cal.TITLE]["initial_value"],
                blocks[cal.PILLAR]["initial_value"], blocks[cal.KIND]["initial_option"]["value"],
                blocks[cal.FORMAT]["initial_option"]["value"], blocks[cal.OWNER]["initial_user"],
                blocks[cal.STATUS]["initial_option"]["value"]) == (
            "instagram", "2026-11-21", "10:00", "Aurore launch", "product", "promo", "image", CM, "scheduled")
        assert submit(bot, view, form(title="Aurore launch (v2)", day="2026-11-22", at="18:30", kind="promo",
                                      owner=CM), user=SUPPORT) == {}
        post = post_row(bot, post_id)
        assert (post.title, post.scheduled_at, post.updated_by, post.reminded_at) == (
            "Aurore launch (v2)", datetime(2026, 11, 22, 17, 30, tzinfo=UTC), SUPPORT, None)
        # The listing the member clicked from is re-rendered in place.
        wait_until(lambda: answers_to(bot, name))
        refreshed = answers_to(bot, name)[-1]
        assert refreshed["replace_original"] is True
        assert any("Aurore launch (v2)" in line for line in lines(refreshed))

    def test_cancel_removes_the_post_from_the_listing(self, bot) -> None:
        keep = add_post(bot, T0 + timedelta(days=1), "Keep me")
        drop = add_post(bot, T0 + timedelta(days=2), "Drop me")
        answer = slash(bot, "instagram")
        name = click(bot, answer, drop, cal.CANCEL, user=CM)
        wait_until(lambda: answers_to(bot, name))
        refreshed = answers_to(bot, name)[-1]
        assert refreshed["text"] == "Cancelled: Drop me"
        assert refreshed["blocks"][0]["text"]["text"] == "Content calendar — next 7 days · Instagram"
        assert [line for line in lines(refreshed) if " — " in line] == [
            "`10:00` 🗓️ *Instagram* — Keep me  _(value)_ · scheduled"]
        assert (post_row(bot, drop).status, post_row(bot, drop).updated_by, post_row(bot, keep).status) == (
            "cancelled", CM, "scheduled")

    def test_mark_published_with_a_link(self, bot, clock) -> None:
        post_id = add_post(bot, T0 - timedelta(hours=1), "Aurore launch")
        answer = slash(bot, "today")
        name = click(bot, answer, post_id, cal.PUBLISH, user=CM)
        wait_until(lambda: bot.fake.calls("views.open"))
        view = bot.fake.calls("views.open")[-1].body["view"]
        assert view["callback_id"] == cal.PUBLISH_MODAL

        def fields(link: str, post: str = "") -> dict:
            return {cal.LINK: {cal.INPUT: {"type": "plain_text_input", "value": link}},
                    cal.EXTERNAL_ID: {cal.INPUT: {"type": "plain_text_input", "value": post}}}

        assert submit(bot, view, fields("instagram.com/p/abc"), user=CM) == {
            "response_action": "errors", "errors": {cal.LINK: "A link starts with https:// (or http://)."}}
        clock.advance(timedelta(minutes=3))
        assert submit(bot, view, fields("https://www.instagram.com/p/Cabc123/", "1790001"), user=CM) == {}
        post = post_row(bot, post_id)
        assert (post.status, post.published_at, post.permalink, post.external_id) == (
            "published", T0 + timedelta(minutes=3), "https://www.instagram.com/p/Cabc123/", "1790001")
        wait_until(lambda: answers_to(bot, name))
        refreshed = answers_to(bot, name)[-1]
        assert refreshed["text"] == "✅ Marked published: Aurore launch. The buzz watch is on for its comments."
        assert lines(refreshed)[1] == ("`09:00` ✅ *Instagram* — Aurore launch  _(value)_ · published · "
                                       "<https://www.instagram.com/p/Cabc123/|View on Instagram>")
        assert actions_of(refreshed, post_id) == [cal.EDIT, cal.CANCEL]  # published: nothing left to mark


class TestImportExportFromSlack:
    CSV = ("network,date,time,title,pillar,type,owner,uid\n"
           "instagram,2026-11-23,12:00,Behind the scenes,atelier,value,U0CM1,p1\n"
           "tiktok,2026-11-23,13:00,Dance,,,,p2\n"
           "x,2026-11-24,09:30,Aurore is back,product,promo,,p3\n")

    def test_import_is_for_admins_and_reports_each_bad_line(self, bot) -> None:
        assert slash(bot, "import", user=CM)["text"] == "Only admins (<@U0ADMIN>) can import into the calendar."
        view = slash_opening(bot, "import", user=ADMIN)
        assert view["callback_id"] == cal.IMPORT_MODAL
        assert "`uid`" in json.dumps(view["blocks"])  # the columns are documented where the admin pastes

        def run() -> str:
            answer = submit(bot, view, {cal.IMPORT_TEXT: {cal.INPUT: {"type": "plain_text_input", "value": self.CSV}}},
                            user=ADMIN)
            assert answer["response_action"] == "update"
            return answer["view"]["blocks"][0]["text"]["text"]

        assert run() == ("Calendar import: 2 added, 0 updated, 1 line(s) with errors.\n"
                         "Line 3, network: unknown network 'tiktok'; use one of x, facebook, instagram, linkedin, "
                         "youtube, mastodon, bluesky, reddit, rss")
        assert run().startswith("Calendar import: 0 added, 2 updated, 1 line(s) with errors.")
        forged = submit(bot, view, {cal.IMPORT_TEXT: {cal.INPUT: {"type": "plain_text_input", "value": self.CSV}}},
                        user=CM)
        assert forged == {"response_action": "errors", "errors": {
            cal.IMPORT_TEXT: "Only admins (<@U0ADMIN>) can import into the calendar."}}
        with Session(bot.runtime.engine) as session:
            posts = session.exec(select(models.CalendarPost).order_by(models.CalendarPost.scheduled_at)).all()
        assert [(p.title, p.network, p.scheduled_at, p.owner, p.promo, p.import_uid) for p in posts] == [
            ("Behind the scenes", "instagram", datetime(2026, 11, 23, 11, 0, tzinfo=UTC), CM, False, "p1"),
            ("Aurore is back", "x", datetime(2026, 11, 24, 8, 30, tzinfo=UTC), None, True, "p3")]

    def test_export_uploads_an_ics_that_reads_back(self, bot) -> None:
        add_post(bot, T0 + timedelta(days=1), "Aurore launch", promo=True, pillar="product", owner=CM)
        add_post(bot, T0 + timedelta(days=2), "Tips", network="x", format="link")
        assert slash(bot, "export", user=STRANGER)["text"].startswith("Only the team can change the calendar")
        bot.post(slack_requests.slash_command("/calendar", "export", user_id=CM, channel_id="C0TRIAGE",
                                              response_url=bot.fake.response_url("export")))
        wait_until(lambda: bot.fake.calls("files.completeUploadExternal"), what="the upload")
        upload = bot.fake.calls("files.getUploadURLExternal")[-1].body
        assert upload["filename"] == "veille-calendar.ics"
        file_id = bot.fake.calls("files.completeUploadExternal")[-1].body["files"]
        file_id = (json.loads(file_id) if isinstance(file_id, str) else file_id)[0]["id"]
        shared = bot.fake.messages("C0TRIAGE")[-1]
        assert shared["text"].startswith("Content calendar: 2 posts, ")
        parsed = calendar_io.parse((bot.fake.file_content(file_id) or b"").decode(), tz="Europe/Paris")
        assert not parsed.problems
        assert [(r.post.network, r.post.title, r.post.scheduled_at, r.post.promo, r.post.owner, r.post.format)
                for r in parsed.rows] == [
            ("instagram", "Aurore launch", T0 + timedelta(days=1), True, CM, None),
            ("x", "Tips", T0 + timedelta(days=2), False, None, "link")]
