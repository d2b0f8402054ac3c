"""What lives as long as the app: the config, one connector and one guard (breaker, retries,
slots) per source, the hub store and the crosswalk store on one engine, the crosswalk's
confirmed-link index, the access policy, the metrics, the tracer provider and the source cache.
Each request gets a
:class:`~ecehub.resolvers.context.RequestContext` from it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from ecehub.access.policy import AccessPolicy
from ecehub.auth.tokens import Authentication
from ecehub.config.model import Config
from ecehub.connectors.base import Connector, Health
from ecehub.connectors.registry import get_connector_class
from ecehub.crosswalk.link_identity import CrosswalkCache
from ecehub.crosswalk.store import CrosswalkStore
from ecehub.hub import HubStore, migrate
from ecehub.metrics import Metrics
from ecehub.resolvers.context import RequestContext
from ecehub.sources.cache import SourceCache
from ecehub.sources.resilience import SourceGuard, guards_for
from ecehub.tracing import Tracing

__all__ = ["Runtime", "build_connectors"]


class Runtime:
    """Everything that lives as long as the app: the config, one connector per source, the
    hub and crosswalk stores (opened on first use), the crosswalk's link index and the access
    policy."""

    def __init__(
        self,
        config: Config,
        connectors: dict[str, Connector] | None = None,
        store: HubStore | None = None,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
        cache: SourceCache | None = None,
    ) -> None:
        """``metrics``: where the sources' calls are counted (by default a registry of this
        runtime's own when ``server.metrics`` is on, else none). ``tracing``: where requests
        and source calls are traced (by default OTLP export when ``server.tracing.enabled``,
        else none: no spans at all). ``cache``: the source cache (by default the one
        ``config.cache`` asks for; none for ``backend: none``)."""
        self.config = config
        self.connectors = connectors if connectors is not None else build_connectors(config)
        self._store = store
        self._crosswalk_store: CrosswalkStore | None = None
        self.crosswalk = CrosswalkCache(lambda: self.crosswalk_store)  # confirmed links
        self.policy = AccessPolicy(config)
        self._views: dict[tuple[str, ...], Config] = {}
        if metrics is None and config.server.metrics:
            metrics = Metrics()
        self.metrics = metrics
        if metrics is not None:
            metrics.watch_pool(self.pool_status)
        settings = config.server.tracing
        if tracing is None and settings.enabled:
            tracing = Tracing.otlp(
                settings.otlp_endpoint,
                service_name=settings.service_name,
                sample_ratio=settings.sample_ratio,
            )
        self.tracing = tracing
        self.guards: dict[str, SourceGuard] = guards_for(self.connectors, metrics)
        """Each source's circuit breaker, retries and slots, shared by every request."""
        self.cache = cache if cache is not None else SourceCache.from_config(config, metrics)
        """Source answers shared by every request (below access control)."""

    def config_for(self, sources: Sequence[str]) -> Config:
        """The config as a request that sees only ``sources`` sees it (cached per set)."""
        key = tuple(sources)
        if len(key) == len(self.config.sources):
            return self.config
        view = self._views.get(key)
        if view is None:
            kept = {n: s for n, s in self.config.sources.items() if n in key}
            view = self._views[key] = self.config.model_copy(update={"sources": kept})
        return view

    @property
    def store(self) -> HubStore:
        """The hub store at ``hub.url`` (opened on first use; migrate it with
        ``ecehub db upgrade``)."""
        if self._store is None:
            self._store = HubStore.from_config(self.config)
        return self._store

    @property
    def crosswalk_store(self) -> CrosswalkStore:
        """The crosswalk's links, on the hub store's engine."""
        if self._crosswalk_store is None:
            self._crosswalk_store = CrosswalkStore.beside(self.store)
        return self._crosswalk_store

    async def health(self) -> list[Health]:
        async def one(conn: Connector) -> Health:
            try:
                async with asyncio.timeout(conn.timeout_s):
                    return await conn.health()
            except TimeoutError:
                return Health(conn.name, False, conn.timeout_s * 1000, "timed out")

        return list(await asyncio.gather(*(one(c) for c in self.connectors.values())))

    async def store_problem(self) -> str | None:
        """Why the hub store cannot serve (unreachable, or not at this ecehub's newest
        revision); ``None`` when it can. The message never holds the store's URL."""
        try:
            revision = await migrate.revision_on(self.store.engine)
        except (SQLAlchemyError, OSError) as exc:
            return f"unreachable: {type(exc).__name__}"
        if revision != migrate.head():
            return (
                f"at revision {revision or '<empty>'}, needs {migrate.head()}: run "
                "`ecehub db upgrade` (or serve with --migrate)"
            )
        return None

    def pool_status(self) -> tuple[int, int] | None:
        """The hub store pool's (connections in use, size); ``None`` while the store is not
        open (a scrape never opens it) or its pool does not count them."""
        if self._store is None:
            return None
        pool = self._store.engine.pool
        checkedout, size = getattr(pool, "checkedout", None), getattr(pool, "size", None)
        if not callable(checkedout) or not callable(size):
            return None
        return int(checkedout()), int(size())

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.connectors.values()))
        if self.cache is not None:
            await self.cache.aclose()
        if self._store is not None:
            await self._store.aclose()
        if self.tracing is not None:
            # Flushes the last spans over HTTP (bounded by the exporter's timeout): off the loop.
            await asyncio.to_thread(self.tracing.shutdown)

    def request_context(
        self,
        authentication: Authentication | None = None,
        *,
        trace: bool = False,
        request: object = None,
    ) -> RequestContext:
        """The context of one request by whoever ``authentication`` says is acting (``None``:
        a request no authentication ran for, as a trusted in-process caller makes)."""
        return RequestContext(self, authentication, trace=trace, request=request)


def build_connectors(config: Config) -> dict[str, Connector]:
    return {
        name: get_connector_class(source.kind)(name, source)
        for name, source in config.sources.items()
    }
