"""`attest handoff`: verify, then manifests pinned to the verified digest, each valid against
Kubernetes 1.36 (kubernetes-validate, strict) or its upstream CRD, rendered by the real
`kubectl kustomize`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from attest.handoff import manifests as m
from tests.helpers import run_attest
from tests.k8s_schemas import validate_file, validate_object

SERVER = "ghcr.io/example/server@sha256:" + "1" * 64


def _digest_of(ref: str) -> str:
    done = run_attest("inspect", ref, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["digest"]


@pytest.mark.parametrize("target", ["pod", "deployment", "image-volume", "csi", "kserve"])
def test_handoff_writes_valid_manifests_pinned_to_the_verified_digest(
    signed_ref, release_key, tmp_path: Path, target: str
) -> None:
    out = tmp_path / "deploy"
    done = run_attest("handoff", signed_ref, "--key", f"{release_key}.pub", "--target", target,
                      "--serving-image", SERVER, "--out", str(out), "--format", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    digest = _digest_of(signed_ref)
    pinned = signed_ref.rsplit(":", 1)[0] + "@" + digest
    model = yaml.safe_load((out / "model.yaml").read_text())
    text = (out / "model.yaml").read_text()
    assert pinned in text and ":v1" not in text  # the digest, never the tag
    assert model["metadata"]["annotations"][m.VERIFIED_ANNOTATION] == digest
    for rel in ("model.yaml", "flux/ocirepository.yaml", "flux/kustomization.yaml",
                "argocd/application.yaml"):  # fmt: skip
        validate_file(out / rel)
    if target == "csi":
        volume = model["spec"]["template"]["spec"]["volumes"][0]
        assert volume["csi"]["volumeAttributes"][m.CSI_REFERENCE_KEY] == pinned
    elif target == "kserve":
        assert model["spec"]["predictor"]["model"]["storageUri"] == f"oci://{pinned}"
    else:
        spec = model["spec"]["template"]["spec"] if target == "deployment" else model["spec"]
        assert spec["volumes"][0]["image"]["reference"] == pinned
    flux = yaml.safe_load((out / "flux/ocirepository.yaml").read_text())
    assert flux["spec"]["verify"] == {"provider": "cosign",
                                      "secretRef": {"name": "handoff-open-llm-cosign-pub"}}
    kubectl = shutil.which("kubectl")
    if kubectl:  # the real kustomize renders the base; what it renders is valid too
        rendered = subprocess.run([kubectl, "kustomize", str(out)], capture_output=True,
                                  text=True, check=True).stdout  # fmt: skip
        for doc in yaml.safe_load_all(rendered):
            validate_object(doc)


def test_handoff_refuses_an_unverified_model(unsigned_ref, release_key, tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    done = run_attest("handoff", unsigned_ref, "--key", f"{release_key}.pub", "--target", "pod",
                      "--serving-image", SERVER, "--out", str(out))  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "no verified signature" in done.stderr
    assert not out.exists()


def test_handoff_usage_errors(signed_ref, release_key, tmp_path: Path) -> None:
    no_server = run_attest("handoff", signed_ref, "--key", f"{release_key}.pub",
                           "--target", "deployment", "--out", str(tmp_path / "d"))  # fmt: skip
    assert no_server.returncode == 2 and "--serving-image" in no_server.stderr
    assert not (tmp_path / "d").exists()


def test_flux_source_matches_keyless_identities_exactly() -> None:
    signer = m.Signer("https://token.actions.githubusercontent.com",
                      "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0")
    t = m.Target("r.example/m@sha256:" + "a" * 64, "sha256:" + "a" * 64, "m", signers=[signer])
    source = m.flux_source(t)
    validate_object(source)
    (match,) = source["spec"]["verify"]["matchOIDCIdentity"]
    import re

    assert re.fullmatch(match["subject"], signer.subject)
    assert not re.fullmatch(match["subject"], signer.subject.replace("v1.0", "v1x0"))
    assert not re.fullmatch(match["issuer"], signer.issuer + ".evil.example")


def test_a_typo_in_a_custom_resource_is_caught() -> None:
    """The validator is strict: a misspelt field in a CRD object fails (it cannot pass blindly)."""
    t = m.Target("r.example/m@sha256:" + "a" * 64, "sha256:" + "a" * 64, "m")
    service = m.inference_service(t)
    service["spec"]["predictor"]["model"]["storageURI"] = "oci://x"
    with pytest.raises(Exception, match="storageURI"):
        validate_object(service)
    pod = m.pod(t)
    pod["spec"]["volumes"][0]["image"]["refrence"] = "x"
    with pytest.raises(Exception, match="refrence"):
        validate_object(pod)
