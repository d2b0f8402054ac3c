"""The hub (app-wide: config and connectors) and the per-request context built from it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ecehub.config.model import Config
from ecehub.connectors.base import Connector, Health, Record
from ecehub.connectors.registry import get_connector_class
from ecehub.hub import HubStore
from ecehub.resolvers.actor import acting_user
from ecehub.resolvers.crosswalk_identity import CrosswalkCache, identity_for
from ecehub.resolvers.gateway import SourceGateway
from ecehub.resolvers.hub_loaders import HubLoaders
from ecehub.resolvers.identity import Identity, Merged
from ecehub.resolvers.loaders import Loaders

__all__ = ["Hub", "RequestContext"]


class Hub:
    """Everything that lives as long as the app: the config and one connector per source."""

    def __init__(
        self,
        config: Config,
        connectors: dict[str, Connector] | None = None,
        store: HubStore | None = None,
    ) -> None:
        self.config = config
        self.connectors = connectors if connectors is not None else build_connectors(config)
        self._store = store
        self.crosswalk = CrosswalkCache(lambda: self.store)  # confirmed links, when configured

    @property
    def store(self) -> HubStore:
        """The hub store at ``hub.url`` (opened on first use; migrate it with
        ``ecehub db upgrade``)."""
        if self._store is None:
            self._store = HubStore.from_config(self.config)
        return self._store

    async def health(self) -> list[Health]:
        async def one(conn: Connector) -> Health:
            try:
                async with asyncio.timeout(conn.timeout_s):
                    return await conn.health()
            except TimeoutError:
                return Health(conn.name, False, conn.timeout_s * 1000, "timed out")

        return list(await asyncio.gather(*(one(c) for c in self.connectors.values())))

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.connectors.values()))
        if self._store is not None:
            await self._store.aclose()

    def request_context(self, *, trace: bool = False, request: Any = None) -> RequestContext:
        return RequestContext(self, trace=trace, request=request)


def build_connectors(config: Config) -> dict[str, Connector]:
    return {
        name: get_connector_class(source.kind)(name, source)
        for name, source in config.sources.items()
    }


@dataclass
class RequestContext:
    hub: Hub
    trace: bool = False
    request: Any = None
    response: Any = None
    gateway: SourceGateway = field(init=False)
    loaders: Loaders = field(init=False)
    identity: Identity = field(init=False)
    _hub_loaders: HubLoaders | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.gateway = SourceGateway(self.hub.connectors)
        self.loaders = Loaders(self.gateway)
        self.identity = identity_for(self.hub.config, self.loaders, self.hub.crosswalk)

    @property
    def hub_loaders(self) -> HubLoaders:
        if self._hub_loaders is None:
            self._hub_loaders = HubLoaders(self.hub.store)
        return self._hub_loaders

    @property
    def actor(self) -> str | None:
        return acting_user(self.request)

    @property
    def config(self) -> Config:
        return self.hub.config

    def support_types_of(self, source: str) -> list[str]:
        return list(self.config.sources[source].support_types)

    async def children(
        self, parents: Sequence[Record], entity: str, parent_entity: str
    ) -> list[Record]:
        """Children of every parent record, from each source that maps ``entity`` under
        ``parent_entity``; batched across all parents asked for in the same tick."""
        loads: list[tuple[str, str]] = []
        for parent in parents:
            source = self.config.sources.get(parent.source)
            ent = source.entities.get(entity) if source else None
            if ent is None or ent.parent_entity != parent_entity:
                continue
            loads.append((parent.source, parent.key))
        if not loads:
            return []
        found = await self.loaders.children(entity, parent_entity).load_many(loads)
        return [record for records in found for record in records]

    async def merged_children(
        self, parent: Merged, entity: str, parent_entity: str
    ) -> list[Merged]:
        return self.identity.group(
            entity, await self.children(parent.records, entity, parent_entity)
        )
