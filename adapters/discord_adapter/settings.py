"""Discord's settings: the DISCORD_* names of `.env.example`, read from the same environment and
`.env` file as the core's settings (bot.config), validated the same way."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode

from bot.config import SETTINGS_CONFIG, Secret, env_alias, secret_values, split_list

__all__ = ["DEFAULT_API_BASE", "DEFAULT_GATEWAY", "DiscordSettings"]

DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY = "wss://gateway.discord.gg/"


class DiscordSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    discord_token: Secret | None = Field(None, validation_alias=env_alias("DISCORD_TOKEN"))
    discord_api_base_url: str = Field(DEFAULT_API_BASE, validation_alias=env_alias("DISCORD_API_BASE_URL"))
    discord_gateway_url: str = Field(DEFAULT_GATEWAY, validation_alias=env_alias("DISCORD_GATEWAY_URL"))
    discord_guild_id: int | None = Field(None, validation_alias=env_alias("DISCORD_GUILD_ID"))
    # Sharding across processes: the total shard count and the shards this process runs
    # ("0,1"); neither set: one process, discord.py's single connection.
    discord_shard_count: int | None = Field(None, ge=1, validation_alias=env_alias("DISCORD_SHARD_COUNT"))
    discord_shard_ids: Annotated[list[int] | None, NoDecode] = Field(
        None, validation_alias=env_alias("DISCORD_SHARD_IDS")
    )

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: Any) -> Any:
        return split_list(value) or None if isinstance(value, str) else value

    @model_validator(mode="after")
    def _shards_fit(self) -> DiscordSettings:
        ids, count = self.discord_shard_ids, self.discord_shard_count
        if ids is not None and count is None:
            raise ValueError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT (the total number of shards)")
        if ids is not None and count is not None and any(not 0 <= i < count for i in ids):
            raise ValueError(f"DISCORD_SHARD_IDS must be between 0 and DISCORD_SHARD_COUNT - 1 ({count - 1})")
        return self

    @property
    def enabled(self) -> bool:
        return self.discord_token is not None and bool(self.discord_token.get_secret_value())

    @property
    def incomplete(self) -> str | None:
        return None  # one setting connects: DISCORD_TOKEN

    @property
    def token(self) -> str:
        return self.discord_token.get_secret_value() if self.discord_token else ""

    def secrets(self) -> list[str]:
        return secret_values(self)

    def check(self) -> None:
        return None  # what could be refused is refused when the settings are read
