"""A generation the provider made (and charged for) whose images can't be fetched is final:
retrying or failing over would pay again for the same request."""

from __future__ import annotations

import pytest

from bot.errors import ProviderError
from tests.emulators.providers import ProviderEmulator
from tests.providers.conftest import MakeProvider
from tests.providers.helpers import fast_router, route, vreq


@pytest.mark.parametrize("name", ["novita", "apiframe", "modellix"])
async def test_unfetchable_results_are_not_paid_for_twice(
    emu: ProviderEmulator, make: MakeProvider, name: str
) -> None:
    emu.state(name).broken = 1
    backup = make("segmind")
    router = fast_router([make(name), backup], retries=3)
    with pytest.raises(ProviderError) as raised:
        await route(router, vreq())
    assert raised.value.retryable is False and raised.value.failover is False
    assert emu.state(name).submissions == 1
    assert emu.segmind.submissions == 0
