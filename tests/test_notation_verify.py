"""`attest verify` with notation signatures attached as OCI referrers, end to end.

Upstream notation-go envelopes verify on the manifest they sign (the alpine layout of the
vectors); signatures made by tests/notation_fixtures.py verify on a packed model in an OCI layout
and in the real docker-registry; every refusal exits 1 naming its cause.
"""

from __future__ import annotations

import io
import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from attest.oci import mediatypes as mt
from attest.oci.reference import parse_reference
from attest.oci.referrers import Blob, attach, push_referrer_manifest
from attest.oci.store import Descriptor, Store
from attest.oci.stores import open_store
from tests import notation_fixtures as nf
from tests.helpers import REPO_ROOT
from tests.test_verify import invoke

VECTORS = REPO_ROOT / "testdata" / "vectors" / "notation"
MODEL = REPO_ROOT / "testdata" / "models" / "tiny-llm"


@pytest.fixture(scope="module")
def pki() -> dict[str, Any]:
    ca = nf.make_ca()
    other_ca = nf.make_ca("Someone Else")
    return {
        "ca": ca,
        "ec": nf.make_signer(ca),
        "rsa": nf.make_signer(ca, rsa_bits=3072),
        "stranger": nf.make_signer(other_ca),
        "expired": nf.make_signer(ca, not_before=nf.NOW - timedelta(days=400),
                                  not_after=nf.NOW - timedelta(days=35)),  # fmt: skip
    }


@pytest.fixture
def trust(tmp_path: Path, pki: dict[str, Any]) -> tuple[Path, Path]:
    store = nf.write_trust_store(tmp_path / "truststore", "test", [pki["ca"][1]])
    return nf.write_policy(tmp_path / "trustpolicy.json"), store


def notation_args(policy: Path, store: Path) -> list[str]:
    return ["--notation-trust-policy", str(policy), "--notation-trust-store", str(store)]


def attach_signature(store: Store, subject: Descriptor, envelope: bytes, media_type: str,
                     *, legacy: bool = False, thumbprints: str = "[]") -> Descriptor:
    """Push ``envelope`` as a notation signature referrer (preferred or legacy form)."""
    notes = {mt.ANNOTATION_NOTATION_THUMBPRINTS: thumbprints}
    blob = Blob(Descriptor.for_bytes(media_type, envelope), envelope)
    if not legacy:
        return attach(store, subject, mt.NOTATION_SIGNATURE, [blob], notes)
    store.push_blob(blob.descriptor, io.BytesIO(envelope))
    config = Descriptor.for_bytes(mt.NOTATION_SIGNATURE, b"{}")
    store.push_blob(config, io.BytesIO(b"{}"))
    manifest = {  # notation before OCI 1.1 artifactType: the type rides on config.mediaType
        "schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "config": config.to_dict(),
        "layers": [blob.descriptor.to_dict()],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest,
                    "size": subject.size},
        "annotations": notes,
    }  # fmt: skip
    return push_referrer_manifest(store, json.dumps(manifest).encode(), mt.OCI_MANIFEST)


def target_of(subject: Descriptor) -> dict[str, Any]:
    return {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size}


def packed_model(ref: str, capsys: pytest.CaptureFixture[str]) -> tuple[Store, Descriptor, str]:
    code, out, err = invoke("pack", str(MODEL), "--to", ref, capsys=capsys)
    assert code == 0, err
    reference = parse_reference(ref)
    store = open_store(reference)
    subject = store.get_manifest(reference.target or "latest").descriptor
    return store, subject, str(reference.with_digest(subject.digest))


# -- upstream notation-go signatures --------------------------------------------------------


def test_notation_go_signatures_verify_as_referrers(tmp_path: Path, capsys) -> None:
    """The JWS and COSE envelopes notation-go made over the vectors' layout manifest, attached
    as referrers (the JWS one byte-for-byte as notation-go pushes it), verify under a notation
    trust policy whose trust store holds their self-signed signer."""
    layout = tmp_path / "alpine"
    shutil.copytree(VECTORS / "oci-layout", layout)
    case = next(c for c in json.loads((VECTORS / "index.json").read_text())
                if c["id"] == "jws-oci-layout-integrity")  # fmt: skip
    ref = parse_reference(f"oci:{layout}@{case['targetArtifact']['digest']}")
    store = open_store(ref)
    subject = store.get_manifest(ref.target or "").descriptor
    jws = (VECTORS / "envelopes" / "jws_signature.sig").read_bytes()
    store.push_blob(Descriptor(mt.OCI_EMPTY, mt.EMPTY_DIGEST, 2), io.BytesIO(mt.EMPTY_JSON))
    store.push_blob(Descriptor.for_bytes(mt.NOTATION_JWS, jws), io.BytesIO(jws))
    manifest = case["signatureManifest"]
    pushed = push_referrer_manifest(store, manifest["json"].encode(), mt.OCI_MANIFEST)
    assert pushed.digest == manifest["digest"]
    cose = (VECTORS / "envelopes" / "cose_signature.sig").read_bytes()
    attach_signature(store, subject, cose, mt.NOTATION_COSE, legacy=True)

    from cryptography import x509

    signer = x509.load_der_x509_certificate(
        __import__("base64").b64decode(json.loads(jws)["header"]["x5c"][0]))
    trust = nf.write_trust_store(tmp_path / "ts", "notary", [signer])
    policy = nf.write_policy(tmp_path / "tp.json", store="ca:notary",
                             identities=["x509.subject: C=US, ST=WA, O=Notary, CN=alpine"])
    code, out, err = invoke("verify", str(ref), *notation_args(policy, trust), "--format", "json",
                            capsys=capsys)  # fmt: skip
    assert code == 0, err
    sigs = [s for r in json.loads(out)["referrers"] for s in r["signatures"]]
    assert len(sigs) == 2
    for sig in sigs:
        assert sig["verified"] and sig["format"] == "notation"
        assert sig["identity"]["subject"] == "CN=alpine,O=Notary,L=Seattle,ST=WA,C=US"
        assert sig["notation"]["level"] == "strict"
    assert {s["notation"]["envelope"] for s in sigs} == {mt.NOTATION_JWS, mt.NOTATION_COSE}

    other = nf.write_policy(tmp_path / "other.json", store="ca:notary",
                            identities=["x509.subject: C=US, ST=WA, O=Wabbit Networks"])
    code, _, err = invoke("verify", str(ref), *notation_args(other, trust), capsys=capsys)
    assert code == 1 and "identity mismatch" in err


# -- our own signatures on a packed model ---------------------------------------------------


@pytest.fixture(params=["layout", "registry"])
def model_ref(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "registry":
        return f"{request.getfixturevalue('registry').ref}:v1"
    return f"oci:{tmp_path}/lay:v1"


def test_model_signed_jws_and_cose_verifies(model_ref, pki, trust, capsys) -> None:
    store, subject, ref = packed_model(model_ref, capsys)
    attach_signature(store, subject, nf.jws(pki["ec"], target_of(subject)), mt.NOTATION_JWS,
                     thumbprints=nf.thumbprints(pki["ec"]))  # fmt: skip
    attach_signature(store, subject, nf.cose(pki["rsa"], target_of(subject)), mt.NOTATION_COSE,
                     legacy=True)  # fmt: skip
    code, out, err = invoke("verify", ref, *notation_args(*trust), capsys=capsys)
    assert code == 0, err
    assert out.count("notation CN=model-signer,O=Attest Test,L=Seattle,ST=WA,C=US (strict)") == 2
    # the policy's scope may name the repository exactly (registry references only)
    if not model_ref.startswith("oci:"):
        reference = parse_reference(model_ref)
        scoped_scope = [f"{reference.registry}/{reference.repository}"]
        scoped = nf.write_policy(trust[0].parent / "scoped.json", scopes=scoped_scope)
        code, _, err = invoke("verify", ref, *notation_args(scoped, trust[1]), capsys=capsys)
        assert code == 0, err
        elsewhere = nf.write_policy(trust[0].parent / "elsewhere.json",
                                    scopes=["registry.example/other/repo"])
        code, _, err = invoke("verify", ref, *notation_args(elsewhere, trust[1]), capsys=capsys)
        assert code == 1 and "no notation trust policy applies" in err
        skip = trust[0].parent / "skip.json"
        doc = json.loads(nf.write_policy(skip).read_text())
        doc["trustPolicies"].append({"name": "unsigned", "registryScopes": scoped_scope,
                                     "signatureVerification": {"level": "skip"}})
        skip.write_text(json.dumps(doc))
        code, out, err = invoke("verify", ref, *notation_args(skip, trust[1]), capsys=capsys)
        assert code == 1 and "no verified signature" in err
        assert "· application/vnd.cncf.notary.signature" in out and "skipped by trust" in out


REFUSALS = {
    "tampered payload": ("tampered", "integrity: the envelope signature does not verify"),
    "wrong target": ("wrong-target", "notation target: wrong target"),
    "untrusted root": ("stranger", "untrusted signer"),
    "expired certificate, no timestamp": ("expired", "expired at"),
    "identity mismatch": ("identity", "identity mismatch"),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_refusals_name_their_cause(case: str, tmp_path, pki, trust, capsys) -> None:
    store, subject, ref = packed_model(f"oci:{tmp_path}/lay:v1", capsys)
    kind, message = REFUSALS[case]
    good = target_of(subject)
    other = dict(good, digest="sha256:" + "ab" * 32)
    policy, trust_store = trust
    envelope = {
        "tampered": lambda: nf.tamper_jws(nf.jws(pki["ec"], other), good),
        "wrong-target": lambda: nf.jws(pki["ec"], other),
        "stranger": lambda: nf.jws(pki["stranger"], good),
        "expired": lambda: nf.jws(pki["expired"], good,
                                  signing_time=nf.NOW - timedelta(days=100)),
        "identity": lambda: nf.jws(pki["ec"], good),
    }[kind]()
    if kind == "identity":
        policy = nf.write_policy(tmp_path / "p.json",
                                 identities=["x509.subject: C=US, ST=WA, O=Attest Test, CN=x"])
    attach_signature(store, subject, envelope, mt.NOTATION_JWS)
    code, out, err = invoke("verify", ref, *notation_args(policy, trust_store), capsys=capsys)
    assert code == 1, err
    assert message in err, err
    assert "notation" in out  # the report lists the signature and why it failed


def test_without_notation_settings_a_signature_is_not_trusted(
    tmp_path, pki, trust, capsys, monkeypatch
) -> None:
    store, subject, ref = packed_model(f"oci:{tmp_path}/lay:v1", capsys)
    attach_signature(store, subject, nf.jws(pki["ec"], target_of(subject)), mt.NOTATION_JWS)
    code, _, err = invoke("verify", ref, capsys=capsys)
    assert code == 1 and "--notation-trust-policy" in err
    monkeypatch.setenv("ATTEST_NOTATION_TRUST_POLICY", str(trust[0]))
    monkeypatch.setenv("ATTEST_NOTATION_TRUST_STORE", str(trust[1]))
    code, _, err = invoke("verify", ref, capsys=capsys)
    assert code == 0, err


def test_audit_level_logs_but_does_not_vouch(tmp_path, pki, trust, capsys) -> None:
    store, subject, ref = packed_model(f"oci:{tmp_path}/lay:v1", capsys)
    attach_signature(store, subject, nf.jws(pki["stranger"], target_of(subject)), mt.NOTATION_JWS)
    audit = nf.write_policy(tmp_path / "audit.json", level="audit")
    code, out, err = invoke("verify", ref, *notation_args(audit, trust[1]), "--format", "json",
                            capsys=capsys)  # fmt: skip
    assert code == 1 and "no verified signature" in err
    sig = json.loads(out)["referrers"][0]["signatures"][0]
    assert sig["verified"] is False and sig["notation"]["authentic"] is False
    assert any("untrusted signer" in m for m in sig["notation"]["logged"])


def test_bad_trust_policy_is_a_usage_error(tmp_path, trust, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": "1.0", "trustPolicies": [{
        "name": "x", "registryScopes": ["*"], "signatureVerification": {"level": "skip"}}]}))
    code, _, err = invoke("verify", "oci:/nonexistent:v1", *notation_args(bad, trust[1]),
                          capsys=capsys)  # fmt: skip
    assert code == 2 and "skip cannot apply to every repository" in err


def test_rego_policy_requires_a_notation_identity(tmp_path, pki, trust, capsys) -> None:
    """The built-in policy library judges notation signatures by subject DN."""
    store, subject, ref = packed_model(f"oci:{tmp_path}/lay:v1", capsys)
    attach_signature(store, subject, nf.jws(pki["ec"], target_of(subject)), mt.NOTATION_JWS)

    def params(allowed: list[Any]) -> Path:
        path = tmp_path / "params.json"
        path.write_text(json.dumps({"signatures": {"require_any": False},
                                    "notation": {"required": True, "allowed": allowed}}))
        return path

    ok = params(["x509.subject: C=US, ST=WA, O=Attest Test, CN=model-signer"])
    code, out, err = invoke("verify", ref, *notation_args(*trust), "--params", str(ok),
                            capsys=capsys)  # fmt: skip
    assert code == 0, err
    wrong = params([{"C": "US", "ST": "WA", "O": "Wabbit Networks"}])
    code, out, err = invoke("verify", ref, *notation_args(*trust), "--params", str(wrong),
                            capsys=capsys)  # fmt: skip
    assert code == 1 and "NOTATION_UNTRUSTED" in err


def test_missing_trust_store_is_a_usage_error(tmp_path, trust, capsys) -> None:
    policy = nf.write_policy(tmp_path / "p.json", store="ca:absent")
    code, _, err = invoke("verify", "oci:/nonexistent:v1", *notation_args(policy, trust[1]),
                          capsys=capsys)  # fmt: skip
    assert code == 2 and "trust store absent of type ca does not exist" in err


def test_offline_revocation_with_supplied_crls(tmp_path, pki, trust, capsys) -> None:
    """A signer that names a CRL distribution point: unknown without a CRL (strict refuses),
    good with a current CRL of its CA, refused when that CRL lists it or is stale."""
    signer = nf.make_signer(pki["ca"], crl_url="http://crl.example.invalid/ca.crl")
    store, subject, ref = packed_model(f"oci:{tmp_path}/lay:v1", capsys)
    attach_signature(store, subject, nf.jws(signer, target_of(subject)), mt.NOTATION_JWS)

    def run(crl: bytes | None, *extra: str) -> tuple[int, str, str]:
        args = list(extra)
        if crl is not None:
            crl_dir = tmp_path / f"crls-{len(list(tmp_path.iterdir()))}"
            crl_dir.mkdir()
            (crl_dir / "ca.crl").write_bytes(crl)
            args += ["--notation-crl", str(crl_dir)]
        return invoke("verify", ref, *notation_args(*trust), "--format", "json", *args,
                      capsys=capsys)  # fmt: skip

    code, out, err = run(None)
    assert code == 1 and "revocation status unknown" in err and "--notation-crl" in err
    code, out, err = run(None, "--notation-unknown-revocation", "log")
    assert code == 0, err
    assert json.loads(out)["referrers"][0]["signatures"][0]["notation"]["revocation"] == \
        "unknown (offline)"  # fmt: skip
    code, out, err = run(nf.make_crl(pki["ca"], []))
    assert code == 0, err
    assert json.loads(out)["referrers"][0]["signatures"][0]["notation"]["revocation"] == \
        "good (CRL)"  # fmt: skip
    code, out, err = run(nf.make_crl(pki["ca"], [signer.chain[0]]))
    assert code == 1 and "notation revocation:" in err and "is revoked" in err
    # revoked is refused even when unknown status would only be logged
    code, out, err = run(nf.make_crl(pki["ca"], [signer.chain[0]]),
                         "--notation-unknown-revocation", "log")  # fmt: skip
    assert code == 1 and "is revoked" in err
    stale = nf.make_crl(pki["ca"], [], this_update=nf.NOW - timedelta(days=30),
                        next_update=nf.NOW - timedelta(days=1))  # fmt: skip
    code, out, err = run(stale)
    assert code == 1 and "no current CRL" in err
    forged = nf.make_crl(nf.make_ca(), [])  # same shape, signed by another key
    code, out, err = run(forged)
    assert code == 1 and "revocation status unknown" in err


def test_admission_provider_takes_the_notation_settings(
    registry, provider_tls, pki, trust, tmp_path, capsys
) -> None:
    """`attest serve` (in process, mTLS, real docker-registry): a model signed with notation by
    a trusted signer is allowed under a policy requiring notation; a stranger's is not."""
    from attest.verify.notation.referrer import NotationConfig
    from tests.admission_fixtures import ProviderOptions, start_provider

    refs = {}
    for name, signer in (("trusted", pki["ec"]), ("stranger", pki["stranger"])):
        store, subject, ref = packed_model(f"{registry.ref}-{name}:v1", capsys)
        attach_signature(store, subject, nf.jws(signer, target_of(subject)), mt.NOTATION_JWS)
        refs[name] = ref
    params = {"signatures": {"require_any": False},
              "notation": {"required": True,
                           "allowed": ["x509.subject: C=US, ST=WA, O=Attest Test"]}}  # fmt: skip
    provider, thread = start_provider(provider_tls, ProviderOptions(
        key=None, params=params, notation=NotationConfig(*trust).settings()))  # fmt: skip
    try:
        items = provider.validate([refs["trusted"], refs["stranger"]])["response"]["items"]
    finally:
        provider.server.shutdown()
        provider.server.server_close()
        thread.join(5)
    trusted, stranger = items[0]["value"], items[1]["value"]
    assert trusted["allowed"] is True, trusted["violations"]
    sig = trusted["report"]["referrers"][0]["signatures"][0]
    assert sig["format"] == "notation" and sig["verified"] is True
    assert stranger["allowed"] is False
    assert any("untrusted signer" in v["msg"] for v in stranger["violations"])


def test_report_lists_the_notation_signer(tmp_path, pki, trust, capsys) -> None:
    """`attest report` takes the same notation flags; the signer appears by subject DN, a
    failed notation signature makes the verdict failed."""
    store, subject, ref = packed_model(f"oci:{tmp_path}/lay:v1", capsys)
    attach_signature(store, subject, nf.jws(pki["ec"], target_of(subject)), mt.NOTATION_JWS)
    code, out, err = invoke("report", ref, "--format", "json", *notation_args(*trust),
                            capsys=capsys)  # fmt: skip
    assert code == 0, err
    verdict = json.loads(out)["verdict"]
    assert verdict["status"] == "verified"
    assert [s["label"] for s in verdict["signers"]] == [
        "notation CN=model-signer,O=Attest Test,L=Seattle,ST=WA,C=US"]
    attach_signature(store, subject, nf.jws(pki["stranger"], target_of(subject)), mt.NOTATION_JWS)
    code, out, err = invoke("report", ref, "--format", "json", *notation_args(*trust),
                            capsys=capsys)  # fmt: skip
    verdict = json.loads(out)["verdict"]
    assert code == 1 and verdict["status"] == "failed"
    assert "untrusted signer" in verdict["failed"][0]["errors"][0]
