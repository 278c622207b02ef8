"""The scorer's shortcuts give exactly what the plain computation gives, on any text.

Each fast path (the ASCII branch of `prepare` and `fold`, the substring pre-checks of `markers` and
`english_words`, the word-by-word walk of the language detector) is compared with the straightforward code it
replaces, written out here, over random text built to reach both sides of every shortcut.
"""

from __future__ import annotations

import math
import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st
from py3langid.langid import visit_counts

from bot.sentiment.lang import DETECT_CHARS, _model, french_probability
from bot.sentiment.model import _EN_WORD, english_words, markers
from bot.sentiment.phrases import PREFIX
from bot.sentiment.text import _APOSTROPHES, _EMOJI_MODIFIERS, _FOLD, HASHTAG, MAX_CHARS, MENTION, URL, fold, prepare

# Characters every shortcut turns on: case variants of "http"/"www.", the apostrophes, emoji modifiers, accents,
# the placeholder prefix, whitespace of all kinds, and Unicode letters that case-fold oddly.
PIECES = ["http", "HTTP", "HtTpS://a.b", "www.", "WWW.x", "@", "@bob", "#", "#Tag", "!", "?", "`", "’", "ʼ", "´",
          "\u00a0", "\u202f", "\ufe0f", "\u200d", "\U0001f3fd", "👍", "é", "e\u0301", "É", "œ", "ſ", "K", "İ",
          PREFIX, PREFIX.upper(), " ", "  ", "\t", "\n", "\x1c", "a", "the", "c'est", "j'adore", "42"]
TEXTS = st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=40).map("".join)


def plain_prepare(text: str) -> str:
    text = unicodedata.normalize("NFC", text[:MAX_CHARS]).translate(_APOSTROPHES)
    return " ".join(_EMOJI_MODIFIERS.sub("", text).split())


def plain_markers(prepared: str) -> tuple[float, ...]:
    return (float(URL.search(prepared) is not None), float(MENTION.search(prepared) is not None),
            float(HASHTAG.search(prepared) is not None), float("!" in prepared), float("?" in prepared))


def plain_french_probability(content: str) -> float:
    """py3langid's byte-by-byte walk, then the two-class log-odds, as the detector computed them before."""
    model = _model()
    if content.isupper():
        content = content.lower()
    data = content[:DETECT_CHARS].encode("utf-8", errors="surrogatepass")
    visits = visit_counts(model.nextmove, model.rowbase, model.output, data)
    if not visits:
        return 0.5
    log_odds = model.prior + sum(math.log1p(count) * model.log_odds[f] for f, count in visits.items())
    scaled = log_odds / math.sqrt(len(data))
    return 1.0 / (1.0 + math.exp(-scaled)) if scaled > -700 else 0.0


@settings(max_examples=400, deadline=None)
@given(TEXTS)
@example("Check https://x.y `now`")
@example("HTTP://A.B and Www.c.d")
@example("a" * (MAX_CHARS + 10))
def test_text_shortcuts_match_the_plain_code(text: str) -> None:
    assert prepare(text) == plain_prepare(text)
    assert fold(text) == text.lower().translate(_FOLD)
    assert markers(text) == plain_markers(text)
    assert english_words(text) == [w for w in _EN_WORD.findall(text.lower()) if not w.startswith(PREFIX)]


@settings(max_examples=300, deadline=None)
@given(TEXTS)
@example("")
@example("   ")
@example("J'adore ce produit, vraiment top !")
@example("I love it, thanks a lot")
@example("é" * (DETECT_CHARS + 5))
def test_language_walk_gives_the_same_probability_as_py3langid(text: str) -> None:
    # Twice: the second time the walks come from the cache.
    assert french_probability(text) == plain_french_probability(text)
    assert french_probability(text) == plain_french_probability(text)
