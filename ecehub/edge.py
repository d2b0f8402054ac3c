"""The HTTP edge of /graphql: what a request must look like before the schema sees it, and how
every answer's errors leave.

- A request that is not a GraphQL request (a body that is not a JSON object, invalid UTF-8,
  JSON nested deeper than :data:`MAX_JSON_DEPTH`, ``query``/``operationName`` not strings,
  ``variables``/``extensions`` not objects, a broken multipart upload, an unknown operation,
  a method other than GET/POST) gets a 4xx with a GraphQL-style JSON body
  ``{"data": null, "errors": [{"message", "extensions": {"code"}}]}``, never a 500 or plain
  text. The code is ``BAD_REQUEST`` (``METHOD_NOT_ALLOWED``, ``NOT_FOUND`` by status).
- Every error of an answer leaves with ``extensions.code``: one still without a code is a server
  fault, ``INTERNAL_SERVER_ERROR`` (its message masked in production). Production also strips
  graphql-core's "Did you mean ...?" suggestions from messages.
- The media type of the GraphQL-over-HTTP spec: a client whose ``Accept`` names
  ``application/graphql-response+json`` (with a q-value at least ``application/json``'s) gets
  its answers in that type, and a request error (a document that does not parse or validate,
  variables that do not coerce, a limit's refusal: nothing ran) is HTTP 400 without ``data``.
  Every other client (``application/json``, ``*/*``, no ``Accept``) gets ``application/json``
  with HTTP 200 for those, as before. Errors during execution (a field's, a source's, partial
  data) are HTTP 200 in both.
- With the app's :class:`~ecehub.metrics.Metrics`, every operation is counted by type, name and
  outcome with its latency (:meth:`EdgeGraphQL.execute_operation`; :class:`OperationSeen`
  notes the operation's type and name on the context).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, get_operation_ast
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.types import ExecutionResult, SubscriptionExecutionResult

from ecehub.errors import error_body
from ecehub.logs import request_id
from ecehub.metrics import Metrics, outcome_of
from ecehub.resolvers.context import RequestContext
from ecehub.schema.edge import (
    INTERNAL_SERVER_ERROR,
    UNEXPECTED_MESSAGE,
    is_request_error,
    strip_suggestions,
)
from ecehub.tracing import Tracing, current_request_span, request_span

__all__ = [
    "GRAPHQL_RESPONSE_JSON",
    "MAX_JSON_DEPTH",
    "EdgeGraphQL",
    "OperationSeen",
    "accepts_graphql_response",
    "refused_request",
]

log = logging.getLogger(__name__)

MAX_JSON_DEPTH = 64
"""The deepest nesting of objects and lists a request's JSON may have (no input of the schema
comes near it; Python's own parser gives up near 1,000)."""

_STATUS_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
"""The GraphQL-over-HTTP spec's media type for a GraphQL response."""

_JSON_RANGES = {"application/json": 2, "application/*": 1, "*/*": 0}
"""The media ranges that take ``application/json``, by how specific they are."""

_STATUS = "ecehub_graphql_status"
"""The request state's attribute holding the status of an answer in GRAPHQL_RESPONSE_JSON."""


def accepts_graphql_response(accept: str | None) -> bool:
    """Whether an ``Accept`` header asks for :data:`GRAPHQL_RESPONSE_JSON`: named explicitly
    with a q-value above 0 and not below the one ``application/json`` gets (from its most
    specific range); a tie goes to the spec's type. A wildcard alone, or no ``Accept`` at all,
    keeps ``application/json``, which every client before the spec's type expects."""
    graphql_q: float | None = None
    json_q, json_rank = 0.0, -1
    for media_range in (accept or "").split(","):
        media, *params = (part.strip().lower() for part in media_range.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if not 0 <= q <= 1:  # a q-value that is not one (NaN included): the range is ignored
            continue
        if media == GRAPHQL_RESPONSE_JSON:
            graphql_q = max(graphql_q or 0.0, q)
        rank = _JSON_RANGES.get(media, -1)
        if rank > json_rank or (rank == json_rank and rank >= 0 and q > json_q):
            json_q, json_rank = q, rank
    return graphql_q is not None and graphql_q > 0 and graphql_q >= json_q


def refused_request(result: ExecutionResult) -> bool:
    """Whether ``result`` is a request error: no data, and every error is about the request
    (parse, validation, variable coercion, a limit), none a server fault."""
    errors = result.errors or []
    return (
        result.data is None
        and bool(errors)
        and all(
            is_request_error(error)
            and (error.extensions or {}).get("code") != INTERNAL_SERVER_ERROR
            for error in errors
        )
    )


def _bad(message: str) -> HTTPException:
    return HTTPException(400, message)


def _too_deep(value: object, limit: int) -> bool:
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Any
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _request_data(data: object) -> GraphQLRequestData:
    """The operation a decoded request body (or GET parameters) asks for; 400 otherwise."""
    if isinstance(data, list):
        raise _bad("batched requests (a JSON list) are not supported: send one JSON object")
    if not isinstance(data, dict):
        raise _bad("the request must be a JSON object with `query` (and optionally "
                   "`variables`, `operationName`, `extensions`)")  # fmt: skip
    query, name = data.get("query"), data.get("operationName")
    variables, extensions = data.get("variables"), data.get("extensions")
    if not isinstance(query, str | None):
        raise _bad("`query` must be a string")
    if not isinstance(name, str | None):
        raise _bad("`operationName` must be a string")
    if not isinstance(variables, dict | None):
        raise _bad("`variables` must be a JSON object")
    if not isinstance(extensions, dict | None):
        raise _bad("`extensions` must be a JSON object")
    return GraphQLRequestData(
        query=query, variables=variables, operation_name=name, extensions=extensions
    )


def _place(operations: dict[str, Any], path: str, upload: UploadFile) -> None:
    """Put ``upload`` at ``path`` (``variables.file``, ``variables.files.0``) of the operations,
    as the GraphQL multipart request spec says; 400 for a path that names nothing there."""
    keys = path.split(".")
    if len(keys) < 2 or keys[0] != "variables":
        raise _bad(f"`map` path {path[:100]!r} must point into `variables`")
    target: Any = operations
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(target, dict) and (last or key in target):
            if last:
                target[key] = upload
            else:
                target = target[key]
        elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
            if last:
                target[int(key)] = upload
            else:
                target = target[int(key)]
        else:
            raise _bad(f"`map` path {path[:100]!r} names nothing in `operations`")


class OperationSeen(SchemaExtension):
    """Notes the type (``query``/``mutation``) and name of the operation a document runs on
    the request's context, once the document parsed (for the metrics and the trace)."""

    def on_operation(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        context = ctx.context
        if ctx.graphql_document is None or not isinstance(context, RequestContext):
            return
        operation = get_operation_ast(ctx.graphql_document, ctx.operation_name)
        if operation is not None:
            context.operation_type = operation.operation.value
            context.operation_name = operation.name.value if operation.name else None


class EdgeGraphQL(GraphQL[RequestContext, None]):
    """strawberry's ASGI view with the checks and error shapes of this module."""

    production: bool = False
    metrics: Metrics | None = None
    """Where operations are counted (the schema needs :class:`OperationSeen` for their
    type and name)."""
    tracing: Tracing | None = None
    """Where each request is traced (a span, its source calls' spans under it; the schema
    needs :class:`OperationSeen`); ``None``: no span at all."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        response: Response
        with request_span(
            self.tracing, request.headers, method=request.method, request_id=request_id.get()
        ) as span:
            try:
                response = await self.run(request)
            except HTTPException as exc:
                code = _STATUS_CODES.get(exc.status_code, "BAD_REQUEST")
                log.info("refused a /graphql request: %s %s", exc.status_code, exc.reason[:200])
                response = JSONResponse(error_body(exc.reason, code), status_code=exc.status_code)
            else:
                status = getattr(request.state, _STATUS, None)
                # Only a GraphQL answer (not GraphiQL's page, not a stream) changes its type.
                if status is not None and response.media_type == "application/json":
                    response.media_type = GRAPHQL_RESPONSE_JSON
                    response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
                    if status != 200:
                        response.status_code = status
            if span is not None:
                span.answered(response.status_code)
        try:
            await response(scope, receive, send)
        finally:
            await request.close()  # the parts of a multipart upload, also when it was refused

    def encode_json(self, data: object) -> bytes:
        """The answer's JSON by orjson: a tenth of the standard encoder's time, which was
        the largest single cost of serving a page of 100 programs. A result holds only JSON
        types (GraphQL serialised its scalars); anything orjson still refuses takes the
        standard encoder."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return json.dumps(data, separators=(",", ":")).encode()

    def parse_json(self, data: str | bytes) -> Any:
        try:
            value = json.loads(data)
        except RecursionError:
            raise _bad(f"the request's JSON nests deeper than {MAX_JSON_DEPTH} levels") from None
        except ValueError:  # JSONDecodeError, UnicodeDecodeError
            raise _bad("invalid JSON (or not UTF-8) in the request") from None
        if _too_deep(value, MAX_JSON_DEPTH):
            raise _bad(f"the request's JSON nests deeper than {MAX_JSON_DEPTH} levels")
        return value

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        content_type, _ = parse_content_type(request.content_type or "")
        data: object
        if request.method == "GET":
            data = self.parse_query_params(request.query_params)
        elif "application/json" in content_type:
            data = self.parse_json(await request.get_body())
        elif content_type == "multipart/form-data" and self.multipart_uploads_enabled:
            data = await self.parse_multipart(request)
        else:
            raise _bad("unsupported content type: send application/json, or "
                       "multipart/form-data for a file upload")  # fmt: skip
        return _request_data(data)

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, Any]:
        try:
            form = (await request.get_form_data()).form
        except (ValueError, StarletteHTTPException):
            raise _bad("the multipart body cannot be parsed") from None
        parts: dict[str, Any] = {}
        for name in ("operations", "map"):
            part = form.get(name, "{}" if name == "map" else None)
            if part is None:
                raise _bad("a multipart request needs an `operations` part")
            if not isinstance(part, str):
                raise _bad(f"the `{name}` part must be JSON text, not a file")
            parts[name] = self.parse_json(part)
        operations, files_map = parts["operations"], parts["map"]
        if not isinstance(operations, dict):
            _request_data(operations)  # says what is wrong with it
        if not isinstance(files_map, dict) or not all(
            isinstance(paths, list) and all(isinstance(p, str) for p in paths)
            for paths in files_map.values()
        ):
            raise _bad('`map` must be a JSON object of part name: ["variables.<name>", ...]')
        for name, paths in files_map.items():
            upload = form.get(name)
            if not isinstance(upload, UploadFile):
                raise _bad(f"`map` names the file part {name[:100]!r}, which is not in the request")
            for path in paths:
                _place(operations, path, upload)
        return operations  # type: ignore[no-any-return]

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: RequestContext,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        started = time.perf_counter()
        result = await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )
        span = current_request_span()
        if (self.metrics is not None or span is not None) and isinstance(result, ExecutionResult):
            codes = [
                (error.extensions or {}).get("code") or INTERNAL_SERVER_ERROR
                for error in result.errors or []
            ]
            if self.metrics is not None:
                self.metrics.operation(
                    context.operation_type,
                    context.operation_name,
                    result.data is not None,
                    codes,
                    time.perf_counter() - started,
                )
            if span is not None:
                outcome = outcome_of(result.data is not None, codes)
                span.operation(context.operation_type, context.operation_name, outcome, codes)
        return result

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        for error in result.errors or []:
            self._finish(error)
        body = await super().process_result(request, result)
        if accepts_graphql_response(request.headers.get("accept")):
            # In the spec's type a request error has no `data` and is a 4xx; __call__ gives
            # the answer that type and status.
            refused = refused_request(result)
            if refused:
                body.pop("data", None)
            setattr(request.state, _STATUS, 400 if refused else 200)
        return body

    def _finish(self, error: GraphQLError) -> None:
        """Every error leaves with a code; in production without suggestions, and a server
        fault's message masked (it is in the server log)."""
        extensions = dict(error.extensions or {})
        if not extensions.get("code"):
            extensions["code"] = INTERNAL_SERVER_ERROR
            if self.production:
                error.message = UNEXPECTED_MESSAGE
        if self.production:
            error.message = strip_suggestions(error.message)
        error.extensions = extensions
