"""Signing: DSSE, key bundles, the dev key, cosign-layout referrers, OMS, keyless via the
loopback Sigstore stand-in — each checked by a verifier that is not the code under test
(sigstore-python's Verifier, sigstore-js, model_signing)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sigstore.models import ClientTrustConfig
from sigstore.verify import policy

from attest.errors import InputError, UsageError, VerificationError
from attest.evidence.attach import attach_bundle, attach_document
from attest.evidence.table import ANNOTATION_STATEMENT
from attest.evidence.table import OMS as OMS_PREDICATE_TYPE
from attest.facts.subject import Subject
from attest.flows.publish import sign_and_attach
from attest.flows.sign import collect_evidence, load_statements, sign_subject
from attest.intoto import statement_bytes
from attest.modelpack import media
from attest.modelpack.facts import facts_for_subject
from attest.modelpack.pack import pack
from attest.modelpack.pull import pull
from attest.modelpack.read import read_subject
from attest.oci import mediatypes as mt
from attest.oci.layout import LayoutStore
from attest.oci.reference import fallback_tag, parse_reference
from attest.oci.referrers import discover
from attest.oci.store import Descriptor, sha256_bytes
from attest.oci.stores import open_store
from attest.sign import keyless
from attest.sign.bundle import parse_bundle
from attest.sign.dsse import pae
from attest.sign.key_signer import KeySigner, key_hint, model_signing_hint, verify_key_bundle
from attest.sign.keys import (
    dev_key_path,
    generate_key,
    load_private_key,
    load_public_key,
    public_der,
)
from attest.sign.oms import oms_statement
from attest.sign.signer import choose_signer
from attest.stages.sbom.stage import run_sbom_stage
from attest.stages.statement import Evidence
from tests.helpers import REPO_ROOT, push_artifact, push_raw_blob
from tests.js_verifier import verify_with_sigstore_js

TINY_LLM = REPO_ROOT / "testdata" / "models" / "tiny-llm"
MODEL_SIGNING = Path(sys.executable).parent / "model_signing"
CI_VARS = (
    "GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITLAB_CI", "BUILDKITE", "CIRCLECI", "SIGSTORE_ID_TOKEN", "ATTEST_KEY_PASSWORD",
)  # fmt: skip


@pytest.fixture(autouse=True)
def no_ambient_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests see no CI credentials and a private config dir unless they set them."""
    for var in CI_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ATTEST_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def packed(tmp_path: Path) -> tuple[LayoutStore, Subject]:
    store = LayoutStore(tmp_path / "oci", create=True)
    pack(TINY_LLM, store, "v1", creation_time=False)
    return store, read_subject(store, "v1", f"oci:{tmp_path / 'oci'}:v1")


@pytest.fixture
def key_files(tmp_path: Path) -> tuple[Path, Path]:
    files = generate_key(tmp_path / "keys" / "release")
    return files.private, files.public


def statement_about(digest: str, predicate_type: str = "https://example.org/p/v1") -> dict:
    alg, _, hexdigest = digest.partition(":")
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "localhost/models/tiny", "digest": {alg: hexdigest}}],
        "predicateType": predicate_type,
        "predicate": {"count": 3, "ratio": 0.5},
    }


# -- DSSE and key bundles -----------------------------------------------------------------------


def test_pae_matches_the_dsse_spec_vector() -> None:
    # protocol.md's worked example
    assert (
        pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert pae("t", "é".encode()) == b"DSSEv1 1 t 2 " + "é".encode()  # lengths in bytes


def test_key_generate_writes_a_private_key_only_the_owner_reads(tmp_path: Path) -> None:
    files = generate_key(tmp_path / "release")
    assert files.private.name == "release.key" and files.public.name == "release.pub"
    assert stat.S_IMODE(files.private.stat().st_mode) == 0o600
    assert b"ENCRYPTED" not in files.private.read_bytes()
    pub = load_public_key(files.public)
    assert load_private_key(files.private).public_key().public_numbers() == pub.public_numbers()
    assert pub.curve.name == "secp256r1"
    with pytest.raises(UsageError, match="already exists"):
        generate_key(tmp_path / "release")


def test_encrypted_key_needs_attest_key_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packed: tuple[LayoutStore, Subject]
) -> None:
    monkeypatch.setenv("ATTEST_KEY_PASSWORD", "correct horse")
    files = generate_key(tmp_path / "enc", password=b"correct horse")
    assert b"ENCRYPTED PRIVATE KEY" in files.private.read_bytes()
    signer = choose_signer(key=files.private)  # password from the environment, no prompt
    assert signer.kind == "key"
    _, subject = packed
    bundle = signer.sign_statements([statement_about(subject.digest)])[0]
    verify_key_bundle(bundle, load_public_key(files.public), subject_digest=subject.digest)

    monkeypatch.setenv("ATTEST_KEY_PASSWORD", "wrong")
    with pytest.raises(UsageError, match="cannot decrypt"):
        load_private_key(files.private)
    monkeypatch.delenv("ATTEST_KEY_PASSWORD")
    with pytest.raises(UsageError, match="is encrypted") as err:
        load_private_key(files.private)
    assert "ATTEST_KEY_PASSWORD" in (err.value.hint or "")


def test_key_bundle_is_a_v03_bundle_with_a_cosign_style_hint(
    key_files: tuple[Path, Path],
) -> None:
    private, public = key_files
    statement = statement_about("sha256:" + "ab" * 32)
    bundle = KeySigner(load_private_key(private)).sign_statements([statement])[0]
    doc = json.loads(bundle)
    assert set(doc) == {"mediaType", "verificationMaterial", "dsseEnvelope"}
    assert doc["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    pub = load_public_key(public)
    # sigstore-go's (and so cosign's) hint: base64(sha256(DER SubjectPublicKeyInfo))
    expected_hint = base64.b64encode(hashlib.sha256(public_der(pub)).digest()).decode()
    assert doc["verificationMaterial"] == {
        "publicKey": {"hint": expected_hint},
        "tlogEntries": [],
    }
    envelope = doc["dsseEnvelope"]
    assert envelope["payloadType"] == mt.INTOTO_JSON
    assert base64.b64decode(envelope["payload"]) == statement_bytes(statement)
    assert len(envelope["signatures"]) == 1
    info = parse_bundle(bundle)
    assert info.kind == "key" and info.key_hint == expected_hint
    assert info.statement()["predicate"] == {"count": 3, "ratio": 0.5}  # ints stay ints


def test_key_bundle_verifies_and_rejects_what_it_must(
    key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    private, public = key_files
    pub = load_public_key(public)
    digest = "sha256:" + "cd" * 32
    signer = KeySigner(load_private_key(private))
    good, other_subject = signer.sign_statements(
        [statement_about(digest), statement_about("sha256:" + "ef" * 32)]
    )
    statement = verify_key_bundle(good, pub, subject_digest=digest)
    assert statement["subject"][0]["digest"]["sha256"] == "cd" * 32

    other_key = generate_key(tmp_path / "other")
    with pytest.raises(VerificationError, match="another key"):
        verify_key_bundle(good, load_public_key(other_key.public), subject_digest=digest)
    # Same signature, hint removed: the signature check itself must fail.
    no_hint = json.loads(good)
    del no_hint["verificationMaterial"]["publicKey"]["hint"]
    with pytest.raises(VerificationError, match="does not verify"):
        verify_key_bundle(json.dumps(no_hint).encode(), load_public_key(other_key.public))

    tampered = json.loads(good)
    evil = statement_about(digest)
    evil["predicate"]["count"] = 4
    tampered["dsseEnvelope"]["payload"] = base64.b64encode(statement_bytes(evil)).decode()
    with pytest.raises(VerificationError, match="does not verify"):
        verify_key_bundle(json.dumps(tampered).encode(), pub, subject_digest=digest)

    with pytest.raises(VerificationError, match="not " + digest):
        verify_key_bundle(other_subject, pub, subject_digest=digest)
    with pytest.raises(VerificationError, match="predicateType"):
        verify_key_bundle(good, pub, subject_digest=digest, predicate_type="https://x/other")


def test_sigstore_js_accepts_key_bundles_and_rejects_another_key(
    key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    private, public = key_files
    bundle = KeySigner(load_private_key(private)).sign_statements(
        [statement_about("sha256:" + "12" * 32)]
    )[0]
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle)
    ok, out = verify_with_sigstore_js(path, None, public_key=public)
    assert ok, out
    other = generate_key(tmp_path / "other")
    ok, out = verify_with_sigstore_js(path, None, public_key=other.public)
    assert not ok, out


# -- which signer -------------------------------------------------------------------------------


def test_dev_key_is_created_on_first_use_in_the_config_dir(tmp_path: Path) -> None:
    config = tmp_path / "config"
    assert not config.exists()
    signer = choose_signer()
    assert signer.kind == "dev-key"
    assert "dev key — not for release" in signer.describe()
    key = config / "dev-signing.key"
    assert dev_key_path() == key and key.is_file() and (config / "dev-signing.pub").is_file()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = choose_signer()  # the same key, not a new one
    assert isinstance(signer, KeySigner) and isinstance(again, KeySigner)
    assert again.hint == signer.hint
    bundle = again.sign_statements([statement_about("sha256:" + "34" * 32)])[0]
    verify_key_bundle(bundle, load_public_key(config / "dev-signing.pub"))


def test_dev_key_location_follows_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTEST_CONFIG_DIR", "/c")
    assert dev_key_path() == Path("/c/dev-signing.key")
    monkeypatch.delenv("ATTEST_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", "/x")  # platformdirs' rule on Linux
    assert dev_key_path() == Path("/x/attest/dev-signing.key")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", "/h")
    assert dev_key_path() == Path("/h/.config/attest/dev-signing.key")


def test_signer_choice_order_and_clashes(key_files: tuple[Path, Path], tmp_path: Path) -> None:
    private, _ = key_files
    assert choose_signer(key=private).kind == "key"
    with pytest.raises(UsageError, match="clash"):
        choose_signer(key=private, identity_token="x.y.z")
    # a CI that exports SIGSTORE_ID_TOKEN to every job does not stop --key
    assert choose_signer(key=private, env={"SIGSTORE_ID_TOKEN": "x.y.z"}).kind == "key"
    # Asking for a private Sigstore without an identity is an error, not the dev key.
    with pytest.raises(UsageError, match="needs an identity"):
        choose_signer(trust_config=tmp_path / "missing.json")
    with pytest.raises(UsageError, match="no signer"):
        choose_signer(allow_dev_key=False)
    assert choose_signer().kind == "dev-key"


# -- cosign-layout referrers --------------------------------------------------------------------


def _bundle_referrers(store: LayoutStore, digest: str) -> list[Any]:
    return discover(store, digest, artifact_type=mt.SIGSTORE_BUNDLE_V03)


def test_referrers_follow_the_cosign_v3_layout(
    packed: tuple[LayoutStore, Subject], key_files: tuple[Path, Path]
) -> None:
    store, subject = packed
    facts = facts_for_subject(store, subject)
    evidence = run_sbom_stage(facts)
    signer = KeySigner(load_private_key(key_files[0]))
    signed = sign_and_attach(store, subject.descriptor(), evidence, signer)
    assert len(signed) == 3

    for item in signed:
        manifest = store.get_manifest(item.statement_ref.digest)
        m = manifest.json()
        # reference/modelpack-and-referrers.md §4, field by field
        assert manifest.descriptor.media_type == mt.OCI_MANIFEST
        assert set(m) == {
            "schemaVersion", "mediaType", "artifactType", "config", "layers", "subject",
            "annotations",
        }  # fmt: skip
        assert m["schemaVersion"] == 2
        assert m["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
        assert m["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
        assert m["config"] == {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "size": 2,
        }
        assert store.fetch_blob(Descriptor.from_dict(m["config"])) == b"{}"
        assert len(m["layers"]) == 1
        layer = m["layers"][0]
        assert layer == {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "digest": "sha256:" + hashlib.sha256(item.bundle).hexdigest(),
            "size": len(item.bundle),
        }
        assert store.fetch_blob(Descriptor.from_dict(layer)) == item.bundle
        assert m["subject"] == {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
        }
        notes = m["annotations"]
        assert notes["dev.sigstore.bundle.content"] == "dsse-envelope"
        assert notes["dev.sigstore.bundle.predicateType"] == item.predicate_type
        datetime.strptime(notes["org.opencontainers.image.created"], "%Y-%m-%dT%H:%M:%SZ")
        assert notes["dev.attest.signer.kind"] == "key"
        # what cosign verify-attestation checks next: the statement is about this manifest
        statement = verify_key_bundle(
            item.bundle, signer.public_key, subject_digest=subject.digest,
            predicate_type=notes["dev.sigstore.bundle.predicateType"],
        )  # fmt: skip
        assert statement["subject"][0]["name"] == subject.repository

        # the plain document names the signed statement that vouches for it
        assert item.document_ref is not None
        doc = store.get_manifest(item.document_ref.digest).json()
        assert doc["annotations"][ANNOTATION_STATEMENT] == item.statement_ref.digest
        assert doc["subject"]["digest"] == subject.digest
        assert store.fetch_blob(Descriptor.from_dict(doc["layers"][0])) == item.evidence.document

    found = {r.descriptor.digest for r in _bundle_referrers(store, subject.digest)}
    assert found == {s.statement_ref.digest for s in signed}


def test_refuses_to_attach_a_statement_about_another_digest(
    packed: tuple[LayoutStore, Subject], key_files: tuple[Path, Path]
) -> None:
    store, subject = packed
    wrong = Evidence(statement=statement_about("sha256:" + "99" * 32))
    with pytest.raises(InputError, match="refusing to sign"):
        sign_and_attach(
            store, subject.descriptor(), [wrong], KeySigner(load_private_key(key_files[0]))
        )
    assert _bundle_referrers(store, subject.digest) == []


def test_attach_bundle_returns_the_referrer_descriptor(
    packed: tuple[LayoutStore, Subject],
) -> None:
    store, subject = packed
    desc = attach_bundle(store, subject.descriptor(), b'{"x":1}', "https://example.org/p")
    assert desc.artifact_type == mt.SIGSTORE_BUNDLE_V03
    assert desc.annotations and desc.annotations["dev.sigstore.bundle.predicateType"] == (
        "https://example.org/p"
    )


# -- attest sign: no weight is read -------------------------------------------------------------


def test_signing_an_oci_subject_reads_no_weight_file(
    packed: tuple[LayoutStore, Subject],
    key_files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    store, packed_subject = packed
    # `attest sbom --attach` before signing existed: unsigned documents on the artifact.
    facts = facts_for_subject(store, packed_subject)
    for evidence in run_sbom_stage(facts):
        attach_document(store, packed_subject.descriptor(), evidence)
    weights = {layer.descriptor.digest for layer in packed_subject.layers if layer.kind == "weight"}
    assert weights

    reads: list[str] = []
    for name in ("open_blob", "fetch_blob"):
        original = getattr(store, name)

        def counting(desc: Descriptor, _original: Any = original) -> Any:
            reads.append(desc.digest)
            return _original(desc)

        monkeypatch.setattr(store, name, counting)

    # What `attest sign REF --oms` does, from resolving the reference on.
    subject = read_subject(store, "v1", packed_subject.reference)
    signer = KeySigner(load_private_key(key_files[0]))
    named = [sha256_bytes(e.document or b"") for e in run_sbom_stage(facts)]
    result = sign_subject(
        store, subject, signer, documents=named, oms=True,
        oms_output=tmp_path / "model.sig",
    )  # fmt: skip
    assert reads, "the counter saw nothing: the test would pass vacuously"
    assert not weights & set(reads), "a weight layer was read while signing"
    assert not {layer.descriptor.digest for layer in subject.layers} & set(reads)
    kinds = sorted(s.predicate_type for s in result.signed)
    assert kinds == sorted([OMS_PREDICATE_TYPE, *(e.predicate_type for e in run_sbom_stage(facts))])
    assert (tmp_path / "model.sig").read_bytes() == result.oms_bundle
    # Nothing is signed that was not named: no names, nothing to sign.
    assert collect_evidence(store, subject) == []


def test_sign_statement_files(
    packed: tuple[LayoutStore, Subject], key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    store, subject = packed
    lines = tmp_path / "s.intoto.jsonl"
    lines.write_text(
        "\n".join(json.dumps(statement_about(subject.digest, f"https://x/{i}")) for i in range(2))
    )
    statements = load_statements(lines)
    signer = KeySigner(load_private_key(key_files[0]))
    result = sign_subject(
        store, subject, signer, statements=statements,
        predicate_types=("https://x/1",),
    )  # fmt: skip
    assert [s.predicate_type for s in result.signed] == ["https://x/1"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(statement_about("sha256:" + "77" * 32)))
    with pytest.raises(InputError, match="refusing to sign"):
        sign_subject(
            store, subject, signer,
            statements=load_statements(bad),
        )  # fmt: skip


# -- OpenSSF model signing ----------------------------------------------------------------------


def _model_signing(*args: str) -> subprocess.CompletedProcess[str]:
    """The real model_signing CLI (a test dependency, with pyopenssl beside it): skipped where
    it is missing, except in CI, which must run it."""
    if not MODEL_SIGNING.exists():
        if os.environ.get("CI"):
            pytest.fail("model_signing is not installed -- required in CI", pytrace=False)
        pytest.skip("model_signing is not installed (pip install model-signing pyopenssl)")
    return subprocess.run(
        [str(MODEL_SIGNING), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_oms_statement_equals_model_signing_own_serialization(tmp_path: Path) -> None:
    """Paths that sort differently as strings and as paths ("a-b/c" vs "a/b")."""
    store = LayoutStore(tmp_path / "oci", create=True)
    files = {"a/b": b"1\n", "a-b/c": b"2\n", "x.txt": b"3\n", "a.b": b"4\n"}
    layers = [
        push_raw_blob(
            store, data, media.model_layer_type("code"), annotations={mt.ANNOTATION_FILEPATH: path}
        )
        for path, data in files.items()
    ]
    push_artifact(store, layers, tag="v1")
    subject = read_subject(store, "v1")
    ours = oms_statement(subject, name="m")

    model = tmp_path / "m"
    pull(subject, store, model)
    key = generate_key(tmp_path / "k")
    proc = _model_signing(
        "sign", "key", str(model), "--private_key", str(key.private),
        "--signature", str(model / "model.sig"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    envelope = json.loads((model / "model.sig").read_text())["dsseEnvelope"]
    theirs = json.loads(base64.b64decode(envelope["payload"]))
    assert ours["subject"] == theirs["subject"]
    assert ours["predicate"]["resources"] == theirs["predicate"]["resources"]
    assert [r["name"] for r in ours["predicate"]["resources"]] == ["a/b", "a-b/c", "a.b", "x.txt"]
    ours_ser, theirs_ser = ours["predicate"]["serialization"], theirs["predicate"]["serialization"]
    assert {k: v for k, v in ours_ser.items() if k != "ignore_paths"} == {
        k: v for k, v in theirs_ser.items() if k != "ignore_paths"
    }
    assert sorted(ours_ser["ignore_paths"]) == sorted(theirs_ser["ignore_paths"])


def test_model_signing_verifies_the_oms_bundle_made_from_the_manifest(
    packed: tuple[LayoutStore, Subject], key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    store, subject = packed
    private, public = key_files
    model = tmp_path / "pulled" / "tiny-llm"  # `attest pull REF --output DIR`
    pull(subject, store, model)
    signature = model / "model.sig"
    result = sign_subject(
        store, subject, KeySigner(load_private_key(private)),
        oms=True, oms_output=signature,
    )  # fmt: skip
    assert [s.predicate_type for s in result.signed] == [OMS_PREDICATE_TYPE]
    hint = json.loads(signature.read_bytes())["verificationMaterial"]["publicKey"]["hint"]
    assert hint == model_signing_hint(load_public_key(public))  # model_signing's own form
    assert hint != key_hint(load_public_key(public))

    proc = _model_signing(
        "verify", "key", str(model), "--signature", str(signature), "--public_key", str(public)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Verification succeeded" in proc.stdout

    other = generate_key(tmp_path / "other")
    proc = _model_signing(
        "verify", "key", str(model), "--signature", str(signature),
        "--public_key", str(other.public),
    )  # fmt: skip
    assert proc.returncode != 0

    (model / "config.json").write_text("{}")  # a changed file
    proc = _model_signing(
        "verify", "key", str(model), "--signature", str(signature), "--public_key", str(public)
    )
    assert proc.returncode != 0
    assert "config.json" in proc.stdout + proc.stderr


def test_oms_refuses_tar_layers(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path / "oci", create=True)
    layer = push_raw_blob(store, b"not really a tar", media.model_layer_type("code", "tar"))
    push_artifact(store, [layer], tag="v1")
    with pytest.raises(InputError, match="tar archive"):
        oms_statement(read_subject(store, "v1"))


# -- keyless, against the loopback Sigstore -----------------------------------------------------


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def _trusted_root(trust_config: Path) -> Any:
    return ClientTrustConfig.from_json(trust_config.read_text()).trusted_root


def _cert_requests(stand_in: Any) -> int:
    return sum(1 for _, path in stand_in.requests_log if path.endswith("/signingCert"))


def test_keyless_with_an_explicit_token_and_a_private_trust_config(
    loopback: None,
    sigstore_stand_in: Any,
    sigstore_trust_config: Path,
    sigstore_trusted_root: Path,
    packed: tuple[LayoutStore, Subject],
    tmp_path: Path,
) -> None:
    store, subject = packed
    token = sigstore_stand_in.issue_token(email="alice@example.org")
    signer = choose_signer(identity_token=token, trust_config=sigstore_trust_config)
    assert signer.kind == "keyless"
    facts = facts_for_subject(store, subject)
    before = _cert_requests(sigstore_stand_in)
    signed = sign_and_attach(store, subject.descriptor(), run_sbom_stage(facts), signer)
    assert _cert_requests(sigstore_stand_in) - before == 1  # one session, one certificate
    certs = {
        json.dumps(json.loads(s.bundle)["verificationMaterial"]["certificate"]) for s in signed
    }
    assert len(certs) == 1
    assert signer.describe() == (
        f"keyless alice@example.org ({sigstore_stand_in.issuer}) via --identity-token"
    )

    root = _trusted_root(sigstore_trust_config)
    issuer = sigstore_stand_in.issuer
    for item in signed:
        statement = keyless.verify_keyless_bundle(
            item.bundle, trusted_root=root, identity="alice@example.org", issuer=issuer,
            subject_digest=subject.digest, predicate_type=item.predicate_type,
        )  # fmt: skip
        assert statement["subject"][0]["digest"]["sha256"] == subject.digest.split(":")[1]
        path = tmp_path / f"{item.statement_ref.digest[7:19]}.json"
        path.write_bytes(item.bundle)
        ok, out = verify_with_sigstore_js(
            path, sigstore_trusted_root, identity="alice@example.org", issuer=issuer
        )
        assert ok, out

    bundle = signed[0].bundle
    with pytest.raises(VerificationError):
        keyless.verify_keyless_bundle(
            bundle, trusted_root=root, identity="mallory@example.org", issuer=issuer
        )
    with pytest.raises(VerificationError):
        keyless.verify_keyless_bundle(
            bundle, trusted_root=root, identity="alice@example.org",
            issuer="https://accounts.google.com",
        )  # fmt: skip
    with pytest.raises(VerificationError, match="not sha256:"):
        keyless.verify_keyless_bundle(
            bundle, trusted_root=root, identity="alice@example.org", issuer=issuer,
            subject_digest="sha256:" + "00" * 32,
        )  # fmt: skip
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle)
    for identity, who in (("mallory@example.org", issuer), ("alice@example.org", "https://x")):
        ok, out = verify_with_sigstore_js(
            path, sigstore_trusted_root, identity=identity, issuer=who
        )
        assert not ok, out

    tampered = json.loads(bundle)
    payload = json.loads(base64.b64decode(tampered["dsseEnvelope"]["payload"]))
    payload["predicateType"] = "https://evil.example/p"
    tampered["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    with pytest.raises(VerificationError):
        keyless.verify_keyless_bundle(
            json.dumps(tampered).encode(), trusted_root=root, identity="alice@example.org",
            issuer=issuer,
        )  # fmt: skip
    path.write_text(json.dumps(tampered))
    ok, out = verify_with_sigstore_js(
        path, sigstore_trusted_root, identity="alice@example.org", issuer=issuer
    )
    assert not ok, out


def test_keyless_token_from_sigstore_id_token(
    loopback: None,
    sigstore_stand_in: Any,
    sigstore_trust_config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    identity = "https://attest.invalid/ci/pipeline"
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", sigstore_stand_in.issue_token(sub=identity))
    signer = choose_signer(trust_config=sigstore_trust_config)
    assert signer.kind == "keyless"
    bundle = signer.sign_statements([statement_about("sha256:" + "56" * 32)])[0]
    keyless.verify_keyless_bundle(
        bundle, trusted_root=_trusted_root(sigstore_trust_config), identity=identity,
        issuer=sigstore_stand_in.issuer,
    )  # fmt: skip
    assert "SIGSTORE_ID_TOKEN" in signer.describe()


def test_keyless_with_ambient_github_actions_credentials(
    loopback: None,
    sigstore_stand_in: Any,
    sigstore_trust_config: Path,
    sigstore_trusted_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name, value in sigstore_stand_in.github_actions_env().items():
        monkeypatch.setenv(name, value)
    signer = choose_signer(trust_config=sigstore_trust_config)
    assert signer.kind == "keyless"
    assert "GitHub Actions" in signer.describe()
    claims = signer.oidc_claims or {}
    assert claims["job_workflow_ref"].startswith("acme/model-repo/.github/workflows/")
    bundle = signer.sign_statements([statement_about("sha256:" + "78" * 32)])[0]
    identity = sigstore_stand_in.github_identity()
    # The workflow's identity, checked with sigstore's own GitHub extension policies too.
    workflow_policy = policy.AllOf(
        [
            policy.Identity(identity=identity, issuer=sigstore_stand_in.issuer),
            policy.GitHubWorkflowRepository("acme/model-repo"),
        ]
    )
    keyless.verify_keyless_bundle(
        bundle, trusted_root=_trusted_root(sigstore_trust_config),
        verification_policy=workflow_policy,
    )  # fmt: skip
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle)
    ok, out = verify_with_sigstore_js(
        path, sigstore_trusted_root, identity=identity, issuer=sigstore_stand_in.issuer
    )
    assert ok, out
    with pytest.raises(VerificationError):
        keyless.verify_keyless_bundle(
            bundle, trusted_root=_trusted_root(sigstore_trust_config),
            identity=identity.replace("release.yml", "other.yml"),
            issuer=sigstore_stand_in.issuer,
        )  # fmt: skip


def test_github_without_id_token_permission_falls_back_to_the_dev_key(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # no ACTIONS_ID_TOKEN_REQUEST_* variables
    with caplog.at_level("WARNING"):
        signer = choose_signer()
    assert signer.kind == "dev-key"
    assert "id-token" in caplog.text or "OIDC" in caplog.text
    with pytest.raises(UsageError, match="OIDC token"):
        choose_signer(allow_dev_key=False)


def test_keyless_oms_signature_verifies_with_model_signing(
    loopback: None,
    sigstore_stand_in: Any,
    sigstore_trust_config: Path,
    packed: tuple[LayoutStore, Subject],
    tmp_path: Path,
) -> None:
    store, subject = packed
    model = tmp_path / "tiny-llm"
    pull(subject, store, model)
    token = sigstore_stand_in.issue_token(email="alice@example.org")
    signer = choose_signer(identity_token=token, trust_config=sigstore_trust_config)
    signature = tmp_path / "model.sig"
    sign_subject(
        store, subject, signer, oms=True, oms_output=signature,
    )  # fmt: skip
    common = [
        "verify", "sigstore", str(model), "--signature", str(signature),
        "--identity_provider", sigstore_stand_in.issuer, "--trust_config",
        str(sigstore_trust_config),
    ]  # fmt: skip
    proc = _model_signing(*common, "--identity", "alice@example.org")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _model_signing(*common, "--identity", "mallory@example.org")
    assert proc.returncode != 0


def test_trust_config_prefers_rekor_v1(sigstore_trust_config: Path) -> None:
    cfg = keyless.load_trust_config(trust_config=sigstore_trust_config)
    assert cfg.force_tlog_version == 1
    with pytest.raises(UsageError, match="exclusive"):
        keyless.load_trust_config(staging=True, trust_config=sigstore_trust_config)
    with pytest.raises(UsageError, match="cannot read"):
        keyless.load_trust_config(trust_config=sigstore_trust_config.parent / "nope.json")


# -- on a real registry (no Referrers API: the fallback tag) ------------------------------------


def test_signed_referrers_on_a_registry_follow_the_cosign_layout(
    registry: Any, key_files: tuple[Path, Path]
) -> None:
    ref = parse_reference(f"{registry.ref}:v1")
    store = open_store(ref, create=True)
    pack(TINY_LLM, store, "v1", creation_time=False)
    subject = read_subject(store, "v1", f"{registry.ref}:v1")
    signer = KeySigner(load_private_key(key_files[0]))
    signed = sign_and_attach(
        store, subject.descriptor(), run_sbom_stage(facts_for_subject(store, subject)), signer
    )
    # the fallback index lists each bundle referrer with its artifactType and annotations
    index = requests.get(
        f"{registry.url}/v2/{registry.repo}/manifests/{fallback_tag(subject.digest)}",
        headers={"Accept": mt.OCI_INDEX},
        timeout=10,
    ).json()
    entries = {m["digest"]: m for m in index["manifests"]}
    for item in signed:
        entry = entries[item.statement_ref.digest]
        assert entry["artifactType"] == mt.SIGSTORE_BUNDLE_V03
        assert entry["annotations"]["dev.sigstore.bundle.predicateType"] == item.predicate_type
        raw = requests.get(
            f"{registry.url}/v2/{registry.repo}/manifests/{item.statement_ref.digest}",
            headers={"Accept": mt.OCI_MANIFEST},
            timeout=10,
        )
        m = raw.json()
        assert raw.headers["Content-Type"] == mt.OCI_MANIFEST
        assert m["artifactType"] == mt.SIGSTORE_BUNDLE_V03
        assert m["config"] == mt.EMPTY_DESCRIPTOR
        assert [layer["mediaType"] for layer in m["layers"]] == [mt.SIGSTORE_BUNDLE_V03]
        assert m["subject"]["digest"] == subject.digest
        assert m["annotations"]["dev.sigstore.bundle.content"] == "dsse-envelope"
        bundle = store.fetch_blob(Descriptor.from_dict(m["layers"][0]))
        verify_key_bundle(
            bundle, signer.public_key, subject_digest=subject.digest,
            predicate_type=item.predicate_type,
        )  # fmt: skip
        assert item.document_ref is not None
        assert entries[item.document_ref.digest]["annotations"][ANNOTATION_STATEMENT] == (
            item.statement_ref.digest
        )


def test_attached_statements_are_signed_only_when_named(
    packed: tuple[LayoutStore, Subject], key_files: tuple[Path, Path]
) -> None:
    from attest.evidence.attach import attach_statement

    store, subject = packed
    facts = facts_for_subject(store, subject)
    cdx = run_sbom_stage(facts)[0]
    statement_ref = attach_statement(store, subject.descriptor(), cdx)  # `attest run --no-sign`
    attach_document(store, subject.descriptor(), cdx, statement=statement_ref.digest)
    other = Evidence(statement=statement_about("sha256:" + "42" * 32))
    foreign = attach_statement(store, subject.descriptor(), other)  # about another artifact

    signer = KeySigner(load_private_key(key_files[0]))
    # nothing named: nothing signed, whatever is attached
    assert collect_evidence(store, subject) == []
    # the document and its statement named together are one statement: signed once, and the
    # document is re-attached naming the new bundle
    result = sign_subject(store, subject, signer,
                          documents=[statement_ref.digest, sha256_bytes(cdx.document or b"")])
    assert len(result.signed) == 1 and result.signed[0].document_ref is not None
    verify_key_bundle(result.signed[0].bundle, signer.public_key, subject_digest=subject.digest)
    # a named statement about another artifact is refused, not skipped
    with pytest.raises(InputError, match="refusing to sign"):
        sign_subject(store, subject, signer, documents=[foreign.digest])
    # a name that is not attached at all
    with pytest.raises(UsageError, match="no referrer"):
        sign_subject(store, subject, signer, documents=["sha256:" + "ab" * 32])

    # nothing named: a usage error, and the signer is never chosen (no dev key, no browser)
    def never() -> KeySigner:
        raise AssertionError("the signer was chosen with nothing to sign")

    with pytest.raises(UsageError, match="nothing to sign on sha256:"):
        sign_subject(store, subject, never)
    chosen = sign_subject(store, subject, lambda: signer, oms=True)
    assert chosen.signer is signer and len(chosen.signed) == 1
