"""OpenTelemetry traces of one app: a span per GraphQL request, a child span per source call.

Tracing is off unless ``server.tracing.enabled``; then nothing here costs more than reading
one context variable per source call: no tracer provider is made (the trace SDK and the
exporter are not even imported), no global provider is installed, no span is created. On,
each app has a provider of its own (:class:`Tracing`, never OpenTelemetry's global one, so
several apps in one process, tests among them, do not collide, as with the metrics'
registries) exporting over OTLP/HTTP in batches.

- :func:`request_span` (the /graphql view, :mod:`ecehub.edge`): continues the caller's trace
  from its W3C ``traceparent`` header (through OpenTelemetry's propagator, so
  ``OTEL_PROPAGATORS`` may change it), names the span after the operation (``query
  Directory``) once it is known, and holds the request's ID (:mod:`ecehub.logs`), the HTTP
  status and the outcome (:func:`ecehub.metrics.outcome_of`'s classes).
- :func:`source_span` (the gateway, :mod:`ecehub.sources.gateway`): a child of the request's
  span per connector call: the source, entity, method, outcome (``ok`` or the error code) and
  how many records came back.

No attribute holds the query's text, its variables, a token or a header other than the
trace's own: only names the config or the schema chose, codes and counts.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Final, TypeVar

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = [
    "DEFAULT_SERVICE_NAME",
    "NO_SOURCE_SPAN",
    "RequestSpan",
    "SourceSpan",
    "Tracing",
    "count_records",
    "current_request_span",
    "request_span",
    "source_span",
]

DEFAULT_SERVICE_NAME = "ecehub"
"""``service.name`` when neither the config nor ``OTEL_SERVICE_NAME`` gives one."""

log = logging.getLogger(__name__)

_SCOPE = "ecehub"
_SERVER_FAULT = "INTERNAL_SERVER_ERROR"

T = TypeVar("T")


class Tracing:
    """One app's tracer provider: a sampler (``sample_ratio`` of new traces; a caller's
    sampled flag is followed), a resource naming the service, and the exporter."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        service_name: str | None = None,
        sample_ratio: float = 1.0,
        batch: bool = True,
    ) -> None:
        """``batch``: export in the background (OTLP); ``False`` exports each span as it
        ends (an in-memory exporter in tests)."""
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        name = service_name or os.environ.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME
        self.provider: TracerProvider = TracerProvider(
            sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
            resource=Resource.create({"service.name": name}),
        )
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        self.provider.add_span_processor(processor)
        self.tracer: trace.Tracer = self.provider.get_tracer(_SCOPE)
        self._shut = False

    @classmethod
    def otlp(
        cls,
        endpoint: str | None = None,
        *,
        service_name: str | None = None,
        sample_ratio: float = 1.0,
    ) -> Tracing:
        """Export over OTLP/HTTP to ``endpoint`` (the full traces URL,
        ``http://collector:4318/v1/traces``); without one, the exporter's standard
        variables: ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT``
        (default ``http://localhost:4318``). Headers (a collector's key) only ever from
        ``OTEL_EXPORTER_OTLP_HEADERS``: secrets stay in the environment."""
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=endpoint or None)
        log.info(
            "tracing on: spans over OTLP/HTTP to %s, sample_ratio %g",
            "server.tracing.otlp_endpoint" if endpoint else "the OTEL_EXPORTER_OTLP_* endpoint",
            sample_ratio,
        )
        return cls(exporter, service_name=service_name, sample_ratio=sample_ratio)

    def shutdown(self) -> None:
        """Export what is still buffered, then stop (the app's shutdown; once)."""
        if not self._shut:
            self._shut = True
            self.provider.shutdown()


_current: contextvars.ContextVar[RequestSpan | None] = contextvars.ContextVar(
    "ecehub_request_span", default=None
)


class RequestSpan:
    """The span of one /graphql request (``None`` span: this request is not traced)."""

    def __init__(self, tracer: trace.Tracer, span: trace.Span) -> None:
        self.tracer = tracer
        self.span = span

    def operation(
        self,
        operation_type: str | None,
        operation_name: str | None,
        outcome: str,
        codes: Iterable[object],
    ) -> None:
        """The operation it ran and how it went: type (``unknown``: the document did not
        parse or named no operation), name, outcome, its errors' codes."""
        span = self.span
        kind = operation_type or "unknown"
        span.update_name(f"{kind} {operation_name}" if operation_name else kind)
        span.set_attribute("graphql.operation.type", kind)
        if operation_name:
            span.set_attribute("graphql.operation.name", operation_name)
        span.set_attribute("ecehub.outcome", outcome)
        distinct = sorted({str(code)[:64] for code in codes})
        if distinct:
            span.set_attribute("ecehub.error_codes", distinct)
        if outcome == "server_error" or _SERVER_FAULT in distinct:  # partial data too
            span.set_status(Status(StatusCode.ERROR, "server fault"))

    def answered(self, status_code: int) -> None:
        self.span.set_attribute("http.response.status_code", status_code)
        if status_code >= 500:
            self.span.set_status(Status(StatusCode.ERROR))


@contextlib.contextmanager
def request_span(
    tracing: Tracing | None,
    headers: Mapping[str, str],
    *,
    method: str,
    request_id: str | None,
) -> Iterator[RequestSpan | None]:
    """The span of one request, current while it is handled (``None`` when tracing is off),
    continuing the trace of the caller's ``traceparent``."""
    if tracing is None:
        yield None
        return
    parent = propagate.extract(headers)
    # Not the SDK's exception recording: its event and status text would carry the
    # exception's message and stack (the server log has them), and a message may hold input.
    with tracing.tracer.start_as_current_span(
        "graphql",
        context=parent,
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "http.route": "/graphql"},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        if request_id:
            span.set_attribute("ecehub.request_id", request_id)
        current = RequestSpan(tracing.tracer, span)
        token = _current.set(current)
        try:
            yield current
        except BaseException as exc:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            _current.reset(token)


def current_request_span() -> RequestSpan | None:
    return _current.get()


def count_records(result: object) -> int:
    """Records in what a source call answered: a page's ``records``, a mapping of key to a
    record or to a list of them (``fetch``, ``children``), or a list."""
    records = getattr(result, "records", result)
    if isinstance(records, Mapping):
        return sum(len(v) if isinstance(v, list) else 1 for v in records.values())
    if isinstance(records, list | tuple):
        return len(records)
    return 0


class SourceSpan:
    """The span of one source call; :data:`NO_SOURCE_SPAN` (does nothing) when the request is
    not traced."""

    __slots__ = ("answered_", "span")

    def __init__(self, span: trace.Span | None) -> None:
        self.span = span
        self.answered_ = False

    def answered(self, result: T) -> T:
        """Notes how many records ``result`` holds; gives it back."""
        if self.span is not None:
            self.span.set_attribute("ecehub.records", count_records(result))
            self.answered_ = True
        return result

    def end(self, code: str | None) -> None:
        """Ends the span with its outcome: ``ok``, the error's code, or ``cancelled`` (no
        answer and no error: the request was abandoned)."""
        if self.span is None:
            return
        outcome = code or ("ok" if self.answered_ else "cancelled")
        self.span.set_attribute("ecehub.outcome", outcome)
        if code is not None:
            self.span.set_status(Status(StatusCode.ERROR, code))
        self.span.end()


NO_SOURCE_SPAN: Final = SourceSpan(None)


def source_span(source: str, op: str) -> SourceSpan:
    """A span for one connector call (``op``: the method and the entity, ``"fetch
    program"``), a child of the request's; started now, ended by :meth:`SourceSpan.end`."""
    request = _current.get()
    if request is None:
        return NO_SOURCE_SPAN
    method, _, entity = op.partition(" ")
    span = request.tracer.start_span(
        f"{source} {op}",
        context=trace.set_span_in_context(request.span),
        kind=SpanKind.CLIENT,
        attributes={"ecehub.source": source, "ecehub.entity": entity, "ecehub.method": method},
    )
    return SourceSpan(span)
