"""Veille's error taxonomy: what can go wrong, and who gets to hear about it.

    VeilleError
    ├── UserError            -> an ephemeral message telling the user what to fix
    │   ├── CommandUsageError
    │   ├── PermissionDenied
    │   └── NotFound
    ├── ConfigError          -> the bot refuses to start; file, line, field and fix listed
    └── SlackDeliveryError   -> the outbox retries later or parks the message with its reason

Source errors (`PayloadInvalid`, ...) live with the sources in `monitors/sources/base.py`.
"""

from __future__ import annotations

from dataclasses import dataclass


class VeilleError(Exception):
    """Base of every error Veille raises on purpose."""


class UserError(VeilleError):
    """Something the Slack user can fix; its message is shown to them as is."""


class CommandUsageError(UserError):
    """A slash command with arguments we cannot read."""


class PermissionDenied(UserError):
    """The user may not do this."""


class NotFound(UserError):
    """The item the user acted on does not exist (any more)."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem in a config file, located precisely enough to fix it."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}"


class ConfigError(VeilleError):
    """The configuration is invalid; every problem found is listed, not just the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class SlackDeliveryError(VeilleError):
    """Slack refused or could not take a message."""

    def __init__(self, code: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after
