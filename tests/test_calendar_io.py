"""Calendar import (CSV, ICS) and export (ICS): each bad line reported with its fix while the good ones are kept,
re-imports update instead of duplicating, and an export reads back as the same posts. Also `veille calendar`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot import models
from bot.cli import main
from bot.db import make_engine, session_scope
from bot.migrate import upgrade
from bot.services import calendar_io
from tests.conftest import T0, WORKSPACE_YAML

TZ = "Europe/Paris"

CSV = """network,date,time,title,pillar,type,format,owner,status,link,uid
instagram,2026-11-23,12:00,Behind the scenes,atelier,value,image,U0CM1,,,p1
tiktok,2026-11-23,13:00,Dance,,,,,,,p2
x,2026-13-01,09:30,Bad date,,,,,,,p3
Instagram,2026-11-24,18:30,Aurore is back,product,promo,video,,draft,https://www.instagram.com/p/C1/,p4
x,2026-11-25,,No time,,,,,,,p5
facebook,2026-11-26,09:00,,,,,,,,p6
linkedin,2026-11-26,10:00,Hiring,,ad,,,,,p7
x,2026-11-26,11:00,Who owns it,,,,Lea,,,p8
x,2026-11-26,12:00,Bad link,,,,,,javascript:alert(1),p9
x,2026-11-27,12:00,Duplicate,,,,,,,p1

reddit,2026-11-28,08:15,AMA,community,value,status,,published,,
"""


def rows(engine) -> list[tuple]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        posts = session.exec(select(models.CalendarPost).order_by(models.CalendarPost.scheduled_at)).all()
    return [(p.network, p.scheduled_at, p.title, p.pillar, p.promo, p.format, p.owner, p.status, p.permalink)
            for p in posts]


class TestCsv:
    def test_good_lines_are_kept_and_each_bad_line_says_what_to_fix(self) -> None:
        parsed = calendar_io.parse(CSV, tz=TZ)
        assert [(r.line, r.uid) for r in parsed.rows][:2] == [(2, "p1"), (5, "p4")]
        assert [p.describe("en") for p in parsed.problems] == [
            "Line 3, network: unknown network 'tiktok'; use one of x, facebook, instagram, linkedin, youtube, "
            "mastodon, bluesky, reddit, rss",
            "Line 4, date: '2026-13-01' is not a date; write it as 2026-11-24",
            "Line 6, time: is empty; fill it in",
            "Line 7, title: is empty; fill it in",
            "Line 8, type: 'ad' is not one of promo, value",
            "Line 9, owner: 'Lea' is not a Slack user id (like U0123ABCD)",
            "Line 10, link: 'javascript:alert(1)' is not a link; it must start with https://",
            "Line 11, uid: uid 'p1' is already used on line 2; give each post its own uid",
        ]
        reddit = parsed.rows[2]
        assert reddit.line == 13 and reddit.uid.startswith("csv:")  # no uid: derived from network, time, title

    def test_semicolons_and_an_iso_datetime_column(self) -> None:
        text = "network;datetime;title;type\nx;2026-11-24T14:30:00+01:00;Tips;value\nx;2026-11-24T18:00;Local;promo\n"
        parsed = calendar_io.parse(text, tz=TZ)
        assert not parsed.problems
        assert [(r.post.scheduled_at.astimezone(UTC), r.post.promo) for r in parsed.rows] == [
            (datetime(2026, 11, 24, 13, 30, tzinfo=UTC), False), (datetime(2026, 11, 24, 17, 0, tzinfo=UTC), True)]

    def test_a_header_without_the_required_columns(self) -> None:
        assert [p.describe("en") for p in calendar_io.parse("network,title,when\nx,Hi,now\n", tz=TZ).problems] == [
            "Line 1, header: missing column(s) date, time; the header line needs network, title and date + time "
            "(or datetime)"]
        assert calendar_io.parse("hello world", tz=TZ, lang="fr").problems[0].describe("fr") == (
            "Ligne 1, file : ni du CSV avec en-tête ni de l'ICS (BEGIN:VCALENDAR) ; vérifiez le fichier")

    def test_import_twice_updates_and_never_duplicates(self, engine) -> None:
        with session_scope(engine) as session:
            first = calendar_io.import_text(session, CSV, tz=TZ, user="U0ADMIN", now=T0)
        assert (first.created, first.updated, len(first.problems)) == (3, 0, 8)
        before = rows(engine)
        assert before == [
            ("instagram", datetime(2026, 11, 23, 11, 0, tzinfo=UTC), "Behind the scenes", "atelier", False, "image",
             "U0CM1", "scheduled", None),
            ("instagram", datetime(2026, 11, 24, 17, 30, tzinfo=UTC), "Aurore is back", "product", True, "video",
             None, "draft", "https://www.instagram.com/p/C1/"),
            ("reddit", datetime(2026, 11, 28, 7, 15, tzinfo=UTC), "AMA", "community", False, "status", None,
             "published", None),
        ]
        with Session(engine) as session:
            ama = session.exec(select(models.CalendarPost).where(models.CalendarPost.network == "reddit")).one()
        assert ama.published_at == ama.scheduled_at  # imported history: live when planned, no buzz watch now
        with session_scope(engine) as session:
            again = calendar_io.import_text(session, CSV.replace("Behind the scenes", "Behind the scenes (2)"),
                                            tz=TZ, user="U0ADMIN", now=T0)
        assert (again.created, again.updated) == (0, 3)
        assert rows(engine)[0][2] == "Behind the scenes (2)"
        assert rows(engine)[1:] == before[1:]


ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Agency//Planner//EN
BEGIN:VEVENT
UID:evt-1@agency
DTSTART;TZID=Europe/Paris:20261123T120000
SUMMARY:Behind the scenes
LOCATION:Instagram
END:VEVENT
BEGIN:VEVENT
UID:evt-2@agency
DTSTART:20261124T090000Z
SUMMARY:No network here
END:VEVENT
BEGIN:VEVENT
UID:evt-3@agency
DTSTART;VALUE=DATE:20261125
SUMMARY:All day
CATEGORIES:x
END:VEVENT
BEGIN:VEVENT
UID:evt-4@agency
DTSTART:20261126T080000Z
SUMMARY:Cancelled launch
CATEGORIES:launch,LinkedIn
STATUS:CANCELLED
URL:https://www.linkedin.com/feed/update/urn:li:share:1
END:VEVENT
END:VCALENDAR
"""


class TestIcs:
    def test_events_become_posts_and_bad_events_name_their_line(self) -> None:
        parsed = calendar_io.parse(ICS, tz=TZ)
        assert [(r.line, r.uid, r.post.network, r.post.scheduled_at.astimezone(UTC), r.post.title, r.post.status,
                 r.post.permalink) for r in parsed.rows] == [
            (4, "evt-1@agency", "instagram", datetime(2026, 11, 23, 11, 0, tzinfo=UTC), "Behind the scenes",
             "scheduled", None),
            (21, "evt-4@agency", "linkedin", datetime(2026, 11, 26, 8, 0, tzinfo=UTC), "Cancelled launch",
             "cancelled", "https://www.linkedin.com/feed/update/urn:li:share:1")]
        assert [p.describe("en") for p in parsed.problems] == [
            "Line 10, network: is empty; fill it in",
            "Line 15, DTSTART: '2026-11-25' is not a date and time; write it as 2026-11-24T14:30:00+01:00"]

    def test_a_broken_file(self) -> None:
        problems = calendar_io.parse("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:nonsense\nEND:VCALENDAR\n", tz=TZ).problems
        assert len(problems) == 1 and problems[0].line == 1
        assert problems[0].describe("en").startswith("Line 1, ")

    def test_export_reads_back_and_reimports_as_the_same_posts(self, engine, tmp_path) -> None:
        with session_scope(engine) as session:
            calendar_io.import_text(session, CSV, tz=TZ, user="U0ADMIN", now=T0)
            # A post from before uids existed (import_uid empty) is exported under its row id.
            session.add(models.CalendarPost(network="youtube", scheduled_at=T0 + timedelta(days=3),
                                            title="Legacy; with, \"quotes\"", status="cancelled",
                                            external_id="yt-9"))
        before = rows(engine)
        with Session(engine) as session:
            ics = calendar_io.export_ics(calendar_io.export_posts(session), brand="Maison Lumen", now=T0)
        assert ics.count("BEGIN:VEVENT") == 4 and "SUMMARY:Instagram: Behind the scenes" in ics
        with session_scope(engine) as session:
            result = calendar_io.import_text(session, ics, tz=TZ, user="U0ADMIN", now=T0)
        assert (result.created, result.updated, result.problems) == (0, 4, [])
        assert rows(engine) == before
        # Into an empty database: the same posts.
        other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
        upgrade(other)
        with session_scope(other) as session:
            assert calendar_io.import_text(session, ics, tz=TZ, user="U0ADMIN", now=T0).created == 4
        assert rows(other) == before
        with Session(other) as session:
            legacy = session.exec(select(models.CalendarPost).where(models.CalendarPost.network == "youtube")).one()
        assert legacy.external_id == "yt-9"
        other.dispose()


class TestCommandLine:
    @pytest.fixture
    def env(self, monkeypatch, tmp_path, db_url):  # type: ignore[no-untyped-def]
        config = tmp_path / "veille.yaml"
        config.write_text(WORKSPACE_YAML, encoding="utf-8")
        monkeypatch.setenv("VEILLE_CONFIG", str(config))
        monkeypatch.setenv("DATABASE_URL", db_url)
        return tmp_path

    def test_import_then_export(self, env, db_url, capsys) -> None:
        source = env / "plan.csv"
        source.write_text(CSV, encoding="utf-8")
        assert main(["calendar", "import", str(source)]) == 1  # some lines were refused
        out, err = capsys.readouterr()
        assert f"{source}: 3 added, 0 updated, 8 line(s) refused" in out
        assert "Line 3, network: unknown network 'tiktok'" in err
        assert main(["calendar", "import", str(source)]) == 1
        assert "0 added, 3 updated" in capsys.readouterr().out
        target = env / "out.ics"
        assert main(["calendar", "export", str(target)]) == 0
        assert capsys.readouterr().out.strip() == f"{target}: 3 post(s) exported"
        parsed = calendar_io.parse(target.read_text(encoding="utf-8"), tz=TZ)
        assert [r.post.title for r in parsed.rows] == ["Behind the scenes", "Aurore is back", "AMA"]
        assert main(["calendar", "import", str(env / "missing.csv")]) == 2
