"""bot/config.py: what the settings accept (the rest is read as the sections that use it)."""

from __future__ import annotations

import pytest
from pydantic import AliasChoices, ValidationError
from pydantic_settings import BaseSettings

from bot.config import DAY, Settings


@pytest.mark.parametrize(
    "name",
    ["SEEDBOT_LEASE_TTL", "SEEDBOT_PROVIDER_DEADLINE", "SEEDBOT_SHUTDOWN_GRACE", "SEEDBOT_POLL_INTERVAL"],
)
def test_durations_are_finite_and_at_most_a_day(name: str) -> None:
    """ "inf" parsed as a float; on PostgreSQL a lease of inf or 1e12 s failed every job."""
    for bad in ("inf", "nan", "1e12", str(DAY + 1)):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, **{name: bad})  # type: ignore[arg-type]
    assert (
        Settings(_env_file=None, **{name: "1.5"}).model_dump()[name.removeprefix("SEEDBOT_").lower()] == 1.5
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("./seedbot.db", "./seedbot.db"),
        ("/var/lib/seedbot/seedbot.db", "/var/lib/seedbot/seedbot.db"),
        ("PostgreSQL://u@h/db", "postgresql://u@h/db"),
        ("postgres://u@h/db", "postgres://u@h/db"),
    ],
)
def test_the_database_is_a_path_or_a_postgresql_url(given: str, kept: str) -> None:
    assert Settings(_env_file=None, SEEDBOT_DATABASE=given).database == kept  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "url", ["mysql://u:pw@h/db", "sqlite:///tmp/x.db", "mongodb://h", "postgresql+asyncpg://u:pw@h/db"]
)
def test_another_database_url_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, SEEDBOT_DATABASE=url)  # type: ignore[call-arg]
    message = refused.value.errors()[0]["msg"]
    assert "pw" not in message
    assert any(
        hint in message for hint in ("not a sqlite:// URL", "SQLite or PostgreSQL", "as postgresql://")
    )


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("NOVITA_BASE_URL", "api.novita.ai"),  # no scheme: every job failed as "unavailable"
        ("FAL_BASE_URL", "ftp://queue.fal.run"),
        ("ARK_BASE_URL", "http://[::1"),  # an httpx.InvalidURL traceback
        ("REPLICATE_BASE_URL", "http://h:99999"),
    ],
)
def test_a_provider_base_url_is_an_http_url_with_a_host(name: str, url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, **{name: url})  # type: ignore[arg-type]
    assert url in refused.value.errors()[0]["msg"]
    assert Settings(_env_file=None, **{name: "http://127.0.0.1:8000/v3"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://seedbot:k3Zq/Wp9+vLr8Q==@db/seedbot",
        "postgresql://seedbot:a#b@db/seedbot",
        "postgres://seedbot:a?b@db/seedbot",
        "postgresql://seedbot:a[b@db/seedbot",
        "postgresql://seedbot:pw@[::1/seedbot",
    ],
)
def test_a_postgresql_url_that_cannot_be_read_is_refused_without_its_password(url: str) -> None:
    """Refused when the settings load, in words that quote no part of the URL."""
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, SEEDBOT_DATABASE=url)  # type: ignore[call-arg]
    message = refused.value.errors()[0]["msg"]
    assert "k3Zq" not in message and "a#b" not in message and "seedbot" not in message
    assert "percent-encode" in message or "host can't be read" in message
    assert Settings(_env_file=None, SEEDBOT_DATABASE="postgresql://seedbot:k3Zq%2FWp9@db/seedbot")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://seedbot:s3cret@db.internal:5432/seedbot?application_name=seedbot@prod",
        "postgresql://seedbot:s3cret@db/seedbot?sslrootcert=/etc/ssl/ca@corp.pem",
    ],
)
def test_an_at_sign_after_the_host_is_no_part_of_the_password(url: str) -> None:
    """Read as the password's end, it made a sound URL "a password with a reserved character"."""
    assert Settings(_env_file=None, SEEDBOT_DATABASE=url).database == url  # type: ignore[call-arg]


def _secret_settings() -> list[tuple[type[BaseSettings], str]]:
    """Every secret setting: the core's keys and each platform's tokens."""
    from adapters.discord_adapter.settings import DiscordSettings
    from adapters.slack_adapter.settings import SlackSettings
    from adapters.web_adapter.settings import WebSettings

    out: list[tuple[type[BaseSettings], str]] = []
    for cls in (Settings, DiscordSettings, SlackSettings, WebSettings):
        for field in cls.model_fields.values():
            alias = field.validation_alias
            if "SecretStr" in str(field.annotation) and isinstance(alias, AliasChoices):
                out.append((cls, str(alias.choices[0])))
    return out


def test_every_secret_setting_is_checked() -> None:
    names = {name for _, name in _secret_settings()}
    assert {"NOVITA_API_KEY", "FAL_KEY", "REPLICATE_API_TOKEN", "DISCORD_TOKEN"} <= names
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SEEDBOT_WEB_TOKEN"} <= names


@pytest.mark.parametrize(("cls", "name"), _secret_settings())
def test_a_secret_with_an_invisible_character_is_refused_without_the_secret(
    cls: type[BaseSettings], name: str
) -> None:
    """httpx sends headers as ASCII: a key pasted with a zero-width space failed every request
    (and doctor) with a UnicodeEncodeError traceback."""
    typed = name == "SEEDBOT_WEB_TOKEN"  # a passphrase people type: any letters, none unseen
    for pasted, says in (
        ("sk_0123456789abcdef\u200b", "at position 20 of 20"),
        ("\u00a0sk_0123456789abcdef", "at position 1 of 20"),
        ("sk_0123456789\x7fabcdef", "at position 14 of 20"),
    ):
        with pytest.raises(ValidationError) as refused:
            cls(_env_file=None, **{name: pasted})
        (error,) = refused.value.errors()
        assert error["loc"] == (name,)
        assert says in error["msg"] and ("type it again" if typed else "copy it again") in error["msg"]
        assert "0123456789" not in error["msg"]
    assert cls(_env_file=None, **{name: "sk_0123456789abcdef-_.~+/=ABC"})
    if typed:  # a passphrase's letters are its own (it never goes into a header)
        assert cls(_env_file=None, **{name: "contraseña muy segura 2026"})
