"""The fictional state of Clearwater ("CL"): counties, towns, ZIP codes, streets and names.

Everything here is made up; phone numbers use the 555 exchange and e-mail addresses the
reserved ``.example`` domain, so nothing can reach a real person.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "COUNTIES",
    "FIRST_NAMES",
    "LAST_NAMES",
    "STATE_CODE",
    "STATE_NAME",
    "STREET_NAMES",
    "STREET_TYPES",
    "County",
    "Town",
]

STATE_CODE = "CL"
STATE_NAME = "Clearwater"


@dataclass(frozen=True, slots=True)
class Town:
    name: str
    zips: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class County:
    name: str
    towns: tuple[Town, ...]


def _county(name: str, first_zip: int, *towns: str) -> County:
    return County(
        name,
        tuple(
            Town(town, (f"{first_zip + 4 * i:05d}", f"{first_zip + 4 * i + 1:05d}"))
            for i, town in enumerate(towns)
        ),
    )


COUNTIES: tuple[County, ...] = (
    _county("Ashford", 87100, "Ashford", "Millbrook", "Stony Point", "Wren Hollow"),
    _county("Birchwood", 87140, "Birchwood", "Halsey", "North Fork"),
    _county("Cedar", 87170, "Cedar Falls", "Pine Bluff", "Orchard Grove", "Tamsin"),
    _county("Dunmore", 87210, "Dunmore", "Eastgate", "Quarry Hill"),
    _county("Elk River", 87240, "Elk River", "Bridgeport", "Silver Creek"),
    _county("Fairhaven", 87270, "Fairhaven", "Lighthouse Point", "Marlow"),
    _county("Granite", 87300, "Granite City", "Copperton", "Redstone", "Ashby"),
    _county("Harlow", 87340, "Harlow", "Meadowview", "Kingsbury"),
    _county("Iron Ridge", 87370, "Iron Ridge", "Forge Valley"),
    _county("Juniper", 87390, "Juniper Springs", "Sagebrush", "Dry Wells"),
    _county("Kestrel", 87420, "Kestrel", "Falcon Heights", "Brambleton"),
    _county("Lakeview", 87450, "Lakeview", "Shoreham", "Willow Bend", "Port Ellis"),
)

STREET_NAMES: tuple[str, ...] = (
    "Main", "Oak", "Maple", "Cedar", "Elm", "Washington", "Lincoln", "Park", "Lake", "Hill",
    "Pine", "River", "Church", "Mill", "Center", "Spring", "Highland", "Meadow", "Sunset",
    "Jefferson", "Walnut", "Chestnut", "Franklin", "Ridge", "Valley", "Prairie", "Orchard",
    "Madison", "Grant", "Willow", "Cherry", "Birch", "School", "College", "Harbor", "Bluff",
)  # fmt: skip

STREET_TYPES: tuple[tuple[str, str], ...] = (
    ("St", "Street"),
    ("Ave", "Avenue"),
    ("Rd", "Road"),
    ("Dr", "Drive"),
    ("Ln", "Lane"),
    ("Blvd", "Boulevard"),
    ("Way", "Way"),
    ("Ct", "Court"),
    ("Pkwy", "Parkway"),
)

FIRST_NAMES: tuple[str, ...] = (
    "Maria", "Jennifer", "Aisha", "Rosa", "Linda", "Tanya", "Keisha", "Emily", "Sarah",
    "Jessica", "Ashley", "Brianna", "Guadalupe", "Mei", "Priya", "Fatima", "Hannah", "Olivia",
    "Sophia", "Isabella", "Megan", "Latoya", "Carmen", "Yolanda", "Katherine", "Elizabeth",
    "Patricia", "Deborah", "Samantha", "Nicole", "Amanda", "Rebecca", "Christina", "Veronica",
    "Daniel", "Michael", "James", "Marcus", "Luis", "David", "Anthony", "Kevin", "Jamal",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Okafor", "Kowalski",
    "Yazzie", "Begay", "O'Brien", "McAllister", "Dubois", "Haddad", "Tran", "Kim", "Chen",
)  # fmt: skip
