"""Every model Softcut knows: where it comes from, its checksum, licence and preprocessing."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import UnknownModelError


@dataclass(frozen=True)
class Preprocessing:
    """How an image becomes the model's input tensor and its output an alpha.

    The RGB image in [0, 1] is resized to ``input_size`` (height, width, aspect
    not kept), normalised as ``(x - mean) / std`` per channel, and laid out NCHW.
    ``output`` is the output tensor's name or index; ``output_range`` says how
    to map it to [0, 1]: ``"unit"`` (already a probability, clipped) or
    ``"minmax"`` (stretched from its own min..max, as rembg does for U²-Net).
    """

    input_size: tuple[int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    output: str | int = 0
    output_range: str = "unit"


@dataclass(frozen=True)
class NpmSource:
    """A model file stored as ordered chunks in an npm package (``dist/resources.json``)."""

    package: str
    version: str
    resource: str


@dataclass(frozen=True)
class ModelSpec:
    """One known model.

    ``sha256``/``size`` are None for files we do not fetch ourselves (rembg's
    cache), which are checked by their graph's input shape instead.
    """

    name: str
    filename: str
    preprocessing: Preprocessing
    licence: str
    origin: str
    sha256: str | None = None
    size: int | None = None
    npm: NpmSource | None = None
    rembg_filename: str | None = None
    description: str = ""


_IMGLY = "@imgly/background-removal-data"
_IMGLY_VERSION = "1.4.5"
_IMAGENET = Preprocessing((320, 320), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 0, "minmax")

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="isnet",
            filename="isnet-imgly-fp32.onnx",
            preprocessing=Preprocessing((1024, 1024), (128 / 255,) * 3, (256 / 255,) * 3, "output", "unit"),
            licence="MIT (IS-Net/DIS weights, xuebinqin/DIS); packaged in an AGPL-3.0 npm package",
            origin=f"npm {_IMGLY}@{_IMGLY_VERSION}, resource /models/medium",
            sha256="b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
            size=88_188_479,
            npm=NpmSource(_IMGLY, _IMGLY_VERSION, "/models/medium"),
            description="IS-Net (DIS), fp32, 1024² — the default",
        ),
        ModelSpec(
            name="isnet-general-use",
            filename="isnet-general-use.onnx",
            preprocessing=Preprocessing((1024, 1024), (0.5, 0.5, 0.5), (1.0, 1.0, 1.0), 0, "minmax"),
            licence="as published by xuebinqin/DIS (rembg's ONNX export)",
            origin="rembg's model folder ($U2NET_HOME or ~/.u2net)",
            rembg_filename="isnet-general-use.onnx",
            description="rembg's IS-Net export, used where the user already has it",
        ),
        ModelSpec(
            name="u2net",
            filename="u2net.onnx",
            preprocessing=_IMAGENET,
            licence="Apache-2.0 (U²-Net, xuebinqin/U-2-Net)",
            origin="rembg's model folder ($U2NET_HOME or ~/.u2net)",
            rembg_filename="u2net.onnx",
            description="U²-Net, 320², used where the user already has it",
        ),
        ModelSpec(
            name="u2netp",
            filename="u2netp.onnx",
            preprocessing=_IMAGENET,
            licence="Apache-2.0 (U²-Net, xuebinqin/U-2-Net)",
            origin="rembg's model folder ($U2NET_HOME or ~/.u2net)",
            rembg_filename="u2netp.onnx",
            description="U²-Net small, 320², used where the user already has it",
        ),
    )
}

DEFAULT_MODEL = "isnet"


def get_spec(name: str) -> ModelSpec:
    """The registered model called ``name``; :class:`UnknownModelError` lists the others."""
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}: known models are {', '.join(MODELS)}, "
            "or give a path to an .onnx file with a .json sidecar"
        ) from None
