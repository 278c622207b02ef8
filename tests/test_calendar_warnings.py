"""The planner's warnings, each against hand-computed expectations: gaps against a posting objective, the 80/20
promotional mix, two posts too close on one network, and posts planned at an hour that performs badly.

T0 is Friday 20 November 2026, 09:00 UTC (10:00 in Paris).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from bot import models
from bot.render.calendar import render_listing, warning_lines
from bot.services import calendar
from bot.workspace import parse_workspace
from tests.conftest import T0, WORKSPACE_YAML

PARIS = ZoneInfo("Europe/Paris")
OBJECTIVES = """
objectives:
  - {id: ig-rhythm, title: "Instagram every 2 days", metric: posts_per_day, target: 0.5, network: instagram}
  - {id: ig-video, title: "A video every 4 days", metric: posts_per_day, target: 0.25, network: instagram,
     format: video}
  - {id: x-daily, title: "X twice a day", metric: posts_per_day, target: 2, network: x}
"""


def workspace(extra: str = ""):  # type: ignore[no-untyped-def]
    return parse_workspace(WORKSPACE_YAML + extra, "test.yaml")


def add(session: Session, at: datetime, title: str, **fields) -> models.CalendarPost:  # type: ignore[no-untyped-def]
    post = models.CalendarPost(network=fields.pop("network", "instagram"), scheduled_at=at, title=title, **fields)
    session.add(post)
    session.commit()
    session.refresh(post)
    return post


def default_view() -> calendar.CalendarView:
    view = calendar.parse_view("", now=T0, tz="Europe/Paris")
    assert view is not None
    return view


class TestGaps:
    def test_a_stretch_longer_than_the_objective_allows(self, engine) -> None:
        ws = workspace(OBJECTIVES)
        with Session(engine) as session:
            add(session, T0 - timedelta(days=1), "Thursday")  # the last post before now
            add(session, T0 + timedelta(days=1), "Saturday", format="video")
            add(session, T0 + timedelta(days=3), "Cancelled Monday", status="cancelled")  # does not fill the gap
            add(session, T0 + timedelta(days=3, hours=1), "On X", network="x")  # another network
            add(session, T0 + timedelta(days=5), "Wednesday", status="draft")  # drafts count as planned
            for hours in range(0, 7 * 24, 11):  # X: every 11 h, more than twice a day: no gap
                add(session, T0 + timedelta(hours=hours), f"x{hours}", network="x")
            gaps = calendar.gaps(session, workspace=ws, now=T0, end=T0 + timedelta(days=7))
        # Instagram: Thu 19 -> Sat 21 is 2 days (allowed), Sat 21 -> Wed 25 is 4 days (> 2), Wed 25 -> end 2 days.
        # Instagram videos: only Saturday's; now -> Sat 21 is 1 day, Sat 21 -> end (Fri 27 09:00 UTC) 6 days (> 4).
        assert [(g.network, g.format, g.start, g.end, g.days) for g in gaps] == [
            ("instagram", None, T0 + timedelta(days=1), T0 + timedelta(days=5), 4.0),
            ("instagram", "video", T0 + timedelta(days=1), T0 + timedelta(days=7), 6.0),
        ]
        assert warning_lines(calendar.Warnings(gaps=gaps, mix=None, too_close=[], bad_hours=[]),
                             tz="Europe/Paris", lang="en") == [
            "• No Instagram post for 4 days (Sat 21 Nov 10:00 → Wed 25 Nov 10:00) while the objective is one "
            "every 2 days.",
            "• No Instagram (video) post for 6 days (Sat 21 Nov 10:00 → Fri 27 Nov 10:00) while the objective is "
            "one every 4 days.",
        ]

    def test_nothing_planned_at_all_is_one_gap_from_now(self, engine) -> None:
        ws = workspace(OBJECTIVES)
        with Session(engine) as session:
            add(session, T0 - timedelta(hours=12), "x", network="x")  # X: last post 12 h ago, twice a day wanted
            gaps = calendar.gaps(session, workspace=ws, now=T0, end=T0 + timedelta(days=7))
        assert [(g.network, g.format, g.start, g.end) for g in gaps] == [
            ("instagram", None, T0, T0 + timedelta(days=7)), ("instagram", "video", T0, T0 + timedelta(days=7)),
            ("x", None, T0 - timedelta(hours=12), T0 + timedelta(days=7))]
        line = warning_lines(calendar.Warnings(gaps=gaps[2:], mix=None, too_close=[], bad_hours=[]),
                             tz="Europe/Paris", lang="fr")[0]
        assert line == ("• Aucune publication X pendant 7,5 jours (jeu 19 nov 22:00 → ven 27 nov 10:00) alors que "
                        "l'objectif est 2 par jour.")


class TestPromoMix:
    def test_over_the_80_20_rule(self, engine) -> None:
        with Session(engine) as session:
            for day in range(10):  # 4 promotional and 6 value posts over the next 30 days
                add(session, T0 + timedelta(days=3 * day, hours=1), f"p{day}", promo=day < 4)
            add(session, T0 + timedelta(days=2), "cancelled promo", promo=True, status="cancelled")
            add(session, T0 + timedelta(days=31), "too far promo", promo=True)
            add(session, T0 - timedelta(hours=1), "past promo", promo=True, status="published")
            mix = calendar.promo_mix(session, now=T0, max_share=0.2)
        assert mix is not None
        # 4 of 10 = 40 % > 20 %: at most floor(0.2 x 10) = 2 promotional, so turn 2; or add x with 4/(10+x) <= 0.2,
        # x >= 10.
        assert (mix.promo, mix.total, mix.share, mix.over, mix.to_convert, mix.to_add) == (4, 10, 0.4, True, 2, 10)
        assert warning_lines(calendar.Warnings(gaps=[], mix=mix, too_close=[], bad_hours=[]),
                             tz="Europe/Paris", lang="en") == [
            "• Next 30 days: 4 of 10 posts are promotional (40 %); the 80/20 rule wants at most 20 %: turn 2 into "
            "value content, or add 10 value posts."]

    def test_within_the_rule_it_is_only_shown_as_context(self, engine) -> None:
        with Session(engine) as session:
            for day in range(5):  # 1 of 5 = 20 %: exactly at the limit
                add(session, T0 + timedelta(days=day, hours=2), f"p{day}", promo=day == 0)
            view = default_view()
            posts = calendar.list_posts(session, view)
            warnings = calendar.warnings(session, workspace=workspace(), view=view, posts=posts, now=T0)
        assert warnings.mix is not None and not warnings.mix.over and warnings.count == 0
        rendered = render_listing(view, posts, warnings, tz="Europe/Paris", lang="en")
        assert rendered.blocks[-1] == {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            "Mix over the next 30 days: 1 promotional, 4 value (20 % promotional; at most 20 %).")}]}


class TestTooClose:
    @pytest.mark.parametrize(("min_gap_h", "expected"), [(3, 1), (2, 0)])
    def test_two_posts_on_one_network_closer_than_the_threshold(self, engine, min_gap_h, expected) -> None:
        ws = workspace(f"calendar:\n  min_gap_h: {min_gap_h}\n")
        day = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # Saturday 11:00 in Paris
        with Session(engine) as session:
            add(session, day, "Morning reel")
            add(session, day + timedelta(hours=2, minutes=30), "Lunch carousel")  # 2 h 30 later
            add(session, day + timedelta(hours=1), "Same time on X", network="x")  # another network
            add(session, day + timedelta(hours=5, minutes=30), "Exactly 3 h later")  # 3 h after the carousel
            add(session, day + timedelta(hours=6), "Cancelled", status="cancelled")
            view = default_view()
            posts = calendar.list_posts(session, view)
            warnings = calendar.warnings(session, workspace=ws, view=view, posts=posts, now=T0)
        assert len(warnings.too_close) == expected
        if expected:
            assert warning_lines(warnings, tz="Europe/Paris", lang="en") == [
                "• Instagram: “Morning reel” (Sat 21 Nov 11:00) and “Lunch carousel” (Sat 21 Nov 13:30) are only "
                "2 h 30 apart; keep at least 3 h between two posts."]


class TestBadHours:
    # Our Instagram posts over the last 90 days, by local hour in Paris (likes, comments, shares); October dates
    # are in summer time (UTC+2), November ones in winter time (UTC+1): the local hour is what counts.
    HISTORY = {
        9: [(20, 5, 5), (30, 10, 0), (40, None, 10)],  # 30, 40, 50 -> average 40
        12: [(50, 10, 0), (60, 0, 0), (55, 5, None)],  # 60, 60, 60 -> 60
        18: [(80, 10, 10), (70, 5, 5), (90, 0, 0), (80, 10, 0)],  # 100, 80, 90, 90 -> 90
        22: [(8, 2, 0), (5, 0, 0), (10, 5, 0)],  # 10, 5, 15 -> 10
        7: [(900, 100, 0), (1000, 0, 0)],  # only 2 posts: not judged
    }

    def own_posts(self, session: Session) -> None:
        n = 0
        for hour, posts in self.HISTORY.items():
            for i, (likes, comments, shares) in enumerate(posts):
                n += 1
                local = datetime(2026, 10, 5 + 7 * i, hour, 15, tzinfo=PARIS) if i % 2 == 0 else \
                    datetime(2026, 11, 2 + i, hour, 15, tzinfo=PARIS)
                session.add(models.OwnPost(network="instagram", external_id=f"ig{n}", source="ig", created_at=local,
                                           text="", likes=likes, comments=comments, shares=shares, first_seen_at=T0,
                                           fetched_at=T0))
        # Outside the 90 days, or on another network: neither moves the Instagram 22:00 average.
        session.add(models.OwnPost(network="instagram", external_id="old", source="ig", text="", likes=5000,
                                   created_at=datetime(2026, 8, 1, 22, 0, tzinfo=PARIS), first_seen_at=T0,
                                   fetched_at=T0))
        session.add(models.OwnPost(network="x", external_id="x1", source="x", text="", likes=5000,
                                   created_at=datetime(2026, 11, 10, 22, 0, tzinfo=PARIS), first_seen_at=T0,
                                   fetched_at=T0))
        session.commit()

    def test_a_post_at_an_hour_well_below_the_median_hour(self, engine) -> None:
        with Session(engine) as session:
            self.own_posts(session)
            late = add(session, datetime(2026, 11, 21, 22, 0, tzinfo=PARIS), "Late drop")
            add(session, datetime(2026, 11, 22, 9, 0, tzinfo=PARIS), "Morning post")  # 40 >= 0.5 x 50: fine
            add(session, datetime(2026, 11, 22, 7, 0, tzinfo=PARIS), "Early bird")  # 7:00 not judged
            add(session, datetime(2026, 11, 23, 22, 0, tzinfo=PARIS), "X at night", network="x")  # no X history
            view = default_view()
            posts = calendar.list_posts(session, view)
            warnings = calendar.warnings(session, workspace=workspace(), view=view, posts=posts, now=T0)
        # Judged hours (>= 3 posts): 9 -> 40, 12 -> 60, 18 -> 90, 22 -> 10; median (40 + 60) / 2 = 50;
        # bad below 0.5 x 50 = 25: 22:00 only; the best hour is 18:00 (90).
        assert [(b.post.id, b.hour, b.stats.posts, b.stats.average, b.median, b.best_hour, b.best.average)
                for b in warnings.bad_hours] == [(late.id, 22, 3, 10.0, 50.0, 18, 90.0)]
        assert warning_lines(warnings, tz="Europe/Paris", lang="en")[-1] == (
            "• “Late drop” (Instagram, Sat 21 Nov 22:00): our Instagram posts at 22:00 average 10 interactions, "
            "well below the median hour (50); 18:00 does best (90).")

    def test_too_little_history_judges_no_hour(self, engine) -> None:
        ws = workspace("calendar:\n  bad_hour: {min_hours: 5}\n")  # only 4 hours have enough posts
        with Session(engine) as session:
            self.own_posts(session)
            add(session, datetime(2026, 11, 21, 22, 0, tzinfo=PARIS), "Late drop")
            view = default_view()
            posts = calendar.list_posts(session, view)
            assert calendar.warnings(session, workspace=ws, view=view, posts=posts, now=T0).bad_hours == []


def test_the_listing_shows_the_warnings_under_the_posts(engine) -> None:
    ws = workspace(OBJECTIVES.split("  - {id: ig-video")[0])
    with Session(engine) as session:
        add(session, T0 + timedelta(days=1), "Saturday", promo=True)
        add(session, T0 + timedelta(days=1, hours=1), "Saturday again", promo=True)
        view = default_view()
        posts = calendar.list_posts(session, view)
        warnings = calendar.warnings(session, workspace=ws, view=view, posts=posts, now=T0)
    rendered = render_listing(view, posts, warnings, tz="Europe/Paris", lang="en")
    text = rendered.blocks[-1]["text"]["text"]
    assert text.splitlines() == [
        "*⚠️ Warnings*",
        "• No Instagram post for 6 days (Sat 21 Nov 11:00 → Fri 27 Nov 10:00) while the objective is one every "
        "2 days.",
        "• Next 30 days: 2 of 2 posts are promotional (100 %); the 80/20 rule wants at most 20 %: turn 2 into "
        "value content, or add 8 value posts.",
        "• Instagram: “Saturday” (Sat 21 Nov 10:00) and “Saturday again” (Sat 21 Nov 11:00) are only 1 h 00 "
        "apart; keep at least 3 h between two posts.",
    ]
