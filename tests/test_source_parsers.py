"""Each network's parser turns its documented payload into mentions and quarantines what it cannot read."""

from __future__ import annotations

import copy
import html
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitors.sources import facebook, instagram, mastodon, x
from monitors.sources.base import Page, PayloadInvalid

FIXTURES = Path(__file__).parent / "fixtures"

# Text that must come out byte for byte: Slack control sequences, entities, emoji, zero-width joiners.
HOSTILE = "<!channel> <@U12345> <http://evil.example|your bank> & &amp; <b>x</b> 🙋‍♀️ \u200b\n\ttrailing  "


def load(network: str, endpoint: str) -> Any:
    return json.loads((FIXTURES / network / f"{endpoint}.json").read_text(encoding="utf-8"))


def by_id(page: Page) -> dict[str, Any]:
    return {m.external_id: m for m in page.mentions}


class TestXParsePage:
    def test_normalizes_a_mention_and_a_reply(self) -> None:
        page = x.parse_page(load("x", "users_mentions"))

        assert page.rejected == []
        mention, reply = page.mentions
        assert mention.network == "x"
        assert mention.external_id == "1991536271841378306"
        assert mention.kind == "mention"
        assert mention.author_handle == "gracebrown"
        assert mention.author_name == "Grace Brown"
        assert mention.author_followers == 412
        assert mention.text == "@maisonlumen is the Aurore lamp dimmable? Thinking of one for the bedroom"
        assert mention.created_at == datetime(2026, 11, 20, 9, 15, 2, tzinfo=UTC)
        assert mention.lang == "en"
        assert mention.permalink == "https://x.com/gracebrown/status/1991536271841378306"
        assert mention.parent_id is None
        assert mention.conversation_id == "1991536271841378306"

        assert reply.kind == "reply"
        assert reply.parent_id == "1991120098765432321"
        assert reply.conversation_id == "1991120098765432321"
        assert reply.author_followers == 248_700
        assert reply.author_name == "Hugo | Déco & DIY"
        assert reply.lang == "fr"

    def test_raw_is_the_post_plus_its_expanded_author(self) -> None:
        payload = load("x", "users_mentions")
        mention = x.parse_page(payload).mentions[0]

        assert mention.raw["author"] == payload["includes"]["users"][0]
        assert {k: v for k, v in mention.raw.items() if k != "author"} == payload["data"][0]

    def test_cursor_is_newest_id_and_next_token_is_separate(self) -> None:
        payload = load("x", "users_mentions")

        assert x.parse_page(payload).cursor == "1991536271841378306"
        assert x.next_page_token(payload) == "7140dibdnow9c7btw4b4ehxeuzmmtvvv1dsrbs0lhw3rw"

    def test_cursor_falls_back_to_highest_post_id(self) -> None:
        payload = load("x", "users_mentions")
        del payload["meta"]["newest_id"]
        # "999" is lexically larger but numerically smaller: ids compare by length first.
        payload["data"].append({"id": "999", "text": "t", "created_at": "2026-11-20T09:00:00.000Z"})

        assert x.parse_page(payload).cursor == "1991536271841378306"

    def test_empty_page_has_meta_but_no_data(self) -> None:
        page = x.parse_page({"meta": {"result_count": 0}})

        assert page.mentions == [] and page.rejected == [] and page.cursor is None

    def test_author_missing_from_includes_is_kept_as_unknown(self) -> None:
        payload = load("x", "users_mentions")
        payload["includes"]["users"] = []
        mention = x.parse_page(payload).mentions[0]

        assert mention.author_handle == "unknown"
        assert mention.permalink == "https://x.com/i/web/status/1991536271841378306"
        assert "author" not in mention.raw

    @pytest.mark.parametrize(
        ("bad", "reason"),
        [
            ({"text": "no id", "created_at": "2026-11-20T09:00:00.000Z"}, "no string id"),
            ({"id": 1234, "text": "int id", "created_at": "2026-11-20T09:00:00.000Z"}, "no string id"),
            ({"id": "1", "text": ["not", "text"], "created_at": "2026-11-20T09:00:00.000Z"}, "text"),
            ({"id": "2", "text": "bad date", "created_at": "yesterday"}, "ISO-8601"),
            ({"id": "3", "text": "naive date", "created_at": "2026-11-20T09:00:00"}, "ISO-8601"),
            ("a string, not a post", "not an object"),
        ],
    )
    def test_malformed_post_is_rejected_and_the_others_survive(self, bad: Any, reason: str) -> None:
        payload = load("x", "users_mentions")
        payload["data"].insert(1, bad)
        page = x.parse_page(payload)

        assert [m.external_id for m in page.mentions] == ["1991536271841378306", "1991530012345678849"]
        assert len(page.rejected) == 1
        assert page.rejected[0].item == bad
        assert reason in page.rejected[0].reason
        assert page.rejected[0].network == "x"

    @pytest.mark.parametrize(
        "payload", [None, [], "data", 3, {"data": {"id": "1"}}, {"errors": [{"title": "x"}]}]
    )
    def test_malformed_page_raises(self, payload: Any) -> None:
        with pytest.raises(PayloadInvalid):
            x.parse_page(payload)


class TestInstagramParseComments:
    def test_normalizes_comments_and_flattens_nested_replies(self) -> None:
        page = instagram.parse_comments(
            load("instagram", "media_comments"),
            media_id="17912345678901234",
            media_permalink="https://www.instagram.com/p/DL1umAur0re/",
        )

        assert page.rejected == []
        assert [m.external_id for m in page.mentions] == [
            "17858154961981086",
            "17873440459141021",
            "17870913679156914",
            "17881234567890123",
        ]
        first, nested, no_username, reply = page.mentions
        assert first.kind == "comment"
        assert first.author_handle == "hannah.bak"
        assert first.text == "Is the Aurore lamp dimmable? 😍"
        assert first.created_at == datetime(2026, 11, 20, 9, 15, 2, tzinfo=UTC)
        assert first.conversation_id == "17912345678901234"
        assert first.permalink == "https://www.instagram.com/p/DL1umAur0re/"
        assert first.author_followers is None and first.lang is None

        assert nested.kind == "reply"
        assert nested.parent_id == "17858154961981086"
        assert nested.author_handle == "claire.interieurs"
        assert nested.raw == load("instagram", "media_comments")["data"][0]["replies"]["data"][0]

        assert no_username.author_handle == "karimm50"  # from `from.username`
        assert reply.kind == "reply" and reply.parent_id == "17870913679156914"

    def test_cursor_is_after_while_there_is_a_next_page(self) -> None:
        payload = load("instagram", "media_comments")

        assert instagram.parse_comments(payload).cursor == "QVFIUmxPbVhvYzJaY3A2VlRlU0dWWlBuaW1TYzZAtY2pR"
        del payload["paging"]["next"]
        assert instagram.parse_comments(payload).cursor is None

    def test_media_id_falls_back_to_the_comment_media_field(self) -> None:
        payload = {
            "data": [{"id": "1", "text": "t", "timestamp": "2026-11-20T09:15:02+0000", "media": {"id": "42"}}]
        }

        mention = instagram.parse_comments(payload).mentions[0]
        assert mention.conversation_id == "42"
        assert mention.author_handle == "unknown"

    def test_malformed_comment_and_malformed_nested_reply_are_rejected(self) -> None:
        payload = load("instagram", "media_comments")
        payload["data"][0]["replies"]["data"].append({"id": "17800000000000001", "text": "t", "timestamp": 5})
        payload["data"].insert(
            1, {"id": "17800000000000002", "text": 12, "timestamp": "2026-11-20T09:15:02+0000"}
        )
        page = instagram.parse_comments(payload)

        assert len(page.mentions) == 4
        assert sorted(r.item["id"] for r in page.rejected) == ["17800000000000001", "17800000000000002"]

    @pytest.mark.parametrize(
        "payload", [None, [], "x", {"error": {"code": 190, "message": "expired"}}, {"data": {}}]
    )
    def test_malformed_page_raises(self, payload: Any) -> None:
        with pytest.raises(PayloadInvalid):
            instagram.parse_comments(payload)


class TestFacebookParseComments:
    def test_normalizes_comments_replies_and_withheld_authors(self) -> None:
        page = facebook.parse_comments(
            load("facebook", "post_comments"), post_id="108352974650231_958755749892765"
        )

        assert page.rejected == []
        named, anonymous, reply = page.mentions
        assert named.external_id == "958755749892765_1089274653812345"
        assert named.kind == "comment"
        assert named.author_handle == "Élise Durand" and named.author_name == "Élise Durand"
        assert named.created_at == datetime(2026, 11, 20, 11, 42, 10, tzinfo=UTC)
        assert named.conversation_id == "108352974650231_958755749892765"
        assert named.permalink.endswith("?comment_id=1089274653812345")

        assert anonymous.author_handle == "unknown"
        assert anonymous.author_name is None
        assert anonymous.text == "Still waiting for my order, 3 days. Order #ML-45555"

        assert reply.kind == "reply"
        assert reply.parent_id == "958755749892765_1089274653812345"

    def test_cursor_is_after_while_there_is_a_next_page(self) -> None:
        payload = load("facebook", "post_comments")

        assert facebook.parse_comments(payload).cursor == "QVFIUnB0b0Y0S3Y4Y2xHVTNTNXlzTjBTMGVn"
        del payload["paging"]["next"]
        assert facebook.parse_comments(payload).cursor is None

    def test_comment_without_message_is_kept_with_empty_text(self) -> None:
        payload = {"data": [{"id": "1_2", "created_time": "2026-11-20T11:42:10+0000", "from": {"id": "9"}}]}

        mention = facebook.parse_comments(payload).mentions[0]
        assert mention.text == "" and mention.author_handle == "9"

    def test_malformed_comment_is_rejected_and_the_others_survive(self) -> None:
        payload = load("facebook", "post_comments")
        payload["data"].insert(0, {"id": "1_3", "message": "bad date", "created_time": "20/11/2026"})
        payload["data"].append({"message": "no id", "created_time": "2026-11-20T11:42:10+0000"})
        page = facebook.parse_comments(payload)

        assert len(page.mentions) == 3
        assert [r.item.get("message") for r in page.rejected] == ["bad date", "no id"]

    @pytest.mark.parametrize("payload", [None, [], 1.5, {"error": {"code": 100}}, {"data": "nope"}])
    def test_malformed_page_raises(self, payload: Any) -> None:
        with pytest.raises(PayloadInvalid):
            facebook.parse_comments(payload)


class TestMastodonParseNotifications:
    def test_normalizes_mentions_and_converts_html(self) -> None:
        page = mastodon.parse_notifications(load("mastodon", "notifications_mention"))

        assert page.rejected == []
        first, reply = page.mentions
        assert first.external_id == "115577002871553024"
        assert first.kind == "mention"
        assert first.author_handle == "leab78@mastodon.social"
        assert first.author_name == "Léa B."
        assert first.author_followers == 323
        assert first.lang == "fr"
        assert first.created_at == datetime(2026, 11, 20, 19, 12, 4, tzinfo=UTC)
        assert first.permalink == "https://mastodon.social/@leab78/115577002871553024"
        assert first.text == (
            "@maisonlumen Tom & moi adorons la lampe Aurore\u00a0!"
            "\nQuestion : elle marche avec un variateur ?"
            "\n\nPhotos ici : https://example.org/photos/aurore <3"
        )
        assert first.raw["id"] == "48213650"

        assert reply.kind == "reply"
        assert reply.parent_id == "115576900000000000"
        assert (
            reply.permalink == "https://piaille.fr/users/lucie_makes/statuses/115576980000000001"
        )  # url is null
        assert reply.author_handle == "lucie_makes"

    def test_cursor_is_the_highest_notification_id(self) -> None:
        assert mastodon.parse_notifications(load("mastodon", "notifications_mention")).cursor == "48213650"
        # Ids sort by length, then lexically: "100" is after "99".
        page = mastodon.parse_notifications([{"id": "99"}, {"id": "100"}])
        assert page.cursor == "100"
        assert len(page.rejected) == 2
        assert mastodon.parse_notifications([]).cursor is None

    def test_other_notification_types_are_skipped_not_rejected(self) -> None:
        page = mastodon.parse_notifications([{"id": "7", "type": "favourite", "status": None}])

        assert page.mentions == [] and page.rejected == [] and page.cursor == "7"

    def test_malformed_notification_is_rejected_and_the_others_survive(self) -> None:
        payload = load("mastodon", "notifications_mention")
        broken = copy.deepcopy(payload[0])
        broken["id"] = "48213700"
        broken["status"]["created_at"] = None
        no_account = copy.deepcopy(payload[1])
        no_account["id"] = "48213701"
        del no_account["status"]["account"]
        del no_account["account"]
        page = mastodon.parse_notifications([broken, *payload, no_account, ["not", "an", "object"]])

        assert [m.external_id for m in page.mentions] == ["115577002871553024", "115576980000000001"]
        assert len(page.rejected) == 3
        assert page.cursor == "48213701"

    @pytest.mark.parametrize("payload", [None, {}, {"error": "The access token is invalid"}, "[]"])
    def test_malformed_page_raises(self, payload: Any) -> None:
        with pytest.raises(PayloadInvalid):
            mastodon.parse_notifications(payload)

    @pytest.mark.parametrize(
        ("content", "text"),
        [
            ("<p>a</p><p>b</p>", "a\n\nb"),
            ("<p>a<br>b<br/>c</p>", "a\nb\nc"),
            ("<p>&lt;!channel&gt; &amp;amp; &#39;x&#39;</p>", "<!channel> &amp; 'x'"),
            ("<p>x</p><ul><li>one</li><li>two</li></ul>", "x\n\none\ntwo"),
            ("<p>ok</p><script>alert(1)</script>", "ok"),
            ("no markup at all", "no markup at all"),
            ("<p>unclosed <a href='x'>link", "unclosed link"),
        ],
    )
    def test_html_to_text(self, content: str, text: str) -> None:
        assert mastodon.html_to_text(content) == text


def _x_page(text: str) -> Page:
    return x.parse_page({"data": [{"id": "1", "text": text, "created_at": "2026-11-20T09:00:00.000Z"}]})


def _instagram_page(text: str) -> Page:
    return instagram.parse_comments(
        {"data": [{"id": "1", "text": text, "timestamp": "2026-11-20T09:00:00+0000"}]}
    )


def _facebook_page(text: str) -> Page:
    return facebook.parse_comments(
        {"data": [{"id": "1", "message": text, "created_time": "2026-11-20T09:00:00+0000"}]}
    )


def _mastodon_page(text: str) -> Page:
    # What Mastodon serves for plain text: HTML-escaped, line breaks as <br />.
    content = "<p>" + html.escape(text, quote=False).replace("\n", "<br />") + "</p>"
    status = {
        "id": "1",
        "created_at": "2026-11-20T09:00:00.000Z",
        "content": content,
        "account": {"acct": "a"},
    }
    return mastodon.parse_notifications([{"id": "1", "type": "mention", "status": status}])


@pytest.mark.parametrize("parse", [_x_page, _instagram_page, _facebook_page, _mastodon_page])
@pytest.mark.parametrize("text", [HOSTILE, HOSTILE * 20_000])
def test_hostile_and_huge_text_is_kept_intact(parse: Callable[[str], Page], text: str) -> None:
    # Escaping for Slack happens at render time; the parser must neither trim nor sanitize.
    (mention,) = parse(text).mentions

    assert mention.text == text


# --------------------------------------------------------------------------------------------------
# Property: whatever JSON arrives, the only exception a parser may raise is PayloadInvalid.
# --------------------------------------------------------------------------------------------------

FIELD_NAMES = [
    "data", "includes", "users", "meta", "newest_id", "next_token", "id", "text", "created_at",
    "author_id", "username", "name", "public_metrics", "followers_count", "referenced_tweets", "type",
    "lang", "conversation_id", "timestamp", "from", "parent_id", "replies", "media", "paging", "cursors",
    "after", "next", "message", "created_time", "permalink_url", "parent", "status", "content", "account",
    "acct", "display_name", "url", "uri", "language", "in_reply_to_id",
]  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["2026-11-20T09:15:02+0000", "2026-11-20T09:15:02.000Z", "0001-01-01T00:00:00+01:00",
                       "9999-12-31T23:59:59-01:00", "2026-11-20", "replied_to", "mention", "<p>a<br>b</p>"])
)  # fmt: skip
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=4), children, max_size=5)
    ),
    max_leaves=25,
)

PARSERS: dict[str, Callable[[Any], Page]] = {
    "x": x.parse_page,
    "instagram": instagram.parse_comments,
    "facebook": facebook.parse_comments,
    "mastodon": mastodon.parse_notifications,
}
FIXTURE_FILES = {
    "x": "users_mentions",
    "instagram": "media_comments",
    "facebook": "post_comments",
    "mastodon": "notifications_mention",
}


def _only_payload_invalid_escapes(parse: Callable[[Any], Page], payload: Any) -> None:
    try:
        page = parse(payload)
    except PayloadInvalid:
        return
    assert isinstance(page, Page)
    assert all(isinstance(r, PayloadInvalid) for r in page.rejected)


@pytest.mark.parametrize("network", PARSERS)
@settings(max_examples=150, database=None)
@given(payload=JSON)
def test_random_json_raises_only_payload_invalid(network: str, payload: Any) -> None:
    _only_payload_invalid_escapes(PARSERS[network], payload)


@st.composite
def mutated_fixture(draw: st.DrawFn, network: str) -> Any:
    """Return a fixture with a few values somewhere inside replaced by random JSON: near-valid input."""
    payload = load(network, FIXTURE_FILES[network])
    for _ in range(draw(st.integers(1, 3))):
        node = payload
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, dict | list) and child and draw(st.booleans()):
                node = child
                continue
            node[key] = draw(JSON)
            break
    return payload


@pytest.mark.parametrize("network", PARSERS)
@settings(max_examples=150, database=None)
@given(data=st.data())
def test_mutated_fixture_raises_only_payload_invalid(network: str, data: st.DataObject) -> None:
    _only_payload_invalid_escapes(PARSERS[network], data.draw(mutated_fixture(network)))
