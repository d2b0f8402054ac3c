"""The ``cache`` section: times resolve entity -> source -> default, names are checked against
the sources, their entities and the roles, unknown keys are refused, the Redis URL comes from
the config or ECEHUB_CACHE_URL and is never echoed, ``backend: none`` builds no cache."""

from __future__ import annotations

from typing import Any

import pytest

from ecehub.config import Config, parse_config
from ecehub.errors import ConfigError
from ecehub.sources.cache import CACHE_URL_ENV, SourceCache

SOURCES: dict[str, Any] = {
    "qris": {
        "kind": "rest",
        "base_url": "https://qris.example",
        "entities": {
            "program": {"path": "/p", "key": "id", "fields": {"name": "name"}},
            "staff": {"path": "/s", "key": "id", "parent": {"program": "pid"}},
        },
    }
}
ACCESS = {"roles": {"state_admin": {"programs": "all"}, "provider": {"programs": "claim"}}}


def _config(cache: dict[str, Any], **more: Any) -> Config:
    return parse_config({"sources": SOURCES, "cache": cache, **more}, file="state.yaml")


def test_times_resolve_from_the_entity_up() -> None:
    config = _config(
        {
            "ttl_s": 20,
            "stale_max_age_s": 100,
            "sources": {"qris": {"ttl_s": 60, "entities": {"staff": {"stale_max_age_s": 0}}}},
        }
    )
    assert config.cache.timing("qris", "program") == (60, 100)
    assert config.cache.timing("qris", "staff") == (60, 0)
    assert config.cache.timing("other", "program") == (20, 100)
    assert Config().cache.backend == "memory"


@pytest.mark.parametrize(
    ("cache", "more", "says"),
    [
        ({"sources": {"qirs": {}}}, {}, "unknown source 'qirs'"),
        ({"sources": {"qris": {"entities": {"site": {}}}}}, {}, "does not map; it maps"),
        ({"bypass_roles": ["admin"]}, {"access": ACCESS}, "unknown role(s) admin"),
        ({"ttl": 5}, {}, "cache.ttl"),
        ({"sources": {"qris": {"ttl_s": -1}}}, {}, "cache.sources.qris.ttl_s"),
        ({"backend": "memcached"}, {}, "cache.backend"),
        ({"key_prefix": "a b"}, {}, "cache.key_prefix"),
    ],
)
def test_mistakes_name_the_path(cache: dict[str, Any], more: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _config(cache, **more)
    assert says in str(raised.value)


def test_the_redis_url_comes_from_the_config_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(CACHE_URL_ENV, raising=False)
    with pytest.raises(ConfigError) as raised:
        SourceCache.from_config(_config({"backend": "redis"}))
    assert CACHE_URL_ENV in str(raised.value) and "cache.url" in str(raised.value)
    monkeypatch.setenv(CACHE_URL_ENV, "redis://:pw-from-env@127.0.0.1:6379/0")
    assert SourceCache.from_config(_config({"backend": "redis"})) is not None
    with pytest.raises(ConfigError) as raised:
        _config({"backend": "redis", "url": "redis://:sekret-pw@h:6379/0", "ttl_s": "x"})
    assert "sekret-pw" not in str(raised.value)
    assert SourceCache.from_config(_config({"backend": "none"})) is None
