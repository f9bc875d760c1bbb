"""`attest register`: verify, then record the verified version in Kubeflow Model Registry
through its official client (PyPI ``model-registry``), pinned to the verified digest.

The 0.3.x client speaks ``/api/model_registry/v1``; servers built from the repository before
the rename still serve ``v1alpha3``. The prefix the server answers on is probed first, and the
client is pointed at it (see ``_api_prefix``), so one attest works with both.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from attest.errors import InputError, RegistryError, VerificationError
from attest.evidence import table
from attest.facts.subject import ModelLayer
from attest.flows.verify import VerifyOutcome
from attest.modelpack.read import parse_subject

log = logging.getLogger(__name__)

PREFIXES = ("/api/model_registry/v1", "/api/model_registry/v1alpha3")
EVIDENCE_KEYS = {  # custom property -> the predicate type whose verified referrer it records
    "attest.sbom.cyclonedx": table.CYCLONEDX,
    "attest.sbom.spdx": table.SPDX2,
    "attest.sbom.spdx3": table.SPDX3,
    "attest.mof": table.MOF,
    "attest.provenance": table.SLSA_PROVENANCE,
}
# the format version when the weights do not say one (the registry requires a value)
DEFAULT_FORMAT_VERSION = "1"


@dataclass
class Registration:
    server: str
    api: str
    name: str
    version: str
    uri: str
    model_format: str
    model_format_version: str
    properties: dict[str, bool | int | float | str] = field(default_factory=dict)
    created: bool = True
    ids: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "server": self.server, "api": self.api, "name": self.name, "version": self.version,
            "uri": self.uri, "modelFormatName": self.model_format,
            "modelFormatVersion": self.model_format_version, "customProperties": self.properties,
            "created": self.created, "ids": self.ids,
        }  # fmt: skip


def oci_uri(outcome: VerifyOutcome) -> str:
    if outcome.reference.is_layout:
        raise InputError(
            "a model in an OCI layout cannot be registered: the registry's URI must be "
            "pullable by the cluster; push it first (attest copy oci:DIR:TAG HOST/REPO:TAG)"
        )
    return f"oci://{outcome.pinned}"


def evidence_properties(outcome: VerifyOutcome) -> dict[str, bool | int | float | str]:
    """Custom properties linking the version to its verified evidence (digests, never bytes)."""
    report = outcome.report
    props: dict[str, bool | int | float | str] = {
        "attest.verified": not outcome.failure,
        "attest.manifest.digest": outcome.subject.digest,
        "attest.verified.at": report.verifier["time"],
        "attest.verifier": f"{report.verifier['name']} {report.verifier['version']}",
        "attest.referrers": len(report.referrers),
    }
    verified = report.verified
    for key, predicate_type in EVIDENCE_KEYS.items():
        for r in verified:
            if r.predicate_type == predicate_type:
                props[key] = r.digest
                break
    for r in verified:
        if r.summary.get("class"):
            props["attest.mof.class"] = str(r.summary["class"])
    signers = sorted({
        s.subject or s.kind for r in verified for s in r.signatures if s.verified
    })  # fmt: skip
    if signers:
        props["attest.signers"] = ", ".join(signers)
    if outcome.decision is not None:
        props["attest.policy.allowed"] = not outcome.decision.failed
    return props


def register(
    outcome: VerifyOutcome,
    server: str,
    *,
    name: str | None = None,
    version: str | None = None,
    author: str = "attest",
    token: str | None = None,
    custom_ca: str | None = None,
    format_version: str | None = None,
) -> Registration:
    """Register ``outcome`` (which must have verified) as NAME/VERSION; idempotent by digest."""
    reason = outcome.failure
    if reason:
        raise VerificationError(f"not registered: {reason}")
    subject = parse_subject(outcome.store, outcome.store.get_manifest(outcome.subject.digest),
                            outcome.pinned)  # fmt: skip
    descriptor = subject.config.get("descriptor") or {}
    repository = outcome.reference.repository or "model"
    name = name or descriptor.get("name") or repository.rsplit("/", 1)[-1]
    version = version or descriptor.get("version") or outcome.reference.tag
    if not version:
        raise InputError("no version: give --version (the artifact has no descriptor.version)")
    fmt, fmt_version = model_format(subject.config, subject.layers)
    registration = Registration(
        server=server, api="", name=name, version=version, uri=oci_uri(outcome),
        model_format=fmt, model_format_version=format_version or fmt_version,
        properties=evidence_properties(outcome),
    )  # fmt: skip
    registration.api = _api_prefix(server, token, custom_ca)
    with _client(server, registration.api, author, token, custom_ca) as client:
        _register_once(client, registration, author)
    return registration


def model_format(config: dict[str, Any], layers: list[ModelLayer]) -> tuple[str, str]:
    """(format name, format version) from the ModelPack config; the registry requires both."""
    facts = config.get("config") or {}
    name = facts.get("format")
    if not name:
        weights = [layer.path for layer in layers if layer.kind == "weight" and layer.path]
        suffixes = {w.rsplit(".", 1)[-1].lower() for w in weights if "." in w}
        name = suffixes.pop() if len(suffixes) == 1 else "unknown"
    return str(name), DEFAULT_FORMAT_VERSION


def _register_once(client: Any, r: Registration, author: str) -> None:
    from model_registry.exceptions import StoreError

    try:
        existing = client.get_model_version(r.name, r.version)
    except StoreError:  # the model itself does not exist yet
        existing = None
    if existing is not None:
        artifact = client.get_model_artifact(r.name, r.version)
        if artifact is not None and artifact.uri == r.uri:
            r.created = False
            r.ids = {"modelVersion": str(existing.id), "modelArtifact": str(artifact.id)}
            log.info("%s %s is already registered at %s: nothing updated", r.name, r.version,
                     r.uri)  # fmt: skip
            return
        raise VerificationError(
            f"{r.name} version {r.version} is already registered with another artifact "
            f"({artifact.uri if artifact else 'none'}); register the new digest as a new version"
        )
    model = client.register_model(
        r.name, r.uri, model_format_name=r.model_format,
        model_format_version=r.model_format_version, version=r.version, author=author,
        owner=author, metadata=r.properties,
    )  # fmt: skip
    mv = client.get_model_version(r.name, r.version)
    r.ids = {"registeredModel": str(model.id), "modelVersion": str(mv.id if mv else "")}


def _api_prefix(server: str, token: str | None, custom_ca: str | None) -> str:
    """Which API path the server speaks: the client's ``v1``, or the older ``v1alpha3``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    verify: bool | str = custom_ca or True
    for prefix in PREFIXES:
        url = f"{server.rstrip('/')}{prefix}/registered_models?pageSize=1"
        try:
            response = requests.get(url, headers=headers, timeout=10, verify=verify)
        except requests.RequestException as e:
            raise RegistryError(f"Model Registry {server}: {e}") from None
        if response.status_code == 200:
            return prefix
        if response.status_code in (401, 403):
            raise RegistryError(f"Model Registry {server}: {response.status_code} (token?)")
    raise RegistryError(f"Model Registry {server} answers neither {' nor '.join(PREFIXES)}")


@contextlib.contextmanager
def _client(
    server: str, prefix: str, author: str, token: str | None, custom_ca: str | None
) -> Iterator[Any]:
    """The official client, its request paths moved to ``prefix`` when the server is older."""
    import model_registry.core as core
    from model_registry import ModelRegistry

    original = core.ApiClient
    if prefix != PREFIXES[0]:

        class PrefixedApiClient(original):  # type: ignore[misc, valid-type]
            def param_serialize(self, method: str, resource_path: str, *a: Any, **k: Any) -> Any:
                resource_path = resource_path.replace(PREFIXES[0] + "/", prefix + "/", 1)
                return super().param_serialize(method, resource_path, *a, **k)

        core.ApiClient = PrefixedApiClient  # the client builds one ApiClient per call
    try:
        try:
            with warnings.catch_warnings():  # its notes on tokens and ports are not ours to print
                warnings.simplefilter("ignore")
                client = ModelRegistry(server, author=author, user_token=token,
                                       custom_ca=custom_ca, log_level=logging.ERROR,
                                       is_secure=server.startswith("https://"))  # fmt: skip
        except Exception as e:  # the constructor makes a live call
            raise RegistryError(f"Model Registry {server}: {e}") from None
        yield client
    finally:
        core.ApiClient = original
