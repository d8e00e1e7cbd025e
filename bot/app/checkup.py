"""The report `seedbot doctor` writes: the core's checks (doctor.py) and each platform plug-in's
(`PlatformPlugin.doctor`) print their findings here, secrets scrubbed, and it counts them.

Its own module so that the plug-in interface (platform.py) and the doctor both use it without
importing each other."""

from __future__ import annotations

from bot.app.plural import counted
from bot.logs import RedactingFilter

__all__ = ["Checkup"]


class Checkup:
    """Prints what the checks find, secrets scrubbed; counts problems (definite failures)
    and checks that could not be made (service unreachable)."""

    def __init__(self, secrets: list[str]) -> None:
        self.problems = 0
        self.unverified = 0
        self._scrub = RedactingFilter(secrets).scrub

    def say(self, line: str) -> None:
        print(self._scrub(line))

    def ok(self, line: str) -> None:
        self.say(f"  ok: {line}")

    def problem(self, line: str) -> None:
        self.problems += 1
        self.say(f"  ! {line}")

    def not_verified(self, line: str) -> None:
        self.unverified += 1
        self.say(f"  ? {line}")

    def unreachable(self, what: str, url: str, exc: Exception) -> None:
        self.not_verified(f"could not reach {url} to check {what} ({type(exc).__name__}); not verified")

    def summary(self) -> str:
        if self.problems:
            return f"{counted(self.problems, 'problem')} found"
        if self.unverified:
            return (
                f"no problem found, but {counted(self.unverified, 'check')} not verified: "
                "their service could not be reached (network?)"
            )
        return "ok"
