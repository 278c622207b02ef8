"""`veille backfill`: past mentions streamed into the store as history, bad lines set aside, resumable, bounded."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from bot import models
from bot.backfill import Progress, backfill, open_items, read_jsonl
from bot.cli import main
from bot.sentiment import SentimentScorer
from monitors.sources.base import Mention, PayloadInvalid
from tests.conftest import T0, WORKSPACE_YAML
from tests.scenarios import write_x_scenario


def line(i: int, text: str = "Still waiting for my order, 3 days now", **extra: object) -> str:
    record = {"network": "x", "external_id": f"p{i}", "kind": "mention", "author_handle": f"user{i % 2}",
              "author_name": f"User {i % 2}", "author_followers": 10 * i, "text": text,
              "created_at": (T0 - timedelta(days=30, minutes=i)).isoformat().replace("+00:00", "Z"), **extra}
    return json.dumps(record, ensure_ascii=False) + "\n"


def count(engine, model: type) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


@pytest.fixture
def env(monkeypatch, tmp_path, db_url) -> str:  # type: ignore[no-untyped-def]
    config = tmp_path / "veille.yaml"
    config.write_text(WORKSPACE_YAML, encoding="utf-8")
    monkeypatch.setenv("VEILLE_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


class TestCommand:
    def test_a_file_is_stored_as_history_and_a_rerun_skips_it(self, env, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
        data = tmp_path / "past.jsonl"
        data.write_text(line(1, "Love the Aurore lamp!") + line(2) + "\n" + "{not json\n" + line(3)
                        + json.dumps({"network": "x", "text": "no id"}) + "\n" + line(1) + line(4) + line(5),
                        encoding="utf-8")
        assert main(["backfill", str(data), "--source", "import-2025"]) == 0
        out = capsys.readouterr().out
        assert "8 read, 5 stored, 1 already stored, 2 set aside" in out and "peak memory" in out
        from bot.db import make_engine

        engine = make_engine(env)
        try:
            with Session(engine) as session:
                rows = session.exec(select(models.Mention).order_by(models.Mention.external_id)).all()
                assert [(m.external_id, m.status, m.source) for m in rows] == [
                    (f"p{i}", "archived", "import-2025") for i in range(1, 6)]
                # The pipeline's decisions are kept: sentiment and routing, for the KPIs.
                assert rows[0].sentiment_label == "positive" and rows[1].responsibility == "support"
                reasons = sorted(r.reason for r in session.exec(select(models.RejectedItem)).all())
                assert reasons[0].startswith("past.jsonl line 4: not JSON")
                assert reasons[1] == "past.jsonl line 6: missing external_id, author_handle, created_at"
            assert count(engine, models.Author) == 2
            # History: nothing is owed to Slack or to the team.
            assert count(engine, models.OutboxMessage) == count(engine, models.Assignment) == 0
            assert count(engine, models.Task) == 0
            assert main(["backfill", str(data), "--source", "import-2025"]) == 0
            assert "8 read, 0 stored, 6 already stored, 2 set aside" in capsys.readouterr().out
            assert count(engine, models.Mention) == 5 and count(engine, models.RejectedItem) == 2
        finally:
            engine.dispose()

    def test_a_missing_file_is_a_clear_error(self, env, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
        assert main(["backfill", str(tmp_path / "nope.jsonl")]) == 2
        assert "nope.jsonl" in capsys.readouterr().err

    def test_a_replay_scenario_directory_is_read_too(self, env, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
        write_x_scenario(tmp_path / "scenario", count=4, start=T0 - timedelta(days=2), step=timedelta(hours=1))
        assert main(["backfill", str(tmp_path / "scenario")]) == 0
        out = capsys.readouterr().out
        stored = int(out.split(" stored")[0].rsplit(", ", 1)[1])
        assert stored > 0 and "0 set aside" in out


def _interrupted(items: Iterator, after: int) -> Iterator:  # type: ignore[type-arg]
    for n, item in enumerate(items):
        if n == after:
            raise KeyboardInterrupt
        yield item


class TestResume:
    def test_an_interrupted_backfill_resumes_without_duplicates(self, engine, workspace, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
        data = tmp_path / "past.jsonl"
        data.write_text("".join(line(i) for i in range(10)), encoding="utf-8")
        scorer = SentimentScorer()
        items, _, close = open_items(str(data))
        with pytest.raises(KeyboardInterrupt):
            backfill(_interrupted(items, 7), engine=engine, workspace=workspace, scorer=scorer, rules=None,
                     clock=clock.now, batch=3)
        close()
        assert count(engine, models.Mention) == 6  # two whole batches were committed; the third was lost
        items, _, close = open_items(str(data))
        report = backfill(items, engine=engine, workspace=workspace, scorer=scorer, rules=None, clock=clock.now,
                          batch=3)
        close()
        assert (report.read, report.stored, report.skipped) == (10, 4, 6)
        assert count(engine, models.Mention) == 10


class TestStreaming:
    def test_progress_is_plain_lines_when_not_a_terminal(self, engine, workspace, clock) -> None:  # type: ignore[no-untyped-def]
        out = io.StringIO()
        items = read_jsonl(io.StringIO("".join(line(i) for i in range(5))))
        backfill(items, engine=engine, workspace=workspace, scorer=SentimentScorer(), rules=None, clock=clock.now,
                 batch=2, progress=Progress(1000, stream=out, every_s=0))
        lines = out.getvalue().splitlines()
        assert lines[0].startswith("backfill: 2 read, 2 stored, 0 already stored, 0 set aside")
        assert lines[-1].startswith("backfill: 5 read, 5 stored")

    def test_memory_does_not_grow_with_the_file(self, tmp_path, workspace, clock) -> None:  # type: ignore[no-untyped-def]
        from bot.db import make_engine
        from bot.migrate import upgrade

        scorer = SentimentScorer()

        def peak(n: int, offset: int) -> int:
            engine = make_engine(f"sqlite:///{tmp_path / f'{n}.db'}")
            upgrade(engine)
            # 50 distinct texts: the scorer's and the rules' bounded caches fill in the warm-up, not here.
            texts = (line(offset + i, f"Message {i % 50} about the Aurore lamp") for i in range(n))
            tracemalloc.start()
            try:
                backfill(read_jsonl(_Lines(texts)), engine=engine, workspace=workspace, scorer=scorer, rules=None,
                         clock=clock.now, batch=100)
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
                engine.dispose()

        peak(100, 0)  # warm up: the scorer's and the driver's lazy loading is not the backfill's footprint
        small, large = peak(300, 10_000), peak(1_500, 20_000)
        assert large < small * 1.5, (small, large)


class _Lines(io.TextIOBase):
    """A text stream produced line by line: the whole file never exists in memory."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines

    def __iter__(self) -> Iterator[str]:
        return self._lines


def test_mentions_and_problems_are_read_one_line_at_a_time() -> None:
    stream = io.StringIO(line(1) + '{"network": "x"}\n' + line(2, raw={"id": "p2"}, lang="en-GB", author_followers="x"))
    parsed = [item for item, _ in read_jsonl(stream, name="f")]
    assert isinstance(parsed[0], Mention) and parsed[0].external_id == "p1"
    assert isinstance(parsed[1], PayloadInvalid) and "missing external_id" in parsed[1].reason
    assert isinstance(parsed[2], Mention) and parsed[2].raw == {"id": "p2"} and parsed[2].author_followers is None
