"""Load a policy: a directory, one ``.rego`` file, an OCI reference to a policy bundle, or the
library shipped with attest (``policies/`` at the repository top level).

A loaded :class:`Policy` is plain text and data: Rego modules by file name plus the data
documents (``data.json``/``data.yaml`` anywhere in the tree, placed at the path of their
directory, as OPA's loader and bundles do). Nothing is evaluated here; :func:`install` hands a
policy to an engine.

The shipped library (``lib.modelpack.*``) is always available to user policies: any library
package the user's policy does not define itself is added, so ``import data.lib.modelpack.sbom``
works from a single file. The shipped entry point ``attest.main`` is not added to a user policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from attest import jsonio, yamlio
from attest.content import content_dir
from attest.errors import InputError, InternalError, UsageError
from attest.policy.engine import PolicyEngine, package_of

LIBRARY_PREFIX = "lib."
LIBRARY_MODULE_PREFIX = "library/"  # engine module names of library files added to a policy
DATA_FILES = ("data.json", "data.yaml", "data.yml")
TEST_SUFFIX = "_test.rego"


@dataclass(frozen=True)
class Policy:
    """Rego modules (relative file name -> source) and merged data, and where they came from."""

    modules: dict[str, str]
    data: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    #: the manifest digest of a policy pulled from an OCI reference (pin it for audits)
    digest: str | None = None

    @property
    def packages(self) -> dict[str, list[str]]:
        """Package -> the module names that declare it."""
        found: dict[str, list[str]] = {}
        for name, source in self.modules.items():
            package = package_of(source)
            if package:
                found.setdefault(package, []).append(name)
        return found

    def user_packages(self) -> list[str]:
        """Packages of the policy's own modules (library additions left out)."""
        return sorted(
            {
                pkg
                for pkg, names in self.packages.items()
                if any(not n.startswith(LIBRARY_MODULE_PREFIX) for n in names)
            }
        )


# -- the shipped library -------------------------------------------------------------------------


def library_dir() -> Path:
    """``policies/``: ``attest/_content/policies`` in a wheel, the top-level directory in a
    checkout (see :mod:`attest.content`)."""
    root = content_dir("policies")
    if not (root / "main.rego").is_file():
        raise InternalError(
            f"the policy library in {root} has no main.rego",
            hint="reinstall attest; a wheel must carry attest/_content/policies",
        )
    return root


@cache
def _library(include_tests: bool) -> Policy:
    return read_policy_dir(library_dir(), include_tests=include_tests, origin="attest library")


def builtin_policy(*, include_tests: bool = False) -> Policy:
    """The shipped library with its ``attest.main`` entry point and ``data.json`` defaults."""
    return _library(include_tests)


def with_library(policy: Policy) -> Policy:
    """``policy`` plus every ``lib.*`` library package it does not define itself, plus the
    library's data under its own (the policy's data wins)."""
    library = builtin_policy()
    own = set(policy.packages)
    modules = dict(policy.modules)
    for name, source in library.modules.items():
        package = package_of(source) or ""
        if package.startswith(LIBRARY_PREFIX) and package not in own:
            modules[LIBRARY_MODULE_PREFIX + name] = source
    data = merge_data(library.data, policy.data, origin="", override=True)
    return replace(policy, modules=modules, data=data)


# -- reading ------------------------------------------------------------------------------------


def load_policy(
    spec: str | Path | None,
    *,
    include_tests: bool = False,
    library: bool = True,
    pull: Callable[[str, bool], Policy] | None = None,
) -> Policy:
    """``--policy DIR|FILE|REF``; None means the shipped library.

    A path that exists is read from disk; anything else must be an OCI reference
    (``oci:PATH[:TAG|@DIGEST]`` or ``HOST/REPO[:TAG|@DIGEST]``) to a bundle pushed with
    ``attest policy push``, which ``pull(reference, include_tests)`` fetches (this layer
    touches no registry: :func:`attest.flows.policy.resolve_policy` hands the puller in).
    """
    if spec is None:
        return builtin_policy(include_tests=include_tests)
    path = Path(spec)
    if path.is_dir():
        policy = read_policy_dir(path, include_tests=include_tests)
    elif path.is_file():
        policy = read_policy_file(path)
    elif _looks_like_path(str(spec)) or pull is None:
        raise UsageError(f"--policy {spec}: no such file or directory")
    else:
        policy = pull(str(spec), include_tests)
    return with_library(policy) if library else policy


def _looks_like_path(spec: str) -> bool:
    """A missing path, not a reference: ``./x``, ``/x``, ``x.rego``, or ``dir/x`` whose first
    part is no registry host (a host has a "." or ":" or is localhost, as docker reads it)."""
    if spec.startswith("oci:"):
        return False
    if spec.startswith((".", "/", "~")) or spec.endswith(".rego"):
        return True
    first = spec.split("/", 1)[0]
    return "/" not in spec or not ("." in first or ":" in first or first == "localhost")


def read_policy_file(path: Path) -> Policy:
    if path.suffix != ".rego":
        raise UsageError(f"{path}: a policy file must be a .rego module (or pass a directory)")
    return Policy(modules={path.name: _read_text(path)}, origin=str(path))


def read_policy_dir(
    path: Path, *, include_tests: bool = False, origin: str | None = None
) -> Policy:
    """Every ``.rego`` module and data file below ``path`` (hidden entries skipped)."""
    modules: dict[str, str] = {}
    data: dict[str, Any] = {}
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path)
        if any(part.startswith(".") for part in rel.parts):
            continue
        name = rel.as_posix()
        if file.suffix == ".rego":
            if include_tests or not file.name.endswith(TEST_SUFFIX):
                modules[name] = _read_text(file)
        elif file.name in DATA_FILES:
            doc = parse_data_file(file.name, file.read_bytes(), name)
            data = merge_data(data, nest(list(rel.parent.parts), doc), origin=name)
    if not modules:
        raise UsageError(f"{path}: no .rego modules found")
    return Policy(modules=modules, data=data, origin=origin or str(path))


def parse_data_file(filename: str, raw: bytes, where: str) -> dict[str, Any]:
    """A ``data.json``/``data.yaml`` document; it must be an object."""
    try:
        doc = jsonio.loads(raw, where) if filename.endswith(".json") else yamlio.safe_load(raw)
    except (ValueError, yaml.YAMLError) as e:
        raise InputError(f"{where}: not valid {Path(filename).suffix[1:].upper()}: {e}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InputError(f"{where}: a data document must be an object")
    return doc


def nest(path: list[str], doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` placed at ``path`` (``a/b/data.json`` is ``data.a.b``)."""
    for key in reversed(path):
        doc = {key: doc}
    return doc


def merge_data(
    base: dict[str, Any], new: dict[str, Any], *, origin: str, override: bool = False
) -> dict[str, Any]:
    """Deep merge. Two files setting the same leaf is an error unless ``override`` (new wins)."""
    out = dict(base)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_data(out[key], value, origin=origin, override=override)
        elif key in out and not override and out[key] != value:
            raise InputError(f"{origin}: data key {key!r} is already set by another data file")
        else:
            out[key] = value
    return out


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None


# -- parameters ---------------------------------------------------------------------------------


def load_params(path: str | Path | None) -> dict[str, Any]:
    """``--params FILE``: a JSON or YAML object; None means no parameters."""
    if path is None:
        return {}
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise UsageError(f"--params {path}: {e.strerror or e}") from None
    name = "data.json" if path.suffix == ".json" else "data.yaml"
    try:
        return parse_data_file(name, raw, str(path))
    except InputError as e:
        raise InputError(e.message.replace("data document", "parameters file")) from None


# -- into an engine -----------------------------------------------------------------------------


def install(engine: PolicyEngine, policy: Policy) -> None:
    """Load every module and the data of ``policy`` into ``engine``."""
    for name in sorted(policy.modules):
        engine.load_module(name, policy.modules[name])
    if policy.data:
        engine.add_data(policy.data)
