"""Each owner's open items, kept exact by database triggers, so routing reads a load instead of counting a backlog.

Routing's `least_open` strategy asks how many open items each owner holds: the active assignments whose mention is
still "open". Counted from the rows, that is a join over the whole open backlog, on every page the pipeline
stores — its cost grew with the backlog (27 ms a page at 60,000 open items on SQLite), so a bad buzz, which is
when the backlog grows, slowed ingestion down. `owner_open_counts` holds the count per owner instead, and
triggers keep it equal to the join whatever path changes the rows (a stored page, a triage click, a reassignment,
a GDPR erasure, a manual SQL fix):

- an assignment inserted, deleted, or updated (`active`, `owner`, `mention_id`) adds or removes its contribution
  when its mention is open;
- a mention whose status enters or leaves "open" adds or removes one per active assignment it has.

A mention cannot be deleted while assignments point at it (foreign key), so deletions go through the assignments.
The DDL below is what revision 0010 installs: change it only together with a new revision.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from bot import db

# The mention's status, read by primary key from an assignment trigger.
_STATUS = "(SELECT status FROM mentions WHERE id = {r}.mention_id)"

_SQLITE = [
    f"""CREATE TRIGGER owner_load_assignments_insert AFTER INSERT ON assignments
    WHEN NEW.active AND NEW.owner IS NOT NULL BEGIN
        INSERT INTO owner_open_counts (owner, n) SELECT NEW.owner, 1 WHERE {_STATUS.format(r="NEW")} = 'open'
        ON CONFLICT (owner) DO UPDATE SET n = n + 1;
    END""",
    f"""CREATE TRIGGER owner_load_assignments_delete AFTER DELETE ON assignments
    WHEN OLD.active AND OLD.owner IS NOT NULL BEGIN
        UPDATE owner_open_counts SET n = n - 1 WHERE owner = OLD.owner AND {_STATUS.format(r="OLD")} = 'open';
    END""",
    f"""CREATE TRIGGER owner_load_assignments_update AFTER UPDATE OF active, owner, mention_id ON assignments BEGIN
        UPDATE owner_open_counts SET n = n - 1
        WHERE OLD.active AND owner = OLD.owner AND {_STATUS.format(r="OLD")} = 'open';
        INSERT INTO owner_open_counts (owner, n) SELECT NEW.owner, 1
        WHERE NEW.active AND NEW.owner IS NOT NULL AND {_STATUS.format(r="NEW")} = 'open'
        ON CONFLICT (owner) DO UPDATE SET n = n + 1;
    END""",
    # Entering "open" adds each active owner's count, leaving it subtracts it (the sign of the change).
    """CREATE TRIGGER owner_load_mentions_status AFTER UPDATE OF status ON mentions
    WHEN (OLD.status = 'open') IS NOT (NEW.status = 'open') BEGIN
        INSERT INTO owner_open_counts (owner, n)
        SELECT owner, CASE WHEN NEW.status = 'open' THEN count(*) ELSE -count(*) END FROM assignments
        WHERE mention_id = NEW.id AND active AND owner IS NOT NULL GROUP BY owner
        ON CONFLICT (owner) DO UPDATE SET n = n + excluded.n;
    END""",
]

_PG = [
    f"""CREATE FUNCTION owner_load_assignments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.active AND OLD.owner IS NOT NULL
            AND {_STATUS.format(r="OLD")} = 'open' THEN
        UPDATE owner_open_counts SET n = n - 1 WHERE owner = OLD.owner;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.active AND NEW.owner IS NOT NULL
            AND {_STATUS.format(r="NEW")} = 'open' THEN
        INSERT INTO owner_open_counts (owner, n) VALUES (NEW.owner, 1)
        ON CONFLICT (owner) DO UPDATE SET n = owner_open_counts.n + 1;
    END IF;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER owner_load_assignments_insert_delete AFTER INSERT OR DELETE ON assignments "
    "FOR EACH ROW EXECUTE FUNCTION owner_load_assignments()",
    "CREATE TRIGGER owner_load_assignments_update AFTER UPDATE OF active, owner, mention_id ON assignments "
    "FOR EACH ROW EXECUTE FUNCTION owner_load_assignments()",
    """CREATE FUNCTION owner_load_mentions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.status = 'open') IS DISTINCT FROM (NEW.status = 'open') THEN
        INSERT INTO owner_open_counts (owner, n)
        SELECT owner, CASE WHEN NEW.status = 'open' THEN count(*) ELSE -count(*) END FROM assignments
        WHERE mention_id = NEW.id AND active AND owner IS NOT NULL GROUP BY owner
        ON CONFLICT (owner) DO UPDATE SET n = owner_open_counts.n + excluded.n;
    END IF;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER owner_load_mentions_status AFTER UPDATE OF status ON mentions "
    "FOR EACH ROW EXECUTE FUNCTION owner_load_mentions()",
]


def create_triggers(conn: Connection) -> None:
    """Install the triggers that keep `owner_open_counts` exact."""
    for statement in _PG if conn.dialect.name == "postgresql" else _SQLITE:
        conn.exec_driver_sql(statement)


def drop_triggers(conn: Connection) -> None:
    db.drop_triggers(conn, sqlite=("owner_load_assignments_insert", "owner_load_assignments_delete",
                                   "owner_load_assignments_update", "owner_load_mentions_status"),
                     postgresql=(("owner_load_assignments_insert_delete", "assignments"),
                                 ("owner_load_assignments_update", "assignments"),
                                 ("owner_load_mentions_status", "mentions")),
                     functions=("owner_load_assignments", "owner_load_mentions"))


# The count from the rows: what the table must always equal (the tests compare the two).
COUNT_SQL = ("SELECT a.owner, count(*) FROM assignments a JOIN mentions m ON m.id = a.mention_id "
             "WHERE a.active AND m.status = 'open' AND a.owner IS NOT NULL GROUP BY a.owner")


def rebuild(conn: Connection) -> None:
    """Recompute the counts from the rows (at migration time, or after a bulk load without triggers)."""
    conn.exec_driver_sql("DELETE FROM owner_open_counts")
    conn.exec_driver_sql(f"INSERT INTO owner_open_counts (owner, n) {COUNT_SQL}")
