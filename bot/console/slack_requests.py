"""Build real, signed Slack requests (slash commands and button clicks), as Slack itself would send them.

The demo's prompt and the end-to-end tests share these, so both speak the exact protocol the bot
verifies: form-encoded bodies signed with the app's signing secret (v0 HMAC-SHA256).
See https://api.slack.com/authentication/verifying-requests-from-slack
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier


@dataclass(frozen=True, slots=True)
class SignedRequest:
    body: str
    headers: dict[str, str]


def sign(body: str, secret: str, *, timestamp: int | None = None) -> SignedRequest:
    """Sign a raw body the way Slack does."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return SignedRequest(body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    })


def slash_command(command: str, text: str, *, user_id: str, channel_id: str, response_url: str,
                  team_id: str = "T0VEILLE", user_name: str = "demo") -> str:
    """The form body of a slash command invocation."""
    return urlencode({
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": "veille-demo",
        "channel_id": channel_id,
        "channel_name": "veille-triage",
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": "A0VEILLE",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**12}",
    })


def block_action(*, user_id: str, channel_id: str, message: dict[str, Any], button: dict[str, Any],
                 response_url: str, team_id: str = "T0VEILLE") -> str:
    """The form body of a click on a button of a message (a `block_actions` payload)."""
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": "demo", "name": "demo", "team_id": team_id},
        "api_app_id": "A0VEILLE",
        "token": "deprecated-verification-token",
        "container": {"type": "message", "message_ts": message.get("ts"), "channel_id": channel_id,
                      "is_ephemeral": False},
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**12}",
        "team": {"id": team_id, "domain": "veille-demo"},
        "channel": {"id": channel_id, "name": "veille-triage"},
        "message": message,
        "response_url": response_url,
        "actions": [{
            "type": "button",
            "action_id": button["action_id"],
            "block_id": button.get("block_id", ""),
            "value": button.get("value", ""),
            "text": {"type": "plain_text", "text": button.get("text", ""), "emoji": True},
            "action_ts": f"{time.time():.6f}",
        }],
    }
    return urlencode({"payload": json.dumps(payload)})
