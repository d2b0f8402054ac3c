"""The root Query type."""

from __future__ import annotations

from collections.abc import Collection

import strawberry
from graphql import GraphQLError

from ecehub.access.fields import FILTER_FIELDS
from ecehub.config.canonical import identifier_field
from ecehub.config.scales import normalised_field
from ecehub.connectors.base import FieldFilter
from ecehub.crosswalk.identity import Merged
from ecehub.errors import Forbidden, ValidationFailed
from ecehub.hub.enums import ObjectType
from ecehub.ids import InvalidCursor, InvalidId, decode_global_id
from ecehub.resolvers.listing import ListItem, ListQuery
from ecehub.schema.arguments import forbidden, not_found, user_error
from ecehub.schema.common import Info, PageInfo, SourceStatus, SupportType
from ecehub.schema.graph import Program, Site, Staff
from ecehub.schema.prefetch import read_ahead
from ecehub.schema.qip import AuditEntry, AuditPage

__all__ = [
    "IdentifierFilter",
    "ProgramConnection",
    "ProgramEdge",
    "ProgramFilter",
    "ProgramQueries",
    "SourceSystem",
    "check_filter",
    "one_by_id",
]


@strawberry.input(description="An identifier of a given system, e.g. {system: LICENSE_NUMBER}")
class IdentifierFilter:
    system: str = strawberry.field(description="An identifier system the sources declare")
    value: str = strawberry.field(description="Compared trimmed and case-insensitively")


@strawberry.input(
    description="All given conditions must hold; a condition holds when any of "
    "the program's sources matches it."
)
class ProgramFilter:
    support_types: list[str] | None = strawberry.field(
        default=None, description="Programs any of these sectors know, e.g. [HEAD_START]"
    )
    name: str | None = strawberry.field(default=None, description="Case-insensitive substring")
    city: str | None = None
    county: str | None = None
    zip: str | None = None
    state: str | None = strawberry.field(
        default=None, description="The address's state, e.g. DC (case-insensitive)"
    )
    sources: list[str] | None = strawberry.field(
        default=None,
        description="Programs any of these configured sources know, by source name "
        "(as in Program.sources)",
    )
    license_status: str | None = strawberry.field(default=None, description="e.g. Licensed")
    license_number: str | None = None
    identifier: IdentifierFilter | None = strawberry.field(
        default=None, description="Programs holding this identifier in any source"
    )
    qris_level: int | None = strawberry.field(
        default=None, description="Programs a source rates at this level, on its own scale"
    )
    qris_level_min: int | None = strawberry.field(
        default=None,
        description="Programs whose normalised QRIS level (QrisRating.normalisedLevel, on the "
        "reference 1-5 scale) is at least this in some source; a not-participating level "
        "never matches",
    )

    def to_query(
        self,
        known_support_types: set[str],
        known_sources: Collection[str] = (),
        known_systems: Collection[str] = (),
    ) -> ListQuery:
        filters: list[FieldFilter] = []
        if self.name:
            filters.append(FieldFilter("name", "contains", self.name))
        for field_name in ("city", "county", "zip", "state", "license_status", "qris_level"):
            value = getattr(self, field_name)
            if value is not None:
                filters.append(FieldFilter(field_name, "eq", value))
        if self.qris_level_min is not None:
            filters.append(FieldFilter(normalised_field("qris_level"), "gte", self.qris_level_min))
        if self.license_number:
            filters.append(
                FieldFilter(identifier_field("LICENSE_NUMBER"), "in", [self.license_number])
            )
        unknown = sorted(set(self.support_types or ()) - known_support_types)
        if unknown:
            raise user_error(
                f"unknown support type(s) {', '.join(unknown)}; declared: "
                f"{', '.join(sorted(known_support_types))}"
            )
        if self.identifier is not None:
            system = self.identifier.system.strip()
            if system not in known_systems:
                raise user_error(
                    f"unknown identifier system {system[:60]!r}; the sources declare: "
                    f"{', '.join(sorted(known_systems)) or '(none)'}"
                )
            filters.append(FieldFilter(identifier_field(system), "in", [self.identifier.value]))
        strangers = sorted(set(self.sources or ()) - set(known_sources))
        if strangers:
            raise user_error(
                f"unknown source(s) {', '.join(strangers)}; configured: "
                f"{', '.join(sorted(known_sources)) or '(none)'}"
            )
        return ListQuery(
            "program",
            tuple(filters),
            tuple(self.support_types or ()),
            tuple(dict.fromkeys(self.sources or ())),
        )


def check_filter(info: Info, filter: ProgramFilter | None) -> None:
    """Refuse (FORBIDDEN, audited) a filter on a value the role may not read: the answer
    would tell the value. Every filter field goes through the same rule as the value itself
    (:meth:`~ecehub.access.policy.Access.value_denial`; ``name`` is ``Program.name``, ``city``
    is ``Program.address`` and ``Address.city``, ...); the message names the filter and the
    rule, never the value."""
    ctx = info.context
    if filter is None or not ctx.access.enabled:
        return
    for name, (entity, canonical) in FILTER_FIELDS.items():
        if getattr(filter, name) is None:
            continue
        refusal = ctx.access.value_denial(entity, canonical)
        if refusal is not None:
            ctx.deny(None, ObjectType.FIELD, refusal.field, refusal.reason)
            raise GraphQLError(
                f"cannot filter on {name}: {refusal.reason}", extensions={"code": "FORBIDDEN"}
            )


@strawberry.type
class ProgramEdge:
    item: strawberry.Private[ListItem]

    @strawberry.field
    def cursor(self) -> str:
        return self.item.cursor  # encoded only when asked for

    node: Program


@strawberry.type(description="A page of programs (Relay connection).")
class ProgramConnection:
    edges: list[ProgramEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Program]:
        return [e.node for e in self.edges]


@strawberry.type(description="A configured sector source and its current status.")
class SourceSystem:
    name: str
    kind: str
    support_types: list[str]
    entities: list[str]
    status: SourceStatus
    latency_ms: float
    detail: str


async def one_by_id(info: Info, entity: str, type_name: str, global_id: str) -> Merged | None:
    """The program, site or staff member with this global ID, as every path asks for it
    (``program(id:)``, ``site(id:)``, ``staff(id:)`` and federation's ``_entities``): one rule
    for all. A malformed ID is ``BAD_USER_INPUT``; the lookup is batched per request
    (:meth:`~ecehub.resolvers.context.RequestContext.by_hub_id`)."""
    try:
        hub_id = decode_global_id(global_id, type_name)
    except InvalidId as exc:
        raise user_error(str(exc)) from None
    ctx = info.context
    found = await ctx.by_hub_id(entity).load(hub_id)
    if found is None and ctx.access.programs is not None:
        # A scoped role gets the same answer for an ID outside its programs (the refusal is
        # audited) as for one that does not exist: it cannot learn which IDs exist.
        raise not_found(f"no {type_name} {global_id!r} among role {ctx.access.label!r}'s programs")
    return found


@strawberry.type
class ProgramQueries:
    """The program graph's root fields (composed into ``Query`` in ecehub.schema.schema)."""

    @strawberry.field(description="One program by its ecehub ID")
    async def program(self, info: Info, id: strawberry.ID) -> Program | None:
        merged = await one_by_id(info, "program", "Program", id)
        if merged is None:
            return None
        await read_ahead(info, "Program", merged.records)
        return Program(merged=merged)

    @strawberry.field(description="Programs across all sources, merged, filtered and paged")
    async def programs(
        self,
        info: Info,
        filter: ProgramFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ProgramConnection:
        server = info.context.config.server
        size = server.default_page_size if first is None else first
        if not 0 < size <= server.max_page_size:
            raise user_error(f"`first` must be between 1 and {server.max_page_size}")
        known = {st.code for st in info.context.config.support_types}
        check_filter(info, filter)
        config = info.context.config
        q = (filter or ProgramFilter()).to_query(
            known, config.sources, config.identifier_systems("program")
        )
        try:
            result = await info.context.list_page(q, first=size, after=after)
        except InvalidCursor as exc:
            raise user_error(str(exc)) from None
        items = result.items
        await read_ahead(
            info,
            "Program",
            [r for i in items for r in i.merged.records],
            [("ProgramConnection", "nodes")],
            [("ProgramConnection", "edges"), ("ProgramEdge", "node")],
        )
        edges = [ProgramEdge(item=i, node=Program(merged=i.merged)) for i in items]
        return ProgramConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=result.has_next,
                has_previous_page=after is not None,
                start_cursor=items[0].cursor if items else None,
                end_cursor=items[-1].cursor if items else None,
            ),
        )

    @strawberry.field(
        description="One site by its ecehub ID: a site a program's sources list, or a "
        "licensed facility the crosswalk confirmed as a site of a program (the id "
        "Program.sites gives it; answered with its crosswalkLink while that link stands and "
        "the program is in the role's scope)"
    )
    async def site(self, info: Info, id: strawberry.ID) -> Site | None:
        merged = await one_by_id(info, "site", "Site", id)
        if merged is None:
            return None
        await read_ahead(info, "Site", merged.records)
        return Site(merged=merged, site_link=info.context.site_link_of(merged))

    @strawberry.field(description="One staff member by their ecehub ID")
    async def staff(self, info: Info, id: strawberry.ID) -> Staff | None:
        merged = await one_by_id(info, "staff", "Staff", id)
        return None if merged is None else Staff(merged=merged)

    @strawberry.field(description="The configured sources and whether each answers now")
    async def sources(self, info: Info) -> list[SourceSystem]:
        config = info.context.config
        health = {h.source: h for h in await info.context.runtime.health()}
        return [
            SourceSystem(
                name=name,
                kind=src.kind,
                support_types=list(src.support_types),
                entities=list(src.entities),
                status=SourceStatus.UP if health[name].ok else SourceStatus.DOWN,
                latency_ms=round(health[name].latency_ms, 1),
                detail=health[name].detail,
            )
            for name, src in config.sources.items()
        ]

    @strawberry.field(description="Who changed what in a program's hub data, newest first")
    async def audit(
        self, info: Info, program_id: strawberry.ID, first: int = 50, after: str | None = None
    ) -> AuditPage:
        try:
            hub_id = decode_global_id(program_id, "Program")
        except InvalidId as exc:
            raise user_error(str(exc)) from None
        if not 0 < first <= 500:
            raise user_error("`first` must be between 1 and 500")
        if info.context.access.programs is not None:
            # One answer for a program outside the scope (the refusal is audited) and for
            # one that does not exist.
            found = await info.context.program(hub_id)
            if found is None:
                raise forbidden(Forbidden(f"program {hub_id} is not in scope"))
            hub_id = found.hub_id
        try:
            page = await info.context.runtime.store.audit_for_program(
                hub_id, first=first, after=after
            )
        except (ValueError, ValidationFailed):  # the store refuses a cursor not of this list
            raise user_error("the `after` cursor is malformed") from None
        return AuditPage(
            entries=[AuditEntry.seen_by(a, info.context.access) for a in page.entries],
            end_cursor=page.end_cursor,
            has_next_page=page.has_next_page,
        )

    @strawberry.field(description="The support types (sectors) this state declares")
    def support_types(self, info: Info) -> list[SupportType]:
        return [
            SupportType(code=st.code, name=st.name, description=st.description)
            for st in info.context.config.support_types
        ]
