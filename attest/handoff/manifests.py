"""Kubernetes, KServe, Flux and Argo CD objects that reference a model **by digest**.

Pure functions: a ``Target`` in, plain dicts out. The digest is the one `attest verify` just
verified, so a tag moved after verification cannot change what runs. The facts behind each
shape (image volumes GA in 1.36, the CSI driver's attribute key, KServe's OCI modes, Flux's
`verify`) are in docs/handoff.md with their sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

CSI_DRIVER = "model.csi.modelpack.org"
CSI_REFERENCE_KEY = f"{CSI_DRIVER}/reference"
VERIFIED_ANNOTATION = "attest.dev/verified-digest"
_DNS_LABEL = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class Signer:
    """A verified keyless identity (Flux `matchOIDCIdentity` wants regexps: we anchor exactly)."""

    issuer: str
    subject: str


@dataclass
class Target:
    reference: str  # registry/repo@sha256:... (no tag)
    digest: str
    name: str
    namespace: str = "default"
    serving_image: str = "registry.k8s.io/pause:3.10"
    mount_path: str = "/models"
    kserve_format: str = "huggingface"
    signers: list[Signer] = field(default_factory=list)
    manifests_url: str | None = None  # oci://... where the manifests themselves are shipped
    manifests_tag: str = "latest"

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name, "app.kubernetes.io/managed-by": "attest"}

    @property
    def annotations(self) -> dict[str, str]:
        return {VERIFIED_ANNOTATION: self.digest}


def dns_name(text: str) -> str:
    """A DNS-1123 label from a repository name (objects need one)."""
    label = _DNS_LABEL.sub("-", text.lower()).strip("-")[:63].strip("-")
    return label or "model"


def _meta(t: Target, name: str | None = None) -> dict[str, Any]:
    return {"name": name or t.name, "namespace": t.namespace, "labels": t.labels,
            "annotations": t.annotations}  # fmt: skip


def _container(t: Target) -> dict[str, Any]:
    return {
        "name": "server",
        "image": t.serving_image,
        "volumeMounts": [{"name": "model", "mountPath": t.mount_path, "readOnly": True}],
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
    }  # fmt: skip


def model_volume(t: Target, kind: str) -> dict[str, Any]:
    if kind == "csi":
        return {"name": "model", "csi": {"driver": CSI_DRIVER, "readOnly": True,
                                          "volumeAttributes": {CSI_REFERENCE_KEY: t.reference}}}
    # an image volume: read-only, pulled once; the digest makes IfNotPresent exact
    return {"name": "model", "image": {"reference": t.reference, "pullPolicy": "IfNotPresent"}}


def pod_spec(t: Target, volume_kind: str) -> dict[str, Any]:
    return {"containers": [_container(t)], "volumes": [model_volume(t, volume_kind)],
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65532,
                                "seccompProfile": {"type": "RuntimeDefault"}}}  # fmt: skip


def pod(t: Target, volume_kind: str = "image") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": _meta(t),
            "spec": pod_spec(t, volume_kind)}  # fmt: skip


def deployment(t: Target, volume_kind: str = "image") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(t),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": t.name}},
            "template": {"metadata": {"labels": t.labels, "annotations": t.annotations},
                         "spec": pod_spec(t, volume_kind)},
        },
    }  # fmt: skip


def inference_service(t: Target) -> dict[str, Any]:
    return {
        "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
        "metadata": _meta(t),
        "spec": {"predictor": {"model": {
            "modelFormat": {"name": t.kserve_format},
            "storageUri": f"oci://{t.reference}",
        }}},
    }  # fmt: skip


def workload(t: Target, target: str) -> dict[str, Any]:
    if target in ("pod", "image-volume"):
        return pod(t)
    if target == "deployment":
        return deployment(t)
    if target == "csi":
        return deployment(t, "csi")
    if target == "kserve":
        return inference_service(t)
    raise ValueError(f"unknown target {target}")


def flux_source(t: Target) -> dict[str, Any]:
    """The Flux `OCIRepository` of the manifests artifact, gated on the model's signers."""
    verify: dict[str, Any] = {"provider": "cosign"}
    if t.signers:
        verify["matchOIDCIdentity"] = [
            {"issuer": f"^{re.escape(s.issuer)}$", "subject": f"^{re.escape(s.subject)}$"}
            for s in t.signers
        ]
    else:  # key-signed: the public key sits in a Secret (cosign.pub), as Flux documents
        verify["secretRef"] = {"name": f"{t.name}-cosign-pub"}
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
        "metadata": {"name": f"{t.name}-manifests", "namespace": "flux-system"},
        "spec": {"interval": "10m", "url": t.manifests_url or f"oci://{_manifests_repo(t)}",
                 "ref": {"tag": t.manifests_tag}, "verify": verify},
    }  # fmt: skip


def flux_kustomization(t: Target) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": t.name, "namespace": "flux-system"},
        "spec": {"interval": "10m", "path": "./", "prune": True, "wait": True,
                 "targetNamespace": t.namespace,
                 "sourceRef": {"kind": "OCIRepository", "name": f"{t.name}-manifests"}},
    }  # fmt: skip


def argocd_application(t: Target) -> dict[str, Any]:
    url = t.manifests_url or f"oci://{_manifests_repo(t)}"
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": t.name, "namespace": "argocd",
                     "annotations": t.annotations},  # fmt: skip
        "spec": {
            "project": "default",
            "source": {"repoURL": url, "targetRevision": t.manifests_tag, "path": "."},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": t.namespace},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }  # fmt: skip


def kustomization(files: list[str]) -> dict[str, Any]:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": files}  # fmt: skip


def _manifests_repo(t: Target) -> str:
    repo = t.reference.split("@", 1)[0]
    return f"{repo}-manifests"
