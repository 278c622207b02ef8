"""Engine and sessions: one place that knows how to reach SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

# Every SQLite connection's settings (also what bench.pipeline's bare-sqlite3 replay sets, so it measures the same).
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL and a busy timeout so the sender and handlers can share it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling breaks SAVEPOINT and delays BEGIN; let SQLAlchemy drive it.
            # https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock up front: a deferred transaction that reads then writes fails
            # at once (SQLITE_BUSY, no waiting) when another writer got in between. Reports only read: a
            # deferred transaction reads a WAL snapshot without blocking, or waiting for, any writer.
            if conn.get_execution_options().get(_READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


_READ_ONLY = "veille_read_only"


def reader(engine: Engine) -> Engine:
    """The same engine (same pool) for sessions that only read: /kpi, /calendar, charts, exports.

    On SQLite their transactions no longer take the write lock, so a long report never holds up ingestion and
    several reads run side by side. A write through it fails with SQLITE_BUSY/READONLY rather than racing.
    """
    return engine.execution_options(**{_READ_ONLY: True})


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def drop_triggers(conn: Connection, *, sqlite: Iterable[str], postgresql: Iterable[tuple[str, str]],
                  functions: Iterable[str] = ()) -> None:
    """Drop a set of triggers that may be there: SQLite's by name; PostgreSQL's (name, table), then their functions."""
    if conn.dialect.name == "postgresql":
        for name, table in postgresql:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in functions:
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}()")
        return
    for name in sqlite:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
