"""Shared fixtures: real SQLite and PostgreSQL engines, a local fake Slack, a workspace, and helpers."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bot.clock import FrozenClock
from bot.console.fake_slack import FakeSlack
from bot.db import make_engine
from bot.workspace import Workspace, parse_workspace

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

WORKSPACE_YAML = """
brand:
  name: Maison Lumen
  language: en
  timezone: Europe/Paris
  handles: {x: maisonlumen}
admins: [U0ADMIN]
channels:
  triage: C0TRIAGE
responsibilities:
  - name: support
    owners: [U0SUPPORT1]
    keywords: [livraison, delivery, order]
  - name: community
    owners: [U0CM1]
    sentiment: positive
fallback_owner: U0CM1
triage:
  post_interval_s: 0   # tests drive time with a frozen clock; pacing and floods have their own tests
  flood_threshold: 1000
"""


def _postgres_url() -> str:
    return os.environ.get("VEILLE_TEST_POSTGRES_URL") or DEFAULT_PG_URL


def _postgres_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    url = _postgres_url()
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable at {url} ({type(exc).__name__}); set VEILLE_TEST_POSTGRES_URL"


_PG_REASON: list[str | None] = []


def postgres_available() -> str | None:
    if not _PG_REASON:
        _PG_REASON.append(_postgres_reason())
    reason = _PG_REASON[0]
    if reason and os.environ.get("CI"):
        # In CI the PostgreSQL tests must run: an unreachable server is a failure, not a skip.
        pytest.fail(f"CI is set but {reason}")
    return reason


@pytest.fixture(autouse=True)
def _root_logging() -> Iterator[None]:
    """In-process `veille ...` calls configure the root logger as the CLI does; put it back after each test, so
    later tests' background threads don't log at INFO into the test run's output."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers = saved[0]
    root.setLevel(saved[1])


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_postgres_url())
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in _postgres_url() else "?"
    yield f"{_postgres_url()}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """The same test on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'veille.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a migrated, empty database."""
    from bot.migrate import upgrade

    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def workspace() -> Workspace:
    return parse_workspace(WORKSPACE_YAML, "test.yaml")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def make_mention() -> Callable[..., object]:
    """Factory for normalized mentions with overridable fields."""
    from monitors.sources.base import Mention

    counter = iter(range(1, 10**9))

    def make(**overrides: object) -> Mention:
        n = next(counter)
        fields: dict[str, object] = {
            "network": "x", "external_id": f"t{n}", "kind": "mention", "author_handle": f"user{n}",
            "author_name": f"User {n}", "author_followers": 100 + n, "text": "Love the Aurore lamp @maisonlumen!",
            "created_at": T0, "lang": "en", "permalink": f"https://x.com/user{n}/status/t{n}",
        }
        fields.update(overrides)
        return Mention(**fields)  # type: ignore[arg-type]

    return make
