"""The QRIS REST API (aiohttp): the state's quality rating system, in its own JSON shape.

- Every request but ``GET /v1/health`` needs the ``X-API-Key`` header (401 JSON otherwise).
- List endpoints page with ``page`` (from 1) and ``per_page`` (default 100, at most 500; more
  is clamped) and answer ``{"data": [...], "meta": {"page", "perPage", "total"}}``.
- Comma-list parameters (``ids``, ``provider_ids``, ...) take at most 500 values; an unknown
  query parameter or a malformed value is a 400 JSON error, so a client's typo is not
  silently ignored.

Endpoints (each also takes ``ids``, its own record keys, for batch fetches):
``/v1/providers`` (``license_numbers``, ``level``, ``city``, ``county``, ``name_contains``),
``/v1/providers/{providerId}``, ``/v1/ratings``, ``/v1/coaching-visits``,
``/v1/assessments``, ``/v1/awards``, ``/v1/workforce``, ``/v1/contacts``,
``/v1/accreditations`` (``provider_ids``),
``/v1/assessment-subscales`` (``assessment_ids``), ``/v1/trainings`` (``registry_ids``),
``/v1/health``.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ecehub.demo.world import World

__all__ = [
    "API_KEY_HEADER",
    "MAX_LIST_VALUES",
    "MAX_PER_PAGE",
    "QrisServer",
    "make_qris_app",
    "serve_qris",
]

API_KEY_HEADER = "X-API-Key"
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500
MAX_LIST_VALUES = 500
HEALTH_PATH = "/v1/health"

Json = dict[str, Any]
Predicate = Callable[[Json], bool]
Filter = Callable[[str], Predicate]
"""Builds, from a query parameter's raw value, the test a record must pass."""


class _BadRequest(Exception):
    pass


def _values(raw: str) -> set[str]:
    values = {v.strip() for v in raw.split(",") if v.strip()}
    if len(values) > MAX_LIST_VALUES:
        raise _BadRequest(f"at most {MAX_LIST_VALUES} comma-separated values per parameter")
    return values


def _in_list(key: str) -> Filter:
    """The record's ``key`` is one of the comma-separated values."""

    def build(raw: str) -> Predicate:
        values = _values(raw)
        return lambda record: record[key] is not None and str(record[key]) in values

    return build


def _nested_eq(outer: str, inner: str) -> Filter:
    def build(raw: str) -> Predicate:
        return lambda record: bool(record[outer][inner] == raw)

    return build


def _level(raw: str) -> Predicate:
    try:
        level = int(raw)
    except ValueError:
        raise _BadRequest(f"level must be an integer 1-5, got {raw!r}") from None
    return lambda record: record["rating"] is not None and record["rating"]["level"] == level


def _name_contains(raw: str) -> Predicate:
    needle = raw.casefold()
    return lambda record: needle in str(record["displayName"]).casefold()


@dataclass(frozen=True)
class _Collection:
    path: str
    records: list[Json]
    filters: dict[str, Filter]


def _collections(world: World) -> list[_Collection]:
    q = world.qris
    by_provider = {"provider_ids": _in_list("providerId")}
    return [
        _Collection(
            "/v1/providers",
            [r.to_json() for r in q.providers],
            {
                "ids": _in_list("providerId"),
                "license_numbers": _in_list("licenseNumber"),
                "level": _level,
                "city": _nested_eq("location", "city"),
                "county": _nested_eq("location", "county"),
                "name_contains": _name_contains,
            },
        ),
        _Collection(
            "/v1/ratings",
            [r.to_json() for r in q.ratings],
            {"ids": _in_list("ratingId"), **by_provider},
        ),
        _Collection(
            "/v1/coaching-visits",
            [r.to_json() for r in q.coaching_visits],
            {"ids": _in_list("visitId"), **by_provider},
        ),
        _Collection(
            "/v1/assessments",
            [r.to_json() for r in q.assessments],
            {"ids": _in_list("assessmentId"), **by_provider},
        ),
        _Collection(
            "/v1/assessment-subscales",
            [r.to_json() for r in q.subscales],
            {"ids": _in_list("id"), "assessment_ids": _in_list("assessmentId")},
        ),
        _Collection(
            "/v1/awards",
            [r.to_json() for r in q.awards],
            {"ids": _in_list("awardId"), **by_provider},
        ),
        _Collection(
            "/v1/workforce",
            [r.to_json() for r in q.workforce],
            {"ids": _in_list("registryId"), **by_provider},
        ),
        _Collection(
            "/v1/contacts",
            [r.to_json() for r in q.contacts],
            {"ids": _in_list("contactId"), **by_provider},
        ),
        _Collection(
            "/v1/accreditations",
            [r.to_json() for r in q.accreditations],
            {"ids": _in_list("accreditationId"), **by_provider},
        ),
        _Collection(
            "/v1/trainings",
            [r.to_json() for r in q.trainings],
            {"ids": _in_list("trainingId"), "registry_ids": _in_list("registryId")},
        ),
    ]


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _positive_int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise _BadRequest(f"{name} must be a positive integer, got {raw!r}")
    return value


def _list_handler(collection: _Collection) -> Callable[[web.Request], Awaitable[web.Response]]:
    allowed = {"page", "per_page", *collection.filters}

    async def handle(request: web.Request) -> web.Response:
        unknown = sorted(set(request.query) - allowed)
        if unknown:
            raise _BadRequest(
                f"unknown query parameter {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}"
            )
        page = _positive_int(request, "page", 1)
        per_page = min(_positive_int(request, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
        records: Sequence[Json] = collection.records
        for name, build in collection.filters.items():
            if name in request.query:
                keep = build(request.query[name])
                records = [r for r in records if keep(r)]
        start = (page - 1) * per_page
        return web.json_response(
            {
                "data": records[start : start + per_page],
                "meta": {"page": page, "perPage": per_page, "total": len(records)},
            }
        )

    return handle


@dataclass
class _Settings:
    api_key: str
    delay_s: float
    served: int = 0
    """Requests received (any path), for tests comparing them with the hub's trace."""


_SETTINGS = web.AppKey("qris_settings", _Settings)


@web.middleware
async def _guard(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    settings = request.app[_SETTINGS]
    settings.served += 1
    if settings.delay_s > 0:
        await asyncio.sleep(settings.delay_s)
    if request.path != HEALTH_PATH:
        given = request.headers.get(API_KEY_HEADER, "")
        if not given or not hmac.compare_digest(given.encode(), settings.api_key.encode()):
            return _error(401, "unauthorized", f"missing or invalid {API_KEY_HEADER} header")
    try:
        return await handler(request)
    except _BadRequest as exc:
        return _error(400, "bad_request", str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)


def _build_app(collections: list[_Collection], settings: _Settings) -> web.Application:
    app = web.Application(middlewares=[_guard])
    app[_SETTINGS] = settings
    (listing,) = [c for c in collections if c.path == "/v1/providers"]
    providers = {r["providerId"]: r for r in listing.records}

    async def provider(request: web.Request) -> web.Response:
        record = providers.get(request.match_info["provider_id"])
        if record is None:
            return _error(404, "not_found", "no provider with that providerId")
        return web.json_response({"data": record})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "providers": len(providers)})

    for collection in collections:
        app.router.add_get(collection.path, _list_handler(collection))
    app.router.add_get("/v1/providers/{provider_id}", provider)
    app.router.add_get(HEALTH_PATH, health)
    return app


def make_qris_app(world: World, api_key: str, delay_s: float = 0.0) -> web.Application:
    """The QRIS API over ``world``'s QRIS records. ``delay_s`` is added to every request
    (latency for benchmarks and timeout tests)."""
    return _build_app(_collections(world), _Settings(api_key, delay_s))


class QrisServer:
    """The QRIS API on a loopback port that can be stopped and started again on the same
    port (so a client's base URL stays valid), e.g. to test a source going down."""

    def __init__(
        self,
        world: World,
        api_key: str,
        host: str = "127.0.0.1",
        port: int = 0,
        delay_s: float = 0.0,
    ) -> None:
        self._collections = _collections(world)
        self._settings = _Settings(api_key, delay_s)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("the QRIS server has not been started yet")
        return f"http://{self._host}:{self._port}"

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def delay_s(self) -> float:
        return self._settings.delay_s

    @delay_s.setter
    def delay_s(self, value: float) -> None:
        """Change the latency of a running server, from the next request on."""
        self._settings.delay_s = value

    @property
    def served(self) -> int:
        """HTTP requests received so far (any path)."""
        return self._settings.served

    async def start(self) -> str:
        if self._runner is not None:
            return self.url
        runner = web.AppRunner(
            _build_app(self._collections, self._settings),
            access_log=None,
            shutdown_timeout=0.25,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = int(runner.addresses[0][1])
        self._runner = runner
        return self.url

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


@asynccontextmanager
async def serve_qris(
    world: World,
    api_key: str,
    host: str = "127.0.0.1",
    port: int = 0,
    delay_s: float = 0.0,
) -> AsyncIterator[str]:
    """Serve the QRIS API for the duration of the block; yields its base URL
    (``http://127.0.0.1:PORT``, paths start with ``/v1``)."""
    server = QrisServer(world, api_key, host, port, delay_s)
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()
