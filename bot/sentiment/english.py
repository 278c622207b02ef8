"""English rule scoring: vaderSentiment, with Veille's social and customer-service additions merged into its lexicon.

VADER already handles negation, intensifiers, caps, punctuation and emoticons. What fools it on brand mentions
is vocabulary ("overcharged", "glitchy", "tysm") and phrases ("still waiting", "no answer"): the words come
from `en_social.tsv`, the phrases arrive as placeholders (see `bot.sentiment.phrases`), whose valences are
merged into VADER's lexicon here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentimentIntensityAnalyzer, SentiText

from bot.sentiment.phrases import placeholder_lexicon
from bot.sentiment.resources import load_tsv


class _Analyzer(SentimentIntensityAnalyzer):  # type: ignore[misc]
    """VADER, minus its emoji pass on ASCII text, where there is no emoji to describe.

    That pass builds the text again one character at a time and costs a quarter of VADER's time on a tweet.
    The body below is vaderSentiment 3.3.2's `polarity_scores` after that pass (MIT, C.J. Hutto).
    """

    def polarity_scores(self, text: str) -> dict[str, Any]:
        if not text.isascii():
            return dict(super().polarity_scores(text))
        sentitext = SentiText(text.strip())
        sentiments: list[float] = []
        words_and_emoticons = sentitext.words_and_emoticons
        for i, item in enumerate(words_and_emoticons):
            lowered = item.lower()
            if lowered in BOOSTER_DICT or (lowered == "kind" and i < len(words_and_emoticons) - 1
                                           and words_and_emoticons[i + 1].lower() == "of"):
                sentiments.append(0)
                continue
            sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
        sentiments = self._but_check(words_and_emoticons, sentiments)
        return dict(self.score_valence(sentiments, text.strip()))


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # One analyzer per process: it reads ~7,500 lexicon lines (~50 ms) and is only read afterwards.
    analyzer = _Analyzer()
    analyzer.lexicon.update(load_tsv("en_social.tsv"))
    analyzer.lexicon.update(placeholder_lexicon())
    return analyzer


class EnglishRules:
    """Score English text with VADER; returns (compound, positive share, negative share)."""

    def __init__(self) -> None:
        self._analyzer = _analyzer()

    def scores(self, text: str) -> tuple[float, float, float]:
        if not text.strip():
            return 0.0, 0.0, 0.0
        result = self._analyzer.polarity_scores(text)
        return float(result["compound"]), float(result["pos"]), float(result["neg"])
