"""The composition root of the Slack side: build the Bolt app from injected dependencies (nothing at import)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.deps import Deps
from bot.errors import UserError
from bot.messages import t
from handlers import register_all
from handlers.middleware import dedupe_events, ignore_bots

logger = logging.getLogger(__name__)


def build_app(deps: Deps, *, client: WebClient, signing_secret: str) -> App:
    """A Bolt app whose every request is signature-checked (bolt refuses bad and stale signatures)."""
    app = App(client=client, signing_secret=signing_secret, request_verification_enabled=True,
              token_verification_enabled=True, raise_error_for_unhandled_request=False)
    app.middleware(ignore_bots)
    app.middleware(dedupe_events(deps))
    register_all(app, deps)

    @app.error
    def on_error(error: Exception, body: dict[str, Any], respond: Any) -> BoltResponse | None:
        if isinstance(error, UserError):
            text = str(error)
        else:
            # Never show exception text to users; log it with an id they can quote to an admin.
            correlation_id = uuid.uuid4().hex[:12]
            logger.error("unhandled error in a Slack listener", exc_info=error,
                         extra={"correlation_id": correlation_id})
            text = t("unexpected_error", deps.lang, cid=correlation_id)
        if body.get("response_url"):
            try:
                respond(text=text, response_type="ephemeral", replace_original=False)
            except Exception:
                logger.exception("could not tell the user about an error")
        return None

    return app
