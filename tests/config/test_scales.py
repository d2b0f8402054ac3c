"""Level scales (``sources.<s>.entities.<e>.scales``): the normalised level as the README
defines it, filters on it in each source's own levels (exact against a brute force over
every level), conflicts by normalised level, and bad scales refused at load with the path."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecehub.access.policy import AccessPolicy
from ecehub.auth.middleware import Authentication
from ecehub.auth.tokens import Principal
from ecehub.config import parse_config
from ecehub.config.model import Config, EntityConfig
from ecehub.config.scales import LevelScale, normalised_field, normalised_level
from ecehub.connectors.base import FieldFilter, Record, matches
from ecehub.connectors.scaled import for_source
from ecehub.crosswalk.merge_policy import FieldValue, MergePolicy
from ecehub.errors import ConfigError


def _readme(level: int, low: int, high: int) -> Decimal:
    """README "QRIS scales": 1 + 4 (level - L) / (H - L), two decimals, half up."""
    exact = 1 + Fraction(4 * (level - low), high - low)
    return Decimal(math.floor(exact * 100 + Fraction(1, 2))) / 100


def test_the_normalised_level_of_common_scales() -> None:
    zero_to_four = LevelScale(min=0, max=4, not_participating=[0])
    assert [zero_to_four.normalised(v) for v in range(0, 5)] == [
        None,
        Decimal("1.00"),
        Decimal("2.33"),
        Decimal("3.67"),
        Decimal("5.00"),
    ]
    stars = LevelScale(min=1, max=3)
    assert [stars.normalised(v) for v in (1, 2, 3)] == [1, 3, 5]
    five = LevelScale(min=1, max=5)
    assert [five.normalised(v) for v in range(1, 6)] == [1, 2, 3, 4, 5]
    assert five.normalised(0) is None and five.normalised(6) is None  # off the scale
    assert not zero_to_four.participating(0) and zero_to_four.participating(1)
    # No scale declared: the level is its own normalised level (today's meaning).
    assert normalised_level(None, 7) == 7 and normalised_level(None, None) is None


SCALES = [
    LevelScale(min=low, max=high, not_participating=np)
    for low, high in [(0, 4), (1, 5), (1, 3), (0, 7), (1, 2), (-2, 2)]
    for np in ([], [low], [high], [low, high])
    if len([v for v in range(low, high + 1) if v not in np]) >= 2
]


@pytest.mark.parametrize("scale", SCALES, ids=lambda s: f"{s.min}-{s.max}-np{s.not_participating}")
def test_normalised_levels_follow_the_readme_and_filters_on_them_are_exact(
    scale: LevelScale,
) -> None:
    rated = scale.rated
    for level in range(scale.min - 2, scale.max + 3):
        expected = (
            _readme(level, rated[0], rated[-1])
            if scale.min <= level <= scale.max and level not in scale.not_participating
            else None
        )
        assert scale.normalised(level) == expected, level
    ent = EntityConfig(key="id", fields={"qris_level": "lvl"}, scales={"qris_level": scale})
    records = [
        Record("s", "program", str(v), {"qris_level": v})
        for v in range(scale.min - 2, scale.max + 3)
    ]
    bounds: list[Any] = [0, 1, 2, 2.5, 3, "3.67", 3.67, 4, 5, 6, "x"]
    cases = [("gte", b) for b in bounds] + [("lte", b) for b in bounds]
    cases += [("eq", b) for b in bounds] + [("in", [1, "5", 2.33])]
    for op, bound in cases:
        flt = FieldFilter(normalised_field("qris_level"), op, bound)  # type: ignore[arg-type]
        translated = for_source("s", ent, flt)
        assert translated.field == "qris_level" and translated.op == "in"
        found = {r.fields["qris_level"] for r in records if matches(r, [translated])}
        wanted = set()
        for r in records:
            position = scale.normalised(r.fields["qris_level"])
            if position is None:
                continue
            pool = bound if isinstance(bound, list) else [bound]
            try:
                values = [Decimal(str(b)) for b in pool]
            except ArithmeticError:
                continue
            if (
                (op == "gte" and position >= values[0])
                or (op == "lte" and position <= values[0])
                or (op in ("eq", "in") and position in values)
            ):
                wanted.add(r.fields["qris_level"])
        assert found == wanted, (op, bound)


def test_without_a_scale_the_filter_compares_whole_levels_as_they_are() -> None:
    ent = EntityConfig(key="id", fields={"qris_level": "lvl"})
    records = [Record("s", "program", str(v), {"qris_level": v}) for v in range(-1, 9)]
    for op, bound in itertools.product(("gte", "lte", "eq"), (0, 2, 2.5, 3, 7, "4", "x")):
        flt = FieldFilter(normalised_field("qris_level"), op, bound)  # type: ignore[arg-type]
        translated = for_source("s", ent, flt)
        assert translated.field == "qris_level"
        found = {r.fields["qris_level"] for r in records if matches(r, [translated])}
        try:
            b = Decimal(str(bound))
        except ArithmeticError:
            assert found == set()
            continue
        wanted = {
            v
            for v in range(-1, 9)
            if (op == "gte" and v >= b) or (op == "lte" and v <= b) or (op == "eq" and v == b)
        }
        assert found == wanted, (op, bound)
    with pytest.raises(ValueError, match="eq, in, gte or lte"):
        for_source("s", ent, FieldFilter(normalised_field("qris_level"), "contains", "3"))
    # Other filters pass through untouched (the same object: its compiled predicate is kept).
    plain = FieldFilter("qris_level", "gte", 3)
    assert for_source("s", ent, plain) is plain


def _values(*pairs: tuple[str, Any]) -> list[FieldValue]:
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [FieldValue(value, source, when) for source, value in pairs]


def test_levels_conflict_by_their_normalised_level() -> None:
    policy = MergePolicy(
        scales={
            ("a", "program", "qris_level"): LevelScale(min=0, max=4, not_participating=[0]),
            ("b", "program", "qris_level"): LevelScale(min=1, max=5),
            ("c", "program", "qris_level"): LevelScale(min=1, max=4),
        }
    )

    def conflict(*pairs: tuple[str, Any]) -> bool:
        return policy.conflicting("program", "qris_level", _values(*pairs))

    assert conflict(("a", 3), ("b", 4))  # 3.67 and 4
    assert not conflict(("c", 4), ("b", 5))  # both the top: 5
    assert conflict(("c", 4), ("b", 4))  # the same number, 5 and 4
    assert not conflict(("a", 4), ("c", 4))  # 1..4 rated on both
    assert not conflict(("a", 0), ("a", 0))
    assert conflict(("a", 0), ("b", 1))  # not participating vs rated
    assert conflict(("x", 3), ("y", 4)) and not conflict(("x", 3), ("y", 3))  # no scales
    assert policy.conflicting("program", "name", _values(("a", "ABC"), ("b", "abc "))) is False


def test_merge_policy_from_config_reads_each_sources_scales() -> None:
    config = parse_config(_config({"min": 0, "max": 4, "not_participating": [0]}))
    policy = MergePolicy.from_config(config)
    assert policy.scales[("qris", "program", "qris_level")].not_participating == [0]
    assert config.level_scale("qris", "program", "qris_level") is not None
    assert config.level_scale("qris", "program", "level") is None
    assert config.level_scale("nobody", "program", "qris_level") is None


def _config(scale: Any, **entity: Any) -> dict[str, Any]:
    program: dict[str, Any] = {
        "table": "provider",
        "key": "id",
        "fields": {"name": "name", "qris_level": "lvl"},
        "scales": {"qris_level": scale},
    }
    program.update(entity)
    return {
        "sources": {
            "qris": {
                "kind": "sql",
                "url": "sqlite+aiosqlite:///x.db",
                "entities": {"program": program},
            }
        }
    }


BASE = "sources.qris.entities.program"


@pytest.mark.parametrize(
    ("scale", "entity", "path", "message"),
    [
        ({"min": 4, "max": 4}, {}, f"{BASE}.scales.qris_level", "min (4) must be below max (4)"),
        ({"min": 5, "max": 1}, {}, f"{BASE}.scales.qris_level", "must be below max"),
        (
            {"min": 1, "max": 5, "not_participating": [0]},
            {},
            f"{BASE}.scales.qris_level",
            "not_participating [0] is outside min..max (1..5)",
        ),
        (
            {"min": 0, "max": 4, "not_participating": [0, 0]},
            {},
            f"{BASE}.scales.qris_level",
            "lists [0] twice",
        ),
        (
            {"min": 0, "max": 1, "not_participating": [0]},
            {},
            f"{BASE}.scales.qris_level",
            "fewer than two rated levels",
        ),
        ({"min": 0, "max": 5000}, {}, f"{BASE}.scales.qris_level", "more than 1000"),
        ({"min": 1, "max": 5, "step": 1}, {}, f"{BASE}.scales.qris_level.step", "unknown"),
        (
            {"min": 1, "max": 5},
            {"fields": {"name": "name"}},
            f"{BASE}.scales.qris_level",
            "not mapped in `fields`",
        ),
        (
            {"min": 1, "max": 5},
            {"values": {"qris_level": {"A": "5", "F": "9", "N": None}}},
            f"{BASE}.values.qris_level.F",
            "level 9 is outside the scale 1..5",
        ),
        (
            {"min": 1, "max": 5},
            {"values": {"qris_level": {"A": "gold"}}},
            f"{BASE}.values.qris_level.A",
            "'gold' is not a level",
        ),
    ],
)
def test_bad_scales_are_refused_at_load_with_path_and_fix(
    scale: Any, entity: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_config(scale, **entity), file="state.yaml")
    problems = dict(caught.value.problems)
    assert path in problems, caught.value.problems
    assert message in problems[path]
    assert str(caught.value).startswith("state.yaml: invalid configuration")


def test_a_scale_is_for_level_fields_only() -> None:
    data = _config({"min": 1, "max": 5})
    program = data["sources"]["qris"]["entities"]["program"]
    program["scales"] = {"name": {"min": 1, "max": 5}}
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    [(path, message)] = caught.value.problems
    assert path == f"{BASE}.scales.name"
    assert "'name' is not a level field of 'program'; scales are for: qris_level" in message
    # A rating's level takes a scale too; a site has no level field.
    rating = {"table": "rating", "key": "id", "fields": {"level": "lvl"}}
    rating["parent"] = {"program": "provider_id"}
    rating["scales"] = {"level": {"min": 1, "max": 3}}
    ok = _config({"min": 1, "max": 5})
    ok["sources"]["qris"]["entities"]["rating"] = rating
    assert parse_config(ok).level_scale("qris", "rating", "level") == LevelScale(min=1, max=3)
    site = {"table": "site", "key": "id", "scales": {"capacity": {"min": 1, "max": 3}}}
    bad = _config({"min": 1, "max": 5})
    bad["sources"]["qris"]["entities"]["site"] = site
    with pytest.raises(ConfigError) as caught:
        parse_config(bad)
    assert (
        "this entity has no level field"
        in dict(caught.value.problems)["sources.qris.entities.site.scales.capacity"]
    )


def test_values_may_map_a_level_to_null() -> None:
    config = parse_config(_config({"min": 1, "max": 5}, values={"qris_level": {"NA": None}}))
    program = config.sources["qris"].entities["program"]
    assert program.values == {"qris_level": {"NA": None}}


def test_a_role_that_may_not_read_the_level_may_not_read_what_is_computed_from_it() -> None:
    config = Config.model_validate(
        {
            "access": {
                "roles": {
                    "viewer": {"programs": "all", "deny": ["QrisRating.level"]},
                    "reader": {"programs": "all"},
                },
                "claims": {"roles": "groups"},
                "default_role": "viewer",
            }
        }
    )

    def denial(role: str, type_name: str, field_name: str) -> str | None:
        auth = Authentication("jwt", Principal("u", {"groups": [role]}))
        return AccessPolicy(config).access_for(auth).field_denial(type_name, field_name)

    for name in ("normalisedLevel", "participating", "scale"):
        reason = denial("viewer", "QrisRating", name)
        assert reason is not None and "computed from QrisRating.level" in reason
        assert denial("reader", "QrisRating", name) is None
    assert denial("viewer", "RatingEvent", "normalisedLevel") is None
    assert denial("viewer", "QrisRating", "ratedOn") is None


README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_readme_example_loads_and_its_table_is_what_the_hub_computes() -> None:
    start = README.index("### QRIS scales")
    example = re.search(r"```yaml\n(.*?)```", README[start:], re.S)
    assert example is not None
    config = parse_config(
        yaml.safe_load(example.group(1)), env={"STATE_QRIS_DB_URL": "sqlite+aiosqlite:///x.db"}
    )
    scale = config.level_scale("state_qris", "program", "qris_level")
    assert scale == LevelScale(min=0, max=4, not_participating=[0])
    table = README[start : README.index("Without `scales` nothing changes", start)]
    rows = re.findall(r"^\| ([^|]+) \| ([^|]+) \|$", table, re.M)[1:]
    scales = {
        "0-4, 0 not participating": scale,
        "1-5": LevelScale(min=1, max=5),
        "1-3 (stars)": LevelScale(min=1, max=3),
        "1-4": LevelScale(min=1, max=4),
        "none declared (the default)": None,
    }
    assert [name.strip() for name, _ in rows] == list(scales)
    for name, cells in rows:
        for cell in cells.split(": ")[-1].split(", "):
            level, shown = cell.split(" → ")
            expected = normalised_level(scales[name.strip()], int(level))
            if shown.startswith("none"):
                assert expected is None, (name, cell)
            else:
                assert expected == Decimal(shown.strip()), (name, cell)
