"""A JSON Schema of the config file, for editors (``ecehub config schema``): completion and
checks while a state's data team writes its YAML. Each source's settings are those of its
``kind`` (every kind installed: the built-ins and partners' connectors).

The schema checks shapes and names; values written as ``${VAR}`` are text to it, so an editor
may flag a number given that way. ``ecehub check`` is the full check."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from ecehub.config.kinds import available_kinds, settings_model
from ecehub.config.model import Config

__all__ = ["config_json_schema"]

_REF = "#/$defs/{model}"


def config_json_schema() -> dict[str, Any]:
    kinds = available_kinds()
    models = [settings_model(kind) for kind in kinds]
    refs, schema = models_json_schema(
        [(Config, "validation"), *((model, "validation") for model in models)],
        ref_template=_REF,
    )
    defs: dict[str, Any] = schema["$defs"]
    config_ref = refs[(Config, "validation")]["$ref"]
    root = defs.pop(config_ref.rsplit("/", 1)[-1])
    one_of = []
    for kind, model in zip(kinds, models, strict=True):
        ref = refs[(model, "validation")]["$ref"]
        # Each kind's settings, chosen by the `kind` the source names.
        one_of.append(
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {"$ref": ref},
            }
        )
    root["properties"]["sources"] = {
        "type": "object",
        "description": "The sector systems, in order of precedence; each by its kind's settings",
        "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
        "additionalProperties": {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"enum": kinds}},
            "allOf": one_of,
        },
    }
    root["properties"].pop("file", None)  # set by the loader, not written in the file
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **root,
        "title": "ecehub configuration",
        "$defs": defs,
    }
