"""The YAML configuration model (pydantic).

Connector-specific settings live with their connector (``SqlSourceConfig`` in
:mod:`ecehub.connectors.sql`, ``RestSourceConfig`` in :mod:`ecehub.connectors.rest`); they
subclass :class:`SourceConfig` and :class:`EntityConfig` here. Sources are listed in order of
precedence: where two sources give the same field, the earlier one wins.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from typing_extensions import TypeVar

from ecehub.config.periods import PeriodConfig, with_period_field
from ecehub.config.resilience import ResilienceConfig
from ecehub.config.scales import LevelScale
from ecehub.config.transforms import TransformList

__all__ = [
    "DEFAULT_ALLOWED_FILE_TYPES",
    "DEFAULT_SUPPORT_TYPES",
    "WRITABLE_KINDS",
    "AccessConfig",
    "AppConfig",
    "AppOidcConfig",
    "AuthConfig",
    "CacheConfig",
    "CacheTiming",
    "ClaimNames",
    "Config",
    "EntityConfig",
    "EntityT",
    "FederationConfig",
    "FilesConfig",
    "HubConfig",
    "MergeFieldRule",
    "MergeRule",
    "PersistedQueriesConfig",
    "RateLimitConfig",
    "RoleRule",
    "ServerConfig",
    "SourceCacheConfig",
    "SourceConfig",
    "SupportTypeConfig",
    "TracingConfig",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SupportTypeConfig(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$", description="UPPER_SNAKE code, e.g. PRE_K")
    name: str
    description: str = ""


DEFAULT_SUPPORT_TYPES: tuple[SupportTypeConfig, ...] = (
    SupportTypeConfig(code="QRIS", name="Quality Rating and Improvement System"),
    SupportTypeConfig(code="HEAD_START", name="Head Start / Early Head Start"),
    SupportTypeConfig(code="EARLY_INTERVENTION", name="Early Intervention (IDEA Part C)"),
    SupportTypeConfig(code="PRE_K", name="State Pre-K"),
    SupportTypeConfig(code="ACCREDITATION", name="Accreditation"),
    SupportTypeConfig(code="LICENSING", name="Child-care licensing"),
)


class EntityConfig(_Strict):
    """How one canonical entity maps onto a source. ``fields`` and ``identifiers`` map
    canonical names (or identifier systems such as ``LICENSE_NUMBER``) to the source's own
    column names (SQL) or JSON paths (REST)."""

    key: str
    fields: dict[str, str] = Field(default_factory=dict)
    identifiers: dict[str, str] = Field(default_factory=dict)
    parent: dict[str, str] | None = Field(
        default=None, description="{parent_entity: column or JSON path holding the parent key}"
    )
    values: dict[str, dict[str, str | None]] = Field(
        default_factory=dict,
        description="{field: {source value: canonical value}}, e.g. program_type: "
        "{CENTER: ChildCare}; values not listed pass through; null: no value",
    )
    constants: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="{field: value} for fields the source has no column for, e.g. currency: USD",
    )
    null_values: list[str] = Field(
        default_factory=list,
        description="Source values that mean no value (e.g. NA, N/A, -), compared trimmed and "
        "case-insensitively: read as null in fields and identifiers, not counted as "
        "unparsable",
    )
    date_formats: dict[str, list[str]] = Field(
        default_factory=dict,
        description="{date or datetime field: [strptime formats, tried in order]}, e.g. "
        "license_expires: ['%m/%d/%y', '%m/%d/%Y']; ISO 8601 is always read",
    )
    transforms: dict[str, TransformList] = Field(
        default_factory=dict,
        description="{field or identifier:<SYSTEM>: [steps]}: typed steps a source value goes "
        "through before its type coercion, e.g. name: [trim, strip_quotes, {case: title}]; "
        "ops: trim, strip_quotes, unescape, upper/lower/title or case, regex_extract, "
        'regex_replace, number, split, join, map, date (README, "Field transforms"). A '
        "value a step cannot read is null and counted as unparsable",
    )
    scales: dict[str, LevelScale] = Field(
        default_factory=dict,
        description="{level field: {min, max, not_participating}}, e.g. qris_level: {min: 0, "
        "max: 4, not_participating: [0]}: the scale the source rates on, read onto the "
        'reference 1-5 scale (README "QRIS scales"); none: levels are on it already',
    )
    lookup_only: bool = Field(
        default=False,
        description="true: never enumerated when listing (an API that answers only for given "
        "keys or identifiers); its records join objects listed from other sources",
    )
    identifiers_unique: bool = Field(
        default=False,
        description="true: an identifier value names at most one record of this entity in "
        "this source, so the hub never asks it again for the identifiers of a record it gave",
    )
    period: PeriodConfig | None = Field(
        default=None,
        description="One row per key and reporting period (e.g. {column: report_year, "
        "format: year}; a column name alone: format text): the rows of one key are one "
        'object showing its latest period, the others are history (README "Records with a '
        'period")',
    )

    @model_validator(mode="before")
    @classmethod
    def _period_is_a_field(cls, data: Any) -> Any:
        return with_period_field(data)

    list_only: bool = Field(
        default=False,
        description="true: never asked by key or identifier (an API that can only be paged): "
        "listing pages it, a record it gave is never asked for again, and the records other "
        "sources' objects need from it come from one read of its listing per request",
    )
    identifiers_searchable: list[str] | None = Field(
        default=None,
        description="The identifier systems this source can be asked by (default: every one "
        "in identifiers); a look-up by another is answered from one read of its listing per "
        "request, never sent",
    )

    @model_validator(mode="after")
    def _roles(self) -> EntityConfig:
        if self.list_only and self.lookup_only:
            raise ValueError(
                "lookup_only and list_only exclude each other (a source that can be neither "
                "listed nor asked by key gives nothing); keep the one the API supports"
            )
        if self.identifiers_searchable is not None:
            unknown = sorted(set(self.identifiers_searchable) - set(self.identifiers))
            if unknown:
                raise ValueError(
                    f"identifiers_searchable names {unknown}, not in identifiers "
                    f"{sorted(self.identifiers)}; name declared identifier systems"
                )
        return self

    def searchable(self, system: str) -> bool:
        """Whether this source may be asked for records by identifier ``system``."""
        if self.list_only:
            return False
        return self.identifiers_searchable is None or system in self.identifiers_searchable

    @property
    def parent_entity(self) -> str | None:
        return next(iter(self.parent)) if self.parent else None

    @property
    def parent_column(self) -> str | None:
        return next(iter(self.parent.values())) if self.parent else None


EntityT = TypeVar("EntityT", bound=EntityConfig, default=EntityConfig, covariant=True)
"""A connector's own entity settings (``SqlEntityConfig``): ``SourceConfig[SqlEntityConfig]``
types ``entities`` for mypy and validates each entity with that model, no ``type: ignore``."""


class SourceConfig(_Strict, Generic[EntityT]):
    """Settings every source has; a connector's own settings model subclasses it, as
    ``SourceConfig[MyEntityConfig]`` when its entities take settings of their own."""

    # A rejected value may be a secret (a URL with a password, a key): never echo it.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    kind: str
    support_types: list[str] = Field(default_factory=list)
    timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Longest time one call may take, counted from when it has a slot "
        "(resilience.max_in_flight), retries included",
    )
    entities: dict[str, EntityT] = Field(default_factory=dict)
    resilience: ResilienceConfig = Field(default_factory=ResilienceConfig)


class MergeFieldRule(_Strict):
    """Which source's value a merged object shows for one field.

    ``first_non_null`` (the default): the first non-null value, trying the ``prefer`` sources
    in that order, then the others by source precedence. ``most_recent``: the value whose
    record is newest by ``by``: a date or datetime field of the same entity (the record's own
    date, e.g. ``qris_rated_on``), or ``fetched_at`` (when the hub read the record, not when
    the source changed it). Records without a ``by`` value come after dated ones; ties go to
    the ``prefer`` order, then source precedence."""

    strategy: Literal["first_non_null", "most_recent"] = "first_non_null"
    prefer: list[str] = Field(
        default_factory=list, description="Sources tried first, in this order"
    )
    by: str = Field(
        default="fetched_at",
        description="most_recent only: a date/datetime field of the entity, or fetched_at",
    )

    @field_validator("prefer")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        twice = sorted({s for s in value if value.count(s) > 1})
        if twice:
            raise ValueError(f"source(s) listed twice: {', '.join(twice)}")
        return value

    @model_validator(mode="after")
    def _by_needs_most_recent(self) -> MergeFieldRule:
        if "by" in self.model_fields_set and self.strategy != "most_recent":
            raise ValueError("`by` applies to strategy most_recent only; add it or drop `by`")
        return self


class MergeRule(_Strict):
    """How one entity's records merge: ``match_on`` lists the identifier systems that mean
    "same real-world object" across sources, in order; ``fields`` gives a rule per field
    (fields without one show the first non-null value by source precedence)."""

    match_on: list[str] = Field(default_factory=list)
    fields: dict[str, MergeFieldRule] = Field(default_factory=dict)
    identity: Literal["shared_identifier", "crosswalk"] = Field(
        default="shared_identifier",
        description="shared_identifier: records merge on match_on only; crosswalk: confirmed "
        "crosswalk links in the hub store merge records too (and win), records without one "
        "merge on match_on as before (program, site and staff only)",
    )

    auto_link: float = Field(
        default=0.95,
        ge=0,
        le=1,
        description="crosswalk suggest: a match scoring at least this is marked auto "
        "(confirmed by `ecehub crosswalk apply` without review)",
    )
    suggest: float = Field(
        default=0.5, ge=0, le=1, description="crosswalk suggest: the lowest score suggested"
    )

    CROSSWALK_ENTITIES: ClassVar[tuple[str, ...]] = ("program", "site", "staff")

    @model_validator(mode="after")
    def _thresholds(self) -> MergeRule:
        if self.suggest > self.auto_link:
            raise ValueError(
                f"suggest ({self.suggest}) must not be above auto_link ({self.auto_link})"
            )
        return self


class HubConfig(_Strict):
    url: SecretStr = SecretStr("sqlite+aiosqlite:///./ecehub.db")
    denial_audit_window_s: int = Field(
        default=3600,
        ge=0,
        description="Refused accesses by one actor to one object within this many seconds are "
        "one audit entry with a count (0: an entry per request)",
    )
    audit_retention_days: int | None = Field(
        default=None,
        ge=1,
        description="`ecehub db prune-audit` deletes audit entries older than this many days "
        "(unset: keep them all)",
    )
    idempotency_key_ttl_s: int = Field(
        default=86400,
        ge=1,
        description="A create's idempotencyKey is kept this many seconds: a retry with it "
        "within that time returns the object the first call created",
    )


DEFAULT_ALLOWED_FILE_TYPES: tuple[str, ...] = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)


class FilesConfig(_Strict):
    """Uploaded files (QIP evidence, plans, certificates): where their bytes are kept, how
    big one may be and which content types are taken."""

    directory: Path = Field(
        default=Path("./ecehub-files"),
        description="A relative path is taken relative to the config file's folder",
    )
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, description="Largest upload, bytes")
    allowed_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ALLOWED_FILE_TYPES),
        description="Content types (type/subtype, no parameters) an upload may have",
    )

    @field_validator("allowed_types")
    @classmethod
    def _media_types(cls, value: list[str]) -> list[str]:
        out = [v.strip().lower() for v in value]
        bad = [v for v in out if not _MEDIA_TYPE.fullmatch(v)]
        if bad:
            raise ValueError(f"not a type/subtype content type: {', '.join(bad)}")
        return out


_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


class CacheTiming(_Strict):
    """How long one source's (or one entity's) answers are kept; unset: as the level above."""

    ttl_s: float | None = Field(
        default=None, ge=0, description="Seconds an answer is served without asking; 0: not cached"
    )
    stale_max_age_s: float | None = Field(
        default=None,
        ge=0,
        description="Oldest an answer may be (seconds since it was read) to stand in while the "
        "source fails; 0: never served stale",
    )


class SourceCacheConfig(CacheTiming):
    """One source's cache times, and its entities' own (``entities: {program: {ttl_s: 10}}``)."""

    entities: dict[str, CacheTiming] = Field(default_factory=dict)


class CacheConfig(_Strict):
    """The cache of source answers (see README "Cache"): in the process by default, in Redis
    (shared by every replica) with ``backend: redis``; ``none`` reads every source live."""

    # The Redis URL may hold a password: never echo a rejected value.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    backend: Literal["memory", "redis", "none"] = "memory"
    url: SecretStr | None = Field(
        default=None,
        description="redis://... for backend redis; unset: the ECEHUB_CACHE_URL environment "
        "variable",
    )
    ttl_s: float = Field(
        default=30.0, ge=0, description="Seconds an answer is served without asking; 0: off"
    )
    stale_max_age_s: float = Field(
        default=300.0,
        ge=0,
        description="Oldest an answer may be (seconds since it was read) to stand in, marked "
        "stale, while its source fails; 0: never",
    )
    key_prefix: str = Field(
        default="ecehub",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="Prefix of every key (several hubs on one Redis need their own)",
    )
    timeout_s: float = Field(
        default=1.0, gt=0, le=30, description="Longest wait for the cache backend per operation"
    )
    bypass_roles: list[str] = Field(
        default_factory=list,
        description="Roles whose `Cache-Control: no-cache` request header reads the sources "
        "live and refreshes the cache (others' is ignored); without an access section, anyone's",
    )
    sources: dict[str, SourceCacheConfig] = Field(
        default_factory=dict, description="Per source (and entity) cache times"
    )

    def timing(self, source: str, entity: str) -> tuple[float, float]:
        """``(ttl_s, stale_max_age_s)`` of one source's entity: the entity's own, else the
        source's, else these defaults."""
        ttl, stale = self.ttl_s, self.stale_max_age_s
        own = self.sources.get(source)
        for level in (own, own.entities.get(entity) if own else None):
            if level is not None:
                ttl = ttl if level.ttl_s is None else level.ttl_s
                stale = stale if level.stale_max_age_s is None else level.stale_max_age_s
        return ttl, stale


class PersistedQueriesConfig(_Strict):
    """``allow_list``: only the queries in ``file`` (JSON ``{sha256 hex: query text}``) run,
    asked for by ``extensions.persistedQuery.sha256Hash`` or sent as that exact text."""

    mode: Literal["off", "allow_list"] = "off"
    file: Path | None = Field(
        default=None, description="A relative path is taken relative to the config file's folder"
    )


class FederationConfig(_Strict):
    """Apollo Federation v2 subgraph mode: Program, Site and Staff become entities keyed by
    their ``id`` and the schema gains ``_service { sdl }`` and ``_entities``, so a gateway can
    compose ecehub into a wider supergraph. Off, the schema is exactly the plain one."""

    enabled: bool = Field(
        default=False,
        description="Serve the schema as an Apollo Federation v2 subgraph (entities Program, "
        'Site, Staff with @key(fields: "id"); _service and _entities)',
    )
    version: Literal[
        "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10", "2.11"
    ] = Field(
        default="2.9",
        description="The Federation spec version the schema links (@link): at most what your "
        "composition accepts (Mesh Compose / Hive: up to 2.9)",
    )


class RateLimitConfig(_Strict):
    """Requests per client (the token's user, else the client address), as a token bucket:
    ``burst`` at once, refilled at ``requests_per_minute``. Over it: 429 with Retry-After.
    ``enabled`` unset: on in production mode, off in development."""

    # The Redis URL may hold a password: never echo a rejected value.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    enabled: bool | None = None
    requests_per_minute: int = Field(default=600, ge=1)
    burst: int = Field(default=120, ge=1, description="Requests a client may make at once")
    max_clients: int = Field(
        default=100_000, ge=1, description="Clients remembered; the least recent are forgotten"
    )
    redis_url: SecretStr | None = Field(
        default=None,
        description="Keep the budgets in Redis (redis://...), shared by every replica; "
        "unset: in each process",
    )


class TracingConfig(_Strict):
    """OpenTelemetry traces: a span per GraphQL request and per source call, exported over
    OTLP/HTTP. Off by default, and then free: no tracer provider, no spans."""

    enabled: bool = False
    otlp_endpoint: str | None = Field(
        default=None,
        description="The collector's OTLP/HTTP traces URL (http://collector:4318/v1/traces); "
        "unset: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, else "
        "http://localhost:4318. Headers (a key) only from OTEL_EXPORTER_OTLP_HEADERS",
    )
    service_name: str | None = Field(
        default=None, description="service.name; unset: OTEL_SERVICE_NAME, else ecehub"
    )
    sample_ratio: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of new traces recorded; a caller's traceparent decides for its own",
    )


class AppOidcConfig(_Strict):
    """How the reference front end (``/app``) signs people in: OIDC authorization code with
    PKCE (S256) against ``issuer`` (its discovery document), as the public client
    ``client_id``; the access token it gets is sent to /graphql as a bearer token."""

    issuer: str = Field(
        min_length=1,
        description="The identity provider's issuer URL (discovery: "
        "<issuer>/.well-known/openid-configuration); usually auth.issuer",
    )
    client_id: str = Field(min_length=1, description="The front end's public client ID")
    scope: str = Field(default="openid", min_length=1)

    @field_validator("issuer")
    @classmethod
    def _issuer_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValueError(
                "not an http(s) URL: the issuer's URL, as in its tokens' iss, e.g. "
                "https://login.state.example/realms/ece"
            )
        return value


class AppConfig(_Strict):
    """The reference front end served at ``/app`` (see README "The reference front end")."""

    enabled: bool = Field(default=True, description="Serve the front end at /app")
    oidc: AppOidcConfig | None = Field(
        default=None, description="Sign-in with the state's identity provider (PKCE)"
    )


class ServerConfig(_Strict):
    mode: Literal["development", "production"] = Field(
        default="development",
        description="production: no introspection, no GraphiQL, unexpected errors masked",
    )
    default_page_size: int = Field(default=20, ge=1)
    max_page_size: int = Field(default=500, ge=1)
    max_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=2000, ge=1)
    max_cost: int = Field(default=200, ge=1, description="Estimated source calls per query")
    max_selections: int = Field(
        default=2000,
        ge=1,
        description="Fields, fragment spreads and inline fragments once every fragment "
        "spread is expanded",
    )
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1,
        description="Largest request body; multipart uploads get "
        "files.max_bytes plus a margin instead",
    )
    persisted_queries: PersistedQueriesConfig = Field(default_factory=PersistedQueriesConfig)
    max_input_chars: int = Field(
        default=1000,
        ge=1,
        description="Longest string argument or variable of a query, and longest ID anywhere "
        "(BAD_USER_INPUT); free text in mutations keeps the hub store's own limits",
    )
    trace_header: str = "X-Ecehub-Trace"
    app: AppConfig = Field(default_factory=AppConfig)
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    metrics: bool = Field(
        default=True,
        description="Serve Prometheus metrics at /metrics (open like /healthz: no token, "
        "never rate limited; no per-user labels)",
    )
    federation: FederationConfig = Field(default_factory=FederationConfig)
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`ecehub serve`/`demo` log lines: text, or one JSON object per line; "
        "both carry the request's ID",
    )
    tracing: TracingConfig = Field(default_factory=TracingConfig)

    @property
    def rate_limited(self) -> bool:
        """Whether requests are rate limited (``rate_limit.enabled``, by default in
        production mode)."""
        enabled = self.rate_limit.enabled
        return self.mode == "production" if enabled is None else enabled


_ASYMMETRIC_PREFIXES = ("RS", "PS", "ES", "EdDSA", "Ed25519", "Ed448")


class AuthConfig(_Strict):
    """Who is acting. ``header`` (development only): the ``X-Ecehub-User`` header names the
    user. ``jwt``: a bearer token signed by an identity provider, checked against its JWKS
    (``jwks_url``) or static public keys (``keys``); see :mod:`ecehub.auth`."""

    # A rejected value may be a key: never echo it.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    mode: Literal["header", "jwt"] = "header"
    issuer: str | None = Field(default=None, description="The `iss` every token must carry")
    audience: str | None = Field(default=None, description="The `aud` every token must name")
    jwks_url: str | None = Field(default=None, description="The identity provider's JWKS URL")
    jwks_ttl_s: float = Field(default=300.0, gt=0, description="How long a fetched JWKS is kept")
    jwks_refetch_min_s: float = Field(
        default=30.0,
        ge=0,
        description="A token with an unknown `kid` refetches the JWKS at most this often",
    )
    jwks_timeout_s: float = Field(default=5.0, gt=0, le=60)
    keys: list[str] = Field(
        default_factory=list,
        description="Static public keys: JWK or JWKS JSON, PEM, or a path to a file holding "
        "one (relative to the config file's folder)",
    )
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"], min_length=1)
    leeway_s: int = Field(default=30, ge=0, le=600)
    user_claim: str = Field(default="sub", min_length=1)

    @field_validator("algorithms")
    @classmethod
    def _safe_algorithms(cls, value: list[str]) -> list[str]:
        if any(a.strip().lower() == "none" for a in value):
            raise ValueError("'none' is never allowed: tokens must be signed")
        symmetric = [a for a in value if a.startswith("HS")]
        asymmetric = [a for a in value if a.startswith(_ASYMMETRIC_PREFIXES)]
        unknown = [a for a in value if a not in symmetric and a not in asymmetric]
        if unknown:
            raise ValueError(f"unknown algorithm(s): {', '.join(unknown)}")
        if symmetric and asymmetric:
            raise ValueError(
                f"{', '.join(symmetric)} may not be allowed next to {', '.join(asymmetric)}: "
                "a public key must never verify an HMAC token"
            )
        return value

    @model_validator(mode="after")
    def _jwt_settings(self) -> AuthConfig:
        if self.mode != "jwt":
            return self
        missing = [n for n in ("issuer", "audience") if not getattr(self, n)]
        if missing:
            raise ValueError(f"jwt mode needs {' and '.join(missing)}")
        if bool(self.jwks_url) == bool(self.keys):
            raise ValueError("jwt mode needs exactly one of jwks_url or keys")
        return self


WRITABLE_KINDS: tuple[str, ...] = (
    "qip",
    "qip_goal",
    "qip_task",
    "pd_plan",
    "pd_training",
    "note",
    "activity_entry",
    "file_attachment",
    "funding_entry",
    "crosswalk",
)
"""Kinds of hub object a role may be allowed to write (``access.roles.<role>.write``)."""

_FIELD_PATTERN = re.compile(r"^[A-Za-z_*][A-Za-z0-9_*]*\.[A-Za-z_*][A-Za-z0-9_*]*$")


def _field_patterns(value: list[str]) -> list[str]:
    bad = [v for v in value if not _FIELD_PATTERN.fullmatch(v)]
    if bad:
        raise ValueError(
            f"not a Type.field pattern: {', '.join(bad)} (e.g. Program.name, Staff.*, Funding*.*)"
        )
    return value


NoteAudience = Literal["TEAM", "PROGRAM"]
"""Note visibilities a role may read of other authors' notes (PRIVATE: the author only)."""


class ClaimNames(_Strict):
    """Which token claims carry a user's roles, programs in scope and support types."""

    roles: str = Field(default="roles", min_length=1)
    programs: str = Field(default="programs", min_length=1)
    support_types: str = Field(default="support_types", min_length=1)


class RoleRule(_Strict):
    """What one role may read and write. See README "Roles and access"."""

    programs: Literal["all", "claim", "none"] = Field(
        default="none",
        description="all programs, the programs the token's programs claim names, or none",
    )
    support_types: Literal["all", "claim"] | list[str] = Field(
        default="all",
        description="whose sector data the role sees: all, the token's support_types "
        "claim, or a fixed list; hub (shared) data is always seen",
    )
    allow: list[str] | None = Field(
        default=None,
        description="if given, ONLY these Type.field patterns may be read (fnmatch: "
        "Program.*, Funding*.*); connection, edge and PageInfo fields are always allowed",
    )
    deny: list[str] = Field(default_factory=list, description="Type.field patterns never read")
    write: list[str] = Field(
        default_factory=list,
        description=f"hub object kinds the role may write in its programs: "
        f"{', '.join(WRITABLE_KINDS)}, or all",
    )
    edit_any_note: bool = Field(
        default=False, description="may change or delete notes of other authors"
    )
    note_visibility: list[NoteAudience] = Field(
        default_factory=lambda: list(get_args(NoteAudience)),
        description="which other authors' notes the role reads (its own always; PRIVATE "
        "never): TEAM notes are for the supporting staff, PROGRAM notes for the program too",
    )
    detail: bool = Field(
        default=False, description="sees small counts (below small_cell_threshold) unsuppressed"
    )

    @field_validator("allow")
    @classmethod
    def _allow_patterns(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _field_patterns(value)

    @field_validator("deny")
    @classmethod
    def _deny_patterns(cls, value: list[str]) -> list[str]:
        return _field_patterns(value)

    @field_validator("write")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        if "all" in value:
            return list(WRITABLE_KINDS)
        bad = [v for v in value if v not in WRITABLE_KINDS]
        if bad:
            raise ValueError(
                f"unknown kind(s) {', '.join(bad)}; expected all or some of: "
                f"{', '.join(WRITABLE_KINDS)}"
            )
        return value


class AccessConfig(_Strict):
    """Roles and what each may see and do. Without an ``access`` section every reader sees
    everything and every signed-in user may write (development only)."""

    claims: ClaimNames = Field(default_factory=ClaimNames)
    roles: dict[str, RoleRule] = Field(
        min_length=1,
        description="A user holding several roles acts with the first one listed here",
    )
    anonymous_role: str | None = Field(
        default=None, description="The role of a request without a user (e.g. a public directory)"
    )
    default_role: str | None = Field(
        default=None, description="The role of a signed-in user whose token names none of these"
    )
    sector_fields: dict[str, list[str]] = Field(
        default_factory=dict,
        description="{Type.field: [support types]}: a field only roles seeing one of "
        "those support types may read, e.g. Program.qrisRating: [QRIS]",
    )
    small_cell_threshold: int = Field(
        default=10, ge=1, description="Counts below this are suppressed for roles without detail"
    )

    @field_validator("sector_fields")
    @classmethod
    def _sector_fields(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        _field_patterns(list(value))
        return value

    @model_validator(mode="after")
    def _known_roles(self) -> AccessConfig:
        for name in ("anonymous_role", "default_role"):
            role = getattr(self, name)
            if role is not None and role not in self.roles:
                raise ValueError(
                    f"{name} {role!r} is not one of the roles: {', '.join(self.roles)}"
                )
        return self


class Config(_Strict):
    support_types: list[SupportTypeConfig] = Field(
        default_factory=lambda: list(DEFAULT_SUPPORT_TYPES)
    )
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    merge: dict[str, MergeRule] = Field(default_factory=dict)
    hub: HubConfig = Field(default_factory=HubConfig)
    files: FilesConfig = Field(default_factory=FilesConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    access: AccessConfig | None = None
    file: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _access_support_types(self) -> Config:
        if self.access is None:
            return self
        known = {st.code for st in self.support_types}
        named = [
            code
            for rule in self.access.roles.values()
            if isinstance(rule.support_types, list)
            for code in rule.support_types
        ] + [code for codes in self.access.sector_fields.values() for code in codes]
        unknown = sorted(set(named) - known)
        if unknown:
            raise ValueError(
                f"access names unknown support type(s) {', '.join(unknown)}; declared: "
                f"{', '.join(sorted(known))}"
            )
        return self

    @model_validator(mode="after")
    def _cache_names(self) -> Config:
        cache = self.cache
        for source, timing in cache.sources.items():
            config = self.sources.get(source)
            if config is None:
                raise ValueError(
                    f"cache.sources names unknown source {source!r}; sources: "
                    f"{', '.join(self.sources) or '(none)'}"
                )
            unknown = sorted(set(timing.entities) - set(config.entities))
            if unknown:
                raise ValueError(
                    f"cache.sources.{source}.entities names {', '.join(unknown)}, which source "
                    f"{source!r} does not map; it maps: {', '.join(config.entities)}"
                )
        roles = set(self.access.roles) if self.access is not None else set()
        strangers = [r for r in cache.bypass_roles if r not in roles]
        if strangers and self.access is not None:
            raise ValueError(
                f"cache.bypass_roles names unknown role(s) {', '.join(strangers)}; roles: "
                f"{', '.join(self.access.roles)}"
            )
        return self

    def match_on(self, entity: str) -> list[str]:
        rule = self.merge.get(entity)
        return list(rule.match_on) if rule else []

    def identifier_systems(self, entity: str) -> set[str]:
        """The identifier systems some source declares for ``entity``."""
        return {
            system
            for source in self.sources.values()
            if entity in source.entities
            for system in source.entities[entity].identifiers
        }

    def identifier_holders(self, entity: str, system: str) -> list[str]:
        """The sources declaring identifier ``system`` for ``entity``, in precedence order."""
        return [
            name
            for name, source in self.sources.items()
            if entity in source.entities and system in source.entities[entity].identifiers
        ]

    def level_scale(self, source: str, entity: str, name: str) -> LevelScale | None:
        """The scale ``source`` declares for level field ``name`` of ``entity`` (``None``:
        none, its levels are on the reference scale)."""
        found = self.sources.get(source)
        ent = None if found is None else found.entities.get(entity)
        return None if ent is None else ent.scales.get(name)

    def uses_crosswalk(self, entity: str) -> bool:
        rule = self.merge.get(entity)
        return rule is not None and rule.identity == "crosswalk"

    @field_validator("merge")
    @classmethod
    def _crosswalk_entities(cls, merge: dict[str, MergeRule]) -> dict[str, MergeRule]:
        allowed = MergeRule.CROSSWALK_ENTITIES
        wrong = [
            e for e, rule in merge.items() if rule.identity == "crosswalk" and e not in allowed
        ]
        if wrong:
            raise ValueError(
                f"identity: crosswalk is for {', '.join(allowed)} only, not {', '.join(wrong)}; "
                f"remove it from merge.{wrong[0]}"
            )
        return merge
