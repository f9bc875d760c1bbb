"""`attest handoff`: verify, then write deployment manifests pinned to the verified digest."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from attest.errors import UsageError
from attest.fileio import atomic_write
from attest.flows.verify import VerifyOutcome
from attest.handoff import manifests as m
from attest.modelpack.read import parse_subject

log = logging.getLogger(__name__)

HEADERS = {
    "kserve": (
        "KServe: with ociModelMode modelcar (the default) the reference must be a runnable image\n"
        "with sh and /models; a ModelPack artifact mounts as an image volume (native mode,\n"
        "CRI-O),"
        " where layer paths must start with models/. See docs/handoff.md."
    ),
    "image-volume": "Image volumes are GA in Kubernetes 1.36; ModelPack artifacts mount on CRI-O.",
    "csi": "Needs the ModelPack Model CSI driver (model.csi.modelpack.org); it verifies nothing.",
}


@dataclass
class Handoff:
    reference: str
    digest: str
    target: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # relative path -> object
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "digest": self.digest, "target": self.target,
                "files": sorted(self.files), "warnings": self.warnings}  # fmt: skip


def build_handoff(
    outcome: VerifyOutcome,
    target: str,
    *,
    name: str | None = None,
    namespace: str = "default",
    serving_image: str | None = None,
    mount_path: str = "/models",
    manifests_url: str | None = None,
    manifests_tag: str = "latest",
) -> Handoff:
    """The manifests for ``outcome``, which must have verified (else VerificationError)."""
    outcome.raise_for_failure()
    if outcome.reference.is_layout:
        raise UsageError("a cluster cannot pull from an OCI layout: push the model first "
                         "(attest copy oci:DIR:TAG HOST/REPO:TAG) and hand that off")  # fmt: skip
    if target != "kserve" and not serving_image:
        raise UsageError(f"--target {target} needs --serving-image (the server that reads "
                         f"the model at {mount_path})")  # fmt: skip
    if serving_image and "@sha256:" not in serving_image:
        log.warning("--serving-image %s is not pinned by digest", serving_image)
    signers = sorted({
        m.Signer(s.issuer, s.subject)
        for r in outcome.report.verified for s in r.signatures
        if s.verified and s.kind == "keyless" and s.issuer and s.subject
    }, key=lambda s: (s.issuer, s.subject))  # fmt: skip
    t = m.Target(
        reference=outcome.pinned, digest=outcome.subject.digest,
        name=m.dns_name(name or outcome.reference.repository or "model"), namespace=namespace,
        serving_image=serving_image or "", mount_path=mount_path, signers=signers,
        manifests_url=manifests_url, manifests_tag=manifests_tag,
    )  # fmt: skip
    result = Handoff(outcome.pinned, outcome.subject.digest, target)
    result.files["model.yaml"] = m.workload(t, target)
    result.files["kustomization.yaml"] = m.kustomization(["model.yaml"])
    result.files["flux/ocirepository.yaml"] = m.flux_source(t)
    result.files["flux/kustomization.yaml"] = m.flux_kustomization(t)
    result.files["argocd/application.yaml"] = m.argocd_application(t)
    if target in ("pod", "deployment", "image-volume", "kserve"):
        result.warnings += _image_volume_warnings(outcome)
    return result


def _image_volume_warnings(outcome: VerifyOutcome) -> list[str]:
    """CRI-O mounts each layer blob as is, named by its file path annotation (see docs)."""
    subject = parse_subject(outcome.store, outcome.store.get_manifest(outcome.subject.digest),
                            outcome.pinned)  # fmt: skip
    warnings = []
    unnamed = [layer for layer in subject.layers if not layer.path]
    if unnamed:
        warnings.append(f"{len(unnamed)} layer(s) carry no file path annotation: an image "
                        "volume (CRI-O) skips them")  # fmt: skip
    archives = [layer.path for layer in subject.layers if layer.encoding != "raw" and layer.path]
    if archives:
        warnings.append(f"{len(archives)} layer(s) are archives ({archives[0]}, ...): an image "
                        "volume shows them as archive files, not extracted trees")  # fmt: skip
    if subject.flavour == "modelpack-legacy":
        warnings.append("legacy org.cnai.model.filepath layers are not recognised by CRI-O")
    return warnings


def write_handoff(result: Handoff, out: Path) -> list[Path]:
    """Write every file under ``out`` (each atomically); returns the paths written."""
    written = []
    for rel, obj in sorted(result.files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        header = f"# Written by `attest handoff`: pinned to the verified digest {result.digest}.\n"
        note = HEADERS.get(result.target) if rel == "model.yaml" else None
        if note:
            header += "".join(f"# {line}\n" for line in note.splitlines())
        atomic_write(path, (header + yaml.safe_dump(obj, sort_keys=False)).encode())
        written.append(path)
    return written
