"""Upload a chart PNG to a Slack channel with `files_upload_v2` (the external upload flow Slack requires since 2024).

Three calls, all made by slack_sdk: files.getUploadURLExternal, a POST of the bytes to the returned URL, then
files.completeUploadExternal, which shares the file in the channel. Failures come back as `SlackDeliveryError`
with Slack's code (`not_in_channel`, `channel_not_found`, ...), so the caller can tell the user what to do.
"""

from __future__ import annotations

import logging
import re

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import SlackDeliveryError
from bot.slack_client import classify

logger = logging.getLogger(__name__)


def _filename(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "chart"
    return f"veille-{slug}.png"


def upload_chart(client: WebClient, channel: str, png: bytes, title: str) -> None:
    """Share `png` in `channel` under `title` (also its alt text, for screen readers).

    Raises:
        SlackDeliveryError: Slack refused the upload or could not be reached; `.code` says why.
    """
    try:
        client.files_upload_v2(channel=channel, content=png, filename=_filename(title), title=title, alt_txt=title)
    except SlackApiError as exc:
        raise classify(exc) from exc
    except SlackClientError as exc:  # the upload URL refused the bytes (slack_sdk raises SlackRequestError)
        logger.warning("chart upload to %s failed: %s", channel, type(exc).__name__)
        raise SlackDeliveryError("upload_failed", retryable=True) from exc
    except OSError as exc:  # timeouts, refused connections
        raise classify(exc) from exc
