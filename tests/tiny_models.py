"""Tiny ONNX models built in the tests: a salient-object model whose answer the tests can predict
("reddish pixels are the subject"), and the sidecar that tells the engine how to feed it."""

from __future__ import annotations

import json
from pathlib import Path


def build_tiny_model(path: Path, *, size: int = 32, kind: str = "red") -> Path:
    """Write a tiny ONNX salient-object model to ``path``.

    Input ``input`` float32 [1, 3, size, size]; output ``output`` [1, 1, size, size].
    kind "red": output = sigmoid(8 · (channel0 − channel2)), i.e. "reddish pixels are
    the subject", so tests can predict the matte of synthetic images.
    kind "identity0": output = the normalised channel 0 as it entered (for checking
    the preprocessing arithmetic).
    """
    import onnx
    from onnx import TensorProto, helper

    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, size, size])
    inits = [
        helper.make_tensor("s0", TensorProto.INT64, [1], [0]),
        helper.make_tensor("e1", TensorProto.INT64, [1], [1]),
        helper.make_tensor("s2", TensorProto.INT64, [1], [2]),
        helper.make_tensor("e3", TensorProto.INT64, [1], [3]),
        helper.make_tensor("axis", TensorProto.INT64, [1], [1]),
        helper.make_tensor("gain", TensorProto.FLOAT, [], [8.0]),
    ]
    red = helper.make_node("Slice", ["input", "s0", "e1", "axis"], ["red"])
    if kind == "identity0":
        nodes = [red, helper.make_node("Identity", ["red"], ["output"])]
    elif kind == "red":
        nodes = [
            red,
            helper.make_node("Slice", ["input", "s2", "e3", "axis"], ["blue"]),
            helper.make_node("Sub", ["red", "blue"], ["diff"]),
            helper.make_node("Mul", ["diff", "gain"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["output"]),
        ]
    else:
        raise ValueError(kind)
    graph = helper.make_graph(nodes, "tiny", [inp], [out], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def write_sidecar(model: Path, **meta) -> Path:
    sidecar = model.with_suffix(".json")
    sidecar.write_text(json.dumps({"input_size": [32, 32], "mean": [0.0] * 3, "std": [1.0] * 3, **meta}))
    return sidecar
