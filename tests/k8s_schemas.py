"""Offline validation of Kubernetes objects, as strict as the API server's field validation:
core kinds with `kubernetes-validate` (strict, a fixed Kubernetes version), custom resources
with the openAPIV3Schema of their upstream CRD (testdata/vectors/k8s/), where an object schema
that does not preserve unknown fields refuses unknown fields (the API server prunes or, with
strict field validation, rejects them)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.helpers import REPO_ROOT

K8S_VERSION = "1.36.0"  # image volumes are GA here
CRD_ROOT = REPO_ROOT / "testdata" / "vectors" / "k8s"


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> strict openAPIV3Schema, from every CRD under CRD_ROOT."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRD_ROOT.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
            for version in doc["spec"]["versions"]:
                schema = version.get("schema", {}).get("openAPIV3Schema")
                if schema:
                    out[(f"{group}/{version['name']}", kind)] = _strict(copy.deepcopy(schema))
    return out


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    if isinstance(schema, dict):
        if (schema.get("type") == "object" and "properties" in schema
                and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):  # fmt: skip
            schema["additionalProperties"] = False
        for value in schema.values():
            if isinstance(value, dict):
                _strict(value)
            elif isinstance(value, list):
                for item in value:
                    _strict(item)
    return schema


def validate_object(obj: dict[str, Any]) -> None:
    """Raise on an invalid object (jsonschema.ValidationError or kubernetes-validate's errors)."""
    key = (obj.get("apiVersion", ""), obj.get("kind", ""))
    schemas = crd_schemas()
    if key in schemas:
        meta = obj.get("metadata", {})
        assert isinstance(meta.get("name"), str) and meta["name"], f"{key}: metadata.name"
        body = {k: v for k, v in obj.items() if k != "metadata"}
        jsonschema.Draft7Validator(schemas[key]).validate({**body, "metadata": {}})
        return
    import kubernetes_validate

    kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def validate_file(path: Path) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    for doc in docs:
        validate_object(doc)
    return docs
