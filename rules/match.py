"""Text normalization and matching shared by the three engines, computed once per item.

A text becomes a list of *tokens* that survive the usual tricks used to get past filters. The text is
cut at whitespace into chunks, and each chunk goes through:

1. fold: casefold, strip accents, map look-alike letters of other scripts (Cyrillic `о`, fullwidth `ｏ`,
   math bold `𝐨`) and ligatures to Latin, drop zero-width characters;
2. mask: URLs, e-mail addresses and @handles are set aside as *marks* (they are not speech:
   `jean.con@x.fr` must not match `con`; the spam and personal-data detectors read the marks);
3. l33t: digits and symbols touching a letter become letters (`c0nn@rd` -> `connard`);
4. split at every other non-letter, so `c.o.n` and `fils-de-pute` become separate words;
5. repeated letters collapse to one (`coooonnard` -> `conard`; terms go through the same pipeline).

Then, over the whole text, runs of two or more one-letter tokens are joined (`c o n`, `c.o.n`, `p.d`)
and re-l33ted (`c 0 n`). Terms, keywords and texts all go through `tokens_of`, so a term matches
whatever way it is written or disguised.

Chunks repeat a lot in real text, so their tokens are cached (bounded) per `Normalizer`; a cache miss
runs the same pure function that also gives every token's span in the original text, which is why a
reported span always slices the original text to exactly what matched.
"""

from __future__ import annotations

import re
import re._constants as _sre  # the regex parser's opcodes, for `required_literals`
import re._parser as _sre_parser
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from typing import Generic, NamedTuple, TypeVar

from rapidfuzz import fuzz, process

T = TypeVar("T")

# Letters people swap in for look-alike Latin ones (Cyrillic and Greek are the usual homoglyph sources),
# and Latin letters or ligatures that have no decomposition.
HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "ո": "n", "ս": "u", "α": "a", "β": "b",
    "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    "ø": "o", "ł": "l", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ŀ": "l", "ŧ": "t", "þ": "th", "œ": "oe",
    "æ": "ae", "ß": "ss",
}
# Invisible characters slipped inside words to split them for filters but not for readers.
INVISIBLE = frozenset("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f\u2060"
                      "\u2061\u2062\u2063\u2064\ufeff")
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "€": "e",
                      "!": "i", "|": "i"})
# Top-level domains that make `word.tld` a link rather than two words run together.
TLDS = ("com|fr|net|org|io|co|ly|gl|gd|gy|cc|me|be|ch|ca|uk|de|eu|info|biz|xyz|link|shop|site|online|store|app|"
        "click|top|ru|cn|tk|in|id|at|to|su|ws|vip|live|news")

_MASK = re.compile(
    # Anchored at the start of a name (and possessive), so a 10,000-character `a.a.a.a` stays linear.
    r"(?P<url>(?:https?://|www\.)\S+|(?<![\w.-])(?:[\w-]+\.)+(?:" + TLDS + r")\b(?:/\S*)?)"
    r"|(?P<email>(?<![\w.+-])[\w.+-]++@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<handle>(?<!\w)@\w+(?:@[\w-]+(?:\.[\w-]+)+)?)")
# Runs are matched from their first character only (and possessively), which keeps `!!!!…` linear.
_LEET_RE = re.compile(r"(?<=[^\W\d_])[013457@$€]++|(?<![013457@$€!|])[013457@$€!|]++(?=[^\W\d_])")
_WORD = re.compile(r"[^\W_]+")
_REPEAT = re.compile(r"([^\W\d_])\1+")


def _first(match: re.Match[str]) -> str:
    return match.group(1)


def squash(word: str) -> str:
    """Collapse repeated letters (`coooon` -> `con`); digits stay (`1000`)."""
    # A callable, not the r"\1" template: re expands templates in Python code, several times slower.
    return _REPEAT.sub(_first, word)
_CHUNK = re.compile(r"\S+")
_SINGLES = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


@lru_cache(maxsize=16_384)
def fold_char(char: str) -> str:
    """One character folded: lower case, no accent, Latin look-alike; '' for marks and invisible characters."""
    if char.isascii():
        return char.lower()
    if char in INVISIBLE:
        return ""
    out = []
    for part in unicodedata.normalize("NFKD", char.casefold()):
        if unicodedata.combining(part):
            continue
        out.append(HOMOGLYPHS.get(part, part).lower())
    return "".join(out)


def fold(text: str) -> str:
    """Casefold, strip accents and map look-alikes (used for handles and display names)."""
    return text.lower() if text.isascii() else "".join(fold_char(c) for c in text)


class Mark(NamedTuple):
    """A URL, e-mail address or @handle found in a chunk; offsets are within the original chunk."""

    kind: str  # url | email | handle
    value: str  # folded
    start: int
    end: int


class Chunk(NamedTuple):
    """What one whitespace-delimited chunk contributes: tokens with their spans in the chunk, and marks."""

    tokens: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    marks: tuple[Mark, ...]
    links: bool  # a URL or an e-mail address among the marks


# A plain ASCII word or number with ordinary punctuation around it: nothing to fold, mask or de-l33t.
_SIMPLE = re.compile(r"[#(\[\"']*([A-Za-z]+|[0-9]+)[.,;:!?)\]\"']*")


def analyze_chunk(chunk: str) -> Chunk:
    """Fold, mask, l33t, split and squash one chunk, keeping each output character's original span."""
    simple = _SIMPLE.fullmatch(chunk)
    if simple is not None:  # the common case, and what the general path below gives for it
        return Chunk((squash(simple.group(1).lower()),), (simple.span(1),), (), False)
    chars: list[str]
    src: list[int]  # for each folded character, the index of the chunk character it came from
    if chunk.isascii():  # folding is lower-casing, one character for one
        chars, src = list(chunk.lower()), list(range(len(chunk)))
    else:
        chars, src = [], []
        for index, char in enumerate(chunk):
            for out in fold_char(char):
                chars.append(out)
                src.append(index)
    folded = "".join(chars)
    marks: list[Mark] = []
    if "@" in folded or "." in folded or ":" in folded:
        for m in _MASK.finditer(folded):
            a, b = m.span()
            kind = m.lastgroup or "url"
            value = m.group()
            if kind == "url":
                value = value.rstrip(".,;:!?)]}'\"")  # sentence punctuation after a link is not part of it
                b = a + len(value)
            marks.append(Mark(kind, value, src[a], src[b - 1] + 1))
            chars[a:b] = [" "] * (b - a)
        folded = "".join(chars)
    if _LEET_RE.search(folded):
        folded = _LEET_RE.sub(lambda m: m.group().translate(LEET), folded)
    tokens: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in _WORD.finditer(folded):
        word = m.group()
        tokens.append(squash(word))
        spans.append((src[m.start()], src[m.end() - 1] + 1))
    return Chunk(tuple(tokens), tuple(spans), tuple(marks), any(m.kind != "handle" for m in marks))


def _join_singles(tokens: list[str], spans: list[tuple[int, int]] | None) -> bool:
    """Join, in place, runs of two or more one-character tokens: `c o n` -> `con` (then l33t and squash).

    Returns whether anything was joined.
    """
    joined_any = False
    i = 0
    while i < len(tokens):
        if len(tokens[i]) != 1:
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and len(tokens[j + 1]) == 1:
            j += 1
        if j > i:
            joined = "".join(tokens[i:j + 1])
            if not joined.isdigit():
                joined = squash(joined.translate(LEET))
            tokens[i:j + 1] = [joined]
            joined_any = True
            if spans is not None:
                spans[i:j + 1] = [(spans[i][0], spans[j][1])]
        i += 1
    return joined_any


def tokens_of(text: str) -> list[str]:
    """The normalized words of a text: what terms, keywords and items are compared on."""
    tokens: list[str] = []
    for chunk in text.split():
        tokens.extend(analyze_chunk(chunk).tokens)
    if not _SINGLES.isdisjoint(tokens):
        _join_singles(tokens, None)
    return tokens


def token_spans(text: str, chunk: Callable[[str], Chunk] = analyze_chunk
                ) -> tuple[list[str], list[tuple[int, int]], list[Mark]]:
    """Tokens with their [start, end) spans in `text`, and marks with absolute offsets (the exact path)."""
    tokens: list[str] = []
    spans: list[tuple[int, int]] = []
    marks: list[Mark] = []
    for m in _CHUNK.finditer(text):
        info = chunk(m.group())
        base = m.start()
        tokens.extend(info.tokens)
        spans.extend((base + a, base + b) for a, b in info.spans)
        marks.extend(Mark(k.kind, k.value, base + k.start, base + k.end) for k in info.marks)
    if not _SINGLES.isdisjoint(tokens):
        _join_singles(tokens, spans)
    return tokens, spans, marks


class Analysis:
    """One item's text as every matcher sees it: tokenized once, mapped back to the original only on demand."""

    __slots__ = ("text", "chunks", "tokens", "has_links", "joined", "_chunk", "_mapping")

    def __init__(self, text: str, tokens: list[str], has_links: bool, joined: bool = True,
                 chunk: Callable[[str], Chunk] = analyze_chunk, chunks: list[str] | None = None) -> None:
        self.text = text
        self.chunks = chunks if chunks is not None else text.split()  # whitespace-delimited, as in the text
        self.tokens = tokens
        self.has_links = has_links  # a URL or an e-mail address (handles alone don't count)
        self.joined = joined  # one-letter tokens were joined: tokens no longer follow chunks one to one
        self._chunk = chunk
        self._mapping: tuple[list[tuple[int, int]], list[Mark]] | None = None

    def _mapped(self) -> tuple[list[tuple[int, int]], list[Mark]]:
        if self._mapping is None:
            _, spans, marks = token_spans(self.text, self._chunk)
            self._mapping = (spans, marks)
        return self._mapping

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Original-text [start, end) covering tokens first..last (inclusive)."""
        if self.joined or self._mapping is not None:
            spans = self._mapped()[0]
            return spans[first][0], spans[last][1]
        # Tokens follow chunks one to one: walk the chunks only as far as the last token.
        seen = 0
        start = 0
        for m in _CHUNK.finditer(self.text):
            info = self._chunk(m.group())
            count = len(info.tokens)
            if seen <= first < seen + count:
                start = m.start() + info.spans[first - seen][0]
            if last < seen + count:
                return start, m.start() + info.spans[last - seen][1]
            seen += count
        raise IndexError(f"token {last} out of range")

    def marks(self) -> list[Mark]:
        """URLs, e-mail addresses and handles, with absolute offsets."""
        if self._mapping is not None:
            return self._mapping[1]
        found: list[Mark] = []
        for m in _CHUNK.finditer(self.text):
            for k in self._chunk(m.group()).marks:
                found.append(Mark(k.kind, k.value, m.start() + k.start, m.start() + k.end))
        return found

    @property
    def normalized(self) -> str:
        return " ".join(self.tokens)

    @property
    def token_set(self) -> frozenset[str]:
        return frozenset(self.tokens)

    def chunk(self, chunk: str) -> Chunk:
        """One chunk's analysis (from the normalizer's cache)."""
        return self._chunk(chunk)


def _adjacent_singles(tokens: list[str]) -> bool:
    """Two one-character tokens in a row (then `_join_singles` has work), checked at C speed."""
    try:
        lengths = bytes(map(len, tokens))
    except ValueError:  # a token of 256 characters or more
        lengths = bytes(min(len(t), 2) for t in tokens)
    return b"\x01\x01" in lengths


class Normalizer:
    """Turns texts into `Analysis` objects, caching each distinct chunk's result (bounded).

    The per-item work is a handful of C-level calls: split, one dict lookup per chunk through `map`,
    one flattening, one set test for links; only a chunk never seen before runs `analyze_chunk`.
    """

    def __init__(self, cache_size: int = 100_000) -> None:
        self._cache: dict[str, Chunk] = {}
        self._tokens: dict[str, tuple[str, ...]] = {}
        self._links: set[str] = set()  # chunks that hold a URL or an e-mail address
        self._cache_size = cache_size

    def chunk(self, chunk: str) -> Chunk:
        info = self._cache.get(chunk)
        if info is None:
            info = analyze_chunk(chunk)
            if len(self._cache) >= self._cache_size:
                # Bounded memory; a cold cache only costs time.
                self._cache.clear()
                self._tokens.clear()
                self._links.clear()
            self._cache[chunk] = info
            self._tokens[chunk] = info.tokens
            if info.links:
                self._links.add(chunk)
        return info

    def analyze(self, text: str) -> Analysis:
        chunks = text.split()
        per_chunk = list(map(self._tokens.get, chunks))
        try:
            tokens = list(chain.from_iterable(per_chunk))  # type: ignore[arg-type]
        except TypeError:  # a chunk never seen before (None in per_chunk): analyze just those
            tokens = list(chain.from_iterable(
                known if known is not None else self.chunk(chunk).tokens
                for known, chunk in zip(per_chunk, chunks, strict=True)))
        links = not self._links.isdisjoint(chunks)
        joined = not _SINGLES.isdisjoint(tokens) and _adjacent_singles(tokens) and _join_singles(tokens, None)
        return Analysis(text, tokens, links, joined, self.chunk, chunks)


# ---------------------------------------------------------------------------------------------
# Phrase matching over tokens (exact, whole words) and fuzzy matching of single words


# One occurrence: (payload, phrase as written in the config, first token, last token). A plain tuple,
# not a NamedTuple: common words ("order", "you") make several per item.
PhraseHit = tuple[T, str, int, int]


@dataclass(slots=True)
class PhraseIndex(Generic[T]):
    """Whole-word phrases (one or more words) found with one set intersection per item.

    One-word phrases are keyed by their word, longer ones by their first two words, so the cost per
    item does not grow with the number of phrases: only the item's words that start some phrase are
    looked at, and a common first word ("you", "sale") only leads to the phrases that go on alike.
    """

    _single: dict[str, list[tuple[str, T]]] = field(default_factory=dict)
    _multi: dict[tuple[str, str], list[tuple[tuple[str, ...], str, T]]] = field(default_factory=dict)
    firsts: frozenset[str] = frozenset()
    _count: int = 0

    def add(self, phrase: str, payload: T) -> bool:
        """Index `phrase`; False when it normalizes to nothing (only punctuation or emoji)."""
        words = tuple(tokens_of(phrase))
        if not words:
            return False
        if len(words) == 1:
            self._single.setdefault(words[0], []).append((phrase, payload))
        else:
            self._multi.setdefault((words[0], words[1]), []).append((words, phrase, payload))
        self.firsts = self.firsts | {words[0]}
        self._count += 1
        return True

    def __len__(self) -> int:
        return self._count

    def find(self, analysis: Analysis) -> list[PhraseHit[T]]:
        """Every occurrence of every phrase, in text order."""
        starts = self.firsts.intersection(analysis.tokens)
        if not starts:
            return []
        tokens = analysis.tokens
        last = len(tokens) - 1
        single, multi = self._single, self._multi
        hits: list[PhraseHit[T]] = []
        for index in [i for i, token in enumerate(tokens) if token in starts]:
            token = tokens[index]
            for phrase, payload in single.get(token, ()):
                hits.append((payload, phrase, index, index))
            if index < last:
                for words, phrase, payload in multi.get((token, tokens[index + 1]), ()):
                    end = index + len(words)
                    if len(words) == 2 or tuple(tokens[index:end]) == words:
                        hits.append((payload, phrase, index, end - 1))
        return hits


@dataclass(slots=True)
class FuzzyIndex(Generic[T]):
    """Near-misspellings of single words (rapidfuzz ratio), each term with its own threshold.

    A word is compared only with terms of a compatible length (a ratio of t% bounds the length
    difference), and only once: results are remembered per word (bounded).
    """

    min_length: int = 5
    cache_size: int = 200_000
    _terms: list[tuple[str, str, int, T]] = field(default_factory=list)  # normalized, as written, threshold, payload
    _by_length: dict[int, list[int]] = field(default_factory=dict)
    _choices: dict[int, list[str]] = field(default_factory=dict)  # the candidates' normalized terms, per length
    _floor: int = 100
    _cache: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    def add(self, term: str, threshold: int, payload: T, *, min_length: int = 5) -> bool:
        """Index `term` for near-misses; False when it is too short or several words (exact matching only)."""
        words = tokens_of(term)
        if len(words) != 1 or len(words[0]) < min_length:
            return False
        word = words[0]
        self.min_length = min(self.min_length, min_length) if self._terms else min_length
        self._terms.append((word, term, threshold, payload))
        self._floor = min(self._floor, threshold)
        slack = int(len(word) * (100 - threshold) / max(threshold, 1)) + 1
        for n in range(max(1, len(word) - slack), len(word) + slack + 1):
            self._by_length.setdefault(n, []).append(len(self._terms) - 1)
            self._choices.setdefault(n, []).append(word)
        return True

    def hits(self, word: str) -> list[tuple[int, float]]:
        """(term index, score) of every term `word` is a near-miss of, at that term's threshold or above."""
        found = self._cache.get(word)
        if found is not None:
            return found
        found = []
        candidates = self._by_length.get(len(word))
        if candidates and len(word) >= self.min_length and word.isalpha():
            for _, score, pos in process.extract(word, self._choices[len(word)], scorer=fuzz.ratio,
                                                 score_cutoff=self._floor, limit=None):
                index = candidates[pos]
                if score >= self._terms[index][2]:
                    found.append((index, float(score)))
        if len(self._cache) >= self.cache_size:
            self._cache.clear()  # bounded memory; a cold cache only costs time
        self._cache[word] = found
        return found

    def term(self, index: int) -> tuple[str, T]:
        """(term as written, payload)."""
        _, written, _, payload = self._terms[index]
        return written, payload

    def __len__(self) -> int:
        return len(self._terms)


# ---------------------------------------------------------------------------------------------
# Look-alike handles


# Look-alikes a reader does not tell apart in a handle: letter pairs first (`cl` before `l`), then single characters.
_SKELETON_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_SKELETON_CHARS = str.maketrans({"l": "i", "0": "o", "1": "i", "2": "z", "3": "e", "4": "a", "5": "s", "7": "t",
                                 "8": "b", "9": "g"})
_SEPARATORS = re.compile(r"[\W_]+")
_ANY_REPEAT = re.compile(r"(.)\1+")


_ASCII_SEPARATORS = str.maketrans("|", "l", "".join(chr(c) for c in range(128) if not chr(c).isalnum() and c != 124))


def skeleton(name: str) -> str:
    """A handle as a reader sees it: folded, look-alikes merged (`rn`=`m`, `0`=`o`), separators and repeats gone."""
    base = fold(name).strip().lstrip("@").split("@")[0]  # Mastodon's user@instance: the user part
    # `|` is not a word character: make it the l it mimics; drop the rest (translate for ASCII, it's faster).
    out = base.translate(_ASCII_SEPARATORS) if base.isascii() else _SEPARATORS.sub("", base.replace("|", "l"))
    for a, b in _SKELETON_PAIRS:
        if a in out:
            out = out.replace(a, b)
    return _ANY_REPEAT.sub(_first, out.translate(_SKELETON_CHARS))


# ---------------------------------------------------------------------------------------------
# Cheap pre-checks for the charter's regexes


def required_literals(pattern: str, flags: int = 0) -> tuple[str, ...] | None:
    """Lower-case strings one of which every match of `pattern` contains, or None when there is no useful set.

    A regex that starts with `\\b` or a group cannot use the regex engine's fast literal scan, and then
    costs several microseconds per item; `lit in guard_text(text)` costs a tenth of that. Only literals
    of two characters or more, in ASCII or Latin-1 letters (whose IGNORECASE twins are their upper and
    lower cases, which casefold() merges), are used; `guard_text` maps the few other characters that
    IGNORECASE equates with ASCII letters (ı, ſ, İ, K), so the check never rejects a text that matches.
    """
    try:
        parsed = _sre_parser.parse(pattern, flags)
    except re.error:
        return None
    best: tuple[str, ...] | None = None
    for requirement in _requirements(list(parsed)):
        if all(len(s) >= 2 and all(ord(c) < 0x80 or 0xC0 <= ord(c) <= 0xFF for c in s) for s in requirement):
            key = (min(map(len, requirement)), -len(requirement))
            if best is None or key > (min(map(len, best)), -len(best)):
                best = tuple(sorted(requirement))
    return best


def _requirements(items: list[tuple[object, object]]) -> list[set[str]]:
    found: list[set[str]] = []
    run: list[str] = []

    def close() -> None:
        if run:
            found.append({"".join(run).casefold()})
            run.clear()

    for op, av in items:
        if op is _sre.LITERAL and isinstance(av, int):
            run.append(chr(av))
            continue
        close()
        if op is _sre.BRANCH and isinstance(av, tuple):
            firsts = set()
            for alternative in av[1]:
                lead = []
                for sub_op, sub_av in alternative:
                    if sub_op is not _sre.LITERAL or not isinstance(sub_av, int):
                        break
                    lead.append(chr(sub_av))
                if not lead:
                    firsts = set()
                    break
                firsts.add("".join(lead).casefold())
            if firsts:
                found.append(firsts)
        elif op is _sre.SUBPATTERN and isinstance(av, tuple):
            found.extend(_requirements(list(av[3])))
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and isinstance(av, tuple) and av[0] >= 1:
            found.extend(_requirements(list(av[2])))
    close()
    return found


# Non-ASCII characters that re.IGNORECASE equates with an ASCII letter, but str.casefold() does not.
_IGNORECASE_TWINS = str.maketrans({"ı": "i", "İ": "i", "ſ": "s", "K": "k"})
_HAS_TWIN = re.compile("[ıİſK]")


def guard_text(text: str) -> str:
    """The text `required_literals` strings are looked for in."""
    if text.isascii():
        return text.lower()
    if _HAS_TWIN.search(text):
        text = text.translate(_IGNORECASE_TWINS)
    return text.casefold()
