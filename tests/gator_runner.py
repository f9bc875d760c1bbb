"""A small runner for gator-format Suite files (``test.gatekeeper.sh/v1alpha1`` ``Suite``), for
tests without a cluster: nothing installable here runs Gatekeeper or gator, and gator cannot
answer ``external_data`` anyway (gatekeeper #2826).

What it reproduces of Gatekeeper v3.23 / gator verify (see docs/admission.md, "Testing"):

- ``${NAME}`` in object files is replaced by ``substitutions[NAME]`` (this runner's only
  extension: the test registry's port changes per run).
- Suite -> tests (template, constraint, cases) -> cases (object, assertions); paths relative to
  the suite file; ``skip``; ``invalid`` is not supported (and refused, never silently passed).
- A case's object is a plain object (reviewed as a CREATE) or an ``AdmissionReview`` whose
  ``request`` is the review. ``input = {"review": ..., "parameters": constraint.spec.parameters}``;
  the template's ``violation`` set is the result.
- The constraint's ``match``: kinds, namespaces, excludedNamespaces (an object without a
  namespace passes both, as in Gatekeeper), labelSelector.matchLabels.
- Templates: ``code[].source`` (Rego v1, with ``libs``) on regorus or real OPA in process; the
  legacy ``rego`` field is Rego v0, run on regorus's v0 mode (the OPA bindings parse v1 only).
- Assertions: ``violations`` is an int, "yes" (at least one, the default) or "no"; ``message``
  is a regular expression searched in each violation's msg.
- ``external_data``: Gatekeeper's builtin (frameworks ``externalDataBuiltin``): a
  ProviderRequest POSTed over HTTPS (TLS 1.3, the Provider's caBundle only, a client
  certificate) to the real provider; items reshaped into ``responses``/``errors``; a per-key
  response cache (errors cached too) whose all-cached answers carry ``status_code`` 0;
  transport failures become ``system_error``.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from attest.policy.engine import PolicyEngine, create_engine
from attest.policy.regorus_engine import RegorusEngine

ENGINES = ("regorus", "opa-golib")


def register_builtin(policy: Any, name: str, nargs: int, fn: Callable[..., Any]) -> None:
    """A Python builtin on the engine underneath: Gatekeeper's ``external_data``, which this
    runner stands in for. attest's own engines expose no Python builtins (every engine, an OPA
    server included, runs the same files), so the runner reaches the library objects."""
    inner = policy._engine
    if hasattr(inner, "add_extension"):  # regorus
        inner.add_extension(name, nargs, fn)
    else:  # opa-golib-python-bindings
        inner.register_function(name, fn, arity=nargs)


@dataclass
class ExternalData:
    """Gatekeeper's ``external_data`` builtin against real providers (name -> url, session)."""

    providers: dict[str, tuple[str, requests.Session]]
    cache: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    calls: int = 0

    def __call__(self, request: Any) -> dict[str, Any]:
        name = request.get("provider") if isinstance(request, dict) else None
        keys = request.get("keys") if isinstance(request, dict) else None
        if name not in self.providers or not isinstance(keys, list):
            return _error(400, f"failed to get provider: {name}")
        items: list[dict[str, Any]] = []
        missing = []
        for key in keys:
            cached = self.cache.get((name, key))
            if cached is None:
                missing.append(key)
            else:
                items.append({"key": key, **cached})
        status, system_error = 0, ""
        if missing:
            url, session = self.providers[name]
            self.calls += 1
            body = {"apiVersion": "externaldata.gatekeeper.sh/v1beta1", "kind": "ProviderRequest",
                    "request": {"keys": missing}}  # fmt: skip
            try:
                resp = session.post(url, json=body, timeout=5)
            except requests.RequestException as e:
                return _error(500, f"failed to send external data request: {e}")
            if resp.status_code != 200:
                return _error(resp.status_code, f"failed to send external data request: "
                                                f"HTTP {resp.status_code}")  # fmt: skip
            response = resp.json()["response"]
            for item in response.get("items") or []:
                entry = {"value": item.get("value"), "error": item.get("error", "")}
                self.cache[(name, item["key"])] = entry
                items.append({"key": item["key"], **entry})
            status, system_error = resp.status_code, response.get("systemError", "")
        return {
            "responses": [[i["key"], i["value"]] for i in items if not i.get("error")],
            "errors": [[i["key"], i["error"]] for i in items if i.get("error")],
            "status_code": status,
            "system_error": system_error,
        }


def _error(status: int, message: str) -> dict[str, Any]:
    return {"responses": None, "errors": None, "status_code": status, "system_error": message}


def gatekeeper_session(ca_bundle: Path, client_cert: Path, client_key: Path) -> requests.Session:
    """The provider client Gatekeeper builds: TLS >= 1.3, only the caBundle, its certificate."""

    class _Tls13(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            context = ssl.create_default_context(cafile=str(ca_bundle))
            context.minimum_version = ssl.TLSVersion.TLSv1_3
            context.load_cert_chain(str(client_cert), str(client_key))
            kwargs["ssl_context"] = context
            super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.trust_env = False
    session.mount("https://", _Tls13())
    return session


# -- suites -------------------------------------------------------------------------------------


@dataclass
class CaseResult:
    suite: str
    test: str
    case: str
    violations: list[dict[str, Any]]
    failures: list[str]
    skipped: str = ""

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def name(self) -> str:
        return f"{self.suite}/{self.test}/{self.case}"


def _load(path: Path, substitutions: dict[str, str] | None = None) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    for name, value in (substitutions or {}).items():
        text = text.replace("${" + name + "}", value)
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: not a YAML mapping")
    return doc


def _review(obj: dict[str, Any]) -> dict[str, Any]:
    if obj.get("kind") == "AdmissionReview":
        return dict(obj["request"])
    group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
    meta = obj.get("metadata") or {}
    return {
        "kind": {"group": group, "version": version, "kind": obj.get("kind", "")},
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
        "operation": "CREATE",
        "object": obj,
    }


def matches(constraint: dict[str, Any], review: dict[str, Any]) -> bool:
    match = (constraint.get("spec") or {}).get("match") or {}
    kind = review.get("kind") or {}
    kinds = match.get("kinds")
    if kinds and not any(
        (set(k.get("apiGroups", ["*"])) & {"*", kind.get("group", "")})
        and (set(k.get("kinds", ["*"])) & {"*", kind.get("kind", "")})
        for k in kinds
    ):
        return False
    namespace = review.get("namespace") or ""
    # as Gatekeeper's match: an object without a namespace is not filtered by namespace lists
    if namespace and match.get("namespaces") and namespace not in match["namespaces"]:
        return False
    if namespace and namespace in (match.get("excludedNamespaces") or []):
        return False
    labels = ((review.get("object") or {}).get("metadata") or {}).get("labels") or {}
    wanted = (match.get("labelSelector") or {}).get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in wanted.items())


class _RegorusV0(RegorusEngine):
    name = "regorus-v0"

    def __init__(self) -> None:
        super().__init__()
        self._engine.set_rego_v0(True)


def template_engine(
    template: dict[str, Any], engine: str, external_data: Callable[[Any], Any] | None
) -> tuple[PolicyEngine, str] | str:
    """An engine holding the template's Rego and libs, and the package to query; or the reason
    it cannot run on ``engine``."""
    (target,) = template["spec"]["targets"]
    if "rego" in target:  # the legacy field is Rego v0 and wins when present
        if engine != "regorus":
            return f"{engine} cannot parse Rego v0 (legacy `rego` field)"
        rego, libs, v0 = target["rego"], target.get("libs") or [], True
    else:
        (code,) = [c for c in target["code"] if c["engine"] == "Rego"]
        source = code["source"]
        if source.get("version", "v0") != "v1" and engine != "regorus":
            return f"{engine} cannot parse Rego v0"
        rego, libs, v0 = source["rego"], source.get("libs") or [], source.get("version") != "v1"
    policy: PolicyEngine = _RegorusV0() if v0 else create_engine(engine)
    if external_data is not None:
        register_builtin(policy, "external_data", 1, external_data)
    for i, lib in enumerate(libs):
        policy.load_module(f"lib{i}.rego", lib)
    policy.load_module("template.rego", rego)
    package = re.search(r"^\s*package\s+([\w.]+)", rego, re.M)
    assert package, "template Rego has no package"
    return policy, package.group(1)


def _check(assertion: dict[str, Any], violations: list[dict[str, Any]]) -> str | None:
    message = assertion.get("message")
    found = [v for v in violations if message is None or re.search(message, v.get("msg", ""))]
    want = assertion.get("violations", "yes")
    if want in ("yes", True):
        ok = len(found) > 0
    elif want in ("no", False):
        ok = len(found) == 0
    else:
        ok = len(found) == int(want)
    if ok:
        return None
    return (f"want violations={want} matching {message!r}, got {len(found)}: "
            f"{[v.get('msg') for v in violations]}")  # fmt: skip


def run_suite(
    suite_path: Path,
    engine: str,
    external_data: Callable[[Any], Any] | None = None,
    substitutions: dict[str, str] | None = None,
) -> list[CaseResult]:
    """Every case of the suite; ``substitutions`` fill ``${NAME}`` in object files (the
    loopback registry's address, which changes per run)."""
    suite = _load(suite_path)
    if suite.get("kind") != "Suite" or suite.get("apiVersion") != "test.gatekeeper.sh/v1alpha1":
        raise ValueError(f"{suite_path}: not a gator Suite")
    base = suite_path.parent
    name = (suite.get("metadata") or {}).get("name", suite_path.parent.name)
    results = []
    for test in suite.get("tests") or []:
        if test.get("invalid"):
            raise ValueError(f"{suite_path}: `invalid` tests are not supported by this runner")
        template = _load(base / test["template"])
        constraint = _load(base / test["constraint"])
        made = template_engine(template, engine, external_data)
        for case in test.get("cases") or []:
            if suite.get("skip") or test.get("skip") or case.get("skip") or isinstance(made, str):
                reason = made if isinstance(made, str) else "skip"
                results.append(CaseResult(name, test["name"], case["name"], [], [], reason))
                continue
            if case.get("inventory"):
                raise ValueError(f"{suite_path}: inventory is not supported by this runner")
            policy, package = made
            review = _review(_load(base / case["object"], substitutions))
            violations: list[dict[str, Any]] = []
            if matches(constraint, review):
                doc = {"review": review,
                       "parameters": (constraint.get("spec") or {}).get("parameters") or {}}
                violations = policy.eval(f"data.{package}.violation", doc) or []
            assertions = case.get("assertions") or [{"violations": "no"}]
            failures = [f for a in assertions if (f := _check(a, violations))]
            results.append(CaseResult(name, test["name"], case["name"], violations, failures))
    return results
