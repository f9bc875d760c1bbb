"""Property-based fuzz targets for every reader of hostile input, shared by the bounded suite
(tests/hostile/test_fuzz.py) and the long run (bench/fuzz.py).

The property is the same everywhere: a reader either returns or raises InputError (exit 2);
never another exception (a traceback, exit 3), never a hang. Extraction adds: nothing is created
outside the target and no link in it leads outside; a failed pull leaves the target as it was.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from attest.errors import InputError

# -- strategies ------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),  # fmt: skip
    max_leaves=20,
)
DIGEST = "sha256:" + "ab" * 32


def _valid_manifest() -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cncf.model.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.cncf.model.config.v1+json",
            "digest": DIGEST,
            "size": 2,
        },  # fmt: skip
        "layers": [
            {
                "mediaType": "application/vnd.cncf.model.doc.v1.raw",
                "digest": DIGEST,
                "size": 1,
                "annotations": {"org.cncf.model.filepath": "a.txt"},
            }
        ],  # fmt: skip
    }


@st.composite
def mutated_manifests(draw: st.DrawFn) -> bytes:
    """A valid model manifest with one subtree replaced, or raw bytes near JSON."""
    doc: Any = _valid_manifest()
    path = draw(st.sampled_from([(), ("config",), ("layers",), ("layers", 0),
                                 ("layers", 0, "annotations"), ("config", "size"),
                                 ("layers", 0, "digest"), ("mediaType",)]))  # fmt: skip
    if not path:
        doc = draw(json_values)
    else:
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = draw(json_values)
    text = json.dumps(doc).encode()
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.binary(max_size=8)) + text[cut:]
    return text


NAME_PARTS = st.sampled_from(["a", "b", "s", ".", "..", "d", "C:", "x\\y", "", "\n", "é"])
names = st.lists(NAME_PARTS, min_size=1, max_size=5).map("/".join)
tar_entries = st.lists(
    st.tuples(st.sampled_from(["file", "dir", "sym"]), names, names), min_size=1, max_size=8
)

YAML_ALPHABET = st.sampled_from(list("ab:- \n[]{},&*!|>'\"#?.0") + ["  ", "\n  ", "- ", ": "])
yaml_texts = st.lists(YAML_ALPHABET, max_size=60).map("".join)


@st.composite
def safetensors_headers(draw: st.DrawFn) -> tuple[bytes, int]:
    """``(header JSON, data size)``: plausible tensor tables with hostile values."""
    tensors = draw(st.dictionaries(
        st.text(max_size=6),
        st.fixed_dictionaries({
            "dtype": st.sampled_from(["F32", "BF16", "U8", "F4", "X9", ""]) | json_scalars,
            "shape": st.lists(st.integers(-2, 2**65), max_size=6) | json_values,
            "data_offsets": st.lists(st.integers(-1, 2**64 + 1), max_size=3),
        }),
        max_size=4,
    ))  # fmt: skip
    raw = json.dumps(tensors).encode()
    if draw(st.booleans()):
        raw = draw(st.binary(max_size=64))
    return raw, draw(st.integers(0, 4096))


# -- targets ---------------------------------------------------------------------------------


def bad_input_only(fn: Any, *args: Any, **kw: Any) -> Any:
    """Call ``fn``; InputError is the accepted failure, anything else propagates."""
    try:
        return fn(*args, **kw)
    except InputError:
        return None


def fuzz_manifest(data: bytes) -> None:
    from attest.oci.config_schema import validate_image_index, validate_image_manifest
    from attest.oci.store import parse_json_object

    obj = bad_input_only(parse_json_object, data, "manifest")
    if obj is not None:
        bad_input_only(validate_image_manifest, obj)
        bad_input_only(validate_image_index, obj)


def fuzz_subject(data: bytes) -> None:
    """The whole manifest -> subject path through a real layout store."""
    from attest.modelpack.read import read_subject
    from attest.oci.layout import LayoutStore
    from attest.oci.store import Descriptor

    with tempfile.TemporaryDirectory() as tmp:
        store = LayoutStore(Path(tmp) / "l", create=True)
        config = b"{}"
        store.push_bytes(Descriptor.for_bytes("x", config), config)
        desc = Descriptor.for_bytes("application/vnd.oci.image.manifest.v1+json", data)
        store.push_bytes(desc, data)
        bad_input_only(read_subject, store, desc.digest)


def fuzz_config(data: bytes) -> None:
    from attest.modelpack.config_schema import validate_model_config
    from attest.oci.store import parse_json_object

    obj = bad_input_only(parse_json_object, data, "config")
    if obj is not None:
        bad_input_only(validate_model_config, obj)


def fuzz_safetensors(raw: bytes, data_size: int) -> None:
    from attest.facts.safetensors import parse_safetensors_header

    bad_input_only(parse_safetensors_header, raw, data_size=data_size)


def fuzz_weight_file(fmt: str, data: bytes) -> None:
    """A whole weight file through the pipeline facts uses: capture the header from a stream,
    then read facts from it. HeaderNotRead is a documented "cannot tell here" (a warning)."""
    from attest.facts.weights import HeaderNotRead, capture_header, weight_facts

    path = f"w.{fmt}"
    try:
        head = capture_header(fmt, io.BytesIO(data), path=path, size=len(data))
        weight_facts(fmt, head, path=path, size=len(data))
    except (InputError, HeaderNotRead):
        pass


def fuzz_gguf(data: bytes) -> None:
    fuzz_weight_file("gguf", b"GGUF" + struct.pack("<I", 3) + data)


def fuzz_onnx(data: bytes) -> None:
    fuzz_weight_file("onnx", data)


def fuzz_front_matter(text: str) -> None:
    from attest.facts.card import parse_card
    from attest.lint.card import lint_card

    card = "---\n" + text + "\n---\n# Title\n"
    bad_input_only(parse_card, card)
    bad_input_only(lint_card, card)


def fuzz_mot_yaml(text: str) -> None:
    from attest.mof.mot_yaml import parse_mot_yaml

    bad_input_only(parse_mot_yaml, text, "f.yml")


def _tar(entries: list[tuple[str, str, str]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for kind, name, other in entries:
            info = tarfile.TarInfo(name or "x")
            if kind == "file":
                data = other.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, other
                tar.addfile(info)
            else:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
    return buf.getvalue()


def _tree(root: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = os.readlink(p) if p.is_symlink() else (
                "dir" if p.is_dir() else p.read_bytes())  # fmt: skip
    return out


def fuzz_extract(layers: list[list[tuple[str, str, str]]]) -> None:
    """Pull tar layers into a target holding one file; check containment and rollback."""
    from attest.modelpack import media
    from attest.modelpack.pull import pull
    from attest.modelpack.read import read_subject
    from attest.oci import mediatypes as mt
    from attest.oci.layout import LayoutStore
    from attest.oci.store import Descriptor

    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Path(tmp)
        store = LayoutStore(sandbox / "layout", create=True)
        descs = []
        for entries in layers:
            blob = _tar(entries)
            desc = Descriptor.for_bytes(media.model_layer_type("doc", "tar"), blob)
            store.push_bytes(desc, blob)
            descs.append(desc.to_dict())
        modelfs = {"type": "layers", "diffIds": [DIGEST]}
        config = json.dumps({"descriptor": {"name": "f"}, "config": {}, "modelfs": modelfs})
        config = config.encode()
        cdesc = Descriptor.for_bytes(mt.MODEL_CONFIG, config)
        store.push_bytes(cdesc, config)
        manifest = {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
                    "artifactType": mt.MODEL_ARTIFACT_TYPE, "config": cdesc.to_dict(),
                    "layers": descs}  # fmt: skip
        store.push_manifest(json.dumps(manifest).encode(), mt.OCI_MANIFEST, tag="v1")
        target = sandbox / "t" / "target"
        target.mkdir(parents=True)
        (target / "keep").write_bytes(b"keep")
        before = _tree(target)
        outside_before = sorted(os.listdir(sandbox)), sorted(os.listdir(sandbox / "t"))
        try:
            pull(read_subject(store, "v1"), store, target, overwrite=True)
            ok = True
        except InputError:
            ok = False
        assert (sorted(os.listdir(sandbox)), sorted(os.listdir(sandbox / "t"))) == outside_before
        if not ok:
            assert _tree(target) == before, "a failed pull changed the target"
            return
        root = os.path.realpath(target)
        for dirpath, dirnames, filenames in os.walk(target):
            for name in dirnames + filenames:
                p = os.path.join(dirpath, name)
                if os.path.islink(p):
                    real = os.path.realpath(p)
                    assert real == root or real.startswith(root + os.sep), f"{p} -> {real}"
