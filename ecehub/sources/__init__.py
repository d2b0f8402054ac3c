"""Reading the sources within one request: the gateway (one call per source and batch, a
failing or slow source marked failed for the request) and the DataLoaders that batch every
key asked for in one tick into one call per source; and the app-wide cache of source
answers (with stale-if-error) the gateway reads through."""

from ecehub.sources.cache import CacheSession, SourceCache
from ecehub.sources.gateway import SourceGateway
from ecehub.sources.loaders import Loaders, SourceKey, normalize_identifier

__all__ = [
    "CacheSession",
    "Loaders",
    "SourceCache",
    "SourceGateway",
    "SourceKey",
    "normalize_identifier",
]
