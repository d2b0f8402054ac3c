"""Seed the demo's hub store: shared QIPs, PD plans, notes, activity and hub funding for a few
programs, so the first query a newcomer runs shows sector data and hub data side by side.

``seed_hub(url, world)`` writes only through :class:`~ecehub.hub.store.HubStore` (every write
validated and audited with its actor: QRIS coaches, Head Start monitors, licensing consultants,
program directors). It is deterministic: which programs, and what each one gets, depends only
on the world (its seed and records). Dates (targets, due dates, visits, funding periods) are
relative to the world's reference date ``World.as_of``; the audit stamps are the real time of
the writes. Programs that already have a QIP are left alone, so seeding a seeded store (the
demo restarted on the same data directory) writes nothing.

Which programs: first the Head Start centers that QRIS rates 4 or more, in the order the hub
lists them (Head Start key order, merged with QRIS by license number) -- the programs the
sample query of ``ecehub demo`` returns first -- then a few licensing-only programs and a few
QRIS programs (one license-exempt where the world has one).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ecehub.demo.records import Classroom, Facility, QrisProvider, StaffMember
from ecehub.demo.world import World
from ecehub.hub.enums import (
    ActivityKind,
    FundingPurpose,
    GoalStatus,
    NoteVisibility,
    SubjectType,
    TaskStatus,
    TrainingStatus,
)
from ecehub.hub.records import QipTask
from ecehub.hub.store import HubStore

__all__ = [
    "COACH",
    "CONSULTANT",
    "DEFAULT_HUB_PROGRAMS",
    "MONITOR",
    "HubProgram",
    "SeedSummary",
    "choose_programs",
    "director_of",
    "seed_hub",
]

DEFAULT_HUB_PROGRAMS = 12
"""How many programs ``ecehub demo`` gives hub data."""

COACH = "coach.rivera@qris.example"
MONITOR = "monitor@headstart.example"
CONSULTANT = "consultant@licensing.example"
SUPPORT_TYPES = ("LICENSING", "HEAD_START", "QRIS")
"""The demo config's support types (config/demo.yaml)."""

_HS, _LICENSING, _QRIS = "HEAD_START", "LICENSING", "QRIS"


# -- which programs ------------------------------------------------------------------------------


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
                kind=_HS,
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
                kind=_LICENSING,
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
            kind=_QRIS,
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


# -- what each program gets ----------------------------------------------------------------------


@dataclass
class SeedSummary:
    """What one :func:`seed_hub` call wrote (all zero when the store was already seeded)."""

    programs: list[str] = field(default_factory=list)
    """Hub IDs of the programs seeded by this call, in order."""
    skipped: list[str] = field(default_factory=list)
    """Chosen programs left alone because they already had a QIP."""
    qips: int = 0
    goals: int = 0
    tasks: int = 0
    updates: int = 0
    """Updates of goals and tasks (status moves, time spent): versions above 1."""
    pd_plans: int = 0
    trainings: int = 0
    notes: int = 0
    activity: int = 0
    funding: int = 0


@dataclass(frozen=True)
class _Task:
    title: str
    support_type: str
    owner: str
    status: TaskStatus
    due_in_days: int
    minutes: int = 0
    description: str = ""
    funding: tuple[FundingPurpose, str, str] | None = None
    """(purpose, amount, description) of a hub funding entry for this task."""


@dataclass(frozen=True)
class _Goal:
    title: str
    description: str
    support_types: tuple[str, ...]
    target_in_days: int
    status: GoalStatus
    tasks: tuple[_Task, ...]
    credential: str | None = None
    """A PD plan for one staff member goes with this goal, aiming at this credential."""


def _slug(name: str) -> str:
    words = re.findall(r"[a-z0-9]+", name.lower())
    return "-".join(words)[:40].strip("-") or "program"


def director_of(program: HubProgram) -> str:
    return f"director@{_slug(program.name)}.example"


def _money(rng: random.Random, low: int, high: int) -> str:
    """An exact amount in dollars and cents from ``low`` to ``high`` dollars, as a string."""
    return str(Decimal(rng.randrange(low * 100, high * 100)).scaleb(-2))


def _infant_toddler(program: HubProgram) -> bool:
    return any(age in ("Infant", "Toddler") for _, _, age in program.rooms)


def _interactions_goal(program: HubProgram, rng: random.Random, director: str) -> _Goal:
    scale = "ITERS-3" if _infant_toddler(program) else "ECERS-3"
    room = next((name for _, name, _ in program.rooms), "each room")
    return _Goal(
        title=f"Raise {scale} interactions subscale to 5",
        description=(
            f"The last {scale} observation scored Interaction below the level-"
            f"{min((program.qris_level or 4) + 1, 5)} threshold; coaching and materials "
            "target responsive, language-rich interactions in every room."
        ),
        support_types=(_QRIS, _HS),
        target_in_days=rng.choice((180, 240, 270)),
        status=GoalStatus.IN_PROGRESS,
        tasks=(
            _Task(
                "Coach lead teachers on serve-and-return interactions",
                _QRIS,
                COACH,
                TaskStatus.IN_PROGRESS,
                rng.randint(30, 60),
                rng.choice((180, 240, 300)),
                "Practice-based coaching cycles: focused observation, reflection, feedback.",
            ),
            _Task(
                f"Order open-ended materials for {room}",
                _QRIS,
                director,
                TaskStatus.DONE,
                -rng.randint(20, 45),
                rng.choice((45, 60, 90)),
                "Blocks, loose parts and board books chosen with the coach.",
                (FundingPurpose.QIP_TASK, _money(rng, 900, 2500), f"Materials for {room}"),
            ),
            _Task(
                "Video-reflect on one routine per room each month",
                _HS,
                MONITOR,
                TaskStatus.NOT_STARTED,
                rng.randint(75, 120),
            ),
            _Task(
                f"Schedule a {scale} mock observation",
                _QRIS,
                COACH,
                TaskStatus.NOT_STARTED,
                rng.randint(140, 170),
            ),
        )[: rng.choice((3, 4))],
    )


def _cda_goal(rng: random.Random, director: str, support: str) -> _Goal:
    return _Goal(
        title="All lead teachers hold a CDA",
        description=(
            "Every lead teacher earns the Child Development Associate credential "
            "(CEDS: ChildDevelopmentAssociate) or higher; scholarships cover tuition."
        ),
        support_types=(support, _QRIS) if support != _QRIS else (_QRIS,),
        target_in_days=rng.choice((300, 365)),
        status=GoalStatus.IN_PROGRESS,
        tasks=(
            _Task(
                "Apply for T.E.A.C.H. scholarships for two lead teachers",
                _QRIS,
                COACH,
                TaskStatus.DONE,
                -rng.randint(50, 80),
                rng.choice((45, 60)),
                funding=(
                    FundingPurpose.SCHOLARSHIP,
                    _money(rng, 1200, 3000),
                    "T.E.A.C.H. scholarship: CDA coursework",
                ),
            ),
            _Task(
                "Enroll lead teachers in CDA coursework (120 clock hours)",
                support,
                director,
                TaskStatus.IN_PROGRESS,
                rng.randint(20, 50),
                rng.choice((60, 90, 120)),
            ),
            _Task(
                "Book CDA verification visits with the Council",
                support,
                director,
                TaskStatus.NOT_STARTED,
                rng.randint(200, 280),
            ),
        ),
        credential="CDA",
    )


def _class_goal(program: HubProgram, rng: random.Random, director: str) -> _Goal:
    score = program.class_instructional_support
    seen = f" (latest observation: {score:.2f})" if score is not None else ""
    return _Goal(
        title="Lift CLASS Instructional Support to 3.5",
        description=f"CLASS Pre-K Instructional Support{seen}: concept development, quality "
        "of feedback and language modelling.",
        support_types=(_HS,),
        target_in_days=rng.choice((240, 300)),
        status=GoalStatus.NOT_STARTED,
        tasks=(
            _Task(
                "Practice-based coaching on concept development",
                _HS,
                MONITOR,
                TaskStatus.IN_PROGRESS,
                rng.randint(40, 90),
                rng.choice((90, 120)),
            ),
            _Task(
                "Plan weekly 'why and how' questions into lesson plans",
                _HS,
                director,
                TaskStatus.NOT_STARTED,
                rng.randint(60, 100),
            ),
        ),
    )


def _findings_goal(program: HubProgram, rng: random.Random, director: str) -> _Goal:
    tasks: list[_Task] = []
    for n, (citation, rule, due) in enumerate(program.findings):
        tasks.append(
            _Task(
                f"Correct {citation}: {rule}"[:200],
                _LICENSING,
                director,
                TaskStatus.DONE if n == 0 else TaskStatus.IN_PROGRESS,
                -rng.randint(10, 40) if n == 0 else rng.randint(10, 40),
                rng.choice((30, 60, 90)),
                f"Corrective action due {due.isoformat()}." if due else "",
            )
        )
    if len(tasks) < 2:
        tasks += [
            _Task(
                "Post ratio and supervision charts in every room",
                _LICENSING,
                director,
                TaskStatus.DONE,
                -rng.randint(10, 30),
                45,
            ),
            _Task(
                "Train staff on the sign-in/sign-out and headcount procedure",
                _LICENSING,
                CONSULTANT,
                TaskStatus.IN_PROGRESS,
                rng.randint(10, 40),
                60,
            ),
        ]
    tasks.append(
        _Task(
            "Request a follow-up visit to close the findings",
            _LICENSING,
            CONSULTANT,
            TaskStatus.NOT_STARTED,
            rng.randint(45, 75),
        )
    )
    return _Goal(
        title="Close the findings of the last licensing inspection"
        if program.findings
        else "Close licensing findings on supervision",
        description="Correct every non-compliant rule of the last inspection and keep the "
        "corrective-action plan current.",
        support_types=(_LICENSING,),
        target_in_days=rng.choice((60, 90)),
        status=GoalStatus.IN_PROGRESS,
        tasks=tuple(tasks[:4]),
    )


def _join_qris_goal(rng: random.Random, director: str) -> _Goal:
    return _Goal(
        title="Join QRIS at level 2",
        description="Enter the state QRIS: orientation, self-assessment and registry profiles "
        "for all staff.",
        support_types=(_QRIS, _LICENSING),
        target_in_days=rng.choice((180, 210)),
        status=GoalStatus.NOT_STARTED,
        tasks=(
            _Task("Attend a QRIS orientation session", _QRIS, director, TaskStatus.DONE, -15, 120),
            _Task(
                "Register every staff member in the workforce registry",
                _QRIS,
                director,
                TaskStatus.NOT_STARTED,
                rng.randint(30, 60),
            ),
            _Task(
                "Complete the QRIS standards self-assessment",
                _QRIS,
                COACH,
                TaskStatus.NOT_STARTED,
                rng.randint(90, 120),
            ),
        ),
    )


def _next_level_goal(program: HubProgram, rng: random.Random, director: str) -> _Goal:
    level = program.qris_level or 1
    target = min(level + 1, 5)
    return _Goal(
        title=f"Reach QRIS level {target}" if level < 5 else "Keep QRIS level 5 at renewal",
        description="Family engagement, curriculum and ERS standards for the next rating.",
        support_types=(_QRIS,),
        target_in_days=rng.choice((270, 330)),
        status=GoalStatus.IN_PROGRESS,
        tasks=(
            _Task(
                "Complete the ECERS-3 self-assessment with the coach",
                _QRIS,
                COACH,
                TaskStatus.DONE,
                -rng.randint(20, 60),
                rng.choice((120, 150)),
                funding=(
                    FundingPurpose.QIP_TASK,
                    _money(rng, 500, 1500),
                    "Self-assessment release time",
                ),
            ),
            _Task(
                "Write the family engagement plan",
                _QRIS,
                director,
                TaskStatus.IN_PROGRESS,
                rng.randint(30, 60),
                rng.choice((60, 90)),
            ),
            _Task(
                f"Submit the level {target} rating application",
                _QRIS,
                director,
                TaskStatus.NOT_STARTED,
                rng.randint(200, 260),
            ),
        ),
    )


def _goals(program: HubProgram, rng: random.Random) -> list[_Goal]:
    director = director_of(program)
    if program.kind == _HS:
        goals = [_interactions_goal(program, rng, director), _cda_goal(rng, director, _HS)]
        if rng.random() < 0.5:
            goals.append(_class_goal(program, rng, director))
        return goals
    if program.kind == _LICENSING:
        return [_findings_goal(program, rng, director), _join_qris_goal(rng, director)]
    goals = [_next_level_goal(program, rng, director)]
    if program.staff:
        goals.append(_cda_goal(rng, director, _QRIS))
    if program.findings:
        goals.append(_findings_goal(program, rng, director))
    return goals


# -- writing -------------------------------------------------------------------------------------


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def _fiscal_year(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The state fiscal year (July to June) that contains ``as_of``."""
    start_year = as_of.year if as_of.month >= 7 else as_of.year - 1
    return dt.date(start_year, 7, 1), dt.date(start_year + 1, 6, 30)


class _Seeder:
    def __init__(self, store: HubStore, world: World, summary: SeedSummary) -> None:
        self.store = store
        self.as_of = world.as_of
        self.seed = world.seed
        self.summary = summary

    def day(self, offset: int) -> dt.date:
        return self.as_of + dt.timedelta(days=offset)

    async def program(self, program: HubProgram) -> None:
        # Each program's content depends only on the world's seed and the program.
        rng = random.Random(f"{self.seed}:{program.hub_id}")
        director = director_of(program)
        tasks: list[tuple[QipTask, _Task]] = []
        cda_goal_id: str | None = None
        for goal_spec in _goals(program, rng):
            creator = director if goal_spec.support_types[0] == _QRIS else COACH
            goal = await self.store.create_goal(
                creator,
                program.hub_id,
                {
                    "title": goal_spec.title,
                    "description": goal_spec.description,
                    "support_types": list(goal_spec.support_types),
                    "target_date": self.day(goal_spec.target_in_days),
                },
            )
            self.summary.goals += 1
            if goal_spec.status is not GoalStatus.NOT_STARTED:
                await self.store.update_goal(
                    director, goal.id, goal.version, {"status": goal_spec.status}
                )
                self.summary.updates += 1
            if goal_spec.credential:
                cda_goal_id = goal.id
            for spec in goal_spec.tasks:
                tasks.append((await self.task(goal.id, spec, director), spec))
        self.summary.qips += 1
        if program.staff and cda_goal_id is not None:
            await self.pd_plan(program, rng, cda_goal_id, director)
        await self.notes(program, rng, tasks, director)
        await self.activity(program, rng, director)
        await self.funding(program, rng, tasks)
        self.summary.programs.append(program.hub_id)

    async def task(self, goal_id: str, spec: _Task, director: str) -> QipTask:
        """Create the task as the plan's author would, then move it along as the work went:
        DONE tasks go NOT_STARTED -> IN_PROGRESS -> DONE, so their audit has two updates."""
        task = await self.store.create_task(
            director,
            goal_id,
            {
                "title": spec.title,
                "description": spec.description,
                "support_type": spec.support_type,
                "owner": spec.owner,
                "due_date": self.day(spec.due_in_days),
            },
        )
        self.summary.tasks += 1
        if spec.status is TaskStatus.NOT_STARTED:
            return task
        first = {"status": TaskStatus.IN_PROGRESS, "minutes_spent": spec.minutes // 2}
        task = await self.store.update_task(spec.owner, task.id, task.version, first)
        self.summary.updates += 1
        if spec.status is not TaskStatus.IN_PROGRESS:
            final = {"status": spec.status, "minutes_spent": spec.minutes}
            task = await self.store.update_task(director, task.id, task.version, final)
            self.summary.updates += 1
        return task

    async def pd_plan(
        self, program: HubProgram, rng: random.Random, goal_id: str, director: str
    ) -> None:
        staff_id, role = program.staff[0]
        done_on = self.day(-rng.randint(20, 70))
        trainings = [
            ("Responsive caregiving for infants and toddlers", "Child Growth and Development"),
            ("Language and literacy in the preschool classroom", "Curriculum"),
            ("Positive guidance and classroom management", "Interactions and Guidance"),
            ("Health and safety: ratios, supervision, transitions", "Health, Safety and Nutrition"),
        ]
        first, *later = rng.sample(trainings, 3)
        first_hours = Decimal(rng.choice((6, 8, 10)))
        plan = await self.store.create_pd_plan(
            director,
            program.hub_id,
            {
                "staff_id": staff_id,
                "credential_target": "CDA",
                "planned_hours": Decimal(120),
                "completed_hours": first_hours,
                "notes": f"{role}: CDA coursework through a T.E.A.C.H. scholarship.",
                "goal_ids": [goal_id],
            },
        )
        self.summary.pd_plans += 1
        await self.store.create_training(
            COACH,
            plan.id,
            {
                "title": first[0],
                "topic": first[1],
                "planned_on": done_on,
                "completed_on": done_on,
                "hours": first_hours,
                "status": TrainingStatus.COMPLETED,
            },
        )
        for n, (title, topic) in enumerate(later, start=1):
            await self.store.create_training(
                COACH,
                plan.id,
                {
                    "title": title,
                    "topic": topic,
                    "planned_on": self.day(30 * n + rng.randint(0, 20)),
                    "hours": Decimal(rng.choice((3, 6, 8))),
                },
            )
        self.summary.trainings += 1 + len(later)

    async def note(
        self,
        actor: str,
        program: HubProgram,
        subject: tuple[SubjectType, str],
        support_type: str,
        visibility: NoteVisibility,
        body: str,
    ) -> None:
        await self.store.create_note(
            actor,
            program.hub_id,
            {
                "subject_type": subject[0],
                "subject_id": subject[1],
                "support_type": support_type,
                "visibility": visibility,
                "body": body,
            },
        )
        self.summary.notes += 1

    async def notes(
        self,
        program: HubProgram,
        rng: random.Random,
        tasks: Sequence[tuple[QipTask, _Task]],
        director: str,
    ) -> None:
        on_program = (SubjectType.PROGRAM, program.hub_id)
        room = next((name for _, name, _ in program.rooms), "the preschool room")
        if program.kind == _LICENSING:
            await self.note(
                CONSULTANT,
                program,
                on_program,
                _LICENSING,
                NoteVisibility.PROGRAM,
                "Corrective-action plan received; follow-up visit to be scheduled once the "
                "supervision charts are posted.",
            )
        else:
            await self.note(
                COACH,
                program,
                on_program,
                _QRIS,
                NoteVisibility.PROGRAM,
                rng.choice(
                    (
                        f"Teachers in {room} tried the new transition songs; waiting time "
                        "between activities dropped noticeably.",
                        "Director asked for ECERS-3 preparation before the renewal window.",
                        f"Great conversation during lunch in {room}: open questions, "
                        "children extending each other's ideas.",
                    )
                ),
            )
        if program.kind == _HS:
            await self.note(
                MONITOR,
                program,
                on_program,
                _HS,
                NoteVisibility.TEAM,
                "Focus area 2 review scheduled for the fall; ERSEA files looked complete "
                "at the last check.",
            )
        await self.note(
            COACH if program.kind != _LICENSING else CONSULTANT,
            program,
            on_program,
            _QRIS if program.kind != _LICENSING else _LICENSING,
            NoteVisibility.PRIVATE,
            "Director prefers visits before nap time; call the front desk ahead.",
        )
        started = [t for t, spec in tasks if spec.status is TaskStatus.IN_PROGRESS]
        done = [t for t, spec in tasks if spec.status is TaskStatus.DONE]
        if started:
            task = started[0]
            await self.note(
                task.owner or COACH,
                program,
                (SubjectType.TASK, task.id),
                task.support_type or _QRIS,
                NoteVisibility.TEAM,
                f"Modelled the strategy in {room}; teachers will try it for two weeks "
                "before the next visit.",
            )
        if done:
            task = done[0]
            await self.note(
                director,
                program,
                (SubjectType.TASK, task.id),
                task.support_type or _QRIS,
                NoteVisibility.PROGRAM,
                "Done; receipts and sign-in sheets are in the QIP binder.",
            )

    async def activity(self, program: HubProgram, rng: random.Random, director: str) -> None:
        teachers = [hub_id for hub_id, role in program.staff if "Teacher" in role][:2]
        room_id = program.rooms[0][0] if program.rooms else None
        entries: list[tuple[str, dict[str, object]]] = []
        if program.kind != _LICENSING:
            for days_ago in sorted(rng.sample(range(7, 120), 2)):
                entries.append(
                    (
                        COACH,
                        {
                            "kind": ActivityKind.COACHING,
                            "support_type": _QRIS,
                            "occurred_at": _at(self.day(-days_ago), 14, 30),
                            "minutes": rng.choice((60, 90, 120)),
                            "staff_ids": teachers,
                            "room_id": room_id,
                            "summary": "Coaching cycle: observed a routine, reflected with the "
                            "teachers, agreed one practice to try.",
                        },
                    )
                )
            entries.append(
                (
                    COACH,
                    {
                        "kind": ActivityKind.PHONE_VIRTUAL,
                        "support_type": _QRIS,
                        "occurred_at": _at(self.day(-rng.randint(2, 20)), 16),
                        "minutes": rng.choice((15, 20, 30)),
                        "staff_ids": teachers[:1],
                        "summary": f"Check-in call with {director}: materials and schedule.",
                    },
                )
            )
        if program.kind == _HS:
            entries.append(
                (
                    MONITOR,
                    {
                        "kind": ActivityKind.SITE_VISIT,
                        "support_type": _HS,
                        "occurred_at": _at(self.day(-rng.randint(30, 150)), 13),
                        "minutes": 180,
                        "staff_ids": [hub_id for hub_id, _ in program.staff[:3]],
                        "room_id": room_id,
                        "summary": "Monitoring visit: health and safety walk-through, "
                        "classroom observation, file review.",
                    },
                )
            )
        if program.kind != _HS:
            entries.append(
                (
                    CONSULTANT,
                    {
                        "kind": ActivityKind.SITE_VISIT,
                        "support_type": _LICENSING,
                        "occurred_at": _at(self.day(-rng.randint(10, 60)), 15),
                        "minutes": rng.choice((60, 90)),
                        "summary": "Technical-assistance visit on supervision and the "
                        "corrective-action plan.",
                    },
                )
            )
            entries.append(
                (
                    CONSULTANT,
                    {
                        "kind": ActivityKind.PHONE_VIRTUAL,
                        "support_type": _LICENSING,
                        "occurred_at": _at(self.day(-rng.randint(1, 9)), 17),
                        "minutes": 20,
                        "summary": "Call: follow-up visit date and documents to have ready.",
                    },
                )
            )
        for actor, data in entries:
            await self.store.create_activity(actor, program.hub_id, data)
        self.summary.activity += len(entries)

    async def funding(
        self, program: HubProgram, rng: random.Random, tasks: Sequence[tuple[QipTask, _Task]]
    ) -> None:
        start, end = _fiscal_year(self.as_of)
        lines: list[tuple[str, dict[str, object]]] = []
        for task, spec in tasks:
            if spec.funding is None:
                continue
            purpose, amount, description = spec.funding
            lines.append(
                (
                    COACH,
                    {
                        "amount": amount,
                        "support_type": spec.support_type,
                        "purpose": purpose,
                        "period_start": start,
                        "period_end": end,
                        "qip_task_id": task.id if purpose is FundingPurpose.QIP_TASK else None,
                        "description": description,
                    },
                )
            )
        if program.kind == _LICENSING:
            lines.append(
                (
                    CONSULTANT,
                    {
                        "amount": _money(rng, 300, 1200),
                        "support_type": _LICENSING,
                        "purpose": FundingPurpose.PROGRAM_SUPPORT,
                        "period_start": start,
                        "period_end": end,
                        "description": "Health and safety mini-grant (CCDF quality funds)",
                    },
                )
            )
        else:
            lines.append(
                (
                    COACH,
                    {
                        "amount": _money(rng, 400, 1500),
                        "support_type": _QRIS,
                        "purpose": FundingPurpose.PROFESSIONAL_DEVELOPMENT,
                        "period_start": start,
                        "period_end": end,
                        "description": "Substitute pay for coaching and training release time",
                    },
                )
            )
        for actor, data in lines:
            await self.store.create_funding(actor, program.hub_id, data)
        self.summary.funding += len(lines)


async def seed_hub(url: str, world: World, *, programs: int = DEFAULT_HUB_PROGRAMS) -> SeedSummary:
    """Give ``programs`` programs of ``world`` a QIP (goals, tasks, a PD plan), notes, activity
    and hub funding in the hub store at ``url`` (already migrated). Programs that already have a
    QIP are skipped, so a second call writes nothing."""
    chosen = choose_programs(world, programs)
    summary = SeedSummary()
    async with HubStore(url, support_types=SUPPORT_TYPES) as store:
        existing = await store.qip_for_programs(p.hub_id for p in chosen)
        seeder = _Seeder(store, world, summary)
        for program in chosen:
            if existing.get(program.hub_id) is not None:
                summary.skipped.append(program.hub_id)
                continue
            await seeder.program(program)
    return summary
