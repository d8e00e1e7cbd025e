"""Provider names -> classes (providers/registry.py), the providers built from Settings in
routing order, and what the router is told about the ones left out."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot.config import KNOWN_PROVIDERS, PROVIDER_ORDER, Settings
from bot.providers.demo import DemoProvider
from bot.providers.fal import FalProvider
from bot.providers.novita import NovitaProvider
from bot.providers.registry import PROVIDER_CLASSES, absent_providers, build_providers, keyed_providers
from tests.providers.helpers import PROVIDERS


def configured(**env: Any) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


# -- names -> classes --------------------------------------------------------------------------


def test_every_name_settings_accepts_has_a_class_of_that_name() -> None:
    """build_providers indexes PROVIDER_CLASSES unchecked: a name Settings lets through without
    a class would crash the bot at start, and a class's own name is what routing reports."""
    assert set(PROVIDER_CLASSES) == set(KNOWN_PROVIDERS)
    assert {name: cls.name for name, cls in PROVIDER_CLASSES.items()} == {n: n for n in PROVIDER_CLASSES}


def test_an_unknown_provider_name_is_refused_before_anything_is_built() -> None:
    with pytest.raises(ValidationError, match="midjourney"):
        configured(NOVITA_API_KEY="k", SEEDBOT_PROVIDERS="novita,midjourney")


# -- build_providers ---------------------------------------------------------------------------


def test_registry_builds_the_keyed_providers_in_order(settings, client, fetcher) -> None:
    assert [p.name for p in build_providers(settings, client, fetcher)] == list(PROVIDER_ORDER)
    assert set(PROVIDER_CLASSES) >= {*PROVIDERS, "demo"}


def test_build_follows_the_seedbot_providers_order(client, fetcher) -> None:
    settings = configured(
        NOVITA_API_KEY="k", SEGMIND_API_KEY="k", FAL_KEY="k", SEEDBOT_PROVIDERS="fal, demo, novita"
    )
    built = build_providers(settings, client, fetcher)
    assert [type(p) for p in built] == [FalProvider, DemoProvider, NovitaProvider]
    assert all(p.settings is settings for p in built)


def test_build_leaves_out_listed_providers_without_a_key(client, fetcher) -> None:
    settings = configured(NOVITA_API_KEY="k", SEEDBOT_PROVIDERS="segmind,novita,ark")
    assert [p.name for p in build_providers(settings, client, fetcher)] == ["novita"]


def test_build_defaults_to_the_keyed_providers_in_default_order(client, fetcher) -> None:
    settings = configured(REPLICATE_API_TOKEN="k", ARK_API_KEY="k", MODELLIX_API_KEY="k", NOVITA_API_KEY="")
    assert [p.name for p in build_providers(settings, client, fetcher)] == ["modellix", "ark", "replicate"]


def test_build_falls_back_to_demo_without_any_key(client, fetcher) -> None:
    built = build_providers(configured(), client, fetcher)
    assert [type(p) for p in built] == [DemoProvider]


# -- keyed_providers ---------------------------------------------------------------------------


def test_keyed_providers_are_the_paid_ones_with_a_key_whether_routed_or_not() -> None:
    settings = configured(FAL_KEY="k", NOVITA_API_KEY="k", SEGMIND_API_KEY="", SEEDBOT_PROVIDERS="demo")
    assert keyed_providers(settings) == ["novita", "fal"]
    assert keyed_providers(configured()) == []


# -- absent_providers --------------------------------------------------------------------------


def test_absent_providers_reasons(settings) -> None:
    only_novita = settings.model_copy(update={"segmind_api_key": None, "providers": ["novita"]})
    assert absent_providers(only_novita) == {
        "segmind": "set SEGMIND_API_KEY",
        "apiframe": "add it to SEEDBOT_PROVIDERS",
        "modellix": "add it to SEEDBOT_PROVIDERS",
        "ark": "add it to SEEDBOT_PROVIDERS",
        "fal": "add it to SEEDBOT_PROVIDERS",
        "replicate": "add it to SEEDBOT_PROVIDERS",
        "demo": "add it to SEEDBOT_PROVIDERS",
    }


def test_on_demo_every_paid_provider_is_absent_for_want_of_its_own_key_variable() -> None:
    assert absent_providers(configured()) == {
        "novita": "set NOVITA_API_KEY",
        "segmind": "set SEGMIND_API_KEY",
        "apiframe": "set APIFRAME_API_KEY",
        "modellix": "set MODELLIX_API_KEY",
        "ark": "set ARK_API_KEY",
        "fal": "set FAL_KEY",
        "replicate": "set REPLICATE_API_TOKEN",
    }


def test_with_keys_and_no_list_only_demo_and_the_keyless_are_absent() -> None:
    absent = absent_providers(configured(NOVITA_API_KEY="k", FAL_KEY="k"))
    assert absent["demo"] == "add it to SEEDBOT_PROVIDERS"
    assert absent["segmind"] == "set SEGMIND_API_KEY"
    assert "novita" not in absent and "fal" not in absent
    assert set(absent) == set(KNOWN_PROVIDERS) - {"novita", "fal"}
