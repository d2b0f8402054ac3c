"""The ``csv`` source's settings: where each entity's files are, how they are written
(encoding, delimiter, quote character) and which columns hold the key, validated when the
config loads.

A location is a local path (relative to the config file's folder) or an ``http(s)://`` URL.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from ecehub.config.canonical import ENTITIES
from ecehub.config.loader import CONFIG_DIR_CONTEXT
from ecehub.config.model import EntityConfig, SourceConfig
from ecehub.connectors.transforms import key_columns

__all__ = ["KEY_SEPARATOR", "CsvEntityConfig", "CsvSourceConfig", "is_url"]

KEY_SEPARATOR = "|"
"""Joins the values of a key of several columns into one source key (``P1|2025``)."""

_DIALECT_HINT = "one character, e.g. ',' or ';' (write a tab as '\\t')"


def is_url(location: str) -> bool:
    return urlsplit(location).scheme in {"http", "https"}


def _check_encoding(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError(
            f"unknown encoding {value!r}; e.g. utf-8, utf-8-sig, latin-1, cp1252"
        ) from None
    return value


def _check_char(value: str | None) -> str | None:
    if value is not None and len(value) != 1:
        raise ValueError(f"not a single character: {value!r}; {_DIALECT_HINT}")
    return value


def _resolve(location: str, info: ValidationInfo) -> str:
    scheme = urlsplit(location).scheme
    if scheme in {"http", "https"}:
        return location
    if len(scheme) > 1:  # one letter: a Windows drive
        raise ValueError(
            f"{scheme}:// locations are not read; give a local path or an http(s):// URL"
        )
    path = Path(location).expanduser()
    base = (info.context or {}).get(CONFIG_DIR_CONTEXT)
    if not path.is_absolute() and isinstance(base, Path):
        path = base / path
    return str(path)


_Key = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            "description": "the key column, or a list of columns whose values together are the key",
        }
    ),
]


class CsvEntityConfig(EntityConfig):
    """``file`` is one location or a list of them (their rows together, each file with its
    own header); ``key``, ``fields``, ``identifiers`` and ``parent`` name columns of the
    header. ``key`` may list several columns: their values joined with ``|`` are the key."""

    file: str | list[str] = Field(
        description="a path (relative to the config file's folder) or an http(s):// URL, or "
        "a list of them"
    )
    key: _Key
    key_columns: SkipJsonSchema[tuple[str, ...]] = ()
    """The key's columns, from ``key`` (set by the validator, never written in the file)."""
    formats: dict[str, str] = Field(
        default_factory=dict,
        description="{field: strptime format} for date and datetime fields not written in "
        "ISO form, e.g. license_expires: '%m/%d/%Y'",
    )
    encoding: str | None = Field(default=None, description="overrides the source's")
    delimiter: str | None = Field(default=None, description="overrides the source's")
    quotechar: str | None = Field(default=None, description="overrides the source's")

    @model_validator(mode="before")
    @classmethod
    def _key_columns(cls, data: Any) -> Any:
        return key_columns(data)

    @model_validator(mode="after")
    def _formats_of_mapped_fields(self) -> Self:
        unmapped = sorted(set(self.formats) - set(self.fields))
        if unmapped:
            raise ValueError(f"formats for field(s) not mapped in `fields`: {', '.join(unmapped)}")
        return self

    @field_validator("file")
    @classmethod
    def _locations(cls, value: str | list[str], info: ValidationInfo) -> str | list[str]:
        if isinstance(value, list):
            if not value:
                raise ValueError("give at least one file")
            return [_resolve(v, info) for v in value]
        return _resolve(value, info)

    _encoding = field_validator("encoding")(_check_encoding)
    _chars = field_validator("delimiter", "quotechar")(_check_char)

    @property
    def locations(self) -> list[str]:
        return [self.file] if isinstance(self.file, str) else list(self.file)

    def columns(self) -> list[str]:
        """Every column the entity reads, each once."""
        names = [*self.key_columns, *self.fields.values(), *self.identifiers.values()]
        if self.parent_column:
            names.append(self.parent_column)
        return list(dict.fromkeys(names))


class CsvSourceConfig(SourceConfig):
    encoding: str = Field(default="utf-8", description="e.g. utf-8, utf-8-sig, latin-1, cp1252")
    delimiter: str = ","
    quotechar: str = '"'
    headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="HTTP headers sent with every request of an http(s) file, e.g. "
        "Authorization: ${CSV_TOKEN}",
    )
    recheck_s: float = Field(
        default=0.0,
        ge=0,
        description="check a file for changes at most this often (0: on every call; a stat "
        "for a local file, a conditional GET for a URL)",
    )
    max_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1, description="the largest file read, in bytes"
    )
    entities: dict[str, CsvEntityConfig] = Field(default_factory=dict)  # type: ignore[assignment]

    _encoding = field_validator("encoding")(_check_encoding)
    _chars = field_validator("delimiter", "quotechar")(_check_char)

    @model_validator(mode="after")
    def _entity_settings(self) -> Self:
        for name, ent in self.entities.items():
            kinds = ENTITIES[name].fields if name in ENTITIES else {}
            for field_name, form in ent.formats.items():
                if kinds and kinds.get(field_name) not in ("date", "datetime"):
                    raise ValueError(
                        f"entities.{name}.formats.{field_name}: only date and datetime fields "
                        f"take a format"
                    )
                if "%" not in form:
                    raise ValueError(
                        f"entities.{name}.formats.{field_name}: not a strptime format, e.g. "
                        f"'%m/%d/%Y'"
                    )
            delimiter = ent.delimiter or self.delimiter
            if delimiter == (ent.quotechar or self.quotechar):
                raise ValueError(f"entities.{name}: the delimiter and quotechar must differ")
        return self
