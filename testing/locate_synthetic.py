"""Synthetic phone photos of a computer screen showing a document, with exact ground truth.

Used to test and score :func:`core.phone.locate.locate`. The scene, all deterministic from a
``numpy.random.Generator``:

1. the document is displayed at a zoom inside an image editor's window (menu bar,
   tool bar, tool box, side panels with text-like marks, icons and a layer thumbnail,
   status bar) on a 1920 × 1080 screen;
2. the screen, inside a dark bezel, hangs in front of a textured wall or desk;
3. a pinhole phone camera (about 69° horizontal field of view) aims its optical axis
   at a point of the visible document, from a distance at which the screen is 0.6–1.6
   photo widths wide, tilted up to 30° about the screen's x and y axes and rolled up
   to 15° in-plane, in landscape or portrait;
4. the photo gets defocus or motion blur, moiré, an additive glare blob, a
   gain/gamma change, sensor noise and JPEG compression at quality 60–90.

Coordinates follow OpenCV's warp convention: pixel (i, j) has its centre at (x=j, y=i).
The truth is the document point seen at the photo's centre pixel ((w − 1) / 2, (h − 1) / 2),
computed from the transforms used to render (not estimated).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.errors import ParameterError
from core.phone.homography import local_scale, map_point, translation_matrix

SCREEN_SIZE = (1920, 1080)
"""(width, height) of the simulated screen, in screen pixels."""

PHOTO_SIZE = (4032, 3024)
"""(width, height) of a landscape 12 MP phone photo."""

FOCAL_PER_WIDTH = 0.73
"""Focal length / photo width of a typical phone main camera (about 69° horizontal view)."""


@dataclass(frozen=True)
class Viewport:
    """Where the document sits on the screen.

    The editor's canvas area is the screen rectangle [x0, x1) × [y0, y1); the document's
    pixel (x, y) appears at screen point (zoom · x + ox, zoom · y + oy).
    """

    x0: int
    y0: int
    x1: int
    y1: int
    zoom: float
    ox: float
    oy: float

    def doc_to_screen(self) -> np.ndarray:
        """(3, 3) float64 affine homography, document pixels → screen pixels."""
        return np.array([[self.zoom, 0.0, self.ox], [0.0, self.zoom, self.oy], [0.0, 0.0, 1.0]])

    def document_rect(self, doc_w: int, doc_h: int) -> dict[str, int]:
        """The whole document's rectangle on the screen, {x, y, width, height} in whole screen
        pixels (what an editor would report as its snapshot's ``view``)."""
        return {"x": round(self.ox - 0.5 * self.zoom), "y": round(self.oy - 0.5 * self.zoom),
                "width": round(doc_w * self.zoom), "height": round(doc_h * self.zoom)}

    def visible_document(self, doc_w: int, doc_h: int) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) in screen pixels of the part of the document shown."""
        left = max(self.x0, self.ox - 0.5 * self.zoom)
        top = max(self.y0, self.oy - 0.5 * self.zoom)
        right = min(self.x1 - 1, self.ox + (doc_w - 0.5) * self.zoom)
        bottom = min(self.y1 - 1, self.oy + (doc_h - 0.5) * self.zoom)
        return left, top, right, bottom


# ── geometry ──────────────────────────────────────────────────────────────────


def rotation_matrix(tilt_x_deg: float, tilt_y_deg: float, roll_deg: float) -> np.ndarray:
    """(3, 3) float64 rotation, world → camera: roll about z after tilts about x then y."""
    ax, ay, az = np.radians([tilt_x_deg, tilt_y_deg, roll_deg])
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ rx @ ry


def camera_homography(
    target: tuple[float, float], rotation: np.ndarray, distance: float, focal: float, photo_size: tuple[int, int]
) -> np.ndarray:
    """Homography screen → photo of a pinhole camera whose optical axis hits ``target``.

    The screen is the plane z = 0 of the world (x right, y down, units: screen pixels),
    seen from z < 0. The camera sits ``distance`` screen pixels from ``target`` along its
    optical axis, has focal length ``focal`` (photo pixels) and its principal point at
    the photo's centre ((w − 1) / 2, (h − 1) / 2), so ``target`` lands exactly there.

    Returns
    -------
    (3, 3) float64, normalised so that H[2, 2] = 1.
    """
    w, h = photo_size
    k = np.array([[focal, 0.0, (w - 1) / 2.0], [0.0, focal, (h - 1) / 2.0], [0.0, 0.0, 1.0]])
    p = np.array([target[0], target[1], 0.0])
    centre = p - distance * rotation.T @ np.array([0.0, 0.0, 1.0])
    if centre[2] >= 0:
        raise ParameterError(f"rotation: the camera must face the screen (camera z = {centre[2]:.1f})")
    h_mat = k @ np.column_stack([rotation[:, 0], rotation[:, 1], -rotation @ centre])
    return h_mat / h_mat[2, 2]


# ── the screen ────────────────────────────────────────────────────────────────


def _marks(panel: np.ndarray, rng: np.random.Generator, *, ink: np.ndarray, rows: int, row_h: int, x_pad: int) -> None:
    """Draw text-like runs of short rectangles ("words") in place on a uint8 RGB panel."""
    h, w = panel.shape[:2]
    for r in range(rows):
        y = 6 + r * row_h
        if y + 8 > h:
            break
        x = x_pad
        end = rng.integers(w // 3, w - x_pad) if w > 3 * x_pad else w - x_pad
        while x < end:
            word = int(rng.integers(8, 40))
            cv2.rectangle(panel, (x, y), (min(x + word, end), y + int(rng.integers(5, 8))), ink.tolist(), -1)
            x += word + int(rng.integers(4, 8))


def _icons(panel: np.ndarray, rng: np.random.Generator, *, origin: tuple[int, int], step: int, count: int, vertical: bool) -> None:
    """Draw ``count`` small coloured icons (squares, discs, triangles) in place."""
    for i in range(count):
        cx = origin[0] + (0 if vertical else i * step) + step // 2
        cy = origin[1] + (i * step if vertical else 0) + step // 2
        if cx + step // 2 > panel.shape[1] or cy + step // 2 > panel.shape[0]:
            break
        colour = rng.integers(60, 240, 3).tolist()
        r = step // 3
        kind = int(rng.integers(0, 3))
        if kind == 0:
            cv2.rectangle(panel, (cx - r, cy - r), (cx + r, cy + r), colour, -1)
        elif kind == 1:
            cv2.circle(panel, (cx, cy), r, colour, -1, cv2.LINE_AA)
        else:
            tri = np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]], np.int32)
            cv2.fillPoly(panel, [tri], colour, cv2.LINE_AA)


def editor_screen(document: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Viewport]:
    """Render an image editor showing ``document`` on a 1920 × 1080 screen.

    Parameters
    ----------
    document: (H, W, 3) uint8, RGB.

    Returns
    -------
    screen: (1080, 1920, 3) uint8, RGB.
    viewport: where and at what zoom the document is displayed.
    """
    sw, sh = SCREEN_SIZE
    doc_h, doc_w = document.shape[:2]
    dark = rng.random() < 0.7
    base = int(rng.integers(45, 75)) if dark else int(rng.integers(190, 225))
    ink = np.full(3, 200 if dark else 40, np.uint8)
    screen = np.full((sh, sw, 3), base, np.uint8)
    menu_h, tool_h, status_h = 24, int(rng.integers(34, 48)), 24
    left_w, right_w = int(rng.integers(40, 64)), int(rng.integers(240, 380))
    top = menu_h + tool_h
    screen[:menu_h] = base + (12 if dark else -12)
    _marks(screen[:menu_h], rng, ink=ink, rows=1, row_h=20, x_pad=10)
    _icons(screen[menu_h:top], rng, origin=(8, 4), step=tool_h - 8, count=int(rng.integers(8, 30)), vertical=False)
    _icons(screen[top : sh - status_h, :left_w], rng, origin=(4, 8), step=left_w - 8, count=int(rng.integers(8, 20)), vertical=True)
    panel = screen[top : sh - status_h, sw - right_w :]
    panel[:] = base + (8 if dark else -8)
    _marks(panel, rng, ink=ink, rows=int(rng.integers(10, 40)), row_h=int(rng.integers(18, 28)), x_pad=12)
    thumb_w = 48
    thumb = cv2.resize(document, (thumb_w, max(1, round(thumb_w * doc_h / doc_w))), interpolation=cv2.INTER_AREA)
    ty = int(rng.integers(40, max(41, panel.shape[0] - thumb.shape[0] - 10)))
    panel[ty : ty + thumb.shape[0], 12 : 12 + thumb_w] = thumb[: panel.shape[0] - ty]
    screen[sh - status_h :] = base + (10 if dark else -10)
    _marks(screen[sh - status_h :], rng, ink=ink, rows=1, row_h=20, x_pad=8)

    x0, y0, x1, y1 = left_w, top, sw - right_w, sh - status_h
    canvas_grey = int(rng.integers(30, 60)) if dark else int(rng.integers(150, 200))
    screen[y0:y1, x0:x1] = canvas_grey
    zoom = float(rng.uniform(0.3, 1.3))
    # Editors open small images at 100 % or more: no document is shown under 240 px.
    zoom = max(zoom, 240.0 / max(doc_w, doc_h))
    shown_w, shown_h = doc_w * zoom, doc_h * zoom
    area_w, area_h = x1 - x0, y1 - y0
    ox = x0 + (area_w - shown_w) / 2 if shown_w <= area_w else x0 - rng.uniform(0, shown_w - area_w)
    oy = y0 + (area_h - shown_h) / 2 if shown_h <= area_h else y0 - rng.uniform(0, shown_h - area_h)
    if shown_w <= area_w and shown_h <= area_h:  # a little off-centre, as after panning
        ox += rng.uniform(-0.4, 0.4) * (area_w - shown_w)
        oy += rng.uniform(-0.4, 0.4) * (area_h - shown_h)
    view = Viewport(x0, y0, x1, y1, zoom, float(ox), float(oy))

    src = document
    if zoom < 1.0:  # what an editor's smooth zoom-out does: no aliasing
        src = cv2.GaussianBlur(document, (0, 0), 0.45 / zoom)
    nearest = zoom >= 1.0 and rng.random() < 0.5
    affine = np.array([[zoom, 0.0, ox - x0], [0.0, zoom, oy - y0]])
    area = screen[y0:y1, x0:x1].copy()
    cv2.warpAffine(
        src, affine, (area_w, area_h), dst=area,
        flags=cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT,
    )
    screen[y0:y1, x0:x1] = area
    return screen, view


def editor_screen_by_toolbars(document: np.ndarray, *, seed: int = 7) -> tuple[np.ndarray, Viewport]:
    """:func:`editor_screen` with ``document`` shown at least 900 px wide and covering the screen
    point (300, 200), so that the screen's top-left 600 × 400 holds the menu, both toolbars and
    a part of the document: the scene of a phone aimed at a plain part of a document beside
    the editor's chrome. The first such screen of ``seed``'s random sequence."""
    rng = np.random.default_rng(seed)
    while True:
        screen, viewport = editor_screen(document, rng)
        if viewport.ox < 260 and viewport.oy < 160 and viewport.zoom * document.shape[1] > 900:
            return screen, viewport


# ── the photo ─────────────────────────────────────────────────────────────────


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """(h, w, 3) float32 in [0, 255]: a wall or desk with low-frequency texture and grain."""
    colour = (rng.uniform(60, 200) + rng.uniform(-25, 25, 3)).astype(np.float32)
    low = cv2.resize(rng.normal(0, 1, (6, 8)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    grain_small = rng.normal(0, 1, (max(2, h // 8), max(2, w // 8))).astype(np.float32)
    grain = cv2.resize(grain_small, (w, h), interpolation=cv2.INTER_LINEAR)
    shade = 1.0 + 0.12 * low + 0.05 * grain
    return colour[None, None, :] * shade[:, :, None]


def _motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    size = max(3, int(np.ceil(length)) | 1)
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = np.cos(np.radians(angle_deg)) * length / 2, np.sin(np.radians(angle_deg)) * length / 2
    cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1, cv2.LINE_AA)
    return kernel / kernel.sum()


def phone_photo_jpeg(
    document: np.ndarray, rng: np.random.Generator, *, size: tuple[int, int] = PHOTO_SIZE
) -> tuple[bytes, tuple[float, float]]:
    """A phone photo of a screen that shows ``document`` in an editor, as the JPEG file
    the phone would write.

    Parameters
    ----------
    document: (H, W, 3) uint8, RGB; any size from about 100 px.
    rng: the only source of randomness (same generator state → same photo).
    size: (width, height) of a landscape photo; a quarter of photos come out portrait
        (height × width), as a phone held upright takes them.

    Returns
    -------
    jpeg: the photo's JPEG bytes (no EXIF), (h, w) pixels, RGB.
    truth_xy: (x, y) float, the document point under the photo's centre pixel, in
        document pixels (pixel centres at integers).
    """
    if document.dtype != np.uint8 or document.ndim != 3 or document.shape[2] != 3:
        raise ParameterError(f"document: expected (H, W, 3) uint8; got {document.dtype} {document.shape}")
    screen, view = editor_screen(document, rng)
    doc_h, doc_w = document.shape[:2]
    w, h = size
    if rng.random() < 0.25:
        w, h = h, w
    left, top, right, bottom = view.visible_document(doc_w, doc_h)
    mx, my = 0.05 * (right - left), 0.05 * (bottom - top)
    target = (rng.uniform(left + mx, right - mx), rng.uniform(top + my, bottom - my))

    focal = FOCAL_PER_WIDTH * max(w, h)
    screen_width_in_photo = rng.uniform(0.6, 1.6) * w
    distance = focal * SCREEN_SIZE[0] / screen_width_in_photo
    rotation = rotation_matrix(rng.uniform(-30, 30), rng.uniform(-30, 30), rng.uniform(-15, 15))
    h_screen = camera_homography(target, rotation, distance, focal, (w, h))

    # The screen inside a dark bezel: screen pixel (u, v) is bezel pixel (u + pad, v + pad).
    pad = 40
    bezel_colour = float(rng.uniform(10, 35))
    bezel = np.pad(screen, ((pad, pad), (pad, pad), (0, 0)), constant_values=0).astype(np.float32)
    ring = np.ones(bezel.shape[:2], bool)
    ring[pad:-pad, pad:-pad] = False
    bezel[ring] = bezel_colour
    h_bezel = h_screen @ translation_matrix(-pad, -pad)
    scale = local_scale(h_screen, *target)
    if scale < 1.0:  # the lens integrates over screen pixels: no aliasing
        bezel = cv2.GaussianBlur(bezel, (0, 0), 0.45 / scale)
    photo = cv2.warpPerspective(bezel, h_bezel, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(-1, -1, -1))
    outside = photo[:, :, 0] < 0
    if outside.any():
        photo[outside] = _background(h, w, rng)[outside]

    _degrade(photo, rng, w=w, h=h)
    quality = int(rng.integers(60, 91))
    bgr = cv2.cvtColor(np.clip(photo, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode the synthetic photo as JPEG")
    truth = map_point(np.linalg.inv(view.doc_to_screen()), *target)
    return jpeg.tobytes(), truth


def _degrade(photo: np.ndarray, rng: np.random.Generator, *, w: int, h: int) -> None:
    """Camera effects, in place on an (h, w, 3) float32 photo in [0, 255]: moiré, blur,
    glare, gain and gamma, noise. Blur sizes scale with the photo's width."""
    unit = max(w, h) / 4032.0
    if rng.random() < 0.5:  # moiré: two beating gratings of low contrast
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        pattern = np.zeros((h, w), np.float32)
        for _ in range(2):
            period = rng.uniform(6, 40) * unit
            angle = rng.uniform(0, np.pi)
            pattern += np.sin((np.cos(angle) * xx + np.sin(angle) * yy) * np.float32(2 * np.pi / period))
        photo *= (1.0 + rng.uniform(0.01, 0.04) * pattern)[:, :, None]
    if rng.random() < 0.3:
        kernel = _motion_kernel(rng.uniform(3, 12) * unit, rng.uniform(0, 180))
        cv2.filter2D(photo, -1, kernel, dst=photo)
    sigma = rng.uniform(0.3, 3.0) * unit
    cv2.GaussianBlur(photo, (0, 0), sigma, dst=photo)
    # glare: a bright additive blob
    gx, gy = rng.uniform(0, w), rng.uniform(0, h)
    radius = rng.uniform(0.1, 0.4) * max(w, h)
    amplitude = rng.uniform(20, 110)
    small = 64
    yy, xx = np.mgrid[0:small, 0:small].astype(np.float32)
    blob = np.exp(-(((xx + 0.5) * w / small - gx) ** 2 + ((yy + 0.5) * h / small - gy) ** 2) / (2 * radius**2))
    photo += (amplitude * cv2.resize(blob.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR))[:, :, None]
    gain, gamma = rng.uniform(0.75, 1.2), rng.uniform(0.7, 1.4)
    np.clip(photo * np.float32(gain / 255.0), 0, 1, out=photo)
    np.power(photo, np.float32(gamma), out=photo)
    photo *= np.float32(255.0)
    photo += rng.normal(0, rng.uniform(1, 5), (h, w, 1)).astype(np.float32)


# ── documents ─────────────────────────────────────────────────────────────────


def document_variant(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A document made from a real photo: as is (40 %), shrunk to 200–450 px on the long
    side (20 %), a 35–75 % crop (20 %) or enlarged to 2000–6000 px on the long side (20 %).

    Parameters
    ----------
    image: (H, W, 3) uint8, RGB.

    Returns
    -------
    document: (H', W', 3) uint8, RGB.
    """
    h, w = image.shape[:2]
    pick = rng.random()
    if pick < 0.4:
        return image
    if pick < 0.6:
        long_side = rng.uniform(200, 450)
        f = long_side / max(h, w)
        return cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    if pick < 0.8:
        cw, ch = round(w * rng.uniform(0.35, 0.75)), round(h * rng.uniform(0.35, 0.75))
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        return image[y : y + ch, x : x + cw].copy()
    long_side = rng.uniform(2000, 6000)
    f = long_side / max(h, w)
    return cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_CUBIC)


def synthetic_document(images: list[np.ndarray], index: int, *, seed: int = 0) -> tuple[np.ndarray, np.random.Generator]:
    """Document of case ``index`` of a synthetic set, ``document_variant(images[index % n])``,
    with the generator (seeded with (seed, index)) left ready to render its photo.

    Parameters
    ----------
    images: (H, W, 3) uint8 RGB photos to make documents from.

    Returns
    -------
    document: (H', W', 3) uint8, RGB.
    rng: the case's generator, after drawing the document.
    """
    rng = np.random.default_rng([seed, index])
    return document_variant(images[index % len(images)], rng), rng


def synthetic_case(
    images: list[np.ndarray], index: int, *, seed: int = 0, size: tuple[int, int] = PHOTO_SIZE
) -> tuple[np.ndarray, bytes, tuple[float, float]]:
    """Case ``index`` of a synthetic set: its document and a phone photo of it.

    Returns
    -------
    document: (H', W', 3) uint8, RGB.
    jpeg: the photo's JPEG bytes.
    truth_xy: (x, y) document pixel under the photo's centre.
    """
    document, rng = synthetic_document(images, index, seed=seed)
    jpeg, truth = phone_photo_jpeg(document, rng, size=size)
    return document, jpeg, truth
