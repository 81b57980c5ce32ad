"""One hierarchy for every error Softcut raises on purpose.

Each error carries a message a user can act on; the CLI prints it and exits
non-zero, the server maps ``code`` onto its protocol error codes.
"""

from __future__ import annotations


class SoftcutError(Exception):
    """Base of all Softcut errors. ``code`` is a stable machine-readable name."""

    code = "softcut_error"


class ParameterError(SoftcutError, ValueError):
    """A caller passed a value of the wrong shape, type or range."""

    code = "bad_parameter"


class ImageInputError(SoftcutError):
    """An image file or buffer could not be used."""

    code = "bad_image"


class ImageDecodeError(ImageInputError):
    """The file is corrupt, truncated, empty or not an image format we read."""

    code = "image_decode_failed"


class ImageTooLargeError(ImageInputError):
    """The image has more pixels than the configured limit (checked before decoding)."""

    code = "image_too_large"


class ModelError(SoftcutError):
    """A model could not be found, fetched, verified or run."""

    code = "model_error"


class ModelNotFoundError(ModelError):
    """No model file is available and none can be fetched."""

    code = "model_not_found"


class ModelFetchError(ModelError):
    """Fetching a model failed (offline, no npm, registry error)."""

    code = "model_fetch_failed"


class ModelVerifyError(ModelError):
    """A model file's sha256 (or size) does not match the registry; ``reason`` says which
    ("sha256 mismatch", "size mismatch")."""

    code = "model_verify_failed"

    def __init__(self, message: str, reason: str = "sha256 mismatch") -> None:
        super().__init__(message)
        self.reason = reason


class UnknownModelError(ModelError):
    """A model name is neither registered nor a path to an ONNX file."""

    code = "unknown_model"


class StorageError(SoftcutError):
    """A file Softcut must keep could not be written (disk full, read-only, I/O error); nothing half-written is left."""

    code = "storage_failed"


class SolverError(SoftcutError):
    """A matting solver did not converge."""

    code = "solver_failed"


class AlignmentError(SoftcutError):
    """A clean plate could not be aligned with its image (too different, or another scene)."""

    code = "alignment_failed"
