"""A reproducible fictional state: its true child-care programs, and what each sector system
(Licensing, Head Start, QRIS) has on file about them, with the drift real systems have.

``generate_world(programs, seed)`` is pure: the same arguments give the same world. Every
program is a licensed facility (about 3 in 4 centers, the rest family child-care homes), all
known to Licensing; about 65% take part in QRIS (88% of them with the exact license number on
file, 6% with none and 6% mistyped), plus about 3% license-exempt QRIS-only providers; about
20% are Head Start centers under grantees of one to four centers, 90% of them recording the
state license number. About 40% of Head Start staff are in the QRIS workforce registry under
the same registry ID. ``World.truth`` and ``World.staff_links`` are the ground truth.

Those shares are the ``default`` noise level; ``generate_world(..., noise="hardest")`` (or
any :class:`~ecehub.demo.levels.NoiseLevel`) sets how much each kind of drift strikes, and
``World.applied_noise`` says which kinds struck which program's record in which system.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from ecehub.demo.geography import STATE_CODE
from ecehub.demo.headstart_data import headstart_records
from ecehub.demo.levels import AppliedNoise, Noise, NoiseLevel, noise_level
from ecehub.demo.licensing_data import licensing_records
from ecehub.demo.people import Registry
from ecehub.demo.programs import TrueProgram, exempt_programs, licensed_programs
from ecehub.demo.qris_data import qris_records
from ecehub.demo.records import (
    HeadStartRecords,
    LicensingRecords,
    ProgramTruth,
    QrisRecords,
    StaffLink,
)

__all__ = ["REFERENCE_DATE", "World", "generate_world"]

REFERENCE_DATE = dt.date(2026, 6, 30)
"""The world's "today": dates are generated relative to it, so data does not depend on when
it is generated."""

HEAD_START_SHARE = 0.20
QRIS_SHARE = 0.65
QRIS_HEAD_START_SHARE = 0.90
"""Head Start programs take part in QRIS far more often (states grant them reciprocity)."""
QRIS_EXEMPT_SHARE = 0.03


@dataclass(frozen=True, slots=True)
class World:
    seed: int
    as_of: dt.date
    state_code: str
    licensing: LicensingRecords
    head_start: HeadStartRecords
    qris: QrisRecords
    truth: list[ProgramTruth] = field(default_factory=list)
    """Ground truth: every real program and its key in each system."""
    staff_links: list[StaffLink] = field(default_factory=list)
    """Ground truth: Head Start staff who are also in the QRIS workforce registry."""
    noise: NoiseLevel = field(default_factory=lambda: noise_level("default"))
    """The noise level the world was generated at."""
    applied_noise: list[AppliedNoise] = field(default_factory=list)
    """Ground truth of the drift: each kind of noise applied to each program's record."""


def _truth(program: TrueProgram) -> ProgramTruth:
    return ProgramTruth(
        program_id=program.program_id,
        name=program.name,
        kind=program.kind,
        license_no=program.license_no,
        head_start_center_id=program.head_start_center_id,
        head_start_grant_number=program.head_start_grant_number,
        qris_provider_id=program.qris_provider_id,
        qris_license_number=program.qris_license_number,
    )


def generate_world(
    programs: int = 200,
    seed: int = 7,
    *,
    as_of: dt.date = REFERENCE_DATE,
    noise: str | NoiseLevel = "default",
) -> World:
    """Generate the state: ``programs`` licensed programs (plus about 3% license-exempt ones
    known to QRIS only) and every system's records about them, drifting as much as the
    ``noise`` level says (a name in :data:`~ecehub.demo.levels.NOISE_LEVELS` or a
    :class:`~ecehub.demo.levels.NoiseLevel`)."""
    if programs < 1:
        raise ValueError("programs must be at least 1")
    level = noise_level(noise)
    drift = Noise(level, seed)
    rng = random.Random(seed)
    licensed = licensed_programs(rng, programs, as_of, drift)
    used_names = {p.name for p in licensed}
    exempt = exempt_programs(rng, round(programs * QRIS_EXEMPT_SHARE), programs + 1, used_names)

    centers = [p for p in licensed if p.kind == "CENTER"]
    head_start = rng.sample(centers, min(len(centers), round(programs * HEAD_START_SHARE)))
    hs_in_qris = rng.sample(head_start, round(len(head_start) * QRIS_HEAD_START_SHARE))
    hs_ids = {p.program_id for p in head_start}
    others = [p for p in licensed if p.program_id not in hs_ids]
    wanted = max(0, round(programs * QRIS_SHARE) - len(hs_in_qris))
    qris_providers = hs_in_qris + rng.sample(others, min(len(others), wanted)) + exempt
    rng.shuffle(qris_providers)
    for n, program in enumerate(qris_providers, start=1):
        program.qris_provider_id = f"Q-{n:05d}"

    registry = Registry(rng)
    licensing = licensing_records(rng, licensed, as_of)
    hs, staff_links = headstart_records(rng, head_start, registry, as_of, drift)
    taken = {p.license_no for p in licensed if p.license_no}
    qris = qris_records(rng, qris_providers, registry, as_of, taken, drift)
    return World(
        seed=seed,
        as_of=as_of,
        state_code=STATE_CODE,
        licensing=licensing,
        head_start=hs,
        qris=qris,
        truth=[_truth(p) for p in licensed + exempt],
        staff_links=staff_links,
        noise=level,
        applied_noise=drift.applied,
    )
