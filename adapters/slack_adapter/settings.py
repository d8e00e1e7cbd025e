"""Slack's settings: the SLACK_* names of `.env.example`, read from the same environment and
`.env` file as the core's settings (bot.config)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from bot.config import SETTINGS_CONFIG, Secret, env_alias, secret_values

__all__ = ["DEFAULT_API_URL", "SlackSettings"]

DEFAULT_API_URL = "https://slack.com/api/"


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


class SlackSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    slack_bot_token: Secret | None = Field(None, validation_alias=env_alias("SLACK_BOT_TOKEN"))
    slack_signing_secret: Secret | None = Field(None, validation_alias=env_alias("SLACK_SIGNING_SECRET"))
    slack_app_token: Secret | None = Field(None, validation_alias=env_alias("SLACK_APP_TOKEN"))
    slack_api_url: str = Field(DEFAULT_API_URL, validation_alias=env_alias("SLACK_API_URL"))
    slack_port: int = Field(3000, ge=0, le=65535, validation_alias=env_alias("SLACK_PORT"))
    # Slack's Agents & AI Apps side panel (the workspace must have the feature): off by default.
    slack_assistant: bool = Field(False, validation_alias=env_alias("SLACK_ASSISTANT"))

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack-sdk joins method names with urljoin: without the slash "api" is dropped.
        return value if value.endswith("/") else value + "/"

    @property
    def bot_token(self) -> str:
        return _secret(self.slack_bot_token)

    @property
    def app_token(self) -> str:
        return _secret(self.slack_app_token)

    @property
    def signing_secret(self) -> str:
        return _secret(self.slack_signing_secret)

    @property
    def socket_mode(self) -> bool:
        """An app-level token means Socket Mode (no public URL); else the HTTP Events API."""
        return bool(self.app_token)

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token) and bool(self.app_token or self.signing_secret)

    @property
    def incomplete(self) -> str | None:
        if self.bot_token and not (self.app_token or self.signing_secret):
            return (
                "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor "
                "SLACK_SIGNING_SECRET (HTTP events) is: set one of them"
            )
        if not self.bot_token and (self.app_token or self.signing_secret):
            given = "SLACK_APP_TOKEN" if self.app_token else "SLACK_SIGNING_SECRET"
            return f"{given} is set but SLACK_BOT_TOKEN is not: set it (your app's Bot User OAuth Token)"
        return None

    def secrets(self) -> list[str]:
        return secret_values(self)

    def check(self) -> None:
        return None  # what could be refused is refused when the settings are read
