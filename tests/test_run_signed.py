"""`attest run` end to end with signing, on an OCI layout and on the real registry: every
statement (SBOMs, MOF, cards, provenance) is a cosign v3 layout bundle referrer that
independent verifiers (sigstore-python, sigstore-js) accept for the right key or identity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sigstore.models import ClientTrustConfig

from attest.errors import VerificationError
from attest.oci import mediatypes as mt
from attest.oci.reference import parse_reference
from attest.oci.referrers import discover
from attest.oci.stores import open_store
from attest.sign.key_signer import verify_key_bundle
from attest.sign.keyless import verify_keyless_bundle
from attest.sign.keys import load_public_key
from tests.helpers import REPO_ROOT, run_attest
from tests.js_verifier import require_sigstore_js, verify_with_sigstore_js

MODEL = REPO_ROOT / "testdata" / "models" / "open-llm"
EXPECTED_PREDICATES = {
    "https://cyclonedx.org/bom/v1.6",
    "https://spdx.dev/Document/v2.3",
    "https://spdx.dev/Document/v3",
    "https://attest.dev/mof/v1",
    "https://attest.dev/model-card/v1",
    "https://attest.dev/data-card/v1",
    "https://slsa.dev/provenance/v1",
}


def bundles_of(ref: str) -> tuple[str, list[tuple[Any, bytes]]]:
    """The subject digest and every bundle referrer with its bundle bytes."""
    reference = parse_reference(ref)
    store = open_store(reference)
    subject = store.get_manifest(reference.target or "latest").descriptor
    out = []
    for r in discover(store, subject.digest, artifact_type=mt.SIGSTORE_BUNDLE_V03):
        from attest.oci.store import Descriptor

        layer = Descriptor.from_dict(r.manifest["layers"][0])
        out.append((r, store.fetch_blob(layer)))
    return subject.digest, out


def assert_cosign_v3_layout(referrer: Any, subject_digest: str) -> None:
    m = referrer.manifest
    assert m["mediaType"] == mt.OCI_MANIFEST and m["schemaVersion"] == 2
    assert m["artifactType"] == mt.SIGSTORE_BUNDLE_V03
    assert m["config"] == mt.EMPTY_DESCRIPTOR
    assert len(m["layers"]) == 1 and m["layers"][0]["mediaType"] == mt.SIGSTORE_BUNDLE_V03
    assert m["subject"]["digest"] == subject_digest
    notes = m["annotations"]
    assert notes["dev.sigstore.bundle.content"] == "dsse-envelope"
    assert notes["dev.sigstore.bundle.predicateType"] in EXPECTED_PREDICATES
    assert "org.opencontainers.image.created" in notes


@pytest.fixture
def release_key(tmp_path: Path) -> tuple[Path, Path]:
    proc = run_attest("key", "generate", str(tmp_path / "release"))
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "release.key", tmp_path / "release.pub"


@pytest.mark.parametrize("where", ["layout", "registry"])
def test_run_with_a_key_signs_everything_in_the_cosign_layout(
    where: str, release_key: tuple[Path, Path], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if where == "registry":
        registry = request.getfixturevalue("registry")
        to = f"{registry.ref}:v1"
    else:
        to = f"oci:{tmp_path}/lay:v1"
    key, pub = release_key
    proc = run_attest("run", str(MODEL), "--to", to, "--key", str(key), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["mofClass"] == "III"
    assert next(s for s in summary["stages"] if s["stage"] == "sign")["status"] == "ok"

    subject_digest, bundles = bundles_of(to)
    assert subject_digest == summary["digest"]
    predicates = set()
    public_key = load_public_key(pub)
    for referrer, bundle in bundles:
        assert_cosign_v3_layout(referrer, subject_digest)
        predicate_type = referrer.annotations["dev.sigstore.bundle.predicateType"]
        statement = verify_key_bundle(
            bundle, public_key, subject_digest=subject_digest, predicate_type=predicate_type
        )
        predicates.add(statement["predicateType"])
    assert predicates == EXPECTED_PREDICATES
    # the other key is refused
    other = run_attest("key", "generate", str(tmp_path / "other"))
    assert other.returncode == 0
    with pytest.raises(VerificationError, match="signed by another key"):
        verify_key_bundle(bundles[0][1], load_public_key(tmp_path / "other.pub"))
    # sigstore-js, an independent verifier, agrees
    require_sigstore_js()
    (tmp_path / "b.json").write_bytes(bundles[0][1])
    ok, out = verify_with_sigstore_js(tmp_path / "b.json", None, public_key=pub)
    assert ok, out
    ok, out = verify_with_sigstore_js(tmp_path / "b.json", None, public_key=tmp_path / "other.pub")
    assert not ok


def test_run_keyless_against_the_loopback_sigstore(
    sigstore_stand_in: Any,
    sigstore_trust_config: Path,
    sigstore_trusted_root: Path,
    tmp_path: Path,
) -> None:
    token = sigstore_stand_in.issue_token(email="release@example.org")
    to = f"oci:{tmp_path}/lay:v1"
    proc = run_attest(
        "run", str(MODEL), "--to", to, "--identity-token", token,
        "--trust-config", str(sigstore_trust_config), "--format", "json",
        env={"NO_PROXY": "127.0.0.1,localhost"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    subject_digest, bundles = bundles_of(to)
    assert len(bundles) == len(EXPECTED_PREDICATES)
    root = ClientTrustConfig.from_json(sigstore_trust_config.read_text()).trusted_root
    certificates = set()
    for referrer, bundle in bundles:
        assert_cosign_v3_layout(referrer, subject_digest)
        verify_keyless_bundle(
            bundle, trusted_root=root, identity="release@example.org",
            issuer=sigstore_stand_in.issuer, subject_digest=subject_digest,
        )  # fmt: skip
        certificates.add(json.dumps(json.loads(bundle)["verificationMaterial"]["certificate"]))
    assert len(certificates) == 1  # one signing session, one certificate for the whole run
    with pytest.raises(VerificationError, match="Sigstore verification failed: .*mallory@"):
        verify_keyless_bundle(
            bundles[0][1], trusted_root=root, identity="mallory@example.org",
            issuer=sigstore_stand_in.issuer,
        )  # fmt: skip
    require_sigstore_js()
    (tmp_path / "b.json").write_bytes(bundles[0][1])
    ok, out = verify_with_sigstore_js(
        tmp_path / "b.json", sigstore_trusted_root, identity="release@example.org",
        issuer=sigstore_stand_in.issuer,
    )  # fmt: skip
    assert ok, out
    ok, _ = verify_with_sigstore_js(
        tmp_path / "b.json", sigstore_trusted_root, identity="mallory@example.org",
        issuer=sigstore_stand_in.issuer,
    )  # fmt: skip
    assert not ok


def test_run_without_flags_uses_the_dev_key_and_says_so(tmp_path: Path) -> None:
    proc = run_attest("run", str(MODEL), "--to", f"oci:{tmp_path}/lay:v1",
                      env={"ATTEST_CONFIG_DIR": str(tmp_path / "cfg")})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "dev key — not for release" in proc.stdout
    assert (tmp_path / "cfg" / "dev-signing.key").is_file()
    unsigned = run_attest("run", str(MODEL), "--to", f"oci:{tmp_path}/b:v1", "--no-sign")
    assert unsigned.returncode == 0 and "--no-sign" in unsigned.stdout
