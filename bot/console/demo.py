"""`veille demo`: the real bot, a local fake Slack, the bundled scenario in compressed time, in the terminal.

Nothing here branches the bot's behaviour: the demo builds the same `Runtime` as `veille run`,
with a compressed clock, the replay source and a fake Slack Web API whose traffic is rendered
with rich. The prompt sends real signed slash commands and clicks to the bot over HTTP.
"""

from __future__ import annotations

import secrets
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import models
from bot.clock import CompressedClock
from bot.console import slack_requests
from bot.console.fake_slack import Call, FakeSlack
from bot.render import console as render
from bot.runtime import Runtime, RuntimeOptions
from bot.workspace import Workspace, parse_workspace
from monitors.poll import poll_once
from monitors.schedule import ScheduledSource
from monitors.sources.replay import ReplaySource

DEMO_USER = "U0CM1"  # the community manager of the demo config: an admin, so every button works
SOURCE_NAME = "demo-replay"
HELP = """Type a slash command or a click, as you would in Slack:
  /kpi [30d] [x]       KPIs for a period and network (also: /kpi posts, /kpi roi)
  /calendar [month]    the posts planned, with the planner's warnings
  click 3 handled      click "Mark handled" on card #3 (also: click 3 reopen)
  cards                how many cards were posted
  help · quit"""


def demo_rules() -> Any:
    """The demo's charter, engagement and routing rules (the shipped examples the demo config names)."""
    from rules.loader import load_rules

    with as_file(files("bot.demo").joinpath("demo.yaml")) as path:
        return load_rules(path)


def demo_workspace() -> Workspace:
    text = files("bot.demo").joinpath("demo.yaml").read_text(encoding="utf-8")
    return parse_workspace(text, "bot/demo/demo.yaml")


@dataclass
class ConsoleView:
    """Renders the fake Slack's traffic as it happens and remembers card numbers for `click N`."""

    out: Console
    show_cards: bool = True
    cards: dict[int, tuple[str, str]] = field(default_factory=dict)  # number -> (channel, ts)
    numbers: dict[tuple[str, str], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    updates: int = 0
    responses: int = 0

    def on_call(self, call: Call) -> None:
        if not call.ok:
            return
        if call.method == "chat.postMessage":
            channel, ts = str(call.response.get("channel")), str(call.response.get("ts"))
            with self.lock:
                number = len(self.cards) + 1
                self.cards[number] = (channel, ts)
                self.numbers[(channel, ts)] = number
            if self.show_cards:
                self.out.print(render.render_message(call.body, number=number, kind="post"))
        elif call.method == "chat.update":
            with self.lock:
                self.updates += 1
                number = self.numbers.get((str(call.body.get("channel")), str(call.body.get("ts"))))
            self.out.print(render.render_message(call.body, number=number, kind="update"))
        elif call.method == "chat.postEphemeral":
            self.out.print(render.render_message(call.body, kind="ephemeral"))

    def on_response(self, name: str, body: dict[str, Any]) -> None:
        with self.lock:
            self.responses += 1
        self.out.print(render.render_message(body, kind="response"))


class DemoSession:
    """The running demo: the bot, the fake Slack and the console view."""

    def __init__(self, *, db_path: Path, seconds: float, out: Console) -> None:
        self.out = out
        self.db_path = db_path
        self.workspace = demo_workspace()
        self.replay = ReplaySource()
        self.start, self.end = self.replay.scenario_span()
        span = (self.end - self.start).total_seconds()
        self.speed = max(1.0, span / max(seconds, 1.0))
        self.clock = CompressedClock(self.start - timedelta(minutes=1), self.speed)
        self.fake = FakeSlack(clock=self.clock)
        self.view = ConsoleView(out)
        self.fake.on_call = self.view.on_call
        self.fake.on_response = self.view.on_response
        self.signing_secret = secrets.token_hex(16)
        poll_every = next((s.poll_every_s for s in self.workspace.sources if s.name == SOURCE_NAME), 60)
        self.poll_every_real = max(0.2, poll_every / self.speed)
        self.runtime: Runtime | None = None
        self.http = httpx.Client(timeout=10)

    def __enter__(self) -> DemoSession:
        self.fake.start()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
        self.runtime = Runtime(RuntimeOptions(
            token="xoxb-demo", signing_secret=self.signing_secret, slack_api_url=self.fake.base_url,
            database_url=f"sqlite:///{self.db_path}", workspace=self.workspace, clock=self.clock,
            sources=[ScheduledSource(SOURCE_NAME, self.replay, self.poll_every_real)], outbox_idle_s=0.1,
            rules=demo_rules(), buzz_every_s=max(0.5, 300 / self.speed),
        ))
        self._seed_calendar()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.runtime is not None:
            self.runtime.stop()
        self.http.close()
        self.fake.stop()

    def _seed_calendar(self) -> None:
        assert self.runtime is not None
        with Session(self.runtime.engine) as session:
            for post in self.replay.calendar_posts():
                session.add(models.CalendarPost(
                    network=post["network"], scheduled_at=_parse_time(post["scheduled_at"]), title=post["title"],
                    pillar=post.get("pillar"), promo=bool(post.get("promo")), owner=post.get("owner"),
                    status=post.get("status", "scheduled"), external_id=post.get("external_id"),
                    permalink=post.get("permalink"),
                ))
            session.commit()

    def play(self) -> float:
        """Start the bot and let the scenario play out; return the wall seconds it took."""
        assert self.runtime is not None
        began = time.monotonic()
        self.runtime.start()
        span = (self.end - self.start).total_seconds() / self.speed
        deadline = began + span * 3 + 60
        while self.clock.now() <= self.end and time.monotonic() < deadline:
            time.sleep(0.1)
        self.runtime.scheduler.shutdown(wait=True)
        # One last poll, so the final events are in whatever the scheduler's phase; the backlog drains
        # in compressed time (Slack's pace is per virtual second), then the clock runs in real time.
        poll_once(self.runtime.deps, name=SOURCE_NAME, source=self.replay)
        self.wait_outbox_drained(deadline)
        self.clock.real_time()
        return time.monotonic() - began

    def wait_outbox_drained(self, deadline: float) -> None:
        assert self.runtime is not None
        self.runtime.worker.wake()
        while time.monotonic() < deadline:
            with Session(self.runtime.engine) as session:
                waiting = session.exec(select(func.count()).select_from(models.OutboxMessage).where(
                    col(models.OutboxMessage.status).in_(("pending", "sending", "in_doubt")))).one()
            if not waiting:
                return
            time.sleep(0.05)

    # ---------------------------------------------------------------- commands from the prompt

    def _post(self, body: str) -> httpx.Response:
        assert self.runtime is not None
        signed = slack_requests.sign(body, self.signing_secret)
        return self.http.post(f"{self.runtime.url}/slack/events", content=signed.body, headers=signed.headers)

    def slash(self, line: str) -> None:
        command, _, text = line.partition(" ")
        before = self.view.responses
        response = self._post(slack_requests.slash_command(
            command, text.strip(), user_id=DEMO_USER, channel_id=self.workspace.channels.triage,
            response_url=self.fake.response_url(f"cmd-{time.monotonic_ns()}")))
        if response.status_code != 200:
            self.out.print(f"[red]The bot answered HTTP {response.status_code}[/red]")
            return
        self._wait(lambda: self.view.responses > before)

    def click(self, number: int, word: str) -> None:
        card = self.view.cards.get(number)
        if card is None:
            self.out.print(f"No card #{number} (cards go from 1 to {len(self.view.cards)}).")
            return
        channel, ts = card
        message = next((m for m in self.fake.messages(channel) if m.get("ts") == ts), None)
        if message is None:
            self.out.print(f"Card #{number} is not in the channel any more.")
            return
        button = render.find_button(message.get("blocks") or [], word)
        if button is None:
            names = ", ".join(b.get("text", "") for b in render.buttons(message.get("blocks") or []))
            self.out.print(f"Card #{number} has no '{word}' button (it has: {names or 'none'}).")
            return
        before = (self.view.updates, self.view.responses)
        response = self._post(slack_requests.block_action(
            user_id=DEMO_USER, channel_id=channel, message=message, button=button,
            response_url=self.fake.response_url(f"click-{number}", channel=channel, message_ts=ts)))
        if response.status_code != 200:
            self.out.print(f"[red]The bot answered HTTP {response.status_code}[/red]")
            return
        self._wait(lambda: (self.view.updates, self.view.responses) != before)

    def _wait(self, done: Any, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            time.sleep(0.02)

    def handle(self, line: str) -> bool:
        """Run one prompt line; False to quit."""
        line = line.strip()
        if not line:
            return True
        if line in ("quit", "exit", "q"):
            return False
        if line in ("help", "?"):
            self.out.print(HELP, highlight=False, markup=False)
        elif line.startswith("/"):
            self.slash(line)
        elif line == "cards":
            self.out.print(f"{len(self.view.cards)} cards posted.")
        elif line.startswith("click"):
            parts = line.split()
            if len(parts) != 3 or not parts[1].lstrip("#").isdigit():
                self.out.print("Usage: click <card number> <button>, e.g. click 3 handled")
            else:
                self.click(int(parts[1].lstrip("#")), parts[2])
        else:
            self.out.print("Unknown input. Type help.")
        return True

    # ---------------------------------------------------------------- summary

    def summary(self, wall_s: float) -> Table:
        assert self.runtime is not None
        with Session(self.runtime.engine) as session:
            by_network = Counter(dict(session.exec(
                select(models.Mention.network, func.count()).group_by(models.Mention.network)).all()))
            by_sentiment = Counter(dict(session.exec(
                select(models.Mention.sentiment_label, func.count()).group_by(models.Mention.sentiment_label)).all()))
            by_owner = Counter(dict(session.exec(
                select(models.Mention.responsibility, func.count()).group_by(models.Mention.responsibility)).all()))
            handled = session.exec(select(func.count()).select_from(models.Mention)
                                   .where(models.Mention.status == "handled")).one()
            rejected = session.exec(select(func.count()).select_from(models.RejectedItem)).one()
            outbox = Counter({(kind, status): n for kind, status, n in session.exec(
                select(models.OutboxMessage.kind, models.OutboxMessage.status, func.count())
                .group_by(models.OutboxMessage.kind, models.OutboxMessage.status)).all()})
        total = sum(by_network.values())
        posts = [c for c in self.fake.calls("chat.postMessage") if c.ok]
        table = Table(title="Veille demo — summary", show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        span = f"{self.start:%a %d %b %H:%M} → {self.end:%a %d %b %H:%M} UTC"
        table.add_row("Scenario", f"{self.workspace.brand.name}: {span}, played in {wall_s:.1f} s (×{self.speed:,.0f})")
        table.add_row("Mentions stored", f"{total} ({', '.join(f'{n} {c}' for n, c in by_network.most_common())})")
        table.add_row("Set aside", f"{rejected} malformed item(s)")
        table.add_row("Sentiment", ", ".join(f"{label} {by_sentiment[label]}"
                                             for label in ("positive", "neutral", "negative")))
        table.add_row("Routed to", ", ".join(f"{name or 'triage (fallback)'} {count}"
                                             for name, count in by_owner.most_common()))
        cards = outbox[("card", "sent")]
        digests = outbox[("digest", "sent")]
        folded = outbox[("card", "digested")]
        threads = outbox[("thread", "sent")]
        other = len(posts) - cards - digests - threads
        table.add_row("Slack messages posted", f"{len(posts)}: {cards} cards, {digests} flood digests "
                      f"(standing for {folded} items), {threads} thread replies, {other} alerts, pages and "
                      f"deadline reminders; {self.view.updates} card updates")
        waiting = sum(n for (kind, status), n in outbox.items() if status not in ("sent", "digested"))
        table.add_row("Not delivered", f"{waiting} (parked or still queued)")
        table.add_row("Handled", str(handled))
        table.add_row("Database", f"{self.db_path.resolve()} (SQLite; open it with any SQLite browser)")
        return table


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _prompt_loop(session: DemoSession) -> None:
    try:
        import readline

        words = ["/kpi", "/calendar", "click", "help", "quit", "cards", "handled", "reopen"]
        readline.set_completer(lambda text, state: ([w for w in words if w.startswith(text)] + [None])[state])
        readline.parse_and_bind("tab: complete")
    except ImportError:  # readline is optional (Windows)
        pass
    session.out.print(HELP, highlight=False, markup=False)
    while True:
        try:
            line = input("veille> ")
        except (EOFError, KeyboardInterrupt):
            session.out.print()
            return
        if not session.handle(line):
            return


def run_demo(*, db_path: str | Path = "veille-demo.db", seconds: float = 30.0,
             interactive: bool | None = None, out: Console | None = None) -> int:
    """Play the demo; open the prompt when stdin is a terminal (or when asked). Returns the exit code."""
    out = out or Console(highlight=False)
    if interactive is None:
        interactive = sys.stdin.isatty()
    with DemoSession(db_path=Path(db_path), seconds=seconds, out=out) as session:
        out.rule(f"Veille demo — {session.workspace.brand.name}: {session.replay.total_items()} items "
                 f"over {(session.end - session.start) / timedelta(hours=1):.0f} h, played in about {seconds:.0f} s")
        wall = session.play()
        out.rule("Scenario played; the clock now runs in real time")
        if interactive:
            _prompt_loop(session)
        else:
            # No terminal (CI, a pipe): show the two commands and one click, as a user would try them.
            for line in ("/kpi", "/calendar", "click 1 handled"):
                out.print(f"veille> {line}", markup=False)
                session.handle(line)
            session.wait_outbox_drained(time.monotonic() + 10)
        out.print(session.summary(wall))
    return 0
