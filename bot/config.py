"""Settings, read once from the environment and `.env` (pydantic-settings) and passed down.

Every name here is documented in `.env.example`. Secrets are SecretStr: their repr is masked,
so a settings object can be logged without leaking them; `Secret` (every key and token, here
and in the adapters) also refuses what no HTTP header can carry. A chat platform's own settings
live in its adapter (a settings class built on `SETTINGS_CONFIG`, `Secret`, `env_alias` and
`split_list` from here), read from the same environment and `.env` file through its plug-in
(bot.app.platform).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, AliasChoices, Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.numbers import whole_number

__all__ = [
    "MAX_LIMIT",
    "PROVIDER_ORDER",
    "SETTINGS_CONFIG",
    "Passphrase",
    "Secret",
    "Settings",
    "env_alias",
    "get_settings",
    "postgres_url_problem",
    "secret_values",
    "split_list",
]

# The most images a limit may hold (a user's daily or monthly one, a server's pool), default or
# set by an admin: past it a typo, not a policy, and SQLite's integers overflow long before.
MAX_LIMIT = 1_000_000
DAY = 24 * 3600.0  # seconds: the most any duration setting may be
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")  # a URL's scheme (RFC 3986)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Default routing order when SEEDBOT_PROVIDERS is not set.
PROVIDER_ORDER = ("novita", "segmind", "apiframe", "modellix", "ark", "fal", "replicate")
KNOWN_PROVIDERS = (*PROVIDER_ORDER, "demo")


# Shared by every settings class (this one and each adapter's): the same `.env`, empty values
# ignored, unknown names ignored (each class takes only its own).
SETTINGS_CONFIG = SettingsConfigDict(
    env_file=".env",
    env_file_encoding="utf-8",
    env_ignore_empty=True,
    extra="ignore",
    populate_by_name=True,
)


def env_alias(name: str) -> Any:
    # Accept the env name and the field name, so tests can build Settings(database=...).
    return AliasChoices(name, name.lower())


_env = env_alias


def split_list(value: Any) -> Any:
    """ "a, b;c" -> ["a", "b", "c"]; anything not a string as it is."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


_split = split_list


def postgres_url_problem(url: str) -> str | None:
    """Why a postgresql:// URL can't be read as written, in words that never quote it; else None.

    The host is what follows the last "@". A / ? # [ or ] before it, in the password, ends the
    host early for URL parsers (asyncpg's included), whose errors then quote the password's start
    as a host or port."""
    try:
        read: str | None = urlsplit(url).netloc
    except ValueError:  # "Invalid IPv6 URL": a bracket without its partner
        read = None
    credentials, at, _ = url.partition("://")[2].rpartition("@")
    # When the usual reading finds an "@" in the host part, that one ends the password: one
    # after it (a query's application_name=a@b) is no part of it.
    if at and "@" not in (read or "") and any(ch in credentials for ch in "/?#[]"):
        return (
            "its password has a character URLs reserve: percent-encode it "
            "(/ is %2F, ? is %3F, # is %23, [ is %5B, ] is %5D)"
        )
    if read is None:
        return "its host can't be read: write it as postgresql://USER:PASSWORD@HOST:PORT/DB ([::1] for IPv6)"
    return None


def _printable(secret: SecretStr) -> SecretStr:
    """A key or token as printable ASCII, all an HTTP header carries: one pasted with an invisible
    character (a zero-width space) failed every request with httpx's UnicodeEncodeError."""
    text = secret.get_secret_value()
    for position, char in enumerate(text, start=1):
        if not " " <= char <= "~":  # never the key itself in the message, nor its character
            kind = "a non-ASCII" if ord(char) > 127 else "a control"
            raise ValueError(
                f"it has {kind} character at position {position} of {len(text)} "
                "(pasted with an invisible character?): copy it again"
            )
    return secret


def _visible(secret: SecretStr) -> SecretStr:
    """A passphrase people type (the playground's sign-in form): any letters, none unseen."""
    text = secret.get_secret_value()
    for position, char in enumerate(text, start=1):
        kind = unicodedata.category(char)
        if kind in ("Cc", "Cf", "Zl", "Zp") or (kind == "Zs" and char != " "):
            raise ValueError(
                f"it has an invisible character at position {position} of {len(text)} "
                "(pasted with it?): type it again"
            )
    return secret


# Every secret setting, the core's and each platform's: keys and tokens, sent in HTTP headers.
Secret = Annotated[SecretStr, AfterValidator(_printable)]
# A secret a person types instead (`contraseña-muy-segura` is one).
Passphrase = Annotated[SecretStr, AfterValidator(_visible)]


def secret_values(settings: BaseSettings) -> list[str]:
    """Every non-empty SecretStr value of a settings object, for log redaction."""
    out = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            out.append(value.get_secret_value())
    return out


class Settings(BaseSettings):
    model_config = SETTINGS_CONFIG

    database: str = Field("./seedbot.db", validation_alias=_env("SEEDBOT_DATABASE"))
    providers: Annotated[list[str] | None, NoDecode] = Field(None, validation_alias=_env("SEEDBOT_PROVIDERS"))
    model: str = Field("5.0-lite", validation_alias=_env("SEEDBOT_MODEL"))
    daily_images: int = Field(20, ge=0, le=MAX_LIMIT, validation_alias=_env("SEEDBOT_DAILY_IMAGES"))
    monthly_images: int = Field(300, ge=0, le=MAX_LIMIT, validation_alias=_env("SEEDBOT_MONTHLY_IMAGES"))
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
    # Seconds are bounded (a day; a poll every 10 minutes at most): "inf" parsed as a float, and
    # on PostgreSQL a lease of inf or 1e12 s failed every job ("timestamp out of range").
    provider_deadline: float = Field(300.0, gt=0, le=DAY, validation_alias=_env("SEEDBOT_PROVIDER_DEADLINE"))
    poll_interval: float = Field(2.0, gt=0, le=600, validation_alias=_env("SEEDBOT_POLL_INTERVAL"))
    provider_retries: int = Field(3, ge=0, le=10, validation_alias=_env("SEEDBOT_PROVIDER_RETRIES"))
    # Operating: health/metrics HTTP port (None: no server; 0: any free port), log format, and
    # the seconds running jobs get to finish after SIGTERM/SIGINT.
    http_port: int | None = Field(None, ge=0, le=65535, validation_alias=_env("SEEDBOT_HTTP_PORT"))
    log_format: Literal["text", "json"] = Field("text", validation_alias=_env("SEEDBOT_LOG_FORMAT"))
    shutdown_grace: float = Field(30.0, ge=0, le=DAY, validation_alias=_env("SEEDBOT_SHUTDOWN_GRACE"))
    # Several processes on one PostgreSQL database: seconds a job's lease holds without renewal
    # (renewed every third of it); a dead process's jobs are taken over after about this long.
    lease_ttl: float = Field(30.0, gt=0, le=DAY, validation_alias=_env("SEEDBOT_LEASE_TTL"))
    # Days a job's reference and result images are kept for edits and re-rolls; 0 keeps them.
    # At most a century: further back than year 1 the hourly pass's cut-off date can't be computed.
    image_retention_days: int = Field(
        30, ge=0, le=36_500, validation_alias=_env("SEEDBOT_IMAGE_RETENTION_DAYS")
    )
    # Images one person (or one server's cast) may keep under names for --ref.
    cast_limit: int = Field(30, ge=0, validation_alias=_env("SEEDBOT_CAST_LIMIT"))
    # Seconds the offline demo provider takes per request, reporting progress as it goes. None:
    # 0, except in the playground (`seedbot run` with no chat platform), where it is ~3 s.
    demo_latency: float | None = Field(None, ge=0, le=600, validation_alias=_env("SEEDBOT_DEMO_LATENCY"))

    novita_api_key: Secret | None = Field(None, validation_alias=_env("NOVITA_API_KEY"))
    novita_base_url: str = Field("https://api.novita.ai", validation_alias=_env("NOVITA_BASE_URL"))
    segmind_api_key: Secret | None = Field(None, validation_alias=_env("SEGMIND_API_KEY"))
    segmind_base_url: str = Field("https://api.segmind.com", validation_alias=_env("SEGMIND_BASE_URL"))
    apiframe_api_key: Secret | None = Field(None, validation_alias=_env("APIFRAME_API_KEY"))
    apiframe_base_url: str = Field("https://api.apiframe.ai", validation_alias=_env("APIFRAME_BASE_URL"))
    modellix_api_key: Secret | None = Field(None, validation_alias=_env("MODELLIX_API_KEY"))
    modellix_base_url: str = Field("https://api.modellix.ai", validation_alias=_env("MODELLIX_BASE_URL"))
    # BytePlus ModelArk: keys belong to one region; the model ids (or "ep-..." endpoint ids)
    # can be changed for another region or a newer model version.
    ark_api_key: Secret | None = Field(None, validation_alias=_env("ARK_API_KEY"))
    ark_base_url: str = Field(
        "https://ark.ap-southeast.bytepluses.com", validation_alias=_env("ARK_BASE_URL")
    )
    ark_model_50_lite: str = Field("seedream-5-0-260128", validation_alias=_env("ARK_MODEL_50_LITE"))
    ark_model_45: str = Field("seedream-4-5-251128", validation_alias=_env("ARK_MODEL_45"))
    fal_api_key: Secret | None = Field(None, validation_alias=_env("FAL_KEY"))
    fal_base_url: str = Field("https://queue.fal.run", validation_alias=_env("FAL_BASE_URL"))
    replicate_api_key: Secret | None = Field(None, validation_alias=_env("REPLICATE_API_TOKEN"))
    replicate_base_url: str = Field("https://api.replicate.com", validation_alias=_env("REPLICATE_BASE_URL"))

    @field_validator(*(f"{name}_base_url" for name in PROVIDER_ORDER))
    @classmethod
    def _http_url(cls, value: str) -> str:
        # Else every job failed as "unavailable" after its retries, and "http://[::1" was an
        # httpx.InvalidURL traceback: say it once, at start.
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port that is not one
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"'{value}' is not an http(s) URL with a host, like https://api.example.com")
        return value

    @field_validator("providers", "admins", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return _split(value)

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
            whole = whole_number(weight)
            if not sep or whole is None or whole < 1:
                raise ValueError(f"'{part}' is not TIER=WEIGHT with a whole weight of 1 or more, like 4K=2")
            out[tier.strip().upper()] = whole
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

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        # logging's own names; anything else failed in logging.setLevel, with a traceback
        if isinstance(value, str) and value.strip().upper() in LOG_LEVELS:
            return value.strip().upper()
        raise ValueError(f"use {', '.join(LOG_LEVELS[:-1])} or {LOG_LEVELS[-1]}")

    @field_validator("database")
    @classmethod
    def _database(cls, value: str) -> str:
        # Any other URL was taken for a file path ("there is no directory mysql:/host").
        scheme, sep, rest = value.partition("://")
        if not sep or not _SCHEME.fullmatch(scheme):
            return value
        if scheme.lower() in ("postgresql", "postgres"):
            problem = postgres_url_problem(value)
            if problem is not None:
                raise ValueError(problem)
            return f"{scheme.lower()}://{rest}"  # a scheme's case means nothing
        shapes = "a SQLite file's path (./seedbot.db) or postgresql://USER:PASSWORD@HOST/DB"
        if scheme.lower().startswith("postgres"):  # SQLAlchemy's postgresql+asyncpg://
            raise ValueError(f"write it as postgresql://, not {scheme}://")
        if scheme.lower().startswith("sqlite"):
            raise ValueError(f"give the SQLite file's path itself (./seedbot.db), not a {scheme}:// URL")
        raise ValueError(f"seedbot keeps its data in SQLite or PostgreSQL, not {scheme}: give {shapes}")

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    def provider_key(self, name: str) -> SecretStr | None:
        key = getattr(self, f"{name}_api_key", None)
        return key if isinstance(key, SecretStr) and key.get_secret_value() else None

    @classmethod
    def provider_key_env(cls, name: str) -> str:
        """The environment variable that holds a provider's key (FAL_KEY, not FAL_API_KEY)."""
        alias = cls.model_fields[f"{name}_api_key"].validation_alias
        first = alias.choices[0] if isinstance(alias, AliasChoices) else None
        return first if isinstance(first, str) else f"{name.upper()}_API_KEY"

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

    def secrets(self) -> list[str]:
        """Every configured secret value, for log redaction."""
        return secret_values(self)

    def is_admin(self, user_key: str) -> bool:
        return user_key in self.admins

    # The settings file these were read from: platform plug-ins read their own settings from it.
    _env_file: str | None = PrivateAttr(".env")

    @property
    def env_file(self) -> str | None:
        return self._env_file


def get_settings(env_file: str | None = ".env", **overrides: Any) -> Settings:
    settings = Settings(_env_file=env_file, **overrides)
    settings._env_file = env_file
    return settings
