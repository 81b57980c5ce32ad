"""Every model Softcut knows: where it comes from, its checksum, licence and preprocessing."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import UnknownModelError


@dataclass(frozen=True)
class Preprocessing:
    """How an image becomes the model's input tensor and its output an alpha.

    The RGB image in [0, 1] is resized to ``input_size`` (height, width, aspect
    not kept); with ``scale_by_max`` it is then divided by its own maximum (over
    all pixels and channels, as rembg's sessions do before normalising); then
    normalised as ``(x - mean) / std`` per channel and laid out NCHW.
    ``output`` is the output tensor's name or index; its first plane (channel 0)
    is the mask. ``output_range`` says how to map it to [0, 1] (see
    :data:`OUTPUT_RANGES`).
    """

    input_size: tuple[int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    output: str | int = 0
    output_range: str = "unit"
    scale_by_max: bool = False


OUTPUT_RANGES = ("unit", "minmax", "logits", "sigmoid-minmax")
"""``"unit"``: already a probability, clipped; ``"minmax"``: stretched from its own min..max
(rembg's U²-Net, IS-Net and RMBG-2.0 sessions); ``"logits"``: sigmoid; ``"sigmoid-minmax"``:
sigmoid, then min..max (rembg's BiRefNet sessions)."""


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

# rembg's sessions (danielgatis/rembg, rembg/sessions/*.py): each resizes the RGB image to its
# input size, divides it by its own maximum, normalises with the mean/std below, takes output 0's
# channel 0 and maps it to [0, 1] (min-max; BiRefNet: sigmoid, then min-max). The file in rembg's
# folder is named after the session (``<name>.onnx``) whatever the download's name.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_U2NET = Preprocessing((320, 320), _IMAGENET_MEAN, _IMAGENET_STD, 0, "minmax", scale_by_max=True)
_ISNET_REMBG = Preprocessing((1024, 1024), _IMAGENET_MEAN, (1.0, 1.0, 1.0), 0, "minmax", scale_by_max=True)
_BIREFNET = Preprocessing((1024, 1024), _IMAGENET_MEAN, _IMAGENET_STD, 0, "sigmoid-minmax", scale_by_max=True)
_RMBG2 = Preprocessing((1024, 1024), _IMAGENET_MEAN, _IMAGENET_STD, 0, "minmax", scale_by_max=True)

_REMBG_RELEASE = "https://github.com/danielgatis/rembg/releases/download/v0.0.0/"


def _rembg(name: str, pre: Preprocessing, licence: str, download: str, description: str) -> ModelSpec:
    """A model used only where the user's rembg has already downloaded it (``<name>.onnx``)."""
    return ModelSpec(
        name=name,
        filename=f"{name}.onnx",
        preprocessing=pre,
        licence=licence,
        origin=f"rembg's model folder, where rembg saves its download of {_REMBG_RELEASE}{download}",
        rembg_filename=f"{name}.onnx",
        description=description,
    )


_U2NET_LICENCE = "Apache-2.0 (U²-Net, xuebinqin/U-2-Net)"
_BIREFNET_LICENCE = "MIT (BiRefNet, ZhengPeng7/BiRefNet)"
_BIREFNET_EXPORTS = {  # name → (rembg's download, description)
    "birefnet-general": ("BiRefNet-general-epoch_244.onnx", "BiRefNet general, 1024²"),
    "birefnet-general-lite": ("BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx", "BiRefNet general lite (Swin-T), 1024²"),
    "birefnet-portrait": ("BiRefNet-portrait-epoch_150.onnx", "BiRefNet for portraits, 1024²"),
    "birefnet-dis": ("BiRefNet-DIS-epoch_590.onnx", "BiRefNet trained on DIS5K, 1024²"),
    "birefnet-hrsod": ("BiRefNet-HRSOD_DHU-epoch_115.onnx", "BiRefNet for high-resolution salient objects, 1024²"),
    "birefnet-cod": ("BiRefNet-COD-epoch_125.onnx", "BiRefNet for camouflaged objects, 1024²"),
    "birefnet-massive": ("BiRefNet-massive-TR_DIS5K_TR_TEs-epoch_420.onnx", "BiRefNet trained on massive data, 1024²"),
}

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
        _rembg("isnet-general-use", _ISNET_REMBG, "as published by xuebinqin/DIS (rembg's ONNX export)",
               "isnet-general-use.onnx", "rembg's IS-Net export, 1024²"),
        _rembg("isnet-anime", _ISNET_REMBG, "as published by SkyTNT/anime-segmentation (rembg's ONNX export)",
               "isnet-anime.onnx", "IS-Net for anime characters, 1024²"),
        _rembg("u2net", _U2NET, _U2NET_LICENCE, "u2net.onnx", "U²-Net, 320²"),
        _rembg("u2netp", _U2NET, _U2NET_LICENCE, "u2netp.onnx", "U²-Net small, 320²"),
        _rembg("u2net_human_seg", _U2NET, _U2NET_LICENCE, "u2net_human_seg.onnx", "U²-Net for people, 320²"),
        _rembg("silueta", _U2NET, _U2NET_LICENCE + ", reduced to 43 MB (U-2-Net issue 295)",
               "silueta.onnx", "U²-Net reduced (silueta), 320²"),
        *(_rembg(name, _BIREFNET, _BIREFNET_LICENCE, download, description)
          for name, (download, description) in _BIREFNET_EXPORTS.items()),
        _rembg("bria-rmbg", _RMBG2,
               "CC BY-NC 4.0 (BRIA RMBG-2.0, briaai/RMBG-2.0): non-commercial; commercial use needs BRIA's licence",
               "bria-rmbg-2.0.onnx", "BRIA RMBG-2.0 (BiRefNet architecture), 1024²"),
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
