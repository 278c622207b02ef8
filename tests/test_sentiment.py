"""Sentiment: hand-written French and English cases with known answers, brand overrides, and `veille sentiment`."""

from __future__ import annotations

import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sentiment import NEGATIVE_AT, POSITIVE_AT, Correction, Sentiment, SentimentScorer, calibrate, label_for
from bot.workspace import parse_workspace

REPO = Path(__file__).resolve().parents[1]
OUTPUT_LINE = re.compile(r"^(negative|neutral|positive)\t-?[01]\.\d{4}\t(en|fr)$")


@pytest.fixture(scope="module")
def en() -> SentimentScorer:
    return SentimentScorer(default_lang="en")


@pytest.fixture(scope="module")
def fr() -> SentimentScorer:
    return SentimentScorer(default_lang="fr")


def label(scorer: SentimentScorer, text: str, lang: str | None = None) -> str:
    return scorer.score(text, lang=lang).label


def rules(scorer: SentimentScorer, text: str, lang: str) -> float:
    """The lexicon layer's compound alone, before the trained layer."""
    return scorer.analyze(text, lang).rules[0]


class TestEnglish:
    @pytest.mark.parametrize("text", [
        "Still waiting for my order, 3 days, no answer",
        "Been on hold for an hour and still no reply from customer service",
        "My parcel never arrived and nobody answers",
        "This lamp is not good",
        "Worst purchase ever #fail",
        "#EpicFail again",
        "Thanks for nothing 🙄",
        "😡😡",
    ])
    def test_negative(self, en: SentimentScorer, text: str) -> None:
        assert label(en, text) == "negative"

    @pytest.mark.parametrize("text", [
        "Love the Aurore lamp @maisonlumen!",
        "This lamp is good",
        "Thanks so much, it arrived today and it looks amazing",
        "😍",
        "Not bad at all, no problem with the delivery",
    ])
    def test_positive(self, en: SentimentScorer, text: str) -> None:
        assert label(en, text) == "positive"

    def test_negation_flips_the_sign(self, en: SentimentScorer) -> None:
        assert en.score("The support was helpful").compound > 0 > en.score("The support was not helpful").compound

    def test_an_intensifier_strengthens(self, en: SentimentScorer) -> None:
        # Monotonic in the lexicon layer; the trained layer on top may reweigh words, so only labels there.
        assert rules(en, "The lamp is very good", "en") > rules(en, "The lamp is good", "en") > 0
        assert rules(en, "The lamp is extremely bad", "en") < rules(en, "The lamp is bad", "en") < 0
        assert label(en, "The lamp is very good") == label(en, "The lamp is good") == "positive"

    def test_a_plain_fact_is_neutral(self, en: SentimentScorer) -> None:
        assert label(en, "The store opens at 10 on Monday") == "neutral"


class TestFrench:
    @pytest.mark.parametrize("text", [
        "c'est nul",
        "C'est nul, franchement",
        "pas terrible",
        "La lampe est pas terrible",
        "Je n'aime pas cette lampe",
        "Je ne suis plus content de ce service",
        "Jamais content de la livraison",
        "Toujours pas reçu ma commande, aucune réponse du service client",
        "Ça ne marche plus depuis 3 jours",
        "Très déçu 😡",
    ])
    def test_negative(self, fr: SentimentScorer, text: str) -> None:
        assert label(fr, text) == "negative"

    @pytest.mark.parametrize("text", [
        "j'adore",
        "J'adore cette lampe",
        "C'est vraiment génial !",
        "Aucun problème, merci beaucoup !",
        "Pas mal du tout",
        "Super produit, je recommande 👍",
        "😍",
    ])
    def test_positive(self, fr: SentimentScorer, text: str) -> None:
        assert label(fr, text) == "positive"

    def test_ne_pas_flips_the_sign(self, fr: SentimentScorer) -> None:
        assert fr.score("J'aime cette lampe").compound > 0 > fr.score("Je n'aime pas cette lampe").compound
        for negated in ("Je n'aime pas", "J'aime pas", "Je n'aime plus", "Je n'ai jamais aimé", "Aucun plaisir",
                        "Sans plaisir"):
            assert rules(fr, negated, "fr") < 0, negated

    def test_negation_stops_at_the_end_of_the_clause(self, fr: SentimentScorer) -> None:
        assert rules(fr, "Aucun souci, merci", "fr") > rules(fr, "Aucun souci merci", "fr")

    def test_intensifiers_strengthen(self, fr: SentimentScorer) -> None:
        assert rules(fr, "C'est vraiment génial", "fr") > rules(fr, "C'est génial", "fr") > 0
        assert rules(fr, "Je suis très déçu", "fr") < rules(fr, "Je suis déçu", "fr") < 0
        assert rules(fr, "C'est un peu décevant", "fr") > rules(fr, "C'est décevant", "fr")
        assert label(fr, "C'est vraiment génial") == label(fr, "C'est génial") == "positive"
        assert label(fr, "Je suis très déçu") == label(fr, "Je suis déçu") == "negative"

    def test_a_plain_fact_is_neutral(self, fr: SentimentScorer) -> None:
        assert label(fr, "Le magasin ouvre à 10h lundi.") == "neutral"


class TestEdgeCases:
    @pytest.mark.parametrize("text", ["", "   ", "\t\n", "https://maisonlumen.fr/aurore", "http",
                                      "@maisonlumen @support", "@a @b https://t.co/xyz"])
    def test_nothing_to_weigh_is_neutral(self, en: SentimentScorer, text: str) -> None:
        result = en.score(text)
        assert result.label == "neutral"
        assert abs(result.compound) < POSITIVE_AT

    def test_empty_text_keeps_the_default_or_given_language(self, en: SentimentScorer, fr: SentimentScorer) -> None:
        assert en.score("") == Sentiment("neutral", 0.0, "en")
        assert fr.score("") == Sentiment("neutral", 0.0, "fr")
        assert en.score("", lang="fr").lang == "fr"

    def test_a_very_long_text_is_scored_quickly(self, en: SentimentScorer) -> None:
        text = "I love this lamp but the delivery was slow. " * 20_000  # ~900 kB on one line
        start = time.perf_counter()
        result = en.score(text)
        assert time.perf_counter() - start < 1.0
        assert -1.0 <= result.compound <= 1.0 and result.lang == "en"

    def test_odd_characters_do_not_break_it(self, en: SentimentScorer) -> None:
        for text in ["\x00\x1b[31m", "🙂" * 500, "٩(◕‿◕)۶", "#", "@", "'''", "vlxp40 vlxfn40"]:
            result = en.score(text)
            assert result.label in ("negative", "neutral", "positive")
            assert -1.0 <= result.compound <= 1.0


class TestLanguage:
    @pytest.mark.parametrize(("text", "lang"), [
        ("Toujours pas reçu ma commande, c'est inadmissible", "fr"),
        ("Still waiting for my order, this is unacceptable", "en"),
        ("c'est nul", "fr"),
        ("Love it", "en"),
    ])
    def test_detects_french_and_english(self, en: SentimentScorer, fr: SentimentScorer, text: str,
                                        lang: str) -> None:
        assert en.score(text).lang == lang
        assert fr.score(text).lang == lang

    def test_short_texts_fall_back_to_the_brand_language(self, en: SentimentScorer, fr: SentimentScorer) -> None:
        for text in ("Top !", "ok 👍", "Aurore", "@maisonlumen lol"):
            assert en.score(text).lang == "en"
            assert fr.score(text).lang == "fr"

    def test_the_source_language_tag_wins(self, en: SentimentScorer) -> None:
        assert en.score("c'est nul", lang="fr-FR") == en.score("c'est nul", lang="fr")
        assert en.score("I love it", lang="FR").lang == "fr"

    def test_another_language_is_reported_as_given(self, en: SentimentScorer) -> None:
        result = en.score("Me encanta esta lámpara 😍", lang="es")
        assert result.lang == "es"
        assert result.label == "positive"

    def test_mixed_french_and_english(self, en: SentimentScorer, fr: SentimentScorer) -> None:
        for scorer in (en, fr):
            assert label(scorer, "J'adore this lamp, trop bien") == "positive"
            assert label(scorer, "Worst service ever, c'est une honte") == "negative"


class TestBrandOverrides:
    def test_a_neutral_term_carries_no_sentiment(self, en: SentimentScorer) -> None:
        text = "The new Killer lamp is here"
        assert label(en, text) == "negative"  # VADER reads "killer" as very negative
        assert label(en.with_overrides(neutral_terms=["Killer"]), text) == "neutral"

    def test_an_override_phrase_gets_its_valence(self, en: SentimentScorer) -> None:
        text = "A killer deal on lamps today"
        assert label(en.with_overrides(overrides={"killer deal": 2.5}), text) == "positive"
        assert label(en.with_overrides(overrides={"killer deal": -2.5}), text) == "negative"

    def test_overrides_are_accent_and_case_insensitive(self, fr: SentimentScorer) -> None:
        scorer = fr.with_overrides(neutral_terms=["Lumière & Fils", "lumineux par nature"])
        assert label(scorer, "LUMIERE & FILS : lumineux par nature.") == "neutral"

    def test_with_overrides_leaves_the_original_unchanged(self, en: SentimentScorer) -> None:
        before = en.score("The new Killer lamp is here")
        en.with_overrides(neutral_terms=["Killer"])
        assert en.score("The new Killer lamp is here") == before

    def test_a_term_correction_from_slack(self, en: SentimentScorer) -> None:
        text = "This lamp is sick"
        scorer = en.with_overrides(corrections=[Correction("sick", "positive", kind="term")])
        assert label(en, text) == "negative"
        assert label(scorer, text) == "positive"

    def test_a_text_correction_from_slack_wins(self, en: SentimentScorer) -> None:
        text = "Well, that was quick 🙃"
        scorer = en.with_overrides(corrections=[Correction("well, that was QUICK 🙃 ", "negative")])
        result = scorer.score(text)
        assert result.label == "negative" and result.compound <= NEGATIVE_AT
        assert label(scorer, "Well, that was quick, thanks!") != "negative"

    def test_built_from_the_workspace_config(self) -> None:
        workspace = parse_workspace("""
brand: {name: Maison Lumen, language: fr}
admins: [U0ADMIN]
channels: {triage: C0TRIAGE}
sentiment:
  overrides: {"killer deal": 2.0}
  neutral_terms: [Killer]
""")
        scorer = SentimentScorer.for_workspace(workspace)
        assert scorer.default_lang == "fr"
        assert scorer.score("Top !").lang == "fr"
        assert label(scorer, "The new Killer lamp is here") == "neutral"
        assert label(scorer, "A killer deal on lamps today") == "positive"


class TestCompoundAndLabel:
    @settings(max_examples=300, deadline=None)
    @given(raw=st.floats(-1.0, 1.0), low=st.floats(-0.9, 0.0), width=st.floats(0.01, 0.9))
    def test_calibration_keeps_the_label_the_thresholds_give(self, raw: float, low: float, width: float) -> None:
        high = min(0.95, low + width)
        compound = calibrate(raw, low, high)
        assert -1.0 <= compound <= 1.0
        expected = "positive" if raw >= high else "negative" if raw <= low else "neutral"
        assert label_for(compound) == expected

    @settings(max_examples=100, deadline=None)
    @given(text=st.text(max_size=200))
    def test_every_text_gets_a_consistent_result(self, en: SentimentScorer, text: str) -> None:
        result = en.score(text)
        assert -1.0 <= result.compound <= 1.0
        assert result.label == label_for(result.compound)
        assert result.lang in ("en", "fr")


def run_cli(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", "sentiment", *args], input=stdin, capture_output=True,
                          text=True, timeout=60, cwd=REPO, check=False)


class TestSentimentCommand:
    def test_one_output_line_per_input_line(self) -> None:
        samples = ["I love this lamp", "c'est nul", "", "https://t.co/x", "@a @b", "Still waiting, no answer",
                   "Très déçu", "ok"]
        lines = [f"{samples[i % len(samples)]} {i}" if i % 5 else samples[i % len(samples)] for i in range(3000)]
        proc = run_cli(stdin="\n".join(lines) + "\n")
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout.split("\n")
        assert out[-1] == ""
        assert len(out) - 1 == len(lines)
        assert all(OUTPUT_LINE.match(line) for line in out[:-1]), [x for x in out[:-1] if not OUTPUT_LINE.match(x)][:3]
        assert out[0].startswith("positive\t") and out[0].endswith("\ten")
        assert out[1].startswith("negative\t") and out[1].endswith("\tfr")

    def test_forced_language(self) -> None:
        proc = run_cli("--lang", "fr", stdin="I love it\nc'est nul\n")
        assert [line.split("\t")[2] for line in proc.stdout.splitlines()] == ["fr", "fr"]

    def test_a_last_line_without_newline_and_crlf_endings(self) -> None:
        proc = run_cli(stdin="I love it\r\nc'est nul")
        assert [line.split("\t")[0] for line in proc.stdout.splitlines()] == ["positive", "negative"]

    def test_it_streams_each_answer_before_the_next_line_is_sent(self) -> None:
        with subprocess.Popen([sys.executable, "-m", "bot.cli", "sentiment"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO) as proc:
            assert proc.stdin is not None and proc.stdout is not None
            try:
                for text, expected in (("I love it", "positive"), ("c'est nul", "negative"), ("", "neutral")):
                    proc.stdin.write(text + "\n")
                    proc.stdin.flush()
                    ready, _, _ = select.select([proc.stdout], [], [], 30)
                    assert ready, "no answer before the next line: the command does not stream"
                    assert proc.stdout.readline().split("\t")[0] == expected
            finally:
                proc.stdin.close()
                proc.wait(timeout=30)
        assert proc.returncode == 0
