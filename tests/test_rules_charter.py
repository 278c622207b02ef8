"""The charter: terms through every disguise, near-misses, regexes, personal data, spam, campaigns, impersonation.

Every violation names its clause and the exact span of the original text, whatever was done to the text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.campaign import CampaignWindow
from rules.charter import find_cards, find_ibans, find_phones, iban_ok, luhn_ok
from rules.compile import ItemContext, RuleSet
from rules.loader import rules_from_yaml
from rules.match import Normalizer, analyze_chunk, skeleton, token_spans, tokens_of
from rules.schema import Campaign

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

WORKSPACE = """
brand:
  name: Maison Lumen
  language: fr
  timezone: Europe/Paris
  handles: {x: maisonlumen, mastodon: maisonlumen@piaille.fr}
admins: [U0ADMIN]
channels: {triage: C0TRIAGE}
fallback_owner: U0CM1
"""

CHARTER = """
charter:
  link: {fr: https://maisonlumen.fr/charte, en: https://maisonlumen.com/charter}
  clauses:
    - id: insults
      title: Insultes
      wording: Pas d'insultes.
      severity: high
      action: [hide, report]
      terms: [connard, connasse, con, "fils de pute", idiot, asshole, "va te faire foutre"]
      fuzzy: 85
      except: [canard]
    - id: threats
      title: Menaces
      wording: Pas de menaces.
      severity: critical
      action: [hide, escalate]
      regex: ["\\\\bje\\\\s+vais\\\\s+te\\\\s+(?:tuer|retrouver)\\\\b", "\\\\bi\\\\s+will\\\\s+kill\\\\s+you\\\\b"]
    - id: pii
      title: Données personnelles
      wording: Pas de données personnelles.
      action: [hide, reply_charter]
      detect: [email, phone, iban, card]
    - id: spam-fr
      title: Spam
      wording: Pas de spam.
      action: hide
      languages: [fr]
      detect: [shortener]
      shorteners: [lnk.to]
      campaign: {authors: 3, within: 2h, similarity: 90, min_chars: 20}
    - id: spam-en
      title: Spam
      wording: No spam.
      action: hide
      languages: [en]
      detect: [shortener]
impersonation:
  handles: [maisonlumen_officiel]
  allow: [maisonlumen_jobs]
  threshold: 85
"""


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return rules_from_yaml(WORKSPACE, CHARTER)


def check(ruleset: RuleSet, text: str, **item: object) -> list[tuple[str, str]]:
    """(clause, matched) of every violation, asserting the span slices the text to what is reported."""
    fields: dict[str, object] = {"text": text, "lang": "fr"} | item
    decision = ruleset.evaluate(ItemContext(**fields), now=NOW)  # type: ignore[arg-type]
    for v in decision.violations:
        assert text[v.start:v.end] == v.matched
    return [(v.clause_id, v.matched) for v in decision.violations]


class TestTermsThroughDisguises:
    @pytest.mark.parametrize("text, matched", [
        ("Quel connard ce livreur", "connard"),
        ("QUEL CONNARD", "CONNARD"),
        ("t'es qu'une connâsse", "connâsse"),  # accents are ignored
        ("c0nn@rd va", "c0nn@rd"),  # l33t
        ("connnnnnnard", "connnnnnnard"),  # repeated letters
        ("espèce de c.o.n.n.a.r.d", "c.o.n.n.a.r.d"),  # separators
        ("espèce de c o n n a r d !", "c o n n a r d"),  # spaces inside the word
        ("espèce de c-0-n-n-@-r-d", "c-0-n-n-@-r-d"),
        ("сonnard", "сonnard"),  # Cyrillic с
        ("ＣＯＮＮＡＲＤ", "ＣＯＮＮＡＲＤ"),  # fullwidth
        ("con\u200bnard", "con\u200bnard"),  # zero-width space inside
        ("😡connard😡", "connard"),  # emoji glued to the word
        ("you're an A$$hole", "A$$hole"),
        ("un vrai fils-de-pute", "fils-de-pute"),
        ("va te faire foutre !", "va te faire foutre"),
        ("t'es con", "con"),
    ])
    def test_a_disguised_term_is_found_with_its_exact_span(self, ruleset: RuleSet, text: str, matched: str) -> None:
        assert ("insults", matched) in check(ruleset, text)

    @pytest.mark.parametrize("text", [
        "Le canard est sur la lampe",  # `except`, and 83% from connard: under the threshold anyway
        "Une lampe conique, très contente",  # con inside words is not the word con
        "second, conference, iconic, falcon, Bacon",
        "écrivez à jean.con@exemple.fr",  # an e-mail address is not speech (but it is personal data)
        "https://exemple.fr/con/connard",  # nor is a link
        "@connard_du_92 merci",  # nor a handle
        "",
    ])
    def test_innocent_texts_break_no_insult_clause(self, ruleset: RuleSet, text: str) -> None:
        assert not [c for c, _ in check(ruleset, text) if c == "insults"]

    def test_near_misspellings_are_caught_at_the_clause_threshold(self, ruleset: RuleSet) -> None:
        decision = ruleset.evaluate(ItemContext(text="quel conardd de service", lang="fr"), now=NOW)
        assert [(v.matched, v.how) for v in decision.violations] == [("conardd", "term 'connard'")]
        decision = ruleset.evaluate(ItemContext(text="bande de connasses", lang="fr"), now=NOW)
        assert decision.violations[0].how.startswith("near-miss of 'connasse'")

    def test_every_occurrence_is_reported_up_to_ten_per_clause(self, ruleset: RuleSet) -> None:
        assert len(check(ruleset, "connard idiot connard")) == 3
        assert len(check(ruleset, "connard " * 50)) == 10

    def test_two_terms_that_normalize_alike_report_one_span_once(self) -> None:
        rs = rules_from_yaml(WORKSPACE, CHARTER.replace("terms: [connard,", "terms: [connard, connnard, conard,"))
        assert check(rs, "connard") == [("insults", "connard")]


class TestRegexAndDetectors:
    def test_regex_clauses_match_the_original_text_case_insensitively(self, ruleset: RuleSet) -> None:
        assert check(ruleset, "Je vais te RETROUVER, tu vas voir") == [("threats", "Je vais te RETROUVER")]
        assert check(ruleset, "I  will kill you") == [("threats", "I  will kill you")]
        assert check(ruleset, "je vais te dire merci") == []

    @pytest.mark.parametrize("text, matched", [
        ("appelez-moi au 06 12 34 56 78 svp", "06 12 34 56 78"),
        ("mon tel 06.12.34.56.78", "06.12.34.56.78"),
        ("0612345678", "0612345678"),
        ("+33 6 12 34 56 78", "+33 6 12 34 56 78"),
        ("+33 (0)6 12 34 56 78", "+33 (0)6 12 34 56 78"),
        ("0033 1 23 45 67 89", "0033 1 23 45 67 89"),
        ("call +44 7700 900123", "+44 7700 900123"),
        ("call (555) 123-4567", "(555) 123-4567"),
    ])
    def test_phone_numbers_in_french_and_international_formats(self, text: str, matched: str) -> None:
        assert [text[a:b] for a, b, _ in find_phones(text)] == [matched]

    @pytest.mark.parametrize("text", ["commande 12345", "le 12/11/2026", "prix 1 299,00 €", "réf 2026-11-20"])
    def test_ordinary_numbers_are_not_phone_numbers(self, text: str) -> None:
        assert list(find_phones(text)) == []

    def test_iban_needs_a_valid_checksum(self) -> None:
        assert iban_ok("FR76 3000 6000 0112 3456 7890 189") and iban_ok("GB82WEST12345698765432")
        assert not iban_ok("FR76 3000 6000 0112 3456 7890 188")
        text = "IBAN FR76 3000 6000 0112 3456 7890 189 merci"
        assert [text[a:b] for a, b, _ in find_ibans(text)] == ["FR76 3000 6000 0112 3456 7890 189"]

    def test_card_numbers_need_a_luhn_check(self) -> None:
        assert luhn_ok("4970101234567893") and not luhn_ok("4970101234567890")
        assert [m for _, _, m in find_cards("carte 4970 1012 3456 7893 débitée")] == ["card number (Luhn check passed)"]
        assert list(find_cards("carte 4970 1012 3456 7890")) == []
        assert list(find_cards("0000 0000 0000 0000")) == []  # passes Luhn, but is no card

    def test_personal_data_spans(self, ruleset: RuleSet) -> None:
        text = "Écrivez à léa.martin@exemple.fr ou au 06 12 34 56 78, carte 4970-1012-3456-7893"
        assert check(ruleset, text) == [("pii", "léa.martin@exemple.fr"), ("pii", "06 12 34 56 78"),
                                        ("pii", "4970-1012-3456-7893")]

    def test_link_shorteners_built_in_and_configured(self, ruleset: RuleSet) -> None:
        assert check(ruleset, "Gagnez ! https://bit.ly/3xYz (vite)") == [("spam-fr", "https://bit.ly/3xYz")]
        assert check(ruleset, "voir lnk.to/abc.") == [("spam-fr", "lnk.to/abc")]
        assert check(ruleset, "photos sur https://maisonlumen.fr/collection") == []

    def test_a_clause_for_one_language_skips_the_others(self, ruleset: RuleSet) -> None:
        assert check(ruleset, "win https://bit.ly/x", lang="en") == [("spam-en", "https://bit.ly/x")]
        assert check(ruleset, "gagnez https://bit.ly/x", lang=None) == [("spam-fr", "https://bit.ly/x")]  # brand's


class TestCampaigns:
    RULE = Campaign(authors=3, within=timedelta(hours=2), similarity=90, min_chars=20)

    def observe(self, window: CampaignWindow, text: str, author: str, minutes: int = 0) -> object:
        return window.observe("spam", self.RULE, author=author, words=tokens_of(text),
                              at=NOW + timedelta(minutes=minutes))

    def test_the_same_text_from_three_authors_is_a_campaign(self) -> None:
        window = CampaignWindow()
        text = "Boycott Maison Lumen, leurs lampes sont fabriquées n'importe comment"
        assert self.observe(window, text, "a") is None
        assert self.observe(window, text + " !!! 😡", "b", 5) is None  # emoji and punctuation: the same text
        hit = self.observe(window, "BOYCOTT maison lumen, leurs lampes sont fabriquées n'importe comment", "c", 9)
        assert hit is not None and hit.authors == 3 and hit.first_at == NOW  # type: ignore[attr-defined]

    def test_near_copies_count_and_one_author_repeating_does_not(self) -> None:
        window = CampaignWindow()
        base = "leurs lampes sont fabriquées dans des conditions indignes boycott"
        for minute in range(5):
            assert self.observe(window, base, "same-author", minute) is None
        assert self.observe(window, base + " svp", "b", 6) is None  # one other author so far
        # A word changed, the three longest kept: still found, and compared by rapidfuzz similarity.
        hit = self.observe(window, base.replace("leurs", "ces"), "c", 7)
        assert hit is not None and 90 <= hit.similarity < 100  # type: ignore[attr-defined]

    def test_the_window_forgets_old_texts_and_short_texts_never_count(self) -> None:
        window = CampaignWindow()
        text = "Boycott Maison Lumen, leurs lampes sont fabriquées n'importe comment"
        self.observe(window, text, "a")
        self.observe(window, text, "b", 10)
        assert self.observe(window, text, "c", 200) is None  # a's and b's copies are over two hours old
        for author in "xyz":
            assert self.observe(window, "merci !", author) is None

    def test_the_window_is_bounded(self) -> None:
        window = CampaignWindow(max_items=100)
        for i in range(500):
            self.observe(window, f"message numéro {i} avec assez de texte pour compter", f"a{i}")
        assert len(window) <= 100 + 32

    def test_a_campaign_is_a_violation_of_its_clause(self, ruleset: RuleSet) -> None:
        window = ruleset.new_campaign_window()
        text = "Boycott Maison Lumen, leurs lampes sont fabriquées n'importe comment"
        found = []
        for author in ("a", "b", "c"):
            decision = ruleset.evaluate(ItemContext(text=text, lang="fr", author_handle=author), now=NOW,
                                        campaigns=window)
            found.append([(v.clause_id, v.start, v.end) for v in decision.violations])
        assert found == [[], [], [("spam-fr", 0, len(text))]]
        assert "3 authors within 2 h" in decision.violations[0].how


class TestImpersonation:
    @pytest.mark.parametrize("handle", ["rnaisonlumen", "maison_lumen", "Maison.Lumen", "maisonlumen_support",
                                        "maisonIumen", "mаisonlumen", "maisonlumen@mastodon.social",
                                        "maisonlumen_off1ciel"])
    def test_lookalike_handles_are_flagged(self, ruleset: RuleSet, handle: str) -> None:
        flag = ruleset.evaluate(ItemContext(text="Gagnez une lampe !", author_handle=handle), now=NOW).impersonation
        assert flag is not None and flag.field == "author_handle" and flag.action == ("report",)

    @pytest.mark.parametrize("handle", ["maisonlumen", "MaisonLumen", "maisonlumen@piaille.fr", "maisonlumen_jobs",
                                        "lea_deco", "maisonneuve", "lumen_fan_club_officiel_de_paris"])
    def test_the_brand_its_allowed_accounts_and_others_are_not(self, ruleset: RuleSet, handle: str) -> None:
        assert ruleset.evaluate(ItemContext(text="x", author_handle=handle), now=NOW).impersonation is None

    def test_a_display_name_copying_the_brand_is_flagged(self, ruleset: RuleSet) -> None:
        flag = ruleset.evaluate(ItemContext(text="x", author_handle="promo4421", author_name="Maison Lumen ✓"),
                                now=NOW).impersonation
        assert flag is not None and flag.field == "author_name" and "looks like 'Maison Lumen'" in flag.reason

    def test_skeletons_merge_lookalikes(self) -> None:
        assert skeleton("rn4ison_lumen") == skeleton("Maison Lumen") == skeleton("@maisonlumen@piaille.fr")


class TestTextEdgeCases:
    @pytest.mark.parametrize("text", ["", " ", "\n\t", "😀" * 40, "🇫🇷🇫🇷", "ب" * 50, "漢字かな交じり文", "\u200b" * 9,
                                      "e\u0301" * 20, "\x00\x01", "a" * 10_000, "a." * 5_000, "!" * 10_000,
                                      "@" * 10_000, "c o n " * 2_000])
    def test_awkward_texts_evaluate(self, ruleset: RuleSet, text: str) -> None:
        check(ruleset, text)

    def test_ten_thousand_characters_in_linear_time(self, ruleset: RuleSet) -> None:
        import time

        text = ("Bonjour, ma commande n'arrive pas, connard de livreur 😡 " * 200)[:10_000]
        start = time.perf_counter()
        found = check(ruleset, text)
        assert time.perf_counter() - start < 2.0
        assert len(found) == 10 and {c for c, _ in found} == {"insults"}

    def test_mixed_scripts_in_one_word(self, ruleset: RuleSet) -> None:
        assert check(ruleset, "ты сoнnаrd") == [("insults", "сoнnаrd")]  # Latin, Cyrillic and н: still found


class TestNormalization:
    def test_tokens(self) -> None:
        assert tokens_of("Élève CONNNNARD c.o.n 5alope 🤬") == ["eleve", "conard", "con", "salope"]
        assert tokens_of("j'ai 2 commandes (n°12345)") == ["j", "ai", "2", "comandes", "n", "12345"]

    @settings(max_examples=300, deadline=None)
    @given(st.from_regex(r"[#(\[\"']*([A-Za-z]+|[0-9]+)[.,;:!?)\]\"']*", fullmatch=True))
    def test_the_fast_path_for_plain_words_equals_the_general_one(self, chunk: str) -> None:
        import re

        from rules import match

        fast = analyze_chunk(chunk)
        saved, match._SIMPLE = match._SIMPLE, re.compile(r"(?!)")  # never matches: the general path runs
        try:
            assert analyze_chunk(chunk) == fast
        finally:
            match._SIMPLE = saved

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120))
    def test_cached_and_mapped_tokens_agree_and_spans_are_in_order(self, text: str) -> None:
        tokens, spans, _ = token_spans(text)
        assert Normalizer().analyze(text).tokens == tokens == tokens_of(text)
        for (a, b), token in zip(spans, tokens, strict=True):
            assert 0 <= a < b <= len(text) and token
        assert [a for a, _ in spans] == sorted(a for a, _ in spans)


WORDS = ["connard", "idiot", "asshole"]
DISGUISES = [str.upper, lambda w: ".".join(w), lambda w: " ".join(w), lambda w: w.replace("o", "0"),
             lambda w: w[:2] + w[2] * 4 + w[3:], lambda w: w[:3] + "\u200b" + w[3:], lambda w: w.replace("a", "а")]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(st.text(max_size=80), st.text(max_size=80), st.sampled_from(WORDS), st.sampled_from(DISGUISES),
       st.sampled_from(["fr", "en", None]))
def test_evaluate_never_raises_and_spans_slice_the_original(ruleset: RuleSet, before: str, after: str, word: str,
                                                           disguise: object, lang: str | None) -> None:
    """Whatever surrounds a disguised term, evaluation succeeds and each span is exactly what it reports."""
    disguised = disguise(word)  # type: ignore[operator]
    # Real words around it: one-letter neighbours would join a spaced-out word (`a c o n` reads `acon`).
    text = f"{before} voilà {disguised} voilà {after}"
    decision = ruleset.evaluate(ItemContext(text=text, lang=lang, author_handle=before[:20]), now=NOW,
                                campaigns=ruleset.new_campaign_window())
    for v in decision.violations:
        assert text[v.start:v.end] == v.matched
    start = len(before) + len(" voilà ")
    assert any(v.start == start and v.end == start + len(disguised) and v.clause_id == "insults"
               for v in decision.violations), (text, decision.violations)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(), max_size=200), st.sampled_from(["fr", "en", "de", None]),
       st.text(max_size=30))
def test_any_unicode_text_evaluates(ruleset: RuleSet, text: str, lang: str | None, handle: str) -> None:
    """Lone surrogates, controls, combining marks, emoji sequences: nothing raises, every span is exact."""
    decision = ruleset.evaluate(ItemContext(text=text, lang=lang, author_handle=handle, author_name=handle),
                                now=NOW, campaigns=ruleset.new_campaign_window())
    for v in decision.violations:
        assert text[v.start:v.end] == v.matched and 0 <= v.start < v.end <= len(text)
    for m in decision.engagement:
        if m.reply is not None:
            assert m.reply.text


def test_seeding_a_window_after_a_restart(ruleset: RuleSet) -> None:
    text = "Boycott Maison Lumen, leurs lampes sont fabriquées n'importe comment"
    window = ruleset.new_campaign_window()
    ruleset.seed(window, [ItemContext(text=text, lang="fr", author_handle=a, created_at=NOW) for a in "ab"], now=NOW)
    decision = ruleset.evaluate(ItemContext(text=text, lang="fr", author_handle="c"), now=NOW, campaigns=window)
    assert [v.clause_id for v in decision.violations] == ["spam-fr"]
