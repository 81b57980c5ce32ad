"""Tiny stand-ins for rembg's SAM encoder and decoder ONNX files, built with ``onnx.helper``.

They have the real files' signatures (as samexporter exports them, which rembg ships):

- encoder: input ``input_image`` float32 (image_height, image_width, 3), pixels 0–255 HWC; output
  ``image_embeddings`` (1, 256, 64, 64). Like the real graph it normalises by SAM's pixel mean
  and std, moves channels first and pads with zeros to 1024×1024 (right and bottom); then the
  embedding is the mean of each 16×16 cell, channel ``c`` of the embedding holding colour
  channel ``c % 3``. So the embedding shows where the image lay in the frame.
- decoder: inputs ``image_embeddings`` (1, 256, 64, 64), ``point_coords`` (1, N, 2),
  ``point_labels`` (1, N), ``mask_input`` (1, 1, 256, 256), ``has_mask_input`` (1,),
  ``orig_im_size`` (2,), all float32; outputs ``masks`` (1, 2, h, w) with (h, w) =
  ``orig_im_size``, ``iou_predictions`` (1, 2), ``low_res_masks`` (1, 2, 256, 256). The masks
  are geometry in frame pixels, logits > 0 inside: mask 0 the box spanned by the label-2
  (top-left) and label-3 (bottom-right) corners, mask 1 discs of ``radius`` around the label-1
  points, each less discs of ``radius`` around the label-0 points (logit ``radius − distance``,
  or the distance inside the box to its nearest side); so their union, which rembg takes, is
  the box and the discs less the negative discs. Unless the prompts are encoded as rembg
  encodes them (one padding point (0, 0) labelled −1, last; ``has_mask_input`` 0;
  ``mask_input`` zeros), every logit is −1000: nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PIXEL_MEAN = (123.675, 116.28, 103.53)
PIXEL_STD = (58.395, 57.12, 57.375)
NOTHING = -1000.0
"""Every logit of a decoder run whose prompts were not encoded as rembg encodes them."""

_OPSET = 18


def build_sam_standin(folder: Path, name: str = "sam_vit_b_01ec64", *, quant: bool = False,
                      radius: float = 40.0) -> tuple[Path, Path]:
    """Write stand-in ``NAME.encoder.onnx`` and ``NAME.decoder.onnx`` into ``folder`` (the
    ``.quant`` pair with ``quant``); ``radius``: the decoder's click discs, frame pixels.
    Returns (encoder path, decoder path)."""
    folder.mkdir(parents=True, exist_ok=True)
    tag = ".quant" if quant else ""
    encoder, decoder = folder / f"{name}.encoder{tag}.onnx", folder / f"{name}.decoder{tag}.onnx"
    _save(_encoder_graph(), encoder)
    _save(_decoder_graph(radius), decoder)
    return encoder, decoder


def _save(graph, path: Path) -> None:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def _const(name: str, values, dtype=np.float32):
    from onnx import numpy_helper

    return numpy_helper.from_array(np.asarray(values, dtype), name)


def _encoder_graph():
    """The stand-in encoder (see the module's docstring)."""
    from onnx import TensorProto, helper

    weights = np.zeros((256, 3, 1, 1), np.float32)
    weights[np.arange(256), np.arange(256) % 3] = 1.0
    inits = [_const("mean", PIXEL_MEAN), _const("std", PIXEL_STD), _const("weights", weights),
             _const("side", [1024], np.int64), _const("zeros4", [0, 0, 0, 0], np.int64),
             _const("i1", [1], np.int64), _const("i2", [2], np.int64), _const("i3", [3], np.int64),
             _const("axis0", [0], np.int64)]
    nodes = [
        helper.make_node("Sub", ["input_image", "mean"], ["centred"]),
        helper.make_node("Div", ["centred", "std"], ["normal"]),
        helper.make_node("Transpose", ["normal"], ["chw"], perm=[2, 0, 1]),
        helper.make_node("Shape", ["chw"], ["shape"]),
        helper.make_node("Slice", ["shape", "i1", "i2"], ["h"]),
        helper.make_node("Slice", ["shape", "i2", "i3"], ["w"]),
        helper.make_node("Sub", ["side", "h"], ["pad_h"]),
        helper.make_node("Sub", ["side", "w"], ["pad_w"]),
        helper.make_node("Concat", ["zeros4", "pad_h", "pad_w"], ["pads"], axis=0),  # c, h, w begins; c, h, w ends
        helper.make_node("Pad", ["chw", "pads"], ["padded"]),
        helper.make_node("Unsqueeze", ["padded", "axis0"], ["batch"]),
        helper.make_node("AveragePool", ["batch"], ["cells"], kernel_shape=[16, 16], strides=[16, 16]),
        helper.make_node("Conv", ["cells", "weights"], ["image_embeddings"]),
    ]
    inp = helper.make_tensor_value_info("input_image", TensorProto.FLOAT, ["image_height", "image_width", 3])
    out = helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT, [1, 256, 64, 64])
    return helper.make_graph(nodes, "sam_encoder_standin", [inp], [out], initializer=inits)


def _decoder_graph(radius: float):
    """The stand-in decoder (see the module's docstring)."""
    from onnx import TensorProto, helper

    n = helper.make_node
    big = 1e6
    inits = [_const(k, v) for k, v in {"zero": 0.0, "one": 1.0, "two": 2.0, "three": 3.0, "minus_one": -1.0,
                                       "radius": radius, "big": big, "minus_big": -big, "nothing": NOTHING}.items()]
    inits += [_const(k, v, np.int64) for k, v in {"i0": 0, "i1": 1, "last": -1, "axis0": [0], "axes01": [0, 1],
                                                  "n2": [-1, 2], "n11": [-1, 1, 1], "row": [1, -1], "col": [-1, 1],
                                                  "flat": [-1], "one_two": [1, 2]}.items()]
    inits.append(_const("low_size", [1, 2, 256, 256], np.int64))
    nodes = [
        # The frame's pixel grid, from orig_im_size.
        n("Gather", ["orig_im_size", "i0"], ["height"]),
        n("Gather", ["orig_im_size", "i1"], ["width"]),
        n("Range", ["zero", "height", "one"], ["ys"]),
        n("Range", ["zero", "width", "one"], ["xs"]),
        n("Reshape", ["ys", "col"], ["ys2"]),  # (h, 1)
        n("Reshape", ["xs", "row"], ["xs2"]),  # (1, w)
        # Discs around every point: radius - distance, (N, h, w).
        n("Reshape", ["point_coords", "n2"], ["coords"]),  # (N, 2)
        n("Gather", ["coords", "i0"], ["px"], axis=1),
        n("Gather", ["coords", "i1"], ["py"], axis=1),
        n("Reshape", ["px", "n11"], ["px3"]),
        n("Reshape", ["py", "n11"], ["py3"]),
        n("Sub", ["xs2", "px3"], ["dx"]),
        n("Sub", ["ys2", "py3"], ["dy"]),
        n("Mul", ["dx", "dx"], ["dx2"]),
        n("Mul", ["dy", "dy"], ["dy2"]),
        n("Add", ["dx2", "dy2"], ["d2"]),
        n("Sqrt", ["d2"], ["dist"]),
        n("Sub", ["radius", "dist"], ["disc"]),
        n("Neg", ["disc"], ["outside_disc"]),
        n("Reshape", ["point_labels", "n11"], ["labels3"]),
        n("Equal", ["labels3", "one"], ["is_positive"]),
        n("Equal", ["labels3", "zero"], ["is_negative"]),
        n("Where", ["is_positive", "disc", "minus_big"], ["positive_discs"]),
        n("ReduceMax", ["positive_discs", "axis0"], ["positive"], keepdims=0),  # (h, w)
        n("Where", ["is_negative", "outside_disc", "big"], ["negative_discs"]),
        n("ReduceMin", ["negative_discs", "axis0"], ["negative"], keepdims=0),
        # The box between the label-2 and label-3 corners.
        n("Reshape", ["point_labels", "col"], ["labels2"]),  # (N, 1)
        n("Equal", ["labels2", "two"], ["is_tl"]),
        n("Equal", ["labels2", "three"], ["is_br"]),
        n("Cast", ["is_tl"], ["tl_weight"], to=TensorProto.FLOAT),
        n("Cast", ["is_br"], ["br_weight"], to=TensorProto.FLOAT),
        n("Mul", ["coords", "tl_weight"], ["tl_coords"]),
        n("Mul", ["coords", "br_weight"], ["br_coords"]),
        n("ReduceSum", ["tl_coords", "axis0"], ["tl"], keepdims=0),  # (2,)
        n("ReduceSum", ["br_coords", "axis0"], ["br"], keepdims=0),
        n("ReduceSum", ["tl_weight"], ["corners"], keepdims=0),
        n("Greater", ["corners", "zero"], ["has_box"]),
        n("Gather", ["tl", "i0"], ["x0"]),
        n("Gather", ["tl", "i1"], ["y0"]),
        n("Gather", ["br", "i0"], ["x1"]),
        n("Gather", ["br", "i1"], ["y1"]),
        n("Sub", ["xs2", "x0"], ["from_left"]),
        n("Sub", ["x1", "xs2"], ["from_right"]),
        n("Sub", ["ys2", "y0"], ["from_top"]),
        n("Sub", ["y1", "ys2"], ["from_bottom"]),
        n("Min", ["from_left", "from_right", "from_top", "from_bottom"], ["in_box"]),  # (h, w)
        n("Where", ["has_box", "in_box", "minus_big"], ["box"]),
        n("Min", ["box", "negative"], ["box_logit"]),
        n("Min", ["positive", "negative"], ["disc_logit"]),
        # rembg's encoding or nothing: the padding point last, alone, at (0, 0); no mask input.
        n("Reshape", ["point_labels", "flat"], ["labels1"]),
        n("Gather", ["labels1", "last"], ["last_label"]),
        n("Equal", ["last_label", "minus_one"], ["pad_last"]),
        n("Gather", ["coords", "last"], ["last_coords"]),
        n("ReduceL1", ["last_coords"], ["last_l1"], keepdims=0),
        n("Equal", ["last_l1", "zero"], ["pad_at_origin"]),
        n("Equal", ["labels1", "minus_one"], ["is_pad"]),
        n("Cast", ["is_pad"], ["pad_weight"], to=TensorProto.FLOAT),
        n("ReduceSum", ["pad_weight"], ["pads"], keepdims=0),
        n("Equal", ["pads", "one"], ["one_pad"]),
        n("ReduceL1", ["has_mask_input"], ["has_mask"], keepdims=0),
        n("Equal", ["has_mask", "zero"], ["no_mask_flag"]),
        n("ReduceL1", ["mask_input"], ["mask_l1"], keepdims=0),
        n("Equal", ["mask_l1", "zero"], ["no_mask"]),
        n("And", ["pad_last", "pad_at_origin"], ["ok1"]),
        n("And", ["ok1", "one_pad"], ["ok2"]),
        n("And", ["ok2", "no_mask_flag"], ["ok3"]),
        n("And", ["ok3", "no_mask"], ["ok"]),
        n("Where", ["ok", "box_logit", "nothing"], ["box_mask"]),
        n("Where", ["ok", "disc_logit", "nothing"], ["disc_mask"]),
        n("Unsqueeze", ["box_mask", "axes01"], ["box_masks"]),
        n("Unsqueeze", ["disc_mask", "axes01"], ["disc_masks"]),
        n("Concat", ["box_masks", "disc_masks"], ["masks"], axis=1),
        n("Resize", ["masks", "", "", "low_size"], ["low_res_masks"], mode="nearest"),
        n("ReduceMean", ["image_embeddings"], ["embedding_mean"], keepdims=0),
        n("Expand", ["embedding_mean", "one_two"], ["iou_predictions"]),
    ]
    f = TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info("image_embeddings", f, [1, 256, 64, 64]),
        helper.make_tensor_value_info("point_coords", f, [1, "num_points", 2]),
        helper.make_tensor_value_info("point_labels", f, [1, "num_points"]),
        helper.make_tensor_value_info("mask_input", f, [1, 1, 256, 256]),
        helper.make_tensor_value_info("has_mask_input", f, [1]),
        helper.make_tensor_value_info("orig_im_size", f, [2]),
    ]
    outputs = [
        helper.make_tensor_value_info("masks", f, [1, 2, "frame_height", "frame_width"]),
        helper.make_tensor_value_info("iou_predictions", f, [1, 2]),
        helper.make_tensor_value_info("low_res_masks", f, [1, 2, 256, 256]),
    ]
    return helper.make_graph(nodes, "sam_decoder_standin", inputs, outputs, initializer=inits)
