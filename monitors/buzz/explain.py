"""What drives a spike, from the items themselves: terms, authors (influencers first) and examples.

The detector works on counts; when an episode opens, the incident layer loads the episode's items and
a background sample (the same hours of the previous days, say) from the store and calls `drivers`.
Everything here is a pure function of those items.

Terms are ranked by how over-represented they are among the spike's negative items compared with the
background (smoothed log-odds), so the brand's name -- everywhere, all the time -- does not top the list.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

_WORD = re.compile(r"[#@]?[^\W\d_][\w'’-]{2,}", re.UNICODE)
# Function words in the languages the bot ships with; enough to keep them off the top of the list.
_STOPWORDS = frozenset("""
the and for are but not you your with this that have has had was were will would can could just from
they them their there what when where which who why how all any our out about into than then too very
more most some such only own same its it's i'm im dont don't didn't cant can't won't been being also
les des une est pas pour que qui dans sur avec mais plus vous nous ils elles ont sont tout tous cette
ces son ses leur leurs par aux comme fait faire été etre être très bien encore
""".split())


class Item(Protocol):
    """What `drivers` needs to know about a mention or comment (the store's rows fit, via a thin adapter)."""

    @property
    def text(self) -> str: ...

    @property
    def author(self) -> str: ...

    @property
    def network(self) -> str: ...

    @property
    def negative(self) -> bool: ...

    @property
    def followers(self) -> int | None: ...

    @property
    def influencer(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class AuthorDriver:
    author: str
    network: str
    items: int
    negative: int
    followers: int | None
    influencer: bool


@dataclass(frozen=True, slots=True)
class Drivers:
    """The explanation of a spike that counts cannot give."""

    terms: tuple[str, ...]
    authors: tuple[AuthorDriver, ...]
    examples: tuple[Item, ...]
    networks: tuple[tuple[str, int], ...]  # (network, negative items), most first


def terms_of(text: str) -> list[str]:
    """The words, hashtags and handles of a text, lowercased, without function words."""
    return [w.lower() for w in _WORD.findall(text) if w.lower() not in _STOPWORDS]


def drivers(spike: Sequence[Item], background: Iterable[Item] = (), *, max_terms: int = 5, max_authors: int = 5,
            max_examples: int = 3) -> Drivers:
    """Explain a spike from its items: over-represented terms, authors (influencers first), examples."""
    focus = [i for i in spike if i.negative] or list(spike)
    usual = list(background)
    # Document frequencies: a term counts once per item, so one long rant does not make a trend.
    spike_terms = Counter(t for i in focus for t in set(terms_of(i.text)))
    background_terms = Counter(t for i in usual for t in set(terms_of(i.text)))
    n_spike, n_background = len(focus), len(usual)

    def over_representation(term: str) -> float:
        # Log-odds of the term in the spike against the background, with add-one smoothing.
        a = (spike_terms[term] + 1) / (n_spike + 2)
        b = (background_terms[term] + 1) / (n_background + 2)
        return math.log(a / (1 - a)) - math.log(b / (1 - b))

    # A term must come up more than once, and (given a background) more often than usual, to be a driver;
    # ties go to the more frequent, then alphabetical.
    candidates = [t for t, c in spike_terms.items() if c >= 2 and (not usual or over_representation(t) > 0)]
    terms = sorted(candidates, key=lambda t: (-over_representation(t), -spike_terms[t], t))[:max_terms]

    by_author: dict[tuple[str, str], list[Item]] = {}
    for item in spike:
        by_author.setdefault((item.network, item.author), []).append(item)
    authors = [AuthorDriver(author=a, network=n, items=len(its), negative=sum(1 for i in its if i.negative),
                            followers=max((i.followers or 0 for i in its), default=0) or None,
                            influencer=any(i.influencer for i in its))
               for (n, a), its in by_author.items()]
    authors.sort(key=lambda d: (not d.influencer, -d.negative, -(d.followers or 0), -d.items, d.author))

    examples = sorted(focus, key=lambda i: (not i.influencer, -(i.followers or 0), i.author))[:max_examples]
    networks = Counter(i.network for i in focus)
    return Drivers(terms=tuple(terms), authors=tuple(authors[:max_authors]), examples=tuple(examples),
                   networks=tuple(sorted(networks.items(), key=lambda kv: (-kv[1], kv[0]))))
