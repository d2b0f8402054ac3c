"""Where a value is shown in the schema: canonical fields, hub object fields and filters, each
mapped to the ``Type.field`` path of the public schema that carries it, so that one rule
(:meth:`ecehub.access.policy.Access.value_denial`) judges a value wherever it travels.

The access rules speak in schema terms (``Staff.birthYear``, ``Program.license``,
``Address.*``); provenance, conflicts, filters and the audit log carry canonical or stored
names (``birth_year``, ``license_status``, ``body``). A canonical field's path is the chain of
schema fields a reader must be able to read to see its value: ``program.city`` is
``Program.address`` then ``Address.city``; ``program.license_status`` is ``Program.license``
then ``License.status``. A field with no schema field of its own is judged as the field it
would be (``program.accreditation``: ``Program.accreditation``), so wildcard rules
(``Program.*``) and ``allow`` lists cover it.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "AUDIT_TYPES",
    "DERIVED_FIELDS",
    "FILTER_FIELDS",
    "MERGED_TYPES",
    "FieldPath",
    "audit_field",
    "camel",
    "field_path",
]

FieldPath = tuple[tuple[str, str], ...]
"""``((Type, field), ...)``: the schema fields, outermost first, that carry a value."""

MERGED_TYPES: Mapping[str, str] = {"program": "Program", "site": "Site", "staff": "Staff"}
"""The schema type of each merged entity (those with ``provenance`` and ``conflicts``)."""

_RECORD_TYPES: Mapping[str, str] = {
    "room": "Room",
    "training": "Training",
    "checklist": "Checklist",
    "checklist_response": "ChecklistResponse",
    "assessment": "Assessment",
    "assessment_score": "AssessmentScore",
    "enrollment": "EnrollmentCount",
    "funding": "Funding",
    "rating": "RatingEvent",
    "activity": "ActivityEntry",
    "contact": "ProgramContact",
    "accreditation": "Accreditation",
    "capacity": "AgeGroupCapacity",
}

_ADDRESS = {"address": "street", "city": "city", "county": "county", "state": "state", "zip": "zip"}

_PATHS: Mapping[tuple[str, str], FieldPath] = {
    **{
        (entity, name): ((MERGED_TYPES[entity], "address"), ("Address", part))
        for entity in ("program", "site")
        for name, part in _ADDRESS.items()
    },
    **{
        ("program", name): (("Program", "license"), ("License", part))
        for name, part in {
            "license_number": "number",
            "license_status": "status",
            "license_issued": "issuedOn",
            "license_expires": "expiresOn",
            "licensed_capacity": "capacity",
            "ages_served": "agesServed",
        }.items()
    },
    **{
        ("program", name): (("Program", "qrisRating"), ("QrisRating", part))
        for name, part in {
            "qris_level": "level",
            "qris_rated_on": "ratedOn",
            "qris_expires_on": "expiresOn",
        }.items()
    },
    ("program", "period"): (("Program", "periods"),),
    ("site", "period"): (("Site", "sources"), ("SourceRecordRef", "period")),
}
"""Canonical fields shown under another schema field than their own name says."""

DERIVED_FIELDS: Mapping[tuple[str, str], tuple[str, str]] = {
    ("QrisRating", "normalisedLevel"): ("QrisRating", "level"),
    ("QrisRating", "participating"): ("QrisRating", "level"),
    ("QrisRating", "scale"): ("QrisRating", "level"),
    ("RatingEvent", "normalisedLevel"): ("RatingEvent", "level"),
    ("RatingEvent", "participating"): ("RatingEvent", "level"),
}
"""Schema fields computed from another one's value: a role that may not read the other may
not read them either (they would tell it)."""

FILTER_FIELDS: Mapping[str, tuple[str, str]] = {
    "support_types": ("program", "support_types"),
    "name": ("program", "name"),
    "city": ("program", "city"),
    "county": ("program", "county"),
    "zip": ("program", "zip"),
    "state": ("program", "state"),
    "sources": ("program", "sources"),
    "identifier": ("program", "identifiers"),
    "license_status": ("program", "license_status"),
    "license_number": ("program", "license_number"),
    "qris_level": ("program", "qris_level"),
    "qris_level_min": ("program", "qris_level"),
}
"""``ProgramFilter``'s fields and the value each one tests: a filter tells the value it
matches, so a role may filter only on what it may read."""

AUDIT_TYPES: Mapping[str, str] = {
    "QIP": "QualityImprovementPlan",
    "QIP_GOAL": "QipGoal",
    "QIP_TASK": "QipTask",
    "PD_PLAN": "ProfessionalDevelopmentPlan",
    "PD_TRAINING": "PdTraining",
    "NOTE": "Note",
    "ACTIVITY_ENTRY": "ActivityEntry",
    "FILE_ATTACHMENT": "FileAttachment",
    "FUNDING_ENTRY": "Funding",
    "CROSSWALK_LINK": "CrosswalkLink",
}
"""The schema type that shows each kind of audited hub object (audit ``objectType``); the
other kinds (refusals, merged objects) carry no object fields."""

_AUDIT_FIELDS: Mapping[tuple[str, str], str] = {
    ("ActivityEntry", "staff_ids"): "staffSupported",
    ("ActivityEntry", "room_id"): "roomId",
}
"""Stored names of hub object fields shown under another schema name."""


def camel(name: str) -> str:
    """``birth_year`` -> ``birthYear`` (as the schema names fields)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def field_path(entity: str, name: str) -> FieldPath:
    """The schema fields that carry canonical field ``name`` of ``entity``."""
    found = _PATHS.get((entity, name))
    if found is not None:
        return found
    type_name = (
        MERGED_TYPES.get(entity)
        or _RECORD_TYPES.get(entity)
        or "".join(part.title() for part in entity.split("_"))
    )
    return ((type_name, camel(name)),)


def audit_field(type_name: str, key: str) -> tuple[str, str]:
    """The schema field that shows a stored field of an audited hub object."""
    return type_name, _AUDIT_FIELDS.get((type_name, key)) or camel(key)
