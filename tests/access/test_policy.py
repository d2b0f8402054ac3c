"""The access rules on their own: roles from claims, field decisions, small-cell suppression."""

from __future__ import annotations

import pytest

from ecehub.access.policy import Access, AccessPolicy
from ecehub.access.suppression import suppress
from ecehub.auth.middleware import Authentication
from ecehub.auth.tokens import Principal
from ecehub.config.model import Config
from ecehub.ids import encode_global_id

CONFIG = Config.model_validate(
    {
        "access": {
            "claims": {"roles": "groups", "programs": "prg", "support_types": "sectors"},
            "roles": {
                "admin": {"programs": "all", "write": ["all"], "detail": True},
                "sector": {"programs": "all", "support_types": "claim", "deny": ["Staff.*"]},
                "ta": {"programs": "claim", "write": ["note"]},
                "public": {"allow": ["Query.programs", "Program.name"], "programs": "all"},
            },
            "anonymous_role": "public",
            "default_role": "public",
            "sector_fields": {"Program.qrisRating": ["QRIS"]},
        }
    }
)


def _access(claims: dict[str, object] | None, user: str | None = "u") -> Access:
    auth = None if claims is None else Authentication("jwt", Principal(user or "", claims))
    return AccessPolicy(CONFIG).access_for(auth)


def test_the_first_listed_role_held_wins_and_claims_may_be_strings() -> None:
    assert _access({"groups": ["ta", "admin"]}).role == "admin"
    assert _access({"groups": "ta sector"}).role == "sector"
    assert _access({"groups": ["visitor"]}).role == "public"  # default_role
    assert _access(None).role == "public"  # anonymous_role


def test_programs_claim_takes_global_ids_and_hub_ids() -> None:
    gid = encode_global_id("Program", "LICENSE_NUMBER:CCL-1")
    access = _access({"groups": ["ta"], "prg": f"{gid},@qris:Q-9 nonsense"})
    assert access.programs == frozenset({"LICENSE_NUMBER:CCL-1", "@qris:Q-9"})
    assert _access({"groups": ["admin"]}).programs is None


def test_field_decisions() -> None:
    sector = _access({"groups": ["sector"], "sectors": ["LICENSING"]})
    assert sector.field_denial("Program", "name") is None
    assert "QRIS" in (sector.field_denial("Program", "qrisRating") or "")
    assert sector.field_denial("Staff", "email") is not None
    assert sector.field_denial("ProgramConnection", "edges") is None  # structural
    public = _access(None)
    assert public.field_denial("Program", "name") is None
    assert public.field_denial("Program", "phone") is not None
    assert public.field_denial("Query", "__schema") is None  # introspection: server.mode
    assert sector.sees_source(["LICENSING"]) and not sector.sees_source(["QRIS"])


def test_a_value_is_judged_by_every_schema_field_that_carries_it() -> None:
    sector = _access({"groups": ["sector"], "sectors": ["LICENSING"]})
    refused = sector.value_denial("staff", "birth_year")
    assert refused is not None and refused.field == "Staff.birthYear"
    assert "Staff.birthYear" in refused.reason
    # program.qris_level is shown as Program.qrisRating then QrisRating.level.
    qris = sector.value_denial("program", "qris_level")
    assert qris is not None and qris.field == "Program.qrisRating"
    assert sector.value_denial("program", "name") is None
    public = _access(None)
    assert public.value_denial("program", "name") is None
    # city is Program.address then Address.city: public may read neither.
    city = public.value_denial("program", "city")
    assert city is not None and city.field == "Program.address"
    # A field without a schema field of its own is judged as the one it would be.
    assert public.value_denial("program", "accreditation") is not None
    assert _access({"groups": ["admin"]}).value_denial("program", "accreditation") is None


def test_the_audit_view_hides_what_the_reader_may_not_read() -> None:
    note = {"author": "other", "visibility": "TEAM", "body": "secret", "version": 2}
    ta = _access({"groups": ["ta"]}, user="coach")
    assert ta.audit_view("NOTE", note) == note  # TEAM is in the default note_visibility
    private = {**note, "visibility": "PRIVATE"}
    assert ta.audit_view("NOTE", private) == {**private, "body": None}
    assert _access({"groups": ["ta"]}, user="other").audit_view("NOTE", private) == private
    # Field rules: a public reader may read no Note field at all.
    assert _access(None).audit_view("NOTE", note) == dict.fromkeys(note)
    # Refusals (and other kinds with no object fields) are left as they are.
    deny = {"asked": "Staff.email", "reason": "r", "operation": "query", "count": 1}
    assert _access(None).audit_view("FIELD", deny) == deny
    assert ta.audit_view("NOTE", None) is None


def test_without_an_access_section_nothing_is_restricted() -> None:
    access = AccessPolicy(Config()).access_for(None)
    assert not access.enabled and access.detail
    assert access.field_denial("Staff", "birthYear") is None
    assert access.value_denial("staff", "birth_year") is None


@pytest.mark.parametrize(
    ("counts", "hidden", "total"),
    [
        ([30, 40], [False, False], False),  # nothing small
        ([3, 50, 40], [True, False, True], False),  # one small: the next smallest goes too
        ([3, 4, 40], [True, True, True], False),  # 3 + 4 < 10 would be derivable
        ([3, 4], [True, True], True),  # everything small: the total too
        ([5], [True], True),
        ([0, 3, 40], [False, True, True], False),  # hiding a zero hides nothing
        ([None, 3, 12, 15], [False, True, True, False], False),  # unreported cells stay
        ([3, 8, 40, 41], [True, True, False, False], False),
    ],
)
def test_small_cell_suppression(counts: list[int | None], hidden: list[bool], total: bool) -> None:
    plan = suppress(counts, 10)
    assert list(plan.cells) == hidden and plan.total is total
    # Never derivable: no hidden cell is alone, and hidden cells sum to >= 10 or the total
    # is hidden as well.
    values = [c or 0 for c, h in zip(counts, plan.cells, strict=True) if h]
    assert not values or plan.total or (len(values) >= 2 and sum(values) >= 10)
