"""gather_facts end to end: directories, packed artifacts (raw and tar layers, KitOps), the
promise that a packed weight is read no further than its header, and bad input."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import IO, Any

import pytest
import zstandard

from attest.errors import InputError
from attest.facts.gather import gather_facts, merge_datasets
from attest.facts.model import CardFacts, DatasetFact, Declared, FileFact, ModelFacts
from attest.facts.onnx import onnx_installed
from attest.facts.render import facts_to_text
from attest.modelpack import media
from attest.modelpack.facts import facts_for_directory, facts_for_reference
from attest.modelpack.pack import pack
from attest.modelpack.read import read_subject
from attest.modelpack.sources import DirectorySource, SubjectSource
from attest.oci import mediatypes as mt
from attest.oci.digest import DigestCache
from attest.oci.layout import LayoutStore
from attest.oci.store import Descriptor
from tests.helpers import REPO_ROOT, push_artifact, push_raw_blob, write_safetensors

MODELS = REPO_ROOT / "testdata" / "models"
EXAMPLE_FACTS = REPO_ROOT / "testdata" / "attest.example.yaml"
NO_CACHE = DigestCache.disabled()
TEST_MODELS = sorted(p.name for p in MODELS.iterdir() if p.is_dir())


@pytest.fixture(autouse=True)
def _no_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTEST_NO_CACHE", "1")


def packed(model: Path, tmp_path: Path, tag: str = "v1") -> tuple[LayoutStore, str]:
    store = LayoutStore(tmp_path / "layout", create=True)
    pack(model, store, tag, progress=False, cache=NO_CACHE)
    return store, f"oci:{tmp_path / 'layout'}:{tag}"


def comparable(facts: ModelFacts) -> dict[str, Any]:
    """What must not depend on where the files were read from."""
    data = facts.to_dict()
    for key in ("subject", "modelpackConfig"):
        data.pop(key)
    for f in data["files"]:
        f.pop("layerDigest")
    return data


# -- a directory ------------------------------------------------------------------------------


def test_tiny_llm_directory_facts() -> None:
    facts = facts_for_directory(MODELS / "tiny-llm", cache=NO_CACHE)
    assert facts.name == "tiny-llm"
    assert [f.path for f in facts.files] == sorted(f.path for f in facts.files)
    roles = {f.path: f.role for f in facts.files}
    assert roles["model.safetensors"] == "weight" and roles["config.json"] == "weight-config"
    assert roles["modeling_tiny.py"] == "code" and roles["README.md"] == "doc"
    for f in facts.files:
        data = (MODELS / "tiny-llm" / f.path).read_bytes()
        assert f.sha256 == "sha256:" + hashlib.sha256(data).hexdigest() and f.size == len(data)
        assert f.layer_digest is None
    [weights] = facts.weights
    assert (weights.format, weights.parameter_count) == ("safetensors", 920)
    assert facts.parameter_count == 920
    assert facts.architecture == "LlamaForCausalLM"
    assert facts.hf_config and facts.hf_config["model_type"] == "llama"
    assert facts.generation_config and facts.generation_config["max_new_tokens"] == 16
    assert facts.tokenizer_files == ["tokenizer.json", "tokenizer_config.json"]
    assert facts.chat_template is True
    assert facts.card and facts.card.license == "Apache-2.0" and facts.card.title == "tiny-llm"
    assert facts.license == "Apache-2.0"
    assert facts.base_models == ["some-org/tiny-base"]
    assert [(d.name, d.use, d.source) for d in facts.datasets] == [
        ("some-org/tiny-corpus", "training", "card")
    ]
    code = next(f for f in facts.files if f.path == "modeling_tiny.py")
    assert code.spdx_license == "Apache-2.0"
    sources = {lic.source: lic.spdx_id for lic in facts.licenses}
    assert sources == {
        "LICENSE": "Apache-2.0",
        "README.md#front-matter": "Apache-2.0",
        "modeling_tiny.py#SPDX-License-Identifier": "Apache-2.0",
    }
    assert facts.warnings == []
    json.dumps(facts.to_dict())  # JSON-ready as it is


def test_gguf_and_modelfile_directories() -> None:
    gguf = facts_for_directory(MODELS / "tiny-gguf", cache=NO_CACHE)
    [w] = gguf.weights
    assert (w.format, w.architecture, w.quantization, w.context_length) == (
        "gguf",
        "llama",
        "MOSTLY_F16",
        64,
    )
    assert gguf.license == "MIT" and gguf.architecture == "llama"

    mf = facts_for_directory(MODELS / "with-modelfile", cache=NO_CACHE)
    assert mf.name == "tiny-classifier"  # the Modelfile's NAME
    assert mf.modelfile and mf.modelfile.startswith("# Modelfile")
    paths = [f.path for f in mf.files]
    assert "notes.txt" not in paths and "Modelfile" not in paths  # as `attest pack` packs it
    [dataset] = mf.datasets
    data_file = next(f for f in mf.files if f.path == "data/train.jsonl")
    assert (dataset.name, dataset.source, dataset.sha256) == (
        "data/train.jsonl",
        "layer",
        data_file.sha256,
    )


@pytest.mark.skipif(
    not onnx_installed(), reason="the onnx extra is not installed (test extra; fails under CI)"
)
def test_onnx_directory() -> None:
    facts = facts_for_directory(MODELS / "tiny-onnx", cache=NO_CACHE)
    [w] = facts.weights
    assert (w.format, w.opset, w.inputs, w.outputs) == (
        "onnx",
        17,
        ("x: float[batch,4]",),
        ("y: float[batch,2]",),
    )
    assert facts.license == "MIT" and facts.card and facts.card.library_name == "onnx"


def test_onnx_without_the_extra_is_format_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import attest.facts.gather as gather

    monkeypatch.setattr(gather, "onnx_installed", lambda: False)
    facts = facts_for_directory(MODELS / "tiny-onnx", cache=NO_CACHE)
    [w] = facts.weights
    assert (w.format, w.opset, w.parameter_count) == ("onnx", None, None)
    assert any("pip install 'attest[onnx]'" in warning for warning in facts.warnings)


def test_declared_facts_file_wins(tmp_path: Path) -> None:
    facts = facts_for_directory(MODELS / "tiny-llm", EXAMPLE_FACTS, cache=NO_CACHE)
    assert facts.declared and facts.declared.paper_url == "https://arxiv.org/abs/2307.09288"
    assert facts.version == "0.1.0"
    # The card's some-org/tiny-corpus is the declared one (richer), not a second entry.
    assert [(d.name, d.source, d.use) for d in facts.datasets] == [
        ("some-org/tiny-corpus", "attest.yaml", "training"),
        ("some-org/tiny-eval", "attest.yaml", "evaluation"),
    ]
    assert any(lic.source == str(EXAMPLE_FACTS) for lic in facts.licenses)
    # An attest.yaml beside the model is read the same way, and it is one of the files.
    model = tmp_path / "m"
    model.mkdir()
    for f in (MODELS / "tiny-llm").iterdir():
        (model / f.name).write_bytes(f.read_bytes())
    (model / "attest.yaml").write_text("name: renamed\nversion: '2'\n")
    beside = facts_for_directory(model, cache=NO_CACHE)
    assert (beside.name, beside.version) == ("renamed", "2")
    assert "attest.yaml" in [f.path for f in beside.files]


def test_invalid_attest_yaml_beside_the_model(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    write_safetensors(model / "model.safetensors", {"w": ("F32", [2])})
    (model / "attest.yaml").write_text("name: x\nlicense: mit\ndatsets: []\n")
    with pytest.raises(InputError, match=r"attest\.yaml:3: unknown key 'datsets'") as err:
        facts_for_directory(model, cache=NO_CACHE)
    assert err.value.exit_code == 2


def test_corrupt_safetensors_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......")
    with pytest.raises(InputError, match=r"invalid safetensors file model\.safetensors") as err:
        facts_for_directory(model, cache=NO_CACHE)
    assert err.value.exit_code == 2


def test_unknown_weight_is_described_by_format(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "pytorch_model.bin").write_bytes(b"\x80\x02not really a pickle")
    (model / "model.h5").write_bytes(b"\x89HDF")
    facts = facts_for_directory(model, cache=NO_CACHE)
    assert [(w.path, w.format, w.tensor_count) for w in facts.weights] == [
        ("model.h5", "h5", None),
        ("pytorch_model.bin", "pt", None),
    ]
    # a .bin that starts like a pickle but is no PyTorch checkpoint: said, not fatal
    assert facts.warnings == [
        "pytorch_model.bin: a pickle, but not a PyTorch checkpoint (no magic number)"
    ]
    assert facts.license is None


def test_spdx_header_only_in_the_first_2_kib(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "early.py").write_text("# SPDX-License-Identifier: BSD-3-Clause\n")
    (model / "late.py").write_text("#" * 3000 + "\n# SPDX-License-Identifier: MIT\n")
    facts = facts_for_directory(model, cache=NO_CACHE)
    assert {f.path: f.spdx_license for f in facts.files} == {
        "early.py": "BSD-3-Clause",
        "late.py": None,
    }


def test_files_are_hashed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import attest.modelpack.sources as source_mod

    calls: list[list[str]] = []
    real = source_mod.digest_files

    def counting(root: Path, paths: list[str], **kw: Any) -> Any:
        calls.append(list(paths))
        return real(root, paths, **kw)

    monkeypatch.setattr(source_mod, "digest_files", counting)
    source = DirectorySource(MODELS / "tiny-llm", cache=NO_CACHE)
    gather_facts(source)
    source.files()
    assert len(calls) == 1 and len(calls[0]) == 8


def test_gathering_is_deterministic() -> None:
    a = facts_for_directory(MODELS / "tiny-llm", EXAMPLE_FACTS, cache=NO_CACHE).to_dict()
    b = facts_for_directory(MODELS / "tiny-llm", EXAMPLE_FACTS, cache=NO_CACHE).to_dict()
    assert json.dumps(a, sort_keys=False) == json.dumps(b, sort_keys=False)


# -- a packed artifact ------------------------------------------------------------------------


@pytest.mark.parametrize("model", TEST_MODELS)
def test_directory_and_packed_artifact_give_the_same_facts(model: str, tmp_path: Path) -> None:
    store, reference = packed(MODELS / model, tmp_path)
    from_dir = facts_for_directory(MODELS / model, cache=NO_CACHE)
    from_oci = facts_for_reference(store, "v1", reference)
    assert comparable(from_oci) == comparable(from_dir)
    assert from_oci.subject is not None
    assert from_oci.subject.repository == f"oci:{tmp_path / 'layout'}"
    assert from_oci.subject.digest == store.get_manifest("v1").descriptor.digest
    assert from_oci.modelpack_config and from_oci.modelpack_config["modelfs"]["type"] == "layers"
    assert from_dir.subject is None
    json.dumps(from_oci.to_dict())


def test_raw_layer_files_carry_the_layer_digest(tmp_path: Path) -> None:
    store, reference = packed(MODELS / "tiny-llm", tmp_path)
    subject = read_subject(store, "v1", reference)
    layers = {layer.path: layer.descriptor for layer in subject.layers}
    facts = facts_for_reference(store, "v1", reference)
    assert len(facts.files) == len(layers)
    for f in facts.files:
        assert f.sha256 == f.layer_digest == layers[f.path].digest
        assert f.size == layers[f.path].size
        assert f.media_type == media.model_layer_type(
            {"weight-config": "weight.config"}.get(f.role, f.role), "raw"
        )


def test_modelfile_annotation_goes_into_the_facts(tmp_path: Path) -> None:
    store, reference = packed(MODELS / "with-modelfile", tmp_path)
    facts = facts_for_reference(store, "v1", reference)
    assert facts.modelfile == (MODELS / "with-modelfile" / "Modelfile").read_text()
    assert facts.subject and mt.ANNOTATION_MODELFILE in facts.subject.annotations
    assert facts.name == "tiny-classifier"


class _Counting(io.RawIOBase):
    def __init__(self, inner: IO[bytes], counter: dict[str, int], digest: str) -> None:
        super().__init__()
        self._inner, self._counter, self._digest = inner, counter, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        data = self._inner.read(len(buf))
        buf[: len(data)] = data
        self._counter[self._digest] = self._counter.get(self._digest, 0) + len(data)
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def test_packed_weight_is_read_no_further_than_its_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "big"
    model.mkdir()
    write_safetensors(model / "model.safetensors", {"w": ("F32", [2048, 1024])})  # 8 MiB
    (model / "README.md").write_text("---\nlicense: mit\n---\n# Big\n")
    (model / "run.py").write_text("# SPDX-License-Identifier: MIT\n" + "x = 1\n" * 1000)
    store, reference = packed(model, tmp_path)
    subject = read_subject(store, "v1", reference)
    weight = next(layer.descriptor for layer in subject.layers if layer.kind == "weight")
    assert weight.size > 8 << 20

    read: dict[str, int] = {}
    fetched: list[str] = []
    open_blob, fetch_blob = store.open_blob, store.fetch_blob

    def counting_open(desc: Descriptor) -> IO[bytes]:
        return _Counting(open_blob(desc), read, desc.digest)  # type: ignore[return-value]

    def counting_fetch(desc: Descriptor) -> bytes:
        fetched.append(desc.digest)
        return fetch_blob(desc)

    monkeypatch.setattr(store, "open_blob", counting_open)
    monkeypatch.setattr(store, "fetch_blob", counting_fetch)
    facts = gather_facts(SubjectSource(store, subject))

    header_size = 8 + int.from_bytes((model / "model.safetensors").read_bytes()[:8], "little")
    assert read[weight.digest] == header_size  # the header, not one byte of the weights
    assert weight.digest not in fetched
    assert facts.weights[0].parameter_count == 2048 * 1024
    assert facts.files[-1].path == "run.py" and facts.files[-1].spdx_license == "MIT"


# -- tar layers and KitOps --------------------------------------------------------------------


def tar_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def encode(data: bytes, encoding: str) -> bytes:
    if encoding == "tar+gzip":
        return gzip.compress(data, mtime=0)
    if encoding == "tar+zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


def tiny_llm_files(names: list[str]) -> dict[str, bytes]:
    return {n: (MODELS / "tiny-llm" / n).read_bytes() for n in names}


TAR_GROUPS = {
    "weight": ["model.safetensors"],
    "weight.config": [
        "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"
    ],
    "doc": ["LICENSE", "README.md"],
    "code": ["modeling_tiny.py"],
}  # fmt: skip


@pytest.mark.parametrize("encoding", ["tar", "tar+gzip", "tar+zstd"])
def test_tar_layers_are_streamed_once_and_match_the_directory(
    encoding: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LayoutStore(tmp_path / "layout", create=True)
    layers = []
    for kind, names in TAR_GROUPS.items():
        blob = encode(tar_bytes(tiny_llm_files(names)), encoding)
        media_type = media.model_layer_type(kind, encoding)
        layers.append(push_raw_blob(store, blob, media_type))
    config = {
        "descriptor": {"name": "tiny-llm"},
        "config": {},
        "modelfs": {"type": "layers", "diffIds": ["sha256:" + "0" * 64]},
    }
    push_artifact(store, layers, config=config)
    opened: list[str] = []
    open_blob = store.open_blob
    monkeypatch.setattr(store, "open_blob", lambda d: opened.append(d.digest) or open_blob(d))

    facts = facts_for_reference(store, "v1", f"oci:{tmp_path / 'layout'}:v1")
    assert sorted(opened) == sorted(d.digest for d in layers)  # each layer streamed once
    assert comparable(facts) == comparable(facts_for_directory(MODELS / "tiny-llm", cache=NO_CACHE))
    by_digest = {d.digest: d for d in layers}
    assert all(f.layer_digest in by_digest for f in facts.files)


def test_tar_layer_with_a_wrong_digest_is_refused(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path / "layout", create=True)
    blob = tar_bytes(tiny_llm_files(["README.md"]))
    desc = push_raw_blob(store, blob, media.model_layer_type("doc", "tar"))
    push_artifact(store, [desc])
    # Corrupt the stored blob behind the store's back.
    path = store.blob_path(desc.digest)
    path.chmod(0o644)
    path.write_bytes(blob.replace(b"tiny-llm", b"tiny-LLM"))
    with pytest.raises(InputError, match="does not match its digest"):
        facts_for_reference(store, "v1", "oci:x:v1")


def test_kitops_modelkit(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path / "layout", create=True)
    kitfile = "manifestVersion: 1.0\npackage:\n  name: tiny\nmodel:\n  path: tiny.gguf\n"
    gguf = (MODELS / "tiny-gguf" / "tiny.gguf").read_bytes()
    model_layer = push_raw_blob(
        store, encode(tar_bytes({"tiny.gguf": gguf}), "tar+gzip"),
        "application/vnd.kitops.modelkit.model.v1.tar+gzip",
    )  # fmt: skip
    docs_layer = push_raw_blob(
        store,
        encode(tar_bytes(tiny_llm_files(["README.md"])), "tar+gzip"),
        "application/vnd.kitops.modelkit.docs.v1.tar+gzip",
    )
    kit_config = {"manifestVersion": "1.0", "package": {"name": "tiny-kit", "version": "3"}}
    cdesc = push_raw_blob(store, json.dumps(kit_config).encode(), mt.KITOPS_CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": cdesc.to_dict(),
        "layers": [model_layer.to_dict(), docs_layer.to_dict()],
        "annotations": {mt.ANNOTATION_KITFILE: kitfile},
    }
    store.push_manifest(json.dumps(manifest).encode(), mt.OCI_MANIFEST, tag="v1")
    facts = facts_for_reference(store, "v1", f"oci:{tmp_path / 'layout'}:v1")
    assert facts.kitfile == kitfile
    assert (facts.name, facts.version) == ("tiny-kit", "3")
    assert [(f.path, f.role) for f in facts.files] == [
        ("README.md", "doc"),
        ("tiny.gguf", "weight"),
    ]
    gguf_file = next(f for f in facts.files if f.path == "tiny.gguf")
    assert gguf_file.sha256 == "sha256:" + hashlib.sha256(gguf).hexdigest()
    assert facts.weights[0].quantization == "MOSTLY_F16"
    assert facts.license == "Apache-2.0"  # from the card


def test_corrupt_safetensors_in_a_packed_artifact(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path / "layout", create=True)
    bad = b"\xff" * 8 + b"{}"
    annotations = {mt.ANNOTATION_FILEPATH: "model.safetensors"}
    weight = media.model_layer_type("weight", "raw")
    desc = push_raw_blob(store, bad, weight, annotations=annotations)
    push_artifact(store, [desc])
    with pytest.raises(InputError, match=r"invalid safetensors file model\.safetensors"):
        facts_for_reference(store, "v1", "oci:x:v1")


def test_corrupt_weight_in_a_tar_layer_fails_when_its_facts_are_read(tmp_path: Path) -> None:
    store = LayoutStore(tmp_path / "layout", create=True)
    blob = tar_bytes({"model.safetensors": b"\x02" + b"\0" * 7 + b"{}junk"})
    desc = push_raw_blob(store, blob, media.model_layer_type("weight", "tar"))
    push_artifact(store, [desc])
    subject = read_subject(store, "v1", "oci:x:v1")
    source = SubjectSource(store, subject)
    [f] = source.files()  # listing still works: the member is hashed
    assert f.sha256 == "sha256:" + hashlib.sha256(b"\x02" + b"\0" * 7 + b"{}junk").hexdigest()
    with pytest.raises(InputError, match=r"invalid safetensors file model\.safetensors"):
        gather_facts(source)


def test_gguf_v1_is_described_with_a_warning(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "old.gguf").write_bytes(b"GGUF" + (1).to_bytes(4, "little") + b"\0" * 100)
    facts = facts_for_directory(model, cache=NO_CACHE)
    assert [(w.format, w.tensor_count) for w in facts.weights] == [("gguf", None)]
    assert any("version 1" in w for w in facts.warnings)


# -- merging and rendering --------------------------------------------------------------------


def test_dataset_merge_declared_wins_and_layers_fill_digests() -> None:
    files = [FileFact("data/train.jsonl", 3, "sha256:" + "a" * 64, "dataset", "x")]
    card = CardFacts(path="README.md", datasets=["Org/Corpus", "org/other"])
    declared = Declared(
        path="attest.yaml",
        datasets=[
            DatasetFact("org/corpus", use="fine-tuning", source="attest.yaml"),
            DatasetFact("train", path="data/train.jsonl", source="attest.yaml"),
        ],
    )
    merged = merge_datasets(card, declared, files)
    assert [(d.name, d.source, d.use, d.sha256) for d in merged] == [
        ("org/corpus", "attest.yaml", "fine-tuning", None),
        ("train", "attest.yaml", "unknown", "sha256:" + "a" * 64),
        ("org/other", "card", "training", None),
    ]


def test_text_summary(tmp_path: Path) -> None:
    store, reference = packed(MODELS / "tiny-llm", tmp_path)
    text = facts_to_text(facts_for_reference(store, "v1", reference, EXAMPLE_FACTS))
    assert "Model         tiny-llm 0.1.0" in text
    assert "Licence       Apache-2.0" in text
    assert "Parameters    920" in text
    assert "model.safetensors: safetensors, 12 tensors, 920 parameters" in text
    assert "some-org/tiny-corpus: training, from attest.yaml" in text
    assert f"Subject       oci:{tmp_path / 'layout'}@sha256:" in text
    sparse = facts_to_text(ModelFacts(name="x", files=[]))
    assert "none found" in sparse and "Card          none" in sparse


def test_recursive_yaml_alias_in_attest_yaml_is_refused(tmp_path: Path) -> None:
    """A self-referencing alias would recurse forever; it is an input error naming the line."""
    from attest.facts.declared import load_declared

    bad = tmp_path / "attest.yaml"
    bad.write_text("name: x\nextra: &x [*x]\n")
    with pytest.raises(InputError, match=r"attest.yaml:2: extra\[0\]: YAML aliases"):
        load_declared(bad)


def test_tokenizer_vocabularies_are_weight_config_not_documentation(tmp_path: Path) -> None:
    """modctl files vocab.txt and merges.txt as doc layers (kept, for identical digests); the
    facts (SBOM roles, MOF documentation evidence) call them what they are."""
    from attest.modelpack.facts import facts_for_directory

    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\nhello\n")
    (tmp_path / "merges.txt").write_text("#version: 0.2\nh e\n")
    (tmp_path / "NOTES.txt").write_text("release notes\n")
    (tmp_path / "model.safetensors").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    facts = facts_for_directory(tmp_path)
    roles = {f.path: f.role for f in facts.files}
    assert roles["vocab.txt"] == roles["merges.txt"] == "weight-config"
    assert roles["NOTES.txt"] == "doc"
    media = {f.path: f.media_type for f in facts.files}
    assert media["vocab.txt"].endswith(".doc.v1.raw")  # the layer stays what modctl packs
