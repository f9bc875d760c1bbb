"""What `attest handoff` writes is what admission lets in: the manifests of a verified model pass
the generated ConstraintTemplate (external_data answered by the real `attest serve` over mTLS,
against the real docker-registry), and the same manifests pointed at an unsigned or tampered
model's digest are refused, on regorus and on real OPA, in a gator-format suite."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.gator_runner import ENGINES, ExternalData, gatekeeper_session, run_suite
from tests.helpers import REPO_ROOT, run_attest

GATEKEEPER = REPO_ROOT / "deploy" / "gatekeeper"
TARGETS = ("pod", "deployment", "csi", "kserve")


def _digest(ref: str) -> str:
    done = run_attest("inspect", ref, "--format", "json")
    assert done.returncode == 0, done.stderr
    return str(yaml.safe_load(done.stdout)["digest"])


@pytest.fixture(scope="module")
def suite(admission_models, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("handoff-suite")
    m = admission_models
    signed_pinned = m.signed.rsplit(":", 1)[0] + "@" + m.signed_digest
    swaps = {"unsigned": m.unsigned, "tampered": m.tampered}
    cases = []
    for target in TARGETS:
        out = root / target
        done = run_attest("handoff", m.signed, "--key", str(m.public_key), "--target", target,
                          "--serving-image", m.image, "--out", str(out))  # fmt: skip
        assert done.returncode == 0, done.stderr
        text = (out / "model.yaml").read_text()
        assert signed_pinned in text
        cases.append({"name": f"{target}-verified", "object": str(out / "model.yaml"),
                      "assertions": [{"violations": "no"}]})  # fmt: skip
        for what, ref in swaps.items():
            # the manifest an attacker gets by editing the digest: what handoff never writes
            swapped = root / f"{target}-{what}.yaml"
            pinned = ref.rsplit(":", 1)[0] + "@" + _digest(ref)
            swapped.write_text(text.replace(signed_pinned, pinned))
            cases.append({"name": f"{target}-{what}", "object": str(swapped),
                          "assertions": [{"violations": "yes",
                                          "message": "UNSIGNED|SIGNATURE_INVALID"}]})  # fmt: skip
    path = root / "suite.yaml"
    path.write_text(yaml.safe_dump({
        "kind": "Suite", "apiVersion": "test.gatekeeper.sh/v1alpha1",
        "metadata": {"name": "handoff-manifests"},
        "tests": [{"name": "handoff", "template": str(GATEKEEPER / "template.yaml"),
                   "constraint": str(GATEKEEPER / "constraints" / "verified-models.yaml"),
                   "cases": cases}],
    }))  # fmt: skip
    return path


@pytest.mark.parametrize("engine", ENGINES)
def test_admission_accepts_handoff_manifests_only_for_the_verified_model(
    suite: Path, provider, engine: str
) -> None:
    tls = provider.tls
    session = gatekeeper_session(tls.ca, tls.client_cert, tls.client_key)
    external = ExternalData({"attest-provider": (f"{provider.url}/validate", session)})
    results = run_suite(suite, engine, external)
    assert len(results) == 3 * len(TARGETS)
    assert {r.case: r.failures for r in results if not r.ok} == {}
    verified = [r for r in results if r.case.endswith("-verified")]
    assert all(r.violations == [] for r in verified)
