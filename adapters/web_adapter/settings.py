"""The playground's own settings, read from the environment and the same `.env` as the core's.

SEEDBOT_WEB_HOST   address to bind (default 127.0.0.1: this machine only)
SEEDBOT_WEB_PORT   port; unset: the playground runs only when no chat platform is configured
                   (then on 8080); 0: any free port (tests)
SEEDBOT_WEB_TOKEN  a secret: when set, every page and API call needs a session signed in
                   with it. Required to bind anything but a loopback address.
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings

from bot import messages
from bot.config import SETTINGS_CONFIG, Passphrase, env_alias
from bot.errors import SeedbotError, SettingsRefused

__all__ = ["MIN_TOKEN_CHARS", "PLAYGROUND_PORT", "WebSettings", "load_settings"]

PLAYGROUND_PORT = 8080  # when `seedbot run` serves the playground and SEEDBOT_WEB_PORT is unset
MIN_TOKEN_CHARS = 16
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


class WebSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    host: str = Field("127.0.0.1", min_length=1, validation_alias=env_alias("SEEDBOT_WEB_HOST"))
    port: int | None = Field(None, ge=0, le=65535, validation_alias=env_alias("SEEDBOT_WEB_PORT"))
    token: Passphrase | None = Field(None, validation_alias=env_alias("SEEDBOT_WEB_TOKEN"))

    @property
    def loopback(self) -> bool:
        """The bound address is reachable from this machine only."""
        host = self.host.strip().strip("[]").lower()
        if host in _LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False  # a name that may resolve anywhere

    @property
    def token_value(self) -> str | None:
        return self.token.get_secret_value() if self.token and self.token.get_secret_value() else None

    @property
    def enabled(self) -> bool:
        """Beside the chat platforms only when its port is set (alone it is the playground)."""
        return self.port is not None

    @property
    def incomplete(self) -> str | None:
        return None  # with nothing set it is the playground

    def secrets(self) -> list[str]:
        """Secret values to keep out of logs."""
        return [self.token_value] if self.token_value else []

    def check(self) -> None:
        """Refuse, in one line, to serve where anyone could spend the quota."""
        token = self.token_value
        if token is not None and len(token) < MIN_TOKEN_CHARS:
            raise SettingsRefused(messages.web_token_too_short(MIN_TOKEN_CHARS))
        if token is None and not self.loopback:
            raise SettingsRefused(messages.web_needs_token(self.host))


def load_settings(env_file: str | None) -> WebSettings:
    """From the environment and `env_file` (None: the environment only); a bad value is one line."""
    try:
        return WebSettings(_env_file=env_file)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        raise SeedbotError(f"The playground's settings are not valid: {problems}") from exc
