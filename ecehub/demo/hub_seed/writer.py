"""Writing the hub seed through :class:`~ecehub.hub.store.HubStore`: each chosen program's QIP
(goals, tasks and their updates), a PD plan with trainings, notes, activity and hub funding,
dated relative to ``World.as_of``; :func:`seed_hub` runs it and skips programs that already
have a QIP."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ecehub.demo.hub_seed.plans import (
    COACH,
    CONSULTANT,
    MONITOR,
    TaskSpec,
    director_of,
    goals_for,
    money,
)
from ecehub.demo.hub_seed.selection import (
    DEFAULT_HUB_PROGRAMS,
    HEAD_START_KIND,
    LICENSING_KIND,
    QRIS_KIND,
    HubProgram,
    choose_programs,
)
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

__all__ = ["SUPPORT_TYPES", "SeedSummary", "seed_hub"]

SUPPORT_TYPES = ("LICENSING", "HEAD_START", "QRIS")
"""The demo config's support types (config/demo.yaml)."""


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
        tasks: list[tuple[QipTask, TaskSpec]] = []
        cda_goal_id: str | None = None
        for goal_spec in goals_for(program, rng):
            creator = director if goal_spec.support_types[0] == QRIS_KIND else COACH
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

    async def task(self, goal_id: str, spec: TaskSpec, director: str) -> QipTask:
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
        tasks: Sequence[tuple[QipTask, TaskSpec]],
        director: str,
    ) -> None:
        on_program = (SubjectType.PROGRAM, program.hub_id)
        room = next((name for _, name, _ in program.rooms), "the preschool room")
        if program.kind == LICENSING_KIND:
            await self.note(
                CONSULTANT,
                program,
                on_program,
                LICENSING_KIND,
                NoteVisibility.PROGRAM,
                "Corrective-action plan received; follow-up visit to be scheduled once the "
                "supervision charts are posted.",
            )
        else:
            await self.note(
                COACH,
                program,
                on_program,
                QRIS_KIND,
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
        if program.kind == HEAD_START_KIND:
            await self.note(
                MONITOR,
                program,
                on_program,
                HEAD_START_KIND,
                NoteVisibility.TEAM,
                "Focus area 2 review scheduled for the fall; ERSEA files looked complete "
                "at the last check.",
            )
        await self.note(
            COACH if program.kind != LICENSING_KIND else CONSULTANT,
            program,
            on_program,
            QRIS_KIND if program.kind != LICENSING_KIND else LICENSING_KIND,
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
                task.support_type or QRIS_KIND,
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
                task.support_type or QRIS_KIND,
                NoteVisibility.PROGRAM,
                "Done; receipts and sign-in sheets are in the QIP binder.",
            )

    async def activity(self, program: HubProgram, rng: random.Random, director: str) -> None:
        teachers = [hub_id for hub_id, role in program.staff if "Teacher" in role][:2]
        room_id = program.rooms[0][0] if program.rooms else None
        entries: list[tuple[str, dict[str, object]]] = []
        if program.kind != LICENSING_KIND:
            for days_ago in sorted(rng.sample(range(7, 120), 2)):
                entries.append(
                    (
                        COACH,
                        {
                            "kind": ActivityKind.COACHING,
                            "support_type": QRIS_KIND,
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
                        "support_type": QRIS_KIND,
                        "occurred_at": _at(self.day(-rng.randint(2, 20)), 16),
                        "minutes": rng.choice((15, 20, 30)),
                        "staff_ids": teachers[:1],
                        "summary": f"Check-in call with {director}: materials and schedule.",
                    },
                )
            )
        if program.kind == HEAD_START_KIND:
            entries.append(
                (
                    MONITOR,
                    {
                        "kind": ActivityKind.SITE_VISIT,
                        "support_type": HEAD_START_KIND,
                        "occurred_at": _at(self.day(-rng.randint(30, 150)), 13),
                        "minutes": 180,
                        "staff_ids": [hub_id for hub_id, _ in program.staff[:3]],
                        "room_id": room_id,
                        "summary": "Monitoring visit: health and safety walk-through, "
                        "classroom observation, file review.",
                    },
                )
            )
        if program.kind != HEAD_START_KIND:
            entries.append(
                (
                    CONSULTANT,
                    {
                        "kind": ActivityKind.SITE_VISIT,
                        "support_type": LICENSING_KIND,
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
                        "support_type": LICENSING_KIND,
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
        self, program: HubProgram, rng: random.Random, tasks: Sequence[tuple[QipTask, TaskSpec]]
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
        if program.kind == LICENSING_KIND:
            lines.append(
                (
                    CONSULTANT,
                    {
                        "amount": money(rng, 300, 1200),
                        "support_type": LICENSING_KIND,
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
                        "amount": money(rng, 400, 1500),
                        "support_type": QRIS_KIND,
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
