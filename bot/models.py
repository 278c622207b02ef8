"""SQLModel tables: the store is the single source of truth for mentions, cards, the calendar and cursors.

Later capabilities extend these tables through new Alembic revisions rather than rewrite them:
keys are stable (a mention is unique by network + external id, an outbox row by its purpose key).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend: SQLite has no zone, so store UTC and re-attach it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Author(SQLModel, table=True):
    """A person or account that talks about the brand, once per network."""

    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("network", "handle", name="uq_authors_network_handle"),)

    id: int | None = Field(default=None, primary_key=True)
    network: str = Field(max_length=20)
    handle: str = Field(max_length=255)
    name: str | None = Field(default=None, max_length=255)
    followers: int | None = None
    first_seen_at: datetime = _ts()
    last_seen_at: datetime = _ts()
    # GDPR (bot.services.gdpr, bot.services.retention): set when the handle, name and follower count were
    # erased (the author asked to be forgotten, or was not seen within the retention period).
    erased_at: datetime | None = _ts(nullable=True)


class Mention(SQLModel, table=True):
    """One mention, comment or reply, with the decisions the pipeline took on it and its triage status."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("network", "external_id", name="uq_mentions_network_external_id"),
        Index("ix_mentions_created_at", "created_at"),
        Index("ix_mentions_status_created_at", "status", "created_at"),
        # /kpi: one index-only range scan per figure over a period (bot/services/kpi.py).
        Index("ix_mentions_kpi", "created_at", "subject", "network", "status", "sentiment_label", "author_id",
              "handled_at"),
        Index("ix_mentions_kpi_open", "status", "created_at", "subject", "network", "id"),  # open items by owner
        # An author's items in a period (top authors, influencers, GDPR requests): one range per author.
        Index("ix_mentions_author_created", "author_id", "created_at", "subject"),
        # Retention finds what is still to purge with a range scan, however many rows were purged before.
        Index("ix_mentions_text_purge", "text_purged_at", "created_at"),
        Index("ix_mentions_raw_purge", "raw_purged_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    network: str = Field(max_length=20)
    external_id: str = Field(max_length=255)
    source: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    author_id: int = Field(foreign_key="authors.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    lang: str | None = Field(default=None, max_length=10)
    permalink: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    parent_id: str | None = Field(default=None, max_length=255)
    conversation_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = _ts()
    ingested_at: datetime = _ts()
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    sentiment_label: str = Field(max_length=10)
    sentiment_compound: float
    responsibility: str | None = Field(default=None, max_length=100)
    route_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # open -> handled (later: snoozed, not_relevant, ...)
    status: str = Field(default="open", max_length=20)
    handled_by: str | None = Field(default=None, max_length=32)
    handled_at: datetime | None = _ts(nullable=True)
    # The calendar post this comment answers, when its parent or conversation is a known brand post.
    calendar_post_id: int | None = Field(default=None, foreign_key="calendar_posts.id", index=True)
    snoozed_until: datetime | None = _ts(nullable=True)
    # What the rules decided (violations with spans, engagement rules matched, influencer tier), for the card.
    rules: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    # Set when a member corrected the sentiment; the corrected label replaces sentiment_label.
    sentiment_corrected_by: str | None = Field(default=None, max_length=32)
    # Competitor listening: the competitor this item is about (SourceConfig.subject); None: the brand. Such items
    # only feed share of voice: status "listening", no card, no task, and every other KPI leaves them out.
    subject: str | None = Field(default=None, max_length=100)
    # GDPR: the author asked to be forgotten (the card shows a tombstone); the text and personal fields, then the
    # raw payload, expired (bot.services.retention). The row stays, so counts, sentiment and timings stay true.
    forgotten_at: datetime | None = _ts(nullable=True)
    text_purged_at: datetime | None = _ts(nullable=True)
    raw_purged_at: datetime | None = _ts(nullable=True)


class Assignment(SQLModel, table=True):
    """Who owns a mention, and why; a reassignment is a new row, so the history stays."""

    __tablename__ = "assignments"
    # /kpi: a mention's active owner read from the index alone. Routing: a responsibility's latest assignment
    # (whose turn is next) found at the end of its index range, not by scanning the history.
    __table_args__ = (Index("ix_assignments_kpi", "mention_id", "active", "owner"),
                      Index("ix_assignments_responsibility_latest", "responsibility", "id"))

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    responsibility: str | None = Field(default=None, max_length=100)
    owner: str | None = Field(default=None, max_length=32)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    assigned_by: str | None = Field(default=None, max_length=32)
    assigned_at: datetime = _ts()
    active: bool = True


class OutboxMessage(SQLModel, table=True):
    """A Slack message the bot owes: written with the change that needs it, delivered exactly once.

    `key` names the message's purpose ("card:42"), so the same purpose never yields two messages.
    A card row is posted once (`ts` recorded), then re-rendered with chat.update whenever
    `version` moves past `sent_version`.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key", name="uq_outbox_key"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # card | message | thread | digest | home
    channel: str = Field(max_length=80)
    # The id Slack answered with (a user id given as channel becomes a DM id); chat.update needs it.
    channel_id: str | None = Field(default=None, max_length=80)
    mention_id: int | None = Field(default=None, foreign_key="mentions.id", index=True)
    # For plain messages: the Block Kit payload to send; cards are rendered from their mention row.
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # A thread reply names its parent's key; it waits until the parent has a ts.
    parent_key: str | None = Field(default=None, max_length=200)
    # A card folded into a flood digest names the digest's key (status "digested" until expanded).
    digest_key: str | None = Field(default=None, max_length=200, index=True)
    # pending -> sending -> sent; parked when Slack refuses for good (channel_not_found, ...)
    status: str = Field(default="pending", max_length=20)
    version: int = 1
    sent_version: int = 0
    ts: str | None = Field(default=None, max_length=40)
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class CalendarPost(SQLModel, table=True):
    """A planned (or published) brand post in the content calendar."""

    __tablename__ = "calendar_posts"
    __table_args__ = (Index("ix_calendar_posts_scheduled_at", "scheduled_at"),
                      # Reminders and nudges look for scheduled posts by due time.
                      Index("ix_calendar_posts_status_scheduled_at", "status", "scheduled_at"),
                      Index("ix_calendar_posts_published_at", "published_at"),
                      UniqueConstraint("import_uid", name="uq_calendar_posts_import_uid"))

    id: int | None = Field(default=None, primary_key=True)
    network: str = Field(max_length=20)
    scheduled_at: datetime = _ts()
    title: str = Field(max_length=300)
    pillar: str | None = Field(default=None, max_length=100)
    promo: bool = False
    owner: str | None = Field(default=None, max_length=32)
    status: str = Field(default="scheduled", max_length=20)  # draft | scheduled | published | cancelled
    external_id: str | None = Field(default=None, max_length=255)
    permalink: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    format: str | None = Field(default=None, max_length=10)  # status | image | video | link
    # When Veille learnt the post went live (a click, or the connector seeing it): opens the buzz watch window.
    published_at: datetime | None = _ts(nullable=True)
    reminded_at: datetime | None = _ts(nullable=True)  # the owner was told it is due soon
    nudged_at: datetime | None = _ts(nullable=True)  # the owner was told it is overdue
    created_by: str | None = Field(default=None, max_length=32)
    updated_by: str | None = Field(default=None, max_length=32)
    updated_at: datetime | None = _ts(nullable=True)
    # The UID of the CSV row or ICS event it came from: re-importing the same file updates, never duplicates.
    import_uid: str | None = Field(default=None, max_length=255)


class SourceCursor(SQLModel, table=True):
    """Where a source stopped, and how it is doing; one row per configured source."""

    __tablename__ = "source_cursors"

    source: str = Field(primary_key=True, max_length=100)
    cursor: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    items_seen: int = 0
    last_success_at: datetime | None = _ts(nullable=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_error_at: datetime | None = _ts(nullable=True)
    network: str | None = Field(default=None, max_length=20)
    last_attempt_at: datetime | None = _ts(nullable=True)
    next_poll_at: datetime | None = _ts(nullable=True)
    # No poll before this time: the network's Retry-After, or our backoff after failures.
    not_before: datetime | None = _ts(nullable=True)
    consecutive_failures: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    # Paused after a 401/403 until the source's config hash differs from `paused_config_hash`.
    paused_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    paused_config_hash: str | None = Field(default=None, max_length=32)
    paused_at: datetime | None = _ts(nullable=True)


class RejectedItem(SQLModel, table=True):
    """A payload item a source could not read, kept aside with its reason for the admins."""

    __tablename__ = "rejected_items"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=100)
    network: str = Field(max_length=20)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    raw: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    seen_at: datetime = _ts()
    # Hash of (reason, raw): an item served again by a feed is kept and logged once, not at every poll.
    fingerprint: str | None = Field(default=None, max_length=64, index=True)


class OwnPost(SQLModel, table=True):
    """One of the brand's published posts and its latest engagement, for /kpi and the calendar."""

    __tablename__ = "own_posts"
    __table_args__ = (
        UniqueConstraint("network", "external_id", name="uq_own_posts_network_external_id"),
        Index("ix_own_posts_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    network: str = Field(max_length=20)
    external_id: str = Field(max_length=255)
    source: str = Field(max_length=100)
    created_at: datetime = _ts()
    text: str = Field(sa_column=Column(Text, nullable=False))
    permalink: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    media_type: str | None = Field(default=None, max_length=20)
    likes: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    comments: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    shares: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    views: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    impressions: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    first_seen_at: datetime = _ts()
    fetched_at: datetime = _ts()
    # The planned post this publication fulfils (matched on the calendar's external id or permalink).
    calendar_post_id: int | None = Field(default=None, foreign_key="calendar_posts.id", index=True)


class ProcessedRequest(SQLModel, table=True):
    """Slack interactions already applied, so a retried click is not applied twice."""

    __tablename__ = "processed_requests"

    key: str = Field(primary_key=True, max_length=200)
    seen_at: datetime = _ts()


class CardEvent(SQLModel, table=True):
    """One thing a member did on a card: the audit trail, also posted in the card's thread."""

    __tablename__ = "card_events"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    actor: str = Field(max_length=32)
    action: str = Field(max_length=30)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = _ts()


class SentimentCorrection(SQLModel, table=True):
    """A member's correction of a mention's sentiment, kept for the KPIs and for brand word overrides."""

    __tablename__ = "sentiment_corrections"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    old_label: str = Field(max_length=10)
    new_label: str = Field(max_length=10)
    term: str | None = Field(default=None, max_length=100)
    corrected_by: str = Field(max_length=32)
    at: datetime = _ts()


class NetworkAction(SQLModel, table=True):
    """A reply or a hide the team asked for on a network: drafted, maybe approved, then done exactly once.

    `idempotency_key` goes to the connector, so a retry after a crash never replies twice.
    """

    __tablename__ = "network_actions"
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_network_actions_key"),
                      Index("ix_network_actions_due", "status", "next_attempt_at"))

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    kind: str = Field(max_length=10)  # reply | hide
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # awaiting_approval -> approved -> sending -> done | failed ; or rejected
    status: str = Field(max_length=20)
    requested_by: str = Field(max_length=32)
    requested_at: datetime = _ts()
    approved_by: str | None = Field(default=None, max_length=32)
    approved_at: datetime | None = _ts(nullable=True)
    done_at: datetime | None = _ts(nullable=True)
    network_id: str | None = Field(default=None, max_length=255)
    idempotency_key: str = Field(max_length=100)
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class OncallOverride(SQLModel, table=True):
    """A swapped shift: `user` is on call from `start` to `end`, whatever the rotation says."""

    __tablename__ = "oncall_overrides"

    id: int | None = Field(default=None, primary_key=True)
    user: str = Field(max_length=32)
    start: datetime = _ts(index=True)
    end: datetime = _ts(index=True)
    created_by: str = Field(max_length=32)
    created_at: datetime = _ts()


class Incident(SQLModel, table=True):
    """A bad buzz (or a manual alert) being handled: who was paged, who acknowledged, what happened.

    Escalation is a state machine stored here, one step per wake-up: `step` is the next escalation
    level to page, `next_step_at` when, and `policy` a snapshot of the levels taken at opening, so a
    config reload does not change an escalation already in flight.
    """

    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("key", name="uq_incidents_key"),
                      Index("ix_incidents_due", "status", "next_step_at"))

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)  # the spike's key ("spike:all:2026-11-21T11:00") or "manual:<ts>"
    title: str = Field(max_length=300)
    severity: str = Field(default="sev2", max_length=10)
    status: str = Field(default="open", max_length=20)  # open | acknowledged | resolved
    source: str = Field(max_length=20)  # spike | manual | card
    opened_by: str | None = Field(default=None, max_length=32)
    opened_at: datetime = _ts()
    acknowledged_by: str | None = Field(default=None, max_length=32)
    acknowledged_at: datetime | None = _ts(nullable=True)
    resolved_by: str | None = Field(default=None, max_length=32)
    resolved_at: datetime | None = _ts(nullable=True)
    channel: str = Field(max_length=80)
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    policy: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    step: int = 0
    next_step_at: datetime | None = _ts(nullable=True)


class IncidentEvent(SQLModel, table=True):
    """The incident's timeline: opened, updated by a later spike, paged, escalated, acknowledged, resolved."""

    __tablename__ = "incident_events"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    kind: str = Field(max_length=30)
    actor: str | None = Field(default=None, max_length=32)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = _ts()


class IncidentItem(SQLModel, table=True):
    """A mention attached to an incident (by the detector, or by a member's Escalate click)."""

    __tablename__ = "incident_items"
    __table_args__ = (UniqueConstraint("incident_id", "mention_id", name="uq_incident_items"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    added_by: str | None = Field(default=None, max_length=32)
    at: datetime = _ts()


class Task(SQLModel, table=True):
    """An engagement task: a rule says this item must be thanked / answered / escalated by `due_at`.

    Done when the item is handled, answered or hidden; cancelled when judged not relevant. Consistency
    ("thanked 3 of 4 — 75%") is computed from these rows by `rules.engagement.consistency`.
    """

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_open_due", "done_at", "due_at"),
                      # /kpi: consistency over the tasks created in a period, breaches over those due in it.
                      # (covering: the tallies are read from the index alone)
                      Index("ix_tasks_kpi_created", "created_at", "cancelled", "rule_id", "action", "owner", "done_at",
                            "due_at"),
                      Index("ix_tasks_kpi_due", "due_at", "cancelled", "rule_id", "done_at"),
                      # open tasks (overdue or pending depends on when one asks), by creation and by deadline
                      Index("ix_tasks_kpi_open_created", "done_at", "cancelled", "created_at", "rule_id", "action",
                            "owner", "due_at"),
                      Index("ix_tasks_kpi_open_due", "done_at", "cancelled", "due_at", "rule_id"))

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    rule_id: str = Field(max_length=100)
    action: str = Field(max_length=20)
    owner: str | None = Field(default=None, max_length=32)
    created_at: datetime = _ts()
    due_at: datetime = _ts()
    nudge_at: datetime | None = _ts(nullable=True)
    nudged_at: datetime | None = _ts(nullable=True)
    escalate_to: str | None = Field(default=None, max_length=32)
    escalated_at: datetime | None = _ts(nullable=True)
    done_at: datetime | None = _ts(nullable=True)
    cancelled: bool = False


class AwayMember(SQLModel, table=True):
    """A member marked away (from the App Home): routing skips them until they are back."""

    __tablename__ = "away_members"

    user: str = Field(primary_key=True, max_length=32)
    since: datetime = _ts()


class CampaignResult(SQLModel, table=True):
    """One campaign's results for one day (and network, or "all"), pushed by webhook or imported from CSV.

    Unique on (campaign, day, network): a pushed row is the day's total so far, so a re-push replaces
    it and never adds to it. Spend is kept in cents of `currency` (the workspace's ROI currency), exact
    on every backend.
    """

    __tablename__ = "campaign_results"
    __table_args__ = (UniqueConstraint("campaign", "day", "network", name="uq_campaign_results_campaign_day_network"),
                      Index("ix_campaign_results_day", "day"))

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=100)
    day: date
    network: str = Field(default="all", max_length=20)
    impressions: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    clicks: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    conversions: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    leads: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    spend_cents: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    currency: str = Field(default="EUR", max_length=3)
    source: str = Field(max_length=100)  # the hook's name, or "csv"
    updated_at: datetime = _ts()


class Lease(SQLModel, table=True):
    """Which replica does a job (`bot.coordination`): held until `expires_at` unless renewed; the token grows
    at each change of holder, so a write can be fenced against a holder that lost the lease."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=200)
    holder: str = Field(max_length=200)
    token: int = Field(default=1, sa_column=Column(BigInteger, nullable=False))
    expires_at: datetime = _ts()
    acquired_at: datetime = _ts()


class GdprRequest(SQLModel, table=True):
    """Audit of personal-data work: a forget or export request, or a retention purge — who ran it, when, what it
    touched. The person is named only by a salted hash of network and handle (`bot.services.gdpr.subject_hash`)."""

    __tablename__ = "gdpr_requests"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # forget | export | purge
    network: str | None = Field(default=None, max_length=20)
    subject_hash: str | None = Field(default=None, max_length=64, index=True)
    requested_by: str = Field(max_length=100)
    at: datetime = _ts()
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class GdprSalt(SQLModel, table=True):
    """The installation's random salt for `GdprRequest.subject_hash` (one row), so hashes differ between installs."""

    __tablename__ = "gdpr_salt"

    id: int | None = Field(default=None, primary_key=True)
    salt: str = Field(max_length=64)
    created_at: datetime = _ts()


class OwnerOpenCount(SQLModel, table=True):
    """Each owner's open items (active assignments of open mentions), kept exact by triggers (revision 0010,
    `bot/services/owner_load.py`): routing's least-open load, read without counting the backlog."""

    __tablename__ = "owner_open_counts"

    owner: str = Field(primary_key=True, max_length=32)
    n: int = 0


class KpiAuthorTotal(SQLModel, table=True):
    """Each author's brand items of all time, kept exact by the /kpi triggers (revision 0006): the bound that lets
    `kpi.authors` rank the period's top authors without grouping every row of the period."""

    __tablename__ = "kpi_author_totals"
    __table_args__ = (Index("ix_kpi_author_totals_n", "n", "author_id"),)

    author_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    n: int = 0


class KpiDaily(SQLModel, table=True):
    """Items per UTC day of creation, subject ('' = the brand), network, sentiment and status: /kpi's rollup.

    Kept exact by database triggers on `mentions` (bot/services/kpi_rollup.py, revision 0006), never by the app.
    """

    __tablename__ = "kpi_daily"
    __table_args__ = (Index("ix_kpi_daily_cover", "day", "subject", "network", "sentiment_label", "status", "n"),)

    day: str = Field(primary_key=True, max_length=10)  # 'YYYY-MM-DD' (UTC)
    subject: str = Field(primary_key=True, max_length=100)
    network: str = Field(primary_key=True, max_length=20)
    sentiment_label: str = Field(primary_key=True, max_length=10)
    status: str = Field(primary_key=True, max_length=20)
    n: int = 0


class KpiResponseDaily(SQLModel, table=True):
    """The brand's handled items per UTC day of creation, network and first-response minutes (for the median)."""

    __tablename__ = "kpi_response_daily"
    __table_args__ = (Index("ix_kpi_response_daily_cover", "day", "network", "minutes", "n"),)

    day: str = Field(primary_key=True, max_length=10)
    network: str = Field(primary_key=True, max_length=20)
    minutes: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    n: int = 0


class KpiTaskDaily(SQLModel, table=True):
    """Engagement tasks per basis ('created' or 'due'), UTC day of that date, rule, action, owner ('' = none) and
    state (on_time | late | open | cancelled): /kpi's consistency and breaches rollup, kept by triggers."""

    __tablename__ = "kpi_task_daily"
    __table_args__ = (Index("ix_kpi_task_daily_cover", "basis", "day", "rule_id", "action", "owner", "state", "n"),)

    basis: str = Field(primary_key=True, max_length=10)
    day: str = Field(primary_key=True, max_length=10)
    rule_id: str = Field(primary_key=True, max_length=100)
    action: str = Field(primary_key=True, max_length=20)
    owner: str = Field(primary_key=True, max_length=32)
    state: str = Field(primary_key=True, max_length=10)
    n: int = 0
