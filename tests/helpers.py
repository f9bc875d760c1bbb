"""Small builders shared by tests: tiny model directories and hand-made artifacts."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from attest.oci import mediatypes as mt
from attest.oci.store import Descriptor, Store

REPO_ROOT = Path(__file__).resolve().parent.parent


def write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]]) -> None:
    """A valid safetensors file with zero-filled tensors: {name: (dtype, shape)}."""
    sizes = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "U8": 1}
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = sizes[dtype]
        for dim in shape:
            n *= dim
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * offset)


def make_model_dir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_safetensors(root / "model.safetensors", {"w": ("F32", [4, 4]), "b": ("BF16", [4])})
    (root / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (root / "README.md").write_text("---\nlicense: mit\n---\n# Tiny\n")
    (root / "run.py").write_text("print('hi')\n")
    (root / "sub").mkdir(exist_ok=True)
    (root / "sub" / "notes.txt").write_text("notes\n")
    return root


def push_json_blob(store: Store, obj: Any, media_type: str) -> Descriptor:
    data = json.dumps(obj).encode()
    desc = Descriptor.for_bytes(media_type, data)
    store.push_blob(desc, io.BytesIO(data))
    return desc


def push_raw_blob(store: Store, data: bytes, media_type: str, **kw: Any) -> Descriptor:
    desc = Descriptor.for_bytes(media_type, data, **kw)
    store.push_blob(desc, io.BytesIO(data))
    return desc


def push_artifact(
    store: Store,
    layers: list[Descriptor],
    *,
    config: dict[str, Any] | None = None,
    config_type: str = mt.MODEL_CONFIG,
    artifact_type: str | None = mt.MODEL_ARTIFACT_TYPE,
    tag: str = "v1",
) -> Descriptor:
    cfg = config or {
        "descriptor": {"name": "hand-made"},
        "config": {},
        "modelfs": {
            "type": "layers",
            "diffIds": [d.digest for d in layers] or ["sha256:" + "0" * 64],
        },
    }
    cdesc = push_json_blob(store, cfg, config_type)
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": cdesc.to_dict(),
        "layers": [d.to_dict() for d in layers],
    }
    if artifact_type:
        manifest["artifactType"] = artifact_type
    return store.push_manifest(json.dumps(manifest).encode(), mt.OCI_MANIFEST, tag=tag).descriptor


def _child_env(env: dict[str, str] | None) -> dict[str, str]:
    """What a user's shell would hand `attest`, isolated from the user's config and cache
    (conftest points ATTEST_CONFIG_DIR at a session temp dir)."""
    import os

    base = {
        "PATH": "/usr/bin:/bin",
        "ATTEST_NO_CACHE": "1",
        "ATTEST_CONFIG_DIR": os.environ.get("ATTEST_CONFIG_DIR", ""),
        "HOME": os.environ.get("ATTEST_TEST_HOME", os.environ.get("HOME", "/nonexistent")),
    }
    if os.environ.get("PYTHONPATH"):  # e.g. running the suite against an older checkout
        base["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return {**base, **(env or {})}


def run_attest(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
    child: bool = False, input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real `attest` command line: its entry function `attest.cli.main` (flag parsing,
    error lines, exit codes), with the environment, working directory and standard streams a
    child process would get. In process by default (a child costs 1-2 s of interpreter start
    and imports); ``child=True`` runs `python -m attest` in a child process, for what only a
    child shows (concurrency between commands, the module entry point)."""
    if child:
        return subprocess.run(
            [sys.executable, "-m", "attest", *args], capture_output=True, text=True, cwd=cwd,
            env=_child_env(env), input=input,
        )  # fmt: skip
    return _run_in_process(list(args), cwd, _child_env(env), input or "")


_IN_PROCESS = threading.Lock()  # one command at a time: it owns the streams, cwd and environment


def _run_in_process(
    args: list[str], cwd: Path | None, env: dict[str, str], stdin: str
) -> subprocess.CompletedProcess[str]:
    import os

    from attest.cli import main

    out, err = io.BytesIO(), io.BytesIO()
    streams = (
        io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8"),
        io.TextIOWrapper(out, encoding="utf-8", write_through=True),
        io.TextIOWrapper(err, encoding="utf-8", write_through=True),
    )
    with _IN_PROCESS:
        saved_env, saved_cwd = dict(os.environ), os.getcwd()
        saved_streams, saved_argv = (sys.stdin, sys.stdout, sys.stderr), sys.argv
        os.environ.clear()
        os.environ.update(env)
        sys.stdin, sys.stdout, sys.stderr = streams
        sys.argv = ["attest", *args]
        code: int | str | None = 0
        try:
            if cwd is not None:
                os.chdir(cwd)
            main()
        except SystemExit as e:
            code = e.code
        finally:
            for stream in streams[1:]:
                stream.flush()
            sys.stdin, sys.stdout, sys.stderr = saved_streams
            sys.argv = saved_argv
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
    returncode = code if isinstance(code, int) else (0 if code is None else 1)
    return subprocess.CompletedProcess(
        ["attest", *args], returncode, out.getvalue().decode("utf-8", "replace"),
        err.getvalue().decode("utf-8", "replace"),
    )


def copy_source_tree(dest: Path) -> Path:
    """This repository's files (tracked and new, as `git add -A` would see them; no .venv, no
    node_modules) copied to ``dest``: what a clone of the current work holds."""
    import shutil
    import subprocess

    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for rel in filter(None, listed):
        src = REPO_ROOT / rel
        if src.is_file() and not rel.startswith("tests/js/node_modules/"):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def self_signed_loopback_cert(root: Path) -> tuple[str, str]:
    """(cert, key) PEM paths of a one-day EC certificate for 127.0.0.1, made by openssl (fails
    under CI when openssl is missing, skips with the reason elsewhere)."""
    import os
    import shutil

    import pytest

    if not shutil.which("openssl"):
        if os.environ.get("CI"):
            pytest.fail("openssl not installed -- required in CI", pytrace=False)
        pytest.skip("openssl not installed (apt-get install openssl)")
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)
