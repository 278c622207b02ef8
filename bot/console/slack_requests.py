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


def sign(body: str, secret: str, *, timestamp: int | None = None,
         content_type: str = "application/x-www-form-urlencoded") -> SignedRequest:
    """Sign a raw body the way Slack does."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return SignedRequest(body, {
        "Content-Type": content_type,
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
    """The form body of a click on a button (or a choice in a select or overflow) of a message.

    `button` is the element as found in the message's blocks; for a select or an overflow menu, add
    what the user picked: `selected_user` or `selected_option` (https://api.slack.com/reference/interaction-payloads/block-actions).
    """
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
        "actions": [_action(button)],
    }
    return urlencode({"payload": json.dumps(payload)})


def _action(element: dict[str, Any]) -> dict[str, Any]:
    kind = element.get("type", "button")
    action: dict[str, Any] = {"type": kind, "action_id": element["action_id"], "block_id": element.get("block_id", ""),
                              "action_ts": f"{time.time():.6f}"}
    if kind == "button":
        text = element.get("text", "")
        action["value"] = element.get("value", "")
        action["text"] = {"type": "plain_text", "text": text if isinstance(text, str) else text.get("text", ""),
                          "emoji": True}
    for field in ("selected_user", "selected_option", "selected_date"):
        if field in element:
            action[field] = element[field]
    return action


def event_callback(event: dict[str, Any], *, event_id: str, team_id: str = "T0VEILLE") -> str:
    """The JSON body of an Events API delivery (https://api.slack.com/apis/events-api#callback-field)."""
    return json.dumps({
        "token": "deprecated-verification-token", "team_id": team_id, "api_app_id": "A0VEILLE", "event": event,
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"team_id": team_id, "user_id": "U0VEILLEBOT", "is_bot": True}],
    })
