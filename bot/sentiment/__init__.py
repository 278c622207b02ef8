"""Sentiment for French and English social posts: label, compound score in -1..1 and language, from one entry point.

`SentimentScorer().score(text, lang=None)` is what the pipeline and `veille sentiment` call. The stages live in
their own modules: `text` (normalisation), `lang` (language detection), `phrases` (idioms, brand overrides,
emoji), `english` (VADER with additions), `french` (French rules), `model` (the trained layer), `scorer`.
Every resource ships in `data/` (sources and licences in README.md, "Data and licences").
"""

from bot.sentiment.scorer import (
    LABELS,
    NEGATIVE_AT,
    POSITIVE_AT,
    Correction,
    Label,
    Sentiment,
    SentimentScorer,
    calibrate,
    label_for,
)

__all__ = ["LABELS", "NEGATIVE_AT", "POSITIVE_AT", "Correction", "Label", "Sentiment", "SentimentScorer",
           "calibrate", "label_for"]
