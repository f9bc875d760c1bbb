"""deploy/: the kustomize base and example overlay render with `kubectl kustomize` (after the
documented cert steps), and every rendered object validates: core kinds with
kubernetes-validate (strict), Gatekeeper kinds against the upstream CRD schemas, Constraints
against the template's parameter schema. The invariants a fail-closed admission needs are
checked too (replicas, PDB, non-root, read-only root, mTLS wiring, timeouts)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.helpers import REPO_ROOT
from tests.test_admission_templates import crd_schema

K8S_VERSION = "1.33"  # image volumes validate from 1.33 (beta); GA in 1.36
VECTORS = REPO_ROOT / "testdata" / "vectors" / "k8s"


def _kubectl() -> str:
    found = shutil.which("kubectl")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("kubectl is required in CI", pytrace=False)
    pytest.skip("kubectl not installed")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Path]:
    """The example overlay rendered, with certificates from scripts/provider-certs."""
    root = tmp_path_factory.mktemp("deploy")
    shutil.copytree(REPO_ROOT / "deploy", root / "deploy")
    overlay = root / "deploy" / "overlays" / "example"
    subprocess.run([str(REPO_ROOT / "scripts" / "provider-certs"), str(overlay / "certs")],
                   check=True, capture_output=True)  # fmt: skip
    (overlay / "trust").mkdir()
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    (overlay / "trust" / "release.pub").write_bytes(key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    shutil.copy(overlay / "certs" / "ca.crt", overlay / "gatekeeper-ca.crt")
    out = subprocess.run([_kubectl(), "kustomize", str(overlay)], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return [d for d in yaml.safe_load_all(out) if d], overlay


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def test_every_rendered_object_validates(rendered) -> None:
    docs, _ = rendered
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == sorted(["Namespace", "ServiceAccount", "ConfigMap", "ConfigMap", "ConfigMap",
                            "Secret", "Service", "Deployment", "PodDisruptionBudget",
                            "NetworkPolicy", "Provider", "ConstraintTemplate",
                            "AttestVerifiedModels"])  # fmt: skip
    template = by_kind(docs, "ConstraintTemplate")[0]
    for doc in docs:
        if doc["kind"] == "Provider":
            jsonschema.validate(doc, crd_schema("provider-customresourcedefinition.yaml",
                                                "v1beta1"))  # fmt: skip
        elif doc["kind"] == "ConstraintTemplate":
            jsonschema.validate(doc, crd_schema("constrainttemplate-customresourcedefinition.yaml",
                                                "v1"))  # fmt: skip
        elif doc["kind"] == "AttestVerifiedModels":
            schema = template["spec"]["crd"]["spec"]["validation"]["openAPIV3Schema"]
            jsonschema.validate(doc["spec"]["parameters"], schema)
            assert doc["apiVersion"] == "constraints.gatekeeper.sh/v1beta1"
        else:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_validators_reject_broken_objects(rendered) -> None:
    docs, _ = rendered
    deployment = by_kind(docs, "Deployment")[0]
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)
    provider = by_kind(docs, "Provider")[0]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**provider, "spec": {**provider["spec"], "timeout": "3s"}},
                            crd_schema("provider-customresourcedefinition.yaml", "v1beta1"))


def test_provider_deployment_is_hardened(rendered) -> None:
    docs, _ = rendered
    (deployment,) = by_kind(docs, "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] >= 2 and spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert container["image"] == "registry.example.com/attest/provider:0.1.0"
    args = container["args"]
    assert "--client-ca=/etc/attest/gatekeeper-ca/ca.crt" in args
    assert container["readinessProbe"]["httpGet"]["port"] == "health"  # plain HTTP, no mTLS
    (pdb,) = by_kind(docs, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    (policy,) = by_kind(docs, "NetworkPolicy")
    https_from = [r for r in policy["spec"]["ingress"] if r["ports"][0]["port"] == 8443]
    assert https_from[0]["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "gatekeeper-system"}
    # the Secret the Deployment mounts is the generated one (hash-suffixed name followed)
    (secret,) = by_kind(docs, "Secret")
    tls_volume = next(v for v in pod["volumes"] if v["name"] == "tls")
    assert tls_volume["secret"]["secretName"] == secret["metadata"]["name"]


def test_provider_object_trusts_exactly_the_serving_ca(rendered) -> None:
    docs, overlay = rendered
    (provider,) = by_kind(docs, "Provider")
    assert "namespace" not in provider["metadata"]  # cluster-scoped
    spec = provider["spec"]
    assert spec["url"].startswith("https://") and spec["timeout"] >= 1
    # what Gatekeeper checks when it loads a Provider: base64 of a PEM X.509 certificate
    ca = x509.load_pem_x509_certificate(base64.b64decode(spec["caBundle"]))
    expected = (overlay / "certs" / "ca.crt").read_bytes()
    assert ca.public_bytes(serialization.Encoding.PEM) == expected
    leaf = x509.load_pem_x509_certificate((overlay / "certs" / "tls.crt").read_bytes())
    leaf.verify_directly_issued_by(ca)
    host = spec["url"].split("//", 1)[1].split(":", 1)[0].split("/", 1)[0]
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert host in sans.get_values_for_type(x509.DNSName)
    (service,) = by_kind(docs, "Service")
    assert host == f"{service['metadata']['name']}.{service['metadata']['namespace']}"


def test_gatekeeper_values_fail_closed_with_a_timeout_budget(rendered) -> None:
    docs, _ = rendered
    values = yaml.safe_load((REPO_ROOT / "deploy" / "gatekeeper-values.yaml").read_text())
    assert values["validatingWebhookFailurePolicy"] == "Fail"
    (provider,) = by_kind(docs, "Provider")
    (deployment,) = by_kind(docs, "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    deadline = float(next(a for a in args if a.startswith("--deadline=")).split("=")[1])
    assert deadline < provider["spec"]["timeout"] < values["validatingWebhookTimeoutSeconds"] <= 30
    assert "attest-system" in values["controllerManager"]["exemptNamespaces"]


def test_suite_objects_are_valid_kubernetes() -> None:
    """The Pods and workloads the template suite reviews are real manifests (image volumes
    included, which need 1.33+)."""
    objects = sorted((REPO_ROOT / "deploy" / "gatekeeper" / "tests" / "objects").glob("*.yaml"))
    crd_file = VECTORS / "kserve" / "v0.20.0" / "serving.kserve.io_inferenceservices.yaml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # 2 MB: libyaml when present
    (crd,) = [d for d in yaml.load_all(crd_file.read_text(), Loader=loader) if d]
    (v1beta1,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta1"]
    isvc_schema = v1beta1["schema"]["openAPIV3Schema"]
    checked, isvcs = 0, 0
    for path in objects:
        doc = yaml.safe_load(path.read_text().replace("${REGISTRY}", "registry.example:5000"))
        if doc["kind"] == "AdmissionReview":
            doc = doc["request"]["object"]
        if doc["kind"] == "InferenceService":
            jsonschema.validate(doc, isvc_schema)  # KServe v0.20.0's CRD
            isvcs += 1
        elif doc["kind"] == "LLMInferenceService":
            continue  # its CRD is not vendored here
        else:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
            checked += 1
    assert checked >= 15 and isvcs == 3
