"""`attest verify --policy/--params` end to end: the docs' worked example on a keylessly signed
model, missing required evidence, and an unsigned document where a signed one is required."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO_ROOT, run_attest
from tests.test_verify import invoke

MODEL = REPO_ROOT / "testdata" / "models" / "open-llm"
WORKFLOW = "acme/models/.github/workflows/release.yml"
CLAIMS = {"repository": "acme/models", "ref": "refs/tags/v1"}


@pytest.fixture(scope="module")
def release_signed(sigstore_stand_in: Any, sigstore_trust_config: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> str:  # fmt: skip
    """open-llm signed keylessly by acme/models' release workflow (GitHub-style token)."""
    from tests.sigstore_stand_in import GITHUB_ISSUER, github_claims

    # a token as GitHub Actions issues it (the stand-in's Fulcio accepts GitHub's issuer)
    token = sigstore_stand_in.oidc.issue({**github_claims(**CLAIMS), "iss": GITHUB_ISSUER})
    ref = f"oci:{tmp_path_factory.mktemp('rel')}/lay:v1"
    proc = run_attest("run", str(MODEL), "--to", ref, "--identity-token", token,
                      "--trust-config", str(sigstore_trust_config),
                      env={"NO_PROXY": "127.0.0.1,localhost"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return ref


def worked_example(tmp_path: Path, min_class: str = "II", denied: str = '["GPL-*", "AGPL-*"]'):
    params = tmp_path / "release-policy.yaml"
    params.write_text(
        "identity:\n  allowed:\n"
        f"    - github_workflow_ref: {WORKFLOW}\n"
        "  dev_keys: deny\n"
        f"sbom:\n  denied_licenses: {denied}\n"
        f"mof:\n  min_class: {min_class}\n"
    )
    return params


def verify_args(ref: str, sigstore_stand_in: Any, trust: Path, identity: str) -> list[str]:
    from tests.sigstore_stand_in import GITHUB_ISSUER

    return ["verify", ref, "--trust-config", str(trust),
            "--identity", identity, "--issuer", GITHUB_ISSUER]  # fmt: skip


def test_worked_example_from_the_docs(release_signed, sigstore_stand_in, sigstore_trust_config,
                                      tmp_path, capsys, monkeypatch) -> None:  # fmt: skip
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    identity = sigstore_stand_in.github_identity({"job_workflow_ref": f"{WORKFLOW}@refs/tags/v1"})
    base = verify_args(release_signed, sigstore_stand_in, sigstore_trust_config, identity)
    # open-llm is Class III with an Apache-2.0 SBOM: "at least Class II" fails, Class III passes
    code, out, err = invoke(*base, "--params", str(worked_example(tmp_path)), capsys=capsys)
    assert code == 1 and "MOF_CLASS" in err + out
    code, out, err = invoke(*base, "--params", str(worked_example(tmp_path, "III")),
                            capsys=capsys)  # fmt: skip
    assert code == 0, err + out
    # deny Apache: the SBOM now violates; warn mode reports and exits 0
    strict = worked_example(tmp_path, "III", '["Apache-*"]')
    code, out, err = invoke(*base, "--params", str(strict), capsys=capsys)
    assert code == 1 and "SBOM_DENIED_LICENSE" in err + out
    code, out, err = invoke(*base, "--params", str(strict), "--mode", "warn", capsys=capsys)
    assert code == 0 and "SBOM_DENIED_LICENSE" in out
    code, out, err = invoke(*base, "--params", str(strict), "--mode", "off", capsys=capsys)
    assert code == 0 and "SBOM_DENIED_LICENSE" not in out


def test_missing_required_evidence_and_unsigned_documents(tmp_path: Path, capsys) -> None:
    keys = tmp_path / "k"
    assert run_attest("key", "generate", str(keys)).returncode == 0
    ref = f"oci:{tmp_path}/lay:v1"
    # packed and signed with only an unsigned SBOM attached, then one signed MOF statement
    assert run_attest("pack", str(MODEL), "--to", ref).returncode == 0
    assert run_attest("sbom", ref, "--attach").returncode == 0
    assert run_attest("mof", ref, "--attach").returncode == 0
    params = tmp_path / "p.yaml"
    params.write_text(
        "identity:\n  allowed: [{kind: key}]\n"
        "signatures:\n  required: [https://attest.dev/mof/v1, https://slsa.dev/provenance/v1]\n"
    )
    # sign only the MOF statement, named by its referrer's digest (nothing is signed unnamed)
    listed = json.loads(run_attest("referrers", ref, "--format", "json").stdout)["referrers"]
    mof = next(r["digest"] for r in listed
               if r.get("annotations", {}).get("dev.attest.predicate-type")
               == "https://attest.dev/mof/v1"
               and r.get("artifactType") == "application/vnd.in-toto+json")  # fmt: skip
    proc = run_attest("sign", ref, "--key", f"{keys}.key", "--document", mof)
    assert proc.returncode == 0, proc.stderr
    code, out, err = invoke("verify", ref, "--key", f"{keys}.pub", "--params", str(params),
                            capsys=capsys)  # fmt: skip
    assert code == 1
    assert "https://slsa.dev/provenance/v1" in err + out  # required, never attached
    sbom_required = tmp_path / "s.yaml"
    sbom_required.write_text("identity:\n  allowed: [{kind: key}]\nsbom:\n  required: true\n")
    code, out, err = invoke("verify", ref, "--key", f"{keys}.pub", "--params",
                            str(sbom_required), capsys=capsys)  # fmt: skip
    assert code == 1 and "SBOM" in err + out  # the SBOM is attached, but unsigned


def test_policy_from_a_registry_is_obeyed_only_when_signed(registry, tmp_path: Path,
                                                          capsys) -> None:  # fmt: skip
    keys = {name: tmp_path / name for name in ("release", "stranger")}
    for prefix in keys.values():
        assert run_attest("key", "generate", str(prefix)).returncode == 0
    model = f"{registry.ref}:model"
    proc = run_attest("run", str(MODEL), "--to", model, "--key", f"{keys['release']}.key")
    assert proc.returncode == 0, proc.stderr
    policies = str(REPO_ROOT / "policies")
    signed, unsigned, foreign = (f"{registry.ref}:policy-{n}" for n in ("a", "b", "c"))
    # distinct revisions: the same files would be the same manifest, signed by all three
    assert run_attest("policy", "push", policies, signed, "--revision", "a",
                      "--key", f"{keys['release']}.key").returncode == 0  # fmt: skip
    assert run_attest("policy", "push", policies, unsigned, "--revision", "b",
                      "--no-sign").returncode == 0  # fmt: skip
    assert run_attest("policy", "push", policies, foreign, "--revision", "c",
                      "--key", f"{keys['stranger']}.key").returncode == 0  # fmt: skip
    base = ("verify", model, "--key", f"{keys['release']}.pub")
    code, out, err = invoke(*base, "--policy", signed, capsys=capsys)
    assert code == 0, err + out
    code, _, err = invoke(*base, "--policy", unsigned, capsys=capsys)
    assert code == 1 and "not signed by a trusted signer" in err
    code, _, err = invoke(*base, "--policy", foreign, capsys=capsys)
    assert code == 1 and "not signed by a trusted signer" in err
