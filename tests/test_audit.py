"""`attest audit` over a fleet in the real docker-registry: signed, unsigned, tampered models
and plain images, listed through the catalog and tags APIs or from a file."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from attest.evidence.attach import attach_bundle
from attest.oci import mediatypes as mt
from attest.oci.reference import parse_reference
from attest.oci.referrers import discover
from attest.oci.store import Descriptor
from attest.oci.stores import open_store
from tests.helpers import push_artifact, push_raw_blob, run_attest

PREDICATE = "dev.sigstore.bundle.predicateType"


def _copy(src: str, dst: str) -> None:
    """The same copy `attest copy` makes (with every referrer), in process: the fixture makes
    several, and the command itself is tested in test_registry_integration."""
    from attest.oci.copy import copy_artifact

    s, d = parse_reference(src), parse_reference(dst)
    copy_artifact(open_store(s), s.target or "latest", open_store(d), d.tag)


def _tamper(ref: str) -> None:
    """Attach a bundle whose payload was changed after signing (the signature no longer fits)."""
    reference = parse_reference(ref)
    store = open_store(reference)
    subject = store.get_manifest(reference.target or "latest").descriptor
    bundle_ref = discover(store, subject.digest, artifact_type=mt.SIGSTORE_BUNDLE_V03)[0]
    bundle = json.loads(store.fetch_blob(Descriptor.from_dict(bundle_ref.manifest["layers"][0])))
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["predicate"] = {"forged": True}
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    attach_bundle(store, subject, json.dumps(bundle).encode(), bundle_ref.annotations[PREDICATE])


@pytest.fixture(scope="module")
def fleet(registry_server, signed_ref: str, unsigned_ref: str) -> dict[str, list[str]]:
    host = registry_server.host
    fleet: dict[str, list[str]] = {"verified": [], "failed": [], "not-a-model": []}
    for i in range(3):
        ref = f"{host}/audit/signed-{i}:v1"
        _copy(signed_ref, ref)
        fleet["verified"].append(ref)
    _copy(signed_ref, f"{host}/audit/signed-0:also")  # same digest, second tag
    fleet["verified"].append(f"{host}/audit/signed-0:also")
    for i in range(2):
        ref = f"{host}/audit/unsigned-{i}:v1"
        _copy(unsigned_ref, ref)
        fleet["failed"].append(ref)
    tampered = f"{host}/audit/tampered:v1"
    _copy(signed_ref, tampered)
    _tamper(tampered)
    fleet["failed"].append(tampered)
    plain = open_store(parse_reference(f"{host}/audit/plain-image:latest"))
    layer = push_raw_blob(plain, b"not a model", "application/vnd.oci.image.layer.v1.tar")
    push_artifact(plain, [layer], config={"architecture": "amd64", "os": "linux"},
                  config_type="application/vnd.oci.image.config.v1+json", artifact_type=None,
                  tag="latest")  # fmt: skip
    fleet["not-a-model"].append(f"{host}/audit/plain-image:latest")
    return fleet


def test_audit_namespace_reports_each_model(registry_server, fleet, release_key) -> None:
    done = run_attest("audit", f"{registry_server.host}/audit", "--key", f"{release_key}.pub",
                      "-j", "4", "--format", "json")  # fmt: skip
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    status = {i["reference"]: i["status"] for i in report["items"]}
    expected = {ref: s for s, refs in fleet.items() for ref in refs}
    assert status == expected  # every tag, nothing else (no sha256-* fallback tags)
    assert report["summary"] == {"verified": 4, "failed": 3, "not-a-model": 1, "error": 0}
    reasons = {i["reference"]: i["reason"] or "" for i in report["items"]}
    assert "no verified signature" in reasons[fleet["failed"][0]]
    tampered = next(r for r in fleet["failed"] if "tampered" in r)
    assert "signature" in reasons[tampered]
    verified = [i for i in report["items"] if i["status"] == "verified"]
    assert all(i["mofClass"] == "III" and i["digest"].startswith("sha256:") for i in verified)
    assert "failed verification" in done.stderr


def test_audit_file_of_references(tmp_path: Path, fleet, release_key) -> None:
    refs = tmp_path / "fleet.txt"
    refs.write_text("# models we ship\n" + "\n".join(fleet["verified"]) + "\n\n")
    done = run_attest("audit", str(refs), "--key", f"{release_key}.pub", "--format", "markdown")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("| ✓ verified |") == 4
    assert "4 reference(s): 4 verified" in done.stdout


def test_audit_namespace_filter_and_bad_file(registry_server, fleet, release_key, tmp_path) -> None:
    done = run_attest("audit", f"{registry_server.host}/audit/signed-1", "--key",
                      f"{release_key}.pub", "--format", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [i["reference"] for i in json.loads(done.stdout)["items"]] == [fleet["verified"][1]]
    bad = tmp_path / "bad.txt"
    bad.write_text("not a reference at all!\n")
    done = run_attest("audit", str(bad), "--key", f"{release_key}.pub")
    assert done.returncode == 2, done.stderr


def test_fleet_manifests_render_validate_and_gather_real_reports(
    registry_server, fleet, release_key, tmp_path: Path
) -> None:
    """deploy/audit renders with the real kustomize, every object validates (Kubernetes 1.36,
    Argo Workflows' WorkflowTemplate CRD), and the gather step's script, run on the JSON of two
    real audit shards, fails exactly when a shard has a failed model."""
    import os
    import shutil
    import subprocess
    import sys

    import yaml

    from tests.helpers import REPO_ROOT
    from tests.k8s_schemas import validate_object

    base = REPO_ROOT / "deploy" / "audit"
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl (kustomize) is installed on these machines"
    rendered = subprocess.run([kubectl, "kustomize", str(base)], capture_output=True, text=True,
                              check=True).stdout  # fmt: skip
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    assert {d["kind"] for d in docs} == {"ServiceAccount", "CronJob", "WorkflowTemplate"}
    for doc in docs:
        validate_object(doc)
    template = next(d for d in docs if d["kind"] == "WorkflowTemplate")
    gather = next(t for t in template["spec"]["templates"] if t["name"] == "gather")
    script = tmp_path / "gather.py"
    script.write_text(gather["script"]["source"])

    def shard(ns: str) -> str:
        done = run_attest("audit", f"{registry_server.host}/{ns}", "--key", f"{release_key}.pub",
                          "--format", "json")  # fmt: skip
        return done.stdout

    good, bad = shard("audit/signed-1"), shard("audit/unsigned-0")
    for reports, code in (([good, good], 0), ([good, bad], 1)):
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              env={**os.environ, "REPORTS": json.dumps(reports)})  # fmt: skip
        assert done.returncode == code, done.stderr
    assert "FAILED" in done.stdout and "unsigned-0" in done.stdout


def test_a_hostile_reference_list_is_refused_before_any_work(tmp_path: Path, release_key) -> None:
    """A list file is read capped and only when it is a regular file: one endless line, a FIFO
    (which would block forever) and bytes that are not UTF-8 are each one error line, exit 2."""
    import os

    from attest.flows.audit import MAX_LIST_BYTES

    huge = tmp_path / "huge.txt"
    with huge.open("wb") as f:
        f.truncate(MAX_LIST_BYTES + 1)  # sparse: no disk used, one line of NULs
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"reg.example/a:v1\n\xff\xfe\n")
    for path, says in ((huge, "larger than"), (fifo, "fifo"), (binary, "not utf-8")):
        done = run_attest("audit", str(path), "--key", f"{release_key}.pub")
        assert done.returncode == 2, (path, done.stderr)
        assert says in done.stderr.lower() and done.stderr.count("\n") == 1, done.stderr
