"""Input rules of the hub store: a pydantic model per kind of input, and the messages of its
refusals.

A store mutation takes a plain mapping (``{"title": ..., "due_date": ...}``); :func:`validate`
checks it against the kind's model and returns the column values, or raises
:class:`~ecehub.errors.ValidationFailed` naming every offending field at once. Values may come
as Python objects or as the strings a GraphQL layer passes on (ISO dates, decimal strings, enum
names).

The field types state the rules. Pydantic's own refusals get the hub's messages by error type
(:data:`_MESSAGES`); what pydantic cannot state (the deployment's support types, Python's
trimming and ISO parsing, one message for every way a code can be wrong) is a validator in the
type, raising its own message. Rules live in the types, never in model methods, so that the
models of updates (:func:`changes_model`) have them all.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import GroupedMetadata
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    create_model,
)
from pydantic_core import ErrorDetails, PydanticCustomError

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
    "MAX_MINUTES",
    "MAX_MONEY",
    "ActivityInput",
    "FileInput",
    "FundingInput",
    "GoalInput",
    "Input",
    "NoInput",
    "NoteChanges",
    "NoteInput",
    "PdPlanInput",
    "QipInput",
    "Rules",
    "TaskChanges",
    "TaskInput",
    "TrainingInput",
    "changes_model",
    "check_funding",
    "check_training",
    "validate",
]

MAX_MINUTES = 2**31 - 1
MAX_MONEY = Decimal("999999999999.99")  # NUMERIC(14, 2)
MAX_HOURS = Decimal("99999.99")  # NUMERIC(7, 2)


@dataclass(frozen=True)
class Rules:
    """What depends on the deployment: the support-type codes the config declares (``None``
    accepts any UPPER_SNAKE code). The models get it as their validation context."""

    support_types: frozenset[str] | None = None


# -- messages ----------------------------------------------------------------------------------

_MESSAGES: Mapping[str, str] = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "string_type": "must be text",
    "string_too_short": "required",
    "string_too_long": "must be at most {max_length} characters",
    "int_type": "must be a whole number",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be {ge} or more",
    "less_than_equal": "must be at most {le}",
    "decimal_type": "must be a decimal number",
    "decimal_parsing": "must be a decimal number such as 12.50",
    "finite_number": "must be a finite number",
    "decimal_max_places": "must have at most {decimal_places} decimal places",
    "date_type": "must be a date as YYYY-MM-DD",
    "datetime_type": "must be an ISO 8601 date and time with a time zone",
    "timezone_aware": "must have a time zone (e.g. 2024-05-01T09:30:00-05:00)",
}
"""The message of each pydantic error a hub input can raise, formatted with the error's
context; an enum's refusal lists its members (:func:`_message`)."""

_OURS = "ecehub"  # the error type of the refusals raised below, whose message is final


def _refusal(message: str) -> PydanticCustomError:
    return PydanticCustomError(_OURS, message)


def _says(message: str) -> WrapValidator:
    """Any refusal by pydantic's own checks of what this wraps becomes ``message``; refusals
    raised by validators inside stand."""

    def wrap(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            if all(error["type"] == _OURS for error in exc.errors()):
                raise
            raise _refusal(message) from None

    return WrapValidator(wrap)


def _from_text(convert: Callable[[str], Any]) -> BeforeValidator:
    """Text goes through ``convert`` first (Python's own trimming, case and ISO parsing); what
    it cannot convert, and what is not text, goes to the type's check as it is."""

    def before(value: Any) -> Any:
        try:
            return convert(value) if isinstance(value, str) else value
        except ValueError:
            return value

    return BeforeValidator(before)


def _is_none(value: Any) -> bool:
    return value is None


def _refuse(test: Callable[[Any], bool], message: str) -> BeforeValidator:
    """Refuses with ``message``, before the type's check, any value ``test`` picks out."""

    def before(value: Any) -> Any:
        if test(value):
            raise _refusal(message)
        return value

    return BeforeValidator(before)


def _or(default: Any) -> BeforeValidator:
    """``None`` stands for ``default``."""
    return BeforeValidator(lambda value: default if value is None else value)


# -- field types -------------------------------------------------------------------------------
# In ``Annotated`` the constraints come first, so that pydantic applies them to the type itself.
# Each validator wraps all listed before it: the last before-validator listed runs first.

_TRIMMED = _from_text(str.strip)
_DISTINCT = AfterValidator(lambda items: list(dict.fromkeys(items)))  # order kept


@dataclass(frozen=True)
class _Text(GroupedMetadata):
    """Text, trimmed (``None`` is blank), of at most ``max_length`` characters; ``required``
    refuses blank."""

    max_length: int | None = None
    required: bool = False

    def __iter__(self) -> Iterator[object]:
        min_length = 1 if self.required else None
        yield StringConstraints(strict=True, min_length=min_length, max_length=self.max_length)
        yield _TRIMMED
        yield _or("")


Text = Annotated[str, _Text()]
Title = Annotated[str, _Text(200, required=True)]
Name = Annotated[str, _Text(200), AfterValidator(lambda text: text or None)] | None
"""Short text or ``None``; blank is ``None``."""
Id = Annotated[str, _Text(HUB_ID_LENGTH, required=True)]
"""A hub ID."""
Ids = Annotated[
    list[Annotated[Id, _says(f"must be a list of IDs of at most {HUB_ID_LENGTH} characters")]],
    _says("must be a list of IDs"),
    _DISTINCT,
    _or(()),
]

Day = Annotated[
    dt.date,
    Strict(),
    _from_text(lambda text: dt.date.fromisoformat(text.strip())),
    _refuse(lambda value: isinstance(value, dt.datetime), "must be a date, not a date and time"),
]
Moment = Annotated[
    AwareDatetime,
    Strict(),
    _from_text(lambda text: dt.datetime.fromisoformat(text.strip())),
    AfterValidator(lambda moment: moment.astimezone(dt.UTC)),
]
"""A point in time with a time zone, kept as UTC."""

Count = Annotated[int, Strict(), Field(ge=0, le=MAX_MINUTES)]

_IN_CENTS = AfterValidator(lambda number: number.quantize(Decimal("0.01")))
Money = Annotated[
    Decimal,
    Field(allow_inf_nan=False, decimal_places=2, gt=0, le=MAX_MONEY),
    _TRIMMED,
    _refuse(
        lambda value: isinstance(value, float),
        "must be a decimal string such as '12.50', not a binary float",
    ),
    _IN_CENTS,
]
Hours = Annotated[
    Decimal,
    Field(allow_inf_nan=False, decimal_places=2, ge=0, le=MAX_HOURS),
    _TRIMMED,
    BeforeValidator(lambda value: str(value) if isinstance(value, float) else value),
    _or(Decimal(0)),
    _IN_CENTS,
]
"""Clock hours to the hundredth; a float is taken as written (1.5 is 1.5 hours)."""


def _declared(code: str, info: ValidationInfo) -> str:
    rules: Rules = info.context or Rules()
    if rules.support_types is not None and code not in rules.support_types:
        listed = ", ".join(sorted(rules.support_types))
        raise _refusal(f"unknown support type {code}: use one of {listed}")
    return code


SupportType = Annotated[
    str,
    StringConstraints(strict=True, pattern=r"^[A-Z][A-Z0-9_]*$"),
    _says("must be a support type code such as HEAD_START"),
    AfterValidator(_declared),
]
SupportTypes = Annotated[
    list[SupportType], _says("must be a list of support type codes"), _DISTINCT, _or(())
]
Currency = Annotated[
    str,
    StringConstraints(strict=True, pattern=r"^[A-Z]{3}$"),
    _from_text(lambda text: text.strip().upper()),
    _says("must be a 3-letter ISO 4217 code such as USD"),
]
Sha256 = Annotated[
    str,
    StringConstraints(strict=True, pattern=r"^[0-9a-f]{64}$"),
    _from_text(str.lower),
    _says("must be 64 hexadecimal digits"),
]


# -- the inputs --------------------------------------------------------------------------------


class Input(BaseModel):
    """The fields of one kind of input: a field without a default is required."""

    model_config = ConfigDict(extra="forbid")


class NoInput(Input):
    """No fields: for what the store alone makes (crosswalk links) or what cannot change (a
    file attachment's record)."""


class QipInput(Input):
    title: Title


class GoalInput(Input):
    title: Title
    description: Text = ""
    support_types: SupportTypes = Field(default_factory=list)
    target_date: Day | None = None
    status: GoalStatus = GoalStatus.NOT_STARTED
    # Not given: after the last goal. Given, never null.
    position: Annotated[Count | None, _refuse(_is_none, "must be a whole number")] = None


class TaskInput(Input):
    title: Title
    description: Text = ""
    support_type: SupportType | None = None
    owner: Name = None
    status: TaskStatus = TaskStatus.NOT_STARTED
    due_date: Day | None = None
    minutes_spent: Count = 0


class TaskChanges(TaskInput):
    """A task may move to another goal."""

    goal_id: Id


class PdPlanInput(Input):
    """``goal_ids`` is checked against the QIP's goals by the store."""

    staff_id: Id
    credential_target: Name = None
    planned_hours: Hours = Decimal("0.00")
    completed_hours: Hours = Decimal("0.00")
    notes: Text = ""
    goal_ids: Ids = Field(default_factory=list)


class TrainingInput(Input):
    title: Title
    topic: Annotated[str, _Text(200)] = ""
    planned_on: Day | None = None
    completed_on: Day | None = None
    hours: Hours = Decimal("0.00")
    status: TrainingStatus = TrainingStatus.PLANNED


class NoteChanges(Input):
    """What a note may change: not its subject."""

    support_type: SupportType | None = None
    visibility: NoteVisibility = NoteVisibility.TEAM
    body: Annotated[str, _Text(required=True)]


class NoteInput(NoteChanges):
    subject_type: SubjectType
    subject_id: Id


class ActivityInput(Input):
    kind: ActivityKind
    support_type: SupportType | None = None
    occurred_at: Moment
    minutes: Count = 0
    staff_ids: Ids = Field(default_factory=list)
    room_id: Id | None = None
    summary: Text = ""


class FileInput(Input):
    subject_type: SubjectType
    subject_id: Id
    filename: Annotated[str, _Text(255, required=True)]
    content_type: Annotated[str, _Text(200, required=True)]
    size_bytes: Annotated[int, Strict(), Field(ge=0, le=2**63 - 1)]
    sha256: Sha256
    storage_key: Annotated[str, _Text(500, required=True)]


class FundingInput(Input):
    amount: Money
    currency: Currency = "USD"
    support_type: SupportType
    purpose: FundingPurpose
    period_start: Annotated[Day, _refuse(_is_none, "required")]
    period_end: Annotated[Day, _refuse(_is_none, "required")]
    qip_task_id: Id | None = None
    description: Text = ""


# -- checking ----------------------------------------------------------------------------------

_Fixed = Annotated[Any, _refuse(lambda _value: True, "cannot be changed")]


@functools.cache
def changes_model(fields: type[Input], changeable: type[Input]) -> type[Input]:
    """What an update may name: the fields of ``changeable``, none required, and the other
    ``fields``, refused. Only the fields given are checked (defaults are not)."""
    fixed = [name for name in fields.model_fields if name not in changeable.model_fields]
    definitions: dict[str, Any] = {name: (_Fixed, None) for name in fixed}
    for name, field in changeable.model_fields.items():
        definitions[name] = (field.rebuild_annotation(), None)
    model: type[Input] = create_model(f"{fields.__name__}Update", __base__=Input, **definitions)
    return model


def validate(
    model: type[Input], data: Mapping[str, Any], rules: Rules, *, partial: bool
) -> dict[str, Any]:
    """``data`` checked by ``model``: its values, or ValidationFailed. ``partial`` (an update,
    by a :func:`changes_model`) returns the fields given; otherwise (a create) every field, with
    the defaults of those not given."""
    try:
        parsed = model.model_validate(data, context=rules)
    except ValidationError as exc:
        raise ValidationFailed(_field_errors(model, exc)) from None
    return {name: value for name, value in parsed if name in parsed.model_fields_set or not partial}


def _field_errors(model: type[Input], exc: ValidationError) -> dict[str, str]:
    """One message per field (its first refusal), unknown fields first."""
    errors: dict[str, str] = {}
    for error in sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden"):
        field = str(error["loc"][0])
        errors.setdefault(field, _message(model, field, error))
    return errors


def _message(model: type[Input], field: str, error: ErrorDetails) -> str:
    if error["type"] == "enum":
        members = getattr(model.model_fields[field].annotation, "__members__", {})
        return f"must be one of {', '.join(members)}"
    template = _MESSAGES.get(error["type"])
    return error["msg"] if template is None else template.format(**error.get("ctx", {}))


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
