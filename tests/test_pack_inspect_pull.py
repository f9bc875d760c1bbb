"""attest pack / inspect / pull on OCI layouts, through the real CLI entry point."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
import zstandard

from attest.oci import mediatypes as mt
from attest.oci.layout import LayoutStore
from attest.oci.store import Descriptor, sha256_bytes
from tests.helpers import make_model_dir, push_artifact, push_raw_blob, run_attest


def attest(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_attest(*args, cwd=cwd)


def pack_json(model: Path, to: str, *extra: str) -> dict:
    proc = attest("pack", str(model), "--to", to, "--format", "json", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_pack_is_deterministic_and_modctl_shaped(tmp_path: Path) -> None:
    model = make_model_dir(tmp_path / "m")
    a = pack_json(model, f"oci:{tmp_path}/a:v1", "--no-creation-time")
    b = pack_json(model, f"oci:{tmp_path}/b:v1", "--no-creation-time")
    assert a["digest"] == b["digest"]
    assert a["reference"] == f"oci:{tmp_path}/a:v1@{a['digest']}"
    store = LayoutStore(tmp_path / "a")
    manifest = store.get_manifest("v1").json()
    assert manifest["artifactType"] == mt.MODEL_ARTIFACT_TYPE
    assert manifest["config"]["mediaType"] == mt.MODEL_CONFIG
    by_path = {layer["annotations"][mt.ANNOTATION_FILEPATH]: layer for layer in manifest["layers"]}
    assert set(by_path) == {"README.md", "config.json", "model.safetensors", "run.py",
                            "sub/notes.txt"}  # fmt: skip
    assert by_path["model.safetensors"]["mediaType"] == "application/vnd.cncf.model.weight.v1.raw"
    assert by_path["config.json"]["mediaType"] == "application/vnd.cncf.model.weight.config.v1.raw"
    assert by_path["run.py"]["mediaType"] == "application/vnd.cncf.model.code.v1.raw"
    assert by_path["README.md"]["mediaType"] == "application/vnd.cncf.model.doc.v1.raw"
    # a raw layer's digest is the file's sha256
    weights = (model / "model.safetensors").read_bytes()
    assert by_path["model.safetensors"]["digest"] == sha256_bytes(weights)
    meta = json.loads(by_path["run.py"]["annotations"][mt.ANNOTATION_FILE_METADATA])
    assert meta["name"] == "run.py" and meta["size"] == 12 and meta["typeflag"] == 48
    config = json.loads(store.fetch_blob(Descriptor.from_dict(manifest["config"])))
    assert config == a["config"]
    assert config["modelfs"]["diffIds"] == [layer["digest"] for layer in manifest["layers"]]
    assert config["config"]["format"] == "safetensors"
    assert config["config"]["paramSize"]  # 16 + 4 parameters
    assert "createdAt" not in config["descriptor"]
    c = pack_json(model, f"oci:{tmp_path}/c:v1")
    assert "createdAt" in c["config"]["descriptor"] and c["digest"] != a["digest"]


def test_inspect_text_and_json(tmp_path: Path) -> None:
    model = make_model_dir(tmp_path / "m")
    packed = pack_json(model, f"oci:{tmp_path}/lay:v1")
    proc = attest("inspect", f"oci:{tmp_path}/lay:v1", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["digest"] == packed["digest"] and info["flavour"] == "modelpack"
    assert {layer["path"] for layer in info["layers"]} >= {"model.safetensors", "run.py"}
    text = attest("inspect", f"oci:{tmp_path}/lay")  # the only tag is picked
    assert text.returncode == 0 and packed["digest"] in text.stdout and "weight" in text.stdout


def test_pull_round_trip(tmp_path: Path) -> None:
    model = make_model_dir(tmp_path / "m")
    pack_json(model, f"oci:{tmp_path}/lay:v1")
    out = tmp_path / "out"
    proc = attest("pull", f"oci:{tmp_path}/lay:v1", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    for rel in ("model.safetensors", "config.json", "README.md", "run.py", "sub/notes.txt"):
        assert (out / rel).read_bytes() == (model / rel).read_bytes()
    again = attest("pull", f"oci:{tmp_path}/lay:v1", "-o", str(out))
    assert again.returncode == 2 and "already has" in again.stderr


def _tar(members: list[tuple[str, bytes | None, str | None]]) -> bytes:
    """(name, content | None for a symlink, linkname)"""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content, link in members:
            info = tarfile.TarInfo(name)
            if content is None:
                info.type, info.linkname = tarfile.SYMTYPE, link or ""
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


@pytest.mark.parametrize(
    "namespace,encoding,compress",
    [
        ("cncf", "tar", lambda b: b),
        ("cnai", "tar+gzip", lambda b: gzip.compress(b, mtime=0)),
        ("cncf", "tar+zstd", lambda b: zstandard.ZstdCompressor().compress(b)),
    ],
)
def test_reads_tar_layers_and_legacy_namespace(tmp_path: Path, namespace, encoding, compress):
    store = LayoutStore(tmp_path / "lay", create=True)
    blob = compress(_tar([("w/model.bin", b"\1\2\3", None), ("w/link", None, "model.bin")]))
    layer = push_raw_blob(
        store, blob, f"application/vnd.{namespace}.model.weight.v1.{encoding}",
        annotations={f"org.{namespace}.model.filepath": "w"},
    )  # fmt: skip
    push_artifact(
        store, [layer],
        config_type=f"application/vnd.{namespace}.model.config.v1+json",
        artifact_type=f"application/vnd.{namespace}.model.manifest.v1+json",
    )  # fmt: skip
    info = json.loads(attest("inspect", f"oci:{tmp_path}/lay:v1", "--format", "json").stdout)
    assert info["layers"][0]["kind"] == "weight" and info["layers"][0]["encoding"] == encoding
    assert info["flavour"] == ("modelpack-legacy" if namespace == "cnai" else "modelpack")
    proc = attest("pull", f"oci:{tmp_path}/lay:v1", "-o", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "w" / "model.bin").read_bytes() == b"\1\2\3"
    assert (tmp_path / "out" / "w" / "link").resolve() == (tmp_path / "out/w/model.bin").resolve()


def test_reads_kitops_modelkit(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path / "lay", create=True)
    blob = _tar([("model.gguf", b"GGUF", None)])
    layer = push_raw_blob(store, blob, "application/vnd.kitops.modelkit.model.v1.tar")
    docs = push_raw_blob(store, _tar([("README.md", b"# hi", None)]),
                         "application/vnd.kitops.modelkit.docs.v1.tar")  # fmt: skip
    push_artifact(
        store, [layer, docs], config={"manifestVersion": "1.0", "package": {"name": "kit"}},
        config_type=mt.KITOPS_CONFIG, artifact_type=None,
    )  # fmt: skip
    info = json.loads(attest("inspect", f"oci:{tmp_path}/lay:v1", "--format", "json").stdout)
    assert info["flavour"] == "kitops"
    assert [layer["kind"] for layer in info["layers"]] == ["weight", "doc"]


@pytest.mark.parametrize(
    "members,annotation",
    [
        ([("../evil", b"x", None)], None),
        ([("/etc/evil", b"x", None)], None),
        ([("ok", b"x", None), ("link", None, "../../outside")], None),
        ([("link", None, "/etc/passwd")], None),
        ([("d/link", None, ".."), ("d/link/evil", b"x", None)], None),
        (None, "../escape.bin"),
        (None, "/abs/path.bin"),
    ],
)
def test_pull_never_writes_outside(tmp_path: Path, members, annotation) -> None:
    store = LayoutStore(tmp_path / "lay", create=True)
    if members is not None:
        layer = push_raw_blob(store, _tar(members), "application/vnd.cncf.model.weight.v1.tar")
    else:
        layer = push_raw_blob(
            store, b"payload", "application/vnd.cncf.model.weight.v1.raw",
            annotations={mt.ANNOTATION_FILEPATH: annotation},
        )  # fmt: skip
    push_artifact(store, [layer])
    out = tmp_path / "work" / "out"
    proc = attest("pull", f"oci:{tmp_path}/lay:v1", "-o", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "refusing" in proc.stderr or "escape" in proc.stderr
    assert proc.stderr.count("\n") == 1  # one clear line
    leftovers = [p for p in (tmp_path / "work").rglob("*") if p != out]
    assert leftovers == []
    assert not (tmp_path / "evil").exists() and not (tmp_path / "escape.bin").exists()


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path / "lay", create=True)
    # a malformed manifest (layers is not a list)
    bad = (
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
        b'"config":{"mediaType":"x","digest":"sha256:' + b"0" * 64 + b'","size":1},"layers":7}'
    )
    store.push_manifest(bad, mt.OCI_MANIFEST, tag="bad")
    before = sorted(p.name for p in (tmp_path / "lay" / "blobs" / "sha256").iterdir())
    proc = attest("inspect", f"oci:{tmp_path}/lay:bad")
    assert proc.returncode == 2 and "attest: error:" in proc.stderr
    proc = attest("pull", f"oci:{tmp_path}/lay:bad", "-o", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert sorted(p.name for p in (tmp_path / "lay" / "blobs" / "sha256").iterdir()) == before
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    # a config that fails the ModelPack schema (paramSize must be a string) is reported and
    # not used (AIKit writes `{}`): the artifact is read from its layers only
    layer = push_raw_blob(store, b"w", "application/vnd.cncf.model.weight.v1.raw",
                          annotations={mt.ANNOTATION_FILEPATH: "w.bin"})  # fmt: skip
    bad_config = {"descriptor": {}, "config": {"paramSize": 7},
                  "modelfs": {"type": "layers", "diffIds": [layer.digest]}}  # fmt: skip
    push_artifact(store, [layer], config=bad_config, tag="badcfg")
    proc = attest("inspect", f"oci:{tmp_path}/lay:badcfg", "--format", "json")
    assert proc.returncode == 0 and "paramSize" in proc.stderr
    info = json.loads(proc.stdout)
    assert info["config"] == {} and "paramSize" in info["configErrors"][0]
    # packing into a layout that is some other, non-empty directory writes nothing there
    model = make_model_dir(tmp_path / "m")
    (tmp_path / "notlayout").mkdir()
    (tmp_path / "notlayout" / "file").write_text("mine")
    proc = attest("pack", str(model), "--to", f"oci:{tmp_path}/notlayout:v1")
    assert proc.returncode == 2
    assert [p.name for p in (tmp_path / "notlayout").iterdir()] == ["file"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert attest("inspect", "not a ref").returncode == 2
    assert attest("inspect", f"oci:{tmp_path}/missing:v1").returncode == 2
    assert attest("pack", str(tmp_path / "nope"), "--to", f"oci:{tmp_path}/x").returncode == 2
    assert attest("bogus-command").returncode == 2


def test_digest_command(tmp_path: Path) -> None:
    model = make_model_dir(tmp_path / "m")
    proc = attest("digest", str(model), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["path"]: r for r in json.loads(proc.stdout)}
    data = (model / "run.py").read_bytes()
    assert rows["run.py"]["digest"] == sha256_bytes(data) and rows["run.py"]["size"] == len(data)


def test_run_packs_testdata_model_and_summarises(tmp_path: Path) -> None:
    from tests.helpers import REPO_ROOT

    model = REPO_ROOT / "testdata" / "models" / "tiny-llm"
    proc = attest("run", str(model), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["reference"].startswith("oci:./attest-out:tiny-llm@sha256:")
    assert summary["files"] == 8 and summary["roles"]["weight"] == 1
    assert summary["config"]["format"] == "safetensors"
    assert (tmp_path / "attest-out" / "index.json").is_file()
    text = attest("run", str(model), cwd=tmp_path)
    assert text.returncode == 0 and "Packed" in text.stdout


def test_pack_reads_gguf_header_for_the_config(tmp_path: Path) -> None:
    from tests.helpers import REPO_ROOT

    packed = pack_json(REPO_ROOT / "testdata/models/tiny-gguf", f"oci:{tmp_path}/g:v1")
    config = packed["config"]["config"]
    # 8 x 16 token embedding + 8 output norm = 136 parameters; general.file_type 1 = MOSTLY_F16
    assert config == {"format": "gguf", "paramSize": "136", "quantization": "MOSTLY_F16"}
