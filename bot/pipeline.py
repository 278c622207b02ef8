"""The pipeline: a `Mention` in, decisions out, then stored with its Slack card in one transaction.

`decide` is a pure function of data (no I/O), so it can be tested and benchmarked alone;
`ingest_page` is the only part that touches the store.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from bot import models
from bot.metrics import observe_ingest
from bot.sentiment import Sentiment, SentimentScorer
from bot.workspace import Workspace
from monitors.sources.base import Mention, OwnPost, Page, PollResult
from rules.routing import Route, route

logger = logging.getLogger(__name__)

ARCHIVED = "archived"  # the status of a backfilled past item: stored for the KPIs, never triaged
LISTENING = "listening"  # the status of a competitor's item (share of voice only), never triaged


@dataclass(frozen=True, slots=True)
class Decisions:
    sentiment: Sentiment
    route: Route
    rules: Any = None  # rules.compile.Decision when a rule set is loaded: violations, engagement, tier


@dataclass(slots=True)
class RulesContext:
    """The rules in force and their coordinated-campaign window (one per process), passed to the pipeline.

    `source` is a compiled `RuleSet`, or a `RulesHolder` whose current rules change on a valid reload.
    """

    source: Any
    campaigns: Any = None  # rules.campaign.CampaignWindow

    @property
    def ruleset(self) -> Any:
        return getattr(self.source, "current", self.source)

    def reload(self) -> list[Any] | None:
        """Reload the rule files (None when the rules are fixed, [] when reloaded, else the problems)."""
        return self.source.reload() if hasattr(self.source, "reload") else None


@dataclass(slots=True)
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    own_posts: int = 0


def decide(mention: Mention, *, workspace: Workspace, scorer: SentimentScorer, rules: RulesContext | None = None,
           now: datetime | None = None, assignment: Any = None, subject: str | None = None) -> Decisions:
    """Score one mention, then apply the charter, engagement and routing rules (or plain routing without rules)."""
    sentiment = scorer.score(mention.text, lang=mention.lang)
    if subject is not None:
        # Competitor listening: scored for share of voice only. No rules (so no task) and no route (so no card):
        # the team does not answer on a competitor's behalf.
        return Decisions(sentiment, Route(None, None, "", f"competitor listening: {subject}"))
    if rules is None:
        return Decisions(sentiment, route(workspace, text=mention.text, network=mention.network,
                                          sentiment=sentiment.label))
    from rules.compile import ItemContext

    item = ItemContext.from_mention(mention, sentiment=sentiment.label, lang=sentiment.lang)
    outcome = rules.ruleset.evaluate(item, now=now or mention.created_at, assignment=assignment,
                                     campaigns=rules.campaigns)
    return Decisions(sentiment, outcome.route, outcome)


# Neither PostgreSQL text nor UTF-8 can hold NUL or a lone surrogate (a broken emoji from a bad decoder): the
# store keeps U+FFFD REPLACEMENT CHARACTER in their place, the documented normalized form of such a text.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_STR_FIELDS = ("network", "external_id", "kind", "author_handle", "text", "author_name", "lang", "permalink",
               "parent_id", "conversation_id")


def storable(value: str) -> str:
    """`value` with NUL and surrogate code points replaced by U+FFFD (the same string when it has none)."""
    if "\x00" not in value and (value.isascii() or not _UNSTORABLE.search(value)):
        return value
    return _UNSTORABLE.sub("\ufffd", value)


def _unstorable(value: Any) -> bool:
    """Whether a JSON value holds a string (or key) that `storable` would change."""
    if isinstance(value, str):
        return storable(value) is not value
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


def _storable_json(value: Any) -> Any:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {_storable_json(k): _storable_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable_json(v) for v in value]
    return value


def sanitize(mention: Mention) -> Mention:
    """Return the mention as the store can hold it on every backend: NUL and lone surrogates become U+FFFD."""
    changes = {}
    for name in _STR_FIELDS:
        value = getattr(mention, name)
        if value is not None and (clean := storable(value)) is not value:
            changes[name] = clean
    if mention.raw and _unstorable(mention.raw):
        changes["raw"] = _storable_json(mention.raw)
    return dataclasses.replace(mention, **changes) if changes else mention


def _author(session: Session, mention: Mention, now: datetime) -> models.Author:
    author = session.exec(
        select(models.Author).where(models.Author.network == mention.network,
                                    models.Author.handle == mention.author_handle)
    ).first()
    if author is None:
        author = models.Author(network=mention.network, handle=mention.author_handle, name=mention.author_name,
                               followers=mention.author_followers, first_seen_at=now, last_seen_at=now)
        session.add(author)
        session.flush()
        return author
    # Keep the freshest profile: follower counts change, and influencer tiers depend on them.
    if mention.author_followers is not None:
        author.followers = mention.author_followers
    if mention.author_name:
        author.name = mention.author_name
    author.last_seen_at = now
    return author


def store(session: Session, mention: Mention, decisions: Decisions, *, source: str,
          now: datetime, calendar_post_id: int | None = None, subject: str | None = None,
          history: bool = False) -> models.Mention | None:
    """Persist a mention, its assignment and its card's outbox row; None if it is already stored.

    `history` (a backfill): the mention and its decisions only, with status "archived" — no assignment, task or
    card, since nobody is to act on past items.
    """
    mention = sanitize(mention)
    exists = session.exec(
        select(models.Mention.id).where(models.Mention.network == mention.network,
                                        models.Mention.external_id == mention.external_id)
    ).first()
    if exists is not None:
        return None
    # A savepoint, so a concurrent insert of the same mention (another replica) only skips this one.
    try:
        with session.begin_nested():
            author = _author(session, mention, now)
            row = models.Mention(
                network=mention.network, external_id=mention.external_id, source=source, kind=mention.kind,
                author_id=author.id, text=mention.text, lang=decisions.sentiment.lang or mention.lang,
                permalink=mention.permalink, parent_id=mention.parent_id, conversation_id=mention.conversation_id,
                created_at=mention.created_at, ingested_at=now, raw=mention.raw,
                sentiment_label=decisions.sentiment.label, sentiment_compound=decisions.sentiment.compound,
                responsibility=decisions.route.responsibility, route_reason=decisions.route.reason,
                calendar_post_id=calendar_post_id, subject=subject,
                # A competitor's item is never in anyone's queue (App Home, triage counts): not "open".
                status=LISTENING if subject is not None else "open",
            )
            if decisions.rules is not None:
                row.rules = _rules_summary(decisions.rules)
            if history:
                row.status = ARCHIVED
            session.add(row)
            session.flush()
            if subject is not None or history:
                return row  # a competitor's item: stored for share of voice, no assignment, no card
            if decisions.rules is not None:
                from bot.services.engagement import store_tasks

                store_tasks(session, row.id or 0, decisions.rules.tasks(created_at=now))
            session.add(models.Assignment(mention_id=row.id, responsibility=decisions.route.responsibility,
                                          owner=decisions.route.owner, reason=decisions.route.reason,
                                          assigned_at=now))
            session.add(models.OutboxMessage(key=f"card:{row.id}", kind="card", channel=decisions.route.channel,
                                             mention_id=row.id, next_attempt_at=now, created_at=now,
                                             updated_at=now))
            session.flush()
    except IntegrityError:
        logger.info("mention %s/%s stored concurrently; skipped", mention.network, mention.external_id)
        return None
    return row


class _PageAssignment:
    """Routing's view of the team for one page: what the store says (`StoreAssignmentState`, each answer read once
    per page), plus the routes of the page's earlier items.

    A page is stored in one go after every item is decided, so the items routed earlier in the page are counted
    here, as the store would count them had each been written before the next was decided.
    """

    def __init__(self, store: Any) -> None:
        self._store = store
        self._added: dict[str, int] = {}  # this page's routes, on top of the store's counts
        self._last: dict[str, str | None] = {}  # latest owner per responsibility: the store's, then this page's

    def is_away(self, owner: str) -> bool:
        return bool(self._store.is_away(owner))

    def open_items(self, owner: str) -> int:
        return self._store.open_items(owner) + self._added.get(owner, 0)

    def last_assigned(self, responsibility: str) -> str | None:
        if responsibility not in self._last:
            self._last[responsibility] = self._store.last_assigned(responsibility)
        return self._last[responsibility]

    def record(self, route: Route) -> None:
        if route.owner is not None:
            self._added[route.owner] = self._added.get(route.owner, 0) + 1
        if route.responsibility is not None:
            self._last[route.responsibility] = route.owner


_AUTHORS = models.Author.__table__  # type: ignore[attr-defined]
_MENTIONS = models.Mention.__table__  # type: ignore[attr-defined]


@functools.cache
def _by_key_statement(table: Any, key: str, groups: int) -> Any:
    """`SELECT id, network, <key> FROM table WHERE (network = :net_0 AND <key> IN :keys_0) OR ...`, one group per
    network, so both databases search their (network, key) index. Built once per shape and filled by parameters:
    building SQLAlchemy expressions costs more than running the query (~0.3 ms a statement, 4 a page)."""
    network, column = table.c.network, table.c[key]
    return select(table.c.id, network, column).where(or_(*(
        and_(network == bindparam(f"net_{i}"), column.in_(bindparam(f"keys_{i}", expanding=True)))
        for i in range(groups))))


def _by_key(session: Session, table: Any, key: str, pairs: Iterable[tuple[str, str]]) -> list[tuple[int, str, str]]:
    """(id, network, key) of the rows of `table` whose (network, key) is one of `pairs`: one query."""
    grouped: dict[str, set[str]] = {}
    for network, value in pairs:
        grouped.setdefault(network, set()).add(value)
    if not grouped:
        return []
    params: dict[str, Any] = {}
    for i, (network, values) in enumerate(grouped.items()):
        params[f"net_{i}"], params[f"keys_{i}"] = network, sorted(values)
    return [tuple(row) for row in session.execute(_by_key_statement(table, key, len(grouped)), params)]


def _fresh(session: Session, mentions: Sequence[Mention]) -> list[Mention]:
    """The mentions not stored yet, each (network, external id) once: one query for the whole page."""
    if not mentions:
        return []
    known = {(network, external_id) for _, network, external_id in _by_key(
        session, _MENTIONS, "external_id", {(m.network, m.external_id) for m in mentions})}
    fresh = []
    for mention in mentions:
        key = (mention.network, mention.external_id)
        if key not in known:
            known.add(key)
            fresh.append(mention)
    return fresh


def _store_page(session: Session, decided: Sequence[tuple[Mention, Decisions, int | None]], *, source: str,
                now: datetime, subject: str | None, history: bool) -> list[Mention]:
    """Persist a page of new mentions with a few multi-row statements; return the ones stored.

    If another writer (a replica) stored one of them meanwhile, the page's savepoint is rolled back and the page
    is stored item by item (`store`), which skips exactly the ones already there.
    """
    if not decided:
        return []
    try:
        with session.begin_nested():
            _insert_page(session, decided, source=source, now=now, subject=subject, history=history)
        return [mention for mention, _, _ in decided]
    except IntegrityError:
        logger.info("source %s: page stored concurrently by another writer; storing item by item", source)
    return [mention for mention, decisions, calendar_post_id in decided
            if store(session, mention, decisions, source=source, now=now, calendar_post_id=calendar_post_id,
                     subject=subject, history=history)]


def _author_ids(session: Session, mentions: Sequence[Mention], now: datetime) -> dict[tuple[str, str], int]:
    """Create or refresh the page's authors (the freshest profile wins, as `_author` does); their ids by key."""
    profiles: dict[tuple[str, str], dict[str, Any]] = {}
    for mention in mentions:
        key = (mention.network, mention.author_handle)
        profile = profiles.get(key)
        if profile is None:
            profiles[key] = {"name": mention.author_name, "followers": mention.author_followers}
            continue
        # Follower counts change, and influencer tiers depend on them: keep the latest known values.
        if mention.author_followers is not None:
            profile["followers"] = mention.author_followers
        if mention.author_name:
            profile["name"] = mention.author_name
    ids = {(network, handle): author_id
           for author_id, network, handle in _by_key(session, _AUTHORS, "handle", profiles)}
    if ids:
        # An author already stored only takes the values this page knows (a missing count keeps the stored one).
        session.execute(
            update(_AUTHORS).where(_AUTHORS.c.id == bindparam("b_id")).values(
                name=func.coalesce(bindparam("b_name"), _AUTHORS.c.name),
                followers=func.coalesce(bindparam("b_followers"), _AUTHORS.c.followers),
                last_seen_at=bindparam("b_seen")),
            [{"b_id": author_id, "b_name": profiles[key]["name"] or None, "b_followers": profiles[key]["followers"],
              "b_seen": now} for key, author_id in ids.items()])
    new = [key for key in profiles if key not in ids]
    if new:
        # A plain multi-row insert, then one indexed read of the ids: RETURNING with rows matched to their
        # parameters makes SQLAlchemy insert one row per statement on SQLite; on PostgreSQL, RETURNING the keys
        # (any order) made the page's mention insert about twice as slow as this insert and read (bench.pipeline).
        session.execute(insert(_AUTHORS), [
            {"network": network, "handle": handle, "name": profiles[(network, handle)]["name"],
             "followers": profiles[(network, handle)]["followers"], "first_seen_at": now, "last_seen_at": now}
            for network, handle in new])
        ids.update({(network, handle): author_id
                    for author_id, network, handle in _by_key(session, _AUTHORS, "handle", new)})
    return ids


def _insert_page(session: Session, decided: Sequence[tuple[Mention, Decisions, int | None]], *, source: str,
                 now: datetime, subject: str | None, history: bool) -> None:
    authors = _author_ids(session, [mention for mention, _, _ in decided], now)
    rows = []
    for mention, decisions, calendar_post_id in decided:
        rows.append({
            "network": mention.network, "external_id": mention.external_id, "source": source, "kind": mention.kind,
            "author_id": authors[(mention.network, mention.author_handle)], "text": mention.text,
            "lang": decisions.sentiment.lang or mention.lang, "permalink": mention.permalink,
            "parent_id": mention.parent_id, "conversation_id": mention.conversation_id,
            "created_at": mention.created_at, "ingested_at": now, "raw": mention.raw,
            "sentiment_label": decisions.sentiment.label, "sentiment_compound": decisions.sentiment.compound,
            "responsibility": decisions.route.responsibility, "route_reason": decisions.route.reason,
            "calendar_post_id": calendar_post_id, "subject": subject,
            "rules": _rules_summary(decisions.rules) if decisions.rules is not None else {},
            # Competitors' items are in no one's queue either (App Home, triage counts): "listening", not "open".
            **({"status": ARCHIVED} if history else {"status": LISTENING} if subject is not None else {}),
        })
    session.execute(insert(_MENTIONS), rows)
    if subject is not None or history:
        return  # competitors' items (share of voice) and past ones (a backfill): no assignment, task or card
    stored = {(network, external_id): mention_id for mention_id, network, external_id in _by_key(
        session, _MENTIONS, "external_id", [(m.network, m.external_id) for m, _, _ in decided])}
    mention_ids = [stored[(m.network, m.external_id)] for m, _, _ in decided]
    tasks, assignments, cards = [], [], []
    for (_, decisions, _), mention_id in zip(decided, mention_ids, strict=True):
        route_ = decisions.route
        if decisions.rules is not None:
            tasks += [{"mention_id": mention_id, "rule_id": task.rule_id, "action": task.action, "owner": task.owner,
                       "created_at": task.created_at, "due_at": task.due_at, "nudge_at": task.nudge_at,
                       "escalate_to": task.escalate_to} for task in decisions.rules.tasks(created_at=now)]
        assignments.append({"mention_id": mention_id, "responsibility": route_.responsibility, "owner": route_.owner,
                            "reason": route_.reason, "assigned_at": now})
        cards.append({"key": f"card:{mention_id}", "kind": "card", "channel": route_.channel,
                      "mention_id": mention_id, "payload": {}, "next_attempt_at": now, "created_at": now,
                      "updated_at": now})
    if tasks:
        session.execute(insert(models.Task.__table__), tasks)  # type: ignore[attr-defined]
    session.execute(insert(models.Assignment.__table__), assignments)  # type: ignore[attr-defined]
    session.execute(insert(models.OutboxMessage.__table__), cards)  # type: ignore[attr-defined]


def _rules_summary(outcome: Any) -> dict[str, Any]:
    """What the card needs from the rules' decision, as JSON (clause, title, span; rule and deadline)."""
    return {
        "violations": [{"clause": v.clause_id, "title": v.title, "severity": v.severity, "action": v.action,
                        "start": v.start, "end": v.end, "matched": v.matched[:200]} for v in outcome.violations],
        "impersonation": outcome.impersonation.reason if outcome.impersonation is not None else None,
        "engagement": [{"rule": m.rule_id, "title": m.title, "action": m.action,
                        "due_at": m.due_at.isoformat() if m.due_at else None,
                        # The rule's template, filled in the author's language: the reply composer's prefill.
                        "reply": m.reply.text if m.reply is not None else None}
                       for m in outcome.engagement if not m.suppressed_by],
        "tier": outcome.influencer_tier,
    }


def ingest_page(session: Session, page: Page | PollResult, *, source: str, workspace: Workspace,
                scorer: SentimentScorer, now: datetime, rules: RulesContext | None = None,
                history: bool = False) -> IngestResult:
    """Store a page's mentions, its rejected items and own posts, and move the source's cursor, in the caller's
    transaction.

    Committing the cursor with the mentions is what makes a restart resume exactly where it stopped.
    A `PollResult` cursor (a dict) is stored as JSON; a `Page` cursor (a string) as is; None leaves it.
    `history` (a backfill of past items): decided and stored "archived", without assignment, task or card.
    The page is decided item by item, then written with a few multi-row statements.
    """
    result = IngestResult()
    if isinstance(page, PollResult):
        # Own posts first: linking one to its calendar post lets this batch's comments find that post too.
        result.own_posts = upsert_own_posts(session, page.own_posts, source=source, now=now)
        session.flush()
    started = time.perf_counter()
    fresh = _fresh(session, [sanitize(m) for m in page.mentions])
    result.duplicates = len(page.mentions) - len(fresh)
    calendar = _calendar_ids(session, fresh)
    subject = workspace.subject_of(source)  # a competitor-listening source: share of voice only
    assignment = None
    if rules is not None and not history:
        from bot.services.engagement import StoreAssignmentState

        assignment = _PageAssignment(StoreAssignmentState(session))
    decided: list[tuple[Mention, Decisions, int | None]] = []
    for mention in fresh:
        refs = [(mention.network, ref) for ref in (mention.parent_id, mention.conversation_id) if ref]
        calendar_post_id = next((calendar[ref] for ref in refs if ref in calendar), None)
        # A past item is judged as of its own time (business hours, campaign windows), a live one as of now.
        decisions = decide(mention, workspace=workspace, scorer=scorer, rules=rules,
                           now=mention.created_at if history else now, assignment=assignment, subject=subject)
        if assignment is not None and subject is None:
            assignment.record(decisions.route)  # the next item of the page sees this one as assigned
        decided.append((mention, decisions, calendar_post_id))
    stored = _store_page(session, decided, source=source, now=now, subject=subject, history=history)
    result.stored = len(stored)
    result.duplicates += len(decided) - len(stored)
    if stored:
        observe_ingest(session, [m.network for m in stored], time.perf_counter() - started)
    for problem in page.rejected:
        if keep_aside(session, problem, source=source, now=now):
            result.rejected += 1
    cursor = session.get(models.SourceCursor, source) or models.SourceCursor(source=source)
    if isinstance(page, PollResult):
        cursor.cursor = json.dumps(page.cursor, sort_keys=True, separators=(",", ":"))
    elif page.cursor is not None:
        cursor.cursor = page.cursor
    cursor.items_seen += result.stored
    cursor.last_success_at = now
    session.add(cursor)
    if result.rejected:
        logger.warning("source %s: %d item(s) set aside as malformed", source, result.rejected)
    return result


def keep_aside(session: Session, problem: Any, *, source: str, now: datetime) -> bool:
    """Store one malformed item for the admins, once: False if the same item was already kept aside."""
    raw = problem.item if isinstance(problem.item, dict | list | str | int | float | None) else repr(problem.item)
    try:
        blob = json.dumps([problem.reason, raw], sort_keys=True, default=repr)
    except ValueError:  # a circular structure cannot be hashed as JSON
        blob = repr(raw)
    fingerprint = hashlib.sha256(f"{source}\n{blob}".encode("utf-8", "surrogatepass")).hexdigest()
    seen = session.exec(select(models.RejectedItem.id).where(models.RejectedItem.source == source,
                                                             models.RejectedItem.fingerprint == fingerprint)).first()
    if seen is not None:
        return False
    # A malformed item is the likeliest to hold NUL or lone surrogates: stored in their storable form.
    session.add(models.RejectedItem(source=source, network=storable(problem.network)[:20],
                                    reason=storable(problem.reason), raw=_storable_json(raw), seen_at=now,
                                    fingerprint=fingerprint))
    # Logged once, here; the reason only: the raw item may be huge or hostile.
    logger.warning("source %s: %s item set aside: %s", source, problem.network, problem.reason[:300])
    return True


def _calendar_ids(session: Session, mentions: Iterable[Mention]) -> dict[tuple[str, str], int]:
    """Map (network, external id) of known calendar posts that these mentions answer to the post's row id."""
    refs = {(m.network, ref) for m in mentions for ref in (m.parent_id, m.conversation_id) if ref}
    if not refs:
        return {}
    rows = session.exec(select(models.CalendarPost.id, models.CalendarPost.network, models.CalendarPost.external_id)
                        .where(col(models.CalendarPost.external_id).in_({ref for _, ref in refs}))).all()
    return {(network, external_id): row_id for row_id, network, external_id in rows
            if row_id is not None and external_id and (network, external_id) in refs}


def upsert_own_posts(session: Session, posts: Iterable[OwnPost], *, source: str, now: datetime) -> int:
    """Insert or refresh the brand's own posts and their engagement; link each to its calendar post."""
    count = 0
    for post in posts:
        row = session.exec(select(models.OwnPost).where(models.OwnPost.network == post.network,
                                                        models.OwnPost.external_id == post.external_id)).first()
        if row is None:
            row = models.OwnPost(network=post.network, external_id=post.external_id, source=source,
                                 created_at=post.created_at, text=post.text, first_seen_at=now, fetched_at=now)
        row.text, row.permalink, row.media_type, row.raw = post.text, post.permalink, post.media_type, post.raw
        # A count the network did not send this time keeps its last known value.
        for name in ("likes", "comments", "shares", "views", "impressions"):
            value = getattr(post, name)
            if value is not None:
                setattr(row, name, value)
        row.fetched_at = now
        if row.calendar_post_id is None:
            row.calendar_post_id = _calendar_post_for(session, post)
        session.add(row)
        count += 1
    return count


def _calendar_post_for(session: Session, post: OwnPost) -> int | None:
    conditions = [col(models.CalendarPost.external_id) == post.external_id]
    if post.permalink:
        conditions.append(col(models.CalendarPost.permalink) == post.permalink)
    row = session.exec(select(models.CalendarPost).where(models.CalendarPost.network == post.network,
                                                         or_(*conditions))).first()
    if row is None:
        return None
    if row.external_id is None:  # matched on the permalink: remember the network's id for the comments
        row.external_id = post.external_id
    if row.status == "scheduled":
        row.status = "published"
    session.add(row)
    return row.id
