"""Seed the demo's hub store: shared QIPs, PD plans, notes, activity and hub funding for a few
programs, so the first query a newcomer runs shows sector data and hub data side by side.

``seed_hub(url, world)`` writes only through :class:`~ecehub.hub.store.HubStore` (every write
validated and audited with its actor: QRIS coaches, Head Start monitors, licensing consultants,
program directors). It is deterministic: which programs, and what each one gets, depends only
on the world (its seed and records). Dates (targets, due dates, visits, funding periods) are
relative to the world's reference date ``World.as_of``; the audit stamps are the real time of
the writes. Programs that already have a QIP are left alone, so seeding a seeded store (the
demo restarted on the same data directory) writes nothing.

- :mod:`~ecehub.demo.hub_seed.selection`: which programs get hub data;
- :mod:`~ecehub.demo.hub_seed.plans`: what each program's QIP holds (goals, tasks, owners);
- :mod:`~ecehub.demo.hub_seed.writer`: :func:`seed_hub`, writing the QIPs, PD plans, notes,
  activity and funding through the store.
"""

from ecehub.demo.hub_seed.plans import COACH, CONSULTANT, MONITOR, director_of
from ecehub.demo.hub_seed.selection import DEFAULT_HUB_PROGRAMS, HubProgram, choose_programs
from ecehub.demo.hub_seed.writer import SeedSummary, seed_hub

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
