"""Read and write the Model Openness Tool's YAML (one model's MOF configuration file).

Reading scores exactly as the MOT does (its own model files included): a licence string that
is not an id the MOT knows (``Apache 2.0``, ``OpenRAIL``, ``Gemma Terms of Use``, an SPDX
expression) is a warning naming file and line, and the component counts as included with an
invalid (not open) licence; a component listed twice warns and the later entry wins, as in the
MOT. ``strict=True`` (``attest mof --strict``, for people writing their own files) makes both
errors. Always errors, naming file and line: the JSON Schema (``mof/mof_schema.json``), an unknown
component name (the MOT silently maps it to the first component), a duplicate YAML key, aliases.
Writing produces YAML that validates against the same schema and scores the same when read back.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from attest.errors import InputError, InternalError
from attest.mof.config import RELEASE_LICENSE_KINDS, ComponentEntry, MofConfig, ReleaseLicense
from attest.mof.data import Framework, framework
from attest.mof.report import MofReport
from attest.yamlio import Lines, dotted, key_lines, load_yaml, read_user_file

log = logging.getLogger(__name__)
SCHEMA_FILE = "mof_schema.json"
MAX_SIZE = 1024 * 1024


# -- reading ------------------------------------------------------------------------------------


def load_mot_yaml(path: str | Path, *, strict: bool = False) -> MofConfig:
    """Read the MOT YAML at ``path``; InputError naming the file and line on any problem."""
    data = read_user_file(path, "a MOF configuration", MAX_SIZE)
    return parse_mot_yaml(data, str(path), strict=strict)


def parse_mot_yaml(
    data: bytes | str, source: str = "<mof.yml>", *, strict: bool = False
) -> MofConfig:
    """A MOF configuration from MOT YAML text (``source`` names it in messages)."""
    node, obj = load_yaml(data, source)
    lines = key_lines(node, source)
    if not isinstance(obj, dict):
        raise InputError(
            f"{source}:1: a MOF configuration is a mapping with `framework` and `release`, "
            f"not {type(obj).__name__ if obj is not None else 'an empty document'}"
        )
    obj = _plain(obj)
    _validate_schema(obj, lines, source)
    fw = framework()
    return _to_config(obj, lines, source, fw, strict)


def _plain(value: Any) -> Any:
    """YAML's dates as the ISO strings the schema expects; everything else unchanged."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


@cache
def _validator() -> Any:
    schema = json.loads((framework().data_dir / SCHEMA_FILE).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _validate_schema(obj: dict[str, Any], lines: Lines, source: str) -> None:
    errors = sorted(
        _validator().iter_errors(obj), key=lambda e: (_line(lines, e.absolute_path), e.message)
    )
    if not errors:
        return
    err = errors[0]
    at = tuple(err.absolute_path)
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    hint = "see the MOT's schema (mof/mof_schema.json)"
    wants_string = err.validator == "type" and "string" in (
        err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
    )
    if wants_string and isinstance(err.instance, int | float):
        hint = "quote it: YAML reads an unquoted 1.0 as a number"
    raise InputError(
        f"{source}:{_line(lines, at)}: {dotted(at) or 'document'}: {err.message}{more}", hint=hint
    )


def _line(lines: Lines, at: Any) -> int:
    key = tuple(at)
    while key and key not in lines:
        key = key[:-1]
    return lines.get(key, 1)


def _to_config(
    obj: dict[str, Any], lines: Lines, source: str, fw: Framework, strict: bool = False
) -> MofConfig:
    release = obj["release"]
    framework_doc = obj["framework"]
    licenses: dict[str, ReleaseLicense] = {}
    for kind in RELEASE_LICENSE_KINDS:
        lic = (release.get("license") or {}).get(kind) or {}
        name = _text(lic.get("name"))
        if name:
            _check_license(name, ("release", "license", kind, "name"), lines, source, fw, strict)
        licenses[kind] = ReleaseLicense(name=name, path=_text(lic.get("path")))
    components: list[ComponentEntry] = []
    first_line: dict[str, int] = {}
    for i, item in enumerate(release.get("components") or []):
        at = ("release", "components", i)
        line = _line(lines, at)
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise InputError(f"{source}:{line}: {dotted(at)}: a component needs a `name`")
        comp = fw.component(name)
        if comp is None or comp.name != name:  # a MOT YAML must use the exact name
            raise InputError(
                f"{source}:{line}: {dotted(at)}: unknown MOF component {name!r}"
                + _did_you_mean(name, fw),
                hint="valid names: " + ", ".join(c.name for c in fw.components),
            )
        if name in first_line:
            twice = (f"{source}:{line}: {dotted(at)}: component {name!r} is listed twice (first "
                     f"on line {first_line[name]})")  # fmt: skip
            if strict:
                raise InputError(f"{twice}; list it once")
            log.warning("%s; the MOT keeps this later entry", twice)
            components = [c for c in components if c.name != name]
        first_line[name] = line
        lic = _text(item.get("license"))
        if lic:
            _check_license(lic, (*at, "license"), lines, source, fw, strict)
        components.append(
            ComponentEntry(
                name=name,
                description=_text(item.get("description")),
                license=lic,
                license_path=_text(item.get("license_path")),
                component_path=_text(item.get("component_path")),
                where=f"{source}:{line}",
            )
        )
    return MofConfig(
        name=release["name"],
        producer=release.get("producer") or "",
        version=release.get("version") or "",
        date=release.get("date"),
        type=release.get("type") or "",
        architecture=release.get("architecture") or "",
        treatment=release.get("treatment"),
        origin=release.get("origin") or "",
        contact=release.get("contact") or "",
        repository=_text(release.get("repository")),
        huggingface=_text(release.get("huggingface")),
        licenses=licenses,
        components=components,
        framework_version=str(framework_doc.get("version") or fw.version),
        framework_date=str(framework_doc.get("date") or fw.date),
        source=source,
    )


def _text(value: Any) -> str | None:
    """A string value, with "" and null meaning absent (the MOT lets them fall through)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _check_license(
    value: str, at: tuple[Any, ...], lines: Lines, source: str, fw: Framework, strict: bool
) -> None:
    problem = fw.licenses.check_id(value)
    if not problem:
        return
    where = f"{source}:{_line(lines, at)}: {dotted(at)}"
    if strict:
        raise InputError(
            f"{where}: {problem}",
            hint="use an SPDX id exactly as https://spdx.org/licenses/ spells it, `unlicensed` "
            "for an included component without a licence, or LicenseRef-<name> for any other",
        )
    log.warning("%s: %s; the MOT scores it as an invalid (not open) licence", where, problem)


def _did_you_mean(name: str, fw: Framework) -> str:
    comp = fw.lookup(name)
    if comp is not None:
        return f"; did you mean {comp.name!r}?"
    close = difflib.get_close_matches(name, [c.name for c in fw.components], n=2, cutoff=0.6)
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else ""


# -- writing ------------------------------------------------------------------------------------


def to_mot_dict(source: MofConfig | MofReport) -> dict[str, Any]:
    """The MOT YAML document for a configuration (or a report's), in the MOT's key order."""
    config = source.config if isinstance(source, MofReport) else source
    fw = framework()
    release: dict[str, Any] = {"name": config.name, "version": config.version}
    if config.date:
        release["date"] = config.date
    release["type"] = config.type
    release["architecture"] = config.architecture
    if config.treatment:
        release["treatment"] = config.treatment
    release.update(origin=config.origin, producer=config.producer, contact=config.contact)
    if config.repository:
        release["repository"] = config.repository
    if config.huggingface:
        release["huggingface"] = config.huggingface
    licenses: dict[str, Any] = {}
    for kind in RELEASE_LICENSE_KINDS:
        lic = config.licenses.get(kind)
        if lic and lic.name:
            licenses[kind] = {"name": lic.name, **({"path": lic.path} if lic.path else {})}
    release["license"] = licenses
    components = []
    for entry in config.components:
        comp = fw.component(entry.name)
        item: dict[str, Any] = {"name": entry.name}
        item["description"] = entry.description or (comp.description if comp else "")
        if entry.license:
            item["license"] = entry.license
        if entry.license_path:
            item["license_path"] = entry.license_path
        if entry.component_path:
            item["component_path"] = entry.component_path
        components.append(item)
    release["components"] = components
    return {
        "framework": {
            "name": fw.name,
            "version": config.framework_version,
            "date": config.framework_date,
        },
        "release": release,
    }


def dump_mot_yaml(source: MofConfig | MofReport) -> str:
    """MOT YAML text for a configuration or a report: the release's MOF configuration file."""
    doc = to_mot_dict(source)
    errors = list(_validator().iter_errors(doc))
    if errors:  # our own output must always be valid: anything else is a bug here
        raise InternalError(f"exported MOF configuration fails the MOT schema: {errors[0].message}")
    header = (
        "# Model Openness Framework configuration file (the Model Openness Tool's YAML).\n"
        "# Written by attest; validates against the MOT's schema/mof_schema.json.\n"
    )
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return header + body
