"""`veille demo` without a terminal: plays the bundled scenario through the real pipeline and exits 0."""

from __future__ import annotations

import io
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
        sent = conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'sent'").fetchone()[0]
        handled = conn.execute("SELECT COUNT(*) FROM mentions WHERE status = 'handled'").fetchone()[0]
    assert stored >= 300 and networks == {"x", "instagram", "facebook", "mastodon"}
    assert sent == stored and handled == 1  # every card delivered; the scripted `click 1 handled` landed
    assert f"Slack cards posted │ {stored} " in printed
    assert "KPIs — Maison Lumen" in printed and "Content calendar" in printed
    assert "#1 updated" in printed
