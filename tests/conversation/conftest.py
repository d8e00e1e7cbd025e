"""The conversation suite: Discord and Slack on one bot (one database), the playground beside."""

from tests.reliability.conftest import stack
from tests.web.conftest import open_playground

__all__ = ["open_playground", "stack"]
