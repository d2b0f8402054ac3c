"""Which programs of a demo world the hub seed gives hub data, as the hub knows them.

First the Head Start centers that QRIS rates 4 or more, in the order the hub lists them (Head
Start key order, merged with QRIS by license number) -- the programs the sample query of
``ecehub demo`` returns first -- then a few licensing-only programs and a few QRIS programs
(one license-exempt where the world has one).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass

from ecehub.demo.records import Classroom, Facility, QrisProvider, StaffMember
from ecehub.demo.world import World

__all__ = [
    "DEFAULT_HUB_PROGRAMS",
    "HEAD_START_KIND",
    "LICENSING_KIND",
    "QRIS_KIND",
    "HubProgram",
    "choose_programs",
]

DEFAULT_HUB_PROGRAMS = 12
"""How many programs ``ecehub demo`` gives hub data."""

HEAD_START_KIND, LICENSING_KIND, QRIS_KIND = "HEAD_START", "LICENSING", "QRIS"
"""The kinds of program (:attr:`HubProgram.kind`), each also the support type it is seeded under."""


@dataclass(frozen=True)
class HubProgram:
    """A program to seed, as the hub knows it: its hub ID, the staff and room hub IDs its
    sector records give it, and the sector facts the plan refers to."""

    hub_id: str
    name: str
    kind: str
    """``HEAD_START`` (a Head Start center QRIS rates 4+), ``LICENSING`` (licensing only) or
    ``QRIS`` (a QRIS provider, licensed or license-exempt)."""
    staff: tuple[tuple[str, str], ...] = ()
    """(hub ID, role) of the program's staff, the ones with a registry ID first."""
    rooms: tuple[tuple[str, str, str], ...] = ()
    """(hub ID, name, age group) of the program's rooms."""
    qris_level: int | None = None
    findings: tuple[tuple[str, str, dt.date | None], ...] = ()
    """Open licensing findings: (rule citation, rule text, corrective-action due date)."""
    class_instructional_support: float | None = None
    """The latest CLASS Instructional Support score (Head Start)."""


def _norm(value: str | None) -> str | None:
    return value.strip().upper() if value and value.strip() else None


def _program_id(license_no: str | None, source: str, key: str) -> str:
    """The hub ID the hub gives a program (see ecehub.crosswalk.identity)."""
    normal = _norm(license_no)
    return f"LICENSE_NUMBER:{normal}" if normal else f"@{source}:{key}"


def _hs_staff(members: Iterable[StaffMember]) -> tuple[tuple[str, str], ...]:
    def hub_id(s: StaffMember) -> str:
        registry = _norm(s.registry_id)
        return f"REGISTRY_ID:{registry}" if registry else f"@head_start:{s.staff_id}"

    teachers_first = sorted(
        members,
        key=lambda s: (s.registry_id is None, "Teacher" not in s.position_title, s.staff_id),
    )
    return tuple((hub_id(s), s.position_title) for s in teachers_first)


def _rooms(classrooms: Iterable[Classroom]) -> tuple[tuple[str, str, str], ...]:
    return tuple(
        (f"@head_start:{c.classroom_id}", c.classroom_name, c.age_group)
        for c in sorted(classrooms, key=lambda c: c.classroom_id)
    )


def _head_start_programs(world: World) -> list[HubProgram]:
    """Head Start centers QRIS rates 4+, in the hub's listing order (center_id ascending)."""
    qris_by_license: dict[str, list[QrisProvider]] = {}
    for provider in world.qris.providers:
        license_no = _norm(provider.license_number)
        if license_no:
            qris_by_license.setdefault(license_no, []).append(provider)
    hs = world.head_start
    out: list[HubProgram] = []
    for center in sorted(hs.centers, key=lambda c: c.center_id):
        license_no = _norm(center.state_license_no)
        levels = [p.rating_level or 0 for p in qris_by_license.get(license_no or "", [])]
        if license_no is None or max(levels, default=0) < 4:
            continue
        observations = [o for o in hs.observations if o.center_id == center.center_id]
        support = None
        if observations:
            latest = max(observations, key=lambda o: (o.observed_on, o.obs_id))
            support = next(
                (
                    d.score
                    for d in hs.domain_scores
                    if d.obs_id == latest.obs_id and d.domain == "Instructional Support"
                ),
                None,
            )
        out.append(
            HubProgram(
                hub_id=f"LICENSE_NUMBER:{license_no}",
                name=center.center_name,
                kind=HEAD_START_KIND,
                staff=_hs_staff(s for s in hs.staff if s.center_id == center.center_id),
                rooms=_rooms(c for c in hs.classrooms if c.center_id == center.center_id),
                qris_level=max(levels),
                class_instructional_support=support,
            )
        )
    return out


def _findings(world: World, facility: Facility) -> tuple[tuple[str, str, dt.date | None], ...]:
    inspections = {
        i.inspection_id for i in world.licensing.inspections if i.license_no == facility.license_no
    }
    open_ = [
        v
        for v in world.licensing.violations
        if v.inspection_id in inspections and v.finding == "NON_COMPLIANT"
    ]
    open_.sort(key=lambda v: (-(v.corrective_due or dt.date.min).toordinal(), v.violation_id))
    return tuple((v.rule_citation, v.rule_text, v.corrective_due) for v in open_[:3])


def _licensing_programs(world: World) -> list[HubProgram]:
    """Programs only Licensing knows (no Head Start center, no QRIS record by license)."""
    others = {_norm(p.license_number) for p in world.qris.providers}
    others |= {_norm(c.state_license_no) for c in world.head_start.centers}
    out = []
    for facility in sorted(world.licensing.facilities, key=lambda f: f.license_no):
        license_no = _norm(facility.license_no)
        if license_no is None or license_no in others:
            continue
        out.append(
            HubProgram(
                hub_id=f"LICENSE_NUMBER:{license_no}",
                name=facility.facility_name,
                kind=LICENSING_KIND,
                findings=_findings(world, facility),
            )
        )
    return out


def _qris_programs(world: World) -> tuple[list[HubProgram], list[HubProgram]]:
    """QRIS providers that are not Head Start centers: (licensed ones whose license number
    Licensing knows, license-exempt ones)."""
    head_start = {_norm(c.state_license_no) for c in world.head_start.centers}
    facilities = {_norm(f.license_no): f for f in world.licensing.facilities}
    kinds = {t.qris_provider_id: t.kind for t in world.truth if t.qris_provider_id}
    licensed: list[HubProgram] = []
    exempt: list[HubProgram] = []
    for provider in sorted(world.qris.providers, key=lambda p: p.provider_id):
        license_no = _norm(provider.license_number)
        if provider.rating_level is None or (license_no and license_no in head_start):
            continue
        facility = facilities.get(license_no) if license_no else None
        if facility is None and kinds.get(provider.provider_id) != "EXEMPT":
            continue  # a missing or mistyped license number: not the clearest first example
        workforce = sorted(
            (m for m in world.qris.workforce if m.provider_id == provider.provider_id),
            key=lambda m: ("Teacher" not in m.role, m.registry_id),
        )
        program = HubProgram(
            hub_id=_program_id(license_no if facility else None, "qris", provider.provider_id),
            name=provider.display_name,
            kind=QRIS_KIND,
            staff=tuple((f"REGISTRY_ID:{_norm(m.registry_id)}", m.role) for m in workforce),
            qris_level=provider.rating_level,
            findings=_findings(world, facility) if facility else (),
        )
        (licensed if facility else exempt).append(program)
    return licensed, exempt


def choose_programs(world: World, count: int = DEFAULT_HUB_PROGRAMS) -> list[HubProgram]:
    """The programs to seed, in order: about half of ``count`` from the front of the Head
    Start + QRIS 4+ list (what the sample query lists first), then licensing-only and QRIS
    programs chosen with the world's seed; a short pool leaves its share to the others."""
    if count < 1:
        return []
    rng = random.Random(world.seed)
    head_start = _head_start_programs(world)
    licensing = _licensing_programs(world)
    qris_licensed, qris_exempt = _qris_programs(world)
    pools = [
        rng.sample(licensing, len(licensing)),
        rng.sample(qris_exempt, min(1, len(qris_exempt))),
        rng.sample(qris_licensed, len(qris_licensed)),
    ]
    wanted_hs = (count + 1) // 2
    wanted_other = count - min(wanted_hs, len(head_start))
    shares = [wanted_other // 2, 1, wanted_other - wanted_other // 2 - 1]
    chosen: list[HubProgram] = list(head_start[:wanted_hs])
    for pool, share in zip(pools, shares, strict=True):
        chosen += pool[: max(share, 0)]
    seen = {p.hub_id for p in chosen}
    rest = [p for p in [*head_start, *(p for pool in pools for p in pool)] if p.hub_id not in seen]
    for program in rest:  # a short pool: fill up from what is left
        if len(chosen) >= count:
            break
        if program.hub_id not in seen:
            chosen.append(program)
            seen.add(program.hub_id)
    return chosen[:count]
