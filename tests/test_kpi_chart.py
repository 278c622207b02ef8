"""`/kpi chart`: the daily series behind each chart (hand-computed), the PNG a member sees in Slack, and the
command end to end: signed request in, ack first, the file in the channel, clear errors."""

from __future__ import annotations

import io
import struct
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import numpy as np
import pytest
from matplotlib import image as mpimage
from sqlmodel import Session

from bot import models
from bot.console import slack_requests
from bot.render.charts import (
    chart_days,
    engagement_series,
    kpi_chart_png,
    response_series,
    sentiment_series,
    spans,
    volume_series,
)
from bot.runtime import Runtime, RuntimeOptions
from tests.conftest import T0
from tests.slackbot import SECRET, SlackBot, wait_until

TZ = "Europe/Paris"  # UTC+1 in November
NOV = [date(2026, 11, d) for d in (18, 19, 20)]


def _author(session: Session, handle: str = "jane") -> int:
    author = models.Author(network="x", handle=handle, first_seen_at=T0, last_seen_at=T0)
    session.add(author)
    session.flush()
    assert author.id is not None
    return author.id


def add_mention(session: Session, author: int, created: datetime, *, network: str = "x", label: str = "neutral",
                handled_after: timedelta | None = None, subject: str | None = None, status: str | None = None) -> None:
    n = session.info.setdefault("n", 0) + 1
    session.info["n"] = n
    mention = models.Mention(
        network=network, external_id=f"m{n}", source="test", kind="mention", author_id=author, text="hello",
        created_at=created, ingested_at=created, raw={}, sentiment_label=label, sentiment_compound=0.0,
        status=status or ("handled" if handled_after is not None else "open"),
        handled_at=created + handled_after if handled_after is not None else None)
    if subject is not None:
        mention.subject = subject  # type: ignore[attr-defined]
    session.add(mention)


def add_post(session: Session, created: datetime, *, likes: int, comments: int, shares: int,
             network: str = "instagram") -> None:
    n = session.info.setdefault("p", 0) + 1
    session.info["p"] = n
    session.add(models.OwnPost(network=network, external_id=f"p{n}", source="test", created_at=created, text="post",
                               likes=likes, comments=comments, shares=shares, raw={}, first_seen_at=created,
                               fetched_at=created))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def pixels(png: bytes) -> np.ndarray:
    return mpimage.imread(io.BytesIO(png), format="png")


def share_of(png: bytes, hex_color: str, tolerance: float = 0.03) -> float:
    """Fraction of the image's pixels painted in `hex_color` (bars of that series)."""
    rgb = np.array([int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    image = pixels(png)[..., :3]
    return float((np.abs(image - rgb).max(axis=-1) < tolerance).mean())


class TestDays:
    def test_30d_ending_at_nine_shows_thirty_local_days_today_included(self) -> None:
        days = chart_days(T0 - timedelta(days=30), T0 + timedelta(microseconds=1), TZ)
        # T0 is 2026-11-20 10:00 in Paris; 30 days back is 10-21 10:00, so the first full day is 10-22.
        assert (days[0], days[-1], len(days)) == (date(2026, 10, 22), date(2026, 11, 20), 30)


class TestSeries:
    def test_volume_counts_each_local_day_per_network_and_leaves_competitors_out(self, engine) -> None:
        with Session(engine) as session:
            jane = _author(session)
            add_mention(session, jane, at(18, 10))
            add_mention(session, jane, at(18, 23, 30))  # 00:30 on the 19th in Paris: counts for the 19th
            add_mention(session, jane, at(19, 12), network="instagram")
            add_mention(session, jane, at(19, 13), network="instagram")
            add_mention(session, jane, at(20, 8))
            add_mention(session, jane, at(20, 8), subject="Lumina")  # a competitor's: share of voice only
            add_mention(session, jane, at(17, 22, 59))  # 23:59 on the 17th in Paris: before the first day
            session.commit()
            series = volume_series(session, NOV, TZ, None)
            only_x = volume_series(session, NOV, TZ, "x")
        # x: 18th 1, 19th 1 (the 23:30 UTC one), 20th 1; instagram: 19th 2. Biggest network first.
        assert series.values == {"x": [1, 1, 1], "instagram": [0, 2, 0]}
        assert only_x.values == {"x": [1, 1, 1]}

    def test_days_follow_the_clock_change(self, engine) -> None:
        # Paris leaves summer time on 2026-10-25 at 01:00 UTC: midnight is 22:00 UTC before, 23:00 UTC after.
        days = [date(2026, 10, d) for d in (24, 25, 26)]
        assert [(s.offset_s, s.end) for s in spans(datetime(2026, 10, 23, 22, tzinfo=UTC),
                                                   datetime(2026, 10, 26, 23, tzinfo=UTC), TZ)] == [
            (7200, datetime(2026, 10, 25, 1, tzinfo=UTC)), (3600, datetime(2026, 10, 26, 23, tzinfo=UTC))]
        with Session(engine) as session:
            jane = _author(session)
            add_mention(session, jane, datetime(2026, 10, 24, 21, 30, tzinfo=UTC))  # 23:30 CEST on the 24th
            add_mention(session, jane, datetime(2026, 10, 24, 22, 30, tzinfo=UTC))  # 00:30 CEST on the 25th
            add_mention(session, jane, datetime(2026, 10, 25, 22, 30, tzinfo=UTC))  # 23:30 CET on the 25th
            add_mention(session, jane, datetime(2026, 10, 25, 23, 30, tzinfo=UTC))  # 00:30 CET on the 26th
            session.commit()
            assert volume_series(session, days, TZ, None).values == {"x": [1, 2, 1]}

    def test_sentiment_shares_and_net_sentiment_per_day(self, engine) -> None:
        with Session(engine) as session:
            jane = _author(session)
            for label in ("positive", "positive", "neutral", "negative"):
                add_mention(session, jane, at(18, 9), label=label)
            add_mention(session, jane, at(19, 9), label="negative")
            session.commit()
            series = sentiment_series(session, NOV, TZ, None)
        # 18th: 2/4 positive = 50 %, 1/4 = 25 % neutral, 1/4 = 25 % negative; net = (2 - 1) / 4 = +25 %.
        # 19th: 1/1 negative = 100 %, net = (0 - 1) / 1 = -100 %. 20th: no item, no figure.
        assert series.values == {"positive": [50.0, 0.0, None], "neutral": [25.0, 0.0, None],
                                 "negative": [25.0, 100.0, None]}
        assert series.extra["net"] == [25.0, -100.0, None]

    def test_response_median_per_day_of_creation_and_over_the_period(self, engine) -> None:
        with Session(engine) as session:
            jane = _author(session)
            for minutes in (10, 30, 50):
                add_mention(session, jane, at(18, 9), handled_after=timedelta(minutes=minutes))
            for minutes in (20, 40):
                add_mention(session, jane, at(19, 9), handled_after=timedelta(minutes=minutes))
            add_mention(session, jane, at(19, 9))  # still open: no response yet, not in the median
            add_mention(session, jane, at(19, 9), status="not_relevant")  # called for no response
            add_mention(session, jane, at(19, 9), handled_after=timedelta(minutes=5), subject="Lumina")
            session.commit()
            series = response_series(session, NOV, TZ, None)
        # 18th: median of 10, 30, 50 = 30. 19th: median of 20, 40 = (20 + 40) / 2 = 30.
        # Period: median of 10, 20, 30, 40, 50 = 30.
        assert series.values["median"] == [pytest.approx(30.0), pytest.approx(30.0), None]
        assert series.overall == pytest.approx(30.0)

    def test_engagement_is_the_average_per_post_of_the_day(self, engine) -> None:
        with Session(engine) as session:
            add_post(session, at(18, 9), likes=10, comments=2, shares=1)
            add_post(session, at(18, 15), likes=30, comments=4, shares=0)
            add_post(session, at(20, 9), likes=7, comments=0, shares=3, network="x")
            session.commit()
            series = engagement_series(session, NOV, TZ, None)
            instagram = engagement_series(session, NOV, TZ, "instagram")
        # 18th: likes (10 + 30) / 2 = 20, comments (2 + 4) / 2 = 3, shares (1 + 0) / 2 = 0.5. 20th: one post.
        assert series.values == {"likes": [20.0, None, 7.0], "comments": [3.0, None, 0.0],
                                 "shares": [0.5, None, 3.0]}
        assert instagram.values["likes"] == [20.0, None, None]


class TestPng:
    @pytest.fixture
    def filled(self, engine):  # type: ignore[no-untyped-def]
        with Session(engine) as session:
            jane = _author(session)
            for day in range(1, 21):
                for k, label in enumerate(("positive", "neutral", "negative", "positive")[: 1 + day % 4]):
                    add_mention(session, jane, at(day, 8 + k), label=label, network=("x", "instagram")[k % 2],
                                handled_after=timedelta(minutes=15 * (k + 1)))
                add_post(session, at(day, 12), likes=10 + day, comments=day % 5, shares=day % 3)
            session.commit()
        return engine

    @pytest.mark.parametrize("metric", ["volume", "sentiment", "response", "engagement"])
    @pytest.mark.parametrize("lang", ["en", "fr"])
    def test_each_metric_is_an_800_by_450_png_with_its_data_drawn(self, filled, metric, lang) -> None:
        with Session(filled) as session:
            png = kpi_chart_png(session, metric, T0 - timedelta(days=30), T0, network=None, tz=TZ, lang=lang)
            empty = kpi_chart_png(session, metric, T0 + timedelta(days=5), T0 + timedelta(days=12), network=None,
                                  tz=TZ, lang=lang)
        assert png_size(png) == (800, 450)
        image = pixels(png)
        assert image.std() > 0.05, "the chart is blank"
        # Bars and lines: much more ink than on the "no data" chart of an empty week.
        ink = float((image[..., :3].min(axis=-1) < 0.9).mean())
        empty_ink = float((pixels(empty)[..., :3].min(axis=-1) < 0.9).mean())
        assert ink > 1.5 * empty_ink

    @pytest.mark.parametrize("metric", ["volume", "sentiment", "response", "engagement"])
    def test_an_empty_period_gives_a_readable_no_data_chart(self, engine, metric) -> None:
        with Session(engine) as session:
            png = kpi_chart_png(session, metric, T0 - timedelta(days=7), T0, network="x", tz=TZ, lang="en")
        assert png_size(png) == (800, 450)
        image = pixels(png)
        assert image.std() > 0.02, "even without data, the title, the axis and the notice are drawn"

    def test_volume_bars_use_one_colour_per_network(self, filled) -> None:
        with Session(filled) as session:
            both = kpi_chart_png(session, "volume", T0 - timedelta(days=30), T0, network=None, tz=TZ, lang="en")
            x_only = kpi_chart_png(session, "volume", T0 - timedelta(days=30), T0, network="x", tz=TZ, lang="en")
        blue, orange = "#3d6fd6", "#e08a1e"  # first and second networks of the palette
        assert share_of(both, blue) > 0.01 and share_of(both, orange) > 0.01
        assert share_of(x_only, orange) < 0.001

    def test_an_unknown_metric_is_refused(self, engine) -> None:
        with Session(engine) as session, pytest.raises(ValueError, match="unknown chart metric"):
            kpi_chart_png(session, "reach", T0 - timedelta(days=7), T0, network=None, tz=TZ, lang="en")


# ---------------------------------------------------------------------------------------------
# The command, end to end


@pytest.fixture
def runtime(db_url, fake_slack, workspace, clock) -> Iterator[Runtime]:  # type: ignore[no-untyped-def]
    runtime = Runtime(RuntimeOptions(token="xoxb-test", signing_secret=SECRET, slack_api_url=fake_slack.base_url,
                                     database_url=db_url, workspace=workspace, clock=clock, outbox_idle_s=0.05))
    runtime.start(poll=False)
    yield runtime
    runtime.stop()


def command(runtime: Runtime, fake, text: str, channel: str = "C0TRIAGE") -> tuple[httpx.Response, float]:  # type: ignore[no-untyped-def]
    body = slack_requests.slash_command("/kpi", text, user_id="U0CM1", channel_id=channel,
                                        response_url=fake.response_url(f"kpi-{time.monotonic_ns()}"))
    started = time.monotonic()
    response = SlackBot(runtime, fake).post(body)  # signed like Slack signs it
    return response, time.monotonic() - started


def files_in(fake, channel: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [f for m in fake.messages(channel) for f in m.get("files") or []]


def ephemerals(fake) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.body.get("text", "") for r in fake.responses() if r.body.get("response_type") == "ephemeral"]


class TestChartCommand:
    def test_the_chart_lands_in_the_channel_after_the_ack(self, runtime, fake_slack) -> None:
        with Session(runtime.engine) as session:
            jane = _author(session)
            add_mention(session, jane, at(19, 9), label="positive")
            session.commit()
        # Slack is slow to hand out the upload URL: the ack must not wait for it, nor for the drawing.
        fake_slack.delay("files.getUploadURLExternal", 3.0)
        response, took = command(runtime, fake_slack, "chart sentiment 7d")
        assert response.status_code == 200
        assert took < 2.5, f"the ack took {took:.2f}s: it waited for the chart"
        assert files_in(fake_slack, "C0TRIAGE") == []
        wait_until(lambda: files_in(fake_slack, "C0TRIAGE"), what="the chart in the channel")
        shared = files_in(fake_slack, "C0TRIAGE")[0]
        assert shared["mimetype"] == "image/png"
        assert shared["title"].startswith("Sentiment per day — ")
        png = fake_slack.file_content(shared["id"])
        assert png is not None and png_size(png) == (800, 450)
        assert any("Drawing the chart" in text for text in ephemerals(fake_slack))

    def test_default_is_the_volume_of_the_last_30_days(self, runtime, fake_slack) -> None:
        response, _ = command(runtime, fake_slack, "chart")
        assert response.status_code == 200
        wait_until(lambda: files_in(fake_slack, "C0TRIAGE"), what="the chart in the channel")
        # 30 local days ending on T0's day in Paris: Oct 22 → Nov 20.
        assert files_in(fake_slack, "C0TRIAGE")[0]["title"] == "Mentions per day — Oct 22, 2026 → Nov 20, 2026"

    def test_an_unknown_metric_gets_the_usage_and_a_suggestion(self, runtime, fake_slack) -> None:
        command(runtime, fake_slack, "chart sentimnt")
        wait_until(lambda: ephemerals(fake_slack), what="an answer")
        answer = ephemerals(fake_slack)[-1]
        assert "I don't know `sentimnt`" in answer and "Did you mean `sentiment`?" in answer
        assert "Usage: `/kpi chart [metric] [period] [network]`" in answer
        time.sleep(0.3)
        assert fake_slack.calls("files.getUploadURLExternal") == []

    def test_a_bad_period_is_explained(self, runtime, fake_slack) -> None:
        command(runtime, fake_slack, "chart volume 0d")
        wait_until(lambda: ephemerals(fake_slack), what="an answer")
        assert "`0d` is not a period I can use" in ephemerals(fake_slack)[-1]

    def test_a_channel_without_the_bot_gets_an_invite_hint(self, runtime, fake_slack) -> None:
        fake_slack.fail("files.completeUploadExternal", error="not_in_channel")
        command(runtime, fake_slack, "chart response 7d x", channel="C0OTHER")
        wait_until(lambda: any("invite" in e for e in ephemerals(fake_slack)), what="the invite hint")
        assert "`/invite @Veille`" in ephemerals(fake_slack)[-1]
        assert files_in(fake_slack, "C0OTHER") == []
