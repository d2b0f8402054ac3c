"""The hub (app-wide: config and connectors) and the per-request context built from it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ecehub.access.policy import Access, AccessPolicy
from ecehub.access.scope import ScopedIdentity
from ecehub.auth.middleware import authentication_of
from ecehub.config.model import Config
from ecehub.connectors.base import Connector, Health, Record
from ecehub.connectors.registry import get_connector_class
from ecehub.errors import Forbidden
from ecehub.hub import HubStore
from ecehub.hub.enums import ObjectType
from ecehub.hub.store import ANY_PROGRAM, Denial
from ecehub.hub.transaction import Acting, WriteCheck
from ecehub.resolvers.actor import acting_user
from ecehub.resolvers.crosswalk_identity import CrosswalkCache, identity_for
from ecehub.resolvers.gateway import SourceGateway
from ecehub.resolvers.hub_loaders import HubLoaders
from ecehub.resolvers.identity import Identity, Merged
from ecehub.resolvers.listing import ListQuery, ListResult, list_merged, list_scoped
from ecehub.resolvers.loaders import Loaders

log = logging.getLogger("ecehub.access")

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
        self.policy = AccessPolicy(config)
        self._views: dict[tuple[str, ...], Config] = {}

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
    access: Access = field(init=False)
    gateway: SourceGateway = field(init=False)
    loaders: Loaders = field(init=False)
    identity: Identity = field(init=False)
    denials: dict[tuple[str, str], Denial] = field(init=False, default_factory=dict)
    operation: str = "query"
    _config: Config = field(init=False)
    _hub_loaders: HubLoaders | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.access = self.hub.policy.access_for(authentication_of(self.request))
        sources = self.hub.config.sources
        visible = [n for n, s in sources.items() if self.access.sees_source(s.support_types)]
        self._config = self.hub.config_for(visible)
        self.gateway = SourceGateway({n: self.hub.connectors[n] for n in visible})
        self.loaders = Loaders(self.gateway)
        identity = identity_for(self._config, self.loaders, self.hub.crosswalk)
        if self.access.programs is not None:
            identity = ScopedIdentity(identity, self.access.programs)
        self.identity = identity

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
        """The config as this request sees it: only the sources its role sees."""
        return self._config

    # -- access --------------------------------------------------------------------------------

    async def scope(self) -> frozenset[str] | None:
        """Canonical hub IDs of the programs in this request's scope; ``None``: all."""
        if isinstance(self.identity, ScopedIdentity):
            return await self.identity.canonical_scope()
        return None

    async def in_scope(self, program_id: str) -> bool:
        scope = await self.scope()
        return scope is None or program_id in scope

    async def list_page(self, q: ListQuery, *, first: int, after: str | None = None) -> ListResult:
        """A page of merged objects: of the sources this request sees, and of programs only
        those in its scope."""
        if self.access.programs is not None and q.entity == "program":
            scope = sorted(await self.scope() or ())
            return await list_scoped(
                self.config, self.gateway, self.identity, q, scope, first=first, after=after
            )
        return await list_merged(
            self.config, self.gateway, self.identity, q, first=first, after=after
        )

    async def program(self, hub_id: str) -> Merged | None:
        """The program with this hub ID, ``None`` if no source this request sees knows it;
        :class:`Forbidden` (noted for the audit log) if it is outside the request's scope."""
        found = (await self.identity.resolve("program", [hub_id])).get(hub_id)
        if found is not None or not isinstance(self.identity, ScopedIdentity):
            return found
        outside = (await self.identity.inner.resolve("program", [hub_id])).get(hub_id)
        if outside is None:
            return None
        reason = f"program {outside.hub_id} is not among role {self.access.label!r}'s programs"
        self.deny(outside.hub_id, ObjectType.PROGRAM, outside.hub_id, reason)
        raise Forbidden(reason, program_id=outside.hub_id)

    async def check_scope(self, merged: Merged) -> None:
        """:class:`Forbidden` unless a site, room or staff member belongs to a program in
        this request's scope (followed up its sources' parent links)."""
        scope = await self.scope()
        if scope is None:
            return
        records, entity = list(merged.records), merged.entity
        while records and entity != "program":
            parents: list[tuple[str, str]] = []
            parent_entity: str | None = None
            for r in records:
                ent = self.config.sources[r.source].entities.get(r.entity)
                if ent is None or ent.parent_entity is None or r.parent_key is None:
                    continue
                parent_entity = ent.parent_entity
                parents.append((r.source, r.parent_key))
            if parent_entity is None:
                break
            found = await self.loaders.fetch(parent_entity).load_many(parents)
            records, entity = [r for r in found if r is not None], parent_entity
        programs = {self.identity.hub_id(r) for r in records} if entity == "program" else set()
        if programs & scope:
            return
        reason = (
            f"{merged.entity} {merged.hub_id} is not in a program of role {self.access.label!r}"
        )
        kind = ObjectType.STAFF if merged.entity == "staff" else ObjectType.SITE
        self.deny(next(iter(programs), None), kind, merged.hub_id, reason)
        raise Forbidden(reason)

    def deny(
        self, program_id: str | None, object_type: ObjectType, object_id: str, reason: str
    ) -> None:
        """Note a refused access, for the audit log (written once per request, see
        :meth:`flush_denials`): one entry per thing refused, with how often."""
        key = (object_type.value, object_id)
        program = program_id or ANY_PROGRAM
        found = self.denials.get(key)
        if found is None:
            self.denials[key] = Denial(program, object_type, object_id, reason, self.operation)
            log.info(
                "access denied: user=%s role=%s %s %s: %s",
                self.access.user or "anonymous",
                self.access.label,
                object_type.value,
                object_id,
                reason,
            )
        else:
            self.denials[key] = Denial(
                found.program_id if found.program_id == program else ANY_PROGRAM,
                object_type,
                object_id,
                found.reason,
                found.operation,
                found.count + 1,
            )

    async def flush_denials(self) -> None:
        """Write this request's refused accesses to the audit log (best effort: a failure is
        logged, the response is not changed)."""
        if not self.denials:
            return
        denials, self.denials = list(self.denials.values()), {}
        try:
            await self.hub.store.record_denials(self.access.user or "anonymous", denials)
        except Exception:
            log.exception("could not audit %d denied access(es)", len(denials))

    async def acting(self) -> str | Acting:
        """The acting user for a write, with this request's write rules as the store's guard
        (checked inside the write's transaction). Only for a request that has an acting user
        (:attr:`actor`); a refused write is noted for the audit log."""
        user = self.actor
        assert user is not None
        if not self.access.enabled:
            return user
        scope = await self.scope()

        def guard(check: WriteCheck) -> None:
            try:
                self.access.check_write(check, scope)
            except Forbidden as exc:
                self.deny(check.program_id, check.object_type, check.object_type.value, exc.message)
                raise

        return Acting(user, guard)

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
