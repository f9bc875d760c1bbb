"""Bounded reads (issue 11, item 8): a registry body stops at the descriptor's size, a manifest
at 4 MiB, a config at its cap; layout blobs that are FIFOs or devices are refused; a manifest
of 100k layers is refused at once instead of taking minutes."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from attest.modelpack import media
from attest.oci import mediatypes as mt
from attest.oci.layout import LayoutStore
from tests.hostile.hostile_artifacts import layout_with, raw_layer, run_cli, snapshot
from tests.hostile.hostile_registry import ENDLESS_LIMIT, HostileRegistry, hostile_registry

pytestmark = pytest.mark.timeout(120)  # a hang guard: old code read without end

# The documented caps (docs/security.md), spelled out so the tests also run on older code.
MAX_MANIFEST_SIZE = 4 * 1024 * 1024
MAX_LAYERS = 10_000

CONFIG = json.dumps(
    {
        "descriptor": {"name": "m"},
        "config": {},
        "modelfs": {"type": "layers", "diffIds": ["sha256:" + "0" * 64]},
    }  # fmt: skip
).encode()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _manifest(layers: list[dict[str, Any]], config_size: int | None = None) -> bytes:
    config = {"mediaType": mt.MODEL_CONFIG, "digest": _digest(CONFIG),
              "size": len(CONFIG) if config_size is None else config_size}  # fmt: skip
    return json.dumps({
        "schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "artifactType": mt.MODEL_ARTIFACT_TYPE,
        "config": config, "layers": layers,
    }).encode()  # fmt: skip


def _layer(data: bytes, path: str = "a.txt", **annotations: str) -> dict[str, Any]:
    return {
        "mediaType": media.model_layer_type("doc", "raw"),
        "digest": _digest(data),
        "size": len(data),
        "annotations": {mt.ANNOTATION_FILEPATH: path, **annotations},
    }


def _serve(reg: HostileRegistry, manifest: bytes, *blobs: bytes) -> str:
    reg.add_manifest("v1", mt.OCI_MANIFEST, manifest)
    reg.blobs[_digest(CONFIG)] = CONFIG
    for blob in blobs:
        reg.blobs[_digest(blob)] = blob
    return f"{reg.host}/models/m:v1"


def test_an_endless_blob_body_stops_at_the_declared_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = b"fourteen bytes"
    with hostile_registry() as reg:
        ref = _serve(reg, _manifest([_layer(data)]))
        reg.endless.add(_digest(data))
        code, err = run_cli(capsys, "pull", ref, "-o", str(tmp_path / "out"))
        sent = reg.sent.get(f"/v2/models/m/blobs/{_digest(data)}", 0)
    assert code == 2, err
    assert "longer than its declared 14 bytes" in err
    assert sent < ENDLESS_LIMIT // 4  # what the socket buffers held when we hung up
    assert not (tmp_path / "out").exists()


def test_an_endless_manifest_body_stops_at_4_mib(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with hostile_registry() as reg:
        reg.endless.add("v1")
        code, err = run_cli(capsys, "pull", f"{reg.host}/models/m:v1", "-o", str(tmp_path / "o"))
        sent = reg.sent.get("/v2/models/m/manifests/v1", 0)
    assert code == 2, err
    assert "larger than the 4194304-byte limit" in err
    assert sent < ENDLESS_LIMIT // 4


def test_a_valid_manifest_over_4_mib_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = b"x"
    padding = "p" * (MAX_MANIFEST_SIZE + 1)
    with hostile_registry() as reg:
        ref = _serve(reg, _manifest([_layer(data, note=padding)]), data)
        code, err = run_cli(capsys, "pull", ref, "-o", str(tmp_path / "out"))
    assert code == 2, err
    assert "4194304" in err


def test_a_config_declaring_more_than_the_cap_is_not_fetched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = b"x"
    with hostile_registry() as reg:
        ref = _serve(reg, _manifest([_layer(data)], config_size=100 * 1024 * 1024), data)
        reg.endless.add(_digest(CONFIG))
        code, err = run_cli(capsys, "inspect", ref)
        sent = reg.sent.get(f"/v2/models/m/blobs/{_digest(CONFIG)}", 0)
    assert code == 2, err
    assert sent == 0


def test_a_manifest_of_100k_layers_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """152 s of schema validation before; now the 4 MiB cap refuses it before parsing."""
    store = LayoutStore(tmp_path / "layout", create=True)
    layers = [_layer(b"%d" % i, f"f{i}") for i in range(100_000)]
    body = _manifest(layers)
    store.push_manifest(body, mt.OCI_MANIFEST, tag="v1")
    code, err = run_cli(capsys, "inspect", f"oci:{tmp_path / 'layout'}:v1")
    assert code == 2, err
    assert "4194304" in err


def test_a_manifest_over_the_layer_limit_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = LayoutStore(tmp_path / "layout", create=True)
    store.push_bytes(store_desc := _config_desc(), CONFIG)
    assert store_desc.size == len(CONFIG)
    layers = [{"mediaType": media.model_layer_type("doc", "raw"), "digest": _digest(b"%d" % i),
               "size": 1} for i in range(MAX_LAYERS + 1)]  # fmt: skip
    store.push_manifest(_manifest(layers), mt.OCI_MANIFEST, tag="v1")
    code, err = run_cli(capsys, "inspect", f"oci:{tmp_path / 'layout'}:v1")
    assert code == 2, err
    assert f"at most {MAX_LAYERS}" in err


def _config_desc() -> Any:
    from attest.oci.store import Descriptor

    return Descriptor(mt.MODEL_CONFIG, _digest(CONFIG), len(CONFIG))


def _limited() -> None:
    """In the child: at most 1 GiB of memory and 64 MiB per written file, so a reader that
    never stops fails fast instead of filling the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))


def _attest(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "ATTEST_NO_CACHE": "1",
           "ATTEST_CONFIG_DIR": os.environ.get("ATTEST_CONFIG_DIR", "")}  # fmt: skip
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run([sys.executable, "-m", "attest", *args], capture_output=True,
                          text=True, timeout=60, env=env, preexec_fn=_limited)  # fmt: skip


@pytest.mark.parametrize("which", ["layer", "config"])
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_layout_blobs_that_are_not_files_are_refused(which: str, kind: str, tmp_path: Path) -> None:
    data = b"weights"
    ref = layout_with(tmp_path, [raw_layer("w.bin", data)])
    store = LayoutStore(tmp_path / "layout")
    manifest = json.loads(store.get_manifest("v1").data)
    digest = _digest(data) if which == "layer" else manifest["config"]["digest"]
    blob = store.blob_path(digest)
    blob.unlink()
    if kind == "fifo":
        os.mkfifo(blob)
    else:
        blob.symlink_to("/dev/zero")
    target = tmp_path / "out"
    try:
        proc = _attest("pull", ref, "-o", str(target))
    except subprocess.TimeoutExpired:
        pytest.fail("attest pull blocked on a FIFO/device blob")
    assert proc.returncode == 2, proc.stderr
    assert "not a regular file" in proc.stderr
    assert snapshot(target) == {"<absent>": True}


def test_an_endless_tag_list_stops_at_its_cap() -> None:
    """A list page (tags, catalog, referrers) is read to a cap, never whole into memory."""
    from attest.errors import InputError
    from attest.oci import limits
    from attest.oci.registry import RegistryStore

    with hostile_registry() as reg:
        reg.endless.add("tags/list")
        store = RegistryStore(reg.host, "models/m", plain_http=True, retries=0)
        with pytest.raises(InputError, match="tag list|tags"):
            store.tags()
        sent = reg.sent.get("/v2/models/m/tags/list", 0)
    assert limits.MAX_LIST_PAGE_SIZE <= sent < ENDLESS_LIMIT
