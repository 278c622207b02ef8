"""`kill -9` of a real `veille run` process mid-delivery, then a restart: every card posted exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from bot import models
from bot.db import make_engine
from tests.conftest import T0
from tests.scenarios import write_x_scenario

CONFIG = """
brand: {{name: Maison Lumen, language: en, timezone: Europe/Paris}}
admins: [U0ADMIN]
channels: {{triage: C0TRIAGE}}
triage: {{post_interval_s: 0, flood_threshold: 1000}}
sources:
  - name: replay
    type: replay
    poll_every_s: 10
    options: {{path: "{path}"}}
"""


def start_bot(tmp_path: Path, db_url: str, fake_url: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret", "SLACK_API_URL": fake_url,
                "DATABASE_URL": db_url, "VEILLE_CONFIG": str(tmp_path / "veille.yaml"), "VEILLE_LOG_LEVEL": "WARNING",
                # The killed process's leases (outbox, poll) block its successor until they expire: keep it short.
                "VEILLE_LEASE_TTL_S": "2"})
    with open(tmp_path / "bot.log", "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1", "--port", "0"],
                                env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log)


def posted_keys(fake) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.body["metadata"]["event_payload"]["key"] for c in fake.calls("chat.postMessage") if c.ok]


def wait_for(predicate, timeout: float, what: str, log: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; bot log:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)


@pytest.mark.parametrize("kill_after", [15, 55])
def test_kill_9_mid_delivery_then_restart_posts_every_card_once(tmp_path, db_url, fake_slack, kill_after) -> None:  # type: ignore[no-untyped-def]
    scenario = write_x_scenario(tmp_path / "scenario", count=100, start=T0, step=timedelta(minutes=1))
    (tmp_path / "veille.yaml").write_text(CONFIG.format(path=scenario), encoding="utf-8")
    fake_slack.delay("chat.postMessage", 0.03)  # slow enough that the kill lands mid-delivery
    log = tmp_path / "bot.log"

    bot = start_bot(tmp_path, db_url, fake_slack.base_url)
    try:
        wait_for(lambda: len(posted_keys(fake_slack)) >= kill_after, 60, f"{kill_after} cards", log)
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait(10)
    assert len(posted_keys(fake_slack)) < 100, "the kill came too late to test anything"

    fake_slack.delay("chat.postMessage", 0)
    bot = start_bot(tmp_path, db_url, fake_slack.base_url)
    try:
        wait_for(lambda: len(set(posted_keys(fake_slack))) >= 100, 60, "all 100 cards", log)
        time.sleep(1.0)  # a duplicate, if any, would be posted by now
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(15)

    keys = posted_keys(fake_slack)
    assert len(keys) == 100, f"{len(keys) - len(set(keys))} duplicate card(s)"
    assert len(set(keys)) == 100
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(models.Mention)).one() == 100
            statuses = session.exec(select(models.OutboxMessage.status)).all()
            assert set(statuses) == {"sent"} and len(statuses) == 100
    finally:
        engine.dispose()
