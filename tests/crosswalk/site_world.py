"""A small state whose levels differ, on real SQLite files: a Head Start system that knows
grantees (its programs) and their centers (its sites, under the grantee), and a licensing
system that knows each licensed facility as a program. The crosswalk's site level is for
exactly this: a facility is a site of the grantee whose center it is.

==========  ==============================  =====================================
grantee     centers (sites)                 licensing facility it corresponds to
==========  ==============================  =====================================
G-1         C-1 (license L-100)             L-100 (by the license number)
G-1         C-2 (no license number)         L-200 (name, address, ZIP, phone)
G-2         C-3 (no license number)         L-300 (name, ZIP, phone; another street)
G-3         C-5 (license L-500)             L-500, which is G-3 itself (the
            (G-3 carries L-500 too)         grantee's own license): not a site
(none)      C-9 (grant G-404, unknown)      -
==========  ==============================  =====================================

L-400 corresponds to no center.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ecehub.hub.migrate import upgrade

__all__ = ["SiteWorld", "make_site_world"]

GRANTEES = [
    ("G-1", "Valley Community Action", "Springfield", "IL", None),
    ("G-2", "Hilltop Head Start", "Shelbyville", "IL", None),
    ("G-3", "Lakeside Learning Center", "Capital City", "IL", "L-500"),
]
CENTERS = [
    ("C-1", "G-1", "Valley CA Eastside", "12 Elm St", "Springfield", "62701", "2175550101",
     "L-100"),
    ("C-2", "G-1", "Valley CA Northside Center", "400 Oak Ave", "Springfield", "62702",
     "2175550102", None),
    ("C-3", "G-2", "Hilltop Head Start Center", "9 Pine Rd", "Shelbyville", "62565",
     "2175550300", None),
    ("C-5", "G-3", "Lakeside Learning Center", "5 Shore Dr", "Capital City", "62703",
     "2175550105", "L-500"),
    ("C-9", "G-404", "Orphan Center", "1 Nowhere Ln", "Springfield", "62704", None, None),
]  # fmt: skip
FACILITIES = [
    ("L-100", "Valley CA Eastside Child Development", "12 Elm St", "Springfield", "62701",
     "2175550101"),
    ("L-200", "Valley Community Action Northside Center", "400 Oak Avenue", "Springfield",
     "62702", "(217) 555-0102"),
    ("L-300", "Hilltop Head Start Ctr", "88 Ridge Rd", "Shelbyville", "62565", "2175550300"),
    ("L-400", "Sunny Days Child Care", "77 Maple St", "Springfield", "62701", "2175550999"),
    ("L-500", "Lakeside Learning Center", "5 Shore Dr", "Capital City", "62703", "2175550105"),
]  # fmt: skip


@dataclass(frozen=True)
class SiteWorld:
    config_path: Path
    hub_url: str


def _write_databases(tmp_path: Path) -> tuple[Path, Path]:
    grants, licensing = tmp_path / "grants.db", tmp_path / "licensing.db"
    with sqlite3.connect(grants) as db:
        db.execute(
            "CREATE TABLE grantee (grant_no TEXT PRIMARY KEY, grantee_name TEXT, city TEXT,"
            " state TEXT, license_no TEXT)"
        )
        db.execute(
            "CREATE TABLE center (center_id TEXT PRIMARY KEY, grant_no TEXT, center_name TEXT,"
            " address TEXT, city TEXT, zip TEXT, phone TEXT, license_no TEXT, state TEXT)"
        )
        db.executemany("INSERT INTO grantee VALUES (?, ?, ?, ?, ?)", GRANTEES)
        db.executemany("INSERT INTO center VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'IL')", CENTERS)
    with sqlite3.connect(licensing) as db:
        db.execute(
            "CREATE TABLE facility (license_no TEXT PRIMARY KEY, facility_name TEXT,"
            " street TEXT, city TEXT, zip TEXT, phone TEXT, state TEXT)"
        )
        db.executemany("INSERT INTO facility VALUES (?, ?, ?, ?, ?, ?, 'IL')", FACILITIES)
    return grants, licensing


def _config_text(grants: Path, licensing: Path, hub_url: str, extra: str) -> str:
    return f"""\
support_types:
  - {{code: HEAD_START, name: Head Start}}
  - {{code: LICENSING, name: Licensing}}
sources:
  head_start:
    kind: sql
    url: sqlite+aiosqlite:///{grants}
    support_types: [HEAD_START]
    entities:
      program:
        table: grantee
        key: grant_no
        fields: {{name: grantee_name, city: city, state: state, license_number: license_no}}
        identifiers: {{HEAD_START_GRANT: grant_no, LICENSE_NUMBER: license_no}}
      site:
        table: center
        key: center_id
        parent: {{program: grant_no}}
        fields:
          name: center_name
          address: address
          city: city
          zip: zip
          phone: phone
          state: state
          license_number: license_no
        identifiers: {{LICENSE_NUMBER: license_no}}
  licensing:
    kind: sql
    url: sqlite+aiosqlite:///{licensing}
    support_types: [LICENSING]
    entities:
      program:
        table: facility
        key: license_no
        fields:
          name: facility_name
          address: street
          city: city
          zip: zip
          phone: phone
          state: state
          license_number: license_no
        identifiers: {{LICENSE_NUMBER: license_no}}
merge:
  program: {{match_on: [LICENSE_NUMBER], identity: crosswalk}}
hub:
  url: {hub_url}
{extra}"""


async def make_site_world(tmp_path: Path, extra: str = "") -> SiteWorld:
    """The two systems, a migrated hub store (SQLite) and a config for them; ``extra`` is
    YAML appended to the config (e.g. ``auth:`` and ``access:``)."""
    grants, licensing = _write_databases(tmp_path)
    hub_url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    await upgrade(hub_url)
    path = tmp_path / "state.yaml"
    path.write_text(_config_text(grants, licensing, hub_url, extra), encoding="utf-8")
    return SiteWorld(path, hub_url)
