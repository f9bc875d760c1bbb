"""The OCI layout store, referrers (fallback tag logic) and copy, on disk only."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from attest.errors import InputError, NotFoundError
from attest.oci import mediatypes as mt
from attest.oci.config_schema import validate_image_index
from attest.oci.copy import copy_artifact
from attest.oci.layout import LayoutStore
from attest.oci.reference import fallback_tag
from attest.oci.referrers import (
    Blob,
    add_to_fallback_index,
    attach,
    discover,
    index_entry,
    push_referrer_manifest,
)
from attest.oci.store import Descriptor, sha256_bytes


def make_subject(store: LayoutStore, tag: str = "v1", payload: bytes = b"weights") -> Descriptor:
    layer = Descriptor.for_bytes("application/vnd.cncf.model.weight.v1.raw", payload)
    store.push_blob(layer, io.BytesIO(payload))
    config = b'{"descriptor":{"name":"x"},"config":{},"modelfs":{"type":"layers","diffIds":[]}}'
    cdesc = Descriptor.for_bytes(mt.MODEL_CONFIG, config)
    store.push_blob(cdesc, io.BytesIO(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": mt.MODEL_ARTIFACT_TYPE,
        "config": cdesc.to_dict(),
        "layers": [layer.to_dict()],
    }
    # unusual spacing: the digest must be of these exact bytes
    data = json.dumps(manifest, indent=3).encode()
    return store.push_manifest(data, mt.OCI_MANIFEST, tag=tag).descriptor


def doc_blob(text: str, media_type: str = "text/plain") -> Blob:
    data = text.encode()
    return Blob(Descriptor.for_bytes(media_type, data), data)


def test_layout_round_trip_exact_bytes(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path / "lay", create=True)
    subject = make_subject(store)
    fetched = store.get_manifest("v1")
    assert fetched.descriptor.digest == subject.digest == sha256_bytes(fetched.data)
    assert store.get_manifest(subject.digest).data == fetched.data
    assert store.tags() == ["v1"]
    layout = json.loads((tmp_path / "lay" / "oci-layout").read_text())
    assert layout == {"imageLayoutVersion": "1.0.0"}
    # the image-spec's own schemas as the outside oracle for what the writer left on disk
    repo = Path(__file__).resolve().parent.parent
    schemas = repo / "testdata" / "vectors" / "modelpack" / "oci-image-spec-v1.1.1"
    jsonschema.validate(layout, json.loads((schemas / "image-layout-schema.json").read_text()))
    validate_image_index(json.loads((tmp_path / "lay" / "index.json").read_text()))
    with pytest.raises(NotFoundError):
        store.get_manifest("nope")


def test_retag_moves_tag(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path, create=True)
    first = make_subject(store, "v1", b"a")
    second = make_subject(store, "v1", b"b")
    assert first.digest != second.digest
    assert store.get_manifest("v1").descriptor.digest == second.digest
    index = json.loads((tmp_path / "index.json").read_text())
    assert [m["digest"] for m in index["manifests"]] == [second.digest]


def test_corrupt_blob_rejected_and_not_stored(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path, create=True)
    desc = Descriptor.for_bytes("application/octet-stream", b"good")
    with pytest.raises(InputError):
        store.push_blob(desc, io.BytesIO(b"evil"))
    assert not store.blob_exists(desc.digest)
    assert not [p for p in (tmp_path / "blobs" / "sha256").iterdir()]


def test_attach_and_discover_in_layout(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path, create=True)
    subject = make_subject(store)
    r1 = attach(store, subject, "application/spdx+json", [doc_blob("{}", "application/json")])
    r2 = attach(store, subject, "text/markdown", [doc_blob("# card")], {"k": "v"})
    found = discover(store, subject.digest)
    assert {r.descriptor.digest for r in found} == {r1.digest, r2.digest}
    only = discover(store, subject.digest, artifact_type="text/markdown")
    assert [r.descriptor.digest for r in only] == [r2.digest]
    assert only[0].annotations["k"] == "v"
    assert mt.ANNOTATION_CREATED in only[0].annotations
    # the layout lists referrers with artifactType and annotations, and needs no fallback tag
    index = json.loads((tmp_path / "index.json").read_text())
    entry = next(m for m in index["manifests"] if m["digest"] == r2.digest)
    assert entry["artifactType"] == "text/markdown" and entry["annotations"]["k"] == "v"
    assert fallback_tag(subject.digest) not in store.tags()


def test_fallback_index_follows_the_spec(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path, create=True)
    subject = make_subject(store)
    blob = doc_blob("sbom", "application/json")
    store.push_blob(blob.descriptor, blob.open())
    store.push_blob(Descriptor(mt.OCI_EMPTY, mt.EMPTY_DIGEST, 2), io.BytesIO(b"{}"))
    from attest.oci.referrers import build_referrer_manifest

    data = build_referrer_manifest(
        subject, "application/vnd.example+json", [blob.descriptor], {"a": "1"}
    )
    desc = push_referrer_manifest(store, data, mt.OCI_MANIFEST, mode="tag")
    push_referrer_manifest(store, data, mt.OCI_MANIFEST, mode="tag")  # no duplicate
    tag = fallback_tag(subject.digest)
    assert tag == "sha256-" + subject.digest.split(":")[1]
    index = store.get_manifest(tag)
    assert index.descriptor.media_type == mt.OCI_INDEX
    body = index.json()
    assert body["mediaType"] == mt.OCI_INDEX and body["schemaVersion"] == 2
    assert len(body["manifests"]) == 1
    entry = body["manifests"][0]
    assert entry["digest"] == desc.digest and entry["size"] == len(data)
    assert entry["artifactType"] == "application/vnd.example+json"
    assert entry["annotations"]["a"] == "1" and mt.ANNOTATION_CREATED in entry["annotations"]
    found = discover(store, subject.digest, mode="tag")
    assert [r.descriptor.digest for r in found] == [desc.digest]


def test_discovery_drops_forged_fallback_entries(tmp_path: Path) -> None:
    """An entry in the tag index whose manifest has another subject is not a referrer."""
    store = LayoutStore(tmp_path, create=True)
    subject = make_subject(store, "a", b"one")
    other = make_subject(store, "b", b"two")
    forged = attach(store, other, "text/plain", [doc_blob("forged")])
    # cosign-style entry: no artifactType, no annotations
    add_to_fallback_index(
        store, subject.digest, Descriptor(mt.OCI_MANIFEST, forged.digest, forged.size)
    )
    genuine = attach(store, subject, "text/plain", [doc_blob("real")], mode="tag")
    found = discover(store, subject.digest, mode="tag")
    assert [r.descriptor.digest for r in found] == [genuine.digest]
    assert found[0].artifact_type == "text/plain"  # classified from the manifest itself


def test_fallback_tag_that_is_not_an_index_is_refused(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path, create=True)
    subject = make_subject(store)
    make_subject(store, fallback_tag(subject.digest), b"squatter")
    with pytest.raises(InputError, match="not an image index"):
        attach(store, subject, "text/plain", [doc_blob("x")], mode="tag")


def test_fallback_index_that_breaks_the_index_schema_is_refused(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path, create=True)
    subject = make_subject(store)
    bad = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX,
           "manifests": [{"mediaType": mt.OCI_MANIFEST, "digest": "no digest", "size": 1}]}
    data = json.dumps(bad).encode()
    store.push_manifest(data, mt.OCI_INDEX, tag=fallback_tag(subject.digest))
    with pytest.raises(InputError, match=r"invalid OCI image index: manifests\[0\]\.digest"):
        attach(store, subject, "text/plain", [doc_blob("x")], mode="tag")


def test_copy_between_layouts_keeps_digests(tmp_path: Path) -> None:
    src = LayoutStore(tmp_path / "src", create=True)
    subject = make_subject(src)
    sbom = attach(src, subject, "application/spdx+json", [doc_blob("{}", "application/json")])
    sig = attach(src, index_entry(sbom, {}), "application/vnd.dev.sigstore.bundle.v0.3+json",
                 [doc_blob("sig")])  # fmt: skip
    dst = LayoutStore(tmp_path / "dst", create=True)
    root, stats = copy_artifact(src, "v1", dst, "copied")
    assert root.digest == subject.digest
    assert set(stats.referrers) == {sbom.digest, sig.digest}
    assert dst.get_manifest("copied").data == src.get_manifest("v1").data
    assert [r.descriptor.digest for r in discover(dst, subject.digest)] == [sbom.digest]
    assert [r.descriptor.digest for r in discover(dst, sbom.digest)] == [sig.digest]
    _, again = copy_artifact(src, "v1", dst, "copied")
    assert again.blobs_copied == 0


def _attach_many(path: str, start: int, count: int, subject_digest: str, size: int) -> None:
    store = LayoutStore(path)
    subject = Descriptor(mt.OCI_MANIFEST, subject_digest, size)
    for i in range(start, start + count):
        attach(store, subject, "text/plain", [doc_blob(f"note {i}")])


def test_two_processes_attaching_at_once_are_both_listed(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path, create=True)
    subject = make_subject(store)
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(
            target=_attach_many, args=(str(tmp_path), i * 100, 15, subject.digest, subject.size)
        )  # fmt: skip
        for i in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(discover(store, subject.digest)) == 30


# A writer that stops at the Nth call of os.fsync or os.replace after start-up, says so, and waits
# to be killed: every kill lands at a chosen point inside an attach, with no timing involved.
KILL_SCRIPT = """
import os, sys
from attest.oci.layout import LayoutStore
from attest.oci.referrers import attach, Blob
from attest.oci.store import Descriptor
store = LayoutStore(sys.argv[1])
subject = store.get_manifest("v1").descriptor
name, stop_at = sys.argv[2], int(sys.argv[3])
real, calls = getattr(os, name), 0
def pausing(*args, **kwargs):
    global calls
    calls += 1
    if calls == stop_at:
        print("paused", flush=True)
        sys.stdin.read()  # until killed
    return real(*args, **kwargs)
setattr(os, name, pausing)
i = 0
while True:
    data = (f"note {i} " * 5000).encode()
    attach(store, subject, "text/plain", [Blob(Descriptor.for_bytes("text/plain", data), data)])
    i += 1
    print("attached", flush=True)
"""


def test_writer_killed_mid_operation_leaves_readable_layout(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path, create=True)
    subject = make_subject(store)
    completed = 0
    # Before a temp blob is synced, before a blob or index.json is renamed into place, a few
    # attaches in.
    stops = [("fsync", 1), ("replace", 1), ("replace", 2), ("fsync", 5), ("replace", 7)]
    for run, (name, nth) in enumerate(stops, 1):
        proc = subprocess.Popen(
            [sys.executable, "-c", KILL_SCRIPT, str(tmp_path), name, str(nth)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None
        lines = []
        while (line := proc.stdout.readline().strip()) != b"paused":
            assert line, f"the writer exited before its {nth}th os.{name}"
            lines.append(line)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdin.close()  # type: ignore[union-attr]
        proc.stdout.close()
        completed += lines.count(b"attached")
        reopened = LayoutStore(tmp_path)
        index = json.loads((tmp_path / "index.json").read_text())  # parses: never half-written
        for entry in index["manifests"]:
            assert reopened.blob_exists(entry["digest"])  # every listed manifest is complete
        found = discover(reopened, subject.digest)
        # Every attach that returned is listed; an interrupted one is listed whole or not at all.
        assert completed <= len(found) <= completed + run, (name, nth)
        for referrer in found:
            assert reopened.fetch_blob(referrer.descriptor)  # digest-checked read
        assert reopened.get_manifest("v1").descriptor.digest == subject.digest
    assert completed > 0  # the later stops are past whole attaches
