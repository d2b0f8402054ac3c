"""The Starlette app: /graphql (GraphiQL in a browser), /files/{id} (downloads), /healthz,
/readyz."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from ecehub.config.model import Config
from ecehub.resolvers.context import Hub, RequestContext
from ecehub.schema import build_schema
from ecehub.schema.files import download_file

__all__ = ["create_app"]

_TRUE = {"1", "true", "yes", "on"}


class _GraphQL(GraphQL[RequestContext, None]):
    def __init__(self, hub: Hub) -> None:
        super().__init__(
            build_schema(hub.config.server),
            graphql_ide="graphiql",
            multipart_uploads_enabled=True,  # file uploads (GraphQL multipart request spec)
        )
        self.hub = hub

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        header = self.hub.config.server.trace_header
        trace = request.headers.get(header, "").strip().lower() in _TRUE
        ctx = self.hub.request_context(trace=trace, request=request)
        ctx.response = response
        return ctx


def create_app(config: Config, hub: Hub | None = None) -> Starlette:
    hub = hub or Hub(config)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        health = await hub.health()
        body: dict[str, Any] = {
            "status": "ok" if all(h.ok for h in health) else "degraded",
            "sources": {
                h.source: {"ok": h.ok, "latency_ms": round(h.latency_ms, 1), "detail": h.detail}
                for h in health
            },
        }
        # Degraded still serves partial data, so it stays 200; only "no source at all" is 503.
        status = 200 if any(h.ok for h in health) or not health else 503
        return JSONResponse(body, status_code=status)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await hub.aclose()

    graphql = _GraphQL(hub)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/files/{id}", download_file, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.hub = hub
    return app
