"""Language detection between French and English, falling back to the brand's language when the text says too little.

py3langid (BSD-3-Clause; a maintained fork of langid.py) ships its naive-Bayes model inside the wheel, so nothing
is downloaded. We restrict it to the two languages Veille scores, which makes it both faster and sharper, and
use its length-calibrated probability: below `min_confidence`, or with fewer than `min_letters` letters once
URLs, @mentions and '#' are gone ("Top !", "ok 👍"), the brand's default language is the better guess.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from operator import mul
from typing import Any

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from bot.sentiment.text import letters

LANGUAGES = ("en", "fr")


# Language evidence is in the first words; a pasted article needn't be read to the end.
DETECT_CHARS = 300
# Walks of the feature automaton remembered per (state, word): words repeat across texts (bounded memory).
WALK_CACHE = 200_000
# log1p of every count a feature can reach in DETECT_CHARS characters (4 UTF-8 bytes each at most).
_LOG1P = [math.log1p(n) for n in range(4 * DETECT_CHARS + 1)]


@dataclass(frozen=True)
class _TwoWayModel:
    """py3langid's naive Bayes reduced to one log-odds weight per feature: French minus English."""

    nextmove: Any
    rowbase: list[int]
    output: Any
    log_odds: list[float]
    prior: float
    walks: dict[tuple[int, bytes], tuple[int, tuple[int, ...]]] = field(default_factory=dict)

    def walk(self, state: int, piece: bytes) -> tuple[int, tuple[int, ...]]:
        """The automaton's state after `piece` read from `state`, and the features it met on the way (py3langid's
        `visit_counts` loop)."""
        nextmove, rowbase, output = self.nextmove, self.rowbase, self.output
        features = []
        for byte in piece:
            state = nextmove[rowbase[state] + byte]
            feature = output[state]
            if feature >= 0:
                features.append(feature)
        return state, tuple(features)

    def visits(self, data: bytes) -> Counter[int]:
        """Feature counts over `data`, in first-seen order: what `visit_counts` returns (empty for none).

        The automaton is deterministic, so a word read from a given state always ends in the same state with the
        same features: each (state, word) is walked once, then looked up — one dict look-up per word instead of a
        Python step per byte, with the features in the same order.
        """
        walks, state, features = self.walks, 0, []
        pieces = data.split(b" ")
        last = pieces.pop()
        for piece in [piece + b" " for piece in pieces] + [last]:  # the text's bytes, in order, space included
            key = (state, piece)
            found = walks.get(key)
            if found is None:
                found = walks[key] = self.walk(state, piece)
            state, seen = found
            features += seen
        if len(walks) >= WALK_CACHE:
            walks.clear()  # bounded memory; a cold cache only costs time
        return Counter(features)


@cache
def _model() -> _TwoWayModel:
    # Loading the model takes ~0.6 s: once per process, on first use, never at import.
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    classes = list(identifier.nb_classes)
    en, fr = classes.index("en"), classes.index("fr")
    # With two classes, py3langid's softmax over per-class scores is a logistic of their difference; keeping
    # only that difference, as Python floats, avoids numpy's per-call overhead on these tiny vectors (~3x faster).
    log_odds = (identifier.nb_ptc[:, fr] - identifier.nb_ptc[:, en]).astype(float).tolist()
    prior = float(identifier.nb_pc[fr] - identifier.nb_pc[en])
    return _TwoWayModel(identifier.tk_nextmove, [r << 8 for r in identifier.tk_row], identifier.tk_output,
                        log_odds, prior)


def french_probability(content: str) -> float:
    """p(French | text) against English, as py3langid's `classify` with `norm_probs=True` computes it."""
    model = _model()
    if content.isupper():
        content = content.lower()  # py3langid's own rule: all-caps text is read lower-cased
    data = content[:DETECT_CHARS].encode("utf-8", errors="surrogatepass")
    visits = model.visits(data)
    if not visits:
        return 0.5
    # sum of log1p(count) × weight, feature by feature in the same order as before (same floating-point result).
    log_odds = model.prior + sum(map(mul, map(_LOG1P.__getitem__, visits.values()),
                                     map(model.log_odds.__getitem__, visits.keys())))
    # py3langid divides scores by sqrt(byte length) before its softmax, calibrating confidence across lengths.
    scaled = log_odds / math.sqrt(len(data))
    return 1.0 / (1.0 + math.exp(-scaled)) if scaled > -700 else 0.0


def normalize_lang(lang: str | None) -> str | None:
    """Map a source's language tag ('fr', 'fr-FR', 'EN_us') to 'fr' / 'en', or None when it is neither."""
    if not lang:
        return None
    code = lang.strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code in LANGUAGES else None


class LanguageDetector:
    """Tell French from English; short or ambiguous texts get the default language."""

    def __init__(self, default: str = "en", *, min_letters: int = 4, min_confidence: float = 0.8) -> None:
        if default not in LANGUAGES:
            raise ValueError(f"default language must be one of {LANGUAGES}, not {default!r}")
        self.default = default
        self.min_letters = min_letters
        self.min_confidence = min_confidence
        _model()

    def detect(self, content: str) -> str:
        """Return 'en' or 'fr' for prepared text without URLs and @mentions (`text.strip_handles`)."""
        if len(content) < 64 and letters(content) < self.min_letters:
            return self.default
        french = french_probability(content)
        if french >= self.min_confidence:
            return "fr"
        if 1.0 - french >= self.min_confidence:
            return "en"
        return self.default
