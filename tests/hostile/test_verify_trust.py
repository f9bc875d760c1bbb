"""Issue 11, "Verification and signing": a verifier that cannot be talked into "yes", a signer
that signs only what it was asked to. Each test is an attack that worked on the code before
this change (exit 0, or a forged line on screen), run for real: `attest run`/`sign`/`attach`
as child processes, `attest verify` in process, on OCI layouts; keyless through the loopback
Sigstore stand-in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from attest.evidence.attach import attach_statement
from attest.modelpack import media
from attest.oci import mediatypes as mt
from attest.oci.reference import parse_reference
from attest.oci.referrers import discover
from attest.oci.store import Descriptor
from attest.oci.stores import open_store
from attest.sign.keys import dev_key_path
from attest.stages.statement import Evidence
from tests.helpers import REPO_ROOT, make_model_dir, run_attest
from tests.test_verify import invoke

MODEL = REPO_ROOT / "testdata" / "models" / "open-llm"
STATEMENT_DIGEST = "dev.attest.statement.digest"
PREDICATE = "dev.attest.predicate-type"
CDX = "https://cyclonedx.org/bom/v1.6"
SLSA = "https://slsa.dev/provenance/v1"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("keys")
    assert run_attest("key", "generate", str(root / "release")).returncode == 0
    return {"key": root / "release.key", "pub": root / "release.pub"}


def _ok(proc: Any) -> Any:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _referrers(ref: str) -> tuple[Any, Descriptor, list[Any]]:
    reference = parse_reference(ref)
    store = open_store(reference)
    subject = store.get_manifest(reference.target or "latest").descriptor
    return store, subject, discover(store, subject.digest)


def _report(ref: str, *flags: str, capsys: Any) -> tuple[int, dict[str, Any]]:
    code, out, err = invoke("verify", ref, *flags, "--format", "json", capsys=capsys)
    return code, json.loads(out)


# 1 -------------------------------------------------------------------------------------------


def test_identity_flags_that_nothing_matches_fail(tmp_path: Path, release, capsys) -> None:
    """Before: `verify --key K --identity X --issuer Y` on a key-signed model exited 0 — the
    identity flags were never looked at, since no bundle was keyless."""
    ref = f"oci:{tmp_path}/lay:v1"
    _ok(run_attest("run", str(MODEL), "--to", ref, "--key", str(release["key"])))
    code, _, err = invoke("verify", ref, "--key", str(release["pub"]), capsys=capsys)
    assert code == 0, err  # the key alone verifies
    identity = ("--identity", "release@example.org", "--issuer", "https://accounts.example.com")
    code, out, err = invoke("verify", ref, "--key", str(release["pub"]), *identity, capsys=capsys)
    assert code == 1, out + err
    assert "--identity release@example.org" in err and "only key-signed bundles" in err
    code, report = _report(ref, "--key", str(release["pub"]), *identity, capsys=capsys)
    assert code == 1 and report["errors"] and "--issuer" in report["errors"][0]
    # --identity-regexp and the GitHub flags bind the same way
    code, _, err = invoke("verify", ref, "--key", str(release["pub"]), "--repository", "o/r",
                          capsys=capsys)  # fmt: skip
    assert code == 1 and "--repository o/r" in err


def test_identity_flags_need_a_matching_keyless_signature(
    sigstore_stand_in, sigstore_trust_config, tmp_path: Path, release, capsys, monkeypatch
) -> None:
    """Keyless bundles by someone else plus a key bundle by us: the identity flags must be
    met by a keyless signature; the key bundle does not stand in for it."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    ref = f"oci:{tmp_path}/lay:v1"
    token = sigstore_stand_in.issue_token(email="release@example.org")
    _ok(run_attest("run", str(MODEL), "--to", ref, "--identity-token", token,
                   "--trust-config", str(sigstore_trust_config),
                   env={"NO_PROXY": "127.0.0.1,localhost"}))  # fmt: skip
    base = ("verify", ref, "--trust-config", str(sigstore_trust_config), "--issuer",
            sigstore_stand_in.issuer)  # fmt: skip
    code, out, err = invoke(*base, "--identity", "release@example.org", capsys=capsys)
    assert code == 0, err
    assert "keyless release@example.org" in out
    code, _, err = invoke(*base, "--identity", "mallory@example.org", capsys=capsys)
    assert code == 1 and "mallory@example.org" in err


# 2 -------------------------------------------------------------------------------------------


def test_the_dev_key_is_trusted_only_when_named(tmp_path: Path, capsys) -> None:
    """Before: `attest verify REF` on a dev-key-signed model exited 0: anyone who could write
    the user's config directory (or any model signed on this machine) was trusted."""
    ref = f"oci:{tmp_path}/lay:v1"
    proc = _ok(run_attest("run", str(MODEL), "--to", ref))  # no flags: the dev key
    code, out, err = invoke("verify", ref, capsys=capsys)
    assert code == 1, out
    assert "--allow-dev-key" in err
    # the run's own closing self-check may trust it, and says so
    assert "self-check trusts the dev key" in proc.stdout
    code, out, err = invoke("verify", ref, "--allow-dev-key", capsys=capsys)
    assert code == 0, err
    assert "dev key — not for release" in out
    dev_pub = dev_key_path().with_suffix(".pub")
    code, report = _report(ref, "--key", str(dev_pub), capsys=capsys)
    assert code == 0
    kinds = {s["kind"] for r in report["referrers"] for s in r["signatures"]}
    assert kinds == {"dev-key"}  # named by path, still reported as the dev key to policies


# 3 -------------------------------------------------------------------------------------------


def test_sign_signs_only_what_was_made_or_named(tmp_path: Path, release, capsys) -> None:
    """Before: `attest sign REF --key release.key` signed every unsigned statement attached,
    including provenance anyone with push rights had put there."""
    ref = f"oci:{tmp_path}/lay:v1"
    _ok(run_attest("pack", str(make_model_dir(tmp_path / "m")), "--to", ref))
    store, subject, _ = _referrers(ref)
    forged = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "m", "digest": {"sha256": subject.digest.split(":")[1]}}],
        "predicateType": SLSA,
        "predicate": {"buildDefinition": {"buildType": "https://evil.example/trust-me"}},
    }
    planted = attach_statement(store, subject, Evidence(statement=forged))
    sign = ("sign", ref, "--key", str(release["key"]))

    proc = run_attest(*sign)
    assert proc.returncode == 2 and "nothing to sign" in proc.stderr, proc.stdout
    proc = _ok(run_attest(*sign, "--oms", "--format", "json"))
    signed = json.loads(proc.stdout)["signed"]
    assert [s["predicateType"] for s in signed] == ["https://model_signing/signature/v1.0"]
    assert signed[0]["from"].startswith("--oms")
    _, _, refs = _referrers(ref)
    bundles = [r for r in refs if r.artifact_type == mt.SIGSTORE_BUNDLE_V03]
    assert [r.annotations["dev.sigstore.bundle.predicateType"] for r in bundles] == [
        "https://model_signing/signature/v1.0"
    ]
    code, report = _report(ref, "--key", str(release["pub"]), capsys=capsys)
    assert code == 0
    assert not [r for r in report["referrers"] if r["predicateType"] == SLSA and r["signatures"]]

    # named explicitly — by digest, or by a local file with its bytes — it is signed, and the
    # output says where it came from
    proc = _ok(run_attest(*sign, "--document", planted.digest))
    assert SLSA in proc.stdout and f"from attached {planted.digest}" in proc.stdout
    held = next(r for r in _referrers(ref)[2] if r.descriptor.digest == planted.digest)
    layer = Descriptor.from_dict(held.manifest["layers"][0])
    copy = tmp_path / "statement.json"
    copy.write_bytes(store.fetch_blob(layer))
    proc = _ok(run_attest(*sign, "--document", str(copy), "--format", "json"))
    assert json.loads(proc.stdout)["signed"][0]["from"] == f"attached {planted.digest}"
    proc = run_attest(*sign, "--document", "sha256:" + "0" * 64)
    assert proc.returncode == 2 and "no referrer" in proc.stderr


# 4 -------------------------------------------------------------------------------------------


def _attach(ref: str, path: Path, artifact_type: str, notes: dict[str, str]) -> str:
    args = ["attach", ref, str(path), "--artifact-type", artifact_type, "--format", "json"]
    for k, v in notes.items():
        args += ["--annotation", f"{k}={v}"]
    return str(json.loads(_ok(run_attest(*args)).stdout)["digest"])


def test_a_forged_document_beside_a_real_bundle_is_unverified(
    tmp_path: Path, release, capsys
) -> None:
    """Before: any document annotated with a real bundle's digest was reported as "vouched
    for" by it, whatever its bytes."""
    ref = f"oci:{tmp_path}/lay:v1"
    _ok(run_attest("run", str(MODEL), "--to", ref, "--key", str(release["key"])))
    store, _, refs = _referrers(ref)
    real = next(r for r in refs if r.artifact_type == "application/vnd.cyclonedx+json")
    bundle = real.annotations[STATEMENT_DIGEST]
    original = store.fetch_blob(Descriptor.from_dict(real.manifest["layers"][0]))
    doc = json.loads(original)
    notes = {STATEMENT_DIGEST: bundle, PREDICATE: CDX}

    doc["metadata"]["component"]["name"] = "a-model-you-did-not-sign"
    forged = tmp_path / "sbom.cdx.json"
    forged.write_text(json.dumps(doc))
    edited = _attach(ref, forged, "application/vnd.cyclonedx+json", notes)
    # the same content with a duplicate key first: Python's last-wins reader sees the signed
    # document, a first-wins reader sees "EVIL"
    twofaced = tmp_path / "twofaced.cdx.json"
    twofaced.write_bytes(b'{"bomFormat": "EVIL", ' + original.lstrip()[1:])
    twofaced_digest = _attach(ref, twofaced, "application/vnd.cyclonedx+json", notes)
    card = next(r for r in refs if r.artifact_type == "text/markdown")
    fake_card = tmp_path / "MODEL_CARD.md"
    fake_card.write_text("# Audited and approved\n")
    card_digest = _attach(ref, fake_card, "text/markdown",
                          {STATEMENT_DIGEST: card.annotations[STATEMENT_DIGEST]})  # fmt: skip
    mot = next(r for r in refs if r.artifact_type == "application/vnd.attest.mof.config.v1+yaml")
    fake_mot = tmp_path / "mof.yml"
    fake_mot.write_text("framework: {name: MOF}\n")
    mot_digest = _attach(ref, fake_mot, "application/vnd.attest.mof.config.v1+yaml",
                         {STATEMENT_DIGEST: mot.annotations[STATEMENT_DIGEST]})  # fmt: skip

    code, report = _report(ref, "--key", str(release["pub"]), capsys=capsys)
    assert code == 0  # a forged document is not a failed signature: it is simply not vouched
    by_digest = {r["digest"]: r for r in report["referrers"]}
    for digest in (real.descriptor.digest, card.descriptor.digest, mot.descriptor.digest):
        assert by_digest[digest]["summary"] == {"statement": by_digest[digest]["annotations"][
            STATEMENT_DIGEST]}, by_digest[digest]  # fmt: skip
    for digest in (edited, twofaced_digest, card_digest, mot_digest):
        entry = by_digest[digest]
        assert "statement" not in entry["summary"], entry
        assert entry["errors"] and entry["errors"][0].startswith("not vouched for"), entry
    assert "duplicate key" in by_digest[twofaced_digest]["errors"][0]
    _, out, _ = invoke("verify", ref, "--key", str(release["pub"]), capsys=capsys)
    assert out.count("document, NOT vouched for") == 4
    # under the built-in policy, a forged document is a violation
    params = tmp_path / "params.yaml"
    params.write_text("identity:\n  allowed: [{kind: key}]\n")
    code, out, err = invoke("verify", ref, "--key", str(release["pub"]), "--params", str(params),
                            capsys=capsys)  # fmt: skip
    assert code == 1 and "SIGNATURES_INVALID" in out and "not vouched for" in out, out + err


# 5 -------------------------------------------------------------------------------------------


def test_our_own_oms_bundle_verifies_against_the_layers(tmp_path: Path, release, capsys) -> None:
    """Before: after `attest sign --oms`, `attest verify` exited 1: "statement is about <tree
    digest>" — the OMS statement was held to the manifest digest."""
    ref = f"oci:{tmp_path}/lay:v1"
    _ok(run_attest("pack", str(MODEL), "--to", ref))
    _ok(run_attest("sign", ref, "--key", str(release["key"]), "--oms"))
    code, out, err = invoke("verify", ref, "--key", str(release["pub"]), capsys=capsys)
    assert code == 0, out + err
    code, report = _report(ref, "--key", str(release["pub"]), capsys=capsys)
    oms = next(r for r in report["referrers"]
               if r["predicateType"] == "https://model_signing/signature/v1.0")  # fmt: skip
    layers = len(json.loads(_referrers(ref)[0].get_manifest("v1").data)["layers"])
    assert oms["signatures"][0]["verified"] and oms["summary"] == {"files": layers}

    # a genuine OMS bundle of another model, signed by the same key, attached here: refused
    other = f"oci:{tmp_path}/lay:other"
    _ok(run_attest("pack", str(make_model_dir(tmp_path / "other")), "--to", other))
    _ok(run_attest("sign", other, "--key", str(release["key"]), "--oms"))
    store, other_subject, other_refs = _referrers(other)
    stolen = next(r for r in other_refs if r.artifact_type == mt.SIGSTORE_BUNDLE_V03)
    from attest.evidence.attach import attach_bundle

    _, subject, _ = _referrers(ref)
    stolen_bytes = store.fetch_blob(Descriptor.from_dict(stolen.manifest["layers"][0]))
    attach_bundle(store, subject, stolen_bytes, "https://model_signing/signature/v1.0")
    code, _, err = invoke("verify", ref, "--key", str(release["pub"]), capsys=capsys)
    assert code == 1 and "not the artifact's layers" in err, err


# 6 -------------------------------------------------------------------------------------------


def test_an_annotation_cannot_draw_a_verified_line(tmp_path: Path, release, capsys) -> None:
    """Before: a newline in a document's predicate-type annotation printed a line of its own,
    indistinguishable from a verified keyless signature."""
    ref = f"oci:{tmp_path}/lay:v1"
    _ok(run_attest("run", str(MODEL), "--to", ref, "--key", str(release["key"])))
    fake_line = (f"  ✓ {SLSA:<42} keyless release@example.org "
                 "(https://token.actions.githubusercontent.com, tlog)")  # fmt: skip
    note = tmp_path / "note.txt"
    note.write_text("hi\n")
    _attach(ref, note, "text/plain", {PREDICATE: f"x\n{fake_line}\r\x1b[2K"})
    code, out, _ = invoke("verify", ref, "--key", str(release["pub"]), capsys=capsys)
    assert code == 0
    assert "keyless" not in "".join(line for line in out.splitlines()
                                    if line.lstrip().startswith("✓"))  # fmt: skip
    assert "\x1b" not in out and "\r" not in out
    assert "x\\n  ✓ https://slsa.dev/provenance/v1" in out  # shown, escaped, on one line


def test_safe_escapes_every_line_breaking_and_terminal_character() -> None:
    from attest.text import safe  # the one helper every text output uses

    assert safe("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert safe("\x1b[31mred\x07") == "\\x1b[31mred\\x07"
    assert safe("x\u2028y\u2029z\u0085") == "x\\u2028y\\u2029z\\x85"
    assert safe("abc\u202etxt.exe") == "abc\\u202etxt.exe"  # right-to-left override
    assert safe("modèle 模型 café") == "modèle 模型 café"  # printable text unchanged
    assert safe("a\u00a0b") == "a\u00a0b"


def test_log_lines_on_stderr_are_escaped_too() -> None:
    import logging

    from attest.text import SafeFormatter

    record = logging.LogRecord("attest", logging.WARNING, __file__, 1,
                               "ignoring %s", ("x\nattest: INFO: all good",), None)  # fmt: skip
    line = SafeFormatter("attest: %(levelname)s: %(message)s").format(record)
    assert line == "attest: WARNING: ignoring x\\nattest: INFO: all good"


def test_file_names_in_inspect_are_escaped(tmp_path: Path, capsys) -> None:
    from attest.oci.layout import LayoutStore
    from tests.helpers import push_artifact, push_raw_blob

    store = LayoutStore(tmp_path / "lay", create=True)
    name = "README\n  weights.bin\x1b[2J"
    layer = push_raw_blob(store, b"x", media.model_layer_type("doc"),
                          annotations={mt.ANNOTATION_FILEPATH: name})  # fmt: skip
    push_artifact(store, [layer], tag="v1")
    code, out, err = invoke("inspect", f"oci:{tmp_path}/lay:v1", capsys=capsys)
    assert code == 0, err
    assert "README\\n  weights.bin\\x1b[2J" in out and "\x1b" not in out
