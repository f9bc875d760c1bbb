"""The ModelPack config (``application/vnd.cncf.model.config.v1+json``) checked against the
model-spec JSON Schema shipped in ``attest/schemas/`` (no ``$ref`` is ever fetched)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from attest.oci.config_schema import (
    DRAFT202012_URI,
    Draft202012Ecma,
    format_checker,
    load_schema,
    raise_on_errors,
)

MODEL_CONFIG_SCHEMA = "modelpack-config.schema.json"


def validate_model_config(obj: Any) -> None:
    """Raise InputError unless ``obj`` is a valid ModelPack model config (model-spec schema)."""
    raise_on_errors(model_config_validator(), obj, "ModelPack model config")


@cache
def model_config_validator() -> Validator:
    schema = load_schema(MODEL_CONFIG_SCHEMA, DRAFT202012_URI)
    Draft202012Ecma.check_schema(schema)
    resource = Resource.from_contents(schema, default_specification=DRAFT202012)
    # An explicit registry: jsonschema would otherwise fetch unknown $refs over HTTP.
    registry: Registry[Any] = Registry().with_resource(schema["$id"], resource)
    return Draft202012Ecma(
        schema,
        registry=registry,
        format_checker=format_checker(Draft202012Validator.FORMAT_CHECKER),
    )
