"""The canonical entities and fields every connector maps its source onto.

A source's config maps its own tables/columns (or JSON paths) onto these names; the schema
reads only these names. Values are coerced here, once, so every connector hands the resolvers
the same Python types: ``str``, ``int``, ``float``, ``Decimal`` (money, exact), ``date``,
``datetime`` and ``list[str]``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

__all__ = [
    "ENTITIES",
    "EntitySpec",
    "FieldType",
    "coerce",
    "coercer",
    "identifier_field",
    "is_identifier_field",
]

FieldType = Literal["str", "int", "float", "decimal", "date", "datetime", "list"]

IDENTIFIER_PREFIX = "identifier:"


@dataclass(frozen=True)
class EntitySpec:
    name: str
    fields: dict[str, FieldType]
    parents: tuple[str, ...] = ()
    """Entities this one may hang under (config picks one with ``parent: {entity: column}``)."""


_ADDRESS: dict[str, FieldType] = {
    "address": "str",
    "city": "str",
    "county": "str",
    "state": "str",
    "zip": "str",
    "phone": "str",
    "email": "str",
}

ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in [
        EntitySpec(
            "program",
            {
                "name": "str",
                "program_type": "str",
                **_ADDRESS,
                "license_number": "str",
                "license_status": "str",
                "license_issued": "date",
                "license_expires": "date",
                "licensed_capacity": "int",
                "ages_served": "str",
                "qris_level": "int",
                "qris_rated_on": "date",
                "qris_expires_on": "date",
                "accreditation": "str",
                "period": "str",
            },
        ),
        EntitySpec(
            "site",
            {
                "name": "str",
                **_ADDRESS,
                "license_number": "str",
                "capacity": "int",
                "setting": "str",
                "service_option": "str",
                "period": "str",
            },
            parents=("program",),
        ),
        EntitySpec(
            "room",
            {
                "name": "str",
                "age_group": "str",
                "capacity": "int",
                "youngest_months": "int",
                "oldest_months": "int",
            },
            parents=("site", "program"),
        ),
        EntitySpec(
            "staff",
            {
                "first_name": "str",
                "last_name": "str",
                "role": "str",
                "education_level": "str",
                "credentials": "list",
                "pd_hours": "float",
                "hire_date": "date",
                "email": "str",
                "birth_year": "int",
            },
            parents=("program", "site", "room"),
        ),
        EntitySpec(
            "training",
            {"title": "str", "topic": "str", "completed_on": "date", "hours": "float"},
            parents=("staff",),
        ),
        EntitySpec(
            "checklist",
            {
                "name": "str",
                "kind": "str",
                "conducted_on": "date",
                "status": "str",
                "reviewer": "str",
            },
            parents=("program", "site"),
        ),
        EntitySpec(
            "checklist_response",
            {
                "item": "str",
                "citation": "str",
                "response": "str",
                "weight": "float",
                "note": "str",
                "corrective_action_due": "date",
            },
            parents=("checklist",),
        ),
        EntitySpec(
            "assessment",
            {
                "instrument": "str",
                "conducted_on": "date",
                "score": "float",
                "observer": "str",
                "scope": "str",
            },
            parents=("program", "site", "room"),
        ),
        EntitySpec(
            "assessment_score",
            {"domain": "str", "item": "str", "score": "float"},
            parents=("assessment",),
        ),
        EntitySpec(
            "enrollment",
            {
                "age_group": "str",
                "count": "int",
                "funded_slots": "int",
                "period": "str",
                "program_type": "str",
            },
            parents=("program", "site"),
        ),
        EntitySpec(
            "funding",
            {
                "amount": "decimal",
                "currency": "str",
                "purpose": "str",
                "funding_type": "str",
                "period_start": "date",
                "period_end": "date",
                "description": "str",
                "period": "str",
            },
            parents=("program",),
        ),
        EntitySpec(
            "rating",
            {"level": "int", "rated_on": "date", "expires_on": "date", "status": "str"},
            parents=("program",),
        ),
        EntitySpec(
            "contact",
            {"role": "str", "name": "str", "email": "str", "phone": "str"},
            parents=("program", "site"),
        ),
        EntitySpec(
            "accreditation",
            {"body": "str", "status": "str", "begins_on": "date", "ends_on": "date"},
            parents=("program", "site"),
        ),
        EntitySpec(
            "capacity",
            {"age_group": "str", "capacity": "int"},
            parents=("program", "site"),
        ),
        EntitySpec(
            "activity",
            {
                "kind": "str",
                "occurred_on": "date",
                "minutes": "int",
                "summary": "str",
                "staff_name": "str",
            },
            parents=("program",),
        ),
    ]
}


def identifier_field(system: str) -> str:
    """The filter field name that matches records by one of their identifiers."""
    return IDENTIFIER_PREFIX + system


def is_identifier_field(field: str) -> bool:
    return field.startswith(IDENTIFIER_PREFIX)


def _to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _to_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def _to_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None and str(v) != ""]
    return [part.strip() for part in str(value).replace(";", ",").split(",") if part.strip()]


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal: {value!r}") from exc


def _coerce_str(value: Any) -> Any:
    if value is None:
        return None
    return value.strip() if isinstance(value, str) else str(value)


def _typed(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A coercer of a non-text type: ``None`` and ``""`` read as ``None``."""

    def coerce_typed(value: Any) -> Any:
        if value is None or (isinstance(value, str) and value == ""):
            return None
        return convert(value)

    return coerce_typed


_COERCERS: dict[str, Callable[[Any], Any]] = {
    "str": _coerce_str,
    "int": _typed(int),
    "float": _typed(float),
    "decimal": _typed(_to_decimal),
    "date": _typed(_to_date),
    "datetime": _typed(_to_datetime),
    "list": _typed(_to_list),
}


def coercer(kind: FieldType) -> Callable[[Any], Any]:
    """The function ``coerce(kind, ...)`` applies, looked up once (e.g. once per field where
    many records are built). Raises ``ValueError`` for an unknown kind."""
    found = _COERCERS.get(kind)
    if found is None:
        raise ValueError(f"unknown field type {kind!r}")
    return found


def coerce(kind: FieldType, value: Any) -> Any:
    """Coerce a raw source value to the canonical Python type; ``None`` stays ``None``.

    Raises ``ValueError`` for a value that cannot be read as ``kind``.
    """
    found = _COERCERS.get(kind)
    if found is None:
        if value is None or (isinstance(value, str) and value == ""):
            return None
        raise ValueError(f"unknown field type {kind!r}")  # pragma: no cover
    return found(value)
