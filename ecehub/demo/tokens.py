"""The demo's development tokens, one per role, that the front end's sign-in offers
(``/app/dev-tokens``) and ``ecehub demo`` prints: minted fresh each time they are asked for, so
a demo left running never offers an expired token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecehub.auth.devtokens import DevKey
from ecehub.demo.hub_seed import COACH, DEFAULT_HUB_PROGRAMS, choose_programs
from ecehub.demo.hub_seed.plans import CONSULTANT, director_of
from ecehub.demo.world import World
from ecehub.ids import encode_global_id

__all__ = ["DemoTokens", "DemoUser", "demo_users"]


@dataclass(frozen=True)
class DemoUser:
    role: str
    label: str
    sub: str
    programs: tuple[str, ...] = ()
    support_types: tuple[str, ...] = ()


def demo_users(world: World) -> list[DemoUser]:
    """Who one can be in the demo: the state administrator, a TA coach with four of the
    seeded programs, the director of the first of them (a provider), a licensing consultant
    (sector staff) and an analyst."""
    seeded = choose_programs(world, DEFAULT_HUB_PROGRAMS)
    ta_programs = tuple(encode_global_id("Program", p.hub_id) for p in seeded[:4])
    return [
        DemoUser("state_admin", "State administrator", "state.admin@clearwater.example"),
        DemoUser("ta_staff", "TA coach (4 programs)", COACH, ta_programs),
        DemoUser(
            "provider",
            f"Provider: director of {seeded[0].name}",
            director_of(seeded[0]),
            ta_programs[:1],
        ),
        DemoUser(
            "sector_staff",
            "Licensing consultant (sector staff)",
            CONSULTANT,
            support_types=("LICENSING",),
        ),
        DemoUser("analyst", "Analyst (aggregates only)", "analyst@clearwater.example"),
    ]


class DemoTokens:
    """Callable roster for ``create_app(dev_tokens=...)``: a fresh token per demo user."""

    def __init__(self, key: DevKey, world: World) -> None:
        self.key = key
        self.users = demo_users(world)

    def token(self, role: str) -> str:
        user = next(u for u in self.users if u.role == role)
        return self._mint(user)

    def _mint(self, user: DemoUser) -> str:
        return self.key.mint(
            sub=user.sub,
            roles=[user.role],
            programs=list(user.programs),
            support_types=list(user.support_types),
        )

    def __call__(self) -> list[Mapping[str, Any]]:
        return [
            {
                "role": u.role,
                "label": u.label,
                "sub": u.sub,
                "programs": list(u.programs),
                "token": self._mint(u),
            }
            for u in self.users
        ]
