"""Flood control: when a channel's backlog of unposted cards grows past what Slack's pace can clear,
fold near-duplicate cards into digest cards ("37 negative mentions about 'livraison' in 10 min").

Nothing is dropped: every mention stays in the store and the KPIs, each folded card row keeps its
place (status `digested`, pointing at its digest), and "Show all" on the digest posts them in its thread.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapidfuzz import fuzz, process, utils
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot import models
from bot.db import session_scope

# Words that say nothing about what a flood is about (FR + EN), for the digest's headline term.
STOPWORDS = frozenset("""
the and for you your with this that have has are was were not but all any can our out just what when
still from they them their there here about been will would could should into over more very really
les des une pour pas que qui est sur avec vous votre vos nous mais plus tout tous comme dans elle ils
sont être fait faire cette ces mes mon ton son ses leur leurs aux par chez depuis encore toujours
""".split())
_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)


@dataclass(frozen=True, slots=True)
class FloodPolicy:
    threshold: int = 20  # unposted cards in one channel before folding starts
    similarity: int = 75  # rapidfuzz token_set_ratio for two texts to count as the same complaint
    min_group: int = 3  # fewer near-duplicates than this stay individual cards
    window: timedelta = timedelta(minutes=10)  # a digest keeps absorbing its topic for this long
    update_every: timedelta = timedelta(seconds=30)  # a growing digest is re-rendered at most this often
    max_scan: int = 2000  # cards examined per channel per pass (bounded work during a flood)


def headline_term(texts: Sequence[str], *, ignore: frozenset[str] = frozenset()) -> str | None:
    """The word most texts share (by document frequency), if at least a third of them share it."""
    counts: Counter[str] = Counter()
    for text in texts:
        words = {w.casefold() for w in _WORD.findall(text)} - STOPWORDS - ignore
        counts.update(words)
    if not counts:
        return None
    term, n = counts.most_common(1)[0]
    return term if n * 3 >= len(texts) else None


def cluster(texts: Sequence[str], keys: Sequence[str], *, similarity: int) -> list[list[int]]:
    """Greedy leader clustering: each text joins the first cluster (same key) whose leader it resembles."""
    leaders: dict[str, list[tuple[str, int]]] = {}
    groups: list[list[int]] = []
    for index, (text, key) in enumerate(zip(texts, keys, strict=True)):
        processed = utils.default_process(text)
        bucket = leaders.setdefault(key, [])
        match = process.extractOne(processed, [t for t, _ in bucket], scorer=fuzz.token_set_ratio,
                                   score_cutoff=similarity) if bucket and processed else None
        if match is None:
            bucket.append((processed, len(groups)))
            groups.append([index])
        else:
            groups[bucket[match[2]][1]].append(index)
    return groups


def _grow(digest: models.OutboxMessage, rows: list[models.OutboxMessage], policy: FloodPolicy,
          now: datetime) -> None:
    digest.payload = {**digest.payload, "mention_ids": [*digest.payload["mention_ids"],
                                                        *(r.mention_id for r in rows)]}
    digest.version += 1
    if digest.status == "sent":
        # Already in Slack: update it in place, at most every `update_every`, however fast the flood grows.
        digest.status, digest.next_attempt_at = "pending", now + policy.update_every
    digest.updated_at = now
    for row in rows:
        row.status, row.digest_key, row.updated_at = "digested", digest.key, now


def fold_floods(engine: Engine, policy: FloodPolicy, *, now: datetime) -> int:
    """Fold unposted cards of flooded channels into digests; returns how many cards were folded.

    A channel floods when its backlog of unposted cards passes `threshold`. Cards join a recent digest of
    the same topic and sentiment if one is open (the digest grows and is updated in place), else
    near-duplicates form new digests; if what is left still overflows, it is folded by sentiment.
    """
    folded = 0
    with session_scope(engine) as session:
        pending_card = (col(models.OutboxMessage.kind) == "card", col(models.OutboxMessage.status) == "pending",
                        col(models.OutboxMessage.ts).is_(None), col(models.OutboxMessage.parent_key).is_(None))
        backlog = dict(session.exec(select(models.OutboxMessage.channel, func.count()).where(*pending_card)
                                    .group_by(models.OutboxMessage.channel)).all())
        for channel, waiting in backlog.items():
            digests = [d for d in session.exec(select(models.OutboxMessage).where(
                models.OutboxMessage.kind == "digest", models.OutboxMessage.channel == channel,
                col(models.OutboxMessage.created_at) >= now - policy.window)).all()
                if not d.payload.get("expanded")]
            if waiting <= policy.threshold and not digests:
                continue
            rows = list(session.exec(select(models.OutboxMessage).where(*pending_card,
                                                                        models.OutboxMessage.channel == channel)
                                     .order_by(col(models.OutboxMessage.id)).limit(policy.max_scan)).all())
            mentions = {m.id: m for m in session.exec(select(models.Mention).where(
                col(models.Mention.id).in_([r.mention_id for r in rows])))}
            texts = [mentions[r.mention_id].text for r in rows]
            labels = [mentions[r.mention_id].sentiment_label for r in rows]
            # 1. Join a digest already open on the same topic (or, for a mixed digest, the same sentiment).
            joined: dict[str, list[int]] = {}
            topical = [d for d in digests if not d.payload.get("mixed")]
            leaders = [(utils.default_process(d.payload.get("leader", "")), d.payload.get("label")) for d in topical]
            free: list[int] = []
            for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
                choices = [lt for lt, ll in leaders if ll == label]
                match = process.extractOne(utils.default_process(text), choices, scorer=fuzz.token_set_ratio,
                                           score_cutoff=policy.similarity) if choices else None
                if match is None:
                    free.append(i)
                    continue
                digest = next(d for d, (lt, ll) in zip(topical, leaders, strict=True)
                              if ll == label and lt == match[0])
                joined.setdefault(digest.key, []).append(i)
            by_key = {d.key: d for d in digests}
            for key, members in joined.items():
                _grow(by_key[key], [rows[i] for i in members], policy, now)
                session.add(by_key[key])
                folded += len(members)
            if len(free) <= policy.threshold:
                continue
            # 2. New digests from near-duplicates among the rest.
            groups = [[free[j] for j in g] for g in cluster([texts[i] for i in free], [labels[i] for i in free],
                                                          similarity=policy.similarity)]
            new_groups = [(g, False) for g in groups if len(g) >= policy.min_group]
            grouped = {i for g, _ in new_groups for i in g}
            leftovers = [i for i in free if i not in grouped]
            # 3. Still overflowing: fold the rest by sentiment (into an open mixed digest when there is one).
            mixed: dict[str, list[int]] = {}
            if len(leftovers) > policy.threshold:
                for i in leftovers:
                    mixed.setdefault(labels[i], []).append(i)
            for label, members in mixed.items():
                open_mixed = next((d for d in digests if d.payload.get("mixed") and d.payload.get("label") == label),
                                  None)
                if open_mixed is not None:
                    _grow(open_mixed, [rows[i] for i in members], policy, now)
                    session.add(open_mixed)
                    folded += len(members)
                elif len(members) >= policy.min_group:
                    new_groups.append((members, True))
            for group, is_mixed in new_groups:
                members_rows = [rows[i] for i in group]
                digest = models.OutboxMessage(
                    key=f"digest:{channel}:{members_rows[0].id}", kind="digest", channel=channel,
                    payload={"mention_ids": [], "leader": texts[group[0]], "label": labels[group[0]],
                             "mixed": is_mixed},
                    next_attempt_at=now, created_at=now, updated_at=now)
                session.add(digest)
                _grow(digest, members_rows, policy, now)
                folded += len(group)
    return folded
