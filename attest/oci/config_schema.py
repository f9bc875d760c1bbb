"""JSON Schema validation of OCI image manifests/indexes, and the validator machinery every
attest schema shares (ECMA-262 ``pattern``, strict ``date-time``, schemas read from the package).
The ModelPack config schema is checked by :mod:`attest.modelpack.config_schema`.

The schemas ship in the package (``attest/schemas/``, see its README for origin and licence) and
are read with ``importlib.resources``; ``$ref``s are resolved from those files only, never from the
network. Validators are compiled once and cached.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

from attest.errors import InputError

OCI_SCHEMA_DIR = "oci"
OCI_SCHEMA_BASE = "https://opencontainers.org/schema/"
OCI_SCHEMA_FILES = (
    "content-descriptor.json",
    "defs-descriptor.json",
    "defs.json",
    "image-index-schema.json",
    "image-manifest-schema.json",
)
DRAFT202012_URI = "https://json-schema.org/draft/2020-12/schema"
DRAFT4_URI = "http://json-schema.org/draft-04/schema#"
# Upper bound on violations listed in one error message (the rest are counted).
MAX_LISTED_VIOLATIONS = 20


def validate_image_manifest(obj: Any) -> None:
    """Raise InputError unless ``obj`` is a valid OCI image manifest (image-spec v1.1.1 schema)."""
    raise_on_errors(_oci_validator("image-manifest-schema.json"), obj, "OCI image manifest")


def validate_image_index(obj: Any) -> None:
    """Raise InputError unless ``obj`` is a valid OCI image index (image-spec v1.1.1 schema)."""
    raise_on_errors(_oci_validator("image-index-schema.json"), obj, "OCI image index")


def schema_violations(validator: Validator, obj: Any) -> list[str]:
    """Every violation as ``<json path>: <message>``, sorted, e.g. ``config.paramSize: 7 ...``."""
    return sorted(f"{_path(err)}: {err.message}" for err in validator.iter_errors(obj))


# --- internals -----------------------------------------------------------------------------


def raise_on_errors(validator: Validator, obj: Any, what: str) -> None:
    violations = schema_violations(validator, obj)
    if not violations:
        return
    listed = violations[:MAX_LISTED_VIOLATIONS]
    more = len(violations) - len(listed)
    tail = f"; and {more} more" if more else ""
    raise InputError(
        f"invalid {what}: {'; '.join(listed)}{tail}",
        hint=f"the document must match the {what} JSON Schema shipped in attest/schemas/",
    )


def _path(err: ValidationError) -> str:
    # jsonschema gives "$.config.paramSize"; the "$." prefix is noise in a message.
    path = err.json_path
    return path[2:] if path.startswith("$.") else path


def load_schema(name: str, dialect: str) -> dict[str, Any]:
    text = resources.files("attest").joinpath("schemas", name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    # The dialect is fixed by the validator class we pick. Leaving "$schema" in would make
    # jsonschema switch back to its stock class on entering the document through a $ref, which
    # loses our ECMA `pattern` keyword (see _ecma_pattern).
    declared = schema.pop("$schema", dialect)
    if declared != dialect:
        raise ValueError(f"schema {name} declares {declared}, expected {dialect}")
    return schema


def _ecma_pattern(pattern: str) -> str:
    """Rewrite an ECMA-262 pattern so Python's ``re`` gives the same answer.

    In ECMA-262 (and Go's RE2, which the reference validators use) ``$`` matches only at the end
    of the input; in Python it also matches before a final newline, so ``"en\\n"`` would pass
    ``^[a-z]{2}$``. Every unescaped ``$`` outside a character class becomes ``\\Z``.
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "$":
            c = r"\Z"
        out.append(c)
        i += 1
    return "".join(out)


@cache
def _compiled_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(_ecma_pattern(pattern))


def _pattern_keyword(
    validator: Validator, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _compiled_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def format_checker(base: FormatChecker) -> FormatChecker:
    """``base`` with a date-time check that also rejects a trailing newline (see _ecma_pattern)."""
    checker = FormatChecker(formats=())
    checker.checkers = dict(base.checkers)
    date_time = base.checkers.get("date-time")
    if date_time is None:  # rfc3339-validator missing: say so instead of silently passing dates
        raise ImportError("date-time format checks need the 'rfc3339-validator' package")
    func, raises = date_time

    def strict_date_time(instance: object) -> bool:
        if isinstance(instance, str) and instance != instance.strip():
            return False
        return bool(func(instance))

    checker.checkers["date-time"] = (strict_date_time, raises)
    return checker


Draft202012Ecma = extend(Draft202012Validator, {"pattern": _pattern_keyword})
_Draft4 = extend(Draft4Validator, {"pattern": _pattern_keyword})


@cache  # a manifest of n layers resolves n $refs: read and build each schema once, not n times
def _retrieve_oci(uri: str) -> Resource[Any]:
    # The image-spec schemas use relative $refs against several different `id` bases
    # (.../schema/image/manifest, .../schema/descriptor); each name exists once, so map by name.
    name = uri.rsplit("/", 1)[-1]
    if uri.startswith(OCI_SCHEMA_BASE) and name in OCI_SCHEMA_FILES:
        contents = load_schema(f"{OCI_SCHEMA_DIR}/{name}", DRAFT4_URI)
        return Resource.from_contents(contents, default_specification=DRAFT4)
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs alias


@cache
def _oci_registry() -> Registry[Any]:
    """The schemas loaded and crawled once. With only the retrieve hook, each $ref lookup
    retrieved and crawled again: three per layer, about 1 s for a 1,000-layer manifest."""
    uris = [f"{OCI_SCHEMA_BASE}image/{name}" for name in OCI_SCHEMA_FILES]
    registry: Registry[Any] = Registry(retrieve=_retrieve_oci)  # type: ignore[call-arg]
    return registry.with_resources((uri, _retrieve_oci(uri)) for uri in uris).crawl()


@cache
def _oci_validator(name: str) -> Validator:
    schema = load_schema(f"{OCI_SCHEMA_DIR}/{name}", DRAFT4_URI)
    _Draft4.check_schema(schema)
    # The image-spec schemas are not recursive: their $refs are inlined once, here, so a
    # layer costs no lookup at all (the crawled registry remains for any $ref left).
    registry = _oci_registry()
    return _Draft4(
        _inline_refs(schema, name),
        registry=registry,
        format_checker=format_checker(Draft4Validator.FORMAT_CHECKER),
    )


def _inline_refs(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """``schema`` with every ``$ref`` replaced by what it points at (in the shipped OCI schema
    files, by file name as :func:`_retrieve_oci` maps them) and the ``id`` URIs dropped."""
    files = {f: load_schema(f"{OCI_SCHEMA_DIR}/{f}", DRAFT4_URI) for f in OCI_SCHEMA_FILES}

    def resolve(ref: str, current: str) -> Any:
        file, _, pointer = ref.partition("#")
        file = file.rsplit("/", 1)[-1] or current
        node: Any = files[file]
        for part in [p for p in pointer.split("/") if p]:
            node = node[part]
        return walk(node, file)

    def walk(node: Any, current: str) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:  # draft 4: a $ref replaces its whole object
                return resolve(node["$ref"], current)
            return {
                k: walk(v, current)
                for k, v in node.items()
                if not (k == "id" and isinstance(v, str) and v.startswith(OCI_SCHEMA_BASE))
            }
        if isinstance(node, list):
            return [walk(v, current) for v in node]
        return node

    inlined: dict[str, Any] = walk(schema, name)
    return inlined
