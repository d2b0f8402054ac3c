"""The QRIS API through a real loopback server and an aiohttp client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from ecehub.demo import QrisServer, World, serve_qris

KEY = "test-key-123"


@pytest.fixture
async def api(world: World) -> AsyncIterator[aiohttp.ClientSession]:
    """A client session on a running QRIS API, sending the key."""
    async with (
        serve_qris(world, KEY) as base_url,
        aiohttp.ClientSession(base_url, headers={"X-API-Key": KEY}) as session,
    ):
        yield session


async def _get(session: aiohttp.ClientSession, path: str, **params: Any) -> Any:
    async with session.get(path, params={k: str(v) for k, v in params.items()}) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def _all(session: aiohttp.ClientSession, path: str, **params: Any) -> list[Any]:
    out: list[Any] = []
    page = 1
    while True:
        body = await _get(session, path, page=page, per_page=500, **params)
        out += body["data"]
        if len(out) >= body["meta"]["total"] or not body["data"]:
            return out
        page += 1


async def test_requests_without_the_key_are_refused(world: World) -> None:
    async with serve_qris(world, KEY) as base_url, aiohttp.ClientSession(base_url) as session:
        for headers in ({}, {"X-API-Key": "wrong"}):
            async with session.get("/v1/providers", headers=headers) as resp:
                assert resp.status == 401
                assert resp.content_type == "application/json"
                body = await resp.json()
        assert body["error"]["code"] == "unauthorized"
        assert KEY not in str(body)
        async with session.get("/v1/health") as resp:
            assert resp.status == 200
            assert (await resp.json())["status"] == "ok"


async def test_providers_in_the_api_shape(api: aiohttp.ClientSession, world: World) -> None:
    body = await _get(api, "/v1/providers", per_page=2)
    assert body["meta"] == {"page": 1, "perPage": 2, "total": len(world.qris.providers)}
    first = body["data"][0]
    assert set(first) == {
        "providerId",
        "displayName",
        "licenseNumber",
        "programType",
        "location",
        "contact",
        "rating",
    }
    assert set(first["location"]) == {"street", "city", "county", "state", "zip"}
    assert set(first["contact"]) == {"phone", "email"}
    assert first == world.qris.providers[0].to_json()
    unrated = next(p for p in world.qris.providers if p.rating_level is None)
    body = await _get(api, "/v1/providers", ids=unrated.provider_id)
    assert body["data"][0]["rating"] is None


async def test_paging_covers_every_record_once(api: aiohttp.ClientSession, world: World) -> None:
    total = len(world.qris.trainings)
    assert total > 1000
    seen = [r["trainingId"] for r in await _all(api, "/v1/trainings")]
    assert seen == [t.training_id for t in world.qris.trainings]
    small = await _get(api, "/v1/providers", page=3, per_page=7)
    assert [p["providerId"] for p in small["data"]] == [
        p.provider_id for p in world.qris.providers[14:21]
    ]
    past_the_end = await _get(api, "/v1/providers", page=999, per_page=50)
    assert past_the_end["data"] == []
    assert past_the_end["meta"]["total"] == len(world.qris.providers)


async def test_per_page_is_capped_at_500(api: aiohttp.ClientSession) -> None:
    body = await _get(api, "/v1/trainings", per_page=5000)
    assert body["meta"]["perPage"] == 500
    assert len(body["data"]) == 500
    default = await _get(api, "/v1/trainings")
    assert default["meta"]["perPage"] == 100


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": 0}, "page must be a positive integer"),
        ({"per_page": "ten"}, "per_page must be a positive integer"),
        ({"page_size": 10}, "unknown query parameter 'page_size'"),
        ({"level": "gold"}, "level must be an integer"),
        ({"ids": ",".join(f"Q-{n:05d}" for n in range(501))}, "at most 500"),
    ],
)
async def test_bad_requests_are_400_json(
    api: aiohttp.ClientSession, params: dict[str, Any], message: str
) -> None:
    async with api.get("/v1/providers", params={k: str(v) for k, v in params.items()}) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert message in body["error"]["message"]


async def test_provider_filters(api: aiohttp.ClientSession, world: World) -> None:
    providers = world.qris.providers

    async def ids(**params: Any) -> list[str]:
        return [p["providerId"] for p in await _all(api, "/v1/providers", **params)]

    picked = [providers[5].provider_id, providers[9].provider_id, "Q-99999"]
    assert await ids(ids=",".join(picked)) == picked[:2]
    assert await ids(ids=f" {picked[1]} ,, {picked[0]}") == sorted(picked[:2])

    licensed = [p for p in providers if p.license_number][:3]
    numbers = ",".join(p.license_number or "" for p in licensed)
    assert await ids(license_numbers=numbers) == [p.provider_id for p in licensed]
    assert await ids(license_numbers="None") == []

    assert await ids(level=3) == [p.provider_id for p in providers if p.rating_level == 3]
    city = providers[0].city
    assert await ids(city=city) == [p.provider_id for p in providers if p.city == city]
    county = providers[0].county
    assert await ids(county=county) == [p.provider_id for p in providers if p.county == county]
    assert await ids(name_contains="LEARNING") == [
        p.provider_id for p in providers if "learning" in p.display_name.lower()
    ]
    both = await ids(level=4, city=city)
    assert both == [p.provider_id for p in providers if p.rating_level == 4 and p.city == city]


async def test_one_provider_by_id(api: aiohttp.ClientSession, world: World) -> None:
    provider = world.qris.providers[3]
    body = await _get(api, f"/v1/providers/{provider.provider_id}")
    assert body["data"] == provider.to_json()
    async with api.get("/v1/providers/Q-99999") as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["code"] == "not_found"
    async with api.get("/v1/nowhere") as resp:
        assert resp.status == 404
        assert resp.content_type == "application/json"


@pytest.mark.parametrize(
    ("path", "records", "key"),
    [
        ("/v1/ratings", "ratings", "ratingId"),
        ("/v1/coaching-visits", "coaching_visits", "visitId"),
        ("/v1/assessments", "assessments", "assessmentId"),
        ("/v1/awards", "awards", "awardId"),
        ("/v1/workforce", "workforce", "registryId"),
        ("/v1/contacts", "contacts", "contactId"),
        ("/v1/accreditations", "accreditations", "accreditationId"),
    ],
)
async def test_child_lists_filter_by_provider_ids(
    api: aiohttp.ClientSession, world: World, path: str, records: str, key: str
) -> None:
    rows = [r.to_json() for r in getattr(world.qris, records)]
    wanted = {p.provider_id for p in world.qris.providers[:40]}
    got = await _all(api, path, provider_ids=",".join(sorted(wanted)))
    assert got == [r for r in rows if r["providerId"] in wanted]
    assert got, f"no {records} for 40 providers"
    assert await _all(api, path) == rows
    some = [str(r[key]) for r in rows[:3]]
    assert [str(r[key]) for r in await _all(api, path, ids=",".join(some))] == some


async def test_subscales_and_trainings_filter_by_their_parents(
    api: aiohttp.ClientSession, world: World
) -> None:
    assessments = [a.assessment_id for a in world.qris.assessments[:5]]
    subscales = await _all(
        api, "/v1/assessment-subscales", assessment_ids=",".join(map(str, assessments))
    )
    assert {s["assessmentId"] for s in subscales} == set(assessments)
    assert set(subscales[0]) == {"id", "assessmentId", "subscale", "score"}
    registry_ids = [w.registry_id for w in world.qris.workforce[:10]]
    trainings = await _all(api, "/v1/trainings", registry_ids=",".join(registry_ids))
    assert {t["registryId"] for t in trainings} <= set(registry_ids)
    assert len(trainings) == sum(1 for t in world.qris.trainings if t.registry_id in registry_ids)
    assert set(trainings[0]) == {
        "trainingId",
        "registryId",
        "title",
        "topicArea",
        "completedOn",
        "clockHours",
    }


async def test_award_amounts_are_exact_decimal_strings(
    api: aiohttp.ClientSession, world: World
) -> None:
    awards = await _all(api, "/v1/awards")
    assert [a["amount"] for a in awards] == [f"{a.amount:.2f}" for a in world.qris.awards]
    assert all(isinstance(a["amount"], str) and a["amount"].count(".") == 1 for a in awards)
    assert {a["fundingSource"] for a in awards} == {"CCDF", "StateChildCareFunds"}


async def test_workforce_records(api: aiohttp.ClientSession, world: World) -> None:
    link = world.staff_links[0]
    body = await _get(api, "/v1/workforce", ids=link.registry_id)
    (member,) = body["data"]
    assert member["providerId"] == link.qris_provider_id
    assert isinstance(member["credentials"], list)
    assert isinstance(member["pdHours"], float)


async def test_delay_slows_every_request(world: World) -> None:
    async with (
        serve_qris(world, KEY, delay_s=0.2) as base_url,
        aiohttp.ClientSession(base_url, headers={"X-API-Key": KEY}) as session,
    ):
        start = time.perf_counter()
        await asyncio.gather(*(_get(session, "/v1/health") for _ in range(5)))
        elapsed = time.perf_counter() - start
    assert 0.2 <= elapsed < 1.0  # concurrent requests are delayed each, not queued


async def test_server_stops_and_starts_on_the_same_url(world: World) -> None:
    server = QrisServer(world, KEY)
    with pytest.raises(RuntimeError):
        _ = server.url
    url = await server.start()
    try:
        async with aiohttp.ClientSession(url, headers={"X-API-Key": KEY}) as session:
            assert (await _get(session, "/v1/health"))["status"] == "ok"
            await server.stop()
            assert not server.running
            with pytest.raises(aiohttp.ClientConnectionError):
                async with session.get("/v1/health"):
                    pass
            assert await server.start() == url
            assert (await _get(session, "/v1/providers", per_page=1))["data"]
            server.delay_s = 0.15
            start = time.perf_counter()
            await _get(session, "/v1/health")
            assert time.perf_counter() - start >= 0.15
    finally:
        await server.stop()
