"""Issue 13 item 3: ONNX weights stored as Constant nodes, also inside If/Loop subgraphs, count
as parameters; an exporter's graph name is not an architecture. The model is made here with the
onnx helper API and checked by onnx's own checker; the expected counts come from the numpy arrays
the model was built from, not from attest."""

from __future__ import annotations

import io

import pytest

from attest.facts.weights import capture_header, weight_facts

onnx = pytest.importorskip("onnx", reason="onnx is a test extra (pip install -e .[test])")
np = pytest.importorskip("numpy", reason="numpy comes with onnx, a test extra")


def _const(name: str, array: object) -> object:
    from onnx import helper, numpy_helper

    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(array, name))


def spox_like_model() -> tuple[bytes, int]:
    """y = If(cond, x @ W1, x @ W2) + Loop(...) with weights only in Constant nodes."""
    from onnx import TensorProto, helper

    w0 = np.arange(12, dtype=np.float32).reshape(3, 4)  # top-level Constant weight
    w1 = np.ones((4, 2), dtype=np.float32)  # then-branch
    w2 = np.zeros((4, 2), dtype=np.float32)  # else-branch
    w3 = np.full((2,), 0.5, dtype=np.float16)  # loop body
    shape = np.array([1, 2], dtype=np.int64)  # a shape: not a weight

    out = helper.make_tensor_value_info("h", TensorProto.FLOAT, ["n", 2])
    then_g = helper.make_graph([_const("w1", w1), helper.make_node("MatMul", ["a", "w1"], ["h"])],
                               "then", [], [out])
    else_g = helper.make_graph([_const("w2", w2), helper.make_node("MatMul", ["a", "w2"], ["h"])],
                               "else", [], [out])
    body = helper.make_graph(
        [_const("w3", w3), helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Cast", ["w3"], ["v"], to=TensorProto.FLOAT)],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v", TensorProto.FLOAT, [2])],
    )
    nodes = [
        _const("w0", w0), _const("shape", shape),
        helper.make_node("MatMul", ["x", "w0"], ["a"]),
        helper.make_node("If", ["cond"], ["b"], then_branch=then_g, else_branch=else_g),
        helper.make_node("Loop", ["n", "cond"], ["vs"], body=body),
        helper.make_node("Reshape", ["b", "shape"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "spox_graph",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3]),
         helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
         helper.make_tensor_value_info("n", TensorProto.INT64, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2]),
         helper.make_tensor_value_info("vs", TensorProto.FLOAT, ["k", 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="spox")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)  # onnx's own verdict: a valid model
    return model.SerializeToString(), sum(a.size for a in (w0, w1, w2, w3))


def test_constant_weights_in_subgraphs_are_parameters() -> None:
    blob, expected = spox_like_model()
    header = capture_header("onnx", io.BytesIO(blob), path="m.onnx", size=len(blob))
    facts = weight_facts("onnx", header, path="m.onnx", size=len(blob))
    assert facts.parameter_count == expected == 12 + 8 + 8 + 2
    assert facts.tensor_count == 4  # the int64 shape constant is not a weight
    assert facts.dtypes == ("FLOAT", "FLOAT16")  # ONNX names here; SBOMs spell them as torch


def test_graph_name_is_not_an_architecture() -> None:
    blob, _ = spox_like_model()
    header = capture_header("onnx", io.BytesIO(blob), path="m.onnx", size=len(blob))
    facts = weight_facts("onnx", header, path="m.onnx", size=len(blob))
    assert facts.architecture is None
    assert facts.metadata["graph_name"] == "spox_graph"
