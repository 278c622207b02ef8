"""How replies and hides reach the networks: the executor the runtime hands to `bot.network_actions`."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from bot import models
from bot.network_actions import Executor
from monitors.poll import ScheduledSource
from monitors.sources.base import Mention, NotSupported
from monitors.sources.http import SourceHttp


def connector_executor(sources: Sequence[ScheduledSource], client: httpx.Client) -> Executor:
    """Run an action through the connector of the source the mention came from."""
    by_name = {item.name: item.source for item in sources}

    def execute(source: str, mention: Mention, action: models.NetworkAction) -> str | None:
        connector = by_name.get(source)
        if connector is None:
            raise NotSupported(source, f"the source '{source}' is not configured any more")
        # One attempt per run: a reply that timed out may have been published, and the runner's retry
        # goes through the connector's own idempotency check rather than a blind repeat.
        http = SourceHttp(client, source=source, network=connector.network, max_retries=0)
        if action.kind == "reply":
            return connector.reply(mention, action.text or "", http=http, idempotency_key=action.idempotency_key)
        connector.hide(mention, http=http, idempotency_key=action.idempotency_key)
        return None

    return execute
