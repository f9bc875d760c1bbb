"""Transfers at model scale stay correct (issue 19): parallel blobs, resumed uploads and
downloads, cross-repository mounts. Correctness only: speed is measured in bench/transfer.py.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from attest.modelpack.pack import pack
from attest.modelpack.pull import pull
from attest.modelpack.read import read_subject
from attest.oci import mediatypes as mt
from attest.oci.copy import copy_artifact
from attest.oci.layout import LayoutStore
from attest.oci.registry import RegistryStore
from attest.oci.store import Descriptor
from tests.fault_proxy import FaultProxy
from tests.registry_fixtures import Registry

OCTET = "application/octet-stream"
MiB = 1024 * 1024
BLOB_GET = r"/blobs/sha256:[0-9a-f]{64}$"


def _store(reg: Registry, repo: str | None = None, **kw: object) -> RegistryStore:
    kw.setdefault("backoff", 0.01)
    return RegistryStore(reg.host, repo or reg.repo, plain_http=True, **kw)  # type: ignore[arg-type]


def _model(root: Path, sizes: list[int]) -> Path:
    root.mkdir(parents=True)
    for i, size in enumerate(sizes):
        (root / f"part-{i}.bin").write_bytes(os.urandom(size))
    return root


def test_a_dropped_streamed_upload_resumes_where_the_registry_stands(
    proxied_registry: tuple[FaultProxy, Registry],
) -> None:
    proxy, reg = proxied_registry
    store = _store(reg, chunk_size=MiB)
    data = os.urandom(3 * MiB + 4321)
    desc = Descriptor.for_bytes(OCTET, data)
    proxy.inject("PATCH", r"/blobs/uploads/", "drop")
    assert store.push_blob(desc, io.BytesIO(data)) is True  # seekable: one streamed PATCH
    assert proxy.count("PATCH", r"/blobs/uploads/", fault="drop") == 1
    assert proxy.count("POST", r"/blobs/uploads/") == 1  # resumed, not started over
    assert proxy.count("GET", r"/blobs/uploads/") == 1  # asked the registry where it stands
    assert store.fetch_blob(desc) == data


def test_a_dropped_chunk_of_a_non_seekable_stream_still_completes(
    proxied_registry: tuple[FaultProxy, Registry],
) -> None:
    """Resuming needs only the chunk in memory, so a pipe survives a dropped connection."""
    proxy, reg = proxied_registry
    proxy.log.clear()
    store = _store(reg, chunk_size=MiB)
    data = os.urandom(2 * MiB + 10)
    desc = Descriptor.for_bytes(OCTET, data)
    read_fd, write_fd = os.pipe()
    with os.fdopen(write_fd, "wb") as w:  # fits the pipe buffer? no: write in a thread
        import threading

        writer = threading.Thread(target=lambda: (w.write(data), w.close()))
        proxy.inject("PATCH", r"/blobs/uploads/", "drop", nth=2)
        writer.start()
        with os.fdopen(read_fd, "rb") as r:
            assert store.push_blob(desc, r) is True
        writer.join()
    assert proxy.count("POST", r"/blobs/uploads/") == 1  # resumed, not started over
    assert proxy.count("GET", r"/blobs/uploads/") == 1
    assert store.fetch_blob(desc) == data


def test_copy_within_one_registry_mounts_instead_of_moving_bytes(
    proxied_registry: tuple[FaultProxy, Registry], tmp_path: Path
) -> None:
    proxy, reg = proxied_registry
    src = _store(reg)
    pack(_model(tmp_path / "model", [300_000, 200_000]), src, "v1", progress=False)
    dst = _store(reg, reg.repo + "-copy")
    root, stats = copy_artifact(src, "v1", dst, "v1")
    assert stats.blobs_mounted == 3 and stats.blobs_copied == 0 and stats.bytes_copied == 0
    mounts = [e for e in proxy.log if e.method == "POST" and "mount=" in e.query]
    assert len(mounts) == 3 and all(e.status == 201 for e in mounts)
    assert proxy.count("PATCH", r"/blobs/uploads/") == 0
    assert dst.get_manifest("v1").descriptor.digest == root.digest
    subject = read_subject(dst, "v1")
    for layer in subject.layers:  # the mounted blobs are really there
        assert len(dst.fetch_blob(layer.descriptor)) == layer.descriptor.size


def test_pull_and_copy_move_several_blobs_at_once_largest_first(
    proxied_registry: tuple[FaultProxy, Registry], tmp_path: Path
) -> None:
    proxy, reg = proxied_registry
    store = _store(reg)
    sizes = [50_000, 400_000, 100_000, 300_000, 200_000]
    model = _model(tmp_path / "model", sizes)
    pack(model, store, "v1", progress=False)
    subject = read_subject(store, "v1")
    # Each blob GET is held 0.3 s, so transfers in flight together overlap in the proxy.
    proxy.inject("GET", BLOB_GET, "delay", seconds=0.3, times=1000)
    proxy.log.clear()
    proxy.arrivals.clear()
    written = pull(subject, store, tmp_path / "out")
    assert sorted(written) == sorted(p.name for p in model.iterdir())
    for name in written:
        assert (tmp_path / "out" / name).read_bytes() == (model / name).read_bytes()
    assert proxy.max_in_flight >= 2
    # Four streams start with the four largest; the smallest layer waits for a free one.
    gets = [path for method, path in proxy.arrivals if method == "GET" and "/blobs/sha" in path]
    smallest = min(subject.layers, key=lambda la: la.descriptor.size).descriptor.digest
    assert gets[-1].endswith(smallest)

    proxy.max_in_flight = 0
    dst = LayoutStore(tmp_path / "layout", create=True)
    root, stats = copy_artifact(store, "v1", dst, "v1")
    assert stats.blobs_copied == len(sizes) + 1 and proxy.max_in_flight >= 2
    assert dst.get_manifest("v1").descriptor.digest == root.digest


def test_pack_into_a_layout_copies_files_exactly(tmp_path: Path) -> None:
    model = _model(tmp_path / "model", [3 * MiB + 5, 10, 0])
    layout = LayoutStore(tmp_path / "layout", create=True)
    result = pack(model, layout, "v1", progress=False)
    manifest = json.loads(layout.get_manifest("v1").data)
    assert manifest == result.manifest
    for layer in manifest["layers"]:
        desc = Descriptor.from_dict(layer)
        path = model / layer["annotations"][mt.ANNOTATION_FILEPATH]
        assert layout.blob_path(desc.digest).read_bytes() == path.read_bytes()


def test_push_file_refuses_a_file_that_changed_since_it_was_hashed(tmp_path: Path) -> None:
    import pytest

    from attest.errors import InputError

    path = tmp_path / "w.bin"
    path.write_bytes(b"hashed content")
    desc = Descriptor.for_bytes(OCTET, b"hashed content")
    path.write_bytes(b"hashed content, then more")
    layout = LayoutStore(tmp_path / "layout", create=True)
    with pytest.raises(InputError, match="changed"):
        layout.push_file(desc, path)
    assert not layout.blob_path(desc.digest).exists()


def test_parallel_pushes_share_basic_credentials(
    registry_basic_auth: Registry, tmp_path: Path
) -> None:
    """Four uploads meet the 401 at once; the ones answered second use the credentials the
    first one set up instead of giving up."""
    store = _store(registry_basic_auth, username=registry_basic_auth.username,
                   password=registry_basic_auth.password)  # fmt: skip
    pack(_model(tmp_path / "model", [40_000, 30_000, 20_000, 10_000, 5_000]), store, "v1",
         progress=False)  # fmt: skip
    assert len(read_subject(store, "v1").layers) == 5
