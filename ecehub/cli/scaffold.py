"""``ecehub connector new NAME``: a partner's connector package that works as generated.

The skeleton is a real connector over a JSON file (one list of rows per entity), so the
package passes the conformance kit untouched; a partner replaces the file reading with their
system's client and keeps the rest (records through ``make_record``, filters with the
meaning of ``matches``, cursors, errors as ``SourceUnavailable``).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from ecehub.connectors.capabilities import CONTRACT_VERSION

__all__ = ["ConnectorNames", "ScaffoldError", "names_for", "write_package"]


class ScaffoldError(ValueError):
    """A name or target directory the scaffold cannot use."""


@dataclass(frozen=True)
class ConnectorNames:
    kind: str
    """The ``kind`` in config and the entry point's name: ``acme_csv``."""
    distribution: str
    """``ecehub-acme-csv``."""
    package: str
    """``ecehub_acme_csv``."""
    connector_class: str
    """``AcmeCsvConnector``."""
    settings_class: str
    """``AcmeCsvSourceConfig``."""


def names_for(name: str) -> ConnectorNames:
    kind = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", kind) or keyword.iskeyword(kind):
        raise ScaffoldError(
            f"{name!r} is not a usable connector name: start with a letter, then letters, "
            "digits, '-' or '_' (e.g. acme-qris)"
        )
    camel = "".join(part.capitalize() for part in kind.split("_") if part)
    return ConnectorNames(
        kind=kind,
        distribution="ecehub-" + kind.replace("_", "-"),
        package="ecehub_" + kind,
        connector_class=f"{camel}Connector",
        settings_class=f"{camel}SourceConfig",
    )


_PYPROJECT = Template("""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "An ecehub connector: $kind"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["ecehub>=0.1,<1"]

[project.optional-dependencies]
test = ["ecehub[test]", "pytest>=8.3", "pytest-asyncio>=1.0"]

# The hub finds the connector by this name (the `kind:` of a source in the config).
[project.entry-points."ecehub.connectors"]
$kind = "$package.connector:$connector_class"

[tool.setuptools.packages.find]
where = ["src"]

[tool.setuptools.package-data]
$package = ["py.typed"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["src"]  # the suite runs from a checkout that is not installed, too
addopts = "--strict-config --strict-markers -ra"
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
asyncio_default_test_loop_scope = "function"
filterwarnings = ["error"]

[tool.mypy]
strict = true
python_version = "3.11"
mypy_path = "src"
packages = ["$package", "tests"]
""")

_INIT = Template('''"""The ecehub connector ``$kind``."""

from $package.connector import $connector_class, $settings_class

__all__ = ["$connector_class", "$settings_class"]
''')

_CONNECTOR = Template('''"""The ``$kind`` connector: the rows of a JSON file, by entity.

Replace :meth:`$connector_class._read` with your system's client; keep the rest of the
contract (docs/connectors.md in ecehub): records built with ``make_record``, every filter
with the meaning of ``matches``, a cursor on each record of ``find``, failures raised as
``SourceUnavailable`` without secrets, ``health()`` that never raises.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from ecehub.config import SourceConfig
from ecehub.connectors import (
    Capabilities,
    Connector,
    FieldFilter,
    Health,
    Page,
    Record,
    matches,
)
from ecehub.connectors.base import child_mapping, utcnow
from ecehub.errors import SourceUnavailable

__all__ = ["$connector_class", "$settings_class"]


class $settings_class(SourceConfig):
    """The settings of one ``kind: $kind`` source (validated when the config loads). Mark
    secrets ``SecretStr``; they come from ``$${ENV}`` in the config, never from the file."""

    path: str = Field(description="the JSON file: an object of lists of rows, by entity")


class $connector_class(Connector[$settings_class]):
    kind = "$kind"
    contract_version = "$contract_version"
    # What find() and children() honour; the hub does the rest (docs/connectors.md).
    capabilities = Capabilities(supports_paging=True)

    async def _read(self) -> dict[str, list[dict[str, Any]]]:
        """The whole file, read off the event loop."""

        def read() -> Any:
            return json.loads(Path(self.settings.path).read_text(encoding="utf-8"))

        try:
            data = await asyncio.to_thread(read)
        except (OSError, ValueError) as exc:
            reason = f"cannot read the file: {type(exc).__name__}"
            raise SourceUnavailable(self.name, reason) from None
        if not isinstance(data, dict):
            raise SourceUnavailable(self.name, "the file is not a JSON object of lists")
        return data

    async def _records(self, entity: str) -> list[Record]:
        ent = self.settings.entities.get(entity)
        if ent is None:
            raise ValueError(f"source {self.name!r} does not map entity {entity!r}")
        rows = (await self._read()).get(entity, [])
        fetched_at = utcnow()  # one time for the call: when the hub read the records
        return [
            self.make_record(
                entity,
                row[ent.key],
                {name: row.get(column) for name, column in ent.fields.items()},
                {system: row.get(column) for system, column in ent.identifiers.items()},
                row.get(ent.parent_column) if ent.parent_column else None,
                fetched_at=fetched_at,
            )
            for row in rows
        ]

    async def fetch(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        if not keys:
            return {}
        wanted = set(keys)
        return {r.key: r for r in await self._records(entity) if r.key in wanted}

    async def children(
        self, entity: str, parent_entity: str, parent_keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        child_mapping(self.settings.entities, self.name, entity, parent_entity)  # or ValueError
        grouped: dict[str, list[Record]] = {key: [] for key in parent_keys}
        if not parent_keys:
            return grouped
        for record in await self._records(entity):
            if record.parent_key in grouped:
                grouped[record.parent_key].append(record)
        return grouped

    async def find(
        self,
        entity: str,
        filters: Sequence[FieldFilter] = (),
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        found = [r for r in await self._records(entity) if matches(r, filters)]
        for index, record in enumerate(found):
            record.cursor = str(index)  # where the next page starts: right after this one
        start = 0
        if after is not None:
            if not after.isdigit():
                raise ValueError(f"source {self.name!r}: invalid cursor {after!r}")
            start = int(after) + 1
        end = len(found) if first is None else start + max(first, 0)
        return Page(found[start:end], end < len(found))

    async def health(self) -> Health:
        started = time.perf_counter()
        try:
            await self._read()
        except SourceUnavailable as exc:
            return Health(self.name, False, (time.perf_counter() - started) * 1000, exc.message)
        return Health(self.name, True, (time.perf_counter() - started) * 1000)

    async def verify(self) -> list[str]:
        """Mapping problems for ``ecehub check``: mapped columns no row has."""
        data = await self._read()
        problems: list[str] = []
        for entity, ent in self.settings.entities.items():
            columns = {column for row in data.get(entity, []) for column in row}
            mapped = [ent.key, *ent.fields.values(), *ent.identifiers.values()]
            problems += [
                f"entity {entity!r}: column {column!r} is in none of its rows"
                for column in mapped
                if column not in columns
            ]
        return problems

    async def aclose(self) -> None:
        return None  # nothing held open between calls

''')

_TEST = Template('''"""The conformance kit of ecehub, run against the $kind connector."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import AsyncIterator
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest

from ecehub.connectors import Connector, register
from ecehub.testing import CONFORMANCE_DATA, ConnectorConformance, build_connector, entity_mapping
from $package import $connector_class

PACKAGE_ROOT = Path(__file__).resolve().parents[1]

# Installed (pip install -e .), the entry point registers the kind; registering here too lets
# the suite run from a checkout that is not installed.
register("$kind", $connector_class)


def write_dataset(path: Path) -> None:
    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value

    rows = {
        entity: [{column: plain(value) for column, value in row.items()} for row in entity_rows]
        for entity, entity_rows in CONFORMANCE_DATA.items()
    }
    path.write_text(json.dumps(rows), encoding="utf-8")


def source(path: Path) -> dict[str, Any]:
    return {
        "kind": "$kind",
        "path": str(path),
        "entities": {entity: entity_mapping(entity) for entity in CONFORMANCE_DATA},
    }


class Test${connector_class}(ConnectorConformance):
    @pytest.fixture
    async def connector(self, tmp_path: Path) -> AsyncIterator[Connector]:
        write_dataset(tmp_path / "data.json")
        connector = build_connector("${kind}_source", source(tmp_path / "data.json"))
        yield connector
        await connector.aclose()

    @pytest.fixture
    async def unavailable_connector(self, tmp_path: Path) -> AsyncIterator[Connector]:
        connector = build_connector("${kind}_source", source(tmp_path / "missing.json"))
        yield connector
        await connector.aclose()


def test_the_entry_point_names_the_connector() -> None:
    project = tomllib.loads((PACKAGE_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    target = project["project"]["entry-points"]["ecehub.connectors"]["$kind"]
    module, _, name = target.partition(":")
    assert getattr(import_module(module), name) is $connector_class
''')

_README = Template("""# $distribution

An ecehub connector: `kind: $kind`. Generated by
`ecehub connector new`, implementing connector contract $contract_version (see ecehub's
docs/connectors.md for the whole contract).

As generated it reads a JSON file (`{"program": [{...}], "site": [...]}`); replace
`$connector_class._read` in `src/$package/connector.py` with your system's client.

```yaml
sources:
  my_source:
    kind: $kind
    path: /data/export.json
    support_types: [QRIS]
    entities:
      program: {key: program_key, fields: {name: name, city: city}}
```

## Develop

```sh
python -m venv .venv
.venv/bin/pip install -e ".[test]" mypy
.venv/bin/pytest                 # the ecehub conformance kit, about 70 tests
.venv/bin/mypy                   # strict, as configured in pyproject.toml
.venv/bin/ecehub connectors      # lists $kind once installed
```

Install ecehub itself from a wheel or an index, or, from a checkout, with
`pip install -e PATH --config-settings editable_mode=compat`: setuptools' default editable
install is an import hook that mypy cannot follow, and mypy would not find `ecehub`.
""")


def write_package(name: str, directory: Path) -> tuple[ConnectorNames, Path]:
    """Write the package for connector ``name`` under ``directory``; the package's root."""
    names = names_for(name)
    root = directory / names.distribution
    if root.exists():
        raise ScaffoldError(f"{root} exists already; pick another --dir or remove it")
    values = {
        "kind": names.kind,
        "distribution": names.distribution,
        "package": names.package,
        "connector_class": names.connector_class,
        "settings_class": names.settings_class,
        "contract_version": CONTRACT_VERSION,
    }
    files = {
        Path("pyproject.toml"): _PYPROJECT,
        Path("README.md"): _README,
        Path("src", names.package, "__init__.py"): _INIT,
        Path("src", names.package, "connector.py"): _CONNECTOR,
        Path("tests", "__init__.py"): Template(""),
        Path("tests", "test_conformance.py"): _TEST,
    }
    for relative, template in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(template.substitute(values), encoding="utf-8")
    (root / "src" / names.package / "py.typed").write_text("", encoding="utf-8")
    return names, root
