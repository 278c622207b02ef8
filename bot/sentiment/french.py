"""A VADER-style rule scorer for French: lexicon, negation ("ne ... pas", "jamais", "aucun"), intensifiers, elision.

It follows VADER's recipe (Hutto & Gilbert, 2014) with French grammar: sentiment words come from the
vaderSentiment-fr lexicon corrected by Veille's hand-written `fr_social.tsv`; a word is negated when "ne"/"n'",
"pas", "jamais", "rien", "aucun", "sans" or "ni" stands in the three tokens before it, or "pas"/"jamais" right
after it ("j'aime pas"); "très", "trop", "vraiment"... boost it; "mais" shifts the weight to what follows.
Elided forms are split ("c'est nul" → c' est nul, "j'adore" → j' adore). Multi-word idioms ("pas terrible")
arrive already replaced by placeholders (see `bot.sentiment.phrases`).
"""

from __future__ import annotations

import math
import re

from bot.sentiment.phrases import is_fixed, is_placeholder, placeholder_lexicon
from bot.sentiment.resources import load_tsv
from bot.sentiment.text import fold

# VADER's empirically derived constants (vaderSentiment.vaderSentiment), reused as they are.
B_INCR = 0.293
C_INCR = 0.733
N_SCALAR = -0.74
ALPHA = 15.0

NEGATORS = frozenset({"ne", "n'", "pas", "jamais", "rien", "aucun", "aucune", "aucunement", "nullement", "sans",
                      "ni", "guere"})
AFTER_NEGATORS = frozenset({"pas", "jamais", "guere"})
BUT_WORDS = frozenset({"mais", "cependant", "pourtant", "neanmoins", "toutefois"})
BOOSTERS = {w: B_INCR for w in (
    "tres", "trop", "vraiment", "tellement", "hyper", "super", "ultra", "extra", "archi", "carrement", "vachement",
    "grave", "extremement", "totalement", "completement", "absolument", "franchement", "particulierement",
    "incroyablement", "terriblement", "enormement", "beaucoup", "si", "tant", "drolement", "sacrement",
    "profondement", "infiniment", "mega", "fort", "bien")}
BOOSTERS.update({w: -B_INCR for w in (
    "peu", "assez", "plutot", "legerement", "moyennement", "presque", "quasi", "quasiment", "moins", "rarement",
    "vaguement", "relativement")})
# Elided articles and pronouns: "c'est" → "c'" + "est"; "n'" is kept as the negation it is.
ELIDED = frozenset({"c", "j", "l", "d", "n", "m", "t", "s", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"})
# Words, placeholders, and the punctuation that ends a clause (negation and boosters don't reach past it).
TOKEN = re.compile(r"vlx[a-z]*\d+|[^\W\d_]+(?:'[^\W\d_]+)*|[.,;:!?()]")
CLAUSE_BREAKS = frozenset(".,;:!?()")
# French tweets use the same emoticons as English ones; VADER's own values for the common ones.
EMOTICONS = {":)": 2.0, ":-)": 2.0, ":d": 2.3, ":-d": 2.3, ";)": 1.6, ";-)": 1.6, "<3": 1.9, ":(": -1.9,
             ":-(": -1.9, ":'(": -2.2, ":/": -1.4, ":-/": -1.4, ":p": 1.3, "xd": 1.8, "=)": 1.8}
_EMOTICON_HINT = re.compile(r"[:;=<][-'()dpDP/3]|x[dD]|X[dD]")
_CAPS = re.compile(r"[^\W\d_a-zà-ÿ]{2}")
_EMOTICON = re.compile(r"(?<!\S)(?:" + "|".join(re.escape(e) for e in EMOTICONS) + r")(?!\S)", re.IGNORECASE)


def french_lexicon() -> dict[str, float]:
    """The single-word French lexicon: upstream entries, then Veille's corrections, then placeholders."""
    lexicon = {term: value for term, value in load_tsv("fr_lexicon.tsv").items() if " " not in term}
    lexicon.update({fold(term): value for term, value in load_tsv("fr_social.tsv").items()})
    for booster in BOOSTERS:
        # A booster's own valence is used only when it modifies nothing (see `_valence`).
        lexicon.setdefault(booster, 0.0)
    lexicon.update(placeholder_lexicon())
    return lexicon


def french_idioms() -> dict[str, float]:
    """Multi-word entries of the upstream lexicon ("en colère", "sans espoir"), for the phrase rewriter."""
    return {term: value for term, value in load_tsv("fr_lexicon.tsv").items() if " " in term}


def tokens(text: str) -> list[str]:
    """Split French text into words and clause punctuation, elisions separated: "c'est" → ["c'", "est"]."""
    out: list[str] = []
    for word in TOKEN.findall(text):
        head, apostrophe, tail = word.partition("'")
        if apostrophe and head.lower() in ELIDED and tail:
            out.append(head + "'")
            out.extend(tail.split("'"))
        else:
            out.append(word)
    return out


def normalize(score: float) -> float:
    return max(-1.0, min(1.0, score / math.sqrt(score * score + ALPHA)))


class FrenchRules:
    """Score French text VADER-style; returns (compound, positive share, negative share)."""

    def __init__(self, lexicon: dict[str, float] | None = None) -> None:
        self._lexicon = lexicon if lexicon is not None else french_lexicon()

    def scores(self, text: str) -> tuple[float, float, float]:
        return self.scores_tokens(text, [fold(w) for w in tokens(text)])

    def scores_tokens(self, text: str, folded: list[str]) -> tuple[float, float, float]:
        """Score `text` given its tokens already folded (`fold` of each of `tokens(text)`)."""
        emoticon_valences = ([EMOTICONS[m.group(0).lower()] for m in _EMOTICON.finditer(text)]
                             if _EMOTICON_HINT.search(text) else [])
        # Case only matters for ALL-CAPS emphasis, and most texts have no two capitals in a row.
        words = folded
        if _CAPS.search(text):
            words = tokens(text)
            if len(words) != len(folded):
                folded = [fold(w) for w in words]
        lowered = ["ne" if w == "n'" else w for w in folded]
        caps_differ = 0 < sum(1 for w in words if w.isupper() and len(w) > 1) < sum(1 for w in words if w.isalpha())
        sentiments = [self._valence(i, words, lowered, caps_differ) for i in range(len(words))
                      if lowered[i] not in CLAUSE_BREAKS]
        kept = [w for w in lowered if w not in CLAUSE_BREAKS]
        sentiments = _but_check(kept, sentiments) + emoticon_valences
        if not sentiments:
            return 0.0, 0.0, 0.0
        total = sum(sentiments)
        emphasis = min(text.count("!"), 4) * 0.292
        questions = text.count("?")
        if questions > 1:
            emphasis += questions * 0.18 if questions <= 3 else 0.96
        if total > 0:
            total += emphasis
        elif total < 0:
            total -= emphasis
        pos = sum(s + 1 for s in sentiments if s > 0)
        neg = -sum(s - 1 for s in sentiments if s < 0)
        neutral = sum(1 for s in sentiments if s == 0)
        share = pos + neg + neutral
        return normalize(total), pos / share, neg / share

    def _valence(self, i: int, words: list[str], lowered: list[str], caps_differ: bool) -> float:
        word = lowered[i]
        valence = self._lexicon.get(word)
        if not valence:
            return 0.0
        nxt = lowered[i + 1] if i + 1 < len(lowered) else ""
        if word in BOOSTERS and self._lexicon.get(nxt):
            return 0.0  # "super content": "super" boosts "content" instead of counting on its own
        if is_placeholder(word):
            if is_fixed(word):
                return valence
        elif caps_differ and words[i].isupper():
            valence += C_INCR if valence > 0 else -C_INCR
        start = i
        for distance in (1, 2, 3):
            if i - distance < 0 or lowered[i - distance] in CLAUSE_BREAKS:
                break
            start = i - distance
            before = lowered[i - distance]
            boost = BOOSTERS.get(before)
            if boost:
                scale = (1.0, 0.95, 0.9)[distance - 1]
                valence += (boost if valence > 0 else -boost) * scale
        if any(w in NEGATORS for w in lowered[start:i]) or nxt in AFTER_NEGATORS:
            valence *= N_SCALAR
        return valence


def _but_check(lowered: list[str], sentiments: list[float]) -> list[float]:
    """Weigh what comes after "mais" 1.5 times and what comes before half, as VADER does for "but"."""
    at = next((i for i, w in enumerate(lowered) if w in BUT_WORDS), None)
    if at is None:
        return sentiments
    return [s * 0.5 if i < at else s * 1.5 if i > at else s for i, s in enumerate(sentiments)]
