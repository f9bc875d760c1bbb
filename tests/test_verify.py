"""`attest verify`: positives pass; every forgery is rejected with exit 1 and a message naming
the cause. Built for real on an OCI layout and on the registry fixture."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from attest.cli import main
from attest.evidence.attach import attach_bundle
from attest.oci import mediatypes as mt
from attest.oci.reference import parse_reference
from attest.oci.referrers import add_to_fallback_index, discover
from attest.oci.store import Descriptor
from attest.oci.stores import open_store
from tests.helpers import REPO_ROOT, make_model_dir, run_attest

MODEL = REPO_ROOT / "testdata" / "models" / "open-llm"


def invoke(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The real entry point, in process: (exit code, stdout, stderr)."""
    old = sys.argv
    sys.argv = ["attest", *args]
    try:
        main()
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("keys")
    for name in ("release", "other"):
        assert run_attest("key", "generate", str(root / name)).returncode == 0
    return {"key": root / "release.key", "pub": root / "release.pub", "other": root / "other.pub"}


def signed_model(to: str, keys: dict[str, Path], model: Path = MODEL) -> None:
    proc = run_attest("run", str(model), "--to", to, "--key", str(keys["key"]))
    assert proc.returncode == 0, proc.stderr


def bundle_referrers(ref: str) -> tuple[Any, Descriptor, list[Any]]:
    reference = parse_reference(ref)
    store = open_store(reference)
    subject = store.get_manifest(reference.target or "latest").descriptor
    return store, subject, discover(store, subject.digest, artifact_type=mt.SIGSTORE_BUNDLE_V03)


def bundle_bytes(store: Any, referrer: Any) -> bytes:
    return store.fetch_blob(Descriptor.from_dict(referrer.manifest["layers"][0]))


@pytest.fixture(params=["layout", "registry"])
def two_models(request: pytest.FixtureRequest, tmp_path: Path, keys: dict[str, Path]):
    """Model A and model B, both signed with the release key, in one repository."""
    if request.param == "registry":
        base = request.getfixturevalue("registry").ref
        a, b = f"{base}:a", f"{base}:b"
    else:
        a, b = f"oci:{tmp_path}/lay:a", f"oci:{tmp_path}/lay:b"
    signed_model(a, keys)
    signed_model(b, keys, make_model_dir(tmp_path / "other-model"))
    return a, b


@pytest.fixture(params=["layout", "registry"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's model goes: an OCI layout, or the real registry (fallback tags)."""
    if request.param == "registry":
        return f"{request.getfixturevalue('registry').ref}:v1"
    return f"oci:{tmp_path}/lay:v1"


def test_positive_and_wrong_key(two_models, keys, capsys) -> None:
    a, _ = two_models
    code, out, err = invoke("verify", a, "--key", str(keys["pub"]), capsys=capsys)
    assert code == 0, err
    assert "Verified   7 signed statement(s), 0 failure(s)" in out
    code, out, err = invoke("verify", a, "--key", str(keys["other"]), capsys=capsys)
    assert code == 1 and "another key" in err
    code, out, err = invoke("verify", a, "--key", str(keys["pub"]), "--format", "json",
                            capsys=capsys)  # fmt: skip
    report = json.loads(out)
    assert report["subject"]["digest"].startswith("sha256:")
    mof_type = "https://attest.dev/mof/v1"
    mof = next(r for r in report["referrers"]
               if r["predicateType"] == mof_type and r["signatures"])  # fmt: skip
    assert mof["summary"]["class"] == "III" and mof["signatures"][0]["verified"] is True


def test_bundle_of_model_a_attached_to_model_b(two_models, keys, capsys) -> None:
    a, b = two_models
    store, _, a_bundles = bundle_referrers(a)
    _, b_subject, _ = bundle_referrers(b)
    stolen = a_bundles[0]
    attach_bundle(store, b_subject, bundle_bytes(store, stolen),
                  stolen.annotations["dev.sigstore.bundle.predicateType"])  # fmt: skip
    code, _, err = invoke("verify", b, "--key", str(keys["pub"]), capsys=capsys)
    assert code == 1 and "statement is about" in err


def test_predicate_type_confusion(two_models, keys, capsys) -> None:
    a, _ = two_models
    store, subject, bundles = bundle_referrers(a)
    key = "dev.sigstore.bundle.predicateType"
    sbom = next(r for r in bundles if r.annotations[key].startswith("https://cyclonedx"))
    attach_bundle(store, subject, bundle_bytes(store, sbom), "https://slsa.dev/provenance/v1")
    code, _, err = invoke("verify", a, "--key", str(keys["pub"]), capsys=capsys)
    assert code == 1 and "predicate" in err.lower()


def test_tampered_payload(two_models, keys, capsys) -> None:
    a, _ = two_models
    store, subject, bundles = bundle_referrers(a)
    bundle = json.loads(bundle_bytes(store, bundles[0]))
    import base64

    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["predicate"] = {"forged": True}
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    attach_bundle(store, subject, json.dumps(bundle).encode(),
                  bundles[0].annotations["dev.sigstore.bundle.predicateType"])  # fmt: skip
    code, _, err = invoke("verify", a, "--key", str(keys["pub"]), capsys=capsys)
    assert code == 1 and "signature" in err.lower()


def test_fallback_entry_pointing_at_another_models_referrer(registry, keys, tmp_path, capsys):
    a, b = f"{registry.ref}:a", f"{registry.ref}:b"
    signed_model(a, keys)
    store, _, a_bundles = bundle_referrers(a)
    # model B is packed but never signed; someone with push rights edits B's fallback tag to
    # list A's signature
    assert run_attest("pack", str(make_model_dir(tmp_path / "m")), "--to", b).returncode == 0
    _, b_subject, _ = bundle_referrers(b)
    add_to_fallback_index(store, b_subject.digest, a_bundles[0].descriptor)
    code, _, err = invoke("verify", b, "--key", str(keys["pub"]), capsys=capsys)
    assert code == 1 and "no verified signature" in err


def test_unsigned_model_fails(target: str, capsys) -> None:
    ref = target
    assert run_attest("run", str(MODEL), "--to", ref, "--no-sign").returncode == 0
    code, out, err = invoke("verify", ref, capsys=capsys)
    assert code == 1 and "no verified signature" in err
    assert "unsigned" in out


def test_keyless_identity_and_issuer(sigstore_stand_in, sigstore_trust_config, target, capsys,
                                     monkeypatch) -> None:  # fmt: skip
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    ref = target
    token = sigstore_stand_in.issue_token(email="release@example.org")
    proc = run_attest("run", str(MODEL), "--to", ref, "--identity-token", token,
                      "--trust-config", str(sigstore_trust_config),
                      env={"NO_PROXY": "127.0.0.1,localhost"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    issuer = sigstore_stand_in.issuer
    base = ("verify", ref, "--trust-config", str(sigstore_trust_config))
    code, out, err = invoke(*base, "--identity", "release@example.org", "--issuer", issuer,
                            capsys=capsys)  # fmt: skip
    assert code == 0, err
    assert "keyless release@example.org" in out
    code, _, err = invoke(*base, "--identity-regexp", r"release@example\.org", "--issuer",
                          issuer, capsys=capsys)  # fmt: skip
    assert code == 0, err
    # another identity, another issuer, a regexp that only matches a prefix: all refused
    code, _, err = invoke(*base, "--identity", "mallory@example.org", "--issuer", issuer,
                          capsys=capsys)  # fmt: skip
    assert code == 1 and "mallory@example.org" in err and "release@example.org" in err
    code, _, err = invoke(*base, "--identity", "release@example.org", "--issuer",
                          "https://accounts.example.com", capsys=capsys)  # fmt: skip
    assert code == 1
    code, _, err = invoke(*base, "--identity-regexp", "release", "--issuer", issuer,
                          capsys=capsys)  # fmt: skip
    assert code == 1 and "does not match" in err
    # no identity given: a clear usage message, still a failure
    code, _, err = invoke(*base, capsys=capsys)
    assert code == 1 and "--identity" in err


def test_offline_makes_no_network_call(tmp_path: Path, keys, capsys, monkeypatch) -> None:
    ref = f"oci:{tmp_path}/lay:v1"
    signed_model(ref, keys)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network use while --offline: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    code, _, err = invoke("verify", ref, "--offline", "--key", str(keys["pub"]), capsys=capsys)
    assert code == 0, err
    code, _, err = invoke("verify", ref, "--offline", "--key", str(keys["other"]), capsys=capsys)
    assert code == 1


def test_sarif_output(tmp_path: Path, keys, capsys) -> None:
    ref = f"oci:{tmp_path}/lay:v1"
    signed_model(ref, keys)
    code, out, _ = invoke("verify", ref, "--key", str(keys["other"]), "--format", "sarif",
                          capsys=capsys)  # fmt: skip
    sarif = json.loads(out)
    assert code == 1 and sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["results"] and sarif["runs"][0]["results"][0]["level"] == "error"


def test_certificate_expired_at_the_log_time(
    target: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    """A log whose clock says the entry was made an hour after signing: the 10-minute
    certificate had expired by then, so the signature does not count."""
    from tests.sigstore_stand_in import SigstoreStandIn

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with SigstoreStandIn() as late:
        late.rekor.clock_skew = 3600
        trust = tmp_path / "trust.json"
        late.write_trust_config(trust)
        ref = target
        token = late.issue_token(email="release@example.org")
        proc = run_attest("run", str(MODEL), "--to", ref, "--identity-token", token,
                          "--trust-config", str(trust), "--mode", "off",
                          env={"NO_PROXY": "127.0.0.1,localhost"})  # fmt: skip
        # the run's own closing verification already refuses what it signed
        assert proc.returncode == 1, proc.stdout + proc.stderr
        args = ["verify", ref, "--trust-config", str(trust),
                "--identity", "release@example.org", "--issuer", late.issuer]  # fmt: skip
        code, _, err = invoke(*args, capsys=capsys)
        assert code == 1 and "not valid at validation time" in err, err
