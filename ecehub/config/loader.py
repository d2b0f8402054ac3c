"""Load a YAML config: ``${ENV}`` interpolation, pydantic validation, semantic checks.

Every problem is reported with the file, the dotted path (``sources.qris.entities.program.key``)
and what is expected; all problems are collected, not just the first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ecehub.config.canonical import ENTITIES
from ecehub.config.kinds import settings_model
from ecehub.config.model import Config, EntityConfig, MergeRule, SourceConfig
from ecehub.config.periods import PERIOD_FIELD, period_problems
from ecehub.config.scales import scale_problems
from ecehub.config.transforms import check_pipeline, transform_field_kind
from ecehub.errors import ConfigError, ConnectorNotFound

__all__ = ["CONFIG_DIR_CONTEXT", "load_config", "parse_config", "read_yaml"]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Problems = list[tuple[str, str]]


def _join(path: str, part: object) -> str:
    return f"{path}.{part}" if path else str(part)


def _interpolate(node: Any, path: str, env: Mapping[str, str], problems: Problems) -> Any:
    if isinstance(node, dict):
        return {k: _interpolate(v, _join(path, k), env, problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, _join(path, i), env, problems) for i, v in enumerate(node)]
    if not isinstance(node, str):
        return node

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append(
            (
                path,
                f"environment variable {name} is not set (export it, or write "
                f"${{{name}:-default}} to give a default)",
            )
        )
        return ""

    return _ENV.sub(repl, node)


def _pydantic_problems(exc: ValidationError, prefix: str) -> Problems:
    out: Problems = []
    for err in exc.errors():
        path = prefix
        for part in err["loc"]:
            # Skip pydantic's internal union tags (e.g. "function-after[...]").
            if isinstance(part, str) and ("[" in part or part.startswith("function")):
                continue
            path = _join(path, part)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown setting (check the spelling; see the README for the settings)"
        elif err["type"] == "missing":
            msg = "required setting is missing"
        out.append((path, msg))
    return out


def _check_entities(name: str, source: SourceConfig, declared: set[str]) -> Problems:
    problems: Problems = []
    base = f"sources.{name}"
    for i, code in enumerate(source.support_types):
        if code not in declared:
            problems.append(
                (
                    f"{base}.support_types.{i}",
                    f"support type {code!r} is not declared; declared: "
                    f"{', '.join(sorted(declared))}",
                )
            )
    for entity, ent in source.entities.items():
        path = f"{base}.entities.{entity}"
        spec = ENTITIES.get(entity)
        if spec is None:
            problems.append(
                (path, f"unknown entity {entity!r}; expected one of: {', '.join(ENTITIES)}")
            )
            continue
        problems.extend(period_problems(entity, ent, path))
        for fname in ent.fields:
            if fname not in spec.fields and not (fname == PERIOD_FIELD and ent.period):
                problems.append(
                    (
                        f"{path}.fields.{fname}",
                        f"unknown field {fname!r} for entity {entity!r}; expected one "
                        f"of: {', '.join(spec.fields)}",
                    )
                )
        for setting in ("values", "constants"):
            for fname in getattr(ent, setting):
                if fname not in spec.fields:
                    problems.append(
                        (
                            f"{path}.{setting}.{fname}",
                            f"unknown field {fname!r} for entity {entity!r}; expected "
                            f"one of: {', '.join(spec.fields)}",
                        )
                    )
        for fname, formats in ent.date_formats.items():
            where = f"{path}.date_formats.{fname}"
            if spec.fields.get(fname) not in ("date", "datetime"):
                dated = [f for f, kind in spec.fields.items() if kind in ("date", "datetime")]
                problems.append(
                    (
                        where,
                        f"formats are for the date and datetime fields of {entity!r}: "
                        f"{', '.join(dated) or '(none)'}",
                    )
                )
            for i, form in enumerate(formats):
                if "%" not in form:
                    problems.append(
                        (f"{where}.{i}", f"{form!r} is not a strptime format, e.g. '%m/%d/%Y'")
                    )
        for fname in ent.values:
            if fname in spec.fields and fname not in ent.fields:
                problems.append(
                    (
                        f"{path}.values.{fname}",
                        f"field {fname!r} is not mapped in `fields`, so there is no "
                        f"source value to translate",
                    )
                )
        problems.extend(_check_transforms(path, entity, ent))
        problems.extend(scale_problems(path, entity, ent.scales, ent.fields, ent.values))
        for fname in ent.constants:
            if fname in ent.fields:
                problems.append(
                    (
                        f"{path}.constants.{fname}",
                        f"field {fname!r} is also mapped in `fields`; keep one",
                    )
                )
        for fname in getattr(ent, "filters", None) or {}:
            if fname.startswith("identifier:"):
                continue
            if fname not in spec.fields:
                problems.append(
                    (
                        f"{path}.filters.{fname}",
                        f"unknown field {fname!r} for entity {entity!r}; expected a "
                        f"field or identifier:<SYSTEM>",
                    )
                )
        if ent.parent is not None:
            if len(ent.parent) != 1:
                problems.append((f"{path}.parent", "give exactly one {parent_entity: column}"))
                continue
            parent = ent.parent_entity
            if parent not in spec.parents:
                problems.append(
                    (
                        f"{path}.parent.{parent}",
                        f"{entity!r} cannot hang under {parent!r}; expected one of: "
                        f"{', '.join(spec.parents) or '(none)'}",
                    )
                )
            elif parent not in source.entities:
                problems.append(
                    (
                        f"{path}.parent.{parent}",
                        f"parent entity {parent!r} is not mapped by source {name!r}",
                    )
                )
    return problems


def _check_transforms(path: str, entity: str, ent: EntityConfig) -> Problems:
    """``transforms``: each names a mapped field (or identifier) and its steps can feed the
    field's canonical type; a field takes transforms or ``values``/``date_formats``, not both
    (the order would be a guess)."""
    problems: Problems = []
    spec = ENTITIES[entity]
    for fname, steps in ent.transforms.items():
        where = f"{path}.transforms.{fname}"
        kind = transform_field_kind(spec.fields, fname)
        if kind is None:
            problems.append(
                (
                    where,
                    f"unknown field {fname!r} for entity {entity!r}; expected a field "
                    f"({', '.join(spec.fields)}) or identifier:<SYSTEM>",
                )
            )
            continue
        if fname.startswith("identifier:"):
            system = fname.split(":", 1)[1]
            if system not in ent.identifiers:
                problems.append(
                    (
                        where,
                        f"identifier {system!r} is not mapped in `identifiers`, so there is no "
                        f"source value to transform",
                    )
                )
                continue
        elif fname not in ent.fields:
            problems.append(
                (
                    where,
                    f"field {fname!r} is not mapped in `fields`, so there is no source value "
                    f"to transform",
                )
            )
            continue
        for setting, fix in (
            ("values", "a {map: {...}} step"),
            ("date_formats", "a {date: [formats]} step"),
        ):
            if fname in getattr(ent, setting):
                problems.append(
                    (
                        f"{path}.{setting}.{fname}",
                        f"field {fname!r} has transforms too; write this as {fix} in "
                        f"transforms.{fname} instead",
                    )
                )
        if not steps:
            problems.append((where, "give at least one step, or remove the field"))
        for index, message in check_pipeline(steps, kind):
            problems.append((where if index is None else f"{where}.{index}", message))
    return problems


def _gives(source: SourceConfig, entity: str, fname: str) -> bool:
    ent = source.entities.get(entity)
    return ent is not None and (fname in ent.fields or fname in ent.constants)


def _check_field_rules(config: Config, entity: str, rule: MergeRule) -> Problems:
    problems: Problems = []
    spec = ENTITIES[entity]
    for fname, field_rule in rule.fields.items():
        path = f"merge.{entity}.fields.{fname}"
        if fname not in spec.fields:
            problems.append(
                (
                    path,
                    f"unknown field {fname!r} for entity {entity!r}; expected one of: "
                    f"{', '.join(spec.fields)}",
                )
            )
            continue
        for i, name in enumerate(field_rule.prefer):
            source = config.sources.get(name)
            if source is None:
                problems.append(
                    (
                        f"{path}.prefer.{i}",
                        f"unknown source {name!r}; expected one of: "
                        f"{', '.join(config.sources) or '(none)'}",
                    )
                )
            elif not _gives(source, entity, fname):
                problems.append(
                    (
                        f"{path}.prefer.{i}",
                        f"source {name!r} does not map {entity}.{fname}, so preferring it "
                        f"changes nothing; map it under sources.{name}.entities.{entity}."
                        f"fields or drop it here",
                    )
                )
        if field_rule.strategy != "most_recent" or field_rule.by == "fetched_at":
            continue
        dated = [f for f, kind in spec.fields.items() if kind in ("date", "datetime")]
        if field_rule.by not in dated:
            problems.append(
                (
                    f"{path}.by",
                    f"{field_rule.by!r} is not a date field of {entity!r}; expected "
                    f"fetched_at or one of: {', '.join(dated) or '(none)'}",
                )
            )
        elif not any(
            _gives(s, entity, fname) and _gives(s, entity, field_rule.by)
            for s in config.sources.values()
        ):
            problems.append(
                (
                    f"{path}.by",
                    f"no source that gives {entity}.{fname} also gives "
                    f"{entity}.{field_rule.by}, so there is nothing to compare; map it or "
                    f"use by: fetched_at",
                )
            )
    return problems


def _causes(problems: Problems, unset: int) -> Problems:
    """The problems without the knock-on ones of a variable that is not set: a value left
    empty by it fails validation too, and the missing variable is the one thing to fix."""
    missing = [path for path, _ in problems[:unset]]

    def follows(path: str) -> bool:
        return any(path == m or path.startswith(f"{m}.") for m in missing)

    return problems[:unset] + [p for p in problems[unset:] if not follows(p[0])]


CONFIG_DIR_CONTEXT = "config_dir"
"""The key of the validation context holding the config file's folder (a :class:`Path`, or
``None`` for config not read from a file): a connector's settings model takes its relative
paths relative to it (``info.context``), as ``files.directory`` is."""


def parse_config(
    data: Any,
    *,
    file: str = "<config>",
    env: Mapping[str, str] | None = None,
    config_dir: Path | None = None,
) -> Config:
    """Validate already-parsed YAML data. Raises :class:`ConfigError` listing every problem.

    ``config_dir``: the folder relative paths in source settings are taken from (a config
    file's folder); ``None``: the working directory's."""
    env = os.environ if env is None else env
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(file, [("", "expected a mapping at the top level")])
    problems: Problems = []
    data = _interpolate(data, "", env, problems)
    unset = len(problems)  # the first problems are the variables that are not set
    raw_sources = data.pop("sources", None) or {}
    if not isinstance(raw_sources, dict):
        problems.append(("sources", "expected a mapping of source name to settings"))
        raw_sources = {}

    sources: dict[str, SourceConfig] = {}
    for name, raw in raw_sources.items():
        path = f"sources.{name}"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
            problems.append((path, "source names are lower_snake_case (a-z, 0-9, _)"))
            continue
        if not isinstance(raw, dict):
            problems.append((path, "expected a mapping of settings"))
            continue
        kind = raw.get("kind")
        if kind is None:
            problems.append((f"{path}.kind", "required setting is missing (e.g. sql or rest)"))
            continue
        try:
            model = settings_model(str(kind))
        except ConnectorNotFound as exc:
            problems.append((f"{path}.kind", f"{exc.message}; {exc.suggestion}"))
            continue
        try:
            # The context: where relative paths start and where `*_env` settings are read
            # (a connector's settings may name files and environment variables).
            context = {"config_file": file, "env": env, CONFIG_DIR_CONTEXT: config_dir}
            sources[name] = model.model_validate(raw, context=context)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(exc, path))

    try:
        config = Config.model_validate({**data, "sources": sources})
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc, ""))
        raise ConfigError(file, _causes(problems, unset)) from None

    declared = {st.code for st in config.support_types}
    identifier_systems: set[str] = set()
    for name, source in config.sources.items():
        problems.extend(_check_entities(name, source, declared))
        for ent in source.entities.values():
            identifier_systems.update(ent.identifiers)
    for entity, rule in config.merge.items():
        if entity not in ENTITIES:
            problems.append((f"merge.{entity}", f"unknown entity {entity!r}"))
        for i, system in enumerate(rule.match_on):
            if system not in identifier_systems:
                problems.append(
                    (
                        f"merge.{entity}.match_on.{i}",
                        f"no source declares identifier {system!r}; declared: "
                        f"{', '.join(sorted(identifier_systems)) or '(none)'}",
                    )
                )
        if entity in ENTITIES:
            problems.extend(_check_field_rules(config, entity, rule))
    if problems:
        raise ConfigError(file, _causes(problems, unset))
    return config.model_copy(update={"file": Path(file)})


_PLACEHOLDER = "__ecehub_env_{}__"
_PLACEHOLDERS = re.compile(r"__ecehub_env_(\d+)__")


def _shield_variables(text: str) -> tuple[str, list[str]]:
    """``text`` with every ``${...}`` replaced by a plain placeholder, and the expressions in
    order: YAML then never sees a variable's braces (``{value: ${KEY}}`` parses as a flow
    mapping) and no variable's value ever goes through the YAML parser."""
    found: list[str] = []

    def hide(match: re.Match[str]) -> str:
        if "\n" in match.group(0):
            return match.group(0)
        found.append(match.group(0))
        return _PLACEHOLDER.format(len(found) - 1)

    return _ENV.sub(hide, text), found


def _unshield(node: Any, found: list[str]) -> Any:
    if isinstance(node, dict):
        return {_unshield(k, found): _unshield(v, found) for k, v in node.items()}
    if isinstance(node, list):
        return [_unshield(v, found) for v in node]
    if isinstance(node, str):
        return _PLACEHOLDERS.sub(lambda m: found[int(m.group(1))], node)
    return node


_YAML_HINTS = (
    ("\t", "YAML indents with spaces only: replace the tab"),
    ("mapping values are not allowed", "a value holding ': ' must be quoted, e.g. \"a: b\""),
    ("found undefined alias", "a value starting with '*' must be quoted"),
    ("expected <block end>", "check the indentation of this line against the ones above"),
    ("while scanning a quoted scalar", "a quote is not closed"),
)


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return f"YAML syntax error: {problem}"
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    message = (
        f"YAML syntax error at line {mark.line + 1}, column {mark.column + 1}: {problem}\n"
        f"    {line}"
    )
    context = f"{getattr(exc, 'context', None) or ''} {problem} {line}"
    for needle, hint in _YAML_HINTS:
        if needle in context:
            return f"{message}\n  fix: {hint}"
    return message


def read_yaml(path: str | Path) -> Any:
    """The YAML data of a config file, ``${VAR}`` expressions left in place for
    :func:`parse_config`; :class:`ConfigError` naming the file for an unreadable file or a
    syntax error (with the line and a fix)."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(file, [("", f"cannot read file: {exc.strerror}")]) from None
    shielded, variables = _shield_variables(text)
    try:
        data = yaml.safe_load(shielded)
    except yaml.YAMLError as exc:
        raise ConfigError(file, [("", _yaml_problem(exc, text))]) from None
    return _unshield(data, variables)


def load_config(path: str | Path, *, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a YAML config file."""
    return parse_config(
        read_yaml(path), file=str(path), env=env, config_dir=Path(path).resolve().parent
    )
