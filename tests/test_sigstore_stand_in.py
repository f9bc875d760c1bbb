"""The loopback Sigstore stand-in, proved with real clients: sigstore-python 4.x signs against it
and verifies; sigstore-js verifies the same bundles (and signs against it too). If the stand-in
drifted from the protocols, these independent implementations would reject its output."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier
from sigstore import dsse
from sigstore.errors import VerificationError
from sigstore.models import Bundle, ClientTrustConfig, TrustedRoot
from sigstore.oidc import IdentityError, IdentityToken, detect_credential
from sigstore.sign import SigningContext
from sigstore.verify import Verifier, policy

from tests.js_verifier import sign_with_sigstore_js, verify_with_sigstore_js
from tests.sigstore_stand_in import (
    GITHUB_ISSUER,
    OID_ISSUER_V1,
    OID_ISSUER_V2,
    MerkleTree,
    SigstoreStandIn,
    der_utf8_string,
    dsse_pae,
    github_claims,
    leaf_hash,
    node_hash,
)

EMAIL = "signer@example.test"
INTOTO = "application/vnd.in-toto+json"
FROZEN = Path(__file__).parent / "data" / "sigstore"
Tamper = Callable[[dict[str, Any]], None]


def statement(digest: str = "ab" * 32, name: str = "registry.test/models/tiny") -> bytes:
    return json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": name, "digest": {"sha256": digest}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {"buildDefinition": {"buildType": "https://attest.invalid/test/v1"}},
        }
    ).encode()


@dataclass(frozen=True)
class Signed:
    bundle: Bundle
    second: Bundle  # a second statement in the same signer session
    artifact: Bundle  # hashedrekord over ARTIFACT
    payload: bytes
    path: Path


ARTIFACT = b"model weights stand-in\n"


@pytest.fixture(scope="module")
def trust_config(sigstore_stand_in: SigstoreStandIn) -> ClientTrustConfig:
    return ClientTrustConfig.from_json(json.dumps(sigstore_stand_in.client_trust_config()))


@pytest.fixture(scope="module")
def verifier(trust_config: ClientTrustConfig) -> Verifier:
    return Verifier(trusted_root=trust_config.trusted_root)


def sign(trust_config: ClientTrustConfig, token: str, *payloads: bytes) -> list[Bundle]:
    context = SigningContext.from_trust_config(trust_config)
    with context.signer(IdentityToken(token), cache=True) as signer:
        return [signer.sign_dsse(dsse.Statement(p)) for p in payloads]


@pytest.fixture(scope="module")
def signed(
    sigstore_stand_in: SigstoreStandIn,
    trust_config: ClientTrustConfig,
    tmp_path_factory: pytest.TempPathFactory,
) -> Signed:
    payload = statement()
    context = SigningContext.from_trust_config(trust_config)
    token = IdentityToken(sigstore_stand_in.issue_token(email=EMAIL))
    with context.signer(token, cache=True) as signer:
        bundle = signer.sign_dsse(dsse.Statement(payload))
        second = signer.sign_dsse(dsse.Statement(statement(digest="cd" * 32)))
        artifact = signer.sign_artifact(ARTIFACT)
    path = tmp_path_factory.mktemp("signed") / "bundle.sigstore.json"
    path.write_text(bundle.to_json())
    return Signed(bundle, second, artifact, payload, path)


def email_policy(stand_in: SigstoreStandIn) -> policy.Identity:
    return policy.Identity(identity=EMAIL, issuer=stand_in.issuer)


def edit_bundle(bundle: Bundle, change: Tamper) -> Bundle:
    """A copy of ``bundle`` with ``change(json_dict)`` applied."""
    data = json.loads(bundle.to_json())
    change(data)
    return Bundle.from_json(json.dumps(data))


def ext(cert: x509.Certificate, oid: str) -> bytes:
    value = cert.extensions.get_extension_for_oid(ObjectIdentifier(oid)).value
    return value.value  # type: ignore[attr-defined, no-any-return]


# --- sigstore-python: sign and verify -------------------------------------------------------


def test_python_signs_and_verifies_dsse(
    signed: Signed, verifier: Verifier, sigstore_stand_in: SigstoreStandIn
) -> None:
    payload_type, payload = verifier.verify_dsse(signed.bundle, email_policy(sigstore_stand_in))
    assert (payload_type, payload) == (INTOTO, signed.payload)
    entry = json.loads(signed.bundle.to_json())["verificationMaterial"]["tlogEntries"][0]
    assert entry["kindVersion"] == {"kind": "dsse", "version": "0.0.1"}
    assert int(entry["logIndex"]) >= 2  # after the two seed entries


def test_one_certificate_signs_every_statement_of_a_session(
    signed: Signed, verifier: Verifier, sigstore_stand_in: SigstoreStandIn
) -> None:
    assert signed.second.signing_certificate == signed.bundle.signing_certificate
    _, payload = verifier.verify_dsse(signed.second, email_policy(sigstore_stand_in))
    assert json.loads(payload)["subject"][0]["digest"] == {"sha256": "cd" * 32}


def test_hashedrekord_artifact_signature(
    signed: Signed, verifier: Verifier, sigstore_stand_in: SigstoreStandIn
) -> None:
    verifier.verify_artifact(ARTIFACT, signed.artifact, email_policy(sigstore_stand_in))
    with pytest.raises(VerificationError):
        verifier.verify_artifact(ARTIFACT + b"x", signed.artifact, email_policy(sigstore_stand_in))


def test_certificate_follows_the_fulcio_profile(
    signed: Signed, sigstore_stand_in: SigstoreStandIn
) -> None:
    cert = signed.bundle.signing_certificate
    assert cert.subject == x509.Name([])
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical and san.value.get_values_for_type(x509.RFC822Name) == [EMAIL]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CODE_SIGNING]
    assert ext(cert, OID_ISSUER_V1) == sigstore_stand_in.issuer.encode()
    assert ext(cert, OID_ISSUER_V2) == der_utf8_string(sigstore_stand_in.issuer)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(minutes=10)
    scts = cert.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps)
    assert len(scts.value) == 1
    assert cert.extensions[-1].oid == scts.oid  # the SCT list comes last


@pytest.mark.parametrize(
    ("identity", "issuer"),
    [
        ("someone-else@example.test", None),
        (EMAIL, "https://token.actions.githubusercontent.com"),
    ],
    ids=["wrong-identity", "wrong-issuer"],
)
def test_python_rejects_wrong_identity_or_issuer(
    signed: Signed,
    verifier: Verifier,
    sigstore_stand_in: SigstoreStandIn,
    identity: str,
    issuer: str | None,
) -> None:
    wanted = policy.Identity(identity=identity, issuer=issuer or sigstore_stand_in.issuer)
    with pytest.raises(VerificationError):
        verifier.verify_dsse(signed.bundle, wanted)


def tamper_payload(data: dict[str, Any]) -> None:
    envelope = data["dsseEnvelope"]
    payload = base64.b64decode(envelope["payload"]).replace(b"ab" * 32, b"ef" * 32)
    envelope["payload"] = base64.b64encode(payload).decode()


def tamper_integrated_time(data: dict[str, Any]) -> None:
    entry = data["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 1)


def tamper_proof(data: dict[str, Any]) -> None:
    proof = data["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    proof["hashes"][0] = base64.b64encode(b"\x00" * 32).decode()


def tamper_checkpoint(data: dict[str, Any]) -> None:
    checkpoint = data["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
    note, _, signature = checkpoint["envelope"].partition("\n\n")
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    checkpoint["envelope"] = "\n".join(lines) + "\n\n" + signature


TAMPERS = {
    "payload": tamper_payload,
    "integrated-time": tamper_integrated_time,
    "inclusion-proof": tamper_proof,
    "checkpoint": tamper_checkpoint,
}


@pytest.mark.parametrize("tamper", TAMPERS.values(), ids=TAMPERS.keys())
def test_python_rejects_tampered_bundles(
    signed: Signed, verifier: Verifier, sigstore_stand_in: SigstoreStandIn, tamper: Tamper
) -> None:
    with pytest.raises(VerificationError):
        verifier.verify_dsse(edit_bundle(signed.bundle, tamper), email_policy(sigstore_stand_in))


def test_another_stand_in_root_does_not_trust_this_one(signed: Signed) -> None:
    with SigstoreStandIn() as other:
        other_root = ClientTrustConfig.from_json(json.dumps(other.client_trust_config()))
        with pytest.raises(VerificationError):
            Verifier(trusted_root=other_root.trusted_root).verify_dsse(
                signed.bundle, policy.Identity(identity=EMAIL, issuer=other.issuer)
            )


# --- GitHub Actions identities -----------------------------------------------------------------


def test_github_token_gets_fulcio_workflow_extensions(
    sigstore_stand_in: SigstoreStandIn, trust_config: ClientTrustConfig, verifier: Verifier
) -> None:
    claims = github_claims(repository="acme/llm", ref="refs/tags/v1.0", event_name="release")
    (bundle,) = sign(trust_config, sigstore_stand_in.oidc.issue(claims), statement())
    identity = "https://github.com/acme/llm/.github/workflows/release.yml@refs/tags/v1.0"
    assert sigstore_stand_in.github_identity(claims) == identity
    repo = "https://github.com/acme/llm"
    verifier.verify_dsse(
        bundle,
        policy.AllOf(
            [
                policy.Identity(identity=identity, issuer=sigstore_stand_in.issuer),
                policy.OIDCIssuerV2(sigstore_stand_in.issuer),
                policy.OIDCBuildSignerURI(identity),
                policy.OIDCBuildSignerDigest(claims["job_workflow_sha"]),
                policy.OIDCRunnerEnvironment("github-hosted"),
                policy.OIDCSourceRepositoryURI(repo),
                policy.OIDCSourceRepositoryDigest(claims["sha"]),
                policy.OIDCSourceRepositoryRef("refs/tags/v1.0"),
                policy.OIDCSourceRepositoryIdentifier(claims["repository_id"]),
                policy.OIDCSourceRepositoryOwnerURI("https://github.com/acme"),
                policy.OIDCSourceRepositoryOwnerIdentifier(claims["repository_owner_id"]),
                policy.OIDCBuildConfigURI(identity),
                policy.OIDCBuildTrigger("release"),
                policy.OIDCRunInvocationURI(f"{repo}/actions/runs/{claims['run_id']}/attempts/1"),
                policy.OIDCSourceRepositoryVisibility("public"),
                policy.GitHubWorkflowRepository("acme/llm"),
                policy.GitHubWorkflowTrigger("release"),
            ]
        ),
    )
    with pytest.raises(VerificationError):
        verifier.verify_dsse(bundle, policy.OIDCSourceRepositoryURI("https://github.com/acme/x"))


def test_tokens_may_name_githubs_issuer(
    sigstore_stand_in: SigstoreStandIn, trust_config: ClientTrustConfig, verifier: Verifier
) -> None:
    claims = {**github_claims(), "iss": GITHUB_ISSUER}
    (bundle,) = sign(trust_config, sigstore_stand_in.oidc.issue(claims), statement())
    identity = sigstore_stand_in.github_identity(claims)
    verifier.verify_dsse(bundle, policy.Identity(identity=identity, issuer=GITHUB_ISSUER))
    with pytest.raises(VerificationError):
        verifier.verify_dsse(
            bundle, policy.Identity(identity=identity, issuer=sigstore_stand_in.issuer)
        )


def test_ambient_github_credentials_are_detected(
    sigstore_stand_in: SigstoreStandIn,
    trust_config: ClientTrustConfig,
    verifier: Verifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in sigstore_stand_in.github_actions_env().items():
        monkeypatch.setenv(name, value)
    token = detect_credential()
    assert token is not None
    assert IdentityToken(token).issuer == sigstore_stand_in.issuer
    claims = jwt.decode(token, options={"verify_signature": False}, audience="sigstore")
    assert claims["repository"] == "acme/model-repo"
    assert ("GET", "/_apis/idtoken") in sigstore_stand_in.requests_log
    (bundle,) = sign(trust_config, token, statement())
    verifier.verify_dsse(
        bundle,
        policy.Identity(
            identity=sigstore_stand_in.github_identity(), issuer=sigstore_stand_in.issuer
        ),
    )


def test_ambient_endpoint_rejects_a_wrong_request_token(
    sigstore_stand_in: SigstoreStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in sigstore_stand_in.github_actions_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "not-the-token")
    with pytest.raises(IdentityError):
        detect_credential()


# --- Fulcio and Rekor details --------------------------------------------------------------


def post_cert_request(stand_in: SigstoreStandIn, token: str) -> requests.Response:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    pem = csr.public_bytes(serialization.Encoding.PEM)
    body = {"certificateSigningRequest": base64.b64encode(pem).decode()}
    return requests.post(
        f"{stand_in.fulcio_url}/api/v2/signingCert",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_fulcio_rejects_bad_tokens(sigstore_stand_in: SigstoreStandIn) -> None:
    with SigstoreStandIn() as other:  # a token signed by a key this Fulcio does not trust
        forged = other.issue_token(issuer=sigstore_stand_in.issuer, email=EMAIL)
    unverified = sigstore_stand_in.issue_token(
        email=EMAIL, extra_claims={"email_verified": False}
    )
    cases = {
        forged: 401,
        sigstore_stand_in.issue_token(email=EMAIL, audience="not-sigstore"): 401,
        sigstore_stand_in.issue_token(email=EMAIL, lifetime=-60): 401,
        unverified: 400,
        sigstore_stand_in.issue_token(sub="just-a-name"): 400,
    }
    for token, status in cases.items():
        response = post_cert_request(sigstore_stand_in, token)
        assert response.status_code == status, response.text
        assert "message" in response.json()
    assert post_cert_request(sigstore_stand_in, sigstore_stand_in.issue_token()).status_code == 201


def test_rekor_serves_and_deduplicates_entries(
    signed: Signed, sigstore_stand_in: SigstoreStandIn
) -> None:
    rekor = sigstore_stand_in.rekor_url
    entry = json.loads(signed.bundle.to_json())["verificationMaterial"]["tlogEntries"][0]
    body = base64.b64decode(entry["canonicalizedBody"])
    by_index = requests.get(
        f"{rekor}/api/v1/log/entries", params={"logIndex": entry["logIndex"]}, timeout=10
    ).json()
    ((uuid, served),) = by_index.items()
    assert uuid.endswith(leaf_hash(body).hex())
    assert base64.b64decode(served["body"]) == body
    by_uuid = requests.get(f"{rekor}/api/v1/log/entries/{uuid}", timeout=10).json()
    assert by_uuid[uuid]["integratedTime"] == int(entry["integratedTime"])
    search = {"entryUUIDs": [uuid], "logIndexes": [int(entry["logIndex"])]}
    found = requests.post(f"{rekor}/api/v1/log/entries/retrieve", json=search, timeout=10).json()
    assert [next(iter(f)) for f in found] == [uuid, uuid]
    info = requests.get(f"{rekor}/api/v1/log", timeout=10).json()
    assert info["treeSize"] > int(entry["logIndex"])
    _origin, size, root = info["signedTreeHead"].split("\n")[:3]
    assert int(size) == info["treeSize"]
    assert base64.b64decode(root).hex() == info["rootHash"]
    # Re-submitting the same hashedrekord is a conflict pointing at the existing entry.
    artifact = json.loads(signed.artifact.to_json())["verificationMaterial"]["tlogEntries"][0]
    proposed = json.loads(base64.b64decode(artifact["canonicalizedBody"]))
    again = requests.post(f"{rekor}/api/v1/log/entries", json=proposed, timeout=10)
    assert again.status_code == 409
    assert again.headers["Location"].startswith("/api/v1/log/entries/")


def test_rekor_rejects_an_entry_whose_signature_does_not_verify(
    sigstore_stand_in: SigstoreStandIn,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    envelope = {
        "payloadType": INTOTO,
        "payload": base64.b64encode(statement()).decode(),
        "signatures": [
            {"sig": base64.b64encode(key.sign(b"not the PAE", ec.ECDSA(hashes.SHA256()))).decode()}
        ],
    }
    proposed = {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "proposedContent": {
                "envelope": json.dumps(envelope),
                "verifiers": [base64.b64encode(pem).decode()],
            }
        },
    }
    url = f"{sigstore_stand_in.rekor_url}/api/v1/log/entries"
    assert requests.post(url, json=proposed, timeout=10).status_code == 400
    good = key.sign(dsse_pae(INTOTO, statement()), ec.ECDSA(hashes.SHA256()))
    envelope["signatures"][0]["sig"] = base64.b64encode(good).decode()
    proposed["spec"]["proposedContent"]["envelope"] = json.dumps(envelope)
    assert requests.post(url, json=proposed, timeout=10).status_code == 201


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2 -- a different algorithm from the stand-in's RFC 6962 PATH."""
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def test_merkle_tree_matches_rfc_9162() -> None:
    tree = MerkleTree()
    leaves = [b"leaf %d" % i for i in range(33)]
    for data in leaves:
        tree.append(data)
    hashed = [leaf_hash(d) for d in leaves]
    assert MerkleTree().root() == hashlib.sha256(b"").digest()
    assert tree.root(1) == hashed[0]
    assert tree.root(3) == node_hash(node_hash(hashed[0], hashed[1]), hashed[2])
    for size in range(1, 34):
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert verify_inclusion(index, size, hashed[index], proof, tree.root(size))
            assert not verify_inclusion(index, size, hashed[index], proof, tree.root(size - 1))


def test_client_trust_config_shape(sigstore_stand_in: SigstoreStandIn, tmp_path: Path) -> None:
    path = sigstore_stand_in.write_trust_config(tmp_path / "trust.json")
    config = json.loads(path.read_text())
    assert config["mediaType"] == "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
    signing = config["signingConfig"]
    for key in ("caUrls", "oidcUrls", "rekorTlogUrls"):
        assert [s["url"] for s in signing[key]] == [sigstore_stand_in.url]
    assert signing["tsaUrls"] == []
    root = config["trustedRoot"]
    assert len(root["tlogs"]) == len(root["ctlogs"]) == len(root["certificateAuthorities"]) == 1
    assert len(root["certificateAuthorities"][0]["certChain"]["certificates"]) == 2
    parsed = ClientTrustConfig.from_json(path.read_text())
    assert parsed.signing_config.get_oidc_url() == sigstore_stand_in.issuer


# --- sigstore-js: an independent verifier (and signer) ---------------------------------------


def test_sigstore_js_accepts_the_python_bundle(
    signed: Signed, sigstore_stand_in: SigstoreStandIn, sigstore_trusted_root: Path
) -> None:
    ok, output = verify_with_sigstore_js(
        signed.path, sigstore_trusted_root, identity=EMAIL, issuer=sigstore_stand_in.issuer
    )
    assert ok, output
    assert f"signed by {EMAIL}" in output


def test_sigstore_js_rejects_the_negatives(
    signed: Signed, sigstore_stand_in: SigstoreStandIn, sigstore_trusted_root: Path,
    tmp_path: Path,
) -> None:
    issuer = sigstore_stand_in.issuer
    tampered = tmp_path / "tampered.json"
    tampered.write_text(edit_bundle(signed.bundle, tamper_payload).to_json())
    with SigstoreStandIn() as other:
        other_root = other.write_trusted_root(tmp_path / "other_root.json")
    cases = {
        "wrong identity": (signed.path, sigstore_trusted_root, "x" + EMAIL, issuer),
        "identity prefix": (signed.path, sigstore_trusted_root, EMAIL[:-1], issuer),
        "wrong issuer": (signed.path, sigstore_trusted_root, EMAIL, issuer + "/other"),
        "tampered payload": (tampered, sigstore_trusted_root, EMAIL, issuer),
        "other trust root": (signed.path, other_root, EMAIL, issuer),
        "no identity": (signed.path, sigstore_trusted_root, None, None),
    }
    with ThreadPoolExecutor() as pool:  # one Node process per case: run them side by side
        results = pool.map(lambda case: verify_with_sigstore_js(*case), cases.values())
    for name, (ok, output) in zip(cases, results, strict=True):
        assert not ok, f"{name}: {output}"
        assert "FAIL" in output


def test_sigstore_js_accepts_a_github_workflow_bundle(
    sigstore_stand_in: SigstoreStandIn,
    trust_config: ClientTrustConfig,
    sigstore_trusted_root: Path,
    tmp_path: Path,
) -> None:
    (bundle,) = sign(trust_config, sigstore_stand_in.issue_github_token(), statement())
    path = tmp_path / "github.sigstore.json"
    path.write_text(bundle.to_json())
    ok, output = verify_with_sigstore_js(
        path, sigstore_trusted_root, sigstore_stand_in.github_identity(), sigstore_stand_in.issuer
    )
    assert ok, output


def test_sigstore_js_signs_against_the_stand_in(
    sigstore_stand_in: SigstoreStandIn,
    sigstore_trust_config: Path,
    sigstore_trusted_root: Path,
    verifier: Verifier,
    tmp_path: Path,
) -> None:
    """sigstore-js's own Fulcio request (publicKeyRequest) and Rekor dsse entry are accepted."""
    payload = tmp_path / "statement.json"
    payload.write_bytes(statement())
    out = tmp_path / "js.sigstore.json"
    token = sigstore_stand_in.issue_token(email=EMAIL)
    ok, output = sign_with_sigstore_js(sigstore_trust_config, token, payload, out)
    assert ok, output
    bundle = Bundle.from_json(out.read_text())
    assert verifier.verify_dsse(bundle, email_policy(sigstore_stand_in)) == (INTOTO, statement())
    ok, output = verify_with_sigstore_js(
        out, sigstore_trusted_root, EMAIL, sigstore_stand_in.issuer
    )
    assert ok, output


def key_signed_bundle(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """A v0.3 DSSE bundle with a public-key hint, no certificate and no log entry."""
    signature = key.sign(dsse_pae(INTOTO, statement()), ec.ECDSA(hashes.SHA256()))
    return {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "test-key"}, "tlogEntries": []},
        "dsseEnvelope": {
            "payload": base64.b64encode(statement()).decode(),
            "payloadType": INTOTO,
            "signatures": [{"sig": base64.b64encode(signature).decode(), "keyid": ""}],
        },
    }


def test_sigstore_js_checks_key_signed_bundles(tmp_path: Path) -> None:
    key, wrong = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    bundle = tmp_path / "key.sigstore.json"
    bundle.write_text(json.dumps(key_signed_bundle(key)))
    pems = {}
    for name, k in (("right", key), ("wrong", wrong)):
        pems[name] = tmp_path / f"{name}.pub"
        pems[name].write_bytes(
            k.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    ok, output = verify_with_sigstore_js(bundle, None, public_key=pems["right"])
    assert ok, output
    ok, output = verify_with_sigstore_js(bundle, None, public_key=pems["wrong"])
    assert not ok and "FAIL" in output
    ok, output = verify_with_sigstore_js(bundle, None, identity=EMAIL, issuer="x")
    assert not ok and "--public-key" in output


# --- frozen regression fixtures -----------------------------------------------------------


def test_frozen_bundle_still_verifies_offline() -> None:
    expected = json.loads((FROZEN / "expected.json").read_text())
    verifier = Verifier(trusted_root=TrustedRoot.from_file(str(FROZEN / "trusted_root.json")))
    bundle = Bundle.from_json((FROZEN / "bundle.sigstore.json").read_text())
    wanted = policy.Identity(identity=expected["identity"], issuer=expected["issuer"])
    payload_type, payload = verifier.verify_dsse(bundle, wanted)
    assert (payload_type, payload) == (INTOTO, (FROZEN / "statement.json").read_bytes())
    with pytest.raises(VerificationError):
        verifier.verify_dsse(
            bundle, policy.Identity(identity="x" + expected["identity"], issuer=expected["issuer"])
        )


def test_frozen_bundle_still_verifies_with_sigstore_js() -> None:
    expected = json.loads((FROZEN / "expected.json").read_text())
    ok, output = verify_with_sigstore_js(
        FROZEN / "bundle.sigstore.json",
        FROZEN / "trusted_root.json",
        identity=expected["identity"],
        issuer=expected["issuer"],
    )
    assert ok, output
