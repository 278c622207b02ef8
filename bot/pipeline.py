"""The pipeline: a `Mention` in, decisions out, then stored with its Slack card in one transaction.

`decide` is a pure function of data (no I/O), so it can be tested and benchmarked alone;
`ingest_page` is the only part that touches the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from bot import models
from bot.sentiment import Sentiment, SentimentScorer
from bot.workspace import Workspace
from monitors.sources.base import Mention, OwnPost, Page, PollResult
from rules.routing import Route, route

logger = logging.getLogger(__name__)


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
           now: datetime | None = None, assignment: Any = None) -> Decisions:
    """Score one mention, then apply the charter, engagement and routing rules (or plain routing without rules)."""
    sentiment = scorer.score(mention.text, lang=mention.lang)
    if rules is None:
        return Decisions(sentiment, route(workspace, text=mention.text, network=mention.network,
                                          sentiment=sentiment.label))
    from rules.compile import ItemContext

    item = ItemContext.from_mention(mention, sentiment=sentiment.label, lang=sentiment.lang)
    outcome = rules.ruleset.evaluate(item, now=now or mention.created_at, assignment=assignment,
                                     campaigns=rules.campaigns)
    return Decisions(sentiment, outcome.route, outcome)


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
          now: datetime, calendar_post_id: int | None = None) -> models.Mention | None:
    """Persist a mention, its assignment and its card's outbox row; None if it is already stored."""
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
                calendar_post_id=calendar_post_id,
            )
            if decisions.rules is not None:
                row.rules = _rules_summary(decisions.rules)
            session.add(row)
            session.flush()
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
                scorer: SentimentScorer, now: datetime, rules: RulesContext | None = None) -> IngestResult:
    """Store a page's mentions, its rejected items and own posts, and move the source's cursor, in the caller's
    transaction.

    Committing the cursor with the mentions is what makes a restart resume exactly where it stopped.
    A `PollResult` cursor (a dict) is stored as JSON; a `Page` cursor (a string) as is; None leaves it.
    """
    result = IngestResult()
    if isinstance(page, PollResult):
        # Own posts first: linking one to its calendar post lets this batch's comments find that post too.
        result.own_posts = upsert_own_posts(session, page.own_posts, source=source, now=now)
        session.flush()
    calendar = _calendar_ids(session, page.mentions)
    assignment = None
    if rules is not None:
        from bot.services.engagement import StoreAssignmentState

        assignment = StoreAssignmentState(session)
    for mention in page.mentions:
        refs = [(mention.network, ref) for ref in (mention.parent_id, mention.conversation_id) if ref]
        calendar_post_id = next((calendar[ref] for ref in refs if ref in calendar), None)
        decisions = decide(mention, workspace=workspace, scorer=scorer, rules=rules, now=now, assignment=assignment)
        if store(session, mention, decisions, source=source, now=now, calendar_post_id=calendar_post_id):
            result.stored += 1
        else:
            result.duplicates += 1
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
    session.add(models.RejectedItem(source=source, network=problem.network, reason=problem.reason, raw=raw,
                                    seen_at=now, fingerprint=fingerprint))
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
