"""Who may see and do what: a request's :class:`Access`, made once from its authentication
and the config's ``access`` section.

The rules are data (``access.roles`` in the config); this module only applies them:

- programs in scope: ``all``, the token's ``programs`` claim, or ``none``;
- sector data: the sources whose support types the role sees (``support_types``: ``all``,
  the token's claim, or a fixed list); hub (shared) data is always seen;
- fields: ``allow``/``deny`` patterns of ``Type.field`` and ``sector_fields`` (a field only
  roles seeing one of its support types may read); :meth:`Access.value_denial` is the one
  rule for a value wherever it travels (a schema field, provenance, conflicts, a filter, the
  audit log), mapped to the schema's ``Type.field`` by :mod:`ecehub.access.fields`;
- notes: others' notes by visibility (:meth:`Access.reads_note`), wherever a body is shown;
- writes: the kinds of hub object a role may write, in its programs; notes of other authors
  only with ``edit_any_note``;
- detail: whether small counts are shown unsuppressed.

Without an ``access`` section nothing is restricted (development): :attr:`Access.enabled`
is false.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecehub.access.fields import AUDIT_TYPES, DERIVED_FIELDS, audit_field, field_path
from ecehub.auth.tokens import Authentication
from ecehub.config.model import AccessConfig, Config, RoleRule
from ecehub.errors import Forbidden
from ecehub.hub.enums import AuditAction, ObjectType
from ecehub.hub.transaction import WriteCheck
from ecehub.ids import InvalidId, decode_global_id

__all__ = ["STRUCTURAL_TYPES", "Access", "AccessPolicy", "Refusal", "claim_list", "note_readable"]

STRUCTURAL_TYPES = ("*Connection", "*Edge", "PageInfo", "__*")
"""Types whose fields an ``allow`` list need not name: pages and introspection."""


def claim_list(value: Any) -> list[str]:
    """A claim as a list of strings: a JSON list, or one space- or comma-separated string
    (as some identity providers send ``scope``-like claims)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, Iterable):
        return [str(v) for v in value if isinstance(v, str | int) and str(v)]
    return []


def note_readable(
    viewer: str | None, visibility: frozenset[str] | None, author: str, note_visibility: str
) -> bool:
    """Whether ``viewer`` reads a note of ``author`` with visibility ``note_visibility``: their
    own always, others' PRIVATE never, the rest when ``visibility`` (a role's
    ``note_visibility``; ``None``: every one but PRIVATE) holds it."""
    if viewer is not None and author == viewer:
        return True
    if note_visibility == "PRIVATE":
        return False
    return visibility is None or note_visibility in visibility


@dataclass(frozen=True)
class Refusal:
    """Why a value is not shown: the ``Type.field`` whose rule refuses it, and the rule."""

    field: str
    reason: str


def _program_hub_id(value: str) -> str | None:
    """A claim's program entry as a hub ID: an ecehub Program ID (as the API gives them)
    or a hub ID such as ``LICENSE_NUMBER:CCL-1``."""
    try:
        return decode_global_id(value, "Program")
    except InvalidId:
        return value if ":" in value else None


@dataclass(frozen=True)
class Access:
    """What one request may do. ``rule`` is ``None`` when access control is off
    (``enabled`` false: everything allowed) or when the request has no role (nothing
    allowed)."""

    user: str | None
    role: str | None
    rule: RoleRule | None
    enabled: bool
    programs: frozenset[str] | None = None
    """Hub IDs of the programs in scope as the token names them; ``None``: all."""
    support_types: frozenset[str] | None = None
    """Support types whose sector data this request sees; ``None``: all."""
    config: AccessConfig | None = None
    _fields: dict[tuple[str, str], str | None] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        return self.role or "no role"

    @property
    def detail(self) -> bool:
        """Whether small counts are shown as they are."""
        return not self.enabled or (self.rule is not None and self.rule.detail)

    @property
    def threshold(self) -> int:
        return self.config.small_cell_threshold if self.config else 0

    @property
    def note_visibility(self) -> frozenset[str] | None:
        """Visibilities of other authors' notes this request reads; ``None``: every one but
        PRIVATE."""
        if not self.enabled:
            return None
        return frozenset(self.rule.note_visibility) if self.rule else frozenset()

    def sees_source(self, support_types: Collection[str]) -> bool:
        """Whether a source of these support types is visible."""
        if not self.enabled:
            return True
        if self.rule is None:
            return False
        if self.support_types is None:
            return True
        return bool(self.support_types & set(support_types))

    def field_denial(self, type_name: str, field_name: str) -> str | None:
        """Why this request may not read ``type_name.field_name``, or ``None`` if it may."""
        if not self.enabled:
            return None
        key = (type_name, field_name)
        if key not in self._fields:
            self._fields[key] = self._decide(type_name, field_name)
        return self._fields[key]

    def value_denial(self, entity: str, name: str) -> Refusal | None:
        """THE rule for a canonical field's value (``staff``, ``birth_year``) wherever it is
        carried (its schema field, provenance, conflicts, a filter): refused when any schema
        field on its path (:func:`~ecehub.access.fields.field_path`, e.g. ``Staff.birthYear``
        or ``Program.license`` then ``License.status``) is one this request may not read."""
        return self._path_denial(field_path(entity, name))

    def audit_field_denial(self, type_name: str, key: str) -> Refusal | None:
        """The same rule for a stored field (``body``) of an audited hub object shown as
        ``type_name`` (``Note``), as the audit log's before/after carry it."""
        return self._path_denial((audit_field(type_name, key),))

    def _path_denial(self, path: tuple[tuple[str, str], ...]) -> Refusal | None:
        if not self.enabled:
            return None
        for type_name, field_name in path:
            reason = self.field_denial(type_name, field_name)
            if reason is not None:
                return Refusal(f"{type_name}.{field_name}", reason)
        return None

    def reads_note(self, author: str, visibility: str) -> bool:
        """Whether this request reads a note of ``author`` with this visibility (a PRIVATE
        note only its author; the rest by the role's ``note_visibility``)."""
        return note_readable(self.user, self.note_visibility, author, visibility)

    def audit_view(
        self, object_type: str, snapshot: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        """An audited object (an audit entry's ``before`` or ``after``) as this request may
        see it: each field it may not read (:meth:`audit_field_denial`) null, and a note's
        ``body`` null unless it reads that note (:meth:`reads_note`, judged on the snapshot's
        own author and visibility)."""
        if snapshot is None:
            return None
        shown = dict(snapshot)
        type_name = AUDIT_TYPES.get(object_type)
        if type_name is not None:
            for key, value in snapshot.items():
                if value is not None and self.audit_field_denial(type_name, key) is not None:
                    shown[key] = None
        if object_type == "NOTE" and not self.reads_note(
            str(snapshot.get("author")), str(snapshot.get("visibility"))
        ):
            shown["body"] = None
        return shown

    def _decide(self, type_name: str, field_name: str) -> str | None:
        assert self.config is not None
        path = f"{type_name}.{field_name}"
        if self.rule is None:
            who = "an anonymous request" if self.user is None else f"user {self.user!r}"
            return f"{who} has no role that may read {path}"
        structural = any(fnmatch.fnmatchcase(type_name, p) for p in STRUCTURAL_TYPES)
        if structural or field_name.startswith("__"):  # introspection: see server.mode
            return None
        if self.rule.allow is not None and not _matches(path, self.rule.allow):
            return f"role {self.role!r} may not read {path}"
        if _matches(path, self.rule.deny):
            return f"role {self.role!r} may not read {path}"
        for pattern, codes in self.config.sector_fields.items():
            if fnmatch.fnmatchcase(path, pattern) and not self.sees_source(codes):
                return f"{path} is {'/'.join(codes)} data, which role {self.role!r} does not see"
        derived_from = DERIVED_FIELDS.get((type_name, field_name))
        if derived_from is not None:
            reason = self.field_denial(*derived_from)
            if reason is not None:
                return f"{path} is computed from {'.'.join(derived_from)}: {reason}"
        return None

    def in_scope(self, canonical_scope: Collection[str] | None, program_id: str) -> bool:
        return canonical_scope is None or program_id in canonical_scope

    def check_kind(self, object_type: ObjectType, program_id: str | None = None) -> None:
        """Raise :class:`Forbidden` unless this request's role may write objects of this type
        at all (its ``write`` kinds), wherever they are."""
        if not self.enabled:
            return
        kind = _KINDS.get(object_type, object_type.value.lower())
        what = kind.replace("_", " ")
        if self.rule is None:
            raise Forbidden(f"{self.label} may not write a {what}", program_id=program_id)
        if kind not in self.rule.write:
            raise Forbidden(f"role {self.role!r} may not write a {what}", program_id=program_id)

    def check_program(self, canonical_scope: Collection[str] | None, program_id: str) -> None:
        """Raise :class:`Forbidden` unless ``program_id`` is in this request's scope."""
        if not self.in_scope(canonical_scope, program_id):
            raise Forbidden(
                f"program {program_id} is not among role {self.role!r}'s programs",
                program_id=program_id,
            )

    def check_write(self, check: WriteCheck, canonical_scope: Collection[str] | None) -> None:
        """Raise :class:`Forbidden` unless this request may make the write ``check``."""
        if not self.enabled:
            return
        self.check_kind(check.object_type, check.program_id)
        self.check_program(canonical_scope, check.program_id)
        assert self.rule is not None
        if (
            check.object_type is ObjectType.NOTE
            and check.action is not AuditAction.CREATE
            and check.before is not None
            and check.before.author != check.actor
            and not self.rule.edit_any_note
        ):
            raise Forbidden(
                "only a note's author (or a role with edit_any_note) may change it",
                program_id=check.program_id,
            )


_KINDS = {ObjectType.CROSSWALK_LINK: "crosswalk", ObjectType.HUB_ID: "crosswalk"}
"""Write kinds (``access.roles.<role>.write``) of object types that are not their own kind."""


def _matches(path: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


class AccessPolicy:
    """The config's access rules, applied to a request's authentication."""

    def __init__(self, config: Config) -> None:
        self.config = config.access

    def access_for(self, auth: Authentication | None) -> Access:
        user = auth.user if auth else None
        if self.config is None:
            return Access(user, None, None, enabled=False)
        claims: Mapping[str, Any] = auth.principal.claims if auth and auth.principal else {}
        names = self.config.claims
        held = set(claim_list(claims.get(names.roles)))
        role = next((r for r in self.config.roles if r in held), None)
        if role is None:
            role = self.config.anonymous_role if user is None else self.config.default_role
        rule = self.config.roles.get(role) if role else None
        if rule is None:
            return Access(user, None, None, enabled=True, config=self.config)
        programs: frozenset[str] | None = None
        if rule.programs == "none":
            programs = frozenset()
        elif rule.programs == "claim":
            found = (_program_hub_id(v) for v in claim_list(claims.get(names.programs)))
            programs = frozenset(p for p in found if p)
        types: frozenset[str] | None = None
        if rule.support_types == "claim":
            types = frozenset(claim_list(claims.get(names.support_types)))
        elif isinstance(rule.support_types, list):
            types = frozenset(rule.support_types)
        return Access(user, role, rule, True, programs, types, self.config)
