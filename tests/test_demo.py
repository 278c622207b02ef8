"""`veille demo` without a terminal: plays the bundled scenario through the real pipeline and exits 0."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

from rich.console import Console

from bot.console.demo import run_demo


def test_the_demo_plays_the_scenario_and_leaves_the_database(tmp_path: Path) -> None:
    out = io.StringIO()
    db = tmp_path / "demo.db"
    code = run_demo(db_path=db, seconds=3, interactive=False, out=Console(file=out, width=120, color_system=None))
    printed = out.getvalue()
    assert code == 0
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM mentions").fetchone()[0]
        networks = {row[0] for row in conn.execute("SELECT DISTINCT network FROM mentions")}
        # Every item has its card in Slack, or is folded into a flood digest that is in Slack.
        shown = conn.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'card' AND (status = 'sent' OR "
                             "(status = 'digested' AND digest_key IN (SELECT key FROM outbox WHERE status = 'sent')))"
                             ).fetchone()[0]
        waiting = conn.execute("SELECT COUNT(*) FROM outbox WHERE status NOT IN ('sent', 'digested')").fetchone()[0]
        handled = conn.execute("SELECT COUNT(*) FROM mentions WHERE status = 'handled'").fetchone()[0]
    assert stored >= 300 and networks == {"x", "instagram", "facebook", "mastodon"}
    assert shown == stored and waiting == 0 and handled >= 1  # the scripted `click 1 handled` landed too
    assert "Slack messages posted" in printed and re.search(r"Not delivered\s*│ 0 ", printed)
    assert "KPIs — Maison Lumen" in printed and "Content calendar" in printed
    assert "#1 updated" in printed
