#!/usr/bin/env python3
"""(Re)create testdata/models/tiny-onnx/, byte for byte, with the onnx package's helper API.

    python testdata/make_onnx.py            # write testdata/models/tiny-onnx/
    python testdata/make_onnx.py --check    # exit 1 if the committed files differ

The model is y = x @ W + b with W 4x2 and b 2 (10 parameters), opset 17, IR version 8, weights
k/8 for small integers k (exact in float32). IR version, opset, producer and every value are fixed
here rather than taken from the installed onnx, so that onnx upgrades do not change the bytes
(checked with onnx 1.23).
Needs `pip install onnx` (attest's `onnx` extra); the committed output does not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "models" / "tiny-onnx"
sys.path.insert(0, str(HERE))

from make_models import MIT_LICENSE  # noqa: E402 - the one MIT text of the test models

README = """---
license: mit
library_name: onnx
pipeline_tag: tabular-regression
tags:
- onnx
- test-fixture
---

# tiny-onnx

A 10-parameter linear model, `y = x @ W + b`, written with the `onnx` helper API for attest's
tests (`testdata/make_onnx.py`). Input `x: float[batch,4]`, output `y: float[batch,2]`, opset 17.

## Intended use

Testing ONNX header reading (opset, producer, graph inputs and outputs). Nothing else.
"""


def model_bytes() -> bytes:
    from onnx import TensorProto, helper

    weights = helper.make_tensor(
        "W", TensorProto.FLOAT, [4, 2], [k / 8 for k in (1, -2, 3, -4, 5, -6, 7, -8)]
    )
    bias = helper.make_tensor("b", TensorProto.FLOAT, [2], [0.5, -0.5])
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["xW"], name="matmul"),
            helper.make_node("Add", ["xW", "b"], ["y"], name="add"),
        ],
        "tiny_linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
        initializer=[weights, bias],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17)],
        producer_name="attest-testdata",
        producer_version="1.0",
        ir_version=8,
    )
    return model.SerializeToString()


def files() -> dict[str, bytes]:
    return {
        "model.onnx": model_bytes(),
        "README.md": README.encode(),
        "LICENSE": MIT_LICENSE.encode(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output directory")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    fresh = files()
    if args.check:
        diff = [n for n, data in fresh.items() if not (args.out / n).is_file()
                or (args.out / n).read_bytes() != data]  # fmt: skip
        for name in diff:
            print(f"differs: {name}", file=sys.stderr)
        return 1 if diff else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in fresh.items():
        (args.out / name).write_bytes(data)
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
