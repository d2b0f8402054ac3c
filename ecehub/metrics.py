"""Prometheus metrics of one app, in a registry of its own (never prometheus-client's global
one, so several apps in one process, tests among them, do not collide).

- GraphQL operations (counted by the /graphql view, :mod:`ecehub.edge`): by operation type,
  operation name and outcome, their latency, and their errors by code.
- Source calls (counted by the gateway, :mod:`ecehub.sources.gateway`, which every connector
  call goes through): by source, entity and method, their latency, and failures by code.
- Each source's guard (:mod:`ecehub.sources.resilience`): its breaker's state and
  transitions, retries, calls refused without reaching it, the wait for a slot, calls in
  flight.
- The source cache (:mod:`ecehub.sources.cache`): lookups by source, entity and result (hit,
  miss, stale), and backend failures.
- HTTP answers by route and status (:class:`HttpMetrics`, outermost middleware): the requests
  refused at the edge (429, 413, 401, 400, 405) among them.
- The hub store's connection pool, read when scraped.

No label holds anything a client chose freely: operation names are capped
(:data:`MAX_OPERATION_NAMES`, the persisted queries' names always kept), routes are the app's
own, codes are ecehub's. Nothing per user, and no secret.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ANONYMOUS",
    "CONTENT_TYPE",
    "MAX_OPERATION_NAMES",
    "OTHER",
    "HttpMetrics",
    "Metrics",
    "PoolStatus",
    "outcome_of",
    "route_of",
]

MAX_OPERATION_NAMES = 100
"""Distinct operation names counted under their own name (besides the persisted queries');
past it a new name is counted as :data:`OTHER`."""

ANONYMOUS = "anonymous"
"""The operation name of an operation without one."""

OTHER = "other"
"""The operation name of every operation past the cap, and of a name that is not a GraphQL
name."""

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The media type of the Prometheus text format, as /metrics answers it."""

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,47}")

# Seconds. A query over a few sources answers in milliseconds to a second or two; a source's
# own timeout_s bounds a call (5 s by default).
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# Seconds a call waits for a slot of its source: none at all while the source keeps up, up to
# the source's slot_wait_s (its timeout_s by default) when it does not.
_WAIT_BUCKETS = (0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_ROUTES = ("/graphql", "/healthz", "/readyz", "/metrics", "/app")
_PREFIXES = (
    ("/files/", "/files/{id}"),
    ("/graphiql/", "/graphiql/static"),
    ("/app/", "/app"),  # the front end's page, files, settings and operations
)

PoolStatus = Callable[[], "tuple[int, int] | None"]
"""Gives the hub store pool's (connections in use, pool size), or ``None`` while the store is
not open or its pool does not count them."""


def _code(value: object) -> str:
    text = str(value) if value else ""
    return text if _CODE.fullmatch(text) else "OTHER"


def outcome_of(has_data: bool, codes: Sequence[str]) -> str:
    """An operation's outcome from whether it gave data and its errors' codes: ``ok`` (no
    error), ``partial`` (data and errors), else by the class of its errors:
    ``server_error`` (any ``INTERNAL_SERVER_ERROR``), ``source_error`` (every error a
    source's: ``SOURCE_*``) or ``client_error`` (the request's: parse, validation, limits,
    input, access)."""
    if not codes:
        return "ok"
    if has_data:
        return "partial"
    if "INTERNAL_SERVER_ERROR" in codes:
        return "server_error"
    if all(c.startswith("SOURCE_") for c in codes):
        return "source_error"
    return "client_error"


def route_of(path: str) -> str:
    """The app's route a path falls under (``other`` for anything else: a 404)."""
    if path in _ROUTES:
        return path
    for prefix, route in _PREFIXES:
        if path.startswith(prefix):
            return route
    return "other"


class _Pool(Collector):
    """The hub store pool's gauges, read at scrape time (nothing while the store is closed)."""

    def __init__(self, status: PoolStatus) -> None:
        self.status = status

    def describe(self) -> Iterable[Metric]:
        return []  # so registering it does not read the pool

    def collect(self) -> Iterator[Metric]:
        status = self.status()
        if status is None:
            return
        in_use, size = status
        yield GaugeMetricFamily(
            "ecehub_hub_store_connections_in_use",
            "Connections of the hub store's pool checked out now",
            value=in_use,
        )
        yield GaugeMetricFamily(
            "ecehub_hub_store_pool_size", "Connections the hub store's pool keeps", value=size
        )


class Metrics:
    """The metrics of one app and the calls that record them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._known: frozenset[str] = frozenset()
        self._only_known = False
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        r = self.registry
        self.operations = Counter(
            "ecehub_graphql_requests",
            "GraphQL operations by type, name and outcome "
            "(ok, partial, client_error, source_error, server_error)",
            ["operation_type", "operation_name", "outcome"],
            registry=r,
        )
        self.operation_seconds = Histogram(
            "ecehub_graphql_request_duration_seconds",
            "Time to answer a GraphQL operation (parse, validate, execute)",
            ["operation_type", "operation_name"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.operation_errors = Counter(
            "ecehub_graphql_errors",
            "Errors in GraphQL answers by extensions.code",
            ["code"],
            registry=r,
        )
        self.source_calls = Counter(
            "ecehub_source_calls",
            "Calls to a source by source, entity and method (fetch, children, find)",
            ["source", "entity", "method"],
            registry=r,
        )
        self.source_seconds = Histogram(
            "ecehub_source_call_duration_seconds",
            "Time a source call took, failed ones included",
            ["source", "entity", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.source_errors = Counter(
            "ecehub_source_errors",
            "Failed source calls by source and code (SOURCE_UNAVAILABLE, SOURCE_TIMEOUT, "
            "SOURCE_CIRCUIT_OPEN)",
            ["source", "code"],
            registry=r,
        )
        self.breaker_state = Gauge(
            "ecehub_source_breaker_state",
            "A source's circuit breaker: 0 closed, 1 half-open (probing), 2 open (failing fast)",
            ["source"],
            registry=r,
        )
        self.breaker_transitions = Counter(
            "ecehub_source_breaker_transitions",
            "Changes of a source's circuit breaker, by the state it went to",
            ["source", "state"],
            registry=r,
        )
        self.source_retries = Counter(
            "ecehub_source_retries",
            "Source reads tried again after a failure (each retry once)",
            ["source"],
            registry=r,
        )
        self.source_refused = Counter(
            "ecehub_source_refused",
            "Calls refused without reaching the source: circuit_open (breaker open, or its "
            "probe under way), no_slot (no free slot within slot_wait_s)",
            ["source", "reason"],
            registry=r,
        )
        self.source_slot_wait = Histogram(
            "ecehub_source_slot_wait_seconds",
            "Time a call waited for a slot of its source (max_in_flight), not in timeout_s",
            ["source"],
            buckets=_WAIT_BUCKETS,
            registry=r,
        )
        self.source_in_flight = Gauge(
            "ecehub_source_calls_in_flight",
            "Calls to a source holding a slot now",
            ["source"],
            registry=r,
        )
        self.cache_lookups = Counter(
            "ecehub_cache_lookups",
            "Source answers looked up in the cache by source, entity and result: hit (served "
            "from the cache), miss (asked the source), stale (a miss whose source failed, "
            "answered by an older entry); per key, per page for listings",
            ["source", "entity", "result"],
            registry=r,
        )
        self.cache_errors = Counter(
            "ecehub_cache_errors",
            "Cache backend operations that failed (the sources were read live instead)",
            ["operation"],
            registry=r,
        )
        self.http = Counter(
            "ecehub_http_requests",
            "HTTP requests by route and status; 4xx are refused at the edge (429 rate "
            "limited, 413 too large, 401 bad token, 400 malformed, 405 method)",
            ["route", "status"],
            registry=r,
        )

    def know_operations(self, names: Iterable[str], *, only: bool = False) -> None:
        """``names`` (the persisted queries') are always counted under their own name, beside
        the capped others; ``only``: every other name is :data:`OTHER` (allow-list mode, where
        no other operation runs)."""
        self._known = frozenset(n for n in names if _NAME.fullmatch(n))
        self._only_known = only

    def watch_pool(self, status: PoolStatus) -> None:
        """Report the hub store pool's use at every scrape, as ``status`` gives it."""
        self.registry.register(_Pool(status))

    def operation_name(self, name: str | None) -> str:
        """The label of an operation name: ``anonymous`` without one; the name when it is
        known or among the first :data:`MAX_OPERATION_NAMES` seen; else ``other``."""
        if not name:
            return ANONYMOUS
        if name in self._known:
            return name
        if self._only_known or not _NAME.fullmatch(name):
            return OTHER
        with self._lock:
            if name in self._seen:
                return name
            if len(self._seen) < MAX_OPERATION_NAMES:
                self._seen.add(name)
                return name
        return OTHER

    def operation(
        self,
        operation_type: str | None,
        name: str | None,
        has_data: bool,
        codes: Sequence[object],
        seconds: float,
    ) -> None:
        """Count one GraphQL operation (``operation_type`` ``None``: its document did not
        parse, or named no operation in it)."""
        kind = operation_type if operation_type in ("query", "mutation") else "unknown"
        label = self.operation_name(name) if kind != "unknown" else ANONYMOUS
        clean = [_code(c) for c in codes]
        self.operations.labels(kind, label, outcome_of(has_data, clean)).inc()
        self.operation_seconds.labels(kind, label).observe(seconds)
        for code in clean:
            self.operation_errors.labels(code).inc()

    def source_call(
        self, source: str, entity: str, method: str, seconds: float, error: str | None
    ) -> None:
        """Count one call the gateway made (``error``: the code it failed with)."""
        self.source_calls.labels(source, entity, method).inc()
        self.source_seconds.labels(source, entity, method).observe(seconds)
        if error is not None:
            self.source_errors.labels(source, _code(error)).inc()

    def breaker_changed(self, source: str, state: int, name: str | None) -> None:
        """A source's breaker went to ``state`` (0 closed, 1 half-open, 2 open) called
        ``name``; ``name`` ``None``: its first state, at start-up (not a transition)."""
        self.breaker_state.labels(source).set(state)
        if name is not None:
            self.breaker_transitions.labels(source, name).inc()

    def source_retry(self, source: str) -> None:
        self.source_retries.labels(source).inc()

    def source_refusal(self, source: str, reason: str) -> None:
        """A call refused without reaching the source: ``circuit_open`` or ``no_slot``."""
        self.source_refused.labels(source, reason).inc()

    def slot_waited(self, source: str, seconds: float) -> None:
        self.source_slot_wait.labels(source).observe(seconds)

    def in_flight(self, source: str, change: int) -> None:
        self.source_in_flight.labels(source).inc(change)

    def cache_lookup(self, source: str, entity: str, result: str, count: int = 1) -> None:
        """Count ``count`` answers looked up in the source cache (``result``: ``hit``,
        ``miss`` or ``stale``; source and entity are the config's, so bounded)."""
        self.cache_lookups.labels(source, entity, result).inc(count)

    def cache_error(self, operation: str) -> None:
        """Count one failed cache backend operation (``get``, ``set``, ``generations``)."""
        self.cache_errors.labels(operation).inc()

    def http_request(self, path: str, status: int) -> None:
        self.http.labels(route_of(path), str(status)).inc()

    def exposition(self) -> bytes:
        """Every metric in the Prometheus text format."""
        return generate_latest(self.registry)


class HttpMetrics:
    """ASGI middleware counting every HTTP answer by route and status (outermost, so the
    refusals of the middlewares inside it are counted; an exception counts as 500)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        finally:
            self.metrics.http_request(str(scope.get("path", "")), status)
