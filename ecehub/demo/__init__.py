"""The demo sector systems of the fictional state of Clearwater ("CL").

Three systems with their own schemas, names and identifiers, seeded from one reproducible
:class:`World`: the child-care Licensing database and the Head Start database (SQLAlchemy
Core, on SQLite, PostgreSQL or MariaDB) and the QRIS REST API (aiohttp).
:class:`DemoSystems` runs all three for ``config/demo.yaml``.
"""

from ecehub.demo.headstart import HEADSTART_METADATA, seed_headstart
from ecehub.demo.levels import NOISE_LEVELS, AppliedNoise, NoiseLevel
from ecehub.demo.licensing import LICENSING_METADATA, seed_licensing
from ecehub.demo.qris import QrisServer, make_qris_app, serve_qris
from ecehub.demo.records import ProgramTruth, StaffLink
from ecehub.demo.systems import DEMO_CONFIG, DemoSystems
from ecehub.demo.world import REFERENCE_DATE, World, generate_world

__all__ = [
    "DEMO_CONFIG",
    "HEADSTART_METADATA",
    "LICENSING_METADATA",
    "NOISE_LEVELS",
    "REFERENCE_DATE",
    "AppliedNoise",
    "DemoSystems",
    "NoiseLevel",
    "ProgramTruth",
    "QrisServer",
    "StaffLink",
    "World",
    "generate_world",
    "make_qris_app",
    "seed_headstart",
    "seed_licensing",
    "serve_qris",
]
