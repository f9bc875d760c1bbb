"""Issue 13 item 5: parameter counts and dtypes of PyTorch (.pt/.pth/.bin zip or legacy pickle,
TorchScript .jit) and TFLite files, read without running any pickled code; a .jit file is a
weight. Fixtures: testdata/torch/, written by torch 2.13 and the tflite package's FlatBuffer
builders (testdata/make_torch.py); where torch and tflite are installed the files are also made
afresh and their counts taken from torch and tflite themselves."""

from __future__ import annotations

import io
import pickle
import shutil
import zipfile
from pathlib import Path

import pytest

from attest.errors import InputError
from attest.facts.weights import HeaderNotRead, capture_header, weight_facts
from attest.modelpack.facts import facts_for_directory
from tests.helpers import REPO_ROOT

TORCH_DIR = REPO_ROOT / "testdata" / "torch"
FILES = ["state_dict.pt", "pytorch_model.bin", "tiny.jit", "checkpoint.pth"]


def read(path: Path, fmt: str = "pt") -> object:
    blob = path.read_bytes()
    header = capture_header(fmt, io.BytesIO(blob), path=path.name, size=len(blob))
    return weight_facts(fmt, header, path=path.name, size=len(blob))


@pytest.mark.parametrize("name", FILES)
def test_committed_torch_files(name: str) -> None:
    facts = read(TORCH_DIR / name)
    assert (facts.parameter_count, facts.tensor_count) == (40, 4)
    assert facts.dtypes == ("bfloat16", "float32")
    layout = {"pytorch_model.bin": "legacy", "tiny.jit": "torchscript"}.get(name, "zip")
    assert facts.metadata["layout"] == layout
    assert facts.architecture == ("Tiny" if name == "tiny.jit" else None)


def test_fresh_files_agree_with_torch(tmp_path: Path) -> None:
    """Run where torch is installed (`pip install torch==2.13.0`): the suite does not install
    its several hundred MB; the committed fixtures were written by it (testdata/make_torch.py)
    and the test above checks them in every run."""
    from tests.conftest import CI_MAY_SKIP

    why = "torch is not installed by the suite (too large); the committed fixtures are checked"
    torch = pytest.importorskip("torch", reason=CI_MAY_SKIP + why)
    import sys

    sys.path.insert(0, str(REPO_ROOT / "testdata"))
    try:
        import make_torch
    finally:
        sys.path.pop(0)
    make_torch.write_torch(tmp_path)
    state = make_torch.network().state_dict()
    expected = sum(t.numel() for t in state.values())
    names = {str(t.dtype).removeprefix("torch.") for t in state.values()}
    for name in FILES:
        facts = read(tmp_path / name)
        assert facts.parameter_count == expected and set(facts.dtypes) == names, name
    # torch's own loader (weights_only) reads the same tensors from the file we read
    loaded = torch.load(tmp_path / "state_dict.pt", weights_only=True)
    assert sum(t.numel() for t in loaded.values()) == expected


def test_committed_tflite_agrees_with_the_tflite_package() -> None:
    facts = read(TORCH_DIR / "tiny.tflite", "tflite")
    assert (facts.parameter_count, facts.tensor_count, facts.dtypes) == (20, 2, ("float32", "int8"))
    tflite = pytest.importorskip("tflite", reason="tflite is a test extra (pip install -e .[test])")
    model = tflite.Model.GetRootAsModel((TORCH_DIR / "tiny.tflite").read_bytes(), 0)
    graph = model.Subgraphs(0)
    weights = [graph.Tensors(i) for i in range(graph.TensorsLength())
               if model.Buffers(graph.Tensors(i).Buffer()).DataLength() > 0]
    import math

    assert sum(math.prod(t.ShapeAsNumpy()) for t in weights) == facts.parameter_count


def _evil_pickle(marker: Path) -> bytes:
    """A pickle that would run ``os.system`` if unpickled, wrapped as a torch state dict."""

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            import os

            return os.system, (f"touch {marker}",)

    return pickle.dumps({"weight": Evil()}, protocol=2)


def test_pickled_code_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = _evil_pickle(marker)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("archive/data.pkl", evil)
        z.writestr("archive/version", "3\n")
    zipped = archive.getvalue()
    facts = weight_facts("pt", capture_header("pt", io.BytesIO(zipped), path="m.pt",
                                              size=len(zipped)), path="m.pt", size=len(zipped))
    assert facts.parameter_count == 0
    legacy = b"".join(pickle.dumps(x, protocol=2) for x in (0x1950A86A20F9469CFC6C, 1001, {}))
    legacy += evil
    facts = weight_facts("pt", capture_header("pt", io.BytesIO(legacy), path="m.bin",
                                              size=len(legacy)), path="m.bin", size=len(legacy))
    assert facts.parameter_count == 0
    assert not marker.exists()


def test_not_torch_and_corrupt_files() -> None:
    with pytest.raises(HeaderNotRead, match="not a PyTorch file"):
        capture_header("pt", io.BytesIO(b"GGML...."), path="x.bin", size=8)
    with pytest.raises(HeaderNotRead, match="no magic number"):
        blob = pickle.dumps({"a": 1}, protocol=2)
        capture_header("pt", io.BytesIO(blob), path="x.bin", size=len(blob))
    with pytest.raises(InputError, match="invalid PyTorch file"):
        capture_header("pt", io.BytesIO(b"PK\x03\x04garbage"), path="x.pt", size=12)
    with pytest.raises(InputError, match="invalid TFLite file"):
        capture_header("tflite", io.BytesIO(b"\x00" * 16), path="x.tflite", size=16)
    blob = (TORCH_DIR / "tiny.tflite").read_bytes()
    with pytest.raises(InputError, match="invalid TFLite file"):
        capture_header("tflite", io.BytesIO(blob[:200]), path="x.tflite", size=200)


def test_jit_file_is_a_weight_with_facts(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    shutil.copy(TORCH_DIR / "tiny.jit", model / "tiny.jit")
    shutil.copy(TORCH_DIR / "tiny.tflite", model / "tiny.tflite")
    facts = facts_for_directory(model)
    roles = {f.path: f.role for f in facts.files}
    assert roles == {"tiny.jit": "weight", "tiny.tflite": "weight"}
    counts = {w.path: w.parameter_count for w in facts.weights}
    assert counts == {"tiny.jit": 40, "tiny.tflite": 20}
