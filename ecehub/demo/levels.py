"""How much the sector systems' records drift from the truth: named noise levels.

A :class:`NoiseLevel` holds one share (a probability per record) for each kind of drift the
generator makes. ``NOISE_LEVELS["default"]`` is the drift the demo has always had, drawn
from the world's own random stream in the same order, so a default world is the same world
as before levels existed. The kinds the default level lacks (typos, forced abbreviations,
swapped words, dropped units, moved programs, street typos, license numbers copied from
another facility, namesakes, registry IDs left out) come from a second stream,
:attr:`Noise.rng`, seeded from the world's seed and drawn only when the level asks for them.

Shares apply per record of the system that drifts (QRIS providers, Head Start centers and
staff); Licensing is the reference every other system is compared with, except for
``shared_names`` (with ``co_located`` and ``shared_phone``), which changes the real world: a
share of the centers carry the very name of another center in their town and ZIP (a second
"Little Sprouts Academy"), some in the same building or on the same phone line.

The hardest level is what a state's data looks like at its worst, all at once: about a
third of the QRIS records without a usable license number (a quarter of the mistyped ones
another facility's number), nine in ten names re-keyed, one in four with a typo, one in
twelve programs moved, one in five phones changed, and one center in eight sharing its name
with another center nearby.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields

from ecehub.demo.geography import COUNTIES
from ecehub.demo.noise import (
    abbreviate,
    drop_unit,
    moved_street,
    street_typo,
    swap_words,
    typo,
)

__all__ = ["NOISE_KINDS", "NOISE_LEVELS", "AppliedNoise", "Noise", "NoiseLevel", "noise_level"]


@dataclass(frozen=True, slots=True)
class NoiseLevel:
    """Shares of records that drift, per kind (all in [0, 1])."""

    name: str = "custom"
    # Names (QRIS display name; Head Start center name)
    renamed: float = 0.6
    """QRIS name re-keyed by :func:`~ecehub.demo.noise.name_variant` (abbreviations,
    "&"/"and", legal suffix, dotted initials, case, a leading "The")."""
    name_changes: tuple[int, int] = (1, 3)
    """How many such changes a re-keyed QRIS name gets (inclusive range)."""
    abbreviated: float = 0.0
    """A further abbreviation forced on the name ("Center" -> "Ctr", "Academy" -> "Acad.")."""
    typo: float = 0.0
    """One keying error in the name: letters swapped, dropped, doubled or a neighbouring key."""
    swapped_words: float = 0.0
    """Words of the name in another order ("Learning Center, Sunshine")."""
    head_start_renamed: float = 0.3
    """Head Start center name re-keyed (one change)."""
    head_start_suffix: float = 0.2
    """Head Start center name with " Head Start" / " Early Head Start" appended."""
    # Addresses
    reformatted: float = 0.3
    """Street line re-keyed: types, directions and units spelled out or abbreviated, case."""
    unit_dropped: float = 0.0
    """The suite / apartment part of a street line left out (of lines that have one)."""
    moved: float = 0.0
    """The program moved and one system still has another street address (sometimes in the
    town's other ZIP)."""
    address_typo: float = 0.0
    """A keying error in the street line: two digits of the house number swapped, or a
    letter of the street name wrong."""
    # Identifiers
    license_missing: float = 0.06
    """QRIS providers with no license number on file."""
    license_mistyped: float = 0.06
    """QRIS providers with a mistyped license number."""
    license_collision: float = 0.0
    """Of the mistyped license numbers, the share that is another facility's real number
    (a number copied from the wrong file): exact-identifier matching links the wrong
    facility unless it checks the rest."""
    head_start_license_missing: float = 0.10
    """Head Start centers with no state license number on file."""
    # Contacts (QRIS)
    phone_changed: float = 0.05
    email_missing: float = 0.1
    email_other: float = 0.1
    """A generic ``info@`` address instead of the director's."""
    # Staff
    staff_renamed: float = 0.1
    """Head Start staff in the QRIS registry keyed there with a nickname (Kate for
    Katherine) or the last name in capitals."""
    registry_id_missing: float = 0.0
    """Head Start staff records that lack the registry ID the person has."""
    # The world itself
    shared_names: float = 0.0
    """Centers that carry the exact name of another center in their town and ZIP."""
    co_located: float = 0.0
    """Of those namesakes, the share in the same building as the other center, in another
    suite (one street address, two programs)."""
    shared_phone: float = 0.0
    """Of those namesakes, the share that lists the other center's phone (one owner, one
    enrollment line)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not 0.0 <= value <= 1.0:
                raise ValueError(f"NoiseLevel.{f.name} must be a share in [0, 1], not {value}")
        low, high = self.name_changes
        if not 1 <= low <= high:
            raise ValueError("NoiseLevel.name_changes must be (low, high) with 1 <= low <= high")
        if self.license_missing + self.license_mistyped > 1.0:
            raise ValueError("NoiseLevel.license_missing + license_mistyped must be <= 1")
        if self.head_start_renamed + self.head_start_suffix > 1.0:
            raise ValueError("NoiseLevel.head_start_renamed + head_start_suffix must be <= 1")
        if self.email_missing + self.email_other > 1.0:
            raise ValueError("NoiseLevel.email_missing + email_other must be <= 1")


NOISE_LEVELS: dict[str, NoiseLevel] = {
    "none": NoiseLevel(
        name="none",
        renamed=0.0,
        name_changes=(1, 1),
        head_start_renamed=0.0,
        head_start_suffix=0.0,
        reformatted=0.0,
        license_missing=0.0,
        license_mistyped=0.0,
        head_start_license_missing=0.0,
        phone_changed=0.0,
        email_missing=0.0,
        email_other=0.0,
        staff_renamed=0.0,
    ),
    "low": NoiseLevel(
        name="low",
        renamed=0.3,
        name_changes=(1, 2),
        head_start_renamed=0.15,
        head_start_suffix=0.1,
        reformatted=0.15,
        license_missing=0.03,
        license_mistyped=0.03,
        head_start_license_missing=0.05,
        phone_changed=0.02,
        email_missing=0.05,
        email_other=0.05,
        staff_renamed=0.05,
    ),
    "default": NoiseLevel(name="default"),
    "high": NoiseLevel(
        name="high",
        renamed=0.75,
        name_changes=(1, 3),
        abbreviated=0.15,
        typo=0.1,
        swapped_words=0.05,
        head_start_renamed=0.4,
        head_start_suffix=0.25,
        reformatted=0.45,
        unit_dropped=0.3,
        moved=0.04,
        address_typo=0.03,
        license_missing=0.12,
        license_mistyped=0.1,
        license_collision=0.1,
        head_start_license_missing=0.2,
        phone_changed=0.12,
        email_missing=0.2,
        email_other=0.15,
        staff_renamed=0.2,
        registry_id_missing=0.15,
        shared_names=0.05,
        co_located=0.1,
        shared_phone=0.25,
    ),
    "hardest": NoiseLevel(
        name="hardest",
        renamed=0.9,
        name_changes=(2, 4),
        abbreviated=0.3,
        typo=0.25,
        swapped_words=0.15,
        head_start_renamed=0.5,
        head_start_suffix=0.3,
        reformatted=0.6,
        unit_dropped=0.5,
        moved=0.08,
        address_typo=0.08,
        license_missing=0.2,
        license_mistyped=0.15,
        license_collision=0.25,
        head_start_license_missing=0.3,
        phone_changed=0.2,
        email_missing=0.3,
        email_other=0.2,
        staff_renamed=0.3,
        registry_id_missing=0.3,
        shared_names=0.12,
        co_located=0.3,
        shared_phone=0.5,
    ),
}
"""The named levels, from no drift at all to the hardest the matcher is held to."""

NOISE_KINDS: tuple[str, ...] = (
    "renamed",
    "abbreviated",
    "typo",
    "swapped_words",
    "head_start_suffix",
    "reformatted",
    "unit_dropped",
    "moved",
    "address_typo",
    "license_missing",
    "license_mistyped",
    "license_collision",
    "phone_changed",
    "email_missing",
    "email_other",
    "staff_renamed",
    "registry_id_missing",
    "shared_name",
    "co_located",
    "shared_phone",
)
"""The kinds :class:`AppliedNoise` records."""


def noise_level(noise: str | NoiseLevel) -> NoiseLevel:
    """A level by name (``none``, ``low``, ``default``, ``high``, ``hardest``), or the
    level itself."""
    if isinstance(noise, NoiseLevel):
        return noise
    try:
        return NOISE_LEVELS[noise]
    except KeyError:
        names = ", ".join(NOISE_LEVELS)
        raise ValueError(f"unknown noise level {noise!r}; use one of {names}") from None


@dataclass(frozen=True, slots=True)
class AppliedNoise:
    """One kind of drift the generator applied to one program's record in one system."""

    program_id: str
    system: str
    """``licensing``, ``qris`` or ``head_start``."""
    kind: str
    """One of :data:`NOISE_KINDS`."""


@dataclass(slots=True)
class Noise:
    """A level while a world is generated: its own random stream and the log of what it
    applied."""

    level: NoiseLevel
    seed: int
    rng: random.Random = field(init=False)
    applied: list[AppliedNoise] = field(default_factory=list)

    def __post_init__(self) -> None:
        # A stream of its own: drawing from it never shifts the world's main stream.
        self.rng = random.Random(f"ecehub-noise:{self.seed}")

    def chance(self, share: float) -> bool:
        """Whether a kind with this share strikes; draws nothing when the share is 0."""
        return share > 0.0 and self.rng.random() < share

    def note(self, program_id: str, system: str, kind: str) -> None:
        self.applied.append(AppliedNoise(program_id, system, kind))

    def name(self, program_id: str, system: str, name: str) -> str:
        """``name`` with the kinds of name drift only this stream draws: a forced
        abbreviation, words in another order, a typo (last, so it hits the final form)."""
        level = self.level
        for kind, share, change in (
            ("abbreviated", level.abbreviated, abbreviate),
            ("swapped_words", level.swapped_words, swap_words),
            ("typo", level.typo, typo),
        ):
            if self.chance(share):
                changed = change(self.rng, name)
                if changed != name:
                    name = changed
                    self.note(program_id, system, kind)
        return name

    def street(
        self, program_id: str, system: str, street: str, city: str, zip: str
    ) -> tuple[str, str]:
        """The street line and ZIP after the kinds of address drift only this stream draws:
        the unit left out, or the program's other address (moved; half the time in the
        town's other ZIP)."""
        shorter = drop_unit(street)
        if shorter != street and self.chance(self.level.unit_dropped):
            street = shorter
            self.note(program_id, system, "unit_dropped")
        if self.chance(self.level.moved):
            street = moved_street(self.rng, street)
            zips = _TOWN_ZIPS.get(city, (zip,))
            if self.rng.random() < 0.5:
                zip = self.rng.choice(zips)
            self.note(program_id, system, "moved")
        if self.chance(self.level.address_typo):
            mistyped = street_typo(self.rng, street)
            if mistyped != street:
                street = mistyped
                self.note(program_id, system, "address_typo")
        return street, zip


_TOWN_ZIPS = {town.name: town.zips for county in COUNTIES for town in county.towns}
