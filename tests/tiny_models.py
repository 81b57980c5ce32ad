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


def build_hanging_model(path: Path, *, size: int = 32) -> Path:
    """Write a tiny ONNX model that answers as :func:`build_tiny_model`'s "red" one, except on an image
    whose every pixel is pure green (a marker frame), on which it runs for ever: a Loop of 10¹⁵ steps,
    one native onnxruntime call that signals do not interrupt (what a big model's run is on a big frame).
    The loop's result is added to the output times zero, so the output is the "red" model's, bit for bit."""
    import onnx
    from onnx import TensorProto, helper

    build_tiny_model(path, size=size)
    model = onnx.load(path)
    graph = model.graph
    (sigmoid,) = [node for node in graph.node if node.op_type == "Sigmoid"]
    sigmoid.output[0] = "red_output"

    def scalar(name: str, kind: int, value) -> onnx.TensorProto:
        return helper.make_tensor(name, kind, [], [value])

    graph.initializer.extend([
        helper.make_tensor("g_start", TensorProto.INT64, [1], [1]), helper.make_tensor("g_end", TensorProto.INT64, [1], [2]),
        scalar("green_min", TensorProto.FLOAT, 0.99), scalar("forever", TensorProto.FLOAT, 1e15),
        scalar("zero", TensorProto.FLOAT, 0.0), scalar("keep_going", TensorProto.BOOL, True),
    ])
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond"], ["cond_out"]), helper.make_node("Add", ["count", "one"], ["count_out"])],
        "step",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []), helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
         helper.make_tensor_value_info("count", TensorProto.FLOAT, [])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("count_out", TensorProto.FLOAT, [])],
        initializer=[scalar("one", TensorProto.FLOAT, 1.0)],
    )
    graph.node.extend([
        helper.make_node("Slice", ["input", "g_start", "g_end", "axis"], ["green"]),
        helper.make_node("ReduceMin", ["green"], ["least_green"], keepdims=0),
        helper.make_node("Greater", ["least_green", "green_min"], ["marked"]),
        helper.make_node("Cast", ["marked"], ["marked_f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["marked_f", "forever"], ["steps_f"]),
        helper.make_node("Cast", ["steps_f"], ["steps"], to=TensorProto.INT64),
        helper.make_node("Loop", ["steps", "keep_going", "zero"], ["count_end"], body=body),
        helper.make_node("Mul", ["count_end", "zero"], ["nothing"]),
        helper.make_node("Add", ["red_output", "nothing"], ["output"]),
    ])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path
