"""``attest.yaml``: what a model's owner declares because it cannot be read from the files.

The schema is ``attest/schemas/attest-yaml.schema.json`` (documented in docs/attest-yaml.md).
Errors are InputErrors naming the file, the line and the key: an unknown key is most often a
typo, and a typo silently ignored would drop a fact from the evidence.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from attest.errors import InputError
from attest.facts.card import jsonable
from attest.facts.licenses import normalize_license
from attest.facts.model import DatasetFact, Declared
from attest.facts.urls import public_url
from attest.names import check_file_name
from attest.oci.config_schema import Draft202012Ecma  # ECMA-262 `pattern`, as every attest schema
from attest.yamlio import key_lines, load_yaml, read_user_file

SCHEMA_FILE = "attest-yaml.schema.json"
MAX_SIZE = 1024 * 1024


def load_declared(path: str | Path) -> Declared:
    """Read and check the attest.yaml at ``path`` (a ``--facts FILE``)."""
    return parse_declared(read_user_file(path, "an attest.yaml", MAX_SIZE), str(path))


def parse_declared(data: bytes | str, path: str) -> Declared:
    """Declared facts from attest.yaml text; InputError naming ``path``:line on any problem."""
    node, obj = load_yaml(data, path)
    if obj is None:
        obj = {}
    lines = key_lines(node, path)
    if not isinstance(obj, dict):
        raise InputError(
            f"{path}:1: attest.yaml must be a mapping of keys, not a {type(obj).__name__}"
        )
    obj = jsonable(obj)
    _validate(obj, lines, path)
    return _to_declared(obj, lines, path)


@cache
def _validator() -> Any:
    text = resources.files("attest").joinpath("schemas", SCHEMA_FILE).read_text(encoding="utf-8")
    schema = json.loads(text)
    schema.pop("$schema", None)  # the validator class fixes the dialect (see config_schema)
    Draft202012Ecma.check_schema(schema)
    resource = Resource.from_contents(schema, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(schema["$id"], resource)
    return Draft202012Ecma(schema, registry=registry)


def _validate(obj: dict[str, Any], lines: dict[tuple[Any, ...], int], path: str) -> None:
    errors = sorted(
        _validator().iter_errors(obj), key=lambda e: (_line(lines, e.absolute_path), e.message)
    )
    if not errors:
        return
    err = errors[0]
    at = tuple(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        known = set(err.schema.get("properties", {}))
        unknown = sorted(k for k in err.instance if k not in known)
        if unknown:
            key_path = (*at, unknown[0])
            raise InputError(
                f"{path}:{_line(lines, key_path)}: unknown key {_dotted(key_path)!r}",
                hint="known keys here: " + ", ".join(sorted(known)) + " (see docs/attest-yaml.md)",
            )
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    raise InputError(
        f"{path}:{_line(lines, at)}: {_dotted(at) or 'attest.yaml'}: {err.message}{more}",
        hint="see docs/attest-yaml.md for the schema",
    )


def _line(lines: dict[tuple[Any, ...], int], at: Any) -> int:
    key = tuple(at)
    while key and key not in lines:
        key = key[:-1]
    return lines.get(key, 1)


def _dotted(at: tuple[Any, ...]) -> str:
    return "".join(
        f"[{k}]" if isinstance(k, int) else (f".{k}" if i else str(k)) for i, k in enumerate(at)
    )


def _license(
    value: str | None, at: tuple[Any, ...], lines: dict[tuple[Any, ...], int], path: str
) -> str | None:
    """An SPDX expression, normalised; a declaration that is not one is an error."""
    if value is None:
        return None
    match = normalize_license(value)
    if match.spdx_id is None:
        raise InputError(
            f"{path}:{_line(lines, at)}: {_dotted(at)}: {value!r} is not an SPDX expression",
            hint="use an SPDX id (https://spdx.org/licenses/), a Hugging Face licence id or "
            "LicenseRef-<name>",
        )
    return match.spdx_id


def _relpath(value: str, at: tuple[Any, ...], lines: dict[tuple[Any, ...], int], path: str) -> str:
    try:
        return check_file_name(value, "path")
    except InputError as exc:
        raise InputError(f"{path}:{_line(lines, at)}: {_dotted(at)}: {exc.message}") from None


def _to_declared(obj: dict[str, Any], lines: dict[tuple[Any, ...], int], path: str) -> Declared:
    authors = obj.get("authors", [])
    datasets = []
    for i, d in enumerate(obj.get("datasets", [])):
        at = ("datasets", i)
        datasets.append(
            DatasetFact(
                name=d["name"],
                use=d.get("use", "unknown"),
                url=_public(d.get("url")),
                license=_license(d.get("license"), (*at, "license"), lines, path),
                description=d.get("description"),
                path=_relpath(d["path"], (*at, "path"), lines, path) if "path" in d else None,
                sha256=d.get("sha256"),
                source="attest.yaml",
            )
        )
    components = {
        name: [
            _relpath(p, ("components", name), lines, path)
            for p in (paths if isinstance(paths, list) else [paths])
        ]
        for name, paths in sorted(obj.get("components", {}).items())
    }
    component_licenses = {
        name: _license(lic, ("component_licenses", name), lines, path) or lic
        for name, lic in sorted(obj.get("component_licenses", {}).items())
    }
    version = obj.get("version")
    return Declared(
        path=path,
        name=obj.get("name"),
        version=str(version) if version is not None else None,
        description=obj.get("description"),
        authors=[authors] if isinstance(authors, str) else list(authors),
        license=_license(obj.get("license"), ("license",), lines, path),
        datasets=datasets,
        paper_url=_public(obj.get("paper_url")),
        technical_report_url=_public(obj.get("technical_report_url")),
        source_repository=_public(obj.get("source_repository")),
        source_commit=obj.get("source_commit"),
        base_model=obj.get("base_model"),
        intended_use=obj.get("intended_use"),
        out_of_scope_use=obj.get("out_of_scope_use"),
        limitations=obj.get("limitations"),
        component_licenses=component_licenses,
        components=components,
        extra=dict(obj.get("extra", {})),
    )


def _public(url: Any) -> Any:
    """A URL that goes into evidence, without credentials (see attest.facts.urls)."""
    return public_url(url) if isinstance(url, str) else url
