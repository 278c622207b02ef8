"""Several `veille run` replicas on one database: each job is done by exactly one of them, through leases.

A lease is a row of the `leases` table (name, holder, fencing token, expiry). It is taken, renewed and
released by single atomic SQL statements (`INSERT … ON CONFLICT DO UPDATE … WHERE expired OR mine
RETURNING`, on PostgreSQL and SQLite ≥ 3.35), never through memory, so replicas on different machines
agree. A holder renews its leases every `ttl/3`; a replica that dies (kill -9, lost host) stops renewing
and another replica takes its jobs over once the lease expires, i.e. within `ttl` plus one job period.

Leases are sticky: whoever holds a lease keeps it while alive, so in-memory state tied to a job (the
outbox's per-channel pacing, the bad-buzz detector) lives in exactly one replica, and is rebuilt from
the store (`on_acquire`) when the lease moves. The fencing token grows at every change of holder; a
write can be made conditional on still holding the lease with a third of its TTL left (`Role.fence`,
`Role.guard`), so a replica that was frozen past its expiry claims no more work once another replica has
taken over. (What remains: a Slack call already under way when its replica freezes for longer than that
margin; the new holder's in-doubt check can then miss it.)

Expiry uses the database server's clock on PostgreSQL (replicas' clocks may drift) and the wall clock on
SQLite (one machine); never the injected `Clock`, which may be virtual or frozen.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from bot import models

logger = logging.getLogger(__name__)

DEFAULT_TTL_S = 30.0
TTL_ENV = "VEILLE_LEASE_TTL_S"
# Taken on PostgreSQL around the schema upgrade, so replicas starting together migrate one after the other.
MIGRATION_LOCK_KEY = 0x7665696C6C65  # "veille"

_TABLE = models.Lease.__table__  # type: ignore[attr-defined]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LeaseLost(RuntimeError):
    """This replica no longer holds the lease a write depends on: the write is rolled back."""


def replica_identity() -> str:
    """hostname-pid-uuid: unique per process, and readable in the `leases` table by an operator."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def ttl_from_env(default: float = DEFAULT_TTL_S) -> float:
    value = os.environ.get(TTL_ENV, "").strip()
    try:
        return max(0.5, float(value)) if value else default
    except ValueError:
        logger.warning("%s=%r is not a number of seconds; using %.0f", TTL_ENV, value, default)
        return default


@dataclass(frozen=True, slots=True)
class Grant:
    """A lease this replica holds: `token` changes whenever the lease changed hands."""

    name: str
    token: int
    deadline: float  # time.monotonic() before which the lease is surely still ours


class Coordinator:
    """Take, renew and release this replica's leases; a background thread keeps the held ones alive."""

    def __init__(self, engine: Engine, *, identity: str | None = None, ttl_s: float | None = None) -> None:
        self.engine = engine
        self.identity = identity or replica_identity()
        self.ttl_s = ttl_s if ttl_s is not None else ttl_from_env()
        self.renew_every_s = self.ttl_s / 3
        # A lease is trusted locally while more than a third of its TTL is left; below that, ask the database.
        self.margin_s = self.ttl_s / 3
        self._grants: dict[str, Grant] = {}
        self._refused_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pg = engine.dialect.name == "postgresql"

    # -- time -------------------------------------------------------------------------------------------
    def _now(self) -> Any:
        """`now` as SQL: the server's clock on PostgreSQL, the wall clock (a bound value) on SQLite."""
        if self._pg:
            return func.clock_timestamp()
        return literal(datetime.fromtimestamp(time.time(), UTC), models.UTCDateTime())

    def _later(self, seconds: float) -> Any:
        if self._pg:
            return func.clock_timestamp() + func.make_interval(0, 0, 0, 0, 0, 0, seconds)
        return literal(datetime.fromtimestamp(time.time() + seconds, UTC), models.UTCDateTime())

    # -- leases -----------------------------------------------------------------------------------------
    def try_acquire(self, name: str) -> Grant | None:
        """Take `name` if it is free or expired, or renew it if it is ours: one atomic statement."""
        insert = postgresql.insert(_TABLE) if self._pg else sqlite.insert(_TABLE)
        started = time.monotonic()
        stmt = insert.values(name=name, holder=self.identity, token=1, expires_at=self._later(self.ttl_s),
                             acquired_at=self._now())
        mine = _TABLE.c.holder == self.identity
        stmt = stmt.on_conflict_do_update(
            index_elements=[_TABLE.c.name],
            set_={
                "holder": self.identity,
                "expires_at": self._later(self.ttl_s),
                # A new holder gets a new token: writes fenced by the old one are refused from now on.
                "token": _case(mine, _TABLE.c.token, _TABLE.c.token + 1),
                "acquired_at": _case(mine, _TABLE.c.acquired_at, self._now()),
            },
            where=or_(mine, _TABLE.c.expires_at < self._now()),
        ).returning(_TABLE.c.token)
        with self.engine.begin() as conn:
            token = conn.execute(stmt).scalar()
        with self._lock:
            previous = self._grants.get(name)
            if token is None:
                self._grants.pop(name, None)
                # Someone else holds it: ask again a little later, not at every tick of the job.
                self._refused_until[name] = time.monotonic() + min(self.renew_every_s, 5.0)
                if previous is not None:
                    logger.warning("lease %s: lost to another replica", name)
                return None
            grant = Grant(name, int(token), started + self.ttl_s)
            self._grants[name] = grant
            if previous is None or previous.token != grant.token:
                logger.info("lease %s: taken by %s (token %d)", name, self.identity, grant.token)
            return grant

    def hold(self, name: str) -> Grant | None:
        """The grant if this replica holds `name` (taking it when free), else None. Cheap when already held."""
        now = time.monotonic()
        with self._lock:
            grant = self._grants.get(name)
            if grant is not None and grant.deadline - self.margin_s > now:
                return grant
            if grant is None and self._refused_until.get(name, 0.0) > now:
                return None
        return self.try_acquire(name)

    def renew(self) -> None:
        """Push back the expiry of every lease still ours, in one statement; drop the ones taken from us."""
        with self._lock:
            names = list(self._grants)
        if not names:
            return
        started = time.monotonic()
        stmt = (update(_TABLE).where(_TABLE.c.name.in_(names), _TABLE.c.holder == self.identity)
                .values(expires_at=self._later(self.ttl_s)).returning(_TABLE.c.name, _TABLE.c.token))
        with self.engine.begin() as conn:
            kept = {row.name: int(row.token) for row in conn.execute(stmt)}
        with self._lock:
            for name in names:
                grant = self._grants.get(name)
                if grant is None:
                    continue
                if kept.get(name) == grant.token:
                    self._grants[name] = Grant(name, grant.token, started + self.ttl_s)
                else:
                    self._grants.pop(name, None)
                    logger.warning("lease %s: lost (not renewed in time); another replica may take it", name)

    def release_all(self) -> None:
        """On a clean stop: expire our leases at once, so another replica takes the jobs without waiting."""
        with self._lock:
            self._grants.clear()
        with self.engine.begin() as conn:
            conn.execute(update(_TABLE).where(_TABLE.c.holder == self.identity).values(expires_at=_EPOCH))

    def holders(self) -> dict[str, str]:
        """Who holds which unexpired lease (for tests and operators)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(_TABLE.c.name, _TABLE.c.holder).where(_TABLE.c.expires_at > self._now()))
            return {row.name: row.holder for row in rows}

    # -- background renewal -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="veille-leases", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        try:
            self.release_all()
        except Exception:  # noqa: BLE001 - the database may be gone at shutdown; the leases then just expire
            logger.warning("could not release leases on stop; they expire within %.0fs", self.ttl_s)

    def _run(self) -> None:
        while not self._stop.wait(self.renew_every_s):
            try:
                self.renew()
            except Exception:
                logger.exception("lease renewal failed; retrying")

    # -- jobs -------------------------------------------------------------------------------------------
    def role(self, name: str, on_acquire: Callable[[], object] | None = None) -> Role:
        return Role(self, name, on_acquire)

    def leased(self, name: str, fn: Callable[[], object], *,
               on_acquire: Callable[[], object] | None = None) -> Callable[[], object]:
        """`fn` run only by the replica holding lease `name`; elsewhere a no-op (returns None)."""
        role = self.role(name, on_acquire)

        def run() -> object:
            return fn() if role() else None

        run.__name__ = f"leased_{name}"
        return run


class Role:
    """A job name held by at most one replica: call it to know (and take, when free) whether it is ours."""

    def __init__(self, coordinator: Coordinator, name: str, on_acquire: Callable[[], object] | None) -> None:
        self.coordinator = coordinator
        self.name = name
        self._on_acquire = on_acquire
        self._token: int | None = None
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        grant = self.coordinator.hold(self.name)
        with self._lock:
            if grant is None:
                self._token = None
                return False
            if grant.token != self._token:
                # Newly ours: state another holder left (rows in flight, in-memory detectors) is taken over here.
                if self._on_acquire is not None:
                    self._on_acquire()
                self._token = grant.token
            return True

    @property
    def token(self) -> int | None:
        return self._token

    def fence(self) -> ColumnElement[bool]:
        """SQL condition: this replica still holds the lease, with a margin left (for conditional UPDATEs)."""
        c = self.coordinator
        return exists().where(and_(_TABLE.c.name == self.name, _TABLE.c.holder == c.identity,
                                   _TABLE.c.token == (self._token if self._token is not None else -1),
                                   _TABLE.c.expires_at > c._later(c.margin_s)))

    def guard(self, session: Session | Connection) -> None:
        """Inside a write transaction: raise LeaseLost (rolling it back) unless the lease is still ours with a
        third of its TTL left. No row lock is taken, so renewals and take-overs never wait on a long write;
        such a write must be idempotent (a poll's page is: the store's unique keys absorb a repeat)."""
        stmt = select(_TABLE.c.token).where(_TABLE.c.name == self.name, self.fence())
        if session.execute(stmt).first() is None:
            raise LeaseLost(f"lease {self.name} is no longer held by {self.coordinator.identity}")


def _case(condition: ColumnElement[bool], then: Any, otherwise: Any) -> Any:
    return case((condition, then), else_=otherwise)


def migration_lock(engine: Engine) -> AbstractContextManager[None]:
    """A context manager serializing schema upgrades between replicas (PostgreSQL advisory lock; SQLite's
    BEGIN IMMEDIATE already serializes them)."""
    if engine.dialect.name != "postgresql":
        return nullcontext()

    @contextmanager
    def locked() -> Iterator[None]:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
                conn.commit()

    return locked()

