"""Build the slack_sdk WebClient (with its retry handlers) and classify Slack API errors for the outbox."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.errors import SlackDeliveryError

# Errors after which retrying the same call cannot succeed: park the message and tell an admin.
PERMANENT = {
    "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "invalid_blocks_format",
    "msg_too_long", "no_text", "restricted_action", "cant_update_message", "invalid_auth", "not_authed",
    "account_inactive", "token_revoked", "token_expired", "missing_scope", "message_not_found",
    "edit_window_closed", "invalid_arguments", "channel_is_archived",
}


def make_client(token: str, base_url: str, *, timeout: int = 10, retries: int = 2) -> WebClient:
    """A WebClient that retries rate limits (honouring Retry-After), 5xx and connection errors by itself."""
    return WebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=timeout,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=retries),
            ServerErrorRetryHandler(max_retry_count=retries),
            ConnectionErrorRetryHandler(max_retry_count=retries),
        ],
    )


def classify(exc: Exception) -> SlackDeliveryError:
    """Turn whatever slack_sdk raised into a SlackDeliveryError that says whether to retry."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        code = str(response.get("error") or f"http_{response.status_code}")
        if response.status_code == 429 or code == "ratelimited":
            retry_after = float(response.headers.get("Retry-After", 1) or 1)
            return SlackDeliveryError("ratelimited", retryable=True, retry_after=retry_after)
        if response.status_code >= 500:
            return SlackDeliveryError(code, retryable=True)
        return SlackDeliveryError(code, retryable=code not in PERMANENT)
    # Timeouts, refused connections, DNS failures: slack_sdk raises the urllib/socket error itself.
    return SlackDeliveryError(type(exc).__name__, retryable=True)
