"""What the plug-in does: read the document, ask the engine, insert the result.

One :class:`Controller` per Krita session, shared by the menu actions and the
docker. Requests run through :class:`~.worker.EngineWorker`; the document is
read before a request and written only when its result has arrived, so a failed
or cancelled request leaves the document as it was.
"""

from __future__ import annotations

import shutil
import threading
from typing import Any

from krita import Krita
from PyQt5.QtCore import QObject, QProcess, pyqtSignal
from PyQt5.QtGui import QIcon

from . import animation, document, objects, plate
from .phone import PhoneLink
from .results import Inserted, LastResults
from .wire import config, editor
from .wire.client import EngineError, EngineUnavailable, JobCancelledError, raw_image
from .wire.client.models import ModelChoice, model_choices
from .wire.editor import NOT_ON_LAN, START_COMMAND, MatteOptions, Refused
from .wire.protocol import messages
from .wire.protocol.schemas import DEFAULT_SEGMENTS
from .worker import EngineWorker, FrameFeed

UNCHANGED = "the document was not changed"
OUTPUT_LABELS = (("selection", "Selection"), ("mask", "Transparency mask"), ("layer", "New layer (cut-out)"))
ANIMATION_OUTPUTS = (("mask", "Animated transparency mask"), ("layer", "New animated layer (cut-outs)"))
ANIMATION_MASK, ANIMATION_LAYER = "Softcut subject (animated)", "Softcut cut-out (animated)"
STREAM_WINDOW = 4  # frames the client sends ahead of the mattes it has received
FEED_AHEAD = 2  # frames read from Krita ahead of what the client has taken
SETTINGS = "softcut"


class Controller(QObject):
    """Actions, engine state and the last result.

    Signals: ``status(str)`` engine state for the docker, ``progress(float, str)``,
    ``busy(bool)``, ``message(str)`` user-facing news (also shown on the canvas).
    """

    status = pyqtSignal(str)
    progress = pyqtSignal(float, str)
    busy = pyqtSignal(bool)
    message = pyqtSignal(str)
    finished = pyqtSignal(bool)
    segment_count_changed = pyqtSignal(int)
    phone_link_ready = pyqtSignal(str, bytes)  # the phone's pairing URL and its QR code (PNG)
    models_changed = pyqtSignal(list)  # the engine's model choice (ModelChoice), the default first

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        app = Krita.instance()
        host = app.readSetting(SETTINGS, "host", config.DEFAULT_HOST)
        port = int(app.readSetting(SETTINGS, "port", str(config.DEFAULT_PORT)))
        self.worker = EngineWorker(host, port, parent=self)
        self.merged = app.readSetting(SETTINGS, "source", "layer") == "merged"
        self.refine_mode = app.readSetting(SETTINGS, "refine", "best")
        self._segment_count = editor.stored_count(app.readSetting(SETTINGS, "segments", str(DEFAULT_SEGMENTS)))
        self.welcome: dict[str, Any] | None = None
        self.models: list[ModelChoice] = []
        """The engine's model choice, from its welcome (empty until connected)."""
        self.chosen_model: str | None = None
        """The model the user picked, kept for this Krita session (None: the engine's default)."""
        self.last: Inserted | None = None
        """The last result put into a document (live edge edits)."""
        self.results = LastResults()
        """Each document's last result (Add to Subject and Subtract from Subject correct it)."""
        self.last_source: document.SourceImage | None = None
        self.last_message = ""
        self._pending_edges: dict[str, float] | None = None
        self.phone = PhoneLink(host, port, parent=self)
        self.phone.placed.connect(self._say)
        self.phone.start()

    # ── engine ────────────────────────────────────────────────────────────────

    def connect_engine(self, host: str | None = None, port: int | None = None) -> None:
        """(Re)connect, reporting the engine's device and model through ``status``."""
        if host is not None or port is not None:
            self.worker.configure(host or self.worker.host, port or self.worker.port)
            self.phone.configure(self.worker.host, self.worker.port)
        if self.worker.busy:
            return
        self.status.emit(f"connecting to {self.worker.host}:{self.worker.port}…")
        self.worker.submit(None, self._connected, self._failed)

    def _connected(self, welcome: dict[str, Any]) -> None:
        self.welcome = welcome
        self.models = model_choices(welcome.get("models", []))
        self.models_changed.emit(list(self.models))
        default = next((c.name for c in self.models if c.default), "?")
        self.status.emit(f"connected · {welcome.get('device', '?')} · default model {default}")

    @property
    def model(self) -> str | None:
        """The model requests name: the user's pick while the engine offers it; None for the engine's
        default (and before the first connection), which the engine runs when none is named."""
        return editor.requested_model(self.models, self.chosen_model)

    def start_engine(self) -> bool:
        """Start ``softcut serve`` in the background (when it is on PATH)."""
        program = shutil.which("softcut")
        if program is None:
            self._say(f"`softcut` is not on PATH: install Softcut and run `{START_COMMAND}`")
            return False
        started = QProcess.startDetached(program, ["serve", "--port", str(self.worker.port)])
        self._say("starting the Softcut engine…" if started else f"could not start `{START_COMMAND}`")
        return bool(started)

    def cancel(self) -> None:
        self.worker.cancel()

    @property
    def segment_count(self) -> int:
        """How many layers Soft Segment Layers makes (2–10; kept in Krita's settings)."""
        return self._segment_count

    @segment_count.setter
    def segment_count(self, count: int) -> None:
        count = editor.checked_count(count)
        if count != self._segment_count:
            self._segment_count = count
            Krita.instance().writeSetting(SETTINGS, "segments", str(count))
            self.segment_count_changed.emit(count)

    def phone_link(self) -> bool:
        """Ask the engine for the phone's pairing link; ``phone_link_ready`` carries it and its QR code."""
        if self.worker.busy:
            self._say("wait for the running request to end")
            return False

        def done(result) -> None:
            self.phone_link_ready.emit(str(result.fields["url"]), bytes(result.buffers["qr"]))
            self._say("scan the code with the phone, photograph an object, then aim the phone at this document: "
                      "the cut-out lands where it points")
            self.finished.emit(True)

        def failed(exc: Exception) -> None:
            if isinstance(exc, EngineError) and exc.code == "not_found":
                self._say(NOT_ON_LAN)
            else:
                self._failed(exc)
            self.finished.emit(False)

        self.worker.submit(lambda ask: ask(messages.phone_link()), done, failed)
        return True

    # ── actions ───────────────────────────────────────────────────────────────

    def select_subject(self, output: str = "selection", edges: dict[str, float] | None = None) -> bool:
        """Select Subject into ``output``: "selection", "mask" (Remove Background) or "layer" (Cut Out)."""
        return self._select_subject(output, edges)

    def select_subject_with_plate(self, output: str = "selection", *, plate_layer=None, plate_file: str | None = None,
                                  edges: dict[str, float] | None = None) -> bool:
        """Select Subject helped by a clean plate (the scene without the subject) into ``output``
        (as :meth:`select_subject`). The image sent is Select Subject's; the plate is another layer
        (``plate_layer``: its uniqueId; read whole, at its own size) or an image file (``plate_file``).
        Anything wrong with the plate is said before a request is made."""
        if plate_layer is not None and plate_file:
            raise ValueError("plate_layer, plate_file: expected one of them; got both")
        return self._select_subject(output, edges, lambda doc: self._plate(doc, plate_layer, plate_file))

    def plate_layers(self, doc) -> tuple[list, Any]:
        """``(layers, default)``: the layers of ``doc`` that can be the clean plate (top first: every
        paint layer but the one Select Subject reads) and the one to offer first (or None)."""
        return document.plate_layers(doc, _active_layer(doc))

    def _select_subject(self, output: str, edges: dict[str, float] | None, read_plate=None) -> bool:
        """Select Subject into ``output``; with ``read_plate(doc)`` (the plate buffer, or PlateError or
        DocumentError saying why there is none) as plate_matte."""
        options = MatteOptions(output, self.refine_mode, dict(edges or {}), model=self.model)  # checks output
        doc, source = self._read(merged=self.merged)
        if source is None:
            return False
        plate_buffer = None
        if read_plate is not None:
            try:
                plate_buffer = read_plate(doc)
            except (plate.PlateError, document.DocumentError) as exc:
                self._say(f"{exc}; {UNCHANGED}")
                return False

        def insert(result) -> None:
            how = "" if plate_buffer is None else _alignment_note(result.fields.get("alignment"))
            self._insert(doc, source, output, result, how=how)

        return self._start(lambda ask: editor.select_subject(ask, source, options, plate=plate_buffer), insert, source)

    def _plate(self, doc, layer_id, path: str | None):
        """The plate buffer (named "plate") from a file, or from a layer of ``doc`` other than the one
        Select Subject reads; PlateError or DocumentError."""
        if path:
            return plate.from_file(path)
        if layer_id is None:
            raise plate.PlateError("no clean plate was chosen: choose another layer of this document, "
                                   "or an image file, showing the scene without the subject")
        node = document.find_node(doc, layer_id)
        if node is None:
            raise plate.PlateError("the clean plate layer is no longer in this document")
        image = _active_layer(doc)  # the layer read (for the merged image: the active one)
        if image is not None and node.uniqueId() == image.uniqueId():
            raise plate.PlateError(f"'{node.name()}' is the image Softcut cuts the subject from: the clean plate "
                                   "must be another layer (or an image file) showing the scene without the subject")
        layer = document.read_layer(doc, node)
        return editor.plate_pixels(layer.width, layer.height, layer.rgba)

    def refine_selection(self, edges: dict[str, float] | None = None) -> bool:
        """The current selection, taken as a rough mask, refined into a soft selection: ``refine``, then
        ``adjust_edges`` with ``edges`` (the docker's sliders) when one is set, as every editor does."""
        options = MatteOptions("selection", self.refine_mode, dict(edges or {}))
        doc, source = self._read(merged=self.merged)
        if source is None:
            return False
        try:
            rough = document.read_selection(doc, (source.x, source.y, source.width, source.height))
            editor.check_guide(rough)
        except (document.DocumentError, Refused) as exc:
            self._say(f"{exc}; {UNCHANGED}")
            return False
        return self._start(lambda ask: editor.refine_selection(ask, source, rough, options),
                           lambda result: self._insert(doc, source, "selection", result), source)

    def select_object(self, kind: str = "object", output: str | None = None,
                      edges: dict[str, float] | None = None) -> bool:
        """Object Selection (:mod:`.objects` says what the document gives) into ``output``, one undo step.

        kind: "object" (the object inside the box around the selection, picked by the points layers'
        clicks), "add" or "subtract" (the selection as a rough mask added to, or taken from, the
        document's last Softcut result of the same source). output: as :meth:`select_subject`'s; None:
        the selection for "object", the last result's output for "add" and "subtract" (from the menu).
        A mask that the last result made on the layer is replaced; a new layer goes above its cut-out
        layer. Anything missing is said before a request is made.
        """
        mode = objects.mode_of(kind)
        active = Krita.instance().activeDocument()
        if active is not None and not self.merged:
            try:
                objects.check_active_layer(active)
            except Refused as exc:
                self._say(f"{exc}; {UNCHANGED}")
                return False
        doc, source = self._read(merged=self.merged)
        if source is None:
            return False
        try:
            if mode == "new":
                plan = objects.object_plan(doc, source)
            else:
                plan = objects.correction_plan(doc, source, mode, self.results.of(doc))
        except (document.DocumentError, Refused) as exc:
            self._say(f"{exc}; {UNCHANGED}")
            return False
        output = output or (plan.last.output if plan.last is not None else "selection")
        options = MatteOptions(output, self.refine_mode, dict(edges or {}), model=self.model)
        over = objects.earlier_node(doc, plan, output)
        pixels = plan.previous_coverage

        def flow(ask):
            return editor.select_object(ask, plan.source, plan.prompts, options, mode=mode, previous=plan.previous,
                                        previous_coverage=None if pixels is None else (lambda: pixels))

        return self._start(flow, lambda result: self._insert(doc, plan.source, output, result, over=over,
                                                             said=objects.done_message(mode, output)), plan.source)

    def soft_segments(self, count: int | None = None) -> bool:
        """Soft Segment Layers: the merged image as ``count`` soft layers (default: :attr:`segment_count`)
        in a new group at the top of the stack, which looks like the image. One undo step."""
        count = self.segment_count if count is None else editor.checked_count(count)
        doc, source = self._read(merged=True)
        if source is None:
            return False
        model = self.model
        return self._start(lambda ask: editor.soft_segments(ask, source, count, model),
                           lambda result: self._insert_segments(doc, source, result), source)

    def select_subject_in_animation(self, output: str = "mask", refine: str | None = None) -> bool:
        """Select Subject in Animation: every keyframe of the active animated paint layer inside the
        playback range, sent in time order as one video stream, and the mattes written back at the same
        times as ``output``: "mask" (an animated transparency mask on the layer) or "layer" (a new
        animated layer of cut-outs above it). One undo step; nothing changes when it fails or is cancelled.

        Keyframes are read on the GUI thread as the stream takes them (a few ahead), so memory holds
        a few frames, plus the results (grey8 or rgba8 per keyframe) until they are written.
        """
        kinds = [key for key, _ in ANIMATION_OUTPUTS]
        if output not in kinds:
            raise ValueError(f"output: expected one of {kinds}; got {output!r}")
        refine = refine or self.refine_mode
        doc = self._document()
        if doc is None:
            return False
        try:
            source = animation.plan(doc)
        except document.DocumentError as exc:
            self._say(f"{exc}; {UNCHANGED}")
            return False
        reader = animation.FrameReader(doc, source)
        w, h = source.rect[2:]
        count = len(source.times)
        wanted = "cutout" if output == "layer" else "alpha"
        model = self.model
        stop = threading.Event()  # the stream's and the feed's
        feed = FrameFeed(count, lambda k: raw_image(w, h, "rgba8", reader.read(source.times[k])), stop=stop,
                         ahead=FEED_AHEAD, parent=self)

        def run(client, stop, progress):
            mattes = []
            frames = client.video_matte(feed, outputs=(wanted,), refine=refine, model=model, window=STREAM_WINDOW)
            try:
                for result in frames:
                    mattes.append(bytes(result.buffers[wanted]))
                    progress(len(mattes) / count, f"frame {len(mattes)} of {count}")
                    if stop.is_set():
                        raise JobCancelledError("cancelled")
            finally:
                frames.close()
            return mattes

        def send(done, failed, progress) -> None:
            self.worker.stream(run, done, failed, progress, stop=stop)
            feed.start()

        def ended() -> None:
            feed.close()
            reader.close()

        def insert(mattes) -> None:
            if output == "mask":
                animation.add_animated_mask(doc, source, mattes, name=ANIMATION_MASK)
            else:
                animation.add_animated_layer(doc, source, mattes, name=ANIMATION_LAYER)
            self.last = None  # the edge sliders adjust single images only
            what = "an animated transparency mask" if output == "mask" else "a new animated layer"
            self._say(f"subject cut out of {count} keyframe{'s' * (count != 1)} of '{source.name}' into {what}")

        return self._request(send, insert, None, on_end=ended)

    def adjust_edges(self, edges: dict[str, float]) -> bool:
        """New edge controls on the last result, written into it in place (live sliders)."""
        last = self.last
        if last is None or last.result_id is None:
            return False
        if self.worker.busy:
            self._pending_edges = dict(edges)  # applied when the running request ends
            return True
        edges = dict(edges)
        return self._start(lambda ask: editor.adjust_edges(ask, last.result_id, last.output, edges),
                           lambda result: self._rewrite(last, result), None, quiet=True)

    # ── plumbing ──────────────────────────────────────────────────────────────

    def _document(self):
        doc = Krita.instance().activeDocument()
        if doc is None:
            self._say("open an image first")
        elif self.worker.busy:
            self._say("Softcut is still working on the last request")
            return None
        return doc

    def _read(self, *, merged: bool):
        """``(doc, source)``: the active document and what to send from it, or ``(doc, None)`` (said why)."""
        doc = self._document()
        if doc is None:
            return None, None
        try:
            return doc, document.read_source(doc, merged=merged)
        except document.DocumentError as exc:
            self._say(str(exc))
            return doc, None

    def _start(self, flow, on_result, source, *, quiet: bool = False) -> bool:
        """Run ``flow(ask)`` (a :mod:`.wire.editor` flow); its result goes in with ``on_result(result)``."""
        return self._request(lambda done, failed, progress: self.worker.submit(flow, done, failed, progress),
                             on_result, source, quiet=quiet)

    def _request(self, send, on_result, source, *, quiet: bool = False, on_end=None) -> bool:
        """``send(done, failed, progress)`` starts the request; the callbacks, on the GUI thread, put its
        result in with ``on_result(result)`` or say why not, after ``on_end()`` (if given) either way."""
        self.last_source = source if source is not None else self.last_source
        self.busy.emit(True)

        def done(result) -> None:
            ok = False
            if on_end is not None:
                on_end()
            try:
                on_result(result)
                ok = True
            except document.DocumentError as exc:
                self._say(editor.not_inserted(exc))
            self._end(ok)

        def failed(exc: Exception) -> None:
            if on_end is not None:
                on_end()
            self._failed(exc)
            self._end(False)

        def progress(fraction: float, stage: str) -> None:
            self.progress.emit(fraction, stage)

        send(done, failed, progress)
        if not quiet:
            self.progress.emit(0.0, "sent")
        return True

    def _end(self, ok: bool) -> None:
        self.busy.emit(False)
        self.finished.emit(ok)
        pending, self._pending_edges = self._pending_edges, None
        if pending is not None and ok:
            self.adjust_edges(pending)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, EngineUnavailable):
            self.status.emit("not connected")
        self._say(editor.failure(exc, UNCHANGED))

    def _say(self, text: str) -> None:
        self.last_message = text
        self.message.emit(text)
        window = Krita.instance().activeWindow()
        view = window.activeView() if window is not None else None
        if view is not None:
            view.showFloatingMessage(f"Softcut: {text}", QIcon(), 6000, 1)

    def _insert(self, doc, source: document.SourceImage, output: str, result, *, how: str = "", over=None,
                said: str | None = None) -> None:
        """``result`` into ``output`` (one undo step); ``over``: the earlier mask to replace (a mask) or the earlier
        cut-out layer to go above (a new layer); ``said``: the message (default: Select Subject's)."""
        rect = (source.x, source.y, source.width, source.height)
        alpha = bytes(result.buffers["alpha"])
        inserted = Inserted(doc, output, rect, result.result_id, source_id=source.node_id, alpha=alpha)
        if output == "selection":
            document.set_selection(doc, rect, alpha)
        elif output == "mask" and over is not None:
            inserted.node_id = document.replace_mask(doc, over, rect, alpha, name="Softcut subject").uniqueId()
        else:
            # the layer that was read (for the merged image: the active one)
            layer = document.find_node(doc, source.node_id) if source.node_id else document.source_layer(doc)
            if layer is None:
                raise document.DocumentError("the layer Softcut read is gone")
            if output == "mask":
                node = document.add_transparency_mask(doc, layer, rect, alpha, name="Softcut subject")
            else:
                node = document.add_cutout_layer(doc, over or layer, rect, result.buffers["foreground"], alpha,
                                                 name="Softcut cut-out")
            inserted.node_id = node.uniqueId()
        self.last = inserted
        self.results.remember(inserted)
        self._say(said or {"selection": "subject selected", "mask": "background masked",
                           "layer": "cut-out added as a new layer"}[output] + how)

    def _insert_segments(self, doc, source: document.SourceImage, result) -> None:
        """The engine's segment0… (RGBA8: colours, stacking mask) as layers "Segment 1"… (bottom up) in a new group."""
        rect = (source.x, source.y, source.width, source.height)
        layers = [(name, *editor.split_rgba(rgba)) for name, rgba in editor.segment_layers(result)]
        document.add_layer_group(doc, rect, layers, name=editor.SEGMENT_GROUP)
        self.last = None  # the edge sliders have nothing to adjust in soft segments
        self._say(f"{len(layers)} soft segment layers added in the group '{editor.SEGMENT_GROUP}'")

    def _rewrite(self, last: Inserted, result) -> None:
        alpha = bytes(result.buffers["alpha"])
        last.alpha = alpha  # what Add to Subject and Subtract from Subject correct, should the engine lose it
        if last.output == "selection":
            document.write_selection(last.doc, last.rect, alpha)
            return
        node = document.find_node(last.doc, last.node_id)
        if node is None:
            raise document.DocumentError("the layer or mask Softcut made is gone")
        if last.output == "mask":
            document.write_mask(last.doc, node, last.rect, alpha)
        else:
            masks = [c for c in node.childNodes() if c.type() == "transparencymask"]
            if masks:
                document.write_mask(last.doc, masks[0], last.rect, alpha)
            else:
                raise document.DocumentError("the cut-out layer has no mask to adjust")


def _alignment_note(alignment: dict[str, Any] | None) -> str:
    """How the engine aligned the clean plate, for the user (" with the clean plate (...)")."""
    if not alignment:
        return " with the clean plate"
    return (f" with the clean plate ({alignment.get('inliers', '?')} matching features agree; "
            f"it covers {float(alignment.get('coverage', 0)):.0%} of the image)")


def _active_layer(doc):
    """The layer Select Subject reads from ``doc`` (the active one, or a mask's layer), or None."""
    try:
        return document.source_layer(doc)
    except document.DocumentError:
        return None
