"""Reading the sources: the gateway of one request (one call per source and batch, a failing
or slow source marked failed for the request), the DataLoaders that batch every key asked
for in one tick into one call per source, each source's app-wide guard (circuit breaker,
retries, calls in flight), and the app-wide cache of source answers (with stale-if-error) the
gateway reads through."""

from ecehub.sources.cache import CacheSession, SourceCache
from ecehub.sources.gateway import SourceGateway
from ecehub.sources.loaders import Loaders, SourceKey, normalize_identifier
from ecehub.sources.resilience import BreakerState, SourceGuard

__all__ = [
    "BreakerState",
    "CacheSession",
    "Loaders",
    "SourceCache",
    "SourceGateway",
    "SourceGuard",
    "SourceKey",
    "normalize_identifier",
]
