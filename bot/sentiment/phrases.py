"""Phrase rewriting: multi-word idioms, brand overrides and emoji become placeholder tokens with a fixed valence.

Lexicon scorers look words up one at a time, so "still waiting", "pas terrible" or a brand's "killer deal" can't
be weighed there. We replace each such phrase in the text by a placeholder token (`vlxn18` = valence -1.8)
whose valence the lexicon scorers know, and a neutral brand term by `vlxz0`, which no scorer weighs.
Placeholders of phrases that carry their own negation ("pas terrible", "no answer") use the `vlxf` family,
which the French scorer never negates again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bot.sentiment.text import EMOJI, fold

PREFIX = "vlx"
NEUTRAL = "vlxz0"
# VADER's lexicon runs from -4 to +4; overrides are clamped there and kept to one decimal.
MAX_VALENCE = 4.0

# Words that, at the start of a phrase, mean the phrase already says "not": its placeholder must not be
# negated a second time by a "ne" or "not" before it ("ce n'est pas terrible" is not positive).
_SELF_NEGATING = frozenset({"pas", "ne", "n'", "aucun", "aucune", "sans", "jamais", "rien", "toujours", "no",
                            "not", "never", "nobody", "nothing", "still", "plus"})

_ACCENTS = {"a": "aàâäáãå", "c": "cç", "e": "eéèêë", "i": "iíìîï", "o": "oóòôöõ", "u": "uúùûü", "y": "yýÿ",
            "n": "nñ"}


def placeholder(valence: float, *, fixed: bool = False) -> str:
    """Return the token standing for `valence` (clamped to ±4, one decimal)."""
    tenths = round(max(-MAX_VALENCE, min(MAX_VALENCE, valence)) * 10)
    if tenths == 0:
        return NEUTRAL
    family = "vlxf" if fixed else PREFIX
    return f"{family}{'p' if tenths > 0 else 'n'}{abs(tenths)}"


def placeholder_lexicon() -> dict[str, float]:
    """Every placeholder token with its valence, to merge into a lexicon."""
    table: dict[str, float] = {}
    for tenths in range(-40, 41):
        if tenths:
            for fixed in (False, True):
                table[placeholder(tenths / 10, fixed=fixed)] = tenths / 10
    return table


def is_placeholder(token: str) -> bool:
    return token.startswith(PREFIX)


def is_fixed(token: str) -> bool:
    """Whether a placeholder stands for a phrase that already carries its negation."""
    return token.startswith("vlxf")


def _char(char: str) -> str:
    if char == " ":
        return r"\s+"
    if char in _ACCENTS:
        return f"[{_ACCENTS[char]}]"
    return re.escape(char)


def _trie_pattern(phrases: Iterable[str]) -> str:
    """One regex for many folded phrases, shaped as a trie so each position costs one character test.

    An alternation of hundreds of phrases would try each of them at every position of every text.
    """
    trie: dict[str, Any] = {}
    for phrase in phrases:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [_char(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and "" not in node else "(?:" + "|".join(branches) + ")"
        # Optional when a phrase also ends here: greedy, so the longest phrase wins.
        return body + "?" if "" in node else body

    return "(?:" + build(trie) + r")(?!\w)"


_WORDS = re.compile(r"[^\W_]+")


def words_of(folded: str) -> list[str]:
    """Words of a folded text (see `text.fold`), split at apostrophes too: the unit phrase pre-filtering works on."""
    return _WORDS.findall(folded)


def _key(text: str) -> str:
    return " ".join(fold(text).split())


class PhraseRewriter:
    """Replace literal phrases (longest first) and pattern rules by placeholders; built once, then shared."""

    def __init__(self, phrases: Mapping[str, float],
                 patterns: Iterable[tuple[str, float, frozenset[str]]] = ()) -> None:
        """`phrases`: literal phrase → valence. `patterns`: (regex, valence, words one of which must be present)."""
        self._valences: dict[str, float] = {}
        self._fixed: dict[str, bool] = {}
        # Phrases indexed by their first word, as word sets: a text is searched only if it has all the words
        # of some phrase, which a word-set look-up tells far faster than any regex.
        self._by_first: dict[str, list[frozenset[str]]] = {}
        for phrase, valence in phrases.items():
            key = _key(phrase)
            if key:
                self._valences[key] = float(valence)
                self._fixed[key] = key.split(" ", 1)[0] in _SELF_NEGATING
                words = words_of(key)  # keys are folded already
                if words:
                    self._by_first.setdefault(words[0], []).append(frozenset(words))
        self._literal = re.compile(_trie_pattern(self._valences), re.IGNORECASE) if self._valences else None
        self._patterns = [(re.compile(p, re.IGNORECASE), placeholder(v, fixed=True), triggers)
                          for p, v, triggers in patterns]

    def __bool__(self) -> bool:
        return bool(self._literal or self._patterns)

    def _may_match(self, words: frozenset[str]) -> bool:
        for word in words:
            for needed in self._by_first.get(word, ()):
                if needed <= words:
                    return True
        return False

    def _replace(self, match: re.Match[str]) -> str:
        start = match.start()
        if start and (match.string[start - 1].isalnum() or match.string[start - 1] == "_"):
            return match.group(0)  # the phrase starts inside a word ("repas terrible" is not "pas terrible")
        key = _key(match.group(0))
        return f" {placeholder(self._valences[key], fixed=self._fixed[key])} "

    def rewrite(self, text: str, words: frozenset[str] | None = None) -> str:
        """Replace the phrases in `text`; `words` (from `words_of`, as a set) lets most texts skip the regexes."""
        if words is None:
            words = frozenset(words_of(fold(text)))
        if self._literal is not None and self._may_match(words):
            text = self._literal.sub(self._replace, text)
        for pattern, token, triggers in self._patterns:
            if not triggers.isdisjoint(words):
                text = pattern.sub(f" {token} ", text)
        return text


def emoji_rewriter(valences: Mapping[str, float], *, keep_unknown: bool) -> Callable[[str], str]:
    """Return a function replacing each known emoji by its placeholder (unknown ones kept or dropped)."""
    tokens = {emoji: f" {placeholder(valence)} " for emoji, valence in valences.items()}

    def replace(match: re.Match[str]) -> str:
        char = match.group(0)
        return tokens.get(char, char if keep_unknown else " ")

    def rewrite(text: str) -> str:
        return EMOJI.sub(replace, text)

    return rewrite
