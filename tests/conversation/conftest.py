"""The conversation suite: Discord and Slack on one bot (one database), the playground beside;
`h`: a conversation's engine on its own SQLite file, for the tests of one rule."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.engine.helpers import Harness, TestProvider, open_engine, settings
from tests.reliability.conftest import stack
from tests.web.conftest import open_playground

__all__ = ["h", "open_playground", "stack"]


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    config = settings(tmp_path)
    harness = await open_engine(config, TestProvider(config))
    try:
        yield harness
    finally:
        await harness.close()
