"""Logging for the `veille` process: one JSON object per line (or plain text), never a token.

`configure(level, fmt, secrets)` is called once, by `bot.cli.main`. Every record goes through `redact`: Slack
tokens (xoxb-/xoxp-/xoxa-/xapp-…), `Bearer …` credentials, `access_token=`-style query parameters, passwords in
database URLs and the configured secrets themselves are replaced by `[REDACTED]` — in the message, in the
traceback and in extra fields. Mention texts are never logged at info level or above (ids and counts only).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

REDACTED = "[REDACTED]"
_PATTERNS = [
    (re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+"), REDACTED),  # Slack bot, user, app-level and refresh tokens
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), REDACTED),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)(^|[?&;,\s\"'])((?:access_token|refresh_token|token|client_secret|secret|password|api_key)=)"
                r"[^&\s\"']+"), rf"\1\2{REDACTED}"),
    (re.compile(r"(://[^/@\s:]*:)[^/@\s]+(?=@)"), rf"\1{REDACTED}"),  # user:password in a URL (DATABASE_URL)
]
# The attributes every LogRecord has; anything else was passed with `extra=` and goes into the JSON object.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without tokens, credentials or any of `secrets` (exact values of at least 8 characters)."""
    for secret in secrets:
        if len(secret) >= 8 and secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg, the `extra=` fields, and exc when there is one."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage(), self.secrets),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool) or value is None else \
                    redact(str(value), self.secrets)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info), self.secrets)
        elif record.exc_text:
            entry["exc"] = redact(record.exc_text, self.secrets)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic one-line format, redacted the same way."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record is emitted, not when the handler was made: a thread that
    logs after stderr was swapped (the demo console, a test's capture) never writes to a closed stream."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def make_handler(fmt: str = "json", secrets: Iterable[str] = (), stream: TextIO | None = None) -> logging.Handler:
    """A stream handler (stderr by default) with the JSON or the text formatter."""
    if fmt not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be json or text, not {fmt!r}")
    handler: logging.Handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter(secrets) if fmt == "json" else TextFormatter(secrets))
    return handler


def configure(level: str = "INFO", fmt: str = "json", secrets: Iterable[str] = ()) -> None:
    """Route every logger to one redacting handler on stderr (replacing the one a previous call set)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "veille", False) or type(old) is logging.StreamHandler:  # ours, or basicConfig's
            root.removeHandler(old)
    handler = make_handler(fmt, secrets)
    handler.veille = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # slack_sdk logs request URLs and bodies at DEBUG; keep tokens and message text out of our logs.
    logging.getLogger("slack_sdk").setLevel(max(logging.INFO, root.level))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # httpx logs every request URL at INFO, query string included: keep credentials some APIs take there out.
    logging.getLogger("httpx").setLevel(logging.WARNING)
