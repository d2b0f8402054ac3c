"""The context of one request: who is acting and what their role may see (the sources of its
config view, the programs of its scope), with the request's own loaders, gateway and
identity, and the refusals to audit. Made by
:meth:`~ecehub.resolvers.runtime.Runtime.request_context`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from ecehub.access.policy import Access, Refusal
from ecehub.access.scope import ScopedIdentity
from ecehub.auth.tokens import Authentication
from ecehub.config.model import Config
from ecehub.connectors.base import Record
from ecehub.crosswalk.identity import Identity, Merged
from ecehub.crosswalk.link_identity import CrosswalkIdentity, identity_for
from ecehub.crosswalk.records import CrosswalkLink
from ecehub.errors import Forbidden, ValidationFailed
from ecehub.hub.enums import ObjectType
from ecehub.hub.store import ANY_PROGRAM, Denial
from ecehub.hub.transaction import Acting, WriteCheck
from ecehub.resolvers.hub_loaders import HubLoaders
from ecehub.resolvers.listing import ListQuery, ListResult, list_merged, list_scoped
from ecehub.sources.gateway import SourceGateway
from ecehub.sources.loaders import Loaders

if TYPE_CHECKING:
    from ecehub.resolvers.runtime import Runtime

log = logging.getLogger("ecehub.access")

__all__ = ["RequestContext"]


@dataclass
class RequestContext:
    runtime: Runtime
    authentication: Authentication | None = None
    trace: bool = False
    request: Any = None
    response: Any = None
    access: Access = field(init=False)
    gateway: SourceGateway = field(init=False)
    loaders: Loaders = field(init=False)
    identity: Identity = field(init=False)
    denials: dict[tuple[str, str], Denial] = field(init=False, default_factory=dict)
    refused: list[tuple[str, list[str | int]]] = field(init=False, default_factory=list)
    """Values left out of an answer that goes on (``provenance(fields: [...])``, ...): the
    message and the path of each, for ``errors[]`` (code FORBIDDEN)."""
    operation: str = "query"
    operation_type: str | None = None
    """``query`` or ``mutation`` once the document parsed (for the metrics)."""
    operation_name: str | None = None
    _config: Config = field(init=False)
    _hub_loaders: HubLoaders | None = field(init=False, default=None)
    _by_hub_id: dict[str, DataLoader[str, Merged | None]] = field(init=False, default_factory=dict)
    _facility_links: dict[str, CrosswalkLink] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.access = self.runtime.policy.access_for(self.authentication)
        sources = self.runtime.config.sources
        visible = [n for n, s in sources.items() if self.access.sees_source(s.support_types)]
        self._config = self.runtime.config_for(visible)
        cache = self.runtime.cache
        self.gateway = SourceGateway(
            {n: self.runtime.connectors[n] for n in visible},
            self.runtime.metrics,
            {n: self.runtime.guards[n] for n in visible},
            None if cache is None else cache.session(bypass=self._bypasses_cache()),
        )
        self.loaders = Loaders(self.gateway)
        identity = identity_for(self._config, self.loaders, self.runtime.crosswalk)
        if self.access.programs is not None:
            identity = ScopedIdentity(identity, self.access.programs)
        self.identity = identity

    def _bypasses_cache(self) -> bool:
        """Whether this request reads the sources live: it sends ``Cache-Control:
        no-cache`` and its role is one of ``cache.bypass_roles`` (anyone's, without access
        rules). Anyone else's header is ignored, not refused."""
        headers = getattr(self.request, "headers", None)
        if headers is None:
            return False
        directives = {d.strip().lower() for d in str(headers.get("cache-control", "")).split(",")}
        if "no-cache" not in directives:
            return False
        if not self.access.enabled:
            return True
        return self.access.rule is not None and (
            self.access.role in self.runtime.config.cache.bypass_roles
        )

    @property
    def hub_loaders(self) -> HubLoaders:
        if self._hub_loaders is None:
            self._hub_loaders = HubLoaders(self.runtime.store)
        return self._hub_loaders

    @property
    def actor(self) -> str | None:
        """The acting user, ``None`` for an anonymous request."""
        return self.authentication.user if self.authentication else None

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
        """The program with this hub ID, ``None`` if no source this request sees knows it.
        One outside the request's scope is ``None`` too, as if it did not exist (so a scoped
        role cannot tell which IDs exist), and the refusal is noted for the audit log."""
        return (await self.programs([hub_id])).get(hub_id)

    async def programs(self, hub_ids: Sequence[str]) -> dict[str, Merged]:
        """:meth:`program` for many hub IDs at once (one resolve): those found and in scope."""
        found = await self.identity.resolve("program", list(dict.fromkeys(hub_ids)))
        if not isinstance(self.identity, ScopedIdentity):
            return found
        missing = [h for h in hub_ids if h not in found]
        if missing:
            outside = await self.identity.inner.resolve("program", missing)
            for hub_id in missing:  # once per time asked, as one call per ID would note it
                if hub_id in outside:
                    program_id = outside[hub_id].hub_id
                    reason = (
                        f"program {program_id} is not among role {self.access.label!r}'s programs"
                    )
                    self.deny(program_id, ObjectType.PROGRAM, program_id, reason)
        return found

    def by_hub_id(self, entity: str) -> DataLoader[str, Merged | None]:
        """The one way a program, site or staff member is looked up by its hub ID (the root
        fields ``program(id:)``, ``site(id:)``, ``staff(id:)`` and federation's ``_entities``):
        every ID asked for in one tick is resolved in one batch, and each answer has passed
        the request's scope (a program outside it, or a site or staff member of a program
        outside it, is ``None`` as if unknown; the refusal is noted for the audit log).
        A site ID may be a facility's that ``Program.sites`` lists by a confirmed ``SITE``
        link (:meth:`linked_facilities`; its :meth:`site_link_of` is that link): it answers
        as that facility where this request sees the program, else as a site of its own
        source. Not cached, so an ID asked for twice is checked, and noted, twice."""
        loader = self._by_hub_id.get(entity)
        if loader is None:

            async def load(hub_ids: Sequence[str]) -> list[Merged | None]:
                if entity == "program":
                    found = await self.programs(hub_ids)
                    return [found.get(h) for h in hub_ids]
                linked = await self.linked_facilities(hub_ids) if entity == "site" else {}
                rest = [h for h in hub_ids if h not in linked]
                resolved = await self.identity.resolve(entity, list(dict.fromkeys(rest)))
                own = [resolved.get(h) for h in rest]
                seen = iter(await asyncio.gather(*(self.sees(m) for m in own if m is not None)))
                answers = iter([m if m is not None and next(seen) else None for m in own])
                return [linked[h] if h in linked else next(answers) for h in hub_ids]

            loader = self._by_hub_id[entity] = DataLoader(load_fn=load, cache=False)
        return loader

    async def linked_facilities(self, hub_ids: Sequence[str]) -> dict[str, Merged]:
        """Of ``hub_ids``, the facilities (program records) confirmed in the crosswalk as a
        site of a program this request sees, each as ``Program.sites`` shows it (its link
        then is :meth:`site_link_of`): what ``site(id:)`` answers for the ID a linked
        facility has there. A facility whose link was rejected or removed, or whose program
        is outside this request's scope, is absent (the caller then tries the ID as a site
        of its own source, where the usual scope rule and its audit apply)."""
        if not hub_ids or not self.config.uses_crosswalk("program"):
            return {}
        inner = self.identity.inner if isinstance(self.identity, ScopedIdentity) else self.identity
        facilities = await inner.resolve("program", list(dict.fromkeys(hub_ids)))
        if not facilities:
            return {}
        crosswalk = self._crosswalk()
        if crosswalk is None:
            return {}
        index = await crosswalk.current()
        links = {
            (r.source, r.key): index.site_link_of[(r.source, r.key)]
            for m in facilities.values()
            for r in m.records
            if (r.source, r.key) in index.site_link_of
        }
        if not links:
            return {}
        programs = await inner.resolve("program", sorted({link.hub_id for link in links.values()}))
        scope = await self.scope()
        found: dict[str, Merged] = {}
        for hub_id, facility in facilities.items():
            for record in facility.records:
                link = links.get((record.source, record.key))
                program = None if link is None else programs.get(link.hub_id)
                if link is None or program is None:
                    continue
                if scope is None or program.hub_id in scope:
                    # As Program.sites shows it: the records linked as a site of the program.
                    linked = [
                        r
                        for r in facility.records
                        if (other := links.get((r.source, r.key))) is not None
                        and other.hub_id == link.hub_id
                    ]
                    (shown,) = self.identity.group("program", linked)
                    found[hub_id] = shown
                    self._facility_links[shown.hub_id] = link
                    break
        return found

    def site_link_of(self, site: Merged) -> CrosswalkLink | None:
        """The ``SITE`` link that made ``site`` (found by :meth:`by_hub_id`) a site: set for
        a linked facility (a program record shown as a site), ``None`` for a source's own
        site."""
        return self._facility_links.get(site.hub_id) if site.entity == "program" else None

    async def sees(self, merged: Merged) -> bool:
        """Whether a site, room or staff member belongs to a program in this request's scope
        (followed up its sources' parent links); one outside it is noted for the audit log,
        and the caller answers as if it did not exist."""
        scope = await self.scope()
        if scope is None:
            return True
        programs = await self._programs_of(merged)
        if programs & scope:
            return True
        self._note_outside(merged, programs)
        return False

    async def check_in_program(
        self, entity: str, hub_ids: Sequence[str], program_id: str, field: str
    ) -> list[str]:
        """The canonical hub IDs of the sites, rooms or staff (``entity``) a write for the
        program ``program_id`` names in its input ``field``, once each is known to belong to
        that program (followed up its sources' parent links, as :meth:`sees` does).

        One that no source this request sees knows, or one outside this request's scope (as
        if unknown, so a scoped role learns nothing of what exists outside its programs; the
        refusal is noted for the audit log), or one of another program, is
        :class:`ValidationFailed` on ``field``, as a QIP goal or task of another program is in
        the hub store."""
        found = await self.identity.resolve(entity, list(dict.fromkeys(hub_ids)))
        programs = {h: await self._programs_of(m) for h, m in found.items()}
        scope = await self.scope()
        if scope is not None:
            for hub_id, merged in list(found.items()):
                if not programs[hub_id] & scope:
                    # Answered as an unknown ID (a scoped role learns nothing of what exists
                    # outside its programs); the refusal is noted for the audit log.
                    self._note_outside(merged, programs[hub_id])
                    del found[hub_id]
        for hub_id in hub_ids:
            if hub_id not in found:
                raise ValidationFailed({field: f"no {entity} with ID {hub_id}"})
            if program_id not in programs[hub_id]:
                raise ValidationFailed({field: "belongs to another program"})
        return [found[h].hub_id for h in hub_ids]

    async def _programs_of(self, merged: Merged) -> set[str]:
        """The canonical hub IDs of the programs a site, room or staff member's records
        belong to, followed up their sources' parent links."""
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
        return {self.identity.hub_id(r) for r in records} if entity == "program" else set()

    def _note_outside(self, merged: Merged, programs: set[str]) -> str:
        """Note for the audit log that a site, room or staff member outside this request's
        scope was asked for; the reason."""
        reason = (
            f"{merged.entity} {merged.hub_id} is not in a program of role {self.access.label!r}"
        )
        kind = ObjectType.STAFF if merged.entity == "staff" else ObjectType.SITE
        self.deny(next(iter(sorted(programs)), None), kind, merged.hub_id, reason)
        return reason

    async def check_write_right(
        self, object_type: ObjectType, program_id: str | None = None
    ) -> None:
        """:class:`Forbidden` (noted for the audit log) unless this request's role may write
        objects of this type at all (and, given ``program_id``, in that program). Called
        before a write's input is looked at, so a caller without the right learns nothing
        about it; the store checks the write itself again, whole, inside its transaction
        (:meth:`acting`)."""
        try:
            self.access.check_kind(object_type, program_id)
            if program_id is not None and self.access.enabled:
                self.access.check_program(await self.scope(), program_id)
        except Forbidden as exc:
            self.deny(program_id, object_type, object_type.value, exc.message)
            raise

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

    def refuse(
        self,
        program_id: str | None,
        asked: str,
        refusal: Refusal,
        path: Sequence[str | int],
    ) -> None:
        """A value asked for by name (``asked``: e.g. ``birth_year`` in ``provenance(fields:
        ...)``) left out of an answer that goes on: noted for the audit log under the refusing
        rule's ``Type.field`` (as the field itself would be) and reported in ``errors[]`` at
        ``path`` (never with the value)."""
        self.deny(program_id, ObjectType.FIELD, refusal.field, refusal.reason)
        self.refused.append((f"{asked}: {refusal.reason}", list(path)))

    async def flush_denials(self) -> None:
        """Write this request's refused accesses to the audit log (best effort: a failure is
        logged, the response is not changed)."""
        if not self.denials:
            return
        denials, self.denials = list(self.denials.values()), {}
        try:
            await self.runtime.store.record_denials(self.access.user or "anonymous", denials)
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

    def _crosswalk(self) -> CrosswalkIdentity | None:
        inner = self.identity.inner if isinstance(self.identity, ScopedIdentity) else self.identity
        return inner if isinstance(inner, CrosswalkIdentity) else None

    async def _site_links_of(self, hub_id: str) -> list[CrosswalkLink]:
        """The confirmed ``SITE`` links naming the program ``hub_id`` whose source this
        request's config has, from the request's crosswalk index (no store read: the index
        follows the crosswalk's generation, checked once per request)."""
        crosswalk = self._crosswalk()
        if crosswalk is None:
            return []
        index = await crosswalk.current()
        sources = self.config.sources
        return [
            link
            for link in index.sites_of.get(hub_id, ())
            if link.source in sources and "program" in sources[link.source].entities
        ]

    async def linked_sites(self, program: Merged) -> list[tuple[Merged, CrosswalkLink]]:
        """The facilities confirmed in the crosswalk as sites of ``program`` (``SITE``
        links), each its own program record with the link that makes it a site; one
        batched fetch per source for every program asked in the same tick. A facility of a
        source this role does not see is left out (as the source is); one its source no
        longer has is logged and left out."""
        if not self.config.uses_crosswalk("program"):
            return []  # site links are the crosswalk's, read only where it decides identity
        links = await self._site_links_of(program.hub_id)
        if not links:
            return []
        keys = [(link.source, link.source_key) for link in links]
        records = await self.loaders.fetch("program").load_many(keys)
        sites: list[tuple[Merged, CrosswalkLink]] = []
        for link, record in zip(links, records, strict=True):
            if record is None:
                if link.source not in self.gateway.failures:
                    log.warning(
                        "site %s %s of %s: no such record in its source",
                        link.source,
                        link.source_key,
                        program.hub_id,
                    )
                continue
            (merged,) = self.identity.group("program", [record])
            sites.append((merged, link))
        return sites

    def linked_sites_soon(
        self, program: Merged
    ) -> list[tuple[Merged, CrosswalkLink]] | Awaitable[list[tuple[Merged, CrosswalkLink]]]:
        """:meth:`linked_sites`, as a value when the request's crosswalk index says the
        program has none (the common case), else as an awaitable."""
        if not self.config.uses_crosswalk("program"):
            return []
        crosswalk = self._crosswalk()
        index = None if crosswalk is None else crosswalk.current_now
        if index is not None and program.hub_id not in index.sites_of:
            return []
        return self.linked_sites(program)

    async def read_linked_sites(self, records: Sequence[Record]) -> None:
        """Read the site links of the programs ``records`` belong to, all at once (the
        read-ahead of ``Program.sites``)."""
        if not self.config.uses_crosswalk("program"):
            return
        programs = self.identity.group("program", [r for r in records if r.entity == "program"])
        await asyncio.gather(*(self.linked_sites(m) for m in programs))

    def children_read(
        self, parents: Sequence[Record], entity: str, parent_entity: str
    ) -> list[Record] | None:
        """:meth:`children`, without waiting, when this request has already read them all
        (the read-ahead of :mod:`ecehub.schema.prefetch` did, or an earlier field asked);
        ``None`` when any is still to read or its read failed (then :meth:`children` asks,
        or raises as it would have)."""
        loader = self.loaders.children(entity, parent_entity)
        found: list[Record] = []
        for parent in parents:
            source = self.config.sources.get(parent.source)
            ent = source.entities.get(entity) if source else None
            if ent is None or ent.parent_entity != parent_entity:
                continue
            read, records = loader.peek((parent.source, parent.key))
            if not read or records is None:
                return None
            found += records
        return found

    def children_soon(
        self, parents: Sequence[Record], entity: str, parent_entity: str
    ) -> list[Record] | Awaitable[list[Record]]:
        """:meth:`children` as a value when already read (:meth:`children_read`), else as
        an awaitable: a resolver that returns this stays synchronous on the read-ahead
        path, which is what makes a large nested page cheap to complete."""
        read = self.children_read(parents, entity, parent_entity)
        return read if read is not None else self.children(parents, entity, parent_entity)

    def merged_children_soon(
        self, parent: Merged, entity: str, parent_entity: str
    ) -> list[Merged] | Awaitable[list[Merged]]:
        """:meth:`merged_children`, as a value when already read (:meth:`children_soon`)."""
        read = self.children_read(parent.records, entity, parent_entity)
        if read is None:
            return self.merged_children(parent, entity, parent_entity)
        return self.identity.group(entity, read)
