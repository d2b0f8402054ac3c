"""What each seeded program's QIP holds: its goals and their tasks (owner, support type,
status, due date, time spent, funding), by the program's kind and the world's seed, and who
owns them: the fictional coach, monitor and consultant, and the program's director."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from decimal import Decimal

from ecehub.demo.hub_seed.selection import HEAD_START_KIND, LICENSING_KIND, QRIS_KIND, HubProgram
from ecehub.hub.enums import FundingPurpose, GoalStatus, TaskStatus

__all__ = [
    "COACH",
    "CONSULTANT",
    "MONITOR",
    "GoalSpec",
    "TaskSpec",
    "director_of",
    "goals_for",
    "money",
]

COACH = "coach.rivera@qris.example"
MONITOR = "monitor@headstart.example"
CONSULTANT = "consultant@licensing.example"


@dataclass(frozen=True)
class TaskSpec:
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
class GoalSpec:
    title: str
    description: str
    support_types: tuple[str, ...]
    target_in_days: int
    status: GoalStatus
    tasks: tuple[TaskSpec, ...]
    credential: str | None = None
    """A PD plan for one staff member goes with this goal, aiming at this credential."""


def _slug(name: str) -> str:
    words = re.findall(r"[a-z0-9]+", name.lower())
    return "-".join(words)[:40].strip("-") or "program"


def director_of(program: HubProgram) -> str:
    return f"director@{_slug(program.name)}.example"


def money(rng: random.Random, low: int, high: int) -> str:
    """An exact amount in dollars and cents from ``low`` to ``high`` dollars, as a string."""
    return str(Decimal(rng.randrange(low * 100, high * 100)).scaleb(-2))


def _infant_toddler(program: HubProgram) -> bool:
    return any(age in ("Infant", "Toddler") for _, _, age in program.rooms)


def _interactions_goal(program: HubProgram, rng: random.Random, director: str) -> GoalSpec:
    scale = "ITERS-3" if _infant_toddler(program) else "ECERS-3"
    room = next((name for _, name, _ in program.rooms), "each room")
    return GoalSpec(
        title=f"Raise {scale} interactions subscale to 5",
        description=(
            f"The last {scale} observation scored Interaction below the level-"
            f"{min((program.qris_level or 4) + 1, 5)} threshold; coaching and materials "
            "target responsive, language-rich interactions in every room."
        ),
        support_types=(QRIS_KIND, HEAD_START_KIND),
        target_in_days=rng.choice((180, 240, 270)),
        status=GoalStatus.IN_PROGRESS,
        tasks=(
            TaskSpec(
                "Coach lead teachers on serve-and-return interactions",
                QRIS_KIND,
                COACH,
                TaskStatus.IN_PROGRESS,
                rng.randint(30, 60),
                rng.choice((180, 240, 300)),
                "Practice-based coaching cycles: focused observation, reflection, feedback.",
            ),
            TaskSpec(
                f"Order open-ended materials for {room}",
                QRIS_KIND,
                director,
                TaskStatus.DONE,
                -rng.randint(20, 45),
                rng.choice((45, 60, 90)),
                "Blocks, loose parts and board books chosen with the coach.",
                (FundingPurpose.QIP_TASK, money(rng, 900, 2500), f"Materials for {room}"),
            ),
            TaskSpec(
                "Video-reflect on one routine per room each month",
                HEAD_START_KIND,
                MONITOR,
                TaskStatus.NOT_STARTED,
                rng.randint(75, 120),
            ),
            TaskSpec(
                f"Schedule a {scale} mock observation",
                QRIS_KIND,
                COACH,
                TaskStatus.NOT_STARTED,
                rng.randint(140, 170),
            ),
        )[: rng.choice((3, 4))],
    )


def _cda_goal(rng: random.Random, director: str, support: str) -> GoalSpec:
    return GoalSpec(
        title="All lead teachers hold a CDA",
        description=(
            "Every lead teacher earns the Child Development Associate credential "
            "(CEDS: ChildDevelopmentAssociate) or higher; scholarships cover tuition."
        ),
        support_types=(support, QRIS_KIND) if support != QRIS_KIND else (QRIS_KIND,),
        target_in_days=rng.choice((300, 365)),
        status=GoalStatus.IN_PROGRESS,
        tasks=(
            TaskSpec(
                "Apply for T.E.A.C.H. scholarships for two lead teachers",
                QRIS_KIND,
                COACH,
                TaskStatus.DONE,
                -rng.randint(50, 80),
                rng.choice((45, 60)),
                funding=(
                    FundingPurpose.SCHOLARSHIP,
                    money(rng, 1200, 3000),
                    "T.E.A.C.H. scholarship: CDA coursework",
                ),
            ),
            TaskSpec(
                "Enroll lead teachers in CDA coursework (120 clock hours)",
                support,
                director,
                TaskStatus.IN_PROGRESS,
                rng.randint(20, 50),
                rng.choice((60, 90, 120)),
            ),
            TaskSpec(
                "Book CDA verification visits with the Council",
                support,
                director,
                TaskStatus.NOT_STARTED,
                rng.randint(200, 280),
            ),
        ),
        credential="CDA",
    )


def _class_goal(program: HubProgram, rng: random.Random, director: str) -> GoalSpec:
    score = program.class_instructional_support
    seen = f" (latest observation: {score:.2f})" if score is not None else ""
    return GoalSpec(
        title="Lift CLASS Instructional Support to 3.5",
        description=f"CLASS Pre-K Instructional Support{seen}: concept development, quality "
        "of feedback and language modelling.",
        support_types=(HEAD_START_KIND,),
        target_in_days=rng.choice((240, 300)),
        status=GoalStatus.NOT_STARTED,
        tasks=(
            TaskSpec(
                "Practice-based coaching on concept development",
                HEAD_START_KIND,
                MONITOR,
                TaskStatus.IN_PROGRESS,
                rng.randint(40, 90),
                rng.choice((90, 120)),
            ),
            TaskSpec(
                "Plan weekly 'why and how' questions into lesson plans",
                HEAD_START_KIND,
                director,
                TaskStatus.NOT_STARTED,
                rng.randint(60, 100),
            ),
        ),
    )


def _findings_goal(program: HubProgram, rng: random.Random, director: str) -> GoalSpec:
    tasks: list[TaskSpec] = []
    for n, (citation, rule, due) in enumerate(program.findings):
        tasks.append(
            TaskSpec(
                f"Correct {citation}: {rule}"[:200],
                LICENSING_KIND,
                director,
                TaskStatus.DONE if n == 0 else TaskStatus.IN_PROGRESS,
                -rng.randint(10, 40) if n == 0 else rng.randint(10, 40),
                rng.choice((30, 60, 90)),
                f"Corrective action due {due.isoformat()}." if due else "",
            )
        )
    if len(tasks) < 2:
        tasks += [
            TaskSpec(
                "Post ratio and supervision charts in every room",
                LICENSING_KIND,
                director,
                TaskStatus.DONE,
                -rng.randint(10, 30),
                45,
            ),
            TaskSpec(
                "Train staff on the sign-in/sign-out and headcount procedure",
                LICENSING_KIND,
                CONSULTANT,
                TaskStatus.IN_PROGRESS,
                rng.randint(10, 40),
                60,
            ),
        ]
    tasks.append(
        TaskSpec(
            "Request a follow-up visit to close the findings",
            LICENSING_KIND,
            CONSULTANT,
            TaskStatus.NOT_STARTED,
            rng.randint(45, 75),
        )
    )
    return GoalSpec(
        title="Close the findings of the last licensing inspection"
        if program.findings
        else "Close licensing findings on supervision",
        description="Correct every non-compliant rule of the last inspection and keep the "
        "corrective-action plan current.",
        support_types=(LICENSING_KIND,),
        target_in_days=rng.choice((60, 90)),
        status=GoalStatus.IN_PROGRESS,
        tasks=tuple(tasks[:4]),
    )


def _join_qris_goal(rng: random.Random, director: str) -> GoalSpec:
    return GoalSpec(
        title="Join QRIS at level 2",
        description="Enter the state QRIS: orientation, self-assessment and registry profiles "
        "for all staff.",
        support_types=(QRIS_KIND, LICENSING_KIND),
        target_in_days=rng.choice((180, 210)),
        status=GoalStatus.NOT_STARTED,
        tasks=(
            TaskSpec(
                "Attend a QRIS orientation session", QRIS_KIND, director, TaskStatus.DONE, -15, 120
            ),
            TaskSpec(
                "Register every staff member in the workforce registry",
                QRIS_KIND,
                director,
                TaskStatus.NOT_STARTED,
                rng.randint(30, 60),
            ),
            TaskSpec(
                "Complete the QRIS standards self-assessment",
                QRIS_KIND,
                COACH,
                TaskStatus.NOT_STARTED,
                rng.randint(90, 120),
            ),
        ),
    )


def _next_level_goal(program: HubProgram, rng: random.Random, director: str) -> GoalSpec:
    level = program.qris_level or 1
    target = min(level + 1, 5)
    return GoalSpec(
        title=f"Reach QRIS level {target}" if level < 5 else "Keep QRIS level 5 at renewal",
        description="Family engagement, curriculum and ERS standards for the next rating.",
        support_types=(QRIS_KIND,),
        target_in_days=rng.choice((270, 330)),
        status=GoalStatus.IN_PROGRESS,
        tasks=(
            TaskSpec(
                "Complete the ECERS-3 self-assessment with the coach",
                QRIS_KIND,
                COACH,
                TaskStatus.DONE,
                -rng.randint(20, 60),
                rng.choice((120, 150)),
                funding=(
                    FundingPurpose.QIP_TASK,
                    money(rng, 500, 1500),
                    "Self-assessment release time",
                ),
            ),
            TaskSpec(
                "Write the family engagement plan",
                QRIS_KIND,
                director,
                TaskStatus.IN_PROGRESS,
                rng.randint(30, 60),
                rng.choice((60, 90)),
            ),
            TaskSpec(
                f"Submit the level {target} rating application",
                QRIS_KIND,
                director,
                TaskStatus.NOT_STARTED,
                rng.randint(200, 260),
            ),
        ),
    )


def goals_for(program: HubProgram, rng: random.Random) -> list[GoalSpec]:
    director = director_of(program)
    if program.kind == HEAD_START_KIND:
        goals = [
            _interactions_goal(program, rng, director),
            _cda_goal(rng, director, HEAD_START_KIND),
        ]
        if rng.random() < 0.5:
            goals.append(_class_goal(program, rng, director))
        return goals
    if program.kind == LICENSING_KIND:
        return [_findings_goal(program, rng, director), _join_qris_goal(rng, director)]
    goals = [_next_level_goal(program, rng, director)]
    if program.staff:
        goals.append(_cda_goal(rng, director, QRIS_KIND))
    if program.findings:
        goals.append(_findings_goal(program, rng, director))
    return goals
