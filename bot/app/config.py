"""Settings, read once from the environment and `.env` (pydantic-settings) and passed down.

Every name here is documented in `.env.example`. Secrets are SecretStr: their repr is masked,
so a settings object can be logged without leaking them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["PROVIDER_ORDER", "Settings", "get_settings"]

# Default routing order when SEEDBOT_PROVIDERS is not set.
PROVIDER_ORDER = ("novita", "segmind", "apiframe", "modellix")
KNOWN_PROVIDERS = (*PROVIDER_ORDER, "demo")


def _env(name: str) -> Any:
    # Accept the env name and the field name, so tests can build Settings(database=...).
    return AliasChoices(name, name.lower())


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        populate_by_name=True,
    )

    database: str = Field("./seedbot.db", validation_alias=_env("SEEDBOT_DATABASE"))
    providers: Annotated[list[str] | None, NoDecode] = Field(None, validation_alias=_env("SEEDBOT_PROVIDERS"))
    model: str = Field("5.0-lite", validation_alias=_env("SEEDBOT_MODEL"))
    daily_images: int = Field(20, ge=0, validation_alias=_env("SEEDBOT_DAILY_IMAGES"))
    monthly_images: int = Field(300, ge=0, validation_alias=_env("SEEDBOT_MONTHLY_IMAGES"))
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("SEEDBOT_ADMINS")
    )
    # Quota units per image of a resolution tier ("2K=1,3K=1,4K=2"); tiers not named count 1.
    resolution_weights: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict, validation_alias=_env("SEEDBOT_RESOLUTION_WEIGHTS")
    )
    max_concurrency: int = Field(8, ge=1, validation_alias=_env("SEEDBOT_MAX_CONCURRENCY"))
    user_concurrency: int = Field(2, ge=1, validation_alias=_env("SEEDBOT_USER_CONCURRENCY"))
    log_level: str = Field("INFO", validation_alias=_env("SEEDBOT_LOG_LEVEL"))
    allow_private_network: bool = Field(False, validation_alias=_env("SEEDBOT_ALLOW_PRIVATE_NETWORK"))
    # Seconds a polling provider may take: this plus 40 s per extra image.
    provider_deadline: float = Field(300.0, gt=0, validation_alias=_env("SEEDBOT_PROVIDER_DEADLINE"))
    poll_interval: float = Field(2.0, gt=0, validation_alias=_env("SEEDBOT_POLL_INTERVAL"))
    provider_retries: int = Field(3, ge=0, le=10, validation_alias=_env("SEEDBOT_PROVIDER_RETRIES"))
    # Operating: health/metrics HTTP port (None: no server; 0: any free port), log format, and
    # the seconds running jobs get to finish after SIGTERM/SIGINT.
    http_port: int | None = Field(None, ge=0, le=65535, validation_alias=_env("SEEDBOT_HTTP_PORT"))
    log_format: Literal["text", "json"] = Field("text", validation_alias=_env("SEEDBOT_LOG_FORMAT"))
    shutdown_grace: float = Field(30.0, ge=0, validation_alias=_env("SEEDBOT_SHUTDOWN_GRACE"))
    # Several processes on one PostgreSQL database: seconds a job's lease holds without renewal
    # (renewed every third of it); a dead process's jobs are taken over after about this long.
    lease_ttl: float = Field(30.0, gt=0, validation_alias=_env("SEEDBOT_LEASE_TTL"))
    # Days a job's reference and result images are kept for edits and re-rolls; 0 keeps them.
    image_retention_days: int = Field(30, ge=0, validation_alias=_env("SEEDBOT_IMAGE_RETENTION_DAYS"))

    novita_api_key: SecretStr | None = Field(None, validation_alias=_env("NOVITA_API_KEY"))
    novita_base_url: str = Field("https://api.novita.ai", validation_alias=_env("NOVITA_BASE_URL"))
    segmind_api_key: SecretStr | None = Field(None, validation_alias=_env("SEGMIND_API_KEY"))
    segmind_base_url: str = Field("https://api.segmind.com", validation_alias=_env("SEGMIND_BASE_URL"))
    apiframe_api_key: SecretStr | None = Field(None, validation_alias=_env("APIFRAME_API_KEY"))
    apiframe_base_url: str = Field("https://api.apiframe.ai", validation_alias=_env("APIFRAME_BASE_URL"))
    modellix_api_key: SecretStr | None = Field(None, validation_alias=_env("MODELLIX_API_KEY"))
    modellix_base_url: str = Field("https://api.modellix.ai", validation_alias=_env("MODELLIX_BASE_URL"))

    discord_token: SecretStr | None = Field(None, validation_alias=_env("DISCORD_TOKEN"))
    discord_api_base_url: str = Field(
        "https://discord.com/api/v10", validation_alias=_env("DISCORD_API_BASE_URL")
    )
    discord_gateway_url: str = Field(
        "wss://gateway.discord.gg/", validation_alias=_env("DISCORD_GATEWAY_URL")
    )
    discord_guild_id: int | None = Field(None, validation_alias=_env("DISCORD_GUILD_ID"))
    # Sharding across processes: the total shard count and the shards this process runs
    # ("0,1"); neither set: one process, discord.py's single connection.
    discord_shard_count: int | None = Field(None, ge=1, validation_alias=_env("DISCORD_SHARD_COUNT"))
    discord_shard_ids: Annotated[list[int] | None, NoDecode] = Field(
        None, validation_alias=_env("DISCORD_SHARD_IDS")
    )

    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(None, validation_alias=_env("SLACK_SIGNING_SECRET"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=_env("SLACK_API_URL"))
    slack_port: int = Field(3000, ge=0, le=65535, validation_alias=_env("SLACK_PORT"))
    # Slack's Agents & AI Apps side panel (the workspace must have the feature): off by default.
    slack_assistant: bool = Field(False, validation_alias=_env("SLACK_ASSISTANT"))

    @field_validator("providers", "admins", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: Any) -> Any:
        return _split(value) or None if isinstance(value, str) else value

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        ids, count = self.discord_shard_ids, self.discord_shard_count
        if ids is not None and count is None:
            raise ValueError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT (the total number of shards)")
        if ids is not None and count is not None and any(not 0 <= i < count for i in ids):
            raise ValueError(f"DISCORD_SHARD_IDS must be between 0 and DISCORD_SHARD_COUNT - 1 ({count - 1})")
        return self

    @field_validator("providers")
    @classmethod
    def _known_providers(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        names = [v.lower() for v in value]
        unknown = [n for n in names if n not in KNOWN_PROVIDERS]
        if unknown:
            raise ValueError(f"unknown provider(s) {unknown}; known: {', '.join(KNOWN_PROVIDERS)}")
        return names or None

    @field_validator("resolution_weights", mode="before")
    @classmethod
    def _weights(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        out: dict[str, int] = {}
        for part in _split(value):
            tier, sep, weight = part.partition("=")
            if not sep or not weight.strip().isdigit() or int(weight) < 1:
                raise ValueError(f"'{part}' is not TIER=WEIGHT with a whole weight of 1 or more, like 4K=2")
            out[tier.strip().upper()] = int(weight)
        return out

    @field_validator("resolution_weights")
    @classmethod
    def _known_tiers(cls, value: dict[str, int]) -> dict[str, int]:
        value = {k.upper(): v for k, v in value.items()}
        unknown = [t for t in value if t not in ("2K", "3K", "4K")]
        if unknown:
            raise ValueError(f"unknown resolution tier(s) {unknown}; known: 2K, 3K, 4K")
        if any(v < 1 for v in value.values()):
            raise ValueError("weights must be 1 or more")
        return value

    def weight(self, tier: str) -> int:
        return self.resolution_weights.get(tier.upper(), 1)

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack-sdk joins method names with urljoin: without the slash "api" is dropped.
        return value if value.endswith("/") else value + "/"

    def provider_key(self, name: str) -> SecretStr | None:
        key = getattr(self, f"{name}_api_key", None)
        return key if isinstance(key, SecretStr) and key.get_secret_value() else None

    def provider_base_url(self, name: str) -> str:
        return str(getattr(self, f"{name}_base_url")).rstrip("/")

    @property
    def provider_names(self) -> list[str]:
        """Providers to route to, in order: the configured list, else each one with a key."""
        if self.providers:
            return [p for p in self.providers if p == "demo" or self.provider_key(p)]
        keyed = [p for p in PROVIDER_ORDER if self.provider_key(p)]
        return keyed or ["demo"]

    @property
    def demo_only(self) -> bool:
        return self.provider_names == ["demo"]

    @property
    def discord_enabled(self) -> bool:
        return self.discord_token is not None and bool(self.discord_token.get_secret_value())

    @property
    def slack_enabled(self) -> bool:
        token = self.slack_bot_token.get_secret_value() if self.slack_bot_token else ""
        has_transport = bool(self.slack_app_token or self.slack_signing_secret)
        return bool(token) and has_transport

    def secrets(self) -> list[str]:
        """Every configured secret value, for log redaction."""
        out = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                out.append(value.get_secret_value())
        return out

    def is_admin(self, user_key: str) -> bool:
        return user_key in self.admins


def get_settings(env_file: str | None = ".env", **overrides: Any) -> Settings:
    return Settings(_env_file=env_file, **overrides)
