"""Input rules of the hub store: each field's coercion, and the per-object field sets.

A store mutation takes a plain mapping (``{"title": ..., "due_date": ...}``); :func:`validate`
turns it into column values or raises :class:`~ecehub.errors.ValidationFailed` naming every
offending field at once. Values may come as Python objects or as the strings a GraphQL layer
passes on (ISO dates, decimal strings, enum names).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from ecehub.errors import ValidationFailed
from ecehub.hub.enums import (
    ActivityKind,
    FundingPurpose,
    GoalStatus,
    NoteVisibility,
    SubjectType,
    TaskStatus,
    TrainingStatus,
)
from ecehub.hub.models import HUB_ID_LENGTH

__all__ = [
    "ACTIVITY_FIELDS",
    "FILE_FIELDS",
    "FUNDING_FIELDS",
    "GOAL_FIELDS",
    "MAX_MINUTES",
    "MAX_MONEY",
    "NOTE_FIELDS",
    "PD_PLAN_FIELDS",
    "QIP_FIELDS",
    "TASK_FIELDS",
    "TRAINING_FIELDS",
    "Field",
    "Rules",
    "check_funding",
    "check_training",
    "validate",
]

MAX_MINUTES = 2**31 - 1
MAX_MONEY = Decimal("999999999999.99")  # NUMERIC(14, 2)
MAX_HOURS = Decimal("99999.99")  # NUMERIC(7, 2)
_SUPPORT_TYPE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Rules:
    """What depends on the deployment: the support-type codes the config declares (``None``
    accepts any UPPER_SNAKE code)."""

    support_types: frozenset[str] | None = None


Coerce = Callable[[Any, Rules], Any]


@dataclass(frozen=True)
class Field:
    coerce: Coerce
    required: bool = False
    default: Callable[[], Any] | None = None


def validate(
    fields: Mapping[str, Field], data: Mapping[str, Any], rules: Rules, *, partial: bool
) -> dict[str, Any]:
    """Coerce ``data`` by ``fields``. ``partial`` (an update) checks only the fields given;
    otherwise (a create) required fields must be there and the rest get their defaults."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in data:
        if name not in fields:
            errors[name] = "unknown field"
    for name, spec in fields.items():
        if name in data:
            try:
                values[name] = spec.coerce(data[name], rules)
            except ValueError as exc:
                errors[name] = str(exc)
        elif not partial:
            if spec.required:
                errors[name] = "required"
            elif spec.default is not None:
                values[name] = spec.default()
            else:
                values[name] = None
    if errors:
        raise ValidationFailed(errors)
    return values


# -- coercions: return the column value or raise ValueError(message) ---------------------------


def _text(value: object, max_length: int | None, required: bool) -> str:
    if value is None:
        return _text("", max_length, required)
    if not isinstance(value, str):
        raise ValueError("must be text")
    stripped = value.strip()
    if required and not stripped:
        raise ValueError("required")
    if max_length is not None and len(stripped) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    return stripped


def text(max_length: int | None = None, *, required: bool = False) -> Coerce:
    """A string; ``required`` refuses blank. Leading/trailing space is trimmed."""

    def coerce(value: Any, _rules: Rules) -> str:
        return _text(value, max_length, required)

    return coerce


def optional_text(max_length: int) -> Coerce:
    """A string or ``None``; blank becomes ``None``."""

    def coerce(value: Any, _rules: Rules) -> str | None:
        return _text(value, max_length, False) or None

    return coerce


def hub_id(value: Any, _rules: Rules) -> str:
    return _text(value, HUB_ID_LENGTH, True)


def optional_hub_id(value: Any, rules: Rules) -> str | None:
    return None if value is None else hub_id(value, rules)


def hub_ids(value: Any, rules: Rules) -> list[str]:
    """A list of hub IDs, duplicates dropped, order kept."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Collection):
        raise ValueError("must be a list of IDs")
    out: list[str] = []
    for item in value:
        try:
            ident = hub_id(item, rules)
        except ValueError:
            message = f"must be a list of IDs of at most {HUB_ID_LENGTH} characters"
            raise ValueError(message) from None
        if ident not in out:
            out.append(ident)
    return out


def optional_day(value: Any, _rules: Rules) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        raise ValueError("must be a date, not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("must be a date as YYYY-MM-DD") from None
    raise ValueError("must be a date as YYYY-MM-DD")


def day(value: Any, rules: Rules) -> dt.date:
    result = optional_day(value, rules)
    if result is None:
        raise ValueError("required")
    return result


def moment(value: Any, _rules: Rules) -> dt.datetime:
    """A point in time with a time zone, kept as UTC."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("must be an ISO 8601 date and time with a time zone") from None
    if not isinstance(value, dt.datetime):
        raise ValueError("must be an ISO 8601 date and time with a time zone")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must have a time zone (e.g. 2024-05-01T09:30:00-05:00)")
    return value.astimezone(dt.UTC)


def count(maximum: int) -> Coerce:
    """A whole number from 0 to ``maximum``."""

    def coerce(value: Any, _rules: Rules) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number")
        if value < 0:
            raise ValueError("must be 0 or more")
        if value > maximum:
            raise ValueError(f"must be at most {maximum}")
        return value

    return coerce


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("must be a decimal number")
    if isinstance(value, float):
        raise ValueError("must be a decimal string such as '12.50', not a binary float")
    if isinstance(value, str):
        value = value.strip()
    if not isinstance(value, Decimal | int | str):
        raise ValueError("must be a decimal number")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError("must be a decimal number such as 12.50") from None
    if not number.is_finite():
        raise ValueError("must be a finite number")
    return number


def _cents(number: Decimal, maximum: Decimal) -> Decimal:
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -2 and number != number.quantize(Decimal("0.01")):
        raise ValueError("must have at most 2 decimal places")
    if number > maximum:
        raise ValueError(f"must be at most {maximum}")
    return number.quantize(Decimal("0.01"))


def money(value: Any, _rules: Rules) -> Decimal:
    """An amount greater than 0 with at most 2 decimal places."""
    number = _decimal(value)
    if number <= 0:
        raise ValueError("must be greater than 0")
    return _cents(number, MAX_MONEY)


def hours(value: Any, _rules: Rules) -> Decimal:
    """Clock hours, 0 or more, to the hundredth. Floats are accepted (1.5 is 1.5 hours)."""
    if value is None:
        return Decimal("0.00")
    number = _decimal(str(value) if isinstance(value, float) else value)
    if number < 0:
        raise ValueError("must be 0 or more")
    return _cents(number, MAX_HOURS)


def one_of(cls: type[Enum]) -> Coerce:
    """A member of ``cls``, given as the member or its name."""

    def coerce(value: Any, _rules: Rules) -> Enum:
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and value in cls.__members__:
            return cls[value]
        raise ValueError(f"must be one of {', '.join(cls.__members__)}")

    return coerce


def support_type(value: Any, rules: Rules) -> str:
    if not isinstance(value, str) or not _SUPPORT_TYPE.match(value):
        raise ValueError("must be a support type code such as HEAD_START")
    if rules.support_types is not None and value not in rules.support_types:
        raise ValueError(f"unknown support type {value}: use one of {_listed(rules)}")
    return value


def optional_support_type(value: Any, rules: Rules) -> str | None:
    return None if value is None else support_type(value, rules)


def support_types(value: Any, rules: Rules) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Collection):
        raise ValueError("must be a list of support type codes")
    out: list[str] = []
    for item in value:
        code = support_type(item, rules)
        if code not in out:
            out.append(code)
    return out


def _listed(rules: Rules) -> str:
    return ", ".join(sorted(rules.support_types or ()))


def currency(value: Any, _rules: Rules) -> str:
    if not isinstance(value, str) or not _CURRENCY.match(value.strip().upper()):
        raise ValueError("must be a 3-letter ISO 4217 code such as USD")
    return value.strip().upper()


def sha256(value: Any, _rules: Rules) -> str:
    if not isinstance(value, str) or not _SHA256.match(value.lower()):
        raise ValueError("must be 64 hexadecimal digits")
    return value.lower()


# -- field sets --------------------------------------------------------------------------------

_TITLE = Field(text(200, required=True), required=True)
_DESCRIPTION = Field(text(), default=str)

QIP_FIELDS: Mapping[str, Field] = {"title": _TITLE}

GOAL_FIELDS: Mapping[str, Field] = {
    "title": _TITLE,
    "description": _DESCRIPTION,
    "support_types": Field(support_types, default=list),
    "target_date": Field(optional_day),
    "status": Field(one_of(GoalStatus), default=lambda: GoalStatus.NOT_STARTED),
    "position": Field(count(MAX_MINUTES)),  # None on create: after the last goal
}

TASK_FIELDS: Mapping[str, Field] = {
    "title": _TITLE,
    "description": _DESCRIPTION,
    "support_type": Field(optional_support_type),
    "owner": Field(optional_text(200)),
    "status": Field(one_of(TaskStatus), default=lambda: TaskStatus.NOT_STARTED),
    "due_date": Field(optional_day),
    "minutes_spent": Field(count(MAX_MINUTES), default=int),
}

# ``goal_ids`` is checked against the QIP's goals by the store.
PD_PLAN_FIELDS: Mapping[str, Field] = {
    "staff_id": Field(hub_id, required=True),
    "credential_target": Field(optional_text(200)),
    "planned_hours": Field(hours, default=lambda: Decimal("0.00")),
    "completed_hours": Field(hours, default=lambda: Decimal("0.00")),
    "notes": Field(text(), default=str),
    "goal_ids": Field(hub_ids, default=list),
}

TRAINING_FIELDS: Mapping[str, Field] = {
    "title": _TITLE,
    "topic": Field(text(200), default=str),
    "planned_on": Field(optional_day),
    "completed_on": Field(optional_day),
    "hours": Field(hours, default=lambda: Decimal("0.00")),
    "status": Field(one_of(TrainingStatus), default=lambda: TrainingStatus.PLANNED),
}

NOTE_FIELDS: Mapping[str, Field] = {
    "subject_type": Field(one_of(SubjectType), required=True),
    "subject_id": Field(hub_id, required=True),
    "support_type": Field(optional_support_type),
    "visibility": Field(one_of(NoteVisibility), default=lambda: NoteVisibility.TEAM),
    "body": Field(text(required=True), required=True),
}

ACTIVITY_FIELDS: Mapping[str, Field] = {
    "kind": Field(one_of(ActivityKind), required=True),
    "support_type": Field(optional_support_type),
    "occurred_at": Field(moment, required=True),
    "minutes": Field(count(MAX_MINUTES), default=int),
    "staff_ids": Field(hub_ids, default=list),
    "room_id": Field(optional_hub_id),
    "summary": Field(text(), default=str),
}

FILE_FIELDS: Mapping[str, Field] = {
    "subject_type": Field(one_of(SubjectType), required=True),
    "subject_id": Field(hub_id, required=True),
    "filename": Field(text(255, required=True), required=True),
    "content_type": Field(text(200, required=True), required=True),
    "size_bytes": Field(count(2**63 - 1), required=True),
    "sha256": Field(sha256, required=True),
    "storage_key": Field(text(500, required=True), required=True),
}

FUNDING_FIELDS: Mapping[str, Field] = {
    "amount": Field(money, required=True),
    "currency": Field(currency, default=lambda: "USD"),
    "support_type": Field(support_type, required=True),
    "purpose": Field(one_of(FundingPurpose), required=True),
    "period_start": Field(day, required=True),
    "period_end": Field(day, required=True),
    "qip_task_id": Field(optional_hub_id),
    "description": _DESCRIPTION,
}


# -- rules across fields, checked on the object as it would be after the write ----------------


def check_funding(state: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    start, end = state.get("period_start"), state.get("period_end")
    if start is not None and end is not None and end < start:
        errors["period_end"] = "must not be before period_start"
    if state.get("purpose") == FundingPurpose.QIP_TASK and state.get("qip_task_id") is None:
        errors["qip_task_id"] = "required when purpose is QIP_TASK"
    return errors


def check_training(state: Mapping[str, Any]) -> dict[str, str]:
    # A training may be completed before the day it was planned for: no order between them.
    if state.get("status") == TrainingStatus.COMPLETED and state.get("completed_on") is None:
        return {"completed_on": "required when status is COMPLETED"}
    return {}
