"""The charter engine: which clauses an item breaks, and exactly which span of its text shows it.

Semantics: every clause runs on every item (fan-out) and every breach is reported with the clause,
the span of the original text (`text[start:end] == matched`) and how it matched, so a human can judge
it in one look. Matchers, cheapest first: terms (exact whole words after normalization, see
`rules/match.py`), near-misspellings (rapidfuzz, per-clause threshold), regexes, built-in detectors
(e-mail, phone numbers, IBAN, card numbers with a Luhn check, link shorteners) and coordinated
campaigns (`rules/campaign.py`). At most `MAX_PER_CLAUSE` breaches are kept per clause and item.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import compress
from typing import NamedTuple

from rules.campaign import CampaignWindow
from rules.match import (
    Analysis,
    FuzzyIndex,
    PhraseHit,
    PhraseIndex,
    guard_text,
    required_literals,
    tokens_of,
)
from rules.schema import Campaign, Clause

MAX_PER_CLAUSE = 10
_NOTHING: frozenset[int] = frozenset()
_NO_WORDS: frozenset[str] = frozenset()


class ChunkFacts(NamedTuple):
    """What one whitespace-delimited chunk brings to the charter's pre-checks."""

    parts: frozenset[int]  # regex pre-check parts it contains
    near: frozenset[str]  # its words that are near-misses of some term
    digits: int



# Public link shorteners: a shortened link hides where it leads, the usual vehicle of scams and spam.
# t.co is absent on purpose: X wraps every link in it.
SHORTENERS = frozenset("""
bit.ly bitly.com tinyurl.com goo.gl ow.ly is.gd buff.ly cutt.ly rebrand.ly shorturl.at tiny.cc rb.gy
s.id t.ly v.gd bl.ink lnkd.in trib.al soo.gd clck.ru shorte.st adf.ly bc.vc ouo.io linktr.ee
qrco.de tr.im x.co short.io t2m.io urlz.fr
""".split())


class Violation(NamedTuple):
    """One breach: the clause, what to do, and the evidence (`matched` is `text[start:end]`)."""

    clause_id: str
    title: str
    severity: str
    action: tuple[str, ...]
    start: int
    end: int
    matched: str
    how: str


# ---------------------------------------------------------------------------------------------
# Built-in detectors: (start, end, label) over the original text


_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+|00)33[\s.-]?(?:\(0\)[\s.-]?)?[1-9](?:[\s.-]?\d{2}){4}"  # France, international form
    r"|0[1-9](?:[\s.-]?\d{2}){4}"  # France, national form
    r"|(?:\+|00)[1-9]\d{0,2}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){2,5}"  # E.164-ish
    r"|\(\d{3}\)\s?\d{3}[\s.-]\d{4}"  # North American (555) 123-4567
    r")(?![\w])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_HAS_NUMBER = re.compile(r"\d[\d\s.()/-]{5,}\d")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every payment card number carries."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97 must be 1."""
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def find_phones(text: str) -> Iterator[tuple[int, int, str]]:
    for m in _PHONE.finditer(text):
        digits = sum(c.isdigit() for c in m.group())
        if 8 <= digits <= 15:
            yield m.start(), m.end(), "phone number"


def find_ibans(text: str) -> Iterator[tuple[int, int, str]]:
    for m in _IBAN.finditer(text):
        if iban_ok(m.group()):
            yield m.start(), m.end(), "IBAN"


def find_cards(text: str) -> Iterator[tuple[int, int, str]]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
            yield m.start(), m.end(), "card number (Luhn check passed)"


NUMBER_DETECTORS: dict[str, Callable[[str], Iterator[tuple[int, int, str]]]] = {
    "phone": find_phones, "iban": find_ibans, "card": find_cards}


def link_domain(url: str) -> str:
    """'https://www.bit.ly/x?y' -> 'bit.ly'."""
    rest = url.split("://", 1)[-1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].split("@")[-1].split(":")[0]
    return host.removeprefix("www.")


# ---------------------------------------------------------------------------------------------
# The engine


@dataclass(frozen=True, slots=True)
class _Clause:
    index: int
    id: str
    title: str
    severity: str
    action: tuple[str, ...]
    allowed: frozenset[str]  # normalized `except` words
    # Each regex with its pre-check: literals one of which any match contains, each as the indexes of its
    # whitespace-free parts in `CharterEngine._parts` (None: no pre-check, the regex runs on every text).
    regexes: tuple[tuple[re.Pattern[str], tuple[tuple[int, ...], ...] | None], ...]
    numbers: tuple[str, ...]  # phone, iban, card
    email: bool
    shorteners: frozenset[str] | None
    campaign: Campaign | None
    languages: frozenset[str] | None

    def violation(self, text: str, start: int, end: int, how: str) -> Violation:
        return Violation(self.id, self.title, self.severity, self.action, start, end, text[start:end], how)


Report = Callable[[tuple[object, ...], str], None]


class CharterEngine:
    """Compiled charter: one phrase index for every clause's terms, one fuzzy index, regexes, detectors."""

    def __init__(self, clauses: list[Clause], report: Report, phrases: PhraseIndex[int] | None = None) -> None:
        """`phrases`: an index to share with the conditions' keywords (terms go in under the clause index)."""
        self._parts: list[str] = []  # the regexes' pre-check literals, cut at whitespace
        self._seen: set[str] = set()  # chunks already looked at
        self._notable: set[str] = set()  # ... that bring something
        self._by_chunk: dict[str, ChunkFacts] = {}  # ... and what
        self.clauses: list[_Clause] = []
        self.terms: PhraseIndex[int] = phrases if phrases is not None else PhraseIndex()
        self.fuzzy: FuzzyIndex[int] = FuzzyIndex()
        single_words: set[str] = set()
        for index, clause in enumerate(clauses):
            for t, term in enumerate(clause.terms):
                if not self.terms.add(term, index):
                    report((index, "terms", t), f"term {term!r} has no letters or digits to match; remove it")
                    continue
                words = tokens_of(term)
                if len(words) == 1:
                    single_words.add(words[0])
                if clause.fuzzy is not None:
                    self.fuzzy.add(term, clause.fuzzy, index, min_length=clause.fuzzy_min_length)
            regexes = []
            for r, pattern in enumerate(clause.regex):
                try:
                    compiled = re.compile(pattern, re.IGNORECASE)
                except re.error as exc:
                    report((index, "regex", r), f"not a valid regular expression: {exc}; fix it (Python re syntax)")
                    continue
                needs = required_literals(pattern, re.IGNORECASE)
                regexes.append((compiled, tuple(tuple(self._part(p) for p in literal.split()) for literal in needs)
                                if needs else None))
            allowed = frozenset(w for word in clause.except_ for w in tokens_of(word))
            shorteners = None
            if "shortener" in clause.detect:
                shorteners = SHORTENERS | {link_domain(d.lower()) for d in clause.shorteners}
            self.clauses.append(_Clause(
                index, clause.id, clause.title, clause.severity, tuple(clause.action), allowed, tuple(regexes),
                tuple(d for d in clause.detect if d in NUMBER_DETECTORS), "email" in clause.detect, shorteners,
                clause.campaign, frozenset(clause.languages) if clause.languages else None))
        self._single_words = frozenset(single_words)  # exact one-word terms: no near-miss search for them
        self._gated = all(needs is not None for c in self.clauses for _, needs in c.regexes)
        self._any_part = re.compile("|".join(map(re.escape, self._parts))) if self._parts else None
        self._by_lang: dict[str, tuple[list[_Clause], ...]] = {}
        self._skip_by_lang: dict[str, frozenset[int]] = {}

    def _part(self, text: str) -> int:
        if text not in self._parts:
            self._parts.append(text)
        return self._parts.index(text)

    def _learn(self, chunk: str, analysis: Analysis) -> None:
        """Work out, once per distinct chunk, what it brings to the pre-checks; remember only what is not nothing
        (`guard_text` is per character and folding per chunk, so per chunk is exact)."""
        if len(self._seen) >= 100_000:  # bounded memory; a cold cache only costs time
            self._seen.clear()
            self._notable.clear()
            self._by_chunk.clear()
        self._seen.add(chunk)
        low = guard_text(chunk)
        # The indexes of the parts found in the chunk (`part in low` for each, in C: common words hit "out").
        parts = (frozenset(compress(range(len(self._parts)), map(low.__contains__, self._parts)))
                 if self._any_part is not None and self._any_part.search(low) else _NOTHING)
        fuzzy = self.fuzzy
        near = frozenset(t for t in analysis.chunk(chunk).tokens if fuzzy.hits(t)) if len(fuzzy) else _NO_WORDS
        digits = 0 if chunk.isalpha() else sum(map(str.isdigit, chunk))  # a letter is never a digit
        if parts or near or digits:
            self._notable.add(chunk)
            self._by_chunk[chunk] = ChunkFacts(parts, near, digits)

    def _facts(self, analysis: Analysis) -> tuple[frozenset[int], frozenset[str], int]:
        """(pre-check parts, words with near-misses, digits) over the text, from what its chunks bring.

        Most chunks bring nothing, and only the notable ones are looked at: set operations, no loop.
        """
        chunks = analysis.chunks
        if not self._seen.issuperset(chunks):
            for chunk in set(chunks).difference(self._seen):
                self._learn(chunk, analysis)
        notable = self._notable.intersection(chunks)
        near: frozenset[str] = _NO_WORDS
        if analysis.joined and len(self.fuzzy):  # words joined across chunks (`c o n n a r d`) are new words
            near = frozenset(t for t in analysis.tokens if self.fuzzy.hits(t))
        if not notable:
            return _NOTHING, near, 0
        facts = [(self._by_chunk[c], c) for c in notable]
        return (_NOTHING.union(*[f.parts for f, _ in facts]), near.union(*[f.near for f, _ in facts]),
                sum(f.digits * chunks.count(c) for f, c in facts if f.digits))  # every occurrence counts

    def _for(self, lang: str) -> tuple[list[_Clause], ...]:
        """The regex, number, mark and campaign clauses that apply to items in `lang`."""
        found = self._by_lang.get(lang)
        if found is None:
            live = [c for c in self.clauses if c.languages is None or lang in c.languages]
            found = ([c for c in live if c.regexes], [c for c in live if c.numbers],
                     [c for c in live if c.email or c.shorteners is not None],
                     [c for c in live if c.campaign is not None])
            self._by_lang[lang] = found
            self._skip_by_lang[lang] = frozenset(c.index for c in self.clauses if c not in live)
        return found

    def check(self, analysis: Analysis, *, lang: str, author: object, at: datetime, campaigns: CampaignWindow | None,
              hits: list[PhraseHit[int]] | None = None) -> list[Violation]:
        """Every breach of every clause that applies to `lang`, in clause order then text order.

        `hits`: the shared phrase index's hits for this item, when the caller searched it already.
        """
        text = analysis.text
        regex_clauses, number_clauses, mark_clauses, campaign_clauses = self._for(lang)
        skip = self._skip_by_lang[lang]
        clauses = self.clauses
        raw: list[tuple[int, int, int, str]] = []  # clause index, start, end, how
        if hits is None:
            hits = self.terms.find(analysis)
        present, near_words, digits = self._facts(analysis)
        near = near_words - self._single_words if near_words else near_words  # exact one-word terms: matched
        if hits or near:
            tokens = analysis.tokens
            # (clause, token) already reported: two terms of a clause can normalize alike (enfoiré, enfoirée).
            seen: set[tuple[int, int]] = set()
            for index, phrase, first, last in hits:
                if index < 0:
                    continue  # a condition keyword sharing the index
                allowed = clauses[index].allowed
                if index in skip or (index, first) in seen or (allowed and tokens[first] in allowed):
                    continue
                seen.add((index, first))
                raw.append((index, *analysis.span(first, last), f"term '{phrase}'"))
            if near:
                for position, word in enumerate(tokens):
                    if word not in near:
                        continue
                    for term_index, score in self.fuzzy.hits(word):
                        term, index = self.fuzzy.term(term_index)
                        if index in skip or (index, position) in seen or word in clauses[index].allowed:
                            continue
                        seen.add((index, position))
                        raw.append((index, *analysis.span(position, position), f"near-miss of '{term}' ({score:.0f}%)"))
        # A literal of a regex's match is a run of whitespace-free parts of the text's chunks: a text
        # without every part of any literal cannot match, and most texts skip every regex this way.
        if regex_clauses and self._gated and not present:
            regex_clauses = []
        for clause in regex_clauses:
            for pattern, needs in clause.regexes:
                if needs is not None and not any(present.issuperset(literal) for literal in needs):
                    continue
                for m in pattern.finditer(text):
                    raw.append((clause.index, m.start(), m.end(), f"regex /{pattern.pattern}/"))
        # Phone numbers, cards and IBANs all have 8 digits or more (the shortest IBAN has 12).
        if number_clauses and digits >= 8 and _HAS_NUMBER.search(text):
            for clause in number_clauses:
                for name in clause.numbers:
                    for start, end, label in NUMBER_DETECTORS[name](text):
                        raw.append((clause.index, start, end, label))
        if mark_clauses and analysis.has_links:
            for mark in analysis.marks():
                for clause in mark_clauses:
                    if mark.kind == "email" and clause.email:
                        raw.append((clause.index, mark.start, mark.end, "e-mail address"))
                    elif mark.kind == "url" and clause.shorteners is not None:
                        domain = link_domain(mark.value)
                        if domain in clause.shorteners:
                            raw.append((clause.index, mark.start, mark.end, f"link shortener {domain}"))
        if campaigns is not None:
            for clause in campaign_clauses:
                if clause.campaign is not None:
                    hit = campaigns.observe(clause.id, clause.campaign, author=author, words=analysis.tokens, at=at)
                    if hit is not None:
                        raw.append((clause.index, 0, len(text), hit.describe()))
        if not raw:
            return []
        raw.sort(key=lambda r: (r[0], r[1]))
        found: list[Violation] = []
        per_clause: dict[int, int] = {}
        for index, start, end, how in raw:
            count = per_clause.get(index, 0)
            if count < MAX_PER_CLAUSE and start < end:
                per_clause[index] = count + 1
                found.append(clauses[index].violation(text, start, end, how))
        return found
