"""Choosing onnxruntime execution providers for a requested device.

GPU providers are used when present. Running on the CPU while this machine has a GPU that
onnxruntime cannot use is a warning (``DeviceChoice.warning``); on a machine without a GPU the
CPU is simply the device, and only ``softcut doctor`` says so (``DeviceChoice.note``).
"""

from __future__ import annotations

import glob
import logging
import shutil
from dataclasses import dataclass

from core.errors import ParameterError

log = logging.getLogger(__name__)

GPU_PROVIDERS = {
    "CUDAExecutionProvider": "cuda",
    "DmlExecutionProvider": "directml",
    "CoreMLExecutionProvider": "coreml",
}
"""onnxruntime GPU providers, in order of preference, with our device names."""

DEVICES = ("auto", "cpu", "cuda", "directml", "coreml")


@dataclass(frozen=True)
class DeviceChoice:
    """The providers to ask onnxruntime for, and what to tell the user.

    ``providers``: provider names in priority order (always ending with the CPU).
    ``device``: our name of the first provider ("cuda", "cpu", ...).
    ``warning``: a sentence to show the user, or "" when the choice is what they asked.
    ``note``: what ``softcut doctor`` says about the choice when there is nothing to warn about
    (no GPU provider on a machine with no GPU), or "".
    """

    providers: tuple[str, ...]
    device: str
    warning: str = ""
    note: str = ""


NVIDIA_DEVICES = ("/dev/nvidia[0-9]*", "/dev/dxg")
"""Device files of an NVIDIA GPU (Linux; WSL's /dev/dxg) that onnxruntime's CUDA provider could use."""


def gpu_present() -> bool:
    """Whether this machine shows an NVIDIA GPU: its device files, or ``nvidia-smi`` on the PATH."""
    return any(glob.glob(pattern) for pattern in NVIDIA_DEVICES) or shutil.which("nvidia-smi") is not None


def available_providers() -> list[str]:
    """The execution providers this onnxruntime build offers."""
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def choose_providers(device: str = "auto", *, available: list[str] | None = None,
                     gpu: bool | None = None) -> DeviceChoice:
    """Map a device request onto onnxruntime providers.

    ``auto`` takes the first GPU provider present; when there is none it warns if the machine has
    a GPU (``gpu``, default :func:`gpu_present`), else it only notes it (``note``);
    a named GPU device that is absent raises :class:`ParameterError`; ``cpu``
    takes the CPU without a warning.
    """
    if device not in DEVICES:
        raise ParameterError(f"device: expected one of {', '.join(DEVICES)}; got {device!r}")
    available = available_providers() if available is None else available
    cpu = ("CPUExecutionProvider",)
    if device == "cpu":
        return DeviceChoice(cpu, "cpu")
    gpus = [p for p in GPU_PROVIDERS if p in available]
    if device == "auto":
        if gpus:
            return DeviceChoice((gpus[0],) + cpu, GPU_PROVIDERS[gpus[0]])
        if gpu_present() if gpu is None else gpu:
            return DeviceChoice(cpu, "cpu", "this machine has an NVIDIA GPU, but this onnxruntime has no GPU execution "
                                            "provider (pip install 'softcut[gpu]' for CUDA); running on the CPU")
        return DeviceChoice(cpu, "cpu", note="no GPU execution provider in this onnxruntime and no GPU found; "
                                             "running on the CPU")
    wanted = next(p for p, name in GPU_PROVIDERS.items() if name == device)
    if wanted not in available:
        raise ParameterError(
            f"device: {device} requested but onnxruntime offers only {', '.join(available)}; "
            "install onnxruntime-gpu (pip install 'softcut[gpu]') or use --device cpu"
        )
    return DeviceChoice((wanted,) + cpu, device)


def active_device(session_providers: list[str]) -> str:
    """Our device name for the first provider a created session actually uses."""
    first = session_providers[0] if session_providers else "CPUExecutionProvider"
    return GPU_PROVIDERS.get(first, "cpu")
