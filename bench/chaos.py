"""`python -m bench.chaos`: kill -9 a real `veille run` at random moments during a 10,000-mention replay.

The bot runs as a child process (the same `veille run` an operator starts) against a database and the
local fake Slack Web API served by this process. It is killed with SIGKILL at `--kills` random moments
(each 0.2 to `--max-gap` seconds after it answered its first health check, so kills land mid-poll,
mid-ingest and mid-delivery) and restarted at once each time. Afterwards: every mention must be stored
once and every card posted once. Prints kills, stored, posted, duplicates, missing, wall time, and one
JSON object last.

    python -m bench.chaos                                  # SQLite in a temporary directory
    python -m bench.chaos --db postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, text
from sqlmodel import Session, func, select

from bot import models
from bot.console.fake_slack import FakeSlack
from bot.db import make_engine

CONFIG = """
brand: {{name: Maison Lumen, language: en, timezone: Europe/Paris, handles: {{x: maisonlumen}}}}
admins: [U0ADMIN]
channels: {{triage: C0TRIAGE}}
fallback_owner: U0ADMIN
triage: {{post_interval_s: 0, flood_threshold: 1000000}}
sources:
  - name: replay
    type: replay
    poll_every_s: 10
    options: {{path: "{path}"}}
"""
TEXTS = ["@maisonlumen where is my order {i}?", "Love the Aurore lamp @maisonlumen #{i}",
         "@maisonlumen colis {i} toujours pas arrivé 😡", "Is the Comète lamp dimmable? ({i})"]
# Short leases: a restarted process (a new replica identity) takes the dead one's jobs over within a second.
LEASE_TTL_S = 1.0


@dataclass(slots=True)
class ChaosResult:
    database: str
    mentions: int
    kills: int
    stored: int
    posted: int
    duplicates: int
    missing: int
    wall_s: float


def x_page(index: int, at: datetime) -> dict:
    """One X API v2 mentions page holding one Post (https://docs.x.com/x-api/posts/timelines)."""
    post_id = str(1_900_000_000_000_000_000 + index)
    user_id = str(5_000 + index % 997)
    return {
        "data": [{"id": post_id, "text": TEXTS[index % len(TEXTS)].format(i=index), "author_id": user_id,
                  "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "lang": "en", "conversation_id": post_id}],
        "includes": {"users": [{"id": user_id, "username": f"fan{index % 997}", "name": f"Fan {index % 997}",
                                "public_metrics": {"followers_count": index % 5000}}]},
        "meta": {"newest_id": post_id, "oldest_id": post_id, "result_count": 1},
    }


def write_scenario(directory: Path, *, count: int, start: datetime, spread_s: float) -> Path:
    """`count` mentions whose event times are spread over `spread_s` wall seconds from `start`: polls every
    10 s bring them in batches, so kills land between, during and after ingests."""
    directory.mkdir(parents=True, exist_ok=True)
    events = []
    for i in range(count):
        at = start + timedelta(seconds=spread_s * i / count)
        events.append({"at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "network": "x", "payload": x_page(i, at)})
    (directory / "x.json").write_text(json.dumps(events), encoding="utf-8")
    return directory


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(workdir: Path, db_url: str, fake_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update({"SLACK_BOT_TOKEN": "xoxb-chaos", "SLACK_SIGNING_SECRET": "chaos", "SLACK_API_URL": fake_url,
                "DATABASE_URL": db_url, "VEILLE_CONFIG": str(workdir / "veille.yaml"), "VEILLE_LOG_LEVEL": "WARNING",
                "VEILLE_LEASE_TTL_S": str(LEASE_TTL_S)})
    with open(workdir / "bot.log", "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=log)


def _wait_ready(process: subprocess.Popen[bytes], port: int, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"veille run exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"veille run did not answer /healthz within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


def card_keys(fake: FakeSlack) -> list[str]:
    """Keys of every card Slack accepted (a card posted twice appears twice)."""
    keys = []
    for call in fake.calls("chat.postMessage"):
        if call.ok:
            key = ((call.body.get("metadata") or {}).get("event_payload") or {}).get("key", "")
            if key.startswith("card:"):
                keys.append(key)
    return keys


def _stored(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            return int(session.exec(select(func.count()).select_from(models.Mention)).one())
    except Exception:  # noqa: BLE001 - before the first start the schema may not exist yet
        return 0
    finally:
        engine.dispose()


def run_chaos(db_url: str, workdir: Path, *, mentions: int = 10_000, kills: int = 20, seed: int = 7,
              max_gap: float = 6.0, spread_s: float | None = None, timeout: float = 900.0,
              progress: bool = False) -> ChaosResult:
    """Replay `mentions` through a real `veille run`, killing it `kills` times; count what Slack and the store got."""
    rng = random.Random(seed)
    spread = spread_s if spread_s is not None else mentions / 200  # ~200 mentions due per second
    started = time.monotonic()
    with FakeSlack() as fake:
        fake.delay("chat.postMessage", 0.002)  # a little network time, so kills also land inside Slack calls
        scenario = write_scenario(workdir / "scenario", count=mentions, start=datetime.now(UTC), spread_s=spread)
        (workdir / "veille.yaml").write_text(CONFIG.format(path=scenario), encoding="utf-8")
        log = workdir / "bot.log"
        port = _free_port()
        process = _start(workdir, db_url, fake.base_url, port)
        done = 0
        try:
            for _ in range(kills):
                _wait_ready(process, port, 120, log)
                time.sleep(rng.uniform(0.2, max_gap))
                process.send_signal(signal.SIGKILL)
                process.wait(10)
                done += 1
                if progress:
                    print(f"kill {done}/{kills}: {_stored(db_url)} stored, {len(set(card_keys(fake)))} cards so far",
                          flush=True)
                process = _start(workdir, db_url, fake.base_url, port)
            deadline = time.monotonic() + timeout
            while len(set(card_keys(fake))) < mentions or _stored(db_url) < mentions:
                if time.monotonic() > deadline:
                    break
                if process.poll() is not None:
                    raise RuntimeError(f"veille run exited with {process.returncode}:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
            time.sleep(1.0)  # a late duplicate, if any, would be posted by now
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
        keys = card_keys(fake)
    stored = _stored(db_url)
    return ChaosResult(database=db_url.split(":", 1)[0].split("+")[0], mentions=mentions, kills=done, stored=stored,
                       posted=len(keys), duplicates=len(keys) - len(set(keys)),
                       missing=max(mentions - len(set(keys)), mentions - stored),
                       wall_s=round(time.monotonic() - started, 1))


def fresh_postgres_url(url: str) -> tuple[str, str]:
    """A search_path-scoped URL on a new schema of `url` (dropped by `drop_schema`), and the schema name."""
    schema = f"chaos_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}", schema


def drop_schema(url: str, schema: str) -> None:
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-gap", type=float, default=6.0, help="most seconds between a start and its kill")
    parser.add_argument("--db", default=None, help="a PostgreSQL URL (a fresh schema is used); default: SQLite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="veille-chaos-") as tmp:
        workdir = Path(tmp)
        schema = None
        if args.db:
            db_url, schema = fresh_postgres_url(args.db)
        else:
            db_url = f"sqlite:///{workdir / 'veille.db'}"
        try:
            result = run_chaos(db_url, workdir, mentions=args.mentions, kills=args.kills, seed=args.seed,
                               max_gap=args.max_gap, progress=True)
        finally:
            if schema and args.db:
                drop_schema(args.db, schema)
    print(f"database:   {result.database}")
    print(f"kills:      {result.kills} (kill -9, restarted each time)")
    print(f"stored:     {result.stored} of {result.mentions} mentions")
    print(f"posted:     {result.posted} cards")
    print(f"duplicates: {result.duplicates}")
    print(f"missing:    {result.missing}")
    print(f"wall time:  {result.wall_s:.1f} s")
    print(json.dumps(asdict(result)))
    return 0 if result.duplicates == 0 and result.missing == 0 and result.stored == result.mentions else 1


if __name__ == "__main__":
    raise SystemExit(main())
