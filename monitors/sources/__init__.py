"""Source connectors: one module per network, and the explicit registry that builds them from the config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.errors import ConfigError, ConfigProblem
from bot.workspace import SourceConfig


def build_source(cfg: SourceConfig, *, config_file: str = "veille.yaml") -> Any:
    """Build the connector a source's config names; a type without a connector here is a config error."""
    if cfg.type == "replay":
        from monitors.sources.replay import ReplaySource

        path = cfg.options.get("path")
        return ReplaySource(Path(path) if path else None)
    raise ConfigError([ConfigProblem(config_file, None, f"sources.{cfg.name}.type",
                                     f"no connector for '{cfg.type}' in this version of Veille; "
                                     "supported: replay (polled connectors for each network are being built)")])
