"""The conversation suite runs against both platforms at once (one bot, one database)."""

from tests.reliability.conftest import stack

__all__ = ["stack"]
