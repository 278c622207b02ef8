"""Property: every payload parser of every registered connector, fed random or mutated input, either returns
well-typed items or raises `PayloadInvalid` — never anything else.

Parsers are discovered, not listed: each `parse_*` function of a module in `REGISTRY` whose first
parameter is `payload` (JSON) or `content` (bytes), so a new connector is covered as soon as it exists.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import import_module
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitors.sources import REGISTRY
from monitors.sources.base import Mention, OwnPost, PayloadInvalid
from tests.source_fakes import FIXTURES
from tests.test_source_parsers import JSON

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
KNOWN_KEYWORDS = {"now": NOW}


def _parsers() -> Iterator[tuple[str, str, Callable[..., Any]]]:
    for network, target in sorted(REGISTRY.items()):
        if network == "replay":
            continue
        try:
            module = import_module(target.partition(":")[0])
        except ImportError:  # a connector not written yet: nothing to test
            continue
        for name, function in sorted(vars(module).items()):
            if not (name.startswith("parse_") and inspect.isfunction(function)
                    and function.__module__ == module.__name__):
                continue
            params = list(inspect.signature(function).parameters.values())
            if not params or params[0].name not in ("payload", "content"):
                continue
            required = [p.name for p in params[1:] if p.default is inspect.Parameter.empty
                        and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
            if all(r in KNOWN_KEYWORDS for r in required):
                yield network, name, function


PARSERS = {f"{network}.{name}": function for network, name, function in _parsers()}
JSON_PARSERS = {k: f for k, f in PARSERS.items() if next(iter(inspect.signature(f).parameters)) == "payload"}
BYTES_PARSERS = {k: f for k, f in PARSERS.items() if k not in JSON_PARSERS}


def call(parse: Callable[..., Any], value: Any) -> Any:
    names = inspect.signature(parse).parameters
    return parse(value, **{k: v for k, v in KNOWN_KEYWORDS.items() if k in names})


def check_typed(result: Any) -> None:
    """Whatever shape a parser returns, every mention in it is well-formed and storable."""
    if isinstance(result, Mention):
        assert result.external_id and result.created_at.tzinfo is not None
        json.dumps(result.raw)  # the raw payload must be storable as JSON
    elif isinstance(result, OwnPost):
        assert result.external_id and result.created_at.tzinfo is not None
    elif isinstance(result, PayloadInvalid):
        assert result.network and result.reason
    elif isinstance(result, list | tuple | set):
        for item in result:
            check_typed(item)
    elif isinstance(result, dict):
        for item in result.values():
            check_typed(item)
    elif dataclasses.is_dataclass(result) and not isinstance(result, type):
        for item in dataclasses.fields(result):
            check_typed(getattr(result, item.name))


def only_payload_invalid(parse: Callable[..., Any], value: Any) -> None:
    try:
        result = call(parse, value)
    except PayloadInvalid as exc:
        assert exc.network and exc.reason
        return
    check_typed(result)


def test_every_connector_of_this_issue_has_its_parsers_discovered() -> None:
    networks = {key.split(".")[0] for key in PARSERS}
    assert {"x", "mastodon", "bluesky", "reddit", "rss"} <= networks
    # The @mention parsers (LinkedIn notifications and the posts they name, Facebook's Page webhook).
    assert {"linkedin.parse_notifications", "linkedin.parse_posts_batch", "linkedin.parse_post_mention",
            "linkedin.parse_comment_mention", "facebook.parse_page_webhook", "facebook.parse_mention_change",
            "facebook.parse_mention_item", "instagram.parse_webhook"} <= set(JSON_PARSERS)


@pytest.mark.parametrize("parser", JSON_PARSERS)
@settings(max_examples=60, database=None, deadline=None)
@given(payload=JSON)
def test_random_json_gives_typed_results_or_payload_invalid(parser: str, payload: Any) -> None:
    only_payload_invalid(JSON_PARSERS[parser], payload)


def _fixtures(network: str) -> list[Any]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted((FIXTURES / network).glob("*.json"))]


FIXTURE_CACHE: dict[str, list[Any]] = {}


@st.composite
def mutated(draw: st.DrawFn, network: str) -> Any:
    """One of the network's recorded payloads with a few values deep inside replaced by random JSON."""
    recorded = FIXTURE_CACHE.setdefault(network, _fixtures(network))
    payload = copy.deepcopy(draw(st.sampled_from(recorded))) if recorded else draw(JSON)
    for _ in range(draw(st.integers(1, 3))):
        node = payload
        while isinstance(node, dict | list) and node:
            key = draw(st.sampled_from(list(node) if isinstance(node, dict) else range(len(node))))
            child = node[key]
            if isinstance(child, dict | list) and child and draw(st.booleans()):
                node = child
                continue
            node[key] = draw(JSON)
            break
    return payload


@pytest.mark.parametrize("parser", JSON_PARSERS)
@settings(max_examples=60, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_recorded_payloads_give_typed_results_or_payload_invalid(parser: str, data: st.DataObject) -> None:
    only_payload_invalid(JSON_PARSERS[parser], data.draw(mutated(parser.split(".")[0])))


@pytest.mark.parametrize("parser", BYTES_PARSERS)
@settings(max_examples=60, database=None, deadline=None)
@given(content=st.one_of(
    st.binary(max_size=2000), JSON.map(lambda v: json.dumps(v).encode()),
    st.text(max_size=500).map(lambda t: f"<rss><channel><item>{t}</item></channel></rss>".encode())))
def test_random_bytes_give_typed_results_or_payload_invalid(parser: str, content: bytes) -> None:
    only_payload_invalid(BYTES_PARSERS[parser], content)
