"""The blocking Softcut client: connect, hello, requests with progress, results.

Standard library only (over :mod:`wire.client.connection`, the vendored python-websockets, and
:mod:`wire.protocol`), so editor plug-ins can vendor the package.

    with SoftcutClient() as engine:
        result = engine.select_subject(raw_image(w, h, "rgba8", pixels), outputs=["alpha"])
        alpha_bytes = result.buffers["alpha"]

An editor plug-in also answers the engine's own requests (phone cut & paste): it passes
one handler per request type, ``accepts={"place_layer": place, "canvas_snapshot": shoot}``.
Each handler gets the engine's request (a :class:`~wire.protocol.messages.Message`)
and returns the answer's fields (with the buffers under ``"buffers"``) or a whole
message; raising :class:`LookupError` answers ``error`` ``not_found``. Requests are
handled while the client waits for its own replies, and by :meth:`SoftcutClient.poll`
(call it from a timer or a thread while idle).

Video: :meth:`SoftcutClient.video_matte` streams frames to the engine and yields each
frame's matte, in order, as it comes back:

    for result in engine.video_matte(raw_image(w, h, "rgb8", f) for f in frames):
        alpha_bytes = result.buffers["alpha"]   # result.fields["index"] counts from 0
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

# Relative imports: plug-ins vendor this package (with ``config`` and ``protocol``)
# under a name of their own.
from ..protocol import messages
from ..protocol.messages import Buffer
from . import objects
from .results import Result
from .session import Progress, Session


class SoftcutClient(Session):
    """A blocking client of the engine: one method per request type (see :class:`Session` for the
    connection's parameters). Options left None take the protocol's defaults (docs/protocol.md).

    An engine that can sends a raw alpha as the box where it is non-zero (the protocol's ``crop_alpha``: a
    small object's matte is a fraction of the image's bytes) and :class:`Result` gives it whole, at the
    image's size (:meth:`Session.request`)."""

    def select_subject(
        self,
        image: Buffer,
        *,
        outputs: Sequence[str] | None = None,
        format: str | None = None,
        refine: str | None = None,
        edges: Mapping[str, float] | None = None,
        decontaminate: float | None = None,
        band: float | None = None,
        priority: str | None = None,
        model: str | None = None,
        progress: Progress | None = None,
        timeout: float | None = None,
        id: str | None = None,
    ) -> Result:
        """The subject of ``image`` (see :func:`raw_image`, :func:`png_image`); ``model``: a present
        model of :meth:`models` (None: the engine's default; ``fields["model"]`` names the one that ran)."""
        message = messages.select_subject(
            image, outputs=outputs, format=format, refine=refine, edges=edges,
            decontaminate=decontaminate, band=band, priority=priority, model=model, id=id,
        )
        return self.request(message, progress=progress, timeout=timeout)

    def plate_matte(
        self,
        image: Buffer,
        plate: Buffer,
        *,
        outputs: Sequence[str] | None = None,
        format: str | None = None,
        refine: str | None = None,
        edges: Mapping[str, float] | None = None,
        decontaminate: float | None = None,
        band: float | None = None,
        priority: str | None = None,
        model: str | None = None,
        progress: Progress | None = None,
        timeout: float | None = None,
        id: str | None = None,
    ) -> Result:
        """The subject of ``image`` helped by ``plate``, the same scene without the subject (a
        buffer named ``plate``: e.g. ``raw_image(..., name="plate")``); ``fields["alignment"]``
        says how the plate was aligned. A plate that cannot be aligned raises
        :class:`EngineError` with code ``alignment_failed``."""
        message = messages.plate_matte(
            image, plate, outputs=outputs, format=format, refine=refine, edges=edges,
            decontaminate=decontaminate, band=band, priority=priority, model=model, id=id,
        )
        return self.request(message, progress=progress, timeout=timeout)

    def select_object(
        self,
        image: Buffer,
        *,
        key: str | None = None,
        points: Sequence[tuple[float, float, bool]] = (),
        box: Sequence[float] | None = None,
        mask: Buffer | None = None,
        mode: str | None = None,
        previous: str | Buffer | None = None,
        refine: str | None = None,
        sam: str | None = None,
        outputs: Sequence[str] | None = None,
        format: str | None = None,
        edges: Mapping[str, float] | None = None,
        decontaminate: float | None = None,
        model: str | None = None,
        progress: Progress | None = None,
        timeout: float | None = None,
    ) -> Result:
        """Object Selection on ``image``: the object the clicks ``points`` ((x, y, positive) in image
        pixels), the ``box`` (x0, y0, x1, y1) or the rough ``mask`` (a grey buffer named ``mask``) pick,
        taken with ``mode`` into ``previous`` (a result id or a grey buffer named ``previous``).

        The pixels go once: the image is named by its key (:func:`~wire.protocol.envelope.buffer_key`),
        and sent only when the engine does not hold it prepared (``fields["prepared"]`` says whether it
        prepared it now). ``key``: ``fields["image"]`` of an earlier reply for these same pixels, which
        spares hashing them again (not checked: a key kept after the pixels changed selects on the
        old image). ``fields["result"]`` is the next call's ``previous`` and ``adjust_edges``' result.
        """
        return objects.select_object(lambda message: self.request(message, progress=progress, timeout=timeout),
                                     image, key=key, points=points, box=box, mask=mask, mode=mode, previous=previous,
                                     refine=refine, sam=sam, outputs=outputs, format=format, edges=edges,
                                     decontaminate=decontaminate, model=model)

    def adjust_edges(self, result_id: str, *, edges: Mapping[str, float] | None = None,
                     decontaminate: float | None = None, outputs: Sequence[str] | None = None,
                     format: str | None = None, timeout: float | None = None) -> Result:
        """New edge controls on an earlier ``select_subject`` result."""
        message = messages.adjust_edges(result_id, edges=edges, decontaminate=decontaminate, outputs=outputs, format=format)
        return self.request(message, timeout=timeout)

    def soft_segments(self, image: Buffer, *, count: int | None = None, masks: str | None = None,
                      format: str | None = None, model: str | None = None, progress: Progress | None = None,
                      timeout: float | None = None) -> Result:
        """``count`` soft layers of ``image``: ``buffers["segment0"]``… RGBA, largest first (see the
        protocol's soft_segments for ``masks``)."""
        message = messages.soft_segments(image, count=count, masks=masks, format=format, model=model)
        return self.request(message, progress=progress, timeout=timeout)

    def trimap(self, image: Buffer, *, band: float | None = None, format: str | None = None, model: str | None = None,
               timeout: float | None = None) -> Result:
        return self.request(messages.trimap(image, band=band, format=format, model=model), timeout=timeout)

    def refine(self, image: Buffer, guide: Buffer, *, guide_kind: str | None = None, mode: str | None = None,
               format: str | None = None, progress: Progress | None = None, timeout: float | None = None) -> Result:
        message = messages.refine(image, guide, guide_kind=guide_kind, mode=mode, format=format)
        return self.request(message, progress=progress, timeout=timeout)

    def video_matte(
        self,
        frames: Iterable[Buffer],
        *,
        outputs: Sequence[str] | None = None,
        format: str | None = None,
        refine: str | None = None,
        edges: Mapping[str, float] | None = None,
        decontaminate: float | None = None,
        band: float | None = None,
        delay: bool | None = None,
        smoothing: float | None = None,
        plate: Buffer | None = None,
        model: str | None = None,
        window: int = 4,
        timeout: float | None = None,
    ) -> Iterator[Result]:
        """Matte a video: a generator of one :class:`Result` per frame, in order.

        ``frames``: image buffers (:func:`raw_image`, :func:`png_image`, :func:`jpeg_image`), all
        of the first one's size, read lazily: at most ``window`` (>= 2; the engine answers a frame
        once it has the next) frames ahead of the results yielded, and never more than the
        engine's ``limits.max_pending_frames``. ``plate``: a clean plate of the scene (a buffer
        named ``plate``). The other options as for :meth:`select_subject`; ``delay`` and
        ``smoothing`` (in [0, 1), 0: off) are the temporal filter's. ``timeout``: the longest
        wait for the engine's next message about the stream (default: the client's).

        Each result's ``fields`` has ``index`` (from 0, counting the frames the engine
        answered), ``frame`` (its video_frame's id) and ``confidence``; ``buffers`` maps each
        output's name to its bytes. After the last frame the generator ends (the stream's
        summary, ``frames`` and ``timings``, is in :attr:`last_video`).

        A frame the engine refuses (it cannot be decoded, has another size than the first)
        raises :class:`FrameError` (an :class:`EngineError`, with the frame's ``position``):
        the caller decides what to do, e.g. skip that frame and matte the rest again. An error
        of the stream itself raises :class:`EngineError`. Leaving early (``break``,
        :meth:`close`, an exception from ``frames``, or either error above) cancels the stream
        and reads up to its end, so the connection serves the next request. While the
        generator runs, this client handles engine requests (editors) but makes no other
        request (that raises :class:`ClientError`); other threads' requests wait for it.
        """
        if isinstance(window, bool) or not isinstance(window, int) or window < 2:
            raise ValueError(f"window: expected an integer >= 2 (the engine answers a frame once it has the next); "
                             f"got {window!r}")
        start = messages.video_start(plate=plate, outputs=outputs, format=format, refine=refine, edges=edges,
                                     decontaminate=decontaminate, band=band, delay=delay, smoothing=smoothing,
                                     model=model)
        return self._video(start, iter(frames), window, self.timeout if timeout is None else timeout)

    def phone_cut(self, image: Buffer, *, preview_max: int | None = None, progress: Progress | None = None,
                  timeout: float | None = None) -> Result:
        """Cut out a photo's subject (see :func:`jpeg_image`); ``fields["cut"]`` names the kept cut-out,
        ``buffers["preview"]`` is its PNG preview."""
        return self.request(messages.phone_cut(image, preview_max=preview_max), progress=progress, timeout=timeout)

    def phone_paste(self, cut: str, photo: Buffer, *, target: str | None = None, name: str | None = None,
                    timeout: float | None = None) -> Result:
        """Paste cut-out ``cut`` where ``photo`` (a buffer named "photo") of an editor's screen points;
        ``fields["status"]`` is placed, placed_at_centre or kept."""
        return self.request(messages.phone_paste(cut, photo, target=target, name=name), timeout=timeout)

    def phone_link(self) -> Result:
        """The phone's pairing URL (``fields["url"]``) and its QR code (``buffers["qr"]``, PNG)."""
        return self.request(messages.phone_link())

    def models(self) -> list[dict[str, Any]]:
        return self.request(messages.models_list()).fields.get("models", [])

    def status(self) -> dict[str, Any]:
        return self.request(messages.status()).fields
