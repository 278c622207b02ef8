"""Routing: which responsibility owns a mention, who gets it, in which channel, and why.

Semantics: responsibilities are tried in config order and the first match wins; a mention no
responsibility claims goes to the triage channel and the fallback owner. Every decision carries
its reason in words a team member can read on the card.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.workspace import Responsibility, Workspace


@dataclass(frozen=True, slots=True)
class Route:
    responsibility: str | None
    owner: str | None
    channel: str
    reason: str


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'Livraison' and 'livraisón' match 'livraison'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=256)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    if not keywords:
        return None
    alternatives = "|".join(re.escape(fold(k)) for k in sorted(keywords, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def _matches(resp: Responsibility, *, text: str, network: str, sentiment: str) -> str | None:
    """Return the reason `resp` claims the mention, or None."""
    if resp.networks and network not in resp.networks:
        return None
    if resp.sentiment and sentiment != resp.sentiment:
        return None
    reasons = []
    pattern = _keyword_pattern(tuple(resp.keywords))
    if pattern is not None:
        found = pattern.search(fold(text))
        if not found:
            return None
        reasons.append(f"keyword '{found.group(0)}'")
    if resp.sentiment:
        reasons.append(resp.sentiment)
    if resp.networks:
        reasons.append(network)
    return ", ".join(reasons) or "matches every item"


def route(workspace: Workspace, *, text: str, network: str, sentiment: str) -> Route:
    """Decide the owner of one mention (first matching responsibility wins)."""
    for resp in workspace.responsibilities:
        reason = _matches(resp, text=text, network=network, sentiment=sentiment)
        if reason is not None:
            return Route(resp.name, resp.owners[0], resp.channel or workspace.channels.triage,
                         f"{resp.name}: {reason}")
    return Route(None, workspace.fallback_owner, workspace.channels.triage,
                 "no responsibility matched: triage" + (" (fallback owner)" if workspace.fallback_owner else ""))
