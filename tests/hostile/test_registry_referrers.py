"""Referrer indexes are never lost nor rewritten from a guess (issue 11, items 12 and 13).

A fault proxy (tests/fault_proxy.py) in front of the real docker-registry widens races between
writers and injects spurious 404s; Distribution 2.8.2 ignores If-Match, so the client alone must
notice lost entries.
"""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

from attest.errors import AttestError, RegistryError
from attest.oci import mediatypes as mt
from attest.oci.copy import copy_artifact
from attest.oci.layout import LayoutStore
from attest.oci.reference import fallback_tag
from attest.oci.referrers import Blob, attach, discover, one_index_update
from attest.oci.registry import RegistryStore
from attest.oci.store import Descriptor
from tests.fault_proxy import FaultProxy
from tests.registry_fixtures import Registry

OCTET = "application/octet-stream"
FALLBACK_GET = r"/manifests/sha256-[0-9a-f]{64}$"


def _store(reg: Registry) -> RegistryStore:
    return RegistryStore(reg.host, reg.repo, plain_http=True, backoff=0.01)


def _push_image(store: RegistryStore | LayoutStore, tag: str = "v1") -> Descriptor:
    store.push_blob(Descriptor(mt.OCI_EMPTY, mt.EMPTY_DIGEST, 2), io.BytesIO(mt.EMPTY_JSON))
    layer = Descriptor.for_bytes(OCTET, b"weights")
    store.push_blob(layer, io.BytesIO(b"weights"))
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": mt.EMPTY_DESCRIPTOR,
        "layers": [layer.to_dict()],
    }
    return store.push_manifest(json.dumps(manifest).encode(), mt.OCI_MANIFEST, tag=tag).descriptor


def _attach_note(store: RegistryStore, subject: Descriptor, note: str) -> Descriptor:
    data = note.encode()
    return attach(
        store,
        subject,
        "application/vnd.example.note",
        [Blob(Descriptor.for_bytes("text/plain", data), data)],
        {"note": note},
    )


def _fallback_entries(store: RegistryStore, subject: Descriptor) -> set[str]:
    index = store.get_manifest(fallback_tag(subject.digest), accept=(mt.OCI_INDEX,)).json()
    return {m["digest"] for m in index["manifests"]}


def test_ten_concurrent_attaches_keep_every_entry(
    proxied_registry: tuple[FaultProxy, Registry],
) -> None:
    proxy, reg = proxied_registry
    subject = _push_image(_store(reg))
    # Every read of the fallback tag takes 0.3 s: all ten writers read before any writes, the
    # way a busy registry interleaves them; Distribution ignores If-Match.
    proxy.inject("GET", FALLBACK_GET, "delay", seconds=0.2, times=10_000)
    done: dict[int, Descriptor] = {}
    failed: dict[int, BaseException] = {}
    barrier = threading.Barrier(10)

    def one(i: int) -> None:
        store = _store(reg)
        barrier.wait()
        try:
            done[i] = _attach_note(store, subject, f"note {i}")
        except AttestError as e:
            failed[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    proxy.clear()
    listed = _fallback_entries(_store(reg), subject)
    # Whoever reported success has its entry listed; a loss is never an exit 0.
    assert {d.digest for d in done.values()} <= listed
    assert all(isinstance(e, RegistryError) for e in failed.values())
    assert len(done) == 10, f"failed: {failed}"


def test_a_spurious_404_does_not_replace_the_index(
    proxied_registry: tuple[FaultProxy, Registry],
) -> None:
    proxy, reg = proxied_registry
    store = _store(reg)
    subject = _push_image(store)
    before = {_attach_note(store, subject, f"note {i}").digest for i in range(4)}
    proxy.inject("GET", FALLBACK_GET, "status", status=404)
    added = _attach_note(store, subject, "one more")
    assert proxy.count("GET", FALLBACK_GET, fault="status") == 1  # the fault did fire
    assert _fallback_entries(store, subject) == before | {added.digest}


def test_copy_survives_a_spurious_404_on_the_fallback_tag(
    proxied_registry: tuple[FaultProxy, Registry], tmp_path: Path
) -> None:
    proxy, reg = proxied_registry
    store = _store(reg)
    subject = _push_image(store)
    notes = {_attach_note(store, subject, f"note {i}").digest for i in range(3)}
    proxy.inject("GET", FALLBACK_GET, "status", status=404)
    dst = LayoutStore(tmp_path / "out", create=True)
    _, stats = copy_artifact(store, "v1", dst, "v1")
    assert proxy.count("GET", FALLBACK_GET, fault="status") == 1
    assert set(stats.referrers) == notes


def test_copy_fails_and_does_not_tag_when_a_referrer_cannot_be_read(
    proxied_registry: tuple[FaultProxy, Registry], tmp_path: Path
) -> None:
    proxy, reg = proxied_registry
    store = _store(reg)
    subject = _push_image(store)
    note = _attach_note(store, subject, "unreadable")
    proxy.inject("GET", f"/manifests/{note.digest}$", "status", status=404, times=100)
    dst = LayoutStore(tmp_path / "out", create=True)
    with pytest.raises(AttestError) as err:
        copy_artifact(store, "v1", dst, "v1")
    assert note.digest in err.value.message
    assert err.value.exit_code != 0
    assert dst.tags() == []  # the destination is not tagged without its referrers


def test_layout_finds_referrers_kept_under_a_fallback_tag_index(tmp_path: Path) -> None:
    """`skopeo copy` of a registry leaves its ``sha256-<hex>`` index as a tag in the layout."""
    layout = LayoutStore(tmp_path / "layout", create=True)
    subject = _push_image(layout)
    referrer = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": "application/vnd.example.note",
        "config": mt.EMPTY_DESCRIPTOR,
        "layers": [mt.EMPTY_DESCRIPTOR],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest,
                    "size": subject.size},
    }  # fmt: skip
    data = json.dumps(referrer).encode()
    rdesc = Descriptor.for_bytes(mt.OCI_MANIFEST, data)
    layout.push_bytes(rdesc, data)  # a blob, not a top-level index.json entry
    index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": [rdesc.to_dict()]}
    layout.push_manifest(json.dumps(index).encode(), mt.OCI_INDEX, tag=fallback_tag(subject.digest))
    found = discover(layout, subject.digest)
    assert [r.descriptor.digest for r in found] == [rdesc.digest]


def test_ten_parallel_attach_commands_exit_0_only_with_their_entry(
    proxied_registry: tuple[FaultProxy, Registry], tmp_path: Path
) -> None:
    """The reported case: ten `attest attach` processes on one subject, Distribution 2.8.2."""
    import os
    import subprocess
    import sys

    proxy, reg = proxied_registry
    subject = _push_image(_store(reg))
    proxy.inject("GET", FALLBACK_GET, "delay", seconds=0.2, times=10_000)
    env = {**os.environ, "ATTEST_NO_CACHE": "1", "DOCKER_CONFIG": str(tmp_path / "none")}
    procs = []
    for i in range(10):
        note = tmp_path / f"note-{i}.txt"
        note.write_text(f"note {i}\n")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "attest", "attach", f"{reg.ref}@{subject.digest}", str(note),
             "--artifact-type", "application/vnd.example.note", "--format", "json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        ))  # fmt: skip
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    proxy.clear()
    listed = _fallback_entries(_store(reg), subject)
    for code, out, err in results:
        assert code in (0, 3), err
        if code == 0:
            assert json.loads(out)["digest"] in listed
    assert [code for code, _, _ in results] == [0] * 10, [err for _, _, err in results]
    assert len(listed) == 10


def test_one_index_update_writes_the_fallback_index_once_and_hides_nothing(registry) -> None:
    """`attest run` attaches about fifteen referrers: inside one_index_update() the fallback
    index is written once for all of them (against the real registry, which has no Referrers
    API), discovery inside the block already sees them, and a failure in the block still
    writes what was pushed."""
    store = _store(registry)
    subject = _push_image(store)
    tag = fallback_tag(subject.digest)
    writes: list[str] = []
    real_push = store.push_manifest

    def counting_push(data: bytes, media_type: str, **kw: object):  # type: ignore[no-untyped-def]
        if kw.get("tag") == tag:
            writes.append(tag)
        return real_push(data, media_type, **kw)  # type: ignore[arg-type]

    store.push_manifest = counting_push  # type: ignore[method-assign]
    with one_index_update():
        attached = [_attach_note(store, subject, f"note {i}") for i in range(5)]
        assert writes == []
        seen = {r.descriptor.digest for r in discover(store, subject.digest)}
        assert seen == {d.digest for d in attached}
    assert writes == [tag]
    assert _fallback_entries(store, subject) == {d.digest for d in attached}

    with pytest.raises(RuntimeError), one_index_update():
        late = _attach_note(store, subject, "pushed before the failure")
        raise RuntimeError("a later step failed")
    assert late.digest in _fallback_entries(store, subject)
    assert len(writes) == 2
