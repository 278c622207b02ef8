"""Every /kpi figure on a small fixture, against answers computed by hand (the arithmetic is in the comments).

The fixture (T0 = Friday 2026-11-20 09:00Z, brand time zone Europe/Paris, period `7d` = [T0-7d, T0]):

  brand items in the period           network    author   sentiment  status        created   handled after
  m1                                  x          alice    positive   handled       T0-2d     30 min
  m2                                  x          alice    positive   handled       T0-3d     90 min
  m3                                  x          bob      negative   handled       T0-1d     10 min
  m4                                  instagram  carla    negative   open          T0-5d
  m5                                  instagram  carla    neutral    not_relevant  T0-6d
  m6                                  x          bob      neutral    open          T0-2h
  m7                                  x          dan      positive   handled       T0-4d     240 min
  m8                                  x          alice    negative   snoozed       T0-1d
  previous period (T0-14d..T0-7d): p1..p4 on x, 2 handled, 2 open; one item T0-20d in neither period.
  competitors in the period (x): "Lumière Co" 3 items, "Photon" 1 item; all open and positive.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session

from bot import models
from bot.render.kpi import render_report
from bot.services import kpi
from bot.services.kpi_objectives import evaluate_all
from bot.services.kpi_posts import posts_report
from bot.workspace import Workspace, parse_workspace
from tests.conftest import T0, WORKSPACE_YAML

KPI_YAML = WORKSPACE_YAML.replace("  handles: {x: maisonlumen}\n",
                                  "  handles: {x: maisonlumen}\n  competitors: [Lumière Co, Photon]\n") + """
sources:  # competitor listening: share of voice is measured against the competitors a source listens to
  - {name: rival-co, type: rss, subject: Lumière Co}
  - {name: rival-photon, type: rss, subject: Photon}
objectives:
  - {id: answers, title: Answer 80% of items, metric: response_rate, target: 0.8, deadline: 2026-12-20}
  - {id: speed, title: First answer within 45 min, metric: median_first_response_min, target: 45}
  - {id: photos, title: "Instagram: a photo every 2 days", metric: posts_per_day, target: 0.5, network: instagram,
     format: image, deadline: 2026-12-31}
  - {id: likes, title: 50 likes on average on Instagram, metric: avg_likes, target: 50, network: instagram}
  - {id: mood, title: Net sentiment 0.2, metric: net_sentiment, target: 0.2, deadline: 2026-11-15}
  - {id: voice, title: Half the conversation, metric: share_of_voice, target: 0.5}
"""


@pytest.fixture
def kpi_workspace() -> Workspace:
    return parse_workspace(KPI_YAML, "test.yaml")


def _author(session: Session, handle: str, network: str, followers: int | None) -> int:
    row = models.Author(network=network, handle=handle, followers=followers, first_seen_at=T0, last_seen_at=T0)
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def _mention(session: Session, n: str, *, author: int, created: datetime, network: str = "x",
             sentiment: str = "neutral", status: str = "open", handled_after: int | None = None,
             subject: str | None = None) -> int:
    row = models.Mention(network=network, external_id=n, source="test", kind="mention", author_id=author, text=n,
                         created_at=created, ingested_at=created, raw={}, sentiment_label=sentiment,
                         sentiment_compound=0.0, status=status, subject=subject,
                         handled_at=created + timedelta(minutes=handled_after) if handled_after is not None else None)
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def _task(session: Session, mention: int, rule: str, action: str, owner: str, created: datetime, due_after: int,
          done_after: int | None = None, cancelled: bool = False) -> None:
    session.add(models.Task(mention_id=mention, rule_id=rule, action=action, owner=owner, created_at=created,
                            due_at=created + timedelta(minutes=due_after), cancelled=cancelled,
                            done_at=created + timedelta(minutes=done_after) if done_after is not None else None))


def _own_post(session: Session, n: str, network: str, created: datetime, media: str, likes: int | None,
              comments: int | None = None, shares: int | None = None, pillar: str | None = None) -> None:
    plan_id = None
    if pillar:
        plan = models.CalendarPost(network=network, scheduled_at=created, title=n, pillar=pillar, status="published")
        session.add(plan)
        session.flush()
        plan_id = plan.id
    session.add(models.OwnPost(network=network, external_id=n, source="test", created_at=created, text=n,
                               media_type=media, likes=likes, comments=comments, shares=shares, raw={},
                               first_seen_at=created, fetched_at=created, calendar_post_id=plan_id))


def build_dataset(session: Session) -> dict[str, int]:
    """The fixture described in the module docstring; returns mention ids by name."""
    alice = _author(session, "alice", "x", 150_000)  # macro (100k..1M)
    bob = _author(session, "bob", "x", 50)
    carla = _author(session, "carla", "instagram", 20_000)  # micro (10k..100k)
    dan = _author(session, "dan", "x", 5)
    day = timedelta(days=1)
    ids = {
        "m1": _mention(session, "m1", author=alice, created=T0 - 2 * day, sentiment="positive", status="handled",
                       handled_after=30),
        "m2": _mention(session, "m2", author=alice, created=T0 - 3 * day, sentiment="positive", status="handled",
                       handled_after=90),
        "m3": _mention(session, "m3", author=bob, created=T0 - day, sentiment="negative", status="handled",
                       handled_after=10),
        "m4": _mention(session, "m4", author=carla, created=T0 - 5 * day, network="instagram", sentiment="negative"),
        "m5": _mention(session, "m5", author=carla, created=T0 - 6 * day, network="instagram", status="not_relevant",
                       handled_after=5),
        "m6": _mention(session, "m6", author=bob, created=T0 - timedelta(hours=2)),
        "m7": _mention(session, "m7", author=dan, created=T0 - 4 * day, sentiment="positive", status="handled",
                       handled_after=240),
        "m8": _mention(session, "m8", author=alice, created=T0 - day, sentiment="negative", status="snoozed"),
    }
    for i, status in enumerate(("handled", "handled", "open", "open")):
        _mention(session, f"p{i}", author=dan, created=T0 - 8 * day - i * timedelta(hours=5), status=status,
                 handled_after=60 if status == "handled" else None)
    _mention(session, "old", author=dan, created=T0 - 20 * day)
    for i in range(3):
        _mention(session, f"c{i}", author=bob, created=T0 - day, sentiment="positive", subject="Lumière Co")
    _mention(session, "c3", author=bob, created=T0 - day, sentiment="positive", subject="Photon")
    # Owners: m4 (open 5 days: overdue) to support, m6 (open 2 h) to the community manager; m6's earlier owner is
    # an inactive assignment; m8 is snoozed, so not open.
    for mention, owner, active in ((ids["m4"], "U0SUPPORT1", True), (ids["m6"], "U0OLD", False),
                                   (ids["m6"], "U0CM1", True), (ids["m8"], "U0CM1", True)):
        session.add(models.Assignment(mention_id=mention, owner=owner, reason="test", assigned_at=T0, active=active))
    _task(session, ids["m1"], "thank-positive", "thank", "U0CM1", T0 - 2 * day, 60, done_after=30)  # on time
    _task(session, ids["m2"], "thank-positive", "thank", "U0CM1", T0 - 3 * day, 60, done_after=90)  # late
    _task(session, ids["m7"], "thank-positive", "thank", "U0CM1", T0 - 4 * day, 60)  # open past due: missed
    _task(session, ids["m3"], "answer-negative", "reply", "U0SUPPORT1", T0 - day, 120, done_after=10)  # on time
    _task(session, ids["m4"], "answer-negative", "reply", "U0SUPPORT1", T0 - 5 * day, 120, cancelled=True)
    _task(session, ids["m6"], "answer-question", "reply", "U0CM1", T0 - timedelta(hours=2), 180)  # due after T0
    # Own posts (Paris is UTC+1 in November; T0 is a Friday).
    _own_post(session, "ig1", "instagram", datetime.fromisoformat("2026-11-18T17:00:00+00:00"), "image", 40, 5, 0,
              pillar="product")  # Wed 18:00, engagement 45
    _own_post(session, "ig2", "instagram", datetime.fromisoformat("2026-11-17T17:30:00+00:00"), "carousel", 60, 10,
              5, pillar="product")  # Tue 18:30, engagement 75
    _own_post(session, "ig3", "instagram", datetime.fromisoformat("2026-11-16T08:00:00+00:00"), "video", 100, 20, 10,
              pillar="behind the scenes")  # Mon 09:00, engagement 130
    _own_post(session, "ig4", "instagram", datetime.fromisoformat("2026-11-10T17:00:00+00:00"), "image", 20)
    # ^ Tue 18:00, previous period, engagement 20 (comments and shares unknown: 0)
    _own_post(session, "x1", "x", datetime.fromisoformat("2026-11-19T07:00:00+00:00"), "status", 5, 1, 2)
    # ^ Thu 08:00, engagement 8
    session.commit()
    return ids


@pytest.fixture
def session(engine):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        build_dataset(s)
        yield s


def week() -> kpi.Period:
    period = kpi.parse_period("7d", now=T0, tz="Europe/Paris")
    assert period is not None
    return period


class TestPeriods:
    def test_relative_named_and_explicit_periods(self) -> None:
        p = kpi.parse_period("30d", now=T0, tz="Europe/Paris")
        tick = timedelta(microseconds=1)  # (now - 30 days, now]: an item stamped exactly now counts
        assert p is not None and p.start == T0 - timedelta(days=30) + tick and p.end == T0 + tick and p.days == 30
        assert p.previous().start == T0 - timedelta(days=60) + tick and p.previous().end == p.start
        h = kpi.parse_period("24h", now=T0, tz="Europe/Paris")
        assert h is not None and h.start == T0 - timedelta(hours=24) + tick
        # T0 is Friday 10:00 in Paris: `week` starts on Monday 16 at 00:00 Paris = Sunday 15 at 23:00Z.
        w = kpi.parse_period("week", now=T0, tz="Europe/Paris")
        assert w is not None and w.start == datetime.fromisoformat("2026-11-15T23:00:00+00:00")
        m = kpi.parse_period("month", now=T0, tz="Europe/Paris")
        assert m is not None and m.start == datetime.fromisoformat("2026-10-31T23:00:00+00:00")
        # Both dates included, in local days: Nov 1 00:00 Paris to Nov 16 00:00 Paris.
        r = kpi.parse_period("2026-11-01..2026-11-15", now=T0, tz="Europe/Paris")
        assert r is not None and r.start == datetime.fromisoformat("2026-10-31T23:00:00+00:00")
        assert r.end == datetime.fromisoformat("2026-11-15T23:00:00+00:00") and r.days == 15
        assert kpi.parse_period("instagram", now=T0, tz="UTC") is None

    @pytest.mark.parametrize("bad", ["0d", "999d", "2026-11-15..2026-11-01", "2026-02-30..2026-03-01"])
    def test_impossible_periods_are_explained(self, bad: str) -> None:
        from bot.errors import UserError

        with pytest.raises(UserError, match="not a period I can use"):
            kpi.parse_period(bad, now=T0, tz="UTC")


class TestFigures:
    def test_volume_trend_sentiment_and_responses(self, session: Session) -> None:
        cur = kpi.mention_figures(session, week())
        # 8 brand items (m1..m8); competitors' 4 are apart.
        assert cur.volume == 8 and cur.by_subject == {"Lumière Co": 3, "Photon": 1}
        assert cur.by_network == {"x": 6, "instagram": 2}  # m1 m2 m3 m6 m7 m8 / m4 m5
        # positive m1 m2 m7 = 3, neutral m5 m6 = 2, negative m3 m4 m8 = 3; net = (3 - 3) / 8 = 0
        assert (cur.positive, cur.neutral, cur.negative) == (3, 2, 3) and cur.net_sentiment == 0
        # responded: m1 m2 m3 m7 = 4; called for: 8 - 1 dismissed (m5) = 7; rate = 4/7
        assert cur.responded == 4 and cur.response_rate == pytest.approx(4 / 7)
        # median of [10, 30, 90, 240] minutes = (30 + 90) / 2 = 60
        assert kpi.median_first_response_min(session, week()) == pytest.approx(60)
        # odd count on x alone: handled m1 m2 m3 m7 -> same 4 values; on instagram nothing was handled
        assert kpi.median_first_response_min(session, week(), "instagram") is None
        # share of voice: 8 / (8 + 3 + 1) = 2/3
        assert cur.share_of_voice(["Lumière Co", "Photon"]) == pytest.approx(2 / 3)

    def test_the_report_puts_it_together(self, session: Session, kpi_workspace: Workspace) -> None:
        report = kpi.report(session, week(), workspace=kpi_workspace, now=T0)
        # previous period: p0..p3 = 4 items; trend = (8 - 4) / 4 = +100 %
        assert report.previous.volume == 4 and report.trend == pytest.approx(1.0)
        assert report.median_response_min == pytest.approx(60)
        assert report.share_of_voice == pytest.approx(2 / 3)

    def test_an_odd_number_of_responses_takes_the_middle_one(self, session: Session) -> None:
        # Only x items between T0-3d and T0-1d+1min: m1 (30), m2 (90), m3 (10) -> sorted 10, 30, 90 -> 30
        period = kpi.Period(T0 - timedelta(days=3), T0 - timedelta(days=1) + timedelta(minutes=1), "custom")
        assert kpi.median_first_response_min(session, period, "x") == pytest.approx(30)

    def test_network_filter(self, session: Session) -> None:
        ig = kpi.mention_figures(session, week(), "instagram")
        # m4 (negative, open) and m5 (neutral, dismissed): rate = 0 / (2 - 1) = 0; net = (0 - 1) / 2
        assert ig.volume == 2 and ig.response_rate == 0 and ig.net_sentiment == pytest.approx(-0.5)
        assert ig.share_of_voice(["Lumière Co", "Photon"]) == 1.0  # competitors were only heard on x

    def test_rule_consistency_per_rule(self, session: Session) -> None:
        report = kpi.rule_consistency(session, week(), now=T0)
        thank = report.by_rule["thank-positive"].overall
        # t1 on time, t2 late, t3 open past due -> 1 of 3
        assert (thank.on_time, thank.late, thank.overdue, thank.pending) == (1, 1, 1, 0)
        assert thank.describe("thank") == "thanked 1 of 3 — 33%"
        # t4 on time; t5 cancelled is left out
        assert report.by_rule["answer-negative"].overall.describe("reply") == "answered 1 of 1 — 100%"
        # t6 is still before its deadline: pending, not decided
        assert report.by_rule["answer-question"].overall.pending == 1
        assert report.overall.decided == 4 and report.by_owner["U0CM1"].decided == 3

    def test_the_same_consistency_as_the_engagement_service(self, session: Session) -> None:
        from bot.services.engagement import team_consistency

        period = week()
        mine = kpi.rule_consistency(session, period, now=T0)
        theirs = team_consistency(session, since=period.start, now=T0)
        assert {k: (v.overall.on_time, v.overall.late, v.overall.overdue, v.overall.pending)
                for k, v in mine.by_rule.items()} == \
               {k: (v.overall.on_time, v.overall.late, v.overall.overdue, v.overall.pending)
                for k, v in theirs.by_rule.items()}

    def test_deadline_breaches(self, session: Session) -> None:
        breaches = {b.rule_id: b for b in kpi.deadline_breaches(session, week(), now=T0)}
        # due in the period: t1 t2 t3 (thank), t4 (answer); t5 cancelled, t6 due after T0
        assert breaches["thank-positive"] == kpi.Breach("thank-positive", due=3, late=1, missed=1)
        assert breaches["answer-negative"] == kpi.Breach("answer-negative", due=1, late=0, missed=0)
        assert "answer-question" not in breaches

    def test_open_and_overdue_by_owner(self, session: Session) -> None:
        loads = kpi.owner_load(session, week(), now=T0, overdue_after=timedelta(hours=24))
        # m4 open for 5 days (> 24 h) with support; m6 open for 2 h with the CM (its old owner is inactive);
        # m8 is snoozed, m5 dismissed: not open.
        assert loads == [kpi.OwnerLoad("U0SUPPORT1", 1, 1), kpi.OwnerLoad("U0CM1", 1, 0)]

    def test_top_authors_and_influencers(self, session: Session, kpi_workspace: Workspace) -> None:
        found = kpi.authors(session, week(), workspace=kpi_workspace)
        # alice m1 m2 m8 = 3; bob m3 m6 = 2 (his competitor items do not count); carla m4 m5 = 2; dan m7 = 1
        assert [(a.handle, a.items) for a in found.top] == [("alice", 3), ("bob", 2), ("carla", 2), ("dan", 1)]
        # alice 150k followers: macro; carla 20k: micro
        assert [(a.handle, a.tier) for a in found.influencers] == [("alice", "macro"), ("carla", "micro")]
        assert found.by_tier == {"macro": 1, "micro": 1}

    def test_competitor_items_are_left_out_of_everything_but_share_of_voice(self, session: Session,
                                                                           kpi_workspace: Workspace) -> None:
        report = kpi.report(session, kpi.Period(T0 - timedelta(days=1, hours=1), T0, "1d"), workspace=kpi_workspace,
                            now=T0)
        # In the last 25 h: brand m3, m6, m8 (3 items) and the 4 competitor items.
        assert report.current.volume == 3 and report.current.positive == 0
        assert report.share_of_voice == pytest.approx(3 / 7)
        assert [a.handle for a in report.authors.top] == ["bob", "alice"]  # bob: m3 m6 only; alice: m8


class TestObjectives:
    def test_progress_projection_and_verdicts(self, session: Session, kpi_workspace: Workspace) -> None:
        found = {s.objective.id: s for s in evaluate_all(session, workspace=kpi_workspace, period=week(), now=T0)}
        answers = found["answers"]
        # current 4/7 = 0.5714; previous p0..p3: 2 handled of 4 = 0.5; slope = (4/7 - 1/2) / 7 days = 1/98 per day;
        # deadline end = 2026-12-21 00:00 Paris = 2026-12-20 23:00Z, now 2026-11-20 09:00Z -> 30 d 14 h = 30.5833 d;
        # projected = 4/7 + 30.5833/98 = 0.5714 + 0.3121 = 0.8835 >= 0.8 -> on track; progress 0.5714/0.8 = 71 %
        assert answers.current == pytest.approx(4 / 7) and answers.previous == pytest.approx(0.5)
        assert answers.days_left == pytest.approx(30 + 14 / 24)
        assert answers.projected == pytest.approx(4 / 7 + (30 + 14 / 24) / 98)
        assert answers.verdict == "on_track" and answers.progress == pytest.approx(4 / 7 / 0.8)
        speed = found["speed"]
        # median 60 min > 45 (lower is better), no deadline: projected = current -> at risk; progress 45/60 = 75 %
        assert speed.current == pytest.approx(60) and speed.verdict == "at_risk"
        assert speed.progress == pytest.approx(0.75)
        photos = found["photos"]
        # Instagram image-like posts (image, carousel) in the period: ig1, ig2 -> 2 / 7 days; previous: ig4 -> 1/7.
        # slope = (2/7 - 1/7) / 7 = 1/49 per day; deadline end 2026-12-31 23:00Z -> 41 d 14 h = 41.5833 d;
        # projected = 2/7 + 41.5833/49 = 0.2857 + 0.8486 = 1.1344 >= 0.5 -> on track; progress 0.2857/0.5 = 57 %
        assert photos.current == pytest.approx(2 / 7) and photos.previous == pytest.approx(1 / 7)
        assert photos.projected == pytest.approx(2 / 7 + (41 + 14 / 24) / 49)
        assert photos.verdict == "on_track" and photos.progress == pytest.approx(4 / 7)
        likes = found["likes"]
        # Instagram posts in the period, every format: 40, 60, 100 likes -> 200 / 3 = 66.7 >= 50 -> on track
        assert likes.current == pytest.approx(200 / 3) and likes.verdict == "on_track" and likes.progress == 1.0
        # net sentiment (3 - 3) / 8 = 0 < 0.2 and its deadline (Nov 15) is over -> missed
        assert found["mood"].current == 0 and found["mood"].verdict == "missed"
        # share of voice 2/3 >= 1/2 -> on track
        assert found["voice"].current == pytest.approx(2 / 3) and found["voice"].verdict == "on_track"

    def test_a_volume_objective_projects_its_trend(self, session: Session) -> None:
        ws = parse_workspace(KPI_YAML.split("objectives:")[0] + """
objectives:
  - {id: v, title: Volume, metric: volume, target: 1.0, deadline: 2026-12-20}
""", "t.yaml")
        [status] = evaluate_all(session, workspace=ws, period=week(), now=T0)
        # volume/day: 8/7 = 1.143 now, 4/7 = 0.571 before: rising -> projected far above 1 -> on track
        assert status.current == pytest.approx(8 / 7) and status.verdict == "on_track"
        [later] = evaluate_all(session, workspace=ws, period=kpi.Period(T0 - timedelta(days=7), T0 + timedelta(
            days=7), "ahead"), now=T0)
        # the 14-day period [T0-7d, T0+7d) holds the same 8 items: 8/14 = 0.571/day; before it [T0-21d, T0-7d):
        # p0..p3 + old = 5 -> 5/14 = 0.357; slope = (3/14)/14 per day; 30.58 days left -> 0.571 + 0.468 = 1.04 >= 1
        assert later.current == pytest.approx(8 / 14) and later.projected == pytest.approx(
            8 / 14 + (3 / 14) / 14 * (30 + 14 / 24))
        assert later.verdict == "on_track"

    def test_roi_objectives_use_the_roi_figures(self, session: Session) -> None:
        ws = parse_workspace(KPI_YAML.split("objectives:")[0] + """
objectives:
  - {id: cpl, title: Lead under 20 EUR, metric: cost_per_lead, target: 20}
""", "t.yaml")
        [status] = evaluate_all(session, workspace=ws, period=week(), now=T0)
        assert status.objective.lower_is_better
        assert status.verdict == "no_data"  # no campaign results were recorded (ROI is part of the product)


class TestOwnPosts:
    def test_hours_days_formats_and_pillars(self, session: Session) -> None:
        period = kpi.parse_period("90d", now=T0, tz="Europe/Paris")
        assert period is not None
        report = posts_report(session, period, tz="Europe/Paris")
        assert report.posts == 5
        # 18h Paris: ig1 (45), ig2 (75, at 18:30), ig4 (20) -> 140 / 3 = 46.7, n = 3; 09h: ig3 130; 08h: x1 8
        assert (report.by_hour[18].posts, report.by_hour[18].engagement) == (3, 140)
        assert [g.key for g in report.ranked(report.by_hour)] == ["18"]  # the others have one post each
        assert report.by_weekday[1].posts == 2  # Tuesday: ig2, ig4
        # formats: image ig1 + ig4 = 65 / 2; carousel 75; video 130; status 8
        assert {k: (g.posts, g.engagement) for k, g in report.by_format.items()} == {
            "image": (2, 65), "carousel": (1, 75), "video": (1, 130), "status": (1, 8)}
        # pillars: product ig1 + ig2 = 120 / 2 = 60; behind the scenes ig3 130
        assert {k: (g.posts, g.mean) for k, g in report.by_pillar.items()} == {
            "product": (2, 60.0), "behind the scenes": (1, 130.0)}

    def test_network_filter(self, session: Session) -> None:
        period = kpi.Period(T0 - timedelta(days=7), T0, "7d")
        report = posts_report(session, period, tz="Europe/Paris", network="x")
        assert report.posts == 1 and report.by_format["status"].mean == 8


def test_objective_config_is_validated() -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="format only applies"):
        parse_workspace(KPI_YAML.split("objectives:")[0] + """
objectives:
  - {id: x, title: t, metric: response_rate, target: 1, format: image}
""", "t.yaml")
    with pytest.raises(ConfigError, match="not in brand.competitors"):
        parse_workspace(KPI_YAML.split("objectives:")[0] + """
sources:
  - {name: rival, type: rss, subject: Nobody}
""", "t.yaml")
    assert date(2026, 12, 20) == parse_workspace(KPI_YAML, "t.yaml").objectives[0].deadline


def test_share_of_voice_leaves_out_a_competitor_nobody_listens_to(engine, kpi_workspace) -> None:  # type: ignore[no-untyped-def]
    """With no listening source for Photon, its 0 items would read as a 0 % share: it is named as missing instead."""
    ws = parse_workspace(KPI_YAML.replace("  - {name: rival-photon, type: rss, subject: Photon}\n", ""), "t.yaml")
    assert ws.listened_competitors == ["Lumière Co"]
    with Session(engine) as session:
        report = kpi.report(session, kpi.Period(T0 - timedelta(days=7), T0, "7d"), workspace=ws, now=T0)
    assert report.competitors == ["Lumière Co"] and report.unlistened == ["Photon"]
    text = str(render_report(report, brand="Maison Lumen", lang="en", tz="UTC").blocks)
    assert "leaves out Photon" in text
    no_source = parse_workspace(KPI_YAML.split("sources:")[0] + "objectives:" + KPI_YAML.split("objectives:")[1],
                                "t.yaml")
    with Session(engine) as session:
        alone = kpi.report(session, kpi.Period(T0 - timedelta(days=7), T0, "7d"), workspace=no_source, now=T0)
    assert alone.share_of_voice is None  # not 100 %: nothing was measured
