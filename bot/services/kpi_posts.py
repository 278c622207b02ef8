"""What our own posts earn: by local hour and weekday of publication, by format and by content pillar.

Engagement of a post = likes + comments + shares (a count the network did not give counts 0). Each group shows
its mean engagement per post and its number of posts, so two lucky posts are not read as a trend: groups under
`MIN_SAMPLE` posts are flagged, and the "best" lists only rank groups with at least that many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import models
from bot.services.kpi import Period

MIN_SAMPLE = 3


@dataclass(slots=True)
class Group:
    key: str
    posts: int = 0
    engagement: int = 0

    @property
    def mean(self) -> float:
        return self.engagement / self.posts if self.posts else 0.0

    @property
    def small(self) -> bool:
        return self.posts < MIN_SAMPLE


@dataclass(slots=True)
class PostsReport:
    period: Period
    network: str | None
    posts: int = 0
    by_hour: dict[int, Group] = field(default_factory=dict)  # local hour 0..23
    by_weekday: dict[int, Group] = field(default_factory=dict)  # 0 = Monday
    by_format: dict[str, Group] = field(default_factory=dict)
    by_pillar: dict[str, Group] = field(default_factory=dict)

    @staticmethod
    def ranked(groups: dict, *, reliable_only: bool = True) -> list[Group]:
        """Groups by mean engagement, best first (only those with enough posts unless asked otherwise)."""
        kept = [g for g in groups.values() if not (reliable_only and g.small)]
        return sorted(kept, key=lambda g: (-g.mean, -g.posts, g.key))


def posts_report(session: Session, period: Period, *, tz: str, network: str | None = None) -> PostsReport:
    """Group the period's own posts by local hour, weekday, format and pillar."""
    post, plan = models.OwnPost, models.CalendarPost
    query = (select(post.created_at, post.media_type, post.likes, post.comments, post.shares, plan.pillar)
             .select_from(post).join(plan, col(plan.id) == col(post.calendar_post_id), isouter=True)
             .where(col(post.created_at) >= period.start, col(post.created_at) < period.end))
    if network:
        query = query.where(col(post.network) == network)
    zone = ZoneInfo(tz)
    report = PostsReport(period, network)
    for created_at, media_type, likes, comments, shares, pillar in session.exec(query).all():
        engagement = (likes or 0) + (comments or 0) + (shares or 0)
        local = created_at.astimezone(zone)
        report.posts += 1
        for groups, key in ((report.by_hour, local.hour), (report.by_weekday, local.weekday()),
                            (report.by_format, media_type or "unknown"), (report.by_pillar, pillar or "")):
            group = groups.setdefault(key, Group(str(key)))
            group.posts += 1
            group.engagement += engagement
    report.by_pillar.pop("", None)  # posts not linked to a calendar post with a pillar
    return report
