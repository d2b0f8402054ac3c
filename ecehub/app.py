"""The Starlette app: /graphql (GraphiQL in a browser), /files/{id} (downloads), /healthz,
/readyz, /metrics (Prometheus), /app (the reference front end)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from ecehub.auth.middleware import authentication_middleware, authentication_of
from ecehub.config.model import Config
from ecehub.downloads import download_file
from ecehub.edge import EdgeGraphQL, OperationSeen
from ecehub.errors import error_body
from ecehub.graphiql import graphiql_assets_route, graphiql_page
from ecehub.logs import HEADER as REQUEST_ID_HEADER
from ecehub.logs import RequestId, install_record_factory
from ecehub.metrics import CONTENT_TYPE, HttpMetrics, Metrics
from ecehub.ratelimit import RateLimit, budgets_for
from ecehub.resolvers.context import RequestContext
from ecehub.resolvers.runtime import Runtime
from ecehub.schema import build_schema
from ecehub.schema.persisted import load_allow_list
from ecehub.webapp import DevTokens, webapp_routes
from ecehub.webapp import allow_list as app_allow_list

__all__ = ["create_app"]

_TRUE = {"1", "true", "yes", "on"}


class _GraphQL(EdgeGraphQL):
    def __init__(
        self,
        runtime: Runtime,
        ide_headers: Callable[[], Mapping[str, str]] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        config = runtime.config
        # The served front end's own operations are allowed while it is enabled.
        schema = build_schema(config, app_allow_list() if config.server.app.enabled else None)
        if metrics is not None or runtime.tracing is not None:
            schema.extensions = (*schema.extensions, OperationSeen)
        super().__init__(
            schema,
            graphql_ide="graphiql" if runtime.config.server.mode == "development" else None,
            multipart_uploads_enabled=True,  # file uploads (GraphQL multipart request spec)
        )
        self.runtime = runtime
        self.production = runtime.config.server.mode == "production"
        self.ide_headers = ide_headers
        self.metrics = metrics
        self.tracing = runtime.tracing

    @property
    def graphql_ide_html(self) -> str:
        """GraphiQL from the package's own copies (ecehub/graphiql/), not from a CDN."""
        return graphiql_page(self.ide_headers() if self.ide_headers else None)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        header = self.runtime.config.server.trace_header
        trace = request.headers.get(header, "").strip().lower() in _TRUE
        ctx = self.runtime.request_context(authentication_of(request), trace=trace, request=request)
        ctx.response = response
        return ctx


MULTIPART_MARGIN_BYTES = 64 * 1024
"""What a multipart upload may carry besides the file: the operations and map parts."""


class _BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Answers 413 with a GraphQL-style error to a body over the limit, judged by its
    Content-Length and by the bytes actually streamed; never reads past the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, multipart_max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.multipart_max_bytes = multipart_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]}
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        multipart = content_type.startswith("multipart/")
        limit = self.multipart_max_bytes if multipart else self.max_bytes
        length = headers.get(b"content-length", b"").decode("latin-1")
        if length.isdigit() and int(length) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        body = error_body(
            f"request body too large: at most {limit} bytes", "PAYLOAD_TOO_LARGE", maxBytes=limit
        )
        await JSONResponse(body, status_code=413)(scope, receive, send)


def _persisted_operation_names(config: Config) -> list[str] | None:
    """The operation names of the allow-listed queries (``None`` unless in allow-list mode):
    the metrics always count them under their own names."""
    pq = config.server.persisted_queries
    if pq.mode != "allow_list" or pq.file is None:
        return None
    base = config.file.parent if config.file else None
    path = pq.file if pq.file.is_absolute() or base is None else base / pq.file
    names: list[str] = []
    allowed = load_allow_list(Path(path))
    if config.server.app.enabled:
        allowed = {**app_allow_list(), **allowed}
    for text in allowed.values():
        try:
            document = parse(text)
        except GraphQLError:
            continue
        names += [
            d.name.value
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode) and d.name is not None
        ]
    return names


def _middleware(config: Config, metrics: Metrics | None) -> list[Middleware]:
    server = config.server
    return [
        # Outermost: every answer gets its request ID and is counted, refusals included.
        Middleware(RequestId),
        *([Middleware(HttpMetrics, metrics=metrics)] if metrics is not None else []),
        Middleware(
            CORSMiddleware,
            allow_origins=list(server.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Ecehub-User",
                server.trace_header,
                REQUEST_ID_HEADER,
            ],
            expose_headers=[REQUEST_ID_HEADER],
            max_age=600,
        ),
        Middleware(
            BodySizeLimit,
            max_bytes=server.max_body_bytes,
            multipart_max_bytes=config.files.max_bytes + MULTIPART_MARGIN_BYTES,
        ),
    ]


def create_app(
    config: Config,
    runtime: Runtime | None = None,
    *,
    ide_headers: Callable[[], Mapping[str, str]] | None = None,
    dev_tokens: DevTokens | None = None,
) -> Starlette:
    """``ide_headers`` gives, each time GraphiQL's page is served, the headers its Headers
    editor starts with (``ecehub demo``: a fresh admin token). GraphiQL and its files are
    served in development mode only. ``dev_tokens`` gives the development tokens the front
    end's sign-in offers (``ecehub demo`` only; served at ``/app/dev-tokens`` in development
    mode only)."""
    runtime = runtime or Runtime(config)
    install_record_factory()  # log records made while handling a request carry its ID
    metrics = runtime.metrics if config.server.metrics else None
    if metrics is not None:
        names = _persisted_operation_names(config)
        metrics.know_operations(names or [], only=names is not None)
    # After authentication (it tells who the client is), when the server is rate limited.
    budgets = budgets_for(config.server.rate_limit) if config.server.rate_limited else None
    if config.access is None:
        logging.getLogger("ecehub.access").warning(
            "no access section in the config: every reader sees everything and every "
            "signed-in user may write. For development only; see README 'Roles and access'."
        )

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        health, store_problem = await asyncio.gather(runtime.health(), runtime.store_problem())
        body: dict[str, Any] = {
            "status": "ok" if all(h.ok for h in health) and not store_problem else "degraded",
            "sources": {
                h.source: {"ok": h.ok, "latency_ms": round(h.latency_ms, 1), "detail": h.detail}
                for h in health
            },
            "hub_store": {"ok": store_problem is None, "detail": store_problem or ""},
        }
        # Degraded still serves partial data, so it stays 200; "no source at all" or a hub
        # store that cannot serve (every query reads it) is 503.
        sources_ok = any(h.ok for h in health) or not health
        status = 200 if sources_ok and store_problem is None else 503
        return JSONResponse(body, status_code=status)

    async def metrics_page(request: Request) -> Response:
        assert metrics is not None
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await runtime.aclose()
            if budgets is not None:
                await budgets.aclose()

    graphql = _GraphQL(runtime, ide_headers, metrics)
    ide = [graphiql_assets_route()] if config.server.mode == "development" else []
    app = Starlette(
        routes=[
            # every method reaches the view, which answers all but GET and POST with a coded 405
            Route("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/files/{id}", download_file, methods=["GET"]),
            *([Route("/metrics", metrics_page, methods=["GET"])] if metrics is not None else []),
            *ide,
            *webapp_routes(config, dev_tokens),
        ],
        lifespan=lifespan,
        middleware=[
            *_middleware(config, metrics),
            authentication_middleware(config),
            *([Middleware(RateLimit, budgets=budgets)] if budgets is not None else []),
        ],
    )
    app.state.runtime = runtime
    return app
