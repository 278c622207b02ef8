"""The replay source delivers a scenario exactly once across restarts, and the bundled scenario is sound."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitors.sources.base import Mention, PayloadInvalid
from monitors.sources.replay import ReplaySource, format_cursor, parse_cursor

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _x_event(at: datetime, *ids: str) -> dict[str, Any]:
    posts = [{"id": i, "text": f"@maisonlumen {i}", "author_id": "7", "created_at": _iso(at)} for i in ids]
    payload = {"data": posts, "includes": {"users": [{"id": "7", "username": "u", "name": "U"}]}, "meta": {}}
    return {"at": _iso(at), "network": "x", "payload": payload}


def _ig_event(at: datetime, *ids: str) -> dict[str, Any]:
    comments = [
        {"id": i, "text": i, "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S+0000"), "username": "v"} for i in ids
    ]
    return {"at": _iso(at), "network": "instagram", "object_id": "m1", "payload": {"data": comments}}


def _masto_event(at: datetime, *ids: str) -> dict[str, Any]:
    notes = [
        {
            "id": f"n{i}",
            "type": "mention",
            "status": {"id": i, "created_at": _iso(at), "content": f"<p>{i}</p>", "account": {"acct": "w"}},
        }
        for i in ids
    ]
    return {"at": _iso(at), "network": "mastodon", "payload": notes}


@pytest.fixture
def small_scenario(tmp_path: Path) -> Path:
    """Several events share a time, across and within networks, to stress the cursor's tie-break."""
    same = T0 + timedelta(minutes=10)
    files = {
        "x": [
            _x_event(T0, "x1"),
            _x_event(same, "x2", "x3"),
            _x_event(same, "x4"),
            _x_event(T0 + timedelta(hours=1), "x5"),
        ],
        "instagram": [
            _ig_event(same, "i1"),
            _ig_event(T0 + timedelta(minutes=30), "i2", "i3"),
            _ig_event(same, "i4"),
        ],
        "mastodon": [_masto_event(T0 + timedelta(minutes=5), "m1"), _masto_event(same, "m2")],
    }
    for network, events in files.items():
        (tmp_path / f"{network}.json").write_text(json.dumps(events), encoding="utf-8")
    (tmp_path / "calendar.json").write_text(json.dumps([{"network": "x", "title": "t"}]), encoding="utf-8")
    return tmp_path


def _replay_in_steps(scenario: Path | None, times: list[datetime], *, restart: bool) -> list[Mention]:
    """Fetch at each time, storing the cursor as a poller would; optionally a new process each time."""
    source = ReplaySource(scenario)
    cursor: str | None = None
    delivered: list[Mention] = []
    for now in times:
        if restart:
            source = ReplaySource(scenario)
        page = source.fetch(cursor, now=now)
        assert page.rejected == []
        delivered.extend(page.mentions)
        cursor = page.cursor
    return delivered


class TestReplayCursor:
    @pytest.mark.parametrize("restart", [False, True])
    def test_resuming_neither_repeats_nor_skips(self, small_scenario: Path, restart: bool) -> None:
        times = [T0 - timedelta(minutes=1)] + [
            T0 + timedelta(minutes=m) for m in (0, 0, 5, 9, 10, 10, 29, 61, 90)
        ]

        delivered = _replay_in_steps(small_scenario, times, restart=restart)

        ids = [m.external_id for m in delivered]
        assert sorted(ids) == sorted(["x1", "x2", "x3", "x4", "x5", "i1", "i2", "i3", "i4", "m1", "m2"])
        assert len(ids) == len(set(ids))

    def test_items_due_at_the_same_time_come_in_one_fetch_in_time_order(self, small_scenario: Path) -> None:
        source = ReplaySource(small_scenario)
        page = source.fetch(None, now=T0 + timedelta(minutes=10))

        assert [m.external_id for m in page.mentions] == ["x1", "m1", "x2", "x3", "x4", "i1", "i4", "m2"]
        assert page.cursor is not None and parse_cursor(page.cursor) == (T0 + timedelta(minutes=10), 5)

    def test_nothing_due_leaves_the_cursor_unchanged(self, small_scenario: Path) -> None:
        source = ReplaySource(small_scenario)
        first = source.fetch(None, now=T0)

        assert source.fetch(first.cursor, now=T0 + timedelta(minutes=4)).cursor == first.cursor
        assert source.fetch(None, now=T0 - timedelta(days=1)).cursor is None

    def test_network_filter_delivers_only_those_networks_but_advances_past_others(
        self, small_scenario: Path
    ) -> None:
        source = ReplaySource(small_scenario, networks=["instagram"])
        page = source.fetch(None, now=T0 + timedelta(hours=2))

        assert {m.network for m in page.mentions} == {"instagram"}
        assert source.fetch(page.cursor, now=T0 + timedelta(hours=3)).mentions == []
        assert source.total_items() == 4

    def test_cursor_round_trips_and_bad_cursors_are_refused(self) -> None:
        key = (datetime(2026, 11, 20, 9, 15, 2, 500, tzinfo=UTC), 3)
        assert parse_cursor(format_cursor(key)) == key
        for bad in ("", "2026-11-20T09:15:02Z", "2026-11-20T09:15:02Z#0", "2026-11-20T09:15:02#1", "x#1"):
            with pytest.raises(ValueError):
                parse_cursor(bad)

    def test_naive_now_is_refused(self, small_scenario: Path) -> None:
        with pytest.raises(ValueError):
            ReplaySource(small_scenario).fetch(None, now=datetime(2026, 11, 20, 12, 0))

    def test_span_calendar_and_total(self, small_scenario: Path) -> None:
        source = ReplaySource(small_scenario)

        assert source.scenario_span() == (T0, T0 + timedelta(hours=1))
        assert source.calendar_posts() == [{"network": "x", "title": "t"}]
        assert source.total_items() == 11

    def test_a_page_the_parser_refuses_is_rejected_not_fatal(self, tmp_path: Path) -> None:
        events = [
            {"at": _iso(T0), "network": "x", "payload": "garbage"},
            _x_event(T0 + timedelta(minutes=1), "ok"),
        ]
        (tmp_path / "x.json").write_text(json.dumps(events), encoding="utf-8")
        page = ReplaySource(tmp_path).fetch(None, now=T0 + timedelta(hours=1))

        assert [m.external_id for m in page.mentions] == ["ok"]
        assert len(page.rejected) == 1 and page.rejected[0].network == "x"

    @pytest.mark.parametrize(
        "event",
        [
            "not an object",
            {"at": "2026-11-20T06:00:00Z", "network": "myspace", "payload": {}},
            {"at": "2026-11-20T06:00:00", "network": "x", "payload": {}},
            {"at": "soon", "network": "x", "payload": {}},
            {"at": "2026-11-20T06:00:00Z", "network": "x"},
            {"at": "2026-11-20T06:00:00Z", "network": "instagram", "object_id": 5, "payload": {}},
        ],
    )
    def test_malformed_scenario_event_fails_at_load(self, tmp_path: Path, event: Any) -> None:
        (tmp_path / "x.json").write_text(json.dumps([event]), encoding="utf-8")

        with pytest.raises(PayloadInvalid):
            ReplaySource(tmp_path)


@pytest.fixture(scope="module")
def bundled() -> ReplaySource:
    return ReplaySource()


@pytest.fixture(scope="module")
def everything(bundled: ReplaySource) -> list[Mention]:
    page = bundled.fetch(None, now=bundled.scenario_span()[1])
    assert page.rejected == []
    return page.mentions


class TestBundledScenario:
    def test_has_at_least_300_items_in_all_four_networks_and_none_rejected(
        self, bundled: ReplaySource, everything: list[Mention]
    ) -> None:
        counts = Counter(m.network for m in everything)

        assert len(everything) >= 300
        assert len(everything) == bundled.total_items()
        assert set(counts) == {"x", "instagram", "facebook", "mastodon"}
        assert min(counts.values()) >= 40
        assert len({(m.network, m.external_id) for m in everything}) == len(everything)

    def test_spans_about_36_hours_from_the_demo_start(self, bundled: ReplaySource) -> None:
        first, last = bundled.scenario_span()

        assert T0 <= first < T0 + timedelta(minutes=30)
        assert timedelta(hours=35) <= last - T0 <= timedelta(hours=36)

    def test_replaying_in_uneven_steps_with_restarts_delivers_everything_once(
        self, bundled: ReplaySource, everything: list[Mention]
    ) -> None:
        first, last = bundled.scenario_span()
        rng = random.Random(7)
        times, now = [], first - timedelta(minutes=1)
        while now <= last:
            times.append(now)
            now += timedelta(seconds=rng.choice([0, 1, 59, 120, 121, 600, 3600]))
        times.append(last + timedelta(days=1))

        delivered = _replay_in_steps(None, times[::2], restart=False)
        restarted = _replay_in_steps(None, times, restart=True)

        expected = sorted(m.external_id for m in everything)
        assert sorted(m.external_id for m in delivered) == expected
        assert sorted(m.external_id for m in restarted) == expected

    def test_comments_reference_published_calendar_posts(
        self, bundled: ReplaySource, everything: list[Mention]
    ) -> None:
        posts = bundled.calendar_posts()
        published = {p["external_id"]: p for p in posts if p["status"] == "published"}
        graph = [m for m in everything if m.network in ("instagram", "facebook")]
        on_calendar = [m for m in graph if m.conversation_id in published]

        assert 8 <= len(posts) <= 14
        assert all(p["owner"] == "U0CM1" and p["status"] in ("published", "scheduled") for p in posts)
        assert all((p["external_id"] is None) == (p["status"] == "scheduled") for p in posts)
        assert len(on_calendar) >= 0.85 * len(graph)
        ig_post_permalinks = {p["permalink"] for p in posts if p["network"] == "instagram"}
        assert {m.permalink for m in on_calendar if m.network == "instagram"} <= ig_post_permalinks
        x_replies = [m for m in everything if m.network == "x" and m.parent_id in published]
        assert x_replies, "replies to the brand's published X post"

    def test_has_a_negative_burst_two_hours_after_the_day_two_instagram_post(
        self, bundled: ReplaySource, everything: list[Mention]
    ) -> None:
        post = next(p for p in bundled.calendar_posts() if p["network"] == "instagram" and p["promo"])
        posted = datetime.fromisoformat(post["scheduled_at"])
        burst = [
            m
            for m in everything
            if posted + timedelta(hours=2) <= m.created_at < posted + timedelta(hours=3.5)
        ]
        before = [
            m
            for m in everything
            if posted + timedelta(minutes=30) <= m.created_at < posted + timedelta(hours=2)
        ]

        assert len(burst) >= 2 * len(before)
        assert sum(m.conversation_id == post["external_id"] for m in burst) >= 20

    def test_is_quiet_at_night(self, everything: list[Mention]) -> None:
        night = [m for m in everything if 1 <= (m.created_at.hour + 1) % 24 < 6]  # 01:00-06:00 Paris

        assert len(night) <= 0.03 * len(everything)

    def test_carries_hostile_slack_text_and_both_languages(self, everything: list[Mention]) -> None:
        texts = "\n".join(m.text for m in everything)
        for needle in ("<!channel>", "<@U12345>", "<http://evil.example|your bank>", " & "):
            assert needle in texts
        langs = Counter(m.lang for m in everything if m.lang)
        assert 0.45 <= langs["fr"] / (langs["fr"] + langs["en"]) <= 0.7
        assert max(m.author_followers or 0 for m in everything) >= 100_000
        assert max(len(m.text) for m in everything) > 1000

    def test_generator_is_deterministic_and_matches_the_bundled_files(self, tmp_path: Path) -> None:
        from bot.demo import make_scenario

        make_scenario.write_scenario(tmp_path)
        bundled_dir = Path(make_scenario.__file__).parent / "scenario"
        names = ["x.json", "instagram.json", "facebook.json", "mastodon.json", "calendar.json"]
        for name in names:
            assert (tmp_path / name).read_bytes() == (bundled_dir / name).read_bytes(), name
        assert sum((bundled_dir / name).stat().st_size for name in names) < 600_000
