"""Running a salient-object model: ``MaskSession.predict(image) -> coarse alpha``.

One general session serves every registered family: the differences between
IS-Net, U²-Net and a user's model are data (:class:`Preprocessing`), not code.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from core.errors import ModelError, ParameterError, UnknownModelError
from core.models import registry, store
from core.models.registry import ModelSpec, Preprocessing
from core.providers import DeviceChoice, active_device, choose_providers

log = logging.getLogger(__name__)


class MaskSession:
    """A loaded ONNX salient-object model.

    Parameters
    ----------
    spec: what the model is and how to feed it.
    path: the verified .onnx file.
    choice: execution providers (see :func:`core.providers.choose_providers`).
    threads: CPU threads for onnxruntime (0 = its default, all cores).
    """

    def __init__(self, spec: ModelSpec, path: Path, choice: DeviceChoice, *, threads: int = 0) -> None:
        import onnxruntime

        self._session = load_onnx(path, choice, threads=threads)
        self._run_options = onnxruntime.RunOptions()
        self._run_options.log_severity_level = 4  # an interrupted run is not an error to log
        self.spec = spec
        self.path = path
        self.device, self.warning = device_and_warning(self._session, choice)
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ModelError(f"{path}: expected one NCHW image input, found {[i.shape for i in inputs]}")
        self._input_name = inputs[0].name
        _check_input_shape(inputs[0].shape, spec.preprocessing.input_size, path)
        outputs = [o.name for o in self._session.get_outputs()]
        out = spec.preprocessing.output
        if isinstance(out, int):
            if not 0 <= out < len(outputs):
                raise ModelError(f"{path}: output index {out} out of range (model has {len(outputs)})")
            self._output_name = outputs[out]
        elif out in outputs:
            self._output_name = out
        else:
            raise ModelError(f"{path}: no output named {out!r} (outputs: {', '.join(outputs[:8])})")

    @property
    def name(self) -> str:
        return self.spec.name

    def predict(self, image: np.ndarray) -> np.ndarray:
        """Coarse soft mask of the salient subject.

        Parameters
        ----------
        image: (H, W, 3) float32 in [0, 1], RGB, any size.

        Returns
        -------
        alpha: (H, W) float32 in [0, 1], the model's output resized to the image.
        """
        (raw,) = self._run(image, self._output_name)
        return self._mask(raw, image)

    def features(self, image: np.ndarray, *, size: int = 128) -> np.ndarray:
        """A decoder feature map of the model, for semantic soft segmentation.

        Parameters
        ----------
        image: (H, W, 3) float32 in [0, 1], RGB, any size.
        size: side of the square map to take; IS-Net offers 512, 256, 128, 64,
            32 and 16 (64, 64, 128, 256, 512 and 512 channels).

        Returns
        -------
        features: (size, size, C) float32, unbounded activations; the map covers
            the whole image (aspect not kept, as the model's input).

        Raises ModelError when the model has no (1, C > 1, size, size) output
        (models other than IS-Net's published graph, e.g. tiny test models).
        """
        (feats,) = self._run(image, self._feature_output(size))
        return _feature_map(feats)

    def predict_with_features(self, image: np.ndarray, *, size: int = 128) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` and :meth:`features` from one model run: ((H, W) alpha, (size, size, C) features)."""
        raw, feats = self._run(image, self._output_name, self._feature_output(size))
        return self._mask(raw, image), _feature_map(feats)

    def interrupt(self) -> None:
        """End the model run in progress, from any thread, within one of the model's operators, and refuse
        every later one: for a program that is stopping (Ctrl-C), whose runs then raise instead of
        finishing. onnxruntime holds the thread that runs the model until its run ends, signals included."""
        self._run_options.terminate = True

    def _run(self, image: np.ndarray, *outputs: str) -> list:
        """One model run on ``image`` ((H, W, 3) RGB): the raw outputs named in ``outputs``."""
        if image.ndim != 3 or image.shape[2] != 3:
            raise ParameterError(f"image: expected (H, W, 3) RGB; got shape {image.shape}")
        feed = {self._input_name: to_input_tensor(image, self.spec.preprocessing)}
        return self._session.run(list(outputs), feed, self._run_options)

    def _mask(self, raw: np.ndarray, image: np.ndarray) -> np.ndarray:
        """The mask output → (H, W) float32 in [0, 1], resized to ``image``."""
        plane = np.asarray(raw, dtype=np.float32).reshape(-1, *raw.shape[-2:])[0]  # channel 0, as rembg takes
        soft = output_to_unit(plane, self.spec.preprocessing.output_range)
        return cv2.resize(soft, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)

    def _feature_output(self, size: int) -> str:
        for out in self._session.get_outputs():
            shape = out.shape
            if (out.name != self._output_name and len(shape) == 4 and isinstance(shape[1], int) and shape[1] > 1
                    and shape[2] == size and shape[3] == size):
                return out.name
        maps = [f"{o.shape[1]}×{o.shape[2]}²" for o in self._session.get_outputs()
                if len(o.shape) == 4 and isinstance(o.shape[1], int) and o.shape[1] > 1]
        offered = ", ".join(maps) if maps else "none"
        raise ModelError(
            f"{self.path}: model {self.name!r} has no {size}×{size} feature-map output (feature maps offered: "
            f"{offered}); semantic features need a model that exposes its decoder maps, such as the default 'isnet'")


def load_onnx(path: Path, choice: DeviceChoice, *, threads: int = 0):
    """An onnxruntime ``InferenceSession`` for ``path`` on ``choice``'s providers, with the options
    every Softcut model runs with (``threads``: CPU threads, 0 = onnxruntime's default, all cores).
    Raises :class:`ModelError` when onnxruntime cannot load the file."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    options.enable_cpu_mem_arena = False  # same speed, ~40% lower peak memory on the CPU
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=list(choice.providers))
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"{path}: onnxruntime cannot load this model ({exc})") from exc


def device_and_warning(session, choice: DeviceChoice) -> tuple[str, str]:
    """(our name of the device ``session`` runs on, what to tell the user or ""): ``choice``'s
    warning, or that onnxruntime fell back to the CPU from the GPU asked for (logged too)."""
    device = active_device(session.get_providers())
    warning = choice.warning
    if choice.device != "cpu" and device == "cpu":
        warning = (
            f"{choice.providers[0]} was requested but onnxruntime fell back to the CPU "
            "(GPU libraries missing or incompatible)"
        )
    if warning:
        log.warning("%s", warning)
    return device, warning


def _feature_map(raw: np.ndarray) -> np.ndarray:
    """A (1, C, s, s) feature output → (s, s, C) float32."""
    return np.ascontiguousarray(np.asarray(raw, dtype=np.float32)[0].transpose(1, 2, 0))


def to_input_tensor(image: np.ndarray, pre: Preprocessing) -> np.ndarray:
    """(H, W, 3) float32 [0, 1] RGB → (1, 3, h, w) float32 normalised model input."""
    h, w = pre.input_size
    shrinking = image.shape[0] > h or image.shape[1] > w
    resized = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    if pre.scale_by_max:  # rembg: x / max(x), guarded against an all-black image as rembg's newer base does
        resized = resized / max(float(resized.max()), 1e-6)
    resized = (resized - np.asarray(pre.mean, np.float32)) / np.asarray(pre.std, np.float32)
    return np.ascontiguousarray(resized.transpose(2, 0, 1)[None], dtype=np.float32)


def output_to_unit(raw: np.ndarray, output_range: str) -> np.ndarray:
    """Map a model's (h, w) output onto float32 [0, 1] per ``output_range`` (see
    :data:`core.models.registry.OUTPUT_RANGES`)."""
    if output_range == "unit":
        return np.clip(raw, 0.0, 1.0)
    if output_range == "minmax":
        return _stretch(raw)
    if output_range == "logits":
        return _sigmoid(raw)
    if output_range == "sigmoid-minmax":
        return _stretch(_sigmoid(raw))
    raise ParameterError(f"output_range: expected one of {', '.join(registry.OUTPUT_RANGES)}; got {output_range!r}")


def _sigmoid(raw: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(raw, -60.0, 60.0)))).astype(np.float32)  # clip: no exp overflow


def _stretch(raw: np.ndarray) -> np.ndarray:
    """``raw`` stretched from its own min..max onto [0, 1]; all zeros when it is flat."""
    lo, hi = float(raw.min()), float(raw.max())
    if hi - lo < 1e-6:
        return np.zeros_like(raw)
    return (raw - lo) / (hi - lo)


def _check_input_shape(shape: list, size: tuple[int, int], path: Path) -> None:
    h, w = shape[2], shape[3]
    if (isinstance(h, int) and h != size[0]) or (isinstance(w, int) and w != size[1]):
        raise ModelError(f"{path}: model input is {h}×{w}, but its settings say {size[0]}×{size[1]}")


def custom_spec(path: Path) -> ModelSpec:
    """A spec for a user's .onnx file from its JSON sidecar (``model.json`` beside ``model.onnx``).

    Sidecar keys: ``input_size`` [height, width] (required), ``mean`` and ``std``
    (three numbers each, for RGB in [0, 1]; default 0.5 and 1.0), ``output`` (name
    or index, default 0), ``output_range`` (one of :data:`registry.OUTPUT_RANGES`, default
    "unit"), ``scale_by_max`` (true: divide the resized image by its maximum before the
    mean/std, as rembg's sessions do; default false).
    """
    sidecar = path.with_suffix(".json")
    example = '{"input_size": [1024, 1024], "mean": [0.5, 0.5, 0.5], "std": [1, 1, 1], "output": 0, "output_range": "unit"}'
    if not sidecar.is_file():
        raise UnknownModelError(f"{path}: a custom model needs a sidecar {sidecar.name} such as {example}")
    try:
        meta = json.loads(sidecar.read_text())
        size = tuple(int(v) for v in meta["input_size"])
        mean = tuple(float(v) for v in meta.get("mean", (0.5, 0.5, 0.5)))
        std = tuple(float(v) for v in meta.get("std", (1.0, 1.0, 1.0)))
        output = meta.get("output", 0)
        output_range = str(meta.get("output_range", "unit"))
        scale_by_max = meta.get("scale_by_max", False)
    except (ValueError, KeyError, TypeError) as exc:
        raise UnknownModelError(f"{sidecar}: invalid sidecar ({exc!r}); expected e.g. {example}") from exc
    if len(size) != 2 or len(mean) != 3 or len(std) != 3 or min(size) <= 0 or min(std) <= 0:
        raise UnknownModelError(f"{sidecar}: input_size needs 2 positive numbers, mean and std 3 (std > 0)")
    if output_range not in registry.OUTPUT_RANGES:
        raise UnknownModelError(f"{sidecar}: output_range must be one of {', '.join(registry.OUTPUT_RANGES)}")
    if not isinstance(scale_by_max, bool):
        raise UnknownModelError(f"{sidecar}: scale_by_max must be true or false; got {scale_by_max!r}")
    pre = Preprocessing(size, mean, std, output if isinstance(output, (int, str)) else 0, output_range,
                        scale_by_max=scale_by_max)
    return ModelSpec(
        name=path.stem, filename=path.name, preprocessing=pre, licence="user-provided", origin=str(path)
    )


def resolve(model: str, *, fetch: bool = True, progress: store.Progress | None = None, rehash: bool = False,
            notice: Callable[[str], None] | None = None) -> tuple[ModelSpec, Path]:
    """A registered name or a path to an .onnx file → (spec, verified local path).

    ``rehash`` and ``notice``: as :func:`store.ensure` takes them (registered models only)."""
    if model.endswith(".onnx") or "/" in model or "\\" in model:
        path = Path(model).expanduser()
        if not path.is_file():
            raise UnknownModelError(f"{path}: no such model file")
        return custom_spec(path), path
    spec = registry.get_spec(model)
    return spec, store.ensure(spec, fetch=fetch, progress=progress, rehash=rehash, notice=notice)


def open_session(
    model: str = registry.DEFAULT_MODEL,
    *,
    device: str = "auto",
    threads: int = 0,
    fetch: bool = True,
    progress: store.Progress | None = None,
    rehash: bool = False,
    notice: Callable[[str], None] | None = None,
) -> MaskSession:
    """Resolve, fetch if needed, verify and load a model in one call (``rehash``, ``notice``: see
    :func:`store.ensure`)."""
    choice = choose_providers(device)
    spec, path = resolve(model, fetch=fetch, progress=progress, rehash=rehash, notice=notice)
    return MaskSession(spec, path, choice, threads=threads)
