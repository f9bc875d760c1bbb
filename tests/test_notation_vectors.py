"""Every notation-go vector (testdata/vectors/notation/index.json) gives its expected outcome.

The vectors are real envelopes made by notation-go with the outcome notation-go's own tests
expect; the trust policy and trust store of each case come from the index. ``verifyAt`` fixes the
verification time (notation-go uses the wall clock). Revocation: the GlobalSign TSA chains name
OCSP/CRL endpoints that cannot be reached here, so the timestamp cases run with unknown
revocation logged (``unknown_revocation="log"``); a separate test shows strict refuses them by
default.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from attest.errors import InputError, VerificationError
from attest.verify.notation import verifier as nv
from attest.verify.notation.trustpolicy import identity_matches, parse_trust_policy
from attest.verify.notation.truststore import TrustStore

VECTORS = Path(__file__).resolve().parent.parent / "testdata" / "vectors" / "notation"
INDEX = json.loads((VECTORS / "index.json").read_text())
DEFAULT_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _time(text: str | None) -> datetime:
    if text is None:
        return DEFAULT_NOW
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _settings(case: dict[str, Any], **kw: Any) -> nv.NotationSettings:
    return nv.NotationSettings(
        parse_trust_policy(case["trustPolicy"]),
        TrustStore(VECTORS / "truststore"),
        now=_time(case["verifyAt"]),
        **kw,
    )


def _repository(case: dict[str, Any]) -> str | None:
    ref = case["artifactReference"]
    return ref.split("@", 1)[0] if ref else None


FULL = [c for c in INDEX if c["scope"] == "full"]
TIMESTAMP_ONLY = [c for c in INDEX if c["scope"] == "authenticTimestamp"]
INTEGRITY = [c for c in INDEX if c["scope"] == "integrity"]


def test_every_vector_is_covered() -> None:
    assert len(FULL) + len(TIMESTAMP_ONLY) + len(INTEGRITY) == len(INDEX) >= 38


@pytest.mark.parametrize("case", FULL, ids=[c["id"] for c in FULL])
def test_full_verification(case: dict[str, Any]) -> None:
    data = (VECTORS / case["file"]).read_bytes()
    settings = _settings(case, unknown_revocation="log" if case["hasTimestamp"] else "fail")
    out = nv.verify_envelope(data, case["mediaType"], settings, repository=_repository(case),
                             subject=case["targetArtifact"])  # fmt: skip
    if case["expect"] == "valid":
        assert out.passed, out.failure
        return
    assert not out.passed
    step = {"trustedIdentity": "authenticity"}.get(case["failsAt"], case["failsAt"])
    assert out.failed_step == step, out.failure
    assert out.failure


def test_timestamp_cases_fail_strict_offline_by_default() -> None:
    case = next(c for c in INDEX if c["id"] == "jws-timestamp-valid")
    data = (VECTORS / case["file"]).read_bytes()
    out = nv.verify_envelope(data, case["mediaType"], _settings(case), repository=None,
                             subject=case["targetArtifact"])  # fmt: skip
    assert not out.passed and out.failed_step == "revocation"
    assert "revocation status unknown" in (out.failure or "")
    assert "TSA" in (out.failure or "")


@pytest.mark.parametrize("case", TIMESTAMP_ONLY, ids=[c["id"] for c in TIMESTAMP_ONLY])
def test_authentic_timestamp_step(case: dict[str, Any]) -> None:
    data = (VECTORS / case["file"]).read_bytes()
    env, certs = nv.check_integrity(data, case["mediaType"])
    policy = parse_trust_policy(case["trustPolicy"]).select(_repository(case))
    store = TrustStore(VECTORS / "truststore")
    if case["expect"] == "valid":
        nv.check_authentic_timestamp(env, certs, policy, store, _time(case["verifyAt"]))
    else:
        with pytest.raises(VerificationError):
            nv.check_authentic_timestamp(env, certs, policy, store, _time(case["verifyAt"]))


@pytest.mark.parametrize("case", INTEGRITY, ids=[c["id"] for c in INTEGRITY])
def test_integrity_and_trusting_the_signer_itself(case: dict[str, Any], tmp_path: Path) -> None:
    data = (VECTORS / case["file"]).read_bytes()
    env, certs = nv.check_integrity(data, case["mediaType"])
    assert certs[0].subject.rfc4514_string() == case["signer"]["subject"]
    # full verification passes when the self-signed signer is the trust anchor
    store = tmp_path / "x509" / "ca" / "alpine"
    store.mkdir(parents=True)
    (store / "alpine.der").write_bytes(env.chain[0])
    policy = {"version": "1.0", "trustPolicies": [{
        "name": "alpine", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:alpine"],
        "trustedIdentities": ["x509.subject: C=US, ST=WA, O=Notary, CN=alpine"]}]}  # fmt: skip
    settings = nv.NotationSettings(parse_trust_policy(policy), TrustStore(tmp_path),
                                   now=DEFAULT_NOW)
    out = nv.verify_envelope(data, case["mediaType"], settings, repository=None,
                             subject=case["targetArtifact"])  # fmt: skip
    assert out.passed, out.failure
    assert out.subject == "CN=alpine,O=Notary,L=Seattle,ST=WA,C=US"
    wrong = dict(case["targetArtifact"], size=case["targetArtifact"]["size"] + 1)
    out = nv.verify_envelope(data, case["mediaType"], settings, repository=None, subject=wrong)
    assert out.failed_step == "target" and "wrong target" in (out.failure or "")


TRUSTED_IDENTITIES = json.loads((VECTORS / "trusted-identities.json").read_text())


@pytest.mark.parametrize("case", TRUSTED_IDENTITIES["cases"])
def test_trusted_identities(case: dict[str, Any]) -> None:
    from cryptography import x509

    cert = x509.load_pem_x509_certificate((VECTORS / case["cert"]).read_bytes())
    dn = cert.subject.rfc4514_string()
    if case["expect"] == "error":
        with pytest.raises(InputError):
            identity_matches(case["trustedIdentities"], dn)
    else:
        assert identity_matches(case["trustedIdentities"], dn) is (case["expect"] == "match")


LOADING = json.loads((VECTORS / "truststore-loading.json").read_text())["stores"]


@pytest.mark.parametrize("case", LOADING, ids=[c["store"] for c in LOADING])
def test_trust_store_loading(case: dict[str, Any], tmp_path: Path) -> None:
    store = TrustStore(VECTORS / "truststore")
    if case["expect"] == "loads":
        assert len(store.certificates(case["store"])) == case["certificates"]
    else:
        with pytest.raises(InputError):
            store.certificates(case["store"])


def test_trust_store_refuses_links_and_subdirectories(tmp_path: Path) -> None:
    good = VECTORS / "truststore/x509/ca/valid-trust-store/NotationTestRoot.pem"
    (tmp_path / "x509/ca/linked").mkdir(parents=True)
    (tmp_path / "x509/ca/linked/root.pem").symlink_to(good)
    (tmp_path / "x509/ca/nested/sub").mkdir(parents=True)
    shutil.copy(good, tmp_path / "x509/ca/nested/root.pem")
    store = TrustStore(tmp_path)
    for name in ("ca:linked", "ca:nested", "ca:absent", "ca:../ca"):
        with pytest.raises(InputError):
            store.certificates(name)


def test_mutated_envelopes_never_crash() -> None:
    """Hostile input is the normal case: byte-flipped envelopes (signature, chain, timestamp
    token, CBOR/JSON structure) end as a refusal, never an exception."""
    import random

    rnd = random.Random(17)
    for case_id in ("jws-timestamp-valid", "cose-timestamp-valid"):
        case = next(c for c in INDEX if c["id"] == case_id)
        data = (VECTORS / case["file"]).read_bytes()
        settings = _settings(case, unknown_revocation="log")
        for _ in range(300):
            mutated = bytearray(data)
            for _ in range(rnd.randint(1, 3)):
                mutated[rnd.randrange(len(mutated))] = rnd.randrange(256)
            out = nv.verify_envelope(bytes(mutated), case["mediaType"], settings,
                                     repository=None, subject=case["targetArtifact"])  # fmt: skip
            assert out.passed or out.failure is None or out.failed_step


@pytest.mark.parametrize("envelope, media_type, cause", [
    (b"[" * 100_000 + b"]" * 100_000, "application/jose+json", "not JSON"),
    (b'{"payload":"","payload":"","protected":"","header":{},"signature":""}',
     "application/jose+json", "duplicate member"),
    (b"\xd2" + b"\x81" * 5000 + b"\x00", "application/cose", "not valid CBOR"),
    (b"\xd2\x84" + b"\x5a\xff\xff\xff\xff", "application/cose", "not valid CBOR"),
    (b"x" * (1024 * 1024 + 1), "application/cose", "too large"),
])  # fmt: skip
def test_hostile_envelopes_are_refused(envelope: bytes, media_type: str, cause: str) -> None:
    case = next(c for c in INDEX if c["id"] == "ca-valid")
    out = nv.verify_envelope(envelope, media_type, _settings(case),
                             repository=_repository(case), subject=None)  # fmt: skip
    assert out.failed_step == "integrity" and cause in (out.failure or ""), out.failure


def _any_cert_der() -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    pem = (VECTORS / "truststore/x509/ca/valid-trust-store/NotationTestRoot.pem").read_bytes()
    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


def test_encoding_conformance_headers_decode_as_notation_core_go_wrote_them() -> None:
    """notation-core-go's encoding vectors (no usable signature; see encoding-conformance.json)
    decode to the inputs they were made from; the extended critical attribute is flagged."""
    import base64

    import cbor2

    from attest.verify.notation.envelope import unknown_critical
    from attest.verify.notation.envelope_cose import parse_cose
    from attest.verify.notation.envelope_jws import parse_jws

    doc = json.loads((VECTORS / "encoding/jws/conformance.json").read_text())
    doc["header"]["x5c"] = [base64.b64encode(_any_cert_der()).decode()]
    env = parse_jws(json.dumps(doc).encode())
    assert (env.alg, env.signing_scheme) == ("ES256", "notary.x509")
    assert env.signing_time == datetime(2022, 8, 29, 13, 50, tzinfo=timezone.utc)
    assert env.expiry == datetime(2099, 8, 30, 13, 50, tzinfo=timezone.utc)
    assert env.payload == b'{"key":"hello JWS"}'
    assert unknown_critical(env) == ["signedCritKey1"]

    cose = json.loads((VECTORS / "encoding/cose/conformance.json").read_text())
    tagged = cbor2.loads(bytes.fromhex(cose["expectedOutput"]["cborHex"]))
    protected, unprotected, payload, signature = tagged.value
    data = cbor2.dumps(cbor2.CBORTag(18, [protected, {**unprotected, 33: [_any_cert_der()]},
                                          payload, signature]))  # fmt: skip
    env = parse_cose(data)
    assert (env.alg, env.signing_scheme, env.payload) == ("PS384", "notary.x509", b"hello COSE")
    assert int(env.signing_time.timestamp()) == cose["signingTime"]  # type: ignore[union-attr]
    assert int(env.expiry.timestamp()) == cose["expiry"]  # type: ignore[union-attr]
    assert env.signing_agent == "NotationConformanceTest/1.0.0"
    assert unknown_critical(env) == ["signedCritKey1"]


SPEC_POLICIES = sorted((VECTORS / "trustpolicy/spec-examples").glob("oci-*.jsonc"))


@pytest.mark.parametrize("path", SPEC_POLICIES, ids=[p.name for p in SPEC_POLICIES])
def test_specification_trust_policy_examples_parse(path: Path) -> None:
    import re

    text = re.sub(r"(^|\s)//.*$", r"\1", path.read_text(), flags=re.M)  # JSONC comments
    doc = parse_trust_policy(json.loads(text))
    assert doc.policies and all(p.level in ("strict", "permissive", "audit", "skip")
                                for p in doc.policies)  # fmt: skip


def _doc(**entry: Any) -> dict[str, Any]:
    base = {"name": "p", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:s"], "trustedIdentities": ["*"]}  # fmt: skip
    return {"version": "1.0", "trustPolicies": [{**base, **entry}]}


@pytest.mark.parametrize("doc, cause", [
    (_doc(trustedIdentities=["x509.subject"]), "lacks a type prefix"),
    (_doc(trustedIdentities=["x509.subject:"]), "empty value"),
    (_doc(trustedIdentities=["x509.subject: CN=x, O=y"]), "needs at least C, ST and O"),
    (_doc(trustedIdentities=["x509.subject: C=US, ST=WA, O="]), "needs at least C, ST and O"),
    (_doc(trustedIdentities=["*", "x509.subject: C=US, ST=WA, O=x"]), "must be the only"),
    (_doc(registryScopes=["*", "r.example/a"]), "must be the only scope"),
    (_doc(registryScopes=["r.example/a:v1"]), "not a fully qualified repository"),
    (_doc(signatureVerification={"level": "lenient"}), "level must be one of"),
    (_doc(signatureVerification={"level": "strict", "override": {"integrity": "log"}}),
     "override integrity"),
    (_doc(signatureVerification={"level": "strict", "override": {"authenticity": "skip"}}),
     "override authenticity"),
    (_doc(trustStores=["x509:s"]), "not type:name"),
    (_doc(trustStores=[]), "trustStores is empty"),
    ({"version": "1.0", "trustPolicies": [_doc()["trustPolicies"][0],
                                          {**_doc()["trustPolicies"][0], "name": "q"}]},
     "is in two policies"),
    ({"version": "2.0", "trustPolicies": []}, '"version" must be "1.0"'),
])  # fmt: skip
def test_invalid_trust_policies(doc: dict[str, Any], cause: str) -> None:
    with pytest.raises(InputError) as err:
        parse_trust_policy(doc)
    assert cause in err.value.message


def test_policy_selection_exact_scope_wins() -> None:
    one = _doc(name="one", registryScopes=["r.example/team/model"])["trustPolicies"][0]
    doc = parse_trust_policy({"version": "1.0",
                              "trustPolicies": [_doc(name="all")["trustPolicies"][0], one]})
    assert doc.select("r.example/team/model").name == "one"
    assert doc.select("r.example/team/other").name == "all"
    assert doc.select(None).name == "all"


def test_timestamp_of_another_signature_is_refused() -> None:
    """The countersignature lives in the unprotected header: one moved over from another
    envelope covers other signature bytes and must not vouch for this one."""
    case = next(c for c in INDEX if c["id"] == "jws-timestamp-valid")
    donor = json.loads((VECTORS / "envelopes/timestamp/jwsExpiredWithTimestamp.sig").read_text())
    doc = json.loads((VECTORS / case["file"]).read_text())
    key = "io.cncf.notary.timestampSignature"
    doc["header"][key] = donor["header"][key]
    out = nv.verify_envelope(json.dumps(doc).encode(), case["mediaType"],
                             _settings(case, unknown_revocation="log"), repository=None,
                             subject=case["targetArtifact"])  # fmt: skip
    assert out.failed_step == "authenticTimestamp"
    assert "does not verify" in (out.failure or "")


def test_distinguished_names() -> None:
    from attest.verify.notation.trustpolicy import parse_dn

    assert parse_dn(r"CN=Acme\, Inc.+UID=7, O=x\2Cy\C3\A9, S=WA, C=US") == {
        "CN": "Acme, Inc.", "UID": "7", "O": "x,yé", "ST": "WA", "C": "US"}  # fmt: skip
    for bad in ("CN=a=b", "CN=a, CN=b", "O=x\\", "noequals", "#=x", "CN=#0101"):
        with pytest.raises(InputError):
            parse_dn(bad)
    assert identity_matches(["x509.subject: C=US, S=WA, O=Acme\\, Inc."],
                            "CN=r,O=Acme\\, Inc.,ST=WA,C=US")  # fmt: skip
    assert not identity_matches(["x509.subject: C=US, ST=WA, O=Acme"],
                                "CN=r,O=Acme\\, Inc.,ST=WA,C=US")  # fmt: skip
