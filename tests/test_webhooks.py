"""Pushed mentions: signed generic webhooks and Meta's webhooks are verified, validated, deduplicated and stored."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine
from sqlmodel import Session, select

from bot.http import HttpServer, build_asgi
from monitors.sources.base import PollResult, RateLimited
from monitors.webhooks import GenericHook, MetaHook, hooks_from_config, make_ingest, sign, webhook_routes
from tests.fake_apis import FakeApi, json_response, load

SECRET = "whsec-0123456789abcdef"
APP_SECRET = "meta-app-secret-xyz"
NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
ITEM = {"id": "forum-881", "network": "forum", "kind": "mention", "text": "Anyone tried the Aurore lamp?",
        "author": {"handle": "jane", "name": "Jane D.", "followers": 120}, "created_at": "2026-11-20T09:15:02Z",
        "url": "https://forum.example/t/881", "lang": "en"}


class Recorder:
    """An `ingest` that records what the route hands over and dedupes by (network, id) like the store."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, PollResult]] = []
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, source: str, result: PollResult) -> dict[str, int]:
        self.calls.append((source, result))
        keys = [(m.network, m.external_id) for m in result.mentions]
        stored = [k for k in keys if k not in self.seen]
        self.seen.update(keys)
        return {"stored": len(stored), "duplicates": len(keys) - len(stored), "rejected": len(result.rejected)}


def signed(body: bytes, *, secret: str = SECRET, at: datetime = NOW) -> dict[str, str]:
    ts = str(int(at.timestamp()))
    return {"X-Veille-Timestamp": ts, "X-Veille-Signature": sign(secret, ts, body),
            "Content-Type": "application/json"}


def meta_signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


class Handler:
    """The Instagram connector's side of a Meta delivery, faked: records payloads, can be made to throttle."""

    def __init__(self) -> None:
        self.payloads: list[Any] = []

    def __call__(self, payload: Any, now: datetime) -> PollResult:
        from monitors.sources.instagram import parse_webhook, parse_webhook_comment

        self.payloads.append(payload)
        if payload.get("entry") == "throttle":
            raise RateLimited("ig", "throttled", retry_after=120)
        changes, rejected = parse_webhook(payload)
        return PollResult([parse_webhook_comment(c, received_at=now) for c in changes], {}, rejected)


FB_PAGE = "108352974650231"
MENTION_COMMENT = "998877665544332_1122334455667788"
MENTION_POST = "334455667788990_887766554433221"
# The Graph API behind the real Facebook connector of the "fb-page" source; each test scripts it.
GRAPH = FakeApi()


def facebook_hooks() -> dict[str, MetaHook]:
    """The "fb-page" hook as the runtime builds it: from a facebook source's config, with the real connector."""
    from bot.workspace import SourceConfig

    source = SourceConfig(name="fb-page", type="facebook", options={
        "page_id": FB_PAGE, "access_token": "${FB_TOKEN}", "app_secret": "${FB_APP_SECRET}",
        "verify_token": "fb-verify-token"})
    _generic, meta = hooks_from_config([source], environ={"FB_TOKEN": "page-token", "FB_APP_SECRET": APP_SECRET},
                                       http_factory=lambda connector: GRAPH.http(source=connector.name))
    return meta


@pytest.fixture(scope="module")
def server() -> Any:
    """One real uvicorn on port 0 for the module (starting one per test would cost seconds)."""
    recorder, handler = Recorder(), Handler()
    routes = webhook_routes(
        generic={"zapier": GenericHook("zapier", SecretStr(SECRET), "web")},
        meta={"ig-main": MetaHook("ig-main", SecretStr(APP_SECRET), SecretStr("verify-me-please"), handler),
              **facebook_hooks()},
        ingest=recorder, clock=lambda: NOW)
    http = HttpServer(build_asgi(None, create_engine("sqlite://"), extra_routes=routes), port=0)
    http.start()
    yield http, recorder, handler
    http.stop()


@pytest.fixture
def client(server: Any) -> Any:
    http, recorder, handler = server
    recorder.calls.clear()
    recorder.seen.clear()
    handler.payloads.clear()
    GRAPH.routes.clear()
    GRAPH.requests.clear()
    GRAPH.on("GET", f"/v23.0/{MENTION_COMMENT}", load("facebook", "mention_comment"))
    GRAPH.on("GET", f"/v23.0/{MENTION_POST}", load("facebook", "mention_post"))
    with httpx.Client(base_url=http.url, timeout=10) as c:
        yield c


@pytest.fixture
def recorder(server: Any) -> Recorder:
    return server[1]


@pytest.fixture
def handled(server: Any) -> list[Any]:
    return server[2].payloads


class TestGenericWebhook:
    def test_a_signed_item_is_accepted_and_ingested(self, client: httpx.Client, recorder: Recorder) -> None:
        body = json.dumps(ITEM).encode()
        response = client.post("/hooks/zapier", content=body, headers=signed(body))

        assert response.status_code == 202
        assert response.json() == {"stored": 1, "duplicates": 0, "rejected": 0, "errors": []}
        ((source, result),) = recorder.calls
        (mention,) = result.mentions
        assert source == "zapier" and mention.network == "forum" and mention.external_id == "forum-881"
        assert mention.author_handle == "jane" and mention.author_followers == 120
        assert mention.created_at == datetime(2026, 11, 20, 9, 15, 2, tzinfo=UTC)
        assert mention.permalink == "https://forum.example/t/881" and mention.raw == ITEM

    def test_a_list_is_deduplicated_and_a_bad_item_set_aside(self, client: httpx.Client, recorder: Recorder) -> None:
        second = {**ITEM, "id": "forum-882", "network": None}
        del second["network"]
        bad = {**ITEM, "id": "forum-883", "author": {}}
        body = json.dumps([ITEM, second, bad]).encode()
        first = client.post("/hooks/zapier", content=body, headers=signed(body))
        again = client.post("/hooks/zapier", content=body, headers=signed(body))

        assert first.status_code == again.status_code == 202
        assert first.json() == {"stored": 2, "duplicates": 0, "rejected": 1,
                                "errors": [{"index": 2, "error": "[2].author.handle: Field required"}]}
        assert again.json()["duplicates"] == 2 and again.json()["stored"] == 0
        assert recorder.calls[0][1].mentions[1].network == "web"  # the source's default network

    @pytest.mark.parametrize(("headers", "reason"), [
        ({}, "missing"),
        ({"X-Veille-Signature": "sha256=00"}, "does not match"),
        ({"X-Veille-Timestamp": str(int((NOW - timedelta(minutes=6)).timestamp()))}, "more than 5 minutes"),
        ({"X-Veille-Timestamp": "soon"}, "unix seconds"),
    ])
    def test_bad_or_stale_signatures_are_refused_and_nothing_is_ingested(
            self, client: httpx.Client, recorder: Recorder, headers: dict[str, str], reason: str) -> None:
        body = json.dumps(ITEM).encode()
        sent = {**signed(body), **headers} if headers else {"Content-Type": "application/json"}
        if "X-Veille-Timestamp" in headers and headers["X-Veille-Timestamp"].isdigit():
            sent["X-Veille-Signature"] = sign(SECRET, headers["X-Veille-Timestamp"], body)  # right, but stale
        response = client.post("/hooks/zapier", content=body, headers=sent)

        assert response.status_code == 401 and reason in response.json()["error"]
        assert recorder.calls == []

    def test_a_signature_by_another_secret_or_of_other_bytes_is_refused(self, client: httpx.Client,
                                                                         recorder: Recorder) -> None:
        body = json.dumps(ITEM).encode()
        assert client.post("/hooks/zapier", content=body, headers=signed(body, secret="x" * 20)).status_code == 401
        assert client.post("/hooks/zapier", content=body + b" ", headers=signed(body)).status_code == 401
        assert recorder.calls == []

    @pytest.mark.parametrize(("body", "status", "message"), [
        (b"{not json", 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not valid JSON"),
        (b'"a string"', 422, "the body is a JSON str; send an object or a list"),
        (b"[]", 422, "the list is empty"),
        (json.dumps([ITEM] * 101).encode(), 422, "at most 100"),
        (json.dumps({**ITEM, "created_at": "2026-11-20T09:15:02"}).encode(), 422, "created_at: needs a UTC offset"),
        (json.dumps({**ITEM, "created_at": 1763630102}).encode(), 422, "created_at"),
        (json.dumps({**ITEM, "author": {"handle": "j", "followers": "many"}}).encode(), 422, "author.followers"),
        (json.dumps({**ITEM, "colour": "red"}).encode(), 422, "colour: unknown field"),
        (json.dumps({**ITEM, "kind": "rumour"}).encode(), 422, "kind: Input should be"),
        (json.dumps({**ITEM, "url": "javascript:alert(1)"}).encode(), 422, "url: String should match"),
        (json.dumps({**ITEM, "id": 42}).encode(), 422, "id: Input should be a valid string"),
        (json.dumps([1, "x"]).encode(), 422, "no item is valid"),
    ])
    def test_malformed_bodies_get_a_4xx_naming_the_problem(self, client: httpx.Client, recorder: Recorder,
                                                          body: bytes, status: int, message: str) -> None:
        response = client.post("/hooks/zapier", content=body, headers=signed(body))

        assert response.status_code == status
        assert message in json.dumps(response.json())
        assert recorder.calls == []

    def test_huge_and_hostile_text(self, client: httpx.Client, recorder: Recorder) -> None:
        hostile = "<!channel> <@U1> <http://evil|bank> & \u202e 🙋‍♀️ \x00"
        ok = json.dumps({**ITEM, "text": hostile * 100}).encode()
        assert client.post("/hooks/zapier", content=ok, headers=signed(ok)).status_code == 202
        assert recorder.calls[0][1].mentions[0].text == hostile * 100

        too_long = json.dumps({**ITEM, "text": "a" * 40_001}).encode()
        response = client.post("/hooks/zapier", content=too_long, headers=signed(too_long))
        assert response.status_code == 422 and "text: String should have at most 40000" in response.json()["error"]

        huge = json.dumps([{**ITEM, "text": "a" * 39_000}] * 8).encode()
        response = client.post("/hooks/zapier", content=huge, headers=signed(huge))
        assert response.status_code == 413 and len(recorder.calls) == 1

    def test_unknown_sources_are_404_and_only_post_is_allowed(self, client: httpx.Client) -> None:
        body = json.dumps(ITEM).encode()
        assert client.post("/hooks/nope", content=body, headers=signed(body)).status_code == 404
        assert client.get("/hooks/zapier").status_code == 405


class TestMetaWebhook:
    def test_handshake_echoes_the_challenge_only_with_the_right_token(self, client: httpx.Client) -> None:
        good = client.get("/hooks/meta/ig-main", params={
            "hub.mode": "subscribe", "hub.verify_token": "verify-me-please", "hub.challenge": "1158201444"})
        assert good.status_code == 200 and good.text == "1158201444"

        for params in ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
                       {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me-please", "hub.challenge": "1"},
                       {"hub.verify_token": "verify-me-please"}):
            refused = client.get("/hooks/meta/ig-main", params=params)
            assert refused.status_code == 403 and "1" not in refused.text.replace("403", "")
        assert client.get("/hooks/meta/other", params={"hub.mode": "subscribe"}).status_code == 404

    def test_a_signed_delivery_is_handled_and_ingested(self, client: httpx.Client, recorder: Recorder,
                                                      handled: list[Any]) -> None:
        body = json.dumps(load("instagram", "webhook_comments")).encode()
        response = client.post("/hooks/meta/ig-main", content=body, headers=meta_signed(body))

        assert response.status_code == 200 and response.json() == {"stored": 1, "duplicates": 0, "rejected": 0}
        assert handled == [json.loads(body)]
        assert recorder.calls[0][1].mentions[0].external_id == "17865799348089039"

    def test_a_bad_meta_signature_is_refused(self, client: httpx.Client, recorder: Recorder,
                                             handled: list[Any]) -> None:
        body = json.dumps(load("instagram", "webhook_comments")).encode()
        for headers in ({}, meta_signed(body, "other-secret"), meta_signed(body + b"\n")):
            assert client.post("/hooks/meta/ig-main", content=body, headers=headers).status_code == 401
        assert handled == [] and recorder.calls == []

    def test_a_deferred_delivery_is_503_so_meta_retries(self, client: httpx.Client, recorder: Recorder) -> None:
        body = json.dumps({"object": "instagram", "entry": "throttle"}).encode()
        response = client.post("/hooks/meta/ig-main", content=body, headers=meta_signed(body))
        assert response.status_code == 503 and response.headers["retry-after"] == "120"
        assert recorder.calls == []

    def test_a_delivery_that_is_not_instagram_is_400(self, client: httpx.Client) -> None:
        body = b'{"object": "page", "entry": []}'
        response = client.post("/hooks/meta/ig-main", content=body, headers=meta_signed(body))
        assert response.status_code == 400 and "instagram" in response.json()["error"]
        body = b"nope"
        assert client.post("/hooks/meta/ig-main", content=body, headers=meta_signed(body)).status_code == 400


class TestFacebookPageMentions:
    """The Page webhook's `mention` field, through the real ASGI app and the real Facebook connector."""

    def test_handshake_with_the_page_sources_verify_token(self, client: httpx.Client) -> None:
        params = {"hub.mode": "subscribe", "hub.verify_token": "fb-verify-token", "hub.challenge": "42"}
        assert client.get("/hooks/meta/fb-page", params=params).text == "42"
        assert client.get("/hooks/meta/fb-page", params={**params, "hub.verify_token": "verify-me-please"}
                          ).status_code == 403

    def test_a_signed_delivery_is_fetched_from_the_graph_api_and_ingested_once(
            self, client: httpx.Client, recorder: Recorder) -> None:
        body = json.dumps(load("facebook", "webhook_mention")).encode()
        first = client.post("/hooks/meta/fb-page", content=body, headers=meta_signed(body))
        again = client.post("/hooks/meta/fb-page", content=body, headers=meta_signed(body))

        assert first.status_code == 200 and first.json() == {"stored": 2, "duplicates": 0, "rejected": 0}
        assert again.json() == {"stored": 0, "duplicates": 2, "rejected": 0}  # Meta's redelivery changes nothing
        source, result = recorder.calls[0]
        assert source == "fb-page"
        assert [(m.network, m.kind, m.external_id) for m in result.mentions] == [
            ("facebook", "mention", MENTION_COMMENT), ("facebook", "mention", MENTION_POST)]
        assert result.mentions[0].text == "@Maison Lumen do you ship the Aurore lamp to Québec?"
        assert [r.url.path for r in GRAPH.requests] == [f"/v23.0/{MENTION_COMMENT}", f"/v23.0/{MENTION_POST}"] * 2
        assert all(r.headers["authorization"] == "Bearer page-token" for r in GRAPH.requests)

    def test_a_bad_signature_is_refused_before_any_fetch(self, client: httpx.Client, recorder: Recorder) -> None:
        body = json.dumps(load("facebook", "webhook_mention")).encode()
        for headers in ({}, meta_signed(body, "other-secret"), meta_signed(body[:-1])):
            assert client.post("/hooks/meta/fb-page", content=body, headers=headers).status_code == 401
        assert GRAPH.requests == [] and recorder.calls == []

    def test_a_removed_mention_fetches_and_stores_nothing(self, client: httpx.Client, recorder: Recorder) -> None:
        body = json.dumps(load("facebook", "webhook_mention_remove")).encode()
        response = client.post("/hooks/meta/fb-page", content=body, headers=meta_signed(body))
        assert response.status_code == 200 and response.json() == {"stored": 0, "duplicates": 0, "rejected": 0}
        assert GRAPH.requests == []

    def test_a_failed_fetch_is_answered_503_and_the_redelivery_stores_it(
            self, client: httpx.Client, recorder: Recorder) -> None:
        body = json.dumps(load("facebook", "webhook_mention")).encode()
        GRAPH.on("GET", f"/v23.0/{MENTION_POST}", httpx.Response(500))
        deferred = client.post("/hooks/meta/fb-page", content=body, headers=meta_signed(body))
        assert deferred.status_code == 503 and deferred.headers["retry-after"] == "60"
        assert recorder.calls == []  # nothing half-ingested: the whole delivery comes again

        GRAPH.on("GET", f"/v23.0/{MENTION_POST}", load("facebook", "mention_post"))
        redelivered = client.post("/hooks/meta/fb-page", content=body, headers=meta_signed(body))
        assert redelivered.json() == {"stored": 2, "duplicates": 0, "rejected": 0}

    def test_a_mention_graph_refuses_is_kept_aside_and_the_others_stored(
            self, client: httpx.Client, recorder: Recorder) -> None:
        GRAPH.on("GET", f"/v23.0/{MENTION_POST}", json_response(400, {"error": {
            "code": 100, "message": "Unsupported get request. Object does not exist"}}))
        body = json.dumps(load("facebook", "webhook_mention")).encode()
        response = client.post("/hooks/meta/fb-page", content=body, headers=meta_signed(body))

        assert response.json() == {"stored": 1, "duplicates": 0, "rejected": 1}
        (problem,) = recorder.calls[0][1].rejected
        assert problem.reason == f"mention could not be fetched: GET /v23.0/{MENTION_POST} answered 400"
        assert problem.item["post_id"] == MENTION_POST

    def test_an_instagram_delivery_to_the_page_hook_is_400(self, client: httpx.Client) -> None:
        body = json.dumps(load("instagram", "webhook_comments")).encode()
        response = client.post("/hooks/meta/fb-page", content=body, headers=meta_signed(body))
        assert response.status_code == 400 and '"object": "page"' in response.json()["error"]


class TestConfig:
    def test_hooks_are_built_from_webhook_and_instagram_sources(self) -> None:
        from bot.workspace import SourceConfig

        sources = [
            SourceConfig(name="zap", type="webhook", options={"secret": "${ZAP_SECRET}", "network": "forum"}),
            SourceConfig(name="ig", type="instagram", options={
                "ig_user_id": "17841400000000001", "access_token": "${IG_TOKEN}", "app_secret": "${IG_APP_SECRET}",
                "verify_token": "v-token"}),
            SourceConfig(name="off", type="webhook", enabled=False, options={}),
            SourceConfig(name="fb", type="facebook", options={
                "page_id": "1", "access_token": "${IG_TOKEN}", "app_secret": "${IG_APP_SECRET}", "verify_token": "f"}),
            SourceConfig(name="fb-no-hook", type="facebook", options={"page_id": "2", "access_token": "t"}),
        ]
        env = {"ZAP_SECRET": SECRET, "IG_TOKEN": "tok", "IG_APP_SECRET": APP_SECRET}
        generic, meta = hooks_from_config(sources, environ=env, http_factory=lambda connector: None)

        assert list(generic) == ["zap"] and generic["zap"].network == "forum"
        assert generic["zap"].secret.get_secret_value() == SECRET and SECRET not in repr(generic["zap"])
        assert list(meta) == ["ig", "fb"] and meta["ig"].verify_token.get_secret_value() == "v-token"
        assert meta["fb"].app_secret.get_secret_value() == APP_SECRET

    def test_bad_webhook_options_are_config_errors_naming_the_field(self) -> None:
        from bot.errors import ConfigError
        from bot.workspace import SourceConfig

        with pytest.raises(ConfigError) as caught:
            hooks_from_config([SourceConfig(name="zap", type="webhook", options={"secret": "short"}),
                               SourceConfig(name="zap2", type="webhook", options={"secret": "${UNSET_VAR}"})],
                              environ={})
        text = str(caught.value)
        assert "sources.zap.options" in text and "at least 16 characters" in text and "short" not in text
        assert "UNSET_VAR is not set" in text


@pytest.mark.slow
class TestEndToEnd:
    def test_a_pushed_mention_is_stored_once_through_the_real_server(self, engine, workspace, clock) -> None:  # type: ignore[no-untyped-def]
        from bot import models
        from bot.deps import Deps
        from bot.sentiment import SentimentScorer

        deps = Deps(workspace=workspace, engine=engine, clock=clock, scorer=SentimentScorer())
        routes = webhook_routes(generic={"zapier": GenericHook("zapier", SecretStr(SECRET))}, meta={},
                                ingest=make_ingest(deps))
        server = HttpServer(build_asgi(None, engine, extra_routes=routes), port=0)
        server.start()
        try:
            body = json.dumps([ITEM, {**ITEM, "id": "forum-2", "text": "Where is my order? Still not delivered"}]
                              ).encode()
            now = datetime.fromtimestamp(time.time(), UTC)
            first = httpx.post(f"{server.url}/hooks/zapier", content=body, headers=signed(body, at=now), timeout=10)
            again = httpx.post(f"{server.url}/hooks/zapier", content=body, headers=signed(body, at=now), timeout=10)
        finally:
            server.stop()

        assert first.status_code == 202 and first.json()["stored"] == 2
        assert again.json() == {"stored": 0, "duplicates": 2, "rejected": 0, "errors": []}
        with Session(engine) as session:
            rows = session.exec(select(models.Mention).where(models.Mention.source == "zapier")).all()
            assert sorted(r.external_id for r in rows) == ["forum-2", "forum-881"]
            assert {r.network for r in rows} == {"forum"}

    def test_a_page_mention_is_fetched_and_stored_once_through_the_real_server(  # type: ignore[no-untyped-def]
            self, engine, workspace, clock) -> None:
        from bot import models
        from bot.deps import Deps
        from bot.sentiment import SentimentScorer

        GRAPH.routes.clear()
        GRAPH.on("GET", f"/v23.0/{MENTION_COMMENT}", load("facebook", "mention_comment"))
        GRAPH.on("GET", f"/v23.0/{MENTION_POST}", load("facebook", "mention_post"))
        deps = Deps(workspace=workspace, engine=engine, clock=clock, scorer=SentimentScorer())
        server = HttpServer(build_asgi(None, engine, extra_routes=webhook_routes(
            generic={}, meta=facebook_hooks(), ingest=make_ingest(deps))), port=0)
        server.start()
        try:
            body = json.dumps(load("facebook", "webhook_mention")).encode()
            first = httpx.post(f"{server.url}/hooks/meta/fb-page", content=body, headers=meta_signed(body), timeout=10)
            again = httpx.post(f"{server.url}/hooks/meta/fb-page", content=body, headers=meta_signed(body), timeout=10)
        finally:
            server.stop()

        assert first.json() == {"stored": 2, "duplicates": 0, "rejected": 0}
        assert again.json() == {"stored": 0, "duplicates": 2, "rejected": 0}
        with Session(engine) as session:
            rows = session.exec(select(models.Mention).where(models.Mention.source == "fb-page")).all()
            assert sorted((r.network, r.kind, r.external_id) for r in rows) == [
                ("facebook", "mention", MENTION_POST), ("facebook", "mention", MENTION_COMMENT)]
