"""The console renderer shows what a Slack user would read, compactly, and never runs user text as markup."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console, RenderableType

from bot.render.console import buttons, find_button, match_buttons, mrkdwn_to_text, render_message

CARD: dict[str, Any] = {
    "channel": "veille-triage",
    "text": "New negative mention on Mastodon",
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": ":rotating_light: Negative mention"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*@bob@mastodon.social*: the app _lost_ my data"},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Source*\nMastodon"},
                {"type": "mrkdwn", "text": "*SLA*\n2h left"},
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "rule `neg-sentiment` · score -0.8"}]},
        {"type": "divider"},
        {
            "type": "actions",
            "block_id": "triage",
            "elements": [
                {
                    "type": "button",
                    "action_id": "mark_handled",
                    "value": "42",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Mark handled"},
                },
                {
                    "type": "button",
                    "action_id": "escalate",
                    "value": "42",
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Escalate"},
                },
            ],
        },
    ],
}


def show(renderable: RenderableType) -> str:
    console = Console(file=io.StringIO(), width=100, force_terminal=False)
    console.print(renderable)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[" not in output  # plain text: assertions read what a person reads
    return output


def section(mrkdwn: str) -> dict[str, Any]:
    return {"channel": "C0TRIAGE", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}]}


class TestCard:
    def test_card_shows_number_channel_content_and_buttons(self) -> None:
        out = show(render_message(CARD, number=3))
        assert "#3 · #veille-triage" in out
        assert "🚨 Negative mention" in out
        assert "@bob@mastodon.social: the app lost my data" in out
        assert "Source Mastodon  ·  SLA 2h left" in out
        assert "rule neg-sentiment · score -0.8" in out
        assert "[Mark handled] mark_handled" in out
        assert "[Escalate] escalate" in out

    def test_card_fits_in_a_few_lines_at_width_100(self) -> None:
        lines = show(render_message(CARD, number=3)).splitlines()
        assert 4 <= len(lines) <= 7
        assert all(len(line) <= 100 for line in lines)

    def test_fallback_text_is_hidden_when_blocks_exist_and_shown_otherwise(self) -> None:
        assert "New negative mention on Mastodon" not in show(render_message(CARD))
        assert "Poll finished: *3* new" not in show(render_message({"channel": "C1", "text": "Poll finished: *3* new"}))
        assert "Poll finished: 3 new" in show(render_message({"channel": "C1", "text": "Poll finished: *3* new"}))

    def test_long_text_is_clipped(self) -> None:
        out = show(render_message(section("word " * 400)))
        assert "…" in out
        assert len(out.splitlines()) <= 8

    def test_uploaded_files_are_listed(self) -> None:
        body = {"channel": "C1", "text": "Your KPIs", "files": [{"id": "F1", "title": "KPI", "name": "kpi.png"}]}
        out = show(render_message(body, number=6))
        assert "Your KPIs" in out
        assert "📎 KPI (kpi.png)" in out


class TestKinds:
    def test_update_is_marked_as_an_update_of_its_card(self) -> None:
        out = show(render_message(section("Handled by <@U0ALICE>"), number=3, kind="update"))
        assert "↻ #3 updated · C0TRIAGE" in out
        assert "Handled by @U0ALICE" in out

    def test_ephemeral_says_who_sees_it(self) -> None:
        out = show(render_message({"channel": "C1", "user": "U0ALICE", "text": "Only you"}, kind="ephemeral"))
        assert "only @U0ALICE sees this" in out

    def test_response_url_replies_say_where_they_went(self) -> None:
        assert "↩ reply · only you see this" in show(render_message({"text": "ok"}, kind="response"))
        in_channel = {"text": "ok", "response_type": "in_channel"}
        assert "↩ reply · in channel" in show(render_message(in_channel, kind="response"))
        replaced = {"text": "Handled", "replace_original": "true"}
        assert "↻ #3 replaced" in show(render_message(replaced, number=3, kind="response"))
        deleted = show(render_message({"delete_original": True}, number=3, kind="response"))
        assert deleted.strip() == "✗ #3 deleted"

    def test_thread_replies_point_at_their_parent(self) -> None:
        body = {"channel": "C1", "text": "reply", "thread_ts": "1700000000.000100"}
        assert "#5 · C1 · ↳ #3" in show(render_message(body, number=5, parent=3))
        assert "↳ thread 1700000000.000100" in show(render_message(body, number=5))

    def test_views_render_their_blocks(self) -> None:
        home = {"user_id": "U0ALICE", "view": {"type": "home", "blocks": CARD["blocks"][:2]}}
        out = show(render_message(home, kind="home"))
        assert "🏠 App Home · @U0ALICE" in out
        assert "Negative mention" in out

    def test_unknown_kind_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown kind"):
            render_message(CARD, kind="telepathy")


class TestMrkdwn:
    @pytest.mark.parametrize(
        ("mrkdwn", "shown"),
        [
            ("see <https://example.com/p/1|the post>", "see the post (https://example.com/p/1)"),
            ("see <https://example.com/p/1>", "see https://example.com/p/1"),
            ("ping <@U123> and <@U456|alice>", "ping @U123 and @alice"),
            ("in <#C123|general>", "in #general"),
            ("<!here> <!channel> <!subteam^S1|@oncall>", "@here @channel @oncall"),
            ("a &lt;b&gt; &amp; c", "a <b> & c"),
            ("&amp;lt; stays escaped once", "&lt; stays escaped once"),
            ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
            ("`*not bold*` here", "*not bold* here"),
            ("&gt; quoted", "▎ quoted"),
            ("done :white_check_mark:", "done ✅"),
        ],
    )
    def test_mrkdwn_reads_as_slack_shows_it(self, mrkdwn: str, shown: str) -> None:
        assert mrkdwn_to_text(mrkdwn).plain == shown

    def test_emphasis_becomes_styles(self) -> None:
        text = mrkdwn_to_text("*bold* _it_ ~gone~")
        assert text.plain == "bold it gone"
        styles = {text.plain[span.start : span.end]: str(span.style) for span in text.spans}
        assert styles == {"bold": "bold", "it": "italic", "gone": "strike"}

    def test_hostile_text_prints_literally(self) -> None:
        hostile = "[bold]x[/bold] &lt;!channel&gt; [link=https://evil.example]click[/link]"
        out = show(render_message(section(hostile), number=1))
        assert "[bold]x[/bold] <!channel> [link=https://evil.example]click[/link]" in out

    def test_markup_in_titles_and_buttons_is_literal(self) -> None:
        body = {
            "channel": "[red]chan[/red]",
            "blocks": [
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "action_id": "[b]id[/b]", "text": {"type": "plain_text", "text": "[b]Go"}}
                    ],
                }
            ],
        }
        out = show(render_message(body, number=2))
        assert "#2 · #[red]chan[/red]" in out
        assert "[[b]Go] [b]id[/b]" in out


class TestButtons:
    def test_buttons_lists_actions_and_accessories_in_order(self) -> None:
        accessory = {
            "type": "section",
            "block_id": "s1",
            "text": {"type": "mrkdwn", "text": "x"},
            "accessory": {"type": "button", "action_id": "open", "text": {"type": "plain_text", "text": "Open"}},
        }
        found = buttons([accessory, *CARD["blocks"]])
        assert found == [
            {"action_id": "open", "value": None, "text": "Open", "block_id": "s1"},
            {"action_id": "mark_handled", "value": "42", "text": "Mark handled", "block_id": "triage"},
            {"action_id": "escalate", "value": "42", "text": "Escalate", "block_id": "triage"},
        ]

    @pytest.mark.parametrize("word", ["handled", "HANDLED", "mark_handled", "Mark handled", "hand", "1"])
    def test_find_button_by_word(self, word: str) -> None:
        button = find_button(CARD["blocks"], word)
        assert button is not None and button["action_id"] == "mark_handled"

    def test_ambiguous_or_unknown_words_find_nothing(self) -> None:
        blocks = [
            {
                "type": "actions",
                "block_id": "b",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "mark_handled",
                        "text": {"type": "plain_text", "text": "Mark handled"},
                    },
                    {"type": "button", "action_id": "mark_spam", "text": {"type": "plain_text", "text": "Mark spam"}},
                ],
            }
        ]
        assert find_button(blocks, "mark") is None
        assert [b["action_id"] for b in match_buttons(blocks, "mark")] == ["mark_handled", "mark_spam"]
        assert find_button(blocks, "delete") is None
        assert find_button(blocks, "3") is None
        assert find_button(None, "handled") is None

    def test_emoji_codes_in_button_text_are_not_words(self) -> None:
        blocks = [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "ok",
                        "text": {"type": "plain_text", "text": ":white_check_mark: Done"},
                    }
                ],
            }
        ]
        assert find_button(blocks, "check") is None
        assert find_button(blocks, "done") is not None
