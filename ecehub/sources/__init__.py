"""Reading the sources: the gateway of one request (one call per source and batch, a failing
or slow source marked failed for the request), the DataLoaders that batch every key asked
for in one tick into one call per source, and each source's app-wide guard (circuit breaker,
retries, calls in flight)."""

from ecehub.sources.gateway import SourceGateway
from ecehub.sources.loaders import Loaders, SourceKey, normalize_identifier
from ecehub.sources.resilience import BreakerState, SourceGuard

__all__ = [
    "BreakerState",
    "Loaders",
    "SourceGateway",
    "SourceGuard",
    "SourceKey",
    "normalize_identifier",
]
