"""A query text sent again is parsed and validated once (issue 12), and every check still runs on
every request: the document limits, the page size and cost, the string inputs, persisted
queries, introspection in production; parse and validation errors are reported each time."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema
from graphql import parse

import ecehub.schema.limits as limits
from ecehub.config.model import PersistedQueriesConfig
from tests.graph_helpers import NESTED
from tests.schema.test_limits import limited_graph, refused

QUERY = (
    "query($n: Int!, $filter: ProgramFilter) "
    "{ programs(first: $n, filter: $filter) { nodes { name } } }"
)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How often graphql-core's parse and strawberry's validation run (patched before the
    app, so its parser cache wraps the counting parse)."""
    counts = {"parse": 0, "validate": 0}
    validate_document = strawberry_schema.validate_document

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        counts["parse"] += 1
        return parse(*args, **kwargs)

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        counts["validate"] += 1
        return validate_document(*args, **kwargs)

    monkeypatch.setattr(limits, "parse", counting_parse)
    monkeypatch.setattr(strawberry_schema, "validate_document", counting_validate)
    yield counts


async def test_a_text_sent_again_is_parsed_and_validated_once_and_still_checked(
    tmp_path: Path, counted: dict[str, int]
) -> None:
    async with limited_graph(tmp_path, max_page_size=50) as (_, client, _config):
        first = await client.query(QUERY, {"n": 2})
        assert counted == {"parse": 1, "validate": 1}
        too_large = await client.post(QUERY, {"n": 51})
        bad_input = await client.post(QUERY, {"n": 2, "filter": {"name": "a\x00b"}})
        again = await client.query(QUERY, {"n": 3})
        assert counted == {"parse": 1, "validate": 1}
    assert "errors" not in first and len(first["data"]["programs"]["nodes"]) == 2
    assert refused(too_large, "BAD_USER_INPUT")["extensions"]["maxPageSize"] == 50
    assert "NUL" in refused(bad_input, "BAD_USER_INPUT")["message"]
    assert "errors" not in again and len(again["data"]["programs"]["nodes"]) == 3


async def test_document_limits_refuse_every_time_without_validating(
    tmp_path: Path, counted: dict[str, int]
) -> None:
    async with limited_graph(tmp_path, max_depth=3) as (_, client, _config):
        for _ in range(3):
            refused(await client.post(NESTED, {"first": 5}), "QUERY_TOO_DEEP")
    assert counted == {"parse": 1, "validate": 0}


async def test_invalid_and_unparsable_texts_are_reported_every_time(
    tmp_path: Path, counted: dict[str, int]
) -> None:
    async with limited_graph(tmp_path) as (_, client, _config):
        invalid = [await client.post("{ programs(first: 1) { nodes { nope } } }") for _ in "ab"]
        unparsable = [await client.post("{ programs(first: 1) {") for _ in "ab"]
    for response in invalid:
        assert (
            "Cannot query field 'nope'" in refused(response, "GRAPHQL_VALIDATION_FAILED")["message"]
        )
    for response in unparsable:
        assert refused(response, "GRAPHQL_PARSE_FAILED")["message"].startswith("Syntax Error")
    assert counted["validate"] == 2  # a failed validation is not remembered


async def test_production_refuses_introspection_every_time(tmp_path: Path) -> None:
    async with limited_graph(tmp_path, mode="production") as (_, client, _config):
        for _ in range(2):
            refused(await client.post("{ __schema { types { name } } }"), "INTROSPECTION_DISABLED")
            assert (await client.query("{ __typename }"))["data"] == {"__typename": "Query"}


async def test_persisted_queries_are_checked_every_time(tmp_path: Path) -> None:
    allowed = "{ programs(first: 2) { nodes { name } } }"
    digest = hashlib.sha256(allowed.encode()).hexdigest()
    allow_file = tmp_path / "allowed-queries.json"
    allow_file.write_text(json.dumps({digest: allowed}))
    pq = PersistedQueriesConfig(mode="allow_list", file=allow_file)
    other = "{ programs(first: 3) { nodes { name } } }"
    async with limited_graph(tmp_path, persisted_queries=pq) as (_, client, _config):
        for _ in range(2):
            assert len((await client.query(allowed))["data"]["programs"]["nodes"]) == 2
            refused(await client.post(other), "PERSISTED_QUERY_NOT_ALLOWED")
