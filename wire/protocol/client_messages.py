"""The constructors of what clients send: requests (:func:`hello`, :func:`auth`, :func:`pair`,
:func:`select_subject`, ..., :func:`video_start`, :func:`video_frame`, :func:`video_end`) and an editor's
answers to the engine's requests (:func:`snapshot`, :func:`placed`). Ids are ``c`` + 16 hex digits
unless given.

Standard library only (editor plug-ins vendor this package).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from .constants import PROTOCOL_VERSION
from .envelope import ENVELOPE_KEYS, Buffer, Message, new_id
from .request_schemas import REQUEST_SCHEMAS, defaults


def _fresh(id: str | None) -> str:
    return new_id("c") if id is None else id


def hello(*, key: str, nonce: str, client_name: str, client_version: str, accepts: Sequence[str] = (),
          cutout_format: str | None = None, id: str | None = None) -> Message:
    """The handshake request (the first message of a connection, or the first after ``paired``).

    ``key``: ``"master"`` (the token file's token) or a paired token's id; ``nonce``: 64 hex digits,
    fresh (:func:`~wire.protocol.auth.new_nonce`); no secret is sent. ``accepts``: the engine
    requests this client answers (``place_layer``, ``canvas_snapshot``); a client that accepts
    ``place_layer`` is an editor connection. ``cutout_format``: "png" (the default) or "rgba8", how it
    wants place_layer's cut-out.
    """
    fields: dict[str, Any] = {
        "protocol": PROTOCOL_VERSION, "client": {"name": client_name, "version": client_version}, "key": key,
        "nonce": nonce,
    }
    if accepts:
        fields["accepts"] = list(accepts)
    if cutout_format is not None:
        fields["cutout_format"] = cutout_format
    return Message("hello", _fresh(id), fields=fields)


def auth(challenge: str, *, proof: str, id: str | None = None) -> Message:
    """The answer to ``challenge`` (its id): the client's proof (:func:`~wire.protocol.auth.client_proof`)."""
    return Message("auth", _fresh(id), challenge, {"proof": proof})


def pair(code: str, *, client: Mapping[str, str], id: str | None = None) -> Message:
    """Trade the pairing code ``softcut serve`` prints (or a phone link's one-time token) for a scoped
    token of its own (only before ``hello``).

    ``client``: {"name": ..., "version": ...}, as in ``hello``.
    """
    return Message("pair", _fresh(id), fields={"code": code, "client": dict(client)})


def _fields(type_: str, **given: Any) -> dict[str, Any]:
    """A request's fields in its schema's order: each option given (not None), else the schema's
    default (:func:`~wire.protocol.request_schemas.defaults`, the one place defaults live); options
    with no default (``model``, ``target``) only when given. ``edges``: the controls given, ``{}``
    for none (the engine sets each control left out to its default)."""
    default = defaults(type_)
    fields: dict[str, Any] = {}
    for key, schema in REQUEST_SCHEMAS[type_]["properties"].items():
        if key in ENVELOPE_KEYS:
            continue
        value = given.pop(key, None)
        if key == "edges":
            fields[key] = dict(value or {})
        elif value is not None:
            fields[key] = list(value) if key == "outputs" else value
        elif key in default:  # a "number" default goes out as a float (1.0, not 1)
            fields[key] = float(default[key]) if schema.get("type") == "number" else copy.deepcopy(default[key])
    if given:
        raise TypeError(f"{type_}: no such option {sorted(given)}")
    return fields


# The requests' options: None takes the protocol's default (docs/protocol.md gives each one).


def select_subject(image: Buffer, *, outputs: Sequence[str] | None = None, format: str | None = None,
                   refine: str | None = None, edges: Mapping[str, float] | None = None,
                   decontaminate: float | None = None, band: float | None = None, priority: str | None = None,
                   model: str | None = None, crop_alpha: bool | None = None, id: str | None = None) -> Message:
    """A Select Subject request for ``image`` (a :func:`buffer` named ``image``).

    ``edges`` maps smooth, feather, contrast, shift_edge to values; ``model`` None means the
    engine's loaded model.
    """
    fields = _fields("select_subject", outputs=outputs, format=format, refine=refine, edges=edges,
                     decontaminate=decontaminate, band=band, priority=priority, model=model, crop_alpha=crop_alpha)
    return Message("select_subject", _fresh(id), fields=fields, buffers=[image])


def plate_matte(image: Buffer, plate: Buffer, *, outputs: Sequence[str] | None = None, format: str | None = None,
                refine: str | None = None, edges: Mapping[str, float] | None = None,
                decontaminate: float | None = None, band: float | None = None, priority: str | None = None,
                model: str | None = None, id: str | None = None) -> Message:
    """Select Subject with a clean plate: ``image`` and ``plate`` are :func:`buffer` s named
    ``image`` and ``plate``; the other fields as for :func:`select_subject`."""
    fields = _fields("plate_matte", outputs=outputs, format=format, refine=refine, edges=edges,
                     decontaminate=decontaminate, band=band, priority=priority, model=model)
    return Message("plate_matte", _fresh(id), fields=fields, buffers=[image, plate])


def soft_segments(image: Buffer, *, count: int | None = None, masks: str | None = None, format: str | None = None,
                  priority: str | None = None, model: str | None = None, id: str | None = None) -> Message:
    """A request to decompose ``image`` into ``count`` soft layers (buffers segment0…, largest first)."""
    fields = _fields("soft_segments", count=count, masks=masks, format=format, priority=priority, model=model)
    return Message("soft_segments", _fresh(id), fields=fields, buffers=[image])


def trimap(image: Buffer, *, band: float | None = None, format: str | None = None, priority: str | None = None,
           model: str | None = None, id: str | None = None) -> Message:
    """A request for the automatic trimap of ``image``."""
    fields = _fields("trimap", band=band, format=format, priority=priority, model=model)
    return Message("trimap", _fresh(id), fields=fields, buffers=[image])


def refine(image: Buffer, guide: Buffer, *, guide_kind: str | None = None, mode: str | None = None,
           outputs: Sequence[str] | None = None, format: str | None = None, priority: str | None = None,
           crop_alpha: bool | None = None, id: str | None = None) -> Message:
    """A request to refine ``guide`` (a trimap or a rough mask, named ``guide``; ``guide_kind`` says
    which) into an alpha."""
    fields = _fields("refine", guide=guide_kind, mode=mode, outputs=outputs, format=format, priority=priority,
                     crop_alpha=crop_alpha)
    return Message("refine", _fresh(id), fields=fields, buffers=[image, guide])


def select_object(image: Buffer | str, *, points: Sequence[tuple[float, float, bool]] = (),
                  box: Sequence[float] | None = None, mask: Buffer | None = None, mode: str | None = None,
                  previous: str | Buffer | None = None, refine: str | None = None, sam: str | None = None,
                  outputs: Sequence[str] | None = None, format: str | None = None,
                  edges: Mapping[str, float] | None = None, decontaminate: float | None = None,
                  priority: str | None = None, model: str | None = None, crop_alpha: bool | None = None,
                  id: str | None = None) -> Message:
    """An Object Selection request.

    ``image``: a :func:`buffer` named ``image``, or the key of an image the engine has prepared (a reply's
    ``image``, or :func:`~wire.protocol.envelope.buffer_key` of the buffer). ``points``: (x, y, positive)
    clicks in image pixels; ``box``: (x0, y0, x1, y1); ``mask``: a grey buffer named ``mask``, a rough
    region; ``previous``: the matte to correct, a result id or a grey buffer named ``previous``; ``sam``: a
    Segment Anything model of the engine's (``models.list``'s ``sam``), None: the mask model and a graph cut.
    """
    buffers = [] if isinstance(image, str) else [image]
    buffers += [item for item in (mask,) if item is not None]
    if previous is not None and not isinstance(previous, str):
        buffers.append(previous)
    fields = _fields("select_object", image=image if isinstance(image, str) else None,
                     points=[{"x": float(x), "y": float(y), "positive": bool(positive)} for x, y, positive in points],
                     box=None if box is None else [float(v) for v in box], mode=mode,
                     previous=previous if isinstance(previous, str) else None, refine=refine, sam=sam, outputs=outputs,
                     format=format, edges=edges, decontaminate=decontaminate, priority=priority, model=model,
                     crop_alpha=crop_alpha)
    return Message("select_object", _fresh(id), fields=fields, buffers=buffers)


def adjust_edges(result_id: str, *, edges: Mapping[str, float] | None = None, decontaminate: float | None = None,
                 outputs: Sequence[str] | None = None, format: str | None = None, priority: str | None = None,
                 crop_alpha: bool | None = None, id: str | None = None) -> Message:
    """A request to re-apply edge controls to the cached result ``result_id``."""
    fields = _fields("adjust_edges", result=result_id, edges=edges, decontaminate=decontaminate, outputs=outputs,
                     format=format, priority=priority, crop_alpha=crop_alpha)
    return Message("adjust_edges", _fresh(id), fields=fields)


def phone_cut(image: Buffer, *, preview_max: int | None = None, priority: str | None = None,
              id: str | None = None) -> Message:
    """Cut out a phone photo's subject (``image``: jpeg, png or raw); the result's ``cut`` names the kept cut-out."""
    fields = _fields("phone_cut", preview_max=preview_max, priority=priority)
    return Message("phone_cut", _fresh(id), fields=fields, buffers=[image])


def phone_paste(cut: str, photo: Buffer, *, target: str | None = None, name: str | None = None,
                priority: str | None = None, id: str | None = None) -> Message:
    """Paste the cut-out ``cut`` where ``photo`` (a buffer named ``photo``: the editor's screen) points.

    ``target``: an editor's client name (None: the last active editor).
    """
    fields = _fields("phone_paste", cut=cut, target=target, name=name, priority=priority)
    return Message("phone_paste", _fresh(id), fields=fields, buffers=[photo])


def video_start(*, plate: Buffer | None = None, outputs: Sequence[str] | None = None, format: str | None = None,
                refine: str | None = None, edges: Mapping[str, float] | None = None,
                decontaminate: float | None = None, band: float | None = None, delay: bool | None = None,
                smoothing: float | None = None, priority: str | None = None, model: str | None = None,
                id: str | None = None) -> Message:
    """Open a video stream (its id is this request's id); ``plate``: an optional clean plate
    (a :func:`buffer` named ``plate``). ``delay``: the one-frame-delay correction;
    ``smoothing`` in [0, 1): motion-compensated smoothing (0: off). The other fields as for
    :func:`select_subject` (``refine``'s default is "fast" for video)."""
    fields = _fields("video_start", outputs=outputs, format=format, refine=refine, edges=edges,
                     decontaminate=decontaminate, band=band, delay=None if delay is None else bool(delay),
                     smoothing=smoothing, priority=priority, model=model)
    return Message("video_start", _fresh(id), fields=fields, buffers=[] if plate is None else [plate])


def video_frame(stream: str, image: Buffer, *, id: str | None = None) -> Message:
    """The next frame (``image``: a :func:`buffer` named ``image``) of the stream opened by video_start ``stream``."""
    return Message("video_frame", _fresh(id), fields={"stream": stream}, buffers=[image])


def video_end(stream: str, *, id: str | None = None) -> Message:
    """No more frames for stream ``stream``: the engine answers the last one, then ends the job with ``result``."""
    return Message("video_end", _fresh(id), fields={"stream": stream})


def phone_link(*, id: str | None = None) -> Message:
    """A request for the phone's pairing URL and its QR code."""
    return Message("phone_link", _fresh(id))


def models_list(*, id: str | None = None) -> Message:
    """A request for the engine's models."""
    return Message("models.list", _fresh(id))


def status(*, id: str | None = None) -> Message:
    """A request for the engine's state."""
    return Message("status", _fresh(id))


def cancel(job: str, *, id: str | None = None) -> Message:
    """A request to cancel the job started by request ``job``."""
    return Message("cancel", _fresh(id), fields={"job": job})


def snapshot(ref: str, image: Buffer, *, document: Mapping[str, int], view: Mapping[str, int] | None = None,
             id: str | None = None) -> Message:
    """An editor's answer to ``canvas_snapshot`` ``ref``: the composite (``image``: rgb8 or png, named
    ``image``), the document's full ``{width, height}`` and the canvas's place on the screen (or None)."""
    fields = {"document": dict(document), "view": None if view is None else dict(view)}
    return Message("snapshot", _fresh(id), ref, fields, [image])


def placed(ref: str, *, delivery: str, ok: bool, message: str = "", id: str | None = None) -> Message:
    """An editor's answer to ``place_layer`` ``ref``: whether delivery ``delivery`` is in the document."""
    return Message("placed", _fresh(id), ref, {"delivery": delivery, "ok": bool(ok), "message": message})
