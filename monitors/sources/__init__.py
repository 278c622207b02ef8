"""Source connectors: one module per network, and the explicit registry that builds them from the config.

`REGISTRY` names each connector class as "module:Class" and imports it only when a source of that
type is configured, so a network's dependencies (feedparser for RSS, ...) load only when needed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from importlib import import_module
from typing import Any

from pydantic import ValidationError

from bot.errors import ConfigError, ConfigProblem
from bot.workspace import Brand, SourceConfig
from monitors.sources.base import Connector

REGISTRY: dict[str, str] = {
    "x": "monitors.sources.x:XConnector",
    "mastodon": "monitors.sources.mastodon:MastodonConnector",
    "bluesky": "monitors.sources.bluesky:BlueskyConnector",
    "reddit": "monitors.sources.reddit:RedditConnector",
    "rss": "monitors.sources.rss:RssConnector",
    "facebook": "monitors.sources.facebook:FacebookConnector",
    "instagram": "monitors.sources.instagram:InstagramConnector",
    "linkedin": "monitors.sources.linkedin:LinkedInConnector",
    "youtube": "monitors.sources.youtube:YouTubeConnector",
    "replay": "monitors.sources.replay:ReplaySource",
}

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def connector_class(source_type: str) -> type[Connector]:
    """Import and return the connector class registered for `source_type` (KeyError if none)."""
    module_name, _, class_name = REGISTRY[source_type].partition(":")
    cls: type[Connector] = getattr(import_module(module_name), class_name)
    return cls


def resolve_env_refs(value: Any, *, environ: Mapping[str, str], missing: list[str]) -> Any:
    """Replace every `${VAR}` in the strings of `value` (recursively); collect unset names in `missing`."""
    if isinstance(value, str):
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                missing.append(name)
                return ""
            return environ[name]

        return _ENV_REF.sub(substitute, value)
    if isinstance(value, dict):
        return {key: resolve_env_refs(item, environ=environ, missing=missing) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_env_refs(item, environ=environ, missing=missing) for item in value]
    return value


def build_source(cfg: SourceConfig, *, config_file: str = "veille.yaml", brand: Brand | None = None,
                 environ: Mapping[str, str] | None = None) -> Connector:
    """Build the connector a source's config names, its options validated by the connector's own model.

    Raises:
        ConfigError: unknown type, an unset `${VAR}`, or options the connector refuses; every
            problem names the file, the field and the fix (never a secret's value).
    """
    where = f"sources.{cfg.name}"
    if cfg.type not in REGISTRY:
        raise ConfigError([ConfigProblem(config_file, None, f"{where}.type",
                                         f"no polled connector for '{cfg.type}'; supported: "
                                         f"{', '.join(sorted(REGISTRY))}")])
    try:
        cls = connector_class(cfg.type)
    except (ImportError, AttributeError) as exc:
        raise ConfigError([ConfigProblem(config_file, None, f"{where}.type",
                                         f"the {cfg.type} connector is not available in this installation "
                                         f"({type(exc).__name__}: {exc})")]) from None
    missing: list[str] = []
    options = resolve_env_refs(cfg.options, environ=os.environ if environ is None else environ, missing=missing)
    problems = [ConfigProblem(config_file, None, f"{where}.options",
                              f"environment variable {name} is not set; export it (its value is a secret: "
                              "keep it out of the file)") for name in dict.fromkeys(missing)]
    if problems:
        raise ConfigError(problems)
    try:
        validated = cls.Options.model_validate(options)
    except ValidationError as exc:
        raise ConfigError([_problem(config_file, where, error) for error in exc.errors()]) from None
    return cls.from_config(
        cfg.name, validated, base_url=cfg.base_url,
        brand_handles=dict(brand.handles) if brand else {}, keywords=list(brand.keywords) if brand else [],
        backfill=timedelta(days=cfg.backfill_days), engagement_days=cfg.engagement_days,
    )


def _problem(config_file: str, where: str, error: Any) -> ConfigProblem:
    field = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        fix = "unknown option; remove it or check its spelling"
    elif kind == "missing":
        fix = "required option is missing; add it"
    else:
        # pydantic's message, never its `input`: the input may be a resolved secret.
        fix = str(error["msg"]).removeprefix("Value error, ")
    return ConfigProblem(config_file, None, f"{where}.options.{field}" if field else f"{where}.options", fix)
