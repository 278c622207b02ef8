"""Benchmark the connectors: parse + normalize throughput per network, and one concurrent poll cycle.

1. Throughput: each network's parser on synthetic pages built from the recorded fixtures (same
   documented format, 100 items a page, ids and texts varied), in items per second.
2. Poll cycle: 50 configured sources (X, Mastodon, Bluesky, Reddit, RSS, 10 each) polled once
   through `monitors.poll.poll_cycle` against a local HTTP server on 127.0.0.1 (port 0) that answers
   every request after 50-300 ms (fixed per source). Polls run concurrently, so the cycle should
   take about as long as the slowest source, not the sum of every request's latency.

Run: `python -m bench.sources`. Readable lines first, then one JSON object with the figures (last line).
"""

from __future__ import annotations

import copy
import json
import random
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.clock import FrozenClock
from bot.db import make_engine
from bot.deps import Deps
from bot.migrate import upgrade
from bot.sentiment import SentimentScorer
from bot.workspace import parse_workspace
from monitors.poll import ScheduledSource, make_http_client, poll_cycle
from monitors.sources import bluesky, build_source, facebook, instagram, mastodon, reddit, rss, x

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PAGE = 100
# Item id prefixes in the served fixtures, and how the server makes them unique per source (`i`).
ID_SUBST = {"x": [('"1991', '"{i}1991')], "mastodon": [('"1155', '"{i}1155'), ('"4821', '"{i}4821')],
            "bluesky": [("at://did:plc:", "at://did:plc:s{i}")],
            "reddit": [('"t1_m0', '"t1_m{i}'), ('"t3_1gx', '"t3_{i}gx')],
            "rss": [("googlealerts/feed:", "googlealerts/feed:{i}")]}
SOURCES_PER_NETWORK = 10
NETWORKS = ("x", "mastodon", "bluesky", "reddit", "rss")


def load(network: str, name: str) -> Any:
    return json.loads((FIXTURES / network / f"{name}.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------ synthetic pages


def _vary(item: dict[str, Any], i: int, paths: list[tuple[str, ...]]) -> dict[str, Any]:
    clone = copy.deepcopy(item)
    for path in paths:
        node = clone
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = f"{node[path[-1]]}{i:04d}" if isinstance(node[path[-1]], str) else node[path[-1]]
    return clone


def x_page() -> dict[str, Any]:
    page = load("x", "users_mentions")
    base = page["data"]
    page["data"] = [_vary(base[i % len(base)], i, [("id",), ("text",)]) for i in range(PAGE)]
    return page


def mastodon_page() -> list[Any]:
    base = load("mastodon", "notifications_mention")
    return [_vary(base[i % len(base)], i, [("id",), ("status", "id"), ("status", "content")]) for i in range(PAGE)]


def bluesky_page() -> dict[str, Any]:
    page = load("bluesky", "listNotifications_page1")
    base = [n for n in page["notifications"] if n["reason"] != "like"]
    page["notifications"] = [_vary(base[i % len(base)], i, [("uri",), ("record", "text")]) for i in range(PAGE)]
    return page


def reddit_page() -> dict[str, Any]:
    page = load("reddit", "message_mentions")
    base = page["data"]["children"]
    page["data"]["children"] = [_vary(base[i % len(base)], i, [("data", "name"), ("data", "body")])
                                for i in range(PAGE)]
    return page


def rss_feed() -> bytes:
    entries = "".join(
        f"<entry><id>tag:google.com,2013:googlealerts/feed:{i:020d}</id>"
        f"<title type=\"html\">Alerte &lt;b&gt;Maison Lumen&lt;/b&gt; n°{i}</title>"
        f"<link href=\"https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://news{i}.example/a&amp;ct=ga\"/>"
        f"<published>2026-11-20T09:{i % 60:02d}:00Z</published><updated>2026-11-20T09:00:00Z</updated>"
        f"<content type=\"html\">Le studio &lt;b&gt;Maison Lumen&lt;/b&gt; présente Aurore&amp;nbsp;...</content>"
        f"<author><name></name></author></entry>" for i in range(PAGE))
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<id>tag:google.com,2005:reader/user/0/state/com.google/alerts/1</id><title>Google Alert</title>"
            f"<updated>2026-11-20T09:45:00Z</updated>{entries}</feed>").encode()


def facebook_page() -> dict[str, Any]:
    page = load("facebook", "post_comments")
    base = page["data"]
    page["data"] = [_vary(base[i % len(base)], i, [("id",)]) for i in range(PAGE)]
    return page


def instagram_page() -> dict[str, Any]:
    page = load("instagram", "media_comments")
    base = [{k: v for k, v in c.items() if k != "replies"} for c in page["data"]]
    page["data"] = [_vary(base[i % len(base)], i, [("id",)]) for i in range(PAGE)]
    return page


PARSERS: dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]] = {
    "x": (x_page, x.parse_page),
    "mastodon": (mastodon_page, mastodon.parse_notifications),
    "bluesky": (bluesky_page, bluesky.parse_notifications),
    "reddit": (reddit_page, reddit.parse_listing),
    "rss": (rss_feed, lambda content: rss.parse_feed(content, now=NOW)),
    "facebook": (facebook_page, facebook.parse_comments),
    "instagram": (instagram_page, instagram.parse_comments),
}


def throughput(make: Callable[[], Any], parse: Callable[[Any], Any], *, seconds: float = 0.6) -> tuple[float, int]:
    """Items per second of `parse` on one synthetic page, repeated for about `seconds`."""
    page = make()
    items = len(parse(page).mentions)
    runs, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds or runs < 3:
        parse(page)
        runs += 1
    return runs * items / (time.perf_counter() - began), items


# ------------------------------------------------------------------------------ the local "networks"


class FakeNetworks(ThreadingHTTPServer):
    """Every network's endpoints under /s/<source>/..., each source answering after its own latency."""

    daemon_threads = True
    allow_reuse_address = True
    # 50 sources connect at once; the default listen backlog (5) would drop SYNs and add 1 s retransmits.
    request_queue_size = 256

    def __init__(self, latencies: dict[str, float]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.latencies = latencies
        self.slept = 0.0
        self.requests = 0
        self.lock = threading.Lock()
        self.per_source: dict[str, float] = {}
        self.bodies: dict[str, tuple[str, bytes]] = {
            "/2/users/1/mentions": ("application/json", json.dumps(load("x", "users_mentions_page2")).encode()),
            "/2/users/1/tweets": ("application/json", json.dumps(load("x", "users_tweets")).encode()),
            "/api/v1/notifications": ("application/json",
                                      json.dumps(load("mastodon", "notifications_newer")).encode()),
            "/api/v1/accounts/1/statuses": ("application/json",
                                            json.dumps(load("mastodon", "account_statuses")).encode()),
            "/xrpc/com.atproto.server.createSession": ("application/json",
                                                       json.dumps(load("bluesky", "createSession")).encode()),
            "/xrpc/app.bsky.notification.listNotifications": (
                "application/json", json.dumps(load("bluesky", "listNotifications_page2")).encode()),
            "/xrpc/app.bsky.feed.getAuthorFeed": ("application/json",
                                                  json.dumps(load("bluesky", "getAuthorFeed")).encode()),
            "/api/v1/access_token": ("application/json", json.dumps(load("reddit", "access_token")).encode()),
            "/message/mentions": ("application/json", json.dumps(load("reddit", "message_mentions_page2")).encode()),
            "/message/comments": ("application/json", json.dumps(load("reddit", "message_comments")).encode()),
            "/user/brand/submitted": ("application/json", json.dumps(load("reddit", "user_submitted")).encode()),
            "/alerts": ("application/atom+xml", (FIXTURES / "rss" / "google_alerts.xml").read_bytes()),
        }


class _Handler(BaseHTTPRequestHandler):
    server: FakeNetworks

    def _answer(self) -> None:
        path = self.path.split("?", 1)[0]
        _, _, name, rest = (path.split("/", 3) + ["", ""])[:4]
        latency = self.server.latencies.get(name, 0.1)
        time.sleep(latency)
        with self.server.lock:
            self.server.slept += latency
            self.server.requests += 1
            self.server.per_source[name] = self.server.per_source.get(name, 0.0) + latency
        if self.command == "POST":
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content_type, body = self.server.bodies.get("/" + rest, ("application/json", b'{"error":"NotFound"}'))
        # Each source gets its own item ids, so the store really writes 50 sources' worth of mentions.
        network, _, index = name.rpartition("-")
        for old, new in ID_SUBST.get(network, ()):
            body = body.replace(old.encode(), new.format(i=index).encode())
        self.send_response(200 if "/" + rest in self.server.bodies else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return


def config(base: str) -> str:
    lines = ["brand: {name: Maison Lumen, keywords: []}", "admins: [U0ADMIN]", "channels: {triage: C0TRIAGE}",
             "sources:"]
    for network in NETWORKS:
        for i in range(SOURCES_PER_NETWORK):
            name = f"{network}-{i}"
            url = f"{base}/s/{name}"
            options = {
                "x": '{bearer_token: "t", user_id: "1", search: false}',
                "mastodon": '{access_token: "t", account_id: "1"}',
                "bluesky": '{identifier: brand.test, app_password: "p", search: false}',
                "reddit": f'{{client_id: c, client_secret: s, username: brand, password: p, search: false, '
                          f'auth_url: "{url}"}}',
                "rss": f'{{url: "{url}/alerts"}}',
            }[network]
            base_url = "" if network == "rss" else f", base_url: \"{url}\""
            lines.append(f"  - {{name: {name}, type: {network}{base_url}, options: {options}}}")
    return "\n".join(lines) + "\n"


def poll_cycle_figures() -> dict[str, Any]:
    rng = random.Random(7)
    names = [f"{n}-{i}" for n in NETWORKS for i in range(SOURCES_PER_NETWORK)]
    latencies = {name: rng.uniform(0.05, 0.3) for name in names}
    server = FakeNetworks(latencies)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    workdir = tempfile.TemporaryDirectory()
    engine = make_engine(f"sqlite:///{workdir.name}/bench.db")
    client = make_http_client(max_connections=200)
    try:
        upgrade(engine)
        workspace = parse_workspace(config(f"http://127.0.0.1:{server.server_address[1]}"), "bench.yaml")
        deps = Deps(workspace=workspace, engine=engine, clock=FrozenClock(NOW), scorer=SentimentScorer())
        sources = [ScheduledSource(s.name, build_source(s, brand=workspace.brand), s.poll_every_s)
                   for s in workspace.sources]
        began = time.perf_counter()
        outcomes = poll_cycle(deps, sources, client=client, max_workers=64)
        wall = time.perf_counter() - began
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        engine.dispose()
        workdir.cleanup()
    return {
        "sources": len(sources),
        "ok": sum(1 for o in outcomes if o.status == "ok"),
        "failed": [f"{o.source}: {o.error}" for o in outcomes if o.status != "ok"],
        "requests": server.requests,
        "mentions_stored": sum(o.ingest.stored for o in outcomes),
        "wall_s": round(wall, 3),
        "sum_of_latencies_s": round(server.slept, 3),
        "slowest_source_latency_s": round(max(server.per_source.values()), 3),
        "speedup_vs_sequential": round(server.slept / wall, 1) if wall else None,
    }


def main() -> None:
    figures: dict[str, Any] = {"parse_items_per_s": {}}
    print(f"Parse + normalize throughput ({PAGE}-item pages in each network's documented format):")
    for network, (make, parse) in PARSERS.items():
        rate, items = throughput(make, parse)
        figures["parse_items_per_s"][network] = round(rate)
        print(f"  {network:<10} {rate:>12,.0f} items/s   ({items} items a page)")
    print(f"One poll cycle: {SOURCES_PER_NETWORK * len(NETWORKS)} sources against a local server "
          "(50-300 ms per request, fixed per source)...")
    cycle = poll_cycle_figures()
    figures["poll_cycle"] = cycle
    print(f"  {cycle['ok']}/{cycle['sources']} sources ok, {cycle['requests']} requests, "
          f"{cycle['mentions_stored']} mentions stored")
    print(f"  wall time {cycle['wall_s']:.2f} s vs {cycle['sum_of_latencies_s']:.2f} s of summed latency "
          f"(x{cycle['speedup_vs_sequential']}); the slowest source's requests alone take "
          f"{cycle['slowest_source_latency_s']:.2f} s")
    if cycle["failed"]:
        print("  failures: " + "; ".join(cycle["failed"][:5]))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
