"""Process settings from the environment (tokens, URLs, paths); the workspace config is `bot/workspace.py`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Environment settings. Tokens are `SecretStr`, so their repr and logs are masked."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    # Passed to slack_sdk as base_url, so a local fake Slack Web API can stand in.
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    database_url: str = Field(default="sqlite:///veille.db", alias="DATABASE_URL")
    veille_config: str = Field(default="veille.yaml", alias="VEILLE_CONFIG")
    log_level: str = Field(default="INFO", alias="VEILLE_LOG_LEVEL")
    # json: one object per line (default of `veille run`); text: human-readable (default elsewhere).
    log_format: Literal["json", "text"] | None = Field(default=None, alias="LOG_FORMAT")

    def require_slack(self) -> tuple[str, str]:
        """Return (bot token, signing secret) or raise naming what is missing."""
        from bot.errors import ConfigError, ConfigProblem

        problems = []
        token = self.slack_bot_token.get_secret_value() if self.slack_bot_token else ""
        secret = self.slack_signing_secret.get_secret_value() if self.slack_signing_secret else ""
        if not token.startswith("xoxb-"):
            problems.append(
                ConfigProblem("environment", None, "SLACK_BOT_TOKEN",
                              "set it to the app's Bot User OAuth Token (xoxb-…)")
            )
        if not secret:
            problems.append(
                ConfigProblem("environment", None, "SLACK_SIGNING_SECRET", "set it to the app's Signing Secret")
            )
        if problems:
            raise ConfigError(problems)
        return token, secret
