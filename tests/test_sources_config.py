"""Building sources from veille.yaml: the registry, options validated per connector, ${VAR} secrets never shown."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.errors import ConfigError
from bot.workspace import parse_workspace
from monitors.sources import REGISTRY, build_source, connector_class
from monitors.sources.base import Connector, ConnectorOptions
from monitors.sources.replay import ReplaySource
from monitors.sources.x import XConnector

SECRET = "xoxo-very-secret-bearer-4242"
CONFIG = """
brand: {{name: Maison Lumen, handles: {{x: maisonlumen}}, keywords: [Aurore]}}
admins: [U0ADMIN]
channels: {{triage: C0TRIAGE}}
sources:
  - name: x-brand
    type: x
    backfill_days: 3
    engagement_days: 30
    base_url: https://x-proxy.example/
    options: {options}
"""


def source(options: str) -> tuple[object, object]:
    workspace = parse_workspace(CONFIG.format(options=options), "veille.yaml")
    return workspace.sources[0], workspace.brand


def test_every_network_and_replay_is_registered() -> None:
    assert set(REGISTRY) == {"x", "facebook", "instagram", "linkedin", "youtube", "mastodon", "bluesky", "reddit",
                             "rss", "replay"}


@pytest.mark.parametrize("source_type", sorted(REGISTRY))
def test_each_registered_connector_declares_its_network_and_strict_options(source_type: str) -> None:
    try:
        cls = connector_class(source_type)
    except ImportError:
        pytest.skip(f"the {source_type} connector is not written yet")
    assert issubclass(cls, Connector) and cls.network == source_type
    assert issubclass(cls.Options, ConnectorOptions) and cls.Options.model_config.get("extra") == "forbid"


def test_env_references_are_resolved_and_workspace_settings_passed_on() -> None:
    cfg, brand = source('{bearer_token: "${X_TOKEN}", user_id: "42"}')
    connector = build_source(cfg, brand=brand, environ={"X_TOKEN": SECRET})
    assert isinstance(connector, XConnector)
    assert connector.options.bearer_token.get_secret_value() == SECRET
    assert (connector.base_url, connector.backfill, connector.engagement_days) == (
        "https://x-proxy.example", timedelta(days=3), 30)
    assert connector.handle == "maisonlumen" and connector.keywords == ["Aurore"]
    assert SECRET not in repr(connector) and SECRET not in repr(connector.options)


def test_a_missing_variable_names_the_source_and_the_variable_only() -> None:
    cfg, brand = source('{bearer_token: "${X_TOKEN}", user_id: "42"}')
    with pytest.raises(ConfigError) as caught:
        build_source(cfg, brand=brand, environ={})
    [problem] = caught.value.problems
    assert (problem.file, problem.field) == ("veille.yaml", "sources.x-brand.options")
    assert "X_TOKEN is not set" in problem.message


def test_bad_options_are_listed_with_the_field_and_the_fix_and_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cfg, brand = source('{bearer_token: "${X_TOKEN}", user_id: "not-a-number", bearer_tokn: "${X_TOKEN}"}')
    with pytest.raises(ConfigError) as caught:
        build_source(cfg, brand=brand, environ={"X_TOKEN": SECRET})
    fields = {p.field: p.message for p in caught.value.problems}
    assert fields["sources.x-brand.options.bearer_tokn"] == "unknown option; remove it or check its spelling"
    assert "sources.x-brand.options.user_id" in fields
    assert SECRET not in str(caught.value) and SECRET not in caplog.text


def test_a_missing_required_option_says_to_add_it() -> None:
    cfg, brand = source('{user_id: "42"}')
    with pytest.raises(ConfigError) as caught:
        build_source(cfg, brand=brand, environ={})
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("sources.x-brand.options.bearer_token", "required option is missing; add it")]


def test_replay_is_built_like_any_other_source(tmp_path) -> None:  # type: ignore[no-untyped-def]
    workspace = parse_workspace("brand: {name: B}\nadmins: [U0A1]\nchannels: {triage: C0T1}\nsources:\n"
                                "  - {name: demo, type: replay, options: {networks: [x]}}\n", "veille.yaml")
    replay = build_source(workspace.sources[0], brand=workspace.brand)
    assert isinstance(replay, ReplaySource) and replay.name == "demo"


def test_the_config_fingerprint_changes_with_the_secret_but_never_shows_it() -> None:
    cfg, brand = source('{bearer_token: "${X_TOKEN}", user_id: "42"}')
    first = build_source(cfg, brand=brand, environ={"X_TOKEN": SECRET}).config_fingerprint()
    again = build_source(cfg, brand=brand, environ={"X_TOKEN": SECRET}).config_fingerprint()
    rotated = build_source(cfg, brand=brand, environ={"X_TOKEN": SECRET + "-new"}).config_fingerprint()
    assert first == again != rotated and len(first) == 16 and SECRET not in first
