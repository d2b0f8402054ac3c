"""What the first page of ``programs(first: 10, filter: {supportTypes: [LICENSING], city:
"Springfield"})`` costs each example system: the hub's trace (connector calls, requests,
rows) next to the requests the open-data API itself counted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ecehub.app import create_app
from ecehub.config import load_config
from ecehub.resolvers.runtime import Runtime
from examples.systems import CONFIGS, ExampleSystems

__all__ = ["FIRST_PAGE", "FIRST_PAGE_FILTER", "FirstPage", "first_page"]

FIRST_PAGE = """query($filter: ProgramFilter) {
  programs(first: 10, filter: $filter) {
    pageInfo { hasNextPage }
    nodes {
      name
      address { city }
      supportTypes { code }
      license { number expiresOn }
      qrisRating { level normalisedLevel participating ratedOn }
      periods
      enrollment { total periods }
    }
  }
}"""
FIRST_PAGE_FILTER: dict[str, Any] = {"supportTypes": ["LICENSING"], "city": "Springfield"}


@dataclass
class FirstPage:
    body: dict[str, Any]
    """The GraphQL answer, ``extensions.sources`` holding the trace."""
    served: int
    """Requests the open-data API received for it."""

    @property
    def trace(self) -> dict[str, dict[str, Any]]:
        return {s["source"]: s for s in self.body["extensions"]["sources"]}


async def first_page(
    systems: ExampleSystems, query_filter: dict[str, Any] | None = None
) -> FirstPage:
    """The first page over ``examples/state.yaml``, traced (``X-Ecehub-Trace: 1``), from a
    hub that has answered nothing before."""
    config = load_config(CONFIGS["state"], env=systems.env)
    runtime = Runtime(config)
    transport = httpx.ASGITransport(app=create_app(config, runtime))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            before = systems.opendata.served
            answer = await client.post(
                "/graphql",
                json={
                    "query": FIRST_PAGE,
                    "variables": {"filter": query_filter or FIRST_PAGE_FILTER},
                },
                headers={"X-Ecehub-Trace": "1"},
            )
            served = systems.opendata.served - before
    finally:
        await runtime.aclose()
    answer.raise_for_status()
    return FirstPage(answer.json(), served)
