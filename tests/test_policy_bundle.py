"""``attest policy push``: OPA bundles as OCI artifacts — tarball structure, reproducibility,
push to an OCI layout and a real registry, and ``--policy REF`` loading them back."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
import requests

from attest.errors import InputError, UsageError
from attest.flows.policy import resolve_policy
from attest.flows.policy_bundle import push_bundle
from attest.oci import mediatypes as mt
from attest.oci.layout import LayoutStore
from attest.oci.mediatypes import OCI_IMAGE_CONFIG as BUNDLE_CONFIG
from attest.oci.mediatypes import OCI_LAYER_TAR_GZIP as BUNDLE_LAYER
from attest.oci.store import Descriptor
from attest.policy.bundle import build_bundle, compute_roots, read_bundle
from attest.policy.decision import evaluate
from tests.helpers import REPO_ROOT, push_raw_blob
from tests.test_policies import BAD_REPORTS, good_report

POLICIES = REPO_ROOT / "policies"
RELEASE = {
    "identity": {"allowed": [{"github_workflow_ref": "acme/models/.github/workflows/release.yml"}]},
    "sbom": {"denied_licenses": ["GPL-*"]},
    "mof": {"min_class": "II"},
}


def _members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return tar.getmembers()


def _user_policy(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "release.rego").write_text(
        "package acme.release\nimport rego.v1\nimport data.lib.modelpack.mof\n"
        "deny contains v if some v in mof.violations(input, data.acme.params)\n"
    )
    (root / "release_test.rego").write_text(
        "package acme.release_test\nimport rego.v1\ntest_nothing if true\n"
    )
    (root / "acme").mkdir(exist_ok=True)
    (root / "acme" / "data.json").write_text('{"params": {"mof": {"min_class": "II"}}}')
    (root / ".git").mkdir(exist_ok=True)
    (root / ".git" / "junk.rego").write_text("not rego")
    (root / "README.md").write_text("not part of the bundle")
    return root


# -- the tarball ------------------------------------------------------------------------------


def test_bundle_structure_of_the_library() -> None:
    bundle = build_bundle(POLICIES)
    members = _members(bundle.data)
    names = [m.name for m in members]
    assert names == sorted(names) and names[0] == ".manifest"
    assert "data.json" in names and "main.rego" in names
    assert "lib/modelpack/sbom.rego" in names
    assert not [n for n in names if n.endswith("_test.rego")]  # tests left out by default
    for m in members:
        assert m.isreg() and m.mtime == 0 and m.uid == m.gid == 0
        assert m.uname == m.gname == "" and m.mode == 0o644
    with tarfile.open(fileobj=io.BytesIO(bundle.data), mode="r:gz") as tar:
        manifest = json.load(tar.extractfile(".manifest"))  # type: ignore[arg-type]
    assert manifest == bundle.manifest
    assert manifest["rego_version"] == 1 and manifest["revision"]
    modules = [
        "admission",
        "cards",
        "evidence",
        "freshness",
        "identity",
        "mof",
        "notation",
        "provenance",
        "sbom",
        "signatures",
        "util",
    ]
    assert manifest["roots"] == ["attest", *(f"lib/modelpack/{n}" for n in modules)]


def test_gzip_header_is_fixed() -> None:
    data = build_bundle(POLICIES).data
    assert data[:3] == b"\x1f\x8b\x08"
    assert data[3] & 0x08 == 0  # no FNAME
    assert data[4:8] == b"\0\0\0\0"  # MTIME 0
    gzip.decompress(data)


def test_bundles_are_reproducible(tmp_path: Path) -> None:
    first = build_bundle(POLICIES)
    copy = tmp_path / "copy"
    shutil.copytree(POLICIES, copy)  # other paths, other mtimes
    for path in copy.rglob("*"):
        path.touch()
    assert build_bundle(copy).data == first.data
    (copy / "main.rego").write_text((copy / "main.rego").read_text() + "\n# changed\n")
    changed = build_bundle(copy)
    assert changed.digest != first.digest
    assert changed.manifest["revision"] != first.manifest["revision"]
    assert build_bundle(copy, revision="v1.2.3").manifest["revision"] == "v1.2.3"


def test_user_bundle_carries_the_library_it_imports(tmp_path: Path) -> None:
    bundle = build_bundle(_user_policy(tmp_path / "p"))
    names = set(bundle.files)
    assert {"release.rego", "acme/data.json", ".manifest"} <= names
    assert "library/lib/modelpack/mof.rego" in names
    assert not [n for n in names if "attest.main" in n or n == "library/main.rego"]
    assert not [n for n in names if n.startswith(".git") or n.endswith(".md")]
    assert "release_test.rego" not in names
    roots = bundle.manifest["roots"]
    assert roots[:2] == ["acme/params", "acme/release"]  # data.acme.params, package acme.release
    assert "lib/modelpack/mof" in roots and "attest" not in roots

    bare = build_bundle(tmp_path / "p", library=False, include_tests=True)
    assert not [n for n in bare.files if n.startswith("library/")]
    assert "release_test.rego" in bare.files


def test_roots_never_overlap() -> None:
    files = {
        "a.rego": b"package acme.models.release\n",
        "b.rego": b"package acme.models\n",
        "c.rego": b"package other\n",
        "x/data.json": b'{"y": 1}',
    }
    assert compute_roots(files) == ["acme/models", "other", "x/y"]
    with pytest.raises(InputError, match="package"):
        compute_roots({"p.rego": b"x := 1\n"})


# -- push and load back -----------------------------------------------------------------------


def test_push_to_a_layout_and_verify_with_it(tmp_path: Path) -> None:
    bundle = build_bundle(_user_policy(tmp_path / "p"))
    pushed = push_bundle(bundle, f"oci:{tmp_path / 'layout'}:policy-v1")
    again = push_bundle(bundle, f"oci:{tmp_path / 'layout'}:policy-v1")
    assert again.manifest.digest == pushed.manifest.digest

    store = LayoutStore(tmp_path / "layout")
    manifest = json.loads(store.get_manifest("policy-v1").data)
    assert manifest["mediaType"] == mt.OCI_MANIFEST
    assert manifest["config"] == {
        "mediaType": BUNDLE_CONFIG, "size": 2,
        "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    }  # fmt: skip
    assert [layer["mediaType"] for layer in manifest["layers"]] == [BUNDLE_LAYER]
    assert manifest["layers"][0]["digest"] == bundle.digest
    assert manifest["layers"][0]["annotations"] == {
        "org.opencontainers.image.title": "bundle.tar.gz"
    }

    policy = resolve_policy(f"oci:{tmp_path / 'layout'}:policy-v1")
    assert policy.digest == pushed.manifest.digest
    assert policy.origin.endswith("@" + pushed.manifest.digest)
    local = resolve_policy(tmp_path / "p")
    bad = BAD_REPORTS["class-three"][0](good_report())
    assert evaluate(bad, policy).violations == evaluate(bad, local).violations
    assert {v.code for v in evaluate(bad, policy).violations} == {"MOF_CLASS_TOO_LOW"}
    assert evaluate(good_report(), policy).violations == ()


def test_the_library_round_trips_through_a_bundle(tmp_path: Path) -> None:
    pushed = push_bundle(build_bundle(POLICIES), f"oci:{tmp_path / 'l'}:lib")
    policy = resolve_policy(f"oci:{tmp_path / 'l'}@{pushed.manifest.digest}")
    builtin = resolve_policy(None)
    assert policy.data == builtin.data
    for case, (mutate, _) in BAD_REPORTS.items():
        assert {v.code for v in evaluate(mutate(good_report()), policy, RELEASE).violations} == {
            v.code for v in evaluate(mutate(good_report()), builtin, RELEASE).violations
        }, case


def test_push_refuses_digests_and_empty_dirs(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="tag"):
        push_bundle(build_bundle(POLICIES), f"oci:{tmp_path}@sha256:{'0' * 64}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no .rego"):
        build_bundle(tmp_path / "empty")


# -- hostile or foreign artifacts ----------------------------------------------------------------


def _push_layer(tmp_path: Path, layer: bytes, media_type: str = BUNDLE_LAYER) -> str:
    store = LayoutStore(tmp_path / "evil", create=True)
    config = push_raw_blob(store, b"{}", BUNDLE_CONFIG)
    desc = push_raw_blob(store, layer, media_type)
    manifest = {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
                "config": config.to_dict(), "layers": [desc.to_dict()]}  # fmt: skip
    store.push_manifest(json.dumps(manifest).encode(), mt.OCI_MANIFEST, tag="x")
    return f"oci:{tmp_path / 'evil'}:x"


def _targz(entries: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for info, data in entries:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def test_an_artifact_without_a_bundle_layer_is_refused(tmp_path: Path) -> None:
    ref = _push_layer(tmp_path, b"not a bundle", "application/vnd.example.other")
    with pytest.raises(InputError, match="not a policy bundle"):
        resolve_policy(ref)


def test_path_traversal_and_links_are_refused(tmp_path: Path) -> None:
    escape = tarfile.TarInfo("../escape.rego")
    with pytest.raises(InputError, match="unsafe"):
        read_bundle(_targz([(escape, b"package x\n")]))
    link = tarfile.TarInfo("link.rego")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    with pytest.raises(InputError, match="not a regular file"):
        read_bundle(_targz([(link, b"")]))
    with pytest.raises(InputError, match="tar.gz"):
        read_bundle(b"garbage")


def test_rego_v0_bundles_are_refused(tmp_path: Path) -> None:
    layer = _targz([
        (tarfile.TarInfo(".manifest"), b'{"roots": [""], "rego_version": 0}'),
        (tarfile.TarInfo("p.rego"), b"package p\nallow { true }\n"),
    ])  # fmt: skip
    with pytest.raises(InputError, match="rego_version 0"):
        resolve_policy(_push_layer(tmp_path, layer))


def test_a_bundle_layer_is_digest_checked(tmp_path: Path) -> None:
    ref = _push_layer(tmp_path, build_bundle(POLICIES).data)
    store = LayoutStore(tmp_path / "evil")
    layer = Descriptor.from_dict(json.loads(store.get_manifest("x").data)["layers"][0])
    store.blob_path(layer.digest).write_bytes(build_bundle(POLICIES, revision="tampered").data)
    with pytest.raises(InputError):
        resolve_policy(ref)


# -- a real registry -----------------------------------------------------------------------------


def test_push_to_a_registry_and_verify_with_it(registry, tmp_path: Path) -> None:  # noqa: ANN001
    bundle = build_bundle(_user_policy(tmp_path / "p"))
    pushed = push_bundle(bundle, f"{registry.ref}:policy-v1")
    assert pushed.reference == f"{registry.ref}:policy-v1@{pushed.manifest.digest}"

    raw = requests.get(
        f"{registry.url}/v2/{registry.repo}/manifests/policy-v1",
        headers={"Accept": mt.OCI_MANIFEST}, timeout=10,
    )  # fmt: skip
    assert raw.headers["Docker-Content-Digest"] == pushed.manifest.digest
    manifest = raw.json()
    assert manifest["config"]["mediaType"] == BUNDLE_CONFIG
    assert [layer["mediaType"] for layer in manifest["layers"]] == [BUNDLE_LAYER]
    blob = requests.get(
        f"{registry.url}/v2/{registry.repo}/blobs/{manifest['layers'][0]['digest']}", timeout=10
    ).content
    assert blob == bundle.data

    for ref in (f"{registry.ref}:policy-v1", pushed.reference):
        policy = resolve_policy(ref)
        assert policy.digest == pushed.manifest.digest
        bad = BAD_REPORTS["class-three"][0](good_report())
        assert {v.code for v in evaluate(bad, policy).violations} == {"MOF_CLASS_TOO_LOW"}
