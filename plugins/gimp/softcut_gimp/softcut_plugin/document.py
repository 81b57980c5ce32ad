"""The only code that reads or writes GIMP images.

Pixels go through GEGL in fixed formats, whatever the image's precision (8, 16,
32-bit integer or float, linear or perceptual) or mode (RGB, grey, indexed):
colours are read as ``"R'G'B'A u8"`` (sRGB, 8 bits, babl converts), masks and
selections are written and read as linear ``"Y u8"`` so a soft value v lands as
v/255 of coverage (``"Y' u8"`` would bend it through the sRGB curve).
"""

from __future__ import annotations

from dataclasses import dataclass

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, GLib  # noqa: E402

from . import pixels  # noqa: E402
from .wire.editor import is_points_path, plate_file, plate_pixels, split_rgba  # noqa: E402

COLOUR = "R'G'B'A u8"
COVERAGE = "Y u8"
PLATE_WORD = "plate"  # a layer whose name holds it (any case) is the dialog's first guess for the plate


class DocumentError(Exception):
    """The image cannot be used as asked; the message says why and what to do."""


@dataclass
class Source:
    """What was read: ``rgba`` (rgba8 bytes) covering ``rect`` (canvas pixels) of ``layer``.

    ``layer`` is the layer read, or for the merged image the selected layer (None
    when no single layer is selected).
    """

    layer: Gimp.Layer | None
    rect: tuple
    rgba: bytes

    @property
    def width(self) -> int:
        return self.rect[2]

    @property
    def height(self) -> int:
        return self.rect[3]


def canvas(image) -> tuple:
    return 0, 0, image.get_width(), image.get_height()


def _offsets(drawable) -> tuple:
    got = drawable.get_offsets()  # (ok, x, y)
    return got[-2], got[-1]


def extent(drawable) -> tuple:
    """The drawable's rectangle in canvas pixels."""
    x, y = _offsets(drawable)
    return x, y, drawable.get_width(), drawable.get_height()


def _read(drawable, rect: tuple, fmt: str, abyss=Gegl.AbyssPolicy.CLAMP) -> bytes:
    """``fmt`` pixels of ``rect`` (canvas pixels, inside the drawable; outside it as ``abyss`` says)."""
    x, y = _offsets(drawable)
    area = Gegl.Rectangle.new(rect[0] - x, rect[1] - y, rect[2], rect[3])
    return bytes(drawable.get_buffer().get(area, 1.0, fmt, abyss))


def _write(drawable, rect: tuple, fmt: str, data: bytes) -> None:
    """Write ``fmt`` pixels covering ``rect`` (canvas pixels) into the part of the drawable they meet."""
    inside = pixels.intersect(rect, extent(drawable))
    if inside[2] == 0 or inside[3] == 0:
        return
    bpp = len(data) // (rect[2] * rect[3])
    x, y = _offsets(drawable)
    buffer = drawable.get_buffer()
    buffer.set(Gegl.Rectangle.new(inside[0] - x, inside[1] - y, inside[2], inside[3]), fmt,
               pixels.crop(data, rect, inside, bpp))
    buffer.flush()
    drawable.update(inside[0] - x, inside[1] - y, inside[2], inside[3])


def selected_layer(image, drawables) -> Gimp.Layer:
    """The one pixel layer the user picked (a picked layer mask means its layer)."""
    if len(drawables) != 1:
        picked = "no layer is" if not drawables else f"{len(drawables)} layers are"
        raise DocumentError(f"{picked} selected: select one layer, or use Sample merged")
    drawable = drawables[0]
    if drawable.is_layer_mask():
        drawable = Gimp.Layer.from_mask(drawable)
    if drawable.is_group_layer():
        raise DocumentError(f"“{drawable.get_name()}” is a layer group: select one layer inside it, "
                            "or use Sample merged")
    if not drawable.is_layer():
        raise DocumentError(f"“{drawable.get_name()}” is a channel, not a layer: select a layer")
    return drawable


def read_source(image, drawables, merged: bool) -> Source:
    """The pixels Softcut works on: the selected layer's part on the canvas, or the merged image."""
    if not merged:
        layer = selected_layer(image, drawables)
        rect = pixels.intersect(extent(layer), canvas(image))
        if rect[2] == 0 or rect[3] == 0:
            raise DocumentError(f"the layer “{layer.get_name()}” lies outside the canvas")
        return Source(layer, rect, _read(layer, rect, COLOUR))
    try:
        layer = selected_layer(image, drawables)
    except DocumentError:
        layer = None
    copy = image.duplicate()
    try:
        rgba = _merge_visible(copy)
    finally:
        copy.delete()
    if rgba is None:
        raise DocumentError("no layer is visible: nothing to sample")
    return Source(layer, canvas(image), rgba)


def _merge_visible(image) -> bytes | None:
    """``image``'s visible layers merged (which changes ``image``: pass a copy or a throwaway),
    read over its canvas (rgba8, transparent where they do not reach); None when none is visible."""
    image.undo_disable()
    flat = image.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
    if flat is None:
        return None
    rect = canvas(image)
    inside = pixels.intersect(extent(flat), rect)  # visible layers need not cover the canvas
    piece = _read(flat, inside, COLOUR) if inside[2] and inside[3] else b""
    return pixels.place(piece, inside, rect, bpp=4)


def _all_layers(layers) -> list:
    """``layers`` and, depth first, the layers inside the groups among them (top first)."""
    found = []
    for layer in layers:
        found.append(layer)
        if layer.is_group_layer():
            found.extend(_all_layers(layer.get_children()))
    return found


def _same(a, b) -> bool:
    return a is not None and b is not None and a.get_id() == b.get_id()


def default_plate(image, drawables):
    """The dialog's first guess for the plate layer: a layer of ``image`` whose name contains
    "plate" (any case; the topmost), else the layer right below the selected one; never a
    layer group nor the selected layer itself. None when there is no such layer."""
    try:
        selected = selected_layer(image, drawables)
    except DocumentError:
        selected = None
    for layer in _all_layers(image.get_layers()):
        if (PLATE_WORD in layer.get_name().casefold() and not layer.is_group_layer()
                and not _same(layer, selected)):
            return layer
    if selected is None:
        return None
    parent = selected.get_parent()
    siblings = parent.get_children() if parent is not None else image.get_layers()
    position = image.get_item_position(selected)
    if position + 1 < len(siblings) and not siblings[position + 1].is_group_layer():
        return siblings[position + 1]
    return None


def _shown(layer) -> bool:
    """True when ``layer`` and every group holding it are visible."""
    while layer is not None:
        if not layer.get_visible():
            return False
        layer = layer.get_parent()
    return True


def check_plate_layer(image, source: Source, plate, merged: bool) -> None:
    """Raise :class:`DocumentError` when the layer ``plate`` cannot be the clean plate of ``source``."""
    if not plate.is_valid():
        raise DocumentError("the plate layer no longer exists: pick another one")
    if plate.is_group_layer():
        raise DocumentError(f"the plate layer “{plate.get_name()}” is a layer group: pick one layer, "
                            "or merge the group first")
    if _same(plate, source.layer) and not merged:
        raise DocumentError(f"the plate layer “{plate.get_name()}” is the layer being cut out: pick the layer "
                            "(or file) holding a photo of the same scene without the subject")
    if merged and plate.get_image().get_id() == image.get_id() and _shown(plate):
        raise DocumentError(f"the plate layer “{plate.get_name()}” is visible, so Sample merged would send it "
                            "as part of the image: hide it, or turn Sample merged off")


def read_plate_layer(layer):
    """The plate buffer: the whole of ``layer`` at its own size and wherever it lies (rgba8)."""
    rect = extent(layer)
    return plate_pixels(rect[2], rect[3], _read(layer, rect, COLOUR))


def read_plate_file(file):
    """The plate buffer from ``file`` (a ``Gio.File``): a PNG or JPEG file as it is (the engine
    decodes it, turned by its EXIF orientation); any other format GIMP opens is opened here,
    its visible layers merged over its canvas (rgba8), and closed again."""
    name = file.get_parse_name()
    try:
        _ok, data, _etag = file.load_contents(None)
    except GLib.Error as exc:
        raise DocumentError(f"the plate file “{name}” cannot be read: {exc.message}") from exc
    try:
        buffer = plate_file(bytes(data), f"“{name}”")
    except ValueError as exc:
        raise DocumentError(str(exc)) from exc
    if buffer is not None:
        return buffer
    try:
        opened = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, file)
    except GLib.Error as exc:
        raise DocumentError(f"GIMP cannot open the plate file “{name}”: {exc.message}") from exc
    if opened is None:
        reason = Gimp.get_pdb().get_last_error() or "not an image GIMP can open"
        raise DocumentError(f"GIMP cannot open the plate file “{name}”: {reason}")
    try:
        width, height = opened.get_width(), opened.get_height()
        rgba = _merge_visible(opened)
    finally:
        opened.delete()
    if rgba is None:
        raise DocumentError(f"the plate file “{name}” has no visible layer")
    return plate_pixels(width, height, rgba)


def read_selection(image, rect: tuple) -> bytes:
    """The selection's coverage over ``rect`` (grey8)."""
    return _read(image.get_selection(), rect, COVERAGE)


def set_selection(image, rect: tuple, alpha: bytes) -> None:
    """Replace the selection with ``alpha`` (grey8 covering ``rect``); nothing is selected elsewhere."""
    selection = image.get_selection()
    whole = canvas(image)
    shadow = selection.get_shadow_buffer()
    shadow.set(Gegl.Rectangle.new(*whole), COVERAGE, pixels.place(alpha, rect, whole))
    shadow.flush()
    selection.merge_shadow(True)
    selection.update(*whole)


def read_coverage(drawable, rect: tuple) -> bytes:
    """A mask's or channel's coverage over ``rect`` (grey8; 0 where the drawable does not reach)."""
    return _read(drawable, rect, COVERAGE, Gegl.AbyssPolicy.NONE)


def replace(drawable, rect: tuple, fmt: str, data: bytes) -> None:
    """Rewrite the part of an existing drawable that ``data`` (``fmt`` pixels covering ``rect``, canvas
    pixels) meets, as one undo step (its shadow buffer merged); the rest of it stays as it was."""
    whole = extent(drawable)
    inside = pixels.intersect(rect, whole)
    if inside[2] == 0 or inside[3] == 0:
        return
    bpp = len(data) // (rect[2] * rect[3])
    merged = pixels.paste(_read(drawable, whole, fmt), whole, pixels.crop(data, rect, inside, bpp), inside, bpp)
    shadow = drawable.get_shadow_buffer()
    shadow.set(Gegl.Rectangle.new(0, 0, whole[2], whole[3]), fmt, merged)
    shadow.flush()
    drawable.merge_shadow(True)
    drawable.update(0, 0, whole[2], whole[3])


def keep_matte_channel(image, name: str, rect: tuple, alpha: bytes):
    """The hidden channel ``name`` holding ``alpha`` (grey8 over ``rect``; nothing elsewhere): rewritten
    when the image has one of the canvas's size, else a new one on top of the channels (replacing one
    of another size). The picked
    layers stay picked (a new channel would take their place). Call inside an undo group."""
    whole = canvas(image)
    coverage = pixels.place(alpha, rect, whole)
    channel = image.get_channel_by_name(name)
    if channel is not None and extent(channel) == whole:
        replace(channel, whole, COVERAGE, coverage)
        return channel
    if channel is not None:  # the canvas has changed size since: a new one takes its place
        image.remove_channel(channel)
    picked = image.get_selected_layers()
    channel = Gimp.Channel.new(image, name, whole[2], whole[3], 50.0, Gegl.Color.new("black"))
    image.insert_channel(channel, None, 0)
    channel.set_visible(False)
    _write(channel, whole, COVERAGE, coverage)
    if picked:
        image.set_selected_layers(picked)
    return channel


def rewrite_mask(layer, rect: tuple, alpha: bytes) -> None:
    """Rewrite ``layer``'s mask with ``alpha`` (grey8 over ``rect``) where they meet. Call inside an undo group."""
    replace(layer.get_mask(), rect, COVERAGE, alpha)


def rewrite_cutout_layer(layer, rect: tuple, foreground: bytes, alpha: bytes) -> None:
    """Rewrite a cut-out layer (over ``rect``, with a mask): ``foreground`` (rgb8) opaque, ``alpha`` (grey8)
    its mask. Call inside an undo group."""
    replace(layer, rect, COLOUR, pixels.rgba_opaque(foreground))
    replace(layer.get_mask(), rect, COVERAGE, alpha)


def points_path(image):
    """The path whose anchors are Object Selection's clicks: the one named “Softcut points” (any case;
    the topmost), else the selected path when just one is; None when there is neither."""
    for path in image.get_paths():
        if is_points_path(path.get_name()):
            return path
    selected = image.get_selected_paths()
    return selected[0] if len(selected) == 1 else None


def path_strokes(path) -> list:
    """Each stroke's anchors as (x, y) canvas pixels, in the path's order (a Bézier stroke's control
    points come in threes: handle, anchor, handle)."""
    strokes = []
    for stroke in path.get_strokes():
        got = path.stroke_get_points(stroke)  # (type, control points, closed)
        values = list(got[1])
        strokes.append([(values[k + 2], values[k + 3]) for k in range(0, len(values) - 5, 6)])
    return strokes


def tattoo(item) -> int | None:
    """``item``'s tattoo (kept in XCF files, unlike its id); None for None."""
    return None if item is None else int(item.get_tattoo())


def check_can_take_mask(layer) -> None:
    """Raise :class:`DocumentError` when ``layer`` cannot take a new layer mask."""
    if layer.get_mask() is not None:
        raise DocumentError(f"the layer “{layer.get_name()}” already has a layer mask: apply or delete it first")


def add_layer_mask(layer, rect: tuple, alpha: bytes):
    """A new layer mask on ``layer`` holding ``alpha`` (grey8 over ``rect``), hiding what lies outside it."""
    check_can_take_mask(layer)
    if not layer.has_alpha():
        layer.add_alpha()
    return _new_mask(layer, rect, alpha)


def _new_mask(layer, rect: tuple, coverage: bytes):
    """A new layer mask on ``layer`` (which has none) holding ``coverage`` (grey8 over ``rect``), black elsewhere."""
    mask = layer.create_mask(Gimp.AddMaskType.BLACK)
    layer.add_mask(mask)
    _write(mask, rect, COVERAGE, coverage)
    return mask


def _layer_type(image) -> Gimp.ImageType:
    """The type of a new layer holding colours: grey for a grey image, RGB otherwise.

    An indexed image is converted to RGB first, since a palette cannot hold the new
    colours (babl converts what is written to a grey layer). Call inside an undo group.
    """
    base = image.get_base_type()
    if base == Gimp.ImageBaseType.INDEXED:
        image.convert_rgb()
        base = Gimp.ImageBaseType.RGB
    return Gimp.ImageType.GRAYA_IMAGE if base == Gimp.ImageBaseType.GRAY else Gimp.ImageType.RGBA_IMAGE


def _new_layer(image, name: str, rect: tuple, above=None, *, parent=None):
    """An empty layer over ``rect`` (canvas pixels), above ``above``, or else on top of
    ``parent`` (a layer group; the image's stack when None)."""
    layer = Gimp.Layer.new(image, name, rect[2], rect[3], _layer_type(image), 100.0, Gimp.LayerMode.NORMAL)
    if above is not None:
        parent, position = above.get_parent(), image.get_item_position(above)
    else:
        position = 0
    image.insert_layer(layer, parent, position)
    layer.set_offsets(rect[0], rect[1])
    return layer


def _masked_layer(image, name: str, rect: tuple, rgb: bytes, coverage: bytes, above=None, *, parent=None):
    """A new opaque layer over ``rect`` holding ``rgb`` (rgb8) with ``coverage`` (grey8) as its mask."""
    layer = _new_layer(image, name, rect, above, parent=parent)
    _write(layer, rect, COLOUR, pixels.rgba_opaque(rgb))
    _new_mask(layer, rect, coverage)
    return layer


def add_cutout_layer(image, above, rect: tuple, foreground: bytes, alpha: bytes, name: str):
    """A new layer over ``rect``: the opaque ``foreground`` (rgb8) with ``alpha`` (grey8) as its mask,
    above ``above`` (or on top when None)."""
    return _masked_layer(image, name, rect, foreground, alpha, above)


def add_segment_group(image, rect: tuple, segments: list, source: bytes, name: str):
    """A new layer group ``name`` on top of the stack holding one layer per segment.

    ``segments``: (layer name, rgba8 over ``rect``), bottom layer first; each gives a
    layer its colours (opaque) and its layer mask (the alpha). The segments' colours were blended in sRGB (out = m·F + (1 − m)·out
    on 8-bit sRGB values), so the layers composite in GIMP's perceptual space rather
    than its default linear light for Normal mode; then the group shows the image again.
    ``source`` (rgba8 over ``rect``, what was decomposed) gives the group a mask with
    its alpha when it is not opaque, so that the group alone is the image.
    Call inside an undo group.
    """
    _layer_type(image)  # an indexed image becomes RGB before the group goes in
    group = Gimp.GroupLayer.new(image, name)
    image.insert_layer(group, None, 0)
    for layer_name, rgba in segments:
        rgb, coverage = split_rgba(rgba)
        layer = _masked_layer(image, layer_name, rect, rgb, coverage, parent=group)
        layer.set_composite_space(Gimp.LayerColorSpace.RGB_PERCEPTUAL)
    alpha = split_rgba(source)[1]
    if not pixels.is_opaque(alpha):
        _new_mask(group, rect, alpha)
    return group


def add_pixel_layer(image, name: str, rect: tuple, rgba: bytes):
    """A new layer at the top of ``image`` holding ``rgba`` (rgba8, straight alpha) over ``rect``.
    Call inside an undo group."""
    layer = _new_layer(image, name, rect)
    _write(layer, rect, COLOUR, rgba)
    return layer


def composite_rgb(image, out_w: int, out_h: int) -> bytes:
    """The image as displayed, flattened on white, scaled to ``out_w`` × ``out_h`` (rgb8 bytes)."""
    scale = out_w / image.get_width()
    copy = image.duplicate()
    try:
        copy.undo_disable()
        Gimp.context_push()
        try:
            Gimp.context_set_background(Gegl.Color.new("white"))
            flat = copy.flatten()
        finally:
            Gimp.context_pop()
        x, y = _offsets(flat)
        area = Gegl.Rectangle.new(round(-x * scale), round(-y * scale), out_w, out_h)
        data = bytes(flat.get_buffer().get(area, scale, "R'G'B' u8", Gegl.AbyssPolicy.CLAMP))
    finally:
        copy.delete()
    return data
