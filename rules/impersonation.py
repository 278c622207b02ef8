"""Impersonation watch: authors whose handle or display name is a near copy of the brand's own.

Handles are compared by *skeleton* (`rules/match.py`: folded, homoglyphs and look-alike letters
merged, separators and repeats dropped), so `rnaison_lumen`, `Maison.Lumen` and `mаisonlumen` (Cyrillic
а) all read as `maisonlumen`. A flag is raised when the skeleton equals the brand's, is within the
rapidfuzz `threshold`, or is the brand's plus an official-sounding word (`maisonlumen_support`).
The brand's own accounts and the `allow` list are never flagged. The decision is the team's: this
only flags.
"""

from __future__ import annotations

from typing import NamedTuple

from rapidfuzz import fuzz, process

from rules.match import skeleton

# Words fraudsters add to a brand's name to look official (after skeleton(): l->i, 0->o...).
_OFFICIAL = tuple(skeleton(w) for w in (
    "support", "officiel", "official", "off", "help", "aide", "sav", "service", "client", "clients", "care", "team",
    "equipe", "france", "fr", "hq", "info", "contact", "shop", "store", "boutique", "promo", "jeu", "concours",
    "giveaway", "win", "cadeau", "cadeaux", "gift", "rewards", "assistance", "helpdesk", "customer"))


class ImpersonationFlag(NamedTuple):
    """An author who looks like the brand: which field, its value, the brand name it copies, and how close."""

    field: str  # author_handle | author_name
    value: str
    lookalike_of: str
    score: float
    action: tuple[str, ...]
    severity: str

    @property
    def reason(self) -> str:
        what = self.field.removeprefix("author_")
        return f"{what} {self.value!r} looks like {self.lookalike_of!r} ({self.score:.0f}%)"


class ImpersonationWatch:
    """Compiled watch: brand skeletons, official accounts, and a bounded cache per (handle, name)."""

    def __init__(self, names: list[str], *, allow: list[str], threshold: int, action: tuple[str, ...],
                 severity: str, cache_size: int = 50_000) -> None:
        self._brands: dict[str, str] = {}
        for name in names:
            key = skeleton(name)
            if len(key) >= 4:
                self._brands.setdefault(key, name)
        self._keys = list(self._brands)
        self._official = {self._account(n) for n in [*names, *allow]}
        self._threshold = threshold
        self._action = action
        self._severity = severity
        self._cache: dict[tuple[str, str | None], ImpersonationFlag | None] = {}
        self._cache_size = cache_size

    @staticmethod
    def _account(name: str) -> str:
        # Exact but for case: a homoglyph copy of an official handle is precisely what must not pass.
        return name.strip().lstrip("@").casefold()

    def _score(self, key: str) -> tuple[str, float] | None:
        """The brand name a skeleton copies, and how closely; None when it copies none."""
        if len(key) < 4:
            return None
        brand = self._brands.get(key)
        if brand is not None:
            return brand, 100.0
        found = process.extractOne(key, self._keys, scorer=fuzz.ratio, score_cutoff=self._threshold)
        if found is not None:
            return self._brands[found[0]], float(found[1])
        for brand_key in self._keys:
            if brand_key in key:  # the brand's name plus an official-sounding word: maisonlumen_support
                rest = key.replace(brand_key, "", 1)
                if rest in _OFFICIAL or len(rest) <= 2:
                    return self._brands[brand_key], 95.0
        return None

    def check(self, handle: str, name: str | None) -> ImpersonationFlag | None:
        """A flag when the handle, or else the display name, copies the brand's; None for the brand itself."""
        cache_key = (handle, name)
        if cache_key in self._cache:
            return self._cache[cache_key]
        flag = None
        if handle and self._account(handle) not in self._official:
            handle_key = skeleton(handle)
            found = self._score(handle_key)
            if found:
                flag = ImpersonationFlag("author_handle", handle, found[0], found[1], self._action, self._severity)
            elif name:
                name_key = skeleton(name)
                found = self._score(name_key) if name_key != handle_key else None  # reads as the handle: no news
                if found:
                    flag = ImpersonationFlag("author_name", name, found[0], found[1], self._action, self._severity)
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[cache_key] = flag
        return flag
