"""Daily rollups of the mentions, kept exact by database triggers, so `/kpi` reads days instead of rows.

Two tables, keyed by the UTC day of `created_at`:
- `kpi_daily`: item counts per (day, subject ('' for the brand), network, sentiment, status);
- `kpi_response_daily`: the brand's handled items per (day, network, first-response minutes), the minutes being
  `handled_at - created_at` rounded to the nearest minute (what the median is computed on);
and `kpi_author_totals`, each author's brand items of all time: an upper bound of their count in any period,
which lets the top authors be found exactly without grouping every row of the period (`kpi.authors`).

Triggers on `mentions` (insert, delete, and update of any counted column) add and remove the row's contribution,
whatever code path changes the row (triage clicks, network replies, retention deletes, a manual SQL fix), so a
day's rollup always equals a GROUP BY over that day's rows. A period is read as its whole UTC days from the
rollups plus its partial days at both ends from the rows themselves (`split`).

The DDL below is what revision 0006 installs: change it only together with a new revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.engine import Connection

from bot import db

SQLITE_MINUTES = "CAST(ROUND((julianday({r}.handled_at) - julianday({r}.created_at)) * 1440) AS INTEGER)"
PG_MINUTES = "CAST(ROUND(EXTRACT(EPOCH FROM ({r}.handled_at - {r}.created_at)) / 60) AS INTEGER)"
SQLITE_DAY = "date({r}.created_at)"
PG_DAY = "to_char({r}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def minutes_sql(dialect: str, row: str = "mentions") -> str:
    """The SQL for an item's first-response minutes, as the rollup counts them."""
    return (PG_MINUTES if dialect == "postgresql" else SQLITE_MINUTES).format(r=row)


def _sqlite_triggers() -> list[str]:
    day, minutes = SQLITE_DAY, SQLITE_MINUTES
    add = """
        INSERT INTO kpi_daily (day, subject, network, sentiment_label, status, n)
        VALUES ({day}, COALESCE(NEW.subject, ''), NEW.network, NEW.sentiment_label, NEW.status, 1)
        ON CONFLICT (day, subject, network, sentiment_label, status) DO UPDATE SET n = n + 1;
        INSERT INTO kpi_response_daily (day, network, minutes, n)
        SELECT {day}, NEW.network, {minutes}, 1
        WHERE NEW.subject IS NULL AND NEW.status = 'handled' AND NEW.handled_at IS NOT NULL
        ON CONFLICT (day, network, minutes) DO UPDATE SET n = n + 1;
        INSERT INTO kpi_author_totals (author_id, n) SELECT NEW.author_id, 1 WHERE NEW.subject IS NULL
        ON CONFLICT (author_id) DO UPDATE SET n = n + 1;
    """.format(day=day.format(r="NEW"), minutes=minutes.format(r="NEW"))
    remove = """
        UPDATE kpi_daily SET n = n - 1 WHERE day = {day} AND subject = COALESCE(OLD.subject, '')
            AND network = OLD.network AND sentiment_label = OLD.sentiment_label AND status = OLD.status;
        UPDATE kpi_response_daily SET n = n - 1 WHERE OLD.subject IS NULL AND OLD.status = 'handled'
            AND OLD.handled_at IS NOT NULL AND day = {day} AND network = OLD.network AND minutes = {minutes};
        UPDATE kpi_author_totals SET n = n - 1 WHERE OLD.subject IS NULL AND author_id = OLD.author_id;
    """.format(day=day.format(r="OLD"), minutes=minutes.format(r="OLD"))
    return [
        f"CREATE TRIGGER kpi_mentions_insert AFTER INSERT ON mentions BEGIN {add} END",
        f"CREATE TRIGGER kpi_mentions_delete AFTER DELETE ON mentions BEGIN {remove} END",
        "CREATE TRIGGER kpi_mentions_update AFTER UPDATE OF created_at, subject, network, sentiment_label, status, "
        f"handled_at, author_id ON mentions BEGIN {remove} {add} END",
    ]


def _pg_triggers() -> list[str]:
    day_new, day_old = PG_DAY.format(r="NEW"), PG_DAY.format(r="OLD")
    min_new, min_old = PG_MINUTES.format(r="NEW"), PG_MINUTES.format(r="OLD")
    function = f"""
CREATE FUNCTION kpi_mentions_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE kpi_daily SET n = n - 1 WHERE day = {day_old} AND subject = COALESCE(OLD.subject, '')
            AND network = OLD.network AND sentiment_label = OLD.sentiment_label AND status = OLD.status;
        IF OLD.subject IS NULL AND OLD.status = 'handled' AND OLD.handled_at IS NOT NULL THEN
            UPDATE kpi_response_daily SET n = n - 1
                WHERE day = {day_old} AND network = OLD.network AND minutes = {min_old};
        END IF;
        IF OLD.subject IS NULL THEN
            UPDATE kpi_author_totals SET n = n - 1 WHERE author_id = OLD.author_id;
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO kpi_daily (day, subject, network, sentiment_label, status, n)
        VALUES ({day_new}, COALESCE(NEW.subject, ''), NEW.network, NEW.sentiment_label, NEW.status, 1)
        ON CONFLICT (day, subject, network, sentiment_label, status) DO UPDATE SET n = kpi_daily.n + 1;
        IF NEW.subject IS NULL AND NEW.status = 'handled' AND NEW.handled_at IS NOT NULL THEN
            INSERT INTO kpi_response_daily (day, network, minutes, n) VALUES ({day_new}, NEW.network, {min_new}, 1)
            ON CONFLICT (day, network, minutes) DO UPDATE SET n = kpi_response_daily.n + 1;
        END IF;
        IF NEW.subject IS NULL THEN
            INSERT INTO kpi_author_totals (author_id, n) VALUES (NEW.author_id, 1)
            ON CONFLICT (author_id) DO UPDATE SET n = kpi_author_totals.n + 1;
        END IF;
    END IF;
    RETURN NULL;
END $$"""
    return [
        function,
        "CREATE TRIGGER kpi_mentions_insert_delete AFTER INSERT OR DELETE ON mentions "
        "FOR EACH ROW EXECUTE FUNCTION kpi_mentions_rollup()",
        "CREATE TRIGGER kpi_mentions_update AFTER UPDATE OF created_at, subject, network, sentiment_label, status, "
        "handled_at, author_id ON mentions FOR EACH ROW EXECUTE FUNCTION kpi_mentions_rollup()",
    ]


def create_triggers(conn: Connection) -> None:
    """Install the triggers that keep the rollups exact."""
    for statement in (_pg_triggers() if conn.dialect.name == "postgresql" else _sqlite_triggers()):
        conn.exec_driver_sql(statement)


def drop_triggers(conn: Connection) -> None:
    db.drop_triggers(conn, sqlite=("kpi_mentions_insert", "kpi_mentions_delete", "kpi_mentions_update"),
                     postgresql=(("kpi_mentions_insert_delete", "mentions"), ("kpi_mentions_update", "mentions")),
                     functions=("kpi_mentions_rollup",))


def rebuild(conn: Connection) -> None:
    """Recompute both rollups from the mentions (after a bulk load without triggers, or at migration time)."""
    pg = conn.dialect.name == "postgresql"
    day = (PG_DAY if pg else SQLITE_DAY).format(r="m")
    conn.exec_driver_sql("DELETE FROM kpi_daily")
    conn.exec_driver_sql("DELETE FROM kpi_response_daily")
    conn.exec_driver_sql("DELETE FROM kpi_author_totals")
    conn.exec_driver_sql("INSERT INTO kpi_author_totals (author_id, n) "
                         "SELECT author_id, count(*) FROM mentions WHERE subject IS NULL GROUP BY author_id")
    conn.exec_driver_sql(
        "INSERT INTO kpi_daily (day, subject, network, sentiment_label, status, n) "
        f"SELECT {day}, COALESCE(m.subject, ''), m.network, m.sentiment_label, m.status, count(*) FROM mentions m "
        f"GROUP BY {day}, COALESCE(m.subject, ''), m.network, m.sentiment_label, m.status")
    minutes = minutes_sql(conn.dialect.name, "m")
    conn.exec_driver_sql(
        "INSERT INTO kpi_response_daily (day, network, minutes, n) "
        f"SELECT {day}, m.network, {minutes}, count(*) FROM mentions m "
        "WHERE m.subject IS NULL AND m.status = 'handled' AND m.handled_at IS NOT NULL "
        f"GROUP BY {day}, m.network, {minutes}")


@dataclass(frozen=True, slots=True)
class Split:
    """A period as whole UTC days (read from the rollups) and the partial days at its ends (read from the rows)."""

    first_day: str | None  # 'YYYY-MM-DD', inclusive
    last_day: str | None  # inclusive
    raw: list[tuple[datetime, datetime]]


def split(start: datetime, end: datetime) -> Split:
    """Cut [start, end) at UTC midnights."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first = datetime.combine(start.date(), time(), UTC)
    if first < start:
        first += timedelta(days=1)
    last_end = datetime.combine(end.date(), time(), UTC)
    if last_end <= first:
        return Split(None, None, [(start, end)] if start < end else [])
    raw = [(a, b) for a, b in ((start, first), (last_end, end)) if a < b]
    return Split(first.date().isoformat(), (last_end - timedelta(days=1)).date().isoformat(), raw)


# ---------------------------------------------------------------------------------------------
# Engagement tasks: closed tasks per UTC day of creation and of deadline (open ones are read from the rows, since
# whether they are overdue depends on the time of the question).

TASK_STATE = ("CASE WHEN {r}.cancelled THEN 'cancelled' WHEN {r}.done_at IS NULL THEN 'open' "
              "WHEN {r}.done_at <= {r}.due_at THEN 'on_time' ELSE 'late' END")


def _task_day(dialect: str, row: str, column: str) -> str:
    if dialect == "postgresql":
        return f"to_char({row}.{column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return f"date({row}.{column})"


def _task_statements(dialect: str, row: str, sign: str) -> list[str]:
    """Add (+) or remove (-) a task row's contribution to both bases."""
    state = TASK_STATE.format(r=row)
    out = []
    for basis, column in (("created", "created_at"), ("due", "due_at")):
        day = _task_day(dialect, row, column)
        if sign == "+":
            out.append(
                "INSERT INTO kpi_task_daily (basis, day, rule_id, action, owner, state, n) "
                f"VALUES ('{basis}', {day}, {row}.rule_id, {row}.action, COALESCE({row}.owner, ''), {state}, 1) "
                "ON CONFLICT (basis, day, rule_id, action, owner, state) DO UPDATE SET n = kpi_task_daily.n + 1")
        else:
            out.append(
                f"UPDATE kpi_task_daily SET n = n - 1 WHERE basis = '{basis}' AND day = {day} "
                f"AND rule_id = {row}.rule_id AND action = {row}.action AND owner = COALESCE({row}.owner, '') "
                f"AND state = {state}")
    return out


def create_task_triggers(conn: Connection) -> None:
    """Install the triggers that keep `kpi_task_daily` exact."""
    columns = "created_at, due_at, done_at, cancelled, rule_id, action, owner"
    if conn.dialect.name == "postgresql":
        remove = ";\n        ".join(_task_statements("postgresql", "OLD", "-"))
        add = ";\n        ".join(_task_statements("postgresql", "NEW", "+"))
        conn.exec_driver_sql(f"""
CREATE FUNCTION kpi_tasks_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {remove};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {add};
    END IF;
    RETURN NULL;
END $$""")
        conn.exec_driver_sql("CREATE TRIGGER kpi_tasks_insert_delete AFTER INSERT OR DELETE ON tasks "
                             "FOR EACH ROW EXECUTE FUNCTION kpi_tasks_rollup()")
        conn.exec_driver_sql(f"CREATE TRIGGER kpi_tasks_update AFTER UPDATE OF {columns} ON tasks "
                             "FOR EACH ROW EXECUTE FUNCTION kpi_tasks_rollup()")
        return
    add = "; ".join(_task_statements("sqlite", "NEW", "+")) + ";"
    remove = "; ".join(_task_statements("sqlite", "OLD", "-")) + ";"
    conn.exec_driver_sql(f"CREATE TRIGGER kpi_tasks_insert AFTER INSERT ON tasks BEGIN {add} END")
    conn.exec_driver_sql(f"CREATE TRIGGER kpi_tasks_delete AFTER DELETE ON tasks BEGIN {remove} END")
    conn.exec_driver_sql(f"CREATE TRIGGER kpi_tasks_update AFTER UPDATE OF {columns} ON tasks "
                         f"BEGIN {remove} {add} END")


def drop_task_triggers(conn: Connection) -> None:
    db.drop_triggers(conn, sqlite=("kpi_tasks_insert", "kpi_tasks_delete", "kpi_tasks_update"),
                     postgresql=(("kpi_tasks_insert_delete", "tasks"), ("kpi_tasks_update", "tasks")),
                     functions=("kpi_tasks_rollup",))


def rebuild_tasks(conn: Connection) -> None:
    """Recompute `kpi_task_daily` from the tasks."""
    conn.exec_driver_sql("DELETE FROM kpi_task_daily")
    state = TASK_STATE.format(r="t")
    for basis, column in (("created", "created_at"), ("due", "due_at")):
        day = _task_day(conn.dialect.name, "t", column)
        conn.exec_driver_sql(
            "INSERT INTO kpi_task_daily (basis, day, rule_id, action, owner, state, n) "
            f"SELECT '{basis}', {day}, t.rule_id, t.action, COALESCE(t.owner, ''), {state}, count(*) FROM tasks t "
            f"GROUP BY {day}, t.rule_id, t.action, COALESCE(t.owner, ''), {state}")
