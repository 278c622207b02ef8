"""The pipeline: a `Mention` in, decisions out, then stored with its Slack card in one transaction.

`decide` is a pure function of data (no I/O), so it can be tested and benchmarked alone;
`ingest_page` is the only part that touches the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot import models
from bot.sentiment import Sentiment, SentimentScorer
from bot.workspace import Workspace
from monitors.sources.base import Mention, Page
from rules.routing import Route, route

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decisions:
    sentiment: Sentiment
    route: Route


@dataclass(slots=True)
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0


def decide(mention: Mention, *, workspace: Workspace, scorer: SentimentScorer) -> Decisions:
    """Score and route one mention."""
    sentiment = scorer.score(mention.text, lang=mention.lang)
    return Decisions(sentiment, route(workspace, text=mention.text, network=mention.network, sentiment=sentiment.label))


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
          now: datetime) -> models.Mention | None:
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
            )
            session.add(row)
            session.flush()
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


def ingest_page(session: Session, page: Page, *, source: str, workspace: Workspace,
                scorer: SentimentScorer, now: datetime) -> IngestResult:
    """Store a page's mentions and its rejected items, and move the source's cursor, in the caller's transaction.

    Committing the cursor with the mentions is what makes a restart resume exactly where it stopped.
    """
    result = IngestResult()
    for mention in page.mentions:
        if store(session, mention, decide(mention, workspace=workspace, scorer=scorer), source=source, now=now):
            result.stored += 1
        else:
            result.duplicates += 1
    for problem in page.rejected:
        result.rejected += 1
        raw = problem.item if isinstance(problem.item, dict | list | str | int | float | None) else repr(problem.item)
        session.add(models.RejectedItem(source=source, network=problem.network, reason=problem.reason, raw=raw,
                                        seen_at=now))
    cursor = session.get(models.SourceCursor, source) or models.SourceCursor(source=source)
    if page.cursor is not None:
        cursor.cursor = page.cursor
    cursor.items_seen += result.stored
    cursor.last_success_at = now
    session.add(cursor)
    if result.rejected:
        logger.warning("source %s: %d item(s) set aside as malformed", source, result.rejected)
    return result
