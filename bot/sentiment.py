"""Sentiment scoring: one entry point the pipeline calls, returning a label, a compound score and the language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

Label = Literal["negative", "neutral", "positive"]

# VADER's authors' recommended cut-offs on the compound score (README of vaderSentiment).
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: Label
    compound: float
    lang: str | None


def label_for(compound: float) -> Label:
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"


class SentimentScorer:
    """Score texts with vaderSentiment. Built once (loading the lexicon takes ~50 ms), then shared."""

    def __init__(self) -> None:
        self._vader = SentimentIntensityAnalyzer()

    def score(self, text: str, *, lang: str | None = None) -> Sentiment:
        compound = float(self._vader.polarity_scores(text)["compound"]) if text.strip() else 0.0
        return Sentiment(label_for(compound), compound, lang)
