"""The small trained layer on top of the lexicon rules: a 3-class logistic regression over words and rule scores.

Features are the rule scorer's compound, a few markers (link, @mention, hashtag, '!' and '?') and word
unigrams (and bigrams and character n-grams when the model file asks for them), counted and scaled by
1/sqrt(their number). `scripts/train_sentiment.py` fits it with numpy on the allowed training split and writes
`model_<lang>.json`; inference here is plain Python dictionary look-ups, so it adds microseconds per text and
no dependency.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.sentiment.phrases import PREFIX, is_placeholder
from bot.sentiment.text import HASHTAG, MENTION, URL

CLASSES = ("negative", "neutral", "positive")
CACHE_WORDS = 100_000
# The rules' positive and negative shares are left out on purpose: in the French training tweets positive words
# often carry sarcasm, and the model then learned to read a clear "😍" or "génial" as a sign of negativity.
DENSE = ("compound", "url", "mention", "hashtag", "exclaim", "question")
_EN_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the model sees of one text: the rule scores, the markers and the words."""

    rules: tuple[float, float, float]
    markers: tuple[float, float, float, float, float]
    words: tuple[str, ...]

    def dense(self) -> tuple[float, ...]:
        return (self.rules[0],) + self.markers


def markers(prepared: str) -> tuple[float, float, float, float, float]:
    """Presence of a link, an @mention, a hashtag, '!' and '?': news links are mostly neutral, replies are not."""
    # Substring tests first: most texts have no link, mention or hashtag, and each regex scan costs ~3 µs. Every
    # URL match holds "http" or "www." in some letter case (no other character case-folds to h, t, p or w).
    low = prepared.lower()
    return (float(("http" in low or "www." in low) and URL.search(prepared) is not None),
            float("@" in prepared and MENTION.search(prepared) is not None),
            float("#" in prepared and HASHTAG.search(prepared) is not None), float("!" in prepared),
            float("?" in prepared))


def english_words(text: str) -> list[str]:
    low = text.lower()
    words = _EN_WORD.findall(low)
    # A placeholder word starts with PREFIX: without PREFIX in the text there is none to drop.
    return [w for w in words if not is_placeholder(w)] if PREFIX in low else words


def word_features(word: str, char_ngrams: Sequence[int] = ()) -> list[str]:
    """The sparse features one word contributes: itself and, if asked, its character n-grams (fastText-style)."""
    found = ["w:" + word]
    if char_ngrams:
        padded = f" {word} "
        for n in char_ngrams:
            found.extend("c:" + padded[i:i + n] for i in range(len(padded) - n + 1))
    return found


def features(words: Sequence[str], *, bigrams: bool, char_ngrams: Sequence[int] = ()) -> Counter[str]:
    """The sparse features of a word sequence, with their counts."""
    found: Counter[str] = Counter()
    for word in words:
        found.update(word_features(word, char_ngrams))
    if bigrams:
        found.update(f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False))
    return found


def _softmax(z: Sequence[float]) -> tuple[float, ...]:
    top = max(z)
    exps = [math.exp(v - top) for v in z]
    total = sum(exps)
    return tuple(e / total for e in exps)


class LinearModel:
    """A trained multinomial logistic regression, loaded from its JSON file."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.lang: str = spec["lang"]
        self.bigrams: bool = bool(spec["bigrams"])
        self.char_ngrams: tuple[int, ...] = tuple(spec.get("char_ngrams", ()))
        self.bias: tuple[float, ...] = tuple(spec["bias"])
        self.dense: tuple[tuple[float, ...], ...] = tuple(tuple(row) for row in spec["dense"])
        self.weights: dict[str, tuple[float, ...]] = {k: tuple(v) for k, v in spec["weights"].items()}
        # Thresholds on p(positive) - p(negative), chosen by cross-validation on the training split.
        # Share of the lexicon rules' compound in the raw score (chosen by cross-validation, see the script).
        self.blend: float = float(spec.get("blend", 0.0))
        self.negative_at: float = float(spec["thresholds"][0])
        self.positive_at: float = float(spec["thresholds"][1])
        self._cache: dict[str, tuple[float, float, float, int]] = {}

    def probabilities(self, analysis: Analysis) -> tuple[float, ...]:
        z = list(self.bias)
        for value, row in zip(analysis.dense(), self.dense, strict=True):
            if value:
                z[0] += value * row[0]
                z[1] += value * row[1]
                z[2] += value * row[2]
        # Sum of per-word vectors (cached: words repeat), then scaled by 1/sqrt(feature count) as in training.
        s0 = s1 = s2 = 0.0
        count = 0
        for word in analysis.words:
            w0, w1, w2, n = self._word_vector(word)
            s0 += w0
            s1 += w1
            s2 += w2
            count += n
        if self.bigrams:
            for pair in zip(analysis.words, analysis.words[1:], strict=False):
                row = self.weights.get(f"b:{pair[0]} {pair[1]}")
                count += 1
                if row is not None:
                    s0 += row[0]
                    s1 += row[1]
                    s2 += row[2]
        if count:
            scale = 1.0 / math.sqrt(count)
            z[0] += s0 * scale
            z[1] += s1 * scale
            z[2] += s2 * scale
        return _softmax(z)

    def _word_vector(self, word: str) -> tuple[float, float, float, int]:
        cached = self._cache.get(word)
        if cached is None:
            names = word_features(word, self.char_ngrams)
            rows = [self.weights[n] for n in names if n in self.weights]
            cached = (sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] for r in rows), len(names))
            if len(self._cache) >= CACHE_WORDS:
                self._cache.clear()  # bounded memory on endless streams; the hot words come back at once
            self._cache[word] = cached
        return cached

    def raw_score(self, analysis: Analysis) -> float:
        """p(positive) - p(negative), blended with the rules' compound; in -1..1."""
        p = self.probabilities(analysis)
        return (1.0 - self.blend) * (p[2] - p[0]) + self.blend * analysis.rules[0]
