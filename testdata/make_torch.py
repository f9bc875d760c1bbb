#!/usr/bin/env python3
"""(Re)create testdata/torch/: small PyTorch files written by torch itself, and a TFLite file
written with the `tflite` package's FlatBuffer builders.

    pip install torch==2.13.0 tflite flatbuffers
    python testdata/make_torch.py

The network is Linear(4, 3) in float32 (15 parameters) and Embedding(10, 2) in bfloat16 (20
parameters), plus a float32 buffer of 5: 40 tensor elements in all. torch writes a random
serialization id into zip files, so the bytes differ between runs; the facts do not. The tests
read the committed files (no torch needed) and, where torch is installed, files made afresh.
"""

from __future__ import annotations

import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "torch"
EXPECTED = {"parameters": 40, "tensors": 4, "dtypes": ("bfloat16", "float32")}


def network():  # type: ignore[no-untyped-def]
    import torch

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.linear = torch.nn.Linear(4, 3)
            self.embed = torch.nn.Embedding(10, 2).to(torch.bfloat16)
            self.register_buffer("scale", torch.ones(5))

        def forward(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
            return self.linear(x).sum() + self.embed(ids).float().sum() + self.scale.sum()

    return Tiny()


def write_torch(out: Path) -> None:
    import torch

    net = network()
    state = net.state_dict()
    assert sum(t.numel() for t in state.values()) == EXPECTED["parameters"]
    torch.save(state, out / "state_dict.pt")  # zip layout
    torch.save(state, out / "pytorch_model.bin", _use_new_zipfile_serialization=False)  # legacy
    torch.jit.script(net).save(str(out / "tiny.jit"))  # TorchScript archive
    # a checkpoint dict with other objects beside the weights (optimizer-style metadata)
    torch.save({"model": state, "epoch": 3, "args": {"lr": 0.1}}, out / "checkpoint.pth")


def tflite_bytes() -> bytes:
    """A TFLite model with two weight tensors (float32 [3,4], int8 [8]) and an input tensor."""
    from importlib import import_module

    import flatbuffers
    import numpy as np

    # the generated modules (the package's __init__ shadows them with their classes)
    Buffer, Model, SubGraph, Tensor = (
        import_module(f"tflite.{m}") for m in ("Buffer", "Model", "SubGraph", "Tensor")
    )

    b = flatbuffers.Builder(1024)
    payloads = [b"", np.zeros((3, 4), np.float32).tobytes(), bytes(8), b""]
    buffers = []
    for data in payloads:
        vec = b.CreateByteVector(data) if data else None
        Buffer.BufferStart(b)
        if vec is not None:
            Buffer.BufferAddData(b, vec)
        buffers.append(Buffer.BufferEnd(b))
    tensors = []
    for name, shape, dtype, buf in (("w", [3, 4], 0, 1), ("q", [8], 9, 2), ("x", [1, 4], 0, 3)):
        n = b.CreateString(name)
        Tensor.TensorStartShapeVector(b, len(shape))
        for d in reversed(shape):
            b.PrependInt32(d)
        s = b.EndVector()
        Tensor.TensorStart(b)
        Tensor.TensorAddShape(b, s)
        Tensor.TensorAddType(b, dtype)
        Tensor.TensorAddBuffer(b, buf)
        Tensor.TensorAddName(b, n)
        tensors.append(Tensor.TensorEnd(b))
    SubGraph.SubGraphStartTensorsVector(b, len(tensors))
    for t in reversed(tensors):
        b.PrependUOffsetTRelative(t)
    tvec = b.EndVector()
    name = b.CreateString("main")
    SubGraph.SubGraphStart(b)
    SubGraph.SubGraphAddTensors(b, tvec)
    SubGraph.SubGraphAddName(b, name)
    sub = SubGraph.SubGraphEnd(b)
    Model.ModelStartSubgraphsVector(b, 1)
    b.PrependUOffsetTRelative(sub)
    subs = b.EndVector()
    Model.ModelStartBuffersVector(b, len(buffers))
    for buf in reversed(buffers):
        b.PrependUOffsetTRelative(buf)
    bufs = b.EndVector()
    desc = b.CreateString("attest testdata")
    Model.ModelStart(b)
    Model.ModelAddVersion(b, 3)
    Model.ModelAddSubgraphs(b, subs)
    Model.ModelAddDescription(b, desc)
    Model.ModelAddBuffers(b, bufs)
    b.Finish(Model.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def main() -> int:
    OUT.mkdir(exist_ok=True)
    write_torch(OUT)
    (OUT / "tiny.tflite").write_bytes(tflite_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
