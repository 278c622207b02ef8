"""What a team member sees on a card: the facts, and user text that can never ping or mislead anyone."""

from __future__ import annotations

import json

import pytest

from bot import models
from bot.render.cards import render_card
from bot.render.escape import SECTION_TEXT_MAX, escape, quote, truncate
from tests.conftest import T0

HOSTILE = "<!channel> <!here> <@U123> <http://evil.example|your bank> & <#C0SECRET>"


def mention(**overrides: object) -> models.Mention:
    fields: dict[str, object] = dict(
        id=7, network="x", external_id="1", source="x", kind="mention", author_id=1, text="Love it", created_at=T0,
        ingested_at=T0, raw={}, sentiment_label="positive", sentiment_compound=0.64, responsibility="community",
        route_reason="community: positive", permalink="https://x.com/lea/status/1", status="open")
    fields.update(overrides)
    return models.Mention(**fields)


AUTHOR = models.Author(id=1, network="x", handle="lea", name="Léa", followers=12_345, first_seen_at=T0,
                       last_seen_at=T0)


class TestEscaping:
    @pytest.mark.parametrize("dangerous", ["<!channel>", "<!here>", "<@U123>", "<http://evil.example|your bank>",
                                           "<!subteam^S123>", "<#C0SECRET>"])
    def test_control_sequences_become_plain_text(self, dangerous: str) -> None:
        escaped = escape(dangerous)
        assert "<" not in escaped and ">" not in escaped

    def test_ampersand_is_escaped_first(self) -> None:
        assert escape("R&D <b>") == "R&amp;D &lt;b&gt;"

    def test_truncation_never_cuts_an_escape_in_half(self) -> None:
        cut = truncate(escape("a" * 8 + "<"), 10)
        assert cut.endswith("…") and "&l" not in cut.replace("&lt;", "")

    def test_a_10000_character_text_fits_a_section(self) -> None:
        assert len(quote("é<" * 5000)) <= SECTION_TEXT_MAX


class TestCard:
    def test_a_hostile_mention_pings_no_one(self) -> None:
        rendered = render_card(mention(text=HOSTILE), AUTHOR, "U0CM1")
        blob = json.dumps(rendered.blocks) + rendered.text
        for raw in ("<!channel>", "<!here>", "<@U123>", "<http://evil.example", "<#C0SECRET>"):
            assert raw not in blob
        assert "&lt;!channel&gt;" in blob
        # The owner is still mentioned on purpose: that is the one ping the card makes.
        assert "<@U0CM1>" in blob

    def test_hostile_author_names_and_permalinks_are_neutralized(self) -> None:
        author = models.Author(id=1, network="x", handle="<!channel>", name="<@U999>", first_seen_at=T0,
                               last_seen_at=T0)
        rendered = render_card(mention(permalink="javascript:alert(1)|<!here>"), author, None)
        blob = json.dumps(rendered.blocks)
        assert "<!channel>" not in blob and "<@U999>" not in blob and "javascript:" not in blob

    def test_the_card_shows_what_a_triager_needs(self) -> None:
        rendered = render_card(mention(), AUTHOR, "U0CM1", tz="Europe/Paris")
        blob = json.dumps(rendered.blocks, ensure_ascii=False)
        for fact in ("*X* · mention", "Léa", "@lea", "12,345 followers", "positive (+0.64)", "Fri 20 Nov 10:00",
                     "Owner: <@U0CM1>", "community: positive", "<https://x.com/lea/status/1|View on X>",
                     "Mark handled"):
            assert fact in blob, fact

    def test_a_handled_card_says_who_and_offers_reopen(self) -> None:
        rendered = render_card(mention(status="handled", handled_by="U0CM1", handled_at=T0), AUTHOR, "U0CM1")
        blob = json.dumps(rendered.blocks)
        assert "Handled by <@U0CM1> at 09:00" in blob and "Reopen" in blob and "Mark handled" not in blob

    def test_cards_speak_french_when_configured(self) -> None:
        blob = json.dumps(render_card(mention(), AUTHOR, None, lang="fr").blocks, ensure_ascii=False)
        assert "Marquer traité" in blob and "abonnés" in blob
