"""The identity crosswalk in GraphQL: a review queue of suggested links and the decisions on
them (confirm, reject, link, unlink, merge, split). Every decision is versioned and audited
by the hub store and checked against the acting user's access rules (write kind
``crosswalk``: the right itself before any input is checked, the write whole in its
transaction); only confirmed links merge data, and the next query sees the change."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from ecehub.crosswalk import records
from ecehub.crosswalk.identity import Merged
from ecehub.crosswalk.store import MAX_SUGGESTION_PAGE
from ecehub.errors import ValidationFailed
from ecehub.hub import enums
from ecehub.ids import record_hub_id
from ecehub.schema.arguments import (
    acting_user,
    call_store,
    decode_id,
    global_id,
    user_error,
    write_right,
)
from ecehub.schema.common import Info, PageInfo
from ecehub.schema.graph import Program

__all__ = ["CrosswalkMutations", "CrosswalkQueries"]

PROGRAM = "program"


@strawberry.enum(description="A crosswalk link's decision: only CONFIRMED links merge data")
class LinkStatus(Enum):
    CONFIRMED = "CONFIRMED"
    SUGGESTED = "SUGGESTED"
    REJECTED = "REJECTED"


@strawberry.enum(
    description="What a crosswalk link says: the record IS the program (SAME), or the "
    "record (a licensed facility) is a SITE of the program: confirmed, it shows among the "
    "program's sites and merges nothing"
)
class LinkKind(Enum):
    SAME = "SAME"
    SITE = "SITE"


@strawberry.type(
    description="A link between a program (its hub ID) and one sector record, with the "
    "matcher's score and reasons and who decided on it (and why)."
)
class CrosswalkLink:
    link: strawberry.Private[records.CrosswalkLink]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id("CrosswalkLink", self.link.id)

    @strawberry.field(description="The program the record is (or would be) part of")
    def program_id(self) -> strawberry.ID:
        return global_id("Program", self.link.hub_id)

    @strawberry.field(description="SAME: the record is the program; SITE: a site of it")
    def kind(self) -> LinkKind:
        return LinkKind(self.link.kind.value)

    @strawberry.field
    def source(self) -> str:
        return self.link.source

    @strawberry.field(description="The record's key in its source")
    def source_key(self) -> str:
        return self.link.source_key

    @strawberry.field
    def status(self) -> LinkStatus:
        return LinkStatus(self.link.status.value)

    @strawberry.field(description="The matcher's score, 0..1 (null for a manual link)")
    def score(self) -> float | None:
        return self.link.score

    @strawberry.field(description="Why the matcher thinks they are the same, in words")
    def reasons(self) -> list[str]:
        return list(self.link.reasons)

    @strawberry.field(description="The matcher would confirm it without review")
    def auto(self) -> bool:
        return self.link.auto

    @strawberry.field
    def decided_by(self) -> str | None:
        return self.link.decided_by

    @strawberry.field
    def decided_at(self) -> dt.datetime | None:
        return self.link.decided_at

    @strawberry.field(description="Why the person decided so, as they wrote it")
    def decision_reason(self) -> str | None:
        return self.link.decision_reason

    @strawberry.field
    def version(self) -> int:
        return self.link.version

    @strawberry.field(description="The sector record on its own, as a program")
    async def record(self, info: Info) -> Program | None:
        found = await info.context.loaders.fetch(PROGRAM).load(
            (self.link.source, self.link.source_key)
        )
        if found is None:
            return None
        return Program(merged=Merged(PROGRAM, record_hub_id(found.source, found.key), [found]))

    @strawberry.field(description="The program as it is now (what the record would join)")
    async def program(self, info: Info) -> Program | None:
        found = await info.context.identity.resolve(PROGRAM, [self.link.hub_id])
        merged = found.get(self.link.hub_id)
        return None if merged is None else Program(merged=merged)


@strawberry.type(description="A page of suggested links, highest score first.")
class CrosswalkSuggestions:
    links: list[CrosswalkLink]
    page_info: PageInfo


@strawberry.type(description="A program's hub ID in the crosswalk, with its links.")
class CrosswalkObject:
    program_id: strawberry.ID
    merged_into: strawberry.ID | None = strawberry.field(
        description="When this program was merged into another: that one"
    )
    version: int = strawberry.field(description="0 when the crosswalk never wrote about it")
    links: list[CrosswalkLink]


@strawberry.type(description="What a merge or split wrote.")
class CrosswalkChange:
    objects: list[CrosswalkObject]
    moved: list[CrosswalkLink]


def _link_id(given: str) -> str:
    return decode_id(given, "CrosswalkLink")


def _hub_id(given: str, field: str = "programId") -> str:
    return decode_id(given, "Program", field)


async def _decision_on(info: Info, given: str) -> str:
    """The link a decision is on, once the acting user's role may decide on links at all
    (FORBIDDEN otherwise, audited under the link's program if there is such a link)."""
    link_id = _link_id(given)
    found = await info.context.runtime.crosswalk_store.get_link(link_id)
    await write_right(
        info, enums.ObjectType.CROSSWALK_LINK, None if found is None else found.hub_id
    )
    return link_id


async def _object(info: Info, hub_id: str) -> CrosswalkObject:
    store = info.context.runtime.crosswalk_store
    row = await store.get_hub_id(PROGRAM, hub_id)
    links = (await store.links_for_hub_ids(PROGRAM, [hub_id])).get(hub_id, [])
    return CrosswalkObject(
        program_id=global_id("Program", hub_id),
        merged_into=None
        if row is None or not row.merged_into
        else global_id("Program", row.merged_into),
        version=0 if row is None else row.version,
        links=[CrosswalkLink(link=link) for link in links],
    )


async def _change(info: Info, change: records.HubIdChange) -> CrosswalkChange:
    return CrosswalkChange(
        objects=[await _object(info, h.hub_id) for h in change.hub_ids],
        moved=[CrosswalkLink(link=link) for link in change.links],
    )


@strawberry.type
class CrosswalkQueries:
    @strawberry.field(
        description="The review queue: suggested program links (of `kind`, default every "
        "kind), highest score first, each with its kind, the record, the program it would "
        "join (or be a site of), the score and the reasons"
    )
    async def crosswalk_suggestions(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        kind: LinkKind | None = None,
    ) -> CrosswalkSuggestions:
        if not 0 < first <= MAX_SUGGESTION_PAGE:
            raise user_error(f"`first` must be between 1 and {MAX_SUGGESTION_PAGE}")
        try:
            page = await info.context.runtime.crosswalk_store.suggestions(
                PROGRAM,
                first=first,
                after=after,
                kind=None if kind is None else enums.LinkKind(kind.value),
            )
        except (ValueError, ValidationFailed):  # the store refuses a cursor not of this list
            raise user_error("the `after` cursor is malformed") from None
        return CrosswalkSuggestions(
            links=[CrosswalkLink(link=link) for link in page.links],
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=after is not None,
                start_cursor=None,
                end_cursor=page.end_cursor,
            ),
        )

    @strawberry.field(description="A program's hub ID in the crosswalk and all its links")
    async def crosswalk(self, info: Info, program_id: strawberry.ID) -> CrosswalkObject:
        return await _object(info, _hub_id(program_id))


@strawberry.type
class CrosswalkMutations:
    @strawberry.mutation(
        description="Confirm a suggested link: the record joins the program (a SITE link: "
        "the facility shows among the program's sites); `reason` is kept with the decision"
    )
    async def confirm_link(
        self, info: Info, id: strawberry.ID, version: int, reason: str | None = None
    ) -> CrosswalkLink:
        actor, link = await acting_user(info), await _decision_on(info, id)
        store = info.context.runtime.crosswalk_store
        return CrosswalkLink(
            link=await call_store(lambda: store.confirm_link(actor, link, version, reason))
        )

    @strawberry.mutation(
        description="Reject a suggested link (the matcher will not suggest it again); "
        "`reason` is kept with the decision"
    )
    async def reject_link(
        self, info: Info, id: strawberry.ID, version: int, reason: str | None = None
    ) -> CrosswalkLink:
        actor, link = await acting_user(info), await _decision_on(info, id)
        store = info.context.runtime.crosswalk_store
        return CrosswalkLink(
            link=await call_store(lambda: store.reject_link(actor, link, version, reason))
        )

    @strawberry.mutation(
        description="Link a sector record to a program by hand (confirmed; kind SITE: as a "
        "site of the program)"
    )
    async def link_record(
        self,
        info: Info,
        program_id: strawberry.ID,
        source: str,
        key: str,
        kind: LinkKind = LinkKind.SAME,
    ) -> CrosswalkLink:
        actor, hub_id = await acting_user(info), _hub_id(program_id)
        await write_right(info, enums.ObjectType.CROSSWALK_LINK, hub_id)
        if source not in info.context.runtime.config.sources:
            raise user_error(f"unknown source {source!r}")
        store = info.context.runtime.crosswalk_store
        return CrosswalkLink(
            link=await call_store(
                lambda: store.link(actor, PROGRAM, hub_id, source, key, enums.LinkKind(kind.value))
            )
        )

    @strawberry.mutation(description="Unlink a record: it is its own program again")
    async def unlink_record(self, info: Info, id: strawberry.ID, version: int) -> CrosswalkLink:
        actor, link = await acting_user(info), await _decision_on(info, id)
        store = info.context.runtime.crosswalk_store
        return CrosswalkLink(link=await call_store(lambda: store.unlink(actor, link, version)))

    @strawberry.mutation(
        description="Merge a program into another: its records join `into`; its ID still "
        "resolves there. `version`s from `crosswalk(programId)` (0 if never written)"
    )
    async def merge_programs(
        self,
        info: Info,
        program_id: strawberry.ID,
        into: strawberry.ID,
        version: int,
        into_version: int,
    ) -> CrosswalkChange:
        actor = await acting_user(info)
        gone, kept = _hub_id(program_id), _hub_id(into, "into")
        await write_right(info, enums.ObjectType.HUB_ID, gone)
        store = info.context.runtime.crosswalk_store
        change = await call_store(
            lambda: store.merge(
                actor, PROGRAM, gone, kept, version=version, into_version=into_version
            )
        )
        return await _change(info, change)

    @strawberry.mutation(
        description="Split links off a program into another (default: the record's own "
        "program); splitting a merged program back undoes the merge"
    )
    async def split_program(
        self,
        info: Info,
        program_id: strawberry.ID,
        link_ids: list[strawberry.ID],
        version: int,
        new_program_id: strawberry.ID | None = None,
    ) -> CrosswalkChange:
        actor, hub_id = await acting_user(info), _hub_id(program_id)
        await write_right(info, enums.ObjectType.HUB_ID, hub_id)  # before the input is checked
        links = [_link_id(i) for i in link_ids]
        new = None if new_program_id is None else _hub_id(new_program_id, "newProgramId")
        store = info.context.runtime.crosswalk_store
        change = await call_store(
            lambda: store.split(actor, PROGRAM, hub_id, links, version=version, new_hub_id=new)
        )
        return await _change(info, change)
