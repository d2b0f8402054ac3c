"""Propose crosswalk links for one entity and store them for review: every record of each
source is matched with the records of one reference source (``left``), and each pair the
matcher finds that is not already one object becomes a suggested link to the left record's
hub ID. ``ecehub crosswalk suggest`` and ``ecehub demo`` run it.

Programs are matched by :func:`ecehub.crosswalk.match` (shared identifiers, then name,
address, phone, email). Staff are matched by :func:`ecehub.crosswalk.match_staff` (shared
identifiers, then name, birth year, education and credentials) among the people of one
program: a person's program is the hub ID the current identity gives the program record
their record hangs under (followed up its ``parent`` links), so people are compared only
within one merged program, and confirming program links lets the next run compare more.

Sites (:func:`suggest_sites`): the program records of facility-level sources (licensing:
one record per licensed facility) are matched with the site records of a program-level
source (``left``: Head Start, whose program is a grantee and whose ``site`` records are its
centers) by :func:`ecehub.crosswalk.match_sites`, and each facility found is proposed as a
``SITE`` of the program its matching site hangs under. Which source is program-level is the
caller's to say: a config cannot tell a grantee from a facility (in the demo every Head
Start program is one center).

Storing is idempotent and resumable
(:meth:`~ecehub.crosswalk.store.CrosswalkStore.add_proposals`): running it again updates
changed scores and leaves decided pairs alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from ecehub.config.model import Config, MergeRule
from ecehub.connectors.base import Connector, Record
from ecehub.crosswalk import (
    MatcherConfig,
    MatchRecord,
    MatchResult,
    StaffRecord,
    match,
    match_staff,
)
from ecehub.crosswalk.identity import Identity
from ecehub.crosswalk.link_identity import CrosswalkCache, identity_for
from ecehub.crosswalk.proposals import match_record, proposals, staff_record
from ecehub.crosswalk.records import LinkProposal, ProposalSummary
from ecehub.crosswalk.sites import match_sites
from ecehub.crosswalk.store import CrosswalkStore
from ecehub.errors import EcehubError
from ecehub.hub.enums import LinkKind
from ecehub.sources.gateway import SourceGateway
from ecehub.sources.loaders import Loaders
from ecehub.sources.resilience import SourceGuard

__all__ = [
    "SUGGEST_ENTITIES",
    "SourceSuggestions",
    "SuggestRuntime",
    "matcher_config",
    "read_all",
    "site_sources",
    "suggest_links",
    "suggest_sites",
]

SUGGEST_ENTITIES = ("program", "staff")
"""The entities a matcher exists for."""


class SuggestRuntime(Protocol):
    """What a suggest run reads and writes through (the app's runtime has all of it)."""

    @property
    def config(self) -> Config: ...

    @property
    def connectors(self) -> dict[str, Connector]: ...

    @property
    def guards(self) -> dict[str, SourceGuard]: ...

    @property
    def crosswalk(self) -> CrosswalkCache: ...

    @property
    def crosswalk_store(self) -> CrosswalkStore: ...


_PAGE = 500
_PROPOSALS_PER_CALL = 500


def _quiet(message: str) -> None:
    pass


@dataclass(frozen=True, slots=True)
class SourceSuggestions:
    """What matching one source (``right``) with the left source found and stored."""

    entity: str
    left: str
    right: str
    matches: int
    """Pairs the matcher found, deterministic and scored."""
    proposals: int
    """Of those, the pairs not already one object: what went to the hub store."""
    auto: int
    """Of the proposals, those the matcher would confirm without review."""
    stored: ProposalSummary
    kind: LinkKind = LinkKind.SAME
    """``SITE``: the right source's records proposed as sites of the left source's programs."""

    @property
    def to_review(self) -> int:
        """This run's suggestions that wait for a decision (new, updated or unchanged)."""
        return self.stored.added + self.stored.updated + self.stored.unchanged

    def __str__(self) -> str:
        s = self.stored
        left = f"sites of {self.left}" if self.kind == LinkKind.SITE else self.left
        return (
            f"{self.right} -> {left}: {self.matches} matches, {self.proposals} to decide: "
            f"{s.added} added, {s.updated} updated, {s.unchanged} unchanged, "
            f"{s.decided} already decided, {s.linked_elsewhere} linked elsewhere"
        )


def _ignore(found: SourceSuggestions) -> None:
    pass


def matcher_config(
    config: Config, entity: str, *, auto_link: float | None = None, suggest: float | None = None
) -> MatcherConfig:
    """The matcher settings for ``entity``: its ``match_on`` systems, and the thresholds
    given or else ``merge.<entity>.auto_link`` / ``suggest``. ``ValueError`` when
    ``0 <= suggest <= auto_link <= 1`` does not hold."""
    rule = config.merge.get(entity) or MergeRule()
    return MatcherConfig(
        identifier_systems=tuple(config.match_on(entity)),
        auto_link=rule.auto_link if auto_link is None else auto_link,
        suggest=rule.suggest if suggest is None else suggest,
    )


def _check(gateway: SourceGateway, source: str) -> None:
    failure = gateway.failures.get(source)
    if failure is not None:
        raise EcehubError(f"reading {source} failed: {failure.message}")


async def read_all(
    gateway: SourceGateway, source: str, entity: str, progress: Callable[[str], None] = _quiet
) -> list[Record]:
    """Every record of the entity in the source, a page at a time, with a progress line per
    page; :class:`~ecehub.errors.EcehubError` when the source fails."""
    records: list[Record] = []
    after: str | None = None
    while True:
        page = await gateway.find(source, entity, first=_PAGE, after=after)
        _check(gateway, source)
        records.extend(page.records)
        progress(f"reading {source}: {len(records)} {entity} records")
        if not page.has_next or not page.records:
            return records
        after = page.records[-1].cursor


async def _program_ids(
    config: Config,
    gateway: SourceGateway,
    loaders: Loaders,
    identity: Identity,
    records: Sequence[Record],
) -> dict[str, str]:
    """Record key -> the hub ID of the program the record hangs under (through its source's
    ``parent`` links, e.g. staff -> site -> program); records without one are left out."""
    if not records:
        return {}
    source, entity = records[0].source, records[0].entity
    entities = config.sources[source].entities
    current: dict[str, str] = {r.key: r.parent_key for r in records if r.parent_key is not None}
    seen = {entity}
    while current:
        ent = entities.get(entity)
        parent = None if ent is None else ent.parent_entity
        if parent is None or parent not in entities or parent in seen:
            return {}
        seen.add(parent)
        keys = list(dict.fromkeys(current.values()))
        found = await loaders.fetch(parent).load_many([(source, k) for k in keys])
        _check(gateway, source)
        by_key = {k: r for k, r in zip(keys, found, strict=True) if r is not None}
        if parent == "program":
            return {key: identity.hub_id(by_key[pk]) for key, pk in current.items() if pk in by_key}
        current = {
            key: up
            for key, pk in current.items()
            if pk in by_key and (up := by_key[pk].parent_key) is not None
        }
        entity = parent
    return {}


T = TypeVar("T", MatchRecord, StaffRecord)


@dataclass(frozen=True, slots=True)
class _Run:
    """What every source of one suggest run shares."""

    runtime: SuggestRuntime
    entity: str
    actor: str
    gateway: SourceGateway
    loaders: Loaders
    identity: Identity
    progress: Callable[[str], None]
    done: Callable[[SourceSuggestions], None]
    kind: LinkKind = LinkKind.SAME

    async def programs(self, source: str) -> tuple[dict[str, str], list[MatchRecord]]:
        records = await read_all(self.gateway, source, self.entity, self.progress)
        return self._hub_ids(records), [match_record(r) for r in records]

    async def staff(self, source: str) -> tuple[dict[str, str], list[StaffRecord]]:
        records = await read_all(self.gateway, source, self.entity, self.progress)
        config = self.runtime.config
        programs = await _program_ids(config, self.gateway, self.loaders, self.identity, records)
        self.progress(f"{source}: {len(programs)} of {len(records)} staff records in a program")
        return self._hub_ids(records), [staff_record(r, programs.get(r.key)) for r in records]

    def _hub_ids(self, records: Sequence[Record]) -> dict[str, str]:
        return {r.key: self.identity.hub_id(r) for r in records}

    async def against(
        self,
        left: str,
        others: Sequence[str],
        read: Callable[[str], Awaitable[tuple[dict[str, str], list[T]]]],
        matcher: Callable[[Sequence[T], Sequence[T], MatcherConfig], list[MatchResult]],
        settings: MatcherConfig,
    ) -> list[SourceSuggestions]:
        left_hub_ids, left_input = await read(left)
        out: list[SourceSuggestions] = []
        for right in others:
            right_hub_ids, right_input = await read(right)
            self.progress(f"matching {right} ({len(right_input)}) with {left} ({len(left_input)})")
            results = matcher(left_input, right_input, settings)
            found = list(proposals(results, right, left_hub_ids, right_hub_ids))
            out.append(await self.store(left, right, len(results), found))
        return out

    async def store(
        self, left: str, right: str, matches: int, found: Sequence[LinkProposal]
    ) -> SourceSuggestions:
        """Store one right source's proposals, a chunk per call, and report them."""
        stored = ProposalSummary()
        for start in range(0, len(found), _PROPOSALS_PER_CALL):
            chunk = found[start : start + _PROPOSALS_PER_CALL]
            stored += await self.runtime.crosswalk_store.add_proposals(
                self.actor, self.entity, chunk
            )
            self.progress(f"storing {right} proposals: {start + len(chunk)}/{len(found)}")
        summary = SourceSuggestions(
            entity=self.entity,
            left=left,
            right=right,
            matches=matches,
            proposals=len(found),
            auto=sum(p.auto for p in found),
            stored=stored,
            kind=found[0].kind if found else self.kind,
        )
        self.done(summary)
        return summary

    async def sites(
        self, left: str, others: Sequence[str], settings: MatcherConfig
    ) -> list[SourceSuggestions]:
        """Each other source's program records (facilities) matched with ``left``'s site
        records, proposed as sites of the program the matching site hangs under."""
        config = self.runtime.config
        site_records = await read_all(self.gateway, left, "site", self.progress)
        program_of = await _program_ids(
            config, self.gateway, self.loaders, self.identity, site_records
        )
        self.progress(
            f"{left}: {len(program_of)} of {len(site_records)} site records under a program"
        )
        sites = [match_record(r) for r in site_records]
        out: list[SourceSuggestions] = []
        for right in others:
            records = await read_all(self.gateway, right, "program", self.progress)
            hub_ids = self._hub_ids(records)
            self.progress(
                f"matching {right} ({len(records)}) with the sites of {left} ({len(sites)})"
            )
            found = match_sites(sites, program_of, [match_record(r) for r in records], settings)
            # A facility that already is the program (e.g. the same license number) is not
            # its own site: nothing to decide.
            proposed = [
                LinkProposal(
                    m.program_key,
                    right,
                    m.facility_key,
                    m.score,
                    m.reasons,
                    auto=m.status == "auto",
                    kind=LinkKind.SITE,
                )
                for m in found
                if hub_ids.get(m.facility_key) != m.program_key
            ]
            out.append(await self.store(left, right, len(found), proposed))
        return out


async def suggest_links(
    runtime: SuggestRuntime,
    entity: str,
    *,
    left: str | None = None,
    right: Sequence[str] = (),
    actor: str,
    auto_link: float | None = None,
    suggest: float | None = None,
    progress: Callable[[str], None] = _quiet,
    done: Callable[[SourceSuggestions], None] = _ignore,
) -> list[SourceSuggestions]:
    """Match every other source's ``entity`` records (or those of ``right``) with the ``left``
    source's (default: the first source that has them) and store the proposals as
    suggestions by ``actor``; one :class:`SourceSuggestions` per other source, in config
    order, each also handed to ``done`` as soon as that source is stored. ``progress`` gets a
    line per step. Thresholds as :func:`matcher_config`. Reads every source as a trusted
    caller (no access rules)."""
    config = runtime.config
    if entity not in SUGGEST_ENTITIES:
        hint = (
            " (a licensed facility as a site of a program is a program link of kind SITE:"
            " --kind site)"
            if entity == "site"
            else ""
        )
        raise EcehubError(
            f"no matcher for {entity} records; suggest is for {', '.join(SUGGEST_ENTITIES)}{hint}"
        )
    holders = [name for name, src in config.sources.items() if entity in src.entities]
    left = left or (holders[0] if holders else None)
    if left not in holders or len(holders) < 2:
        raise EcehubError(
            f"--left must name one of the sources of {entity} records: {', '.join(holders)}"
            if holders
            else f"no source has {entity} records"
        )
    others = _others(holders, left, right, f"{entity} records")
    settings = _settings(config, entity, auto_link, suggest)
    run = await _start(runtime, entity, actor, progress, done)
    if entity == "staff":
        return await run.against(left, others, run.staff, match_staff, settings)
    return await run.against(left, others, run.programs, match, settings)


def site_sources(config: Config) -> list[str]:
    """The sources whose ``site`` records hang under their programs: the ones
    :func:`suggest_sites` can match facilities with."""
    return [
        name
        for name, src in config.sources.items()
        if (site := src.entities.get("site")) is not None
        and site.parent_entity == "program"
        and "program" in src.entities
    ]


async def suggest_sites(
    runtime: SuggestRuntime,
    *,
    left: str | None,
    right: Sequence[str] = (),
    actor: str,
    auto_link: float | None = None,
    suggest: float | None = None,
    progress: Callable[[str], None] = _quiet,
    done: Callable[[SourceSuggestions], None] = _ignore,
) -> list[SourceSuggestions]:
    """Propose facilities as sites of programs: the program records of ``right`` (default:
    every other source of programs) are matched with the ``site`` records of ``left`` (the
    program-level source, which must be named) and stored as ``SITE`` suggestions on the
    hub ID of the program each matching site hangs under, by ``actor``. Thresholds as
    :func:`matcher_config` for ``program``; one :class:`SourceSuggestions` per right
    source, as :func:`suggest_links`."""
    config = runtime.config
    listing = site_sources(config)
    if left is None or left not in listing:
        raise EcehubError(
            "--left must name the program-level source, whose site records (under its "
            "programs) facilities are matched with: "
            + (", ".join(listing) if listing else "no source has site records under programs")
        )
    holders = [name for name, src in config.sources.items() if "program" in src.entities]
    others = _others(holders, left, right, "program records (facilities)")
    if not others:
        raise EcehubError(f"no other source has program records to propose as sites of {left}")
    settings = _settings(config, "program", auto_link, suggest)
    run = await _start(runtime, "program", actor, progress, done, LinkKind.SITE)
    return await run.sites(left, others, settings)


def _others(holders: Sequence[str], left: str, right: Sequence[str], what: str) -> list[str]:
    """The sources matched with ``left``: those of ``right`` (each once), else every other
    holder, in config order."""
    others = [h for h in holders if h != left]
    if not right:
        return others
    wrong = [r for r in right if r not in others]
    if wrong:
        raise EcehubError(
            f"--right {', '.join(wrong)}: name sources of {what} other than {left}: "
            + ", ".join(others)
        )
    return list(dict.fromkeys(right))


def _settings(
    config: Config, entity: str, auto_link: float | None, suggest: float | None
) -> MatcherConfig:
    try:
        return matcher_config(config, entity, auto_link=auto_link, suggest=suggest)
    except ValueError as exc:
        raise EcehubError(f"auto_link / suggest: {exc}") from None


async def _start(
    runtime: SuggestRuntime,
    entity: str,
    actor: str,
    progress: Callable[[str], None],
    done: Callable[[SourceSuggestions], None],
    kind: LinkKind = LinkKind.SAME,
) -> _Run:
    config = runtime.config
    gateway = SourceGateway(runtime.connectors, guards=runtime.guards)
    loaders = Loaders(gateway)
    identity = identity_for(config, loaders, runtime.crosswalk)
    # The first async call loads the crosswalk index (when it is on); hub_id reads it after.
    for name in dict.fromkeys((entity, "program")):
        await identity.resolve(name, [])
    return _Run(runtime, entity, actor, gateway, loaders, identity, progress, done, kind)
