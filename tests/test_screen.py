"""The engine's desktop screenshot on a real X server (Xvfb), and a phone paste located through it.

A Tk window (a separate process) shows a synthetic editor screen full-screen on the display;
the engine takes a real screenshot with :func:`engine_server.phone.screen.grab_screen`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine_server.phone.screen import grab_screen

missing = [tool for tool in ("Xvfb",) if shutil.which(tool) is None]
if missing and not os.environ.get("CI"):
    pytest.skip("needs Xvfb (CI installs it: see .ci/run)", allow_module_level=True)

SHOW = """
import sys, tkinter
root = tkinter.Tk()
root.overrideredirect(True)
w, h = root.winfo_screenwidth(), root.winfo_screenheight()
root.geometry(f"{w}x{h}+0+0")
image = tkinter.PhotoImage(file=sys.argv[1])
tkinter.Label(root, image=image, borderwidth=0, highlightthickness=0).place(x=0, y=0)
root.after(300, lambda: print("shown", flush=True))
root.mainloop()
"""


@pytest.fixture
def display(tmp_path):
    """A fresh 1920 x 1080 Xvfb display; yields its name (":N")."""
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    assert number, "Xvfb did not start"
    yield f":{number}"
    server.terminate()
    server.wait(10)


def show(display: str, rgb: np.ndarray, folder: Path) -> subprocess.Popen:
    """Show ``rgb`` ((H, W, 3) uint8) at the display's top-left in a borderless Tk window."""
    path = folder / "shown.ppm"
    cv2.imwrite(str(path), rgb[:, :, ::-1])
    viewer = subprocess.Popen([sys.executable, "-c", SHOW, str(path)], env={**os.environ, "DISPLAY": display},
                              stdout=subprocess.PIPE, text=True)
    assert viewer.stdout.readline().strip() == "shown"
    return viewer


def plain_document_screen(document: np.ndarray):
    """``document`` ((H, W, 3) uint8) on a synthetic editor screen, covering the screen point
    (300, 200) near the editor's toolbars: (screen, its view rect, document → screen homography)."""
    from testing.locate_synthetic import editor_screen_by_toolbars

    screen, viewport = editor_screen_by_toolbars(document)
    return screen, viewport.document_rect(document.shape[1], document.shape[0]), viewport.doc_to_screen()


def half_textured(h: int, w: int) -> np.ndarray:
    """(h, w, 3) uint8: white on the left, a textured picture on the right half."""
    from sample_images import textured

    document = np.full((h, w, 3), 255, np.uint8)
    document[:, w // 2:] = textured(h, w - w // 2, seed=4)
    return document


def test_grab_screen_reads_the_display(display, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    picture = cv2.resize(rng.integers(0, 256, (27, 48, 3), dtype=np.uint8), (1920, 1080),
                         interpolation=cv2.INTER_NEAREST)
    viewer = show(display, picture, tmp_path)
    try:
        monkeypatch.setenv("DISPLAY", display)
        shot = grab_screen()
    finally:
        viewer.kill()
    assert shot is not None and shot.shape == (1080, 1920, 3) and shot.dtype == np.uint8
    assert np.abs(shot.astype(int) - picture).max() <= 2  # 24-bit display: the same pixels


def test_grab_screen_is_none_without_a_display(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":999")  # nothing listens there
    assert grab_screen() is None


@pytest.mark.parametrize("document, gives_view", [("plain", True), ("half_textured", False)],
                         ids=["plain document, the editor gives its view", "no view: the snapshot is found on screen"])
def test_a_photo_of_a_plain_part_is_located_on_the_real_screen(display, tmp_path, monkeypatch, tiny_model,
                                                                document, gives_view):
    """The phone aims at a white part of the document, beside the toolbars: the snapshot has
    nothing to match, the screenshot has the toolbars."""
    from phone_support import Editor, PhoneEngine, new_cut, rgb8

    pixels = np.full((800, 1200, 3), 255, np.uint8) if document == "plain" else half_textured(800, 1200)
    screen, view, doc_to_screen = plain_document_screen(pixels)
    sx, sy = 300, 200  # the photo (the screen's 600 x 400 top-left part) has the menu and both toolbars
    target = np.linalg.solve(doc_to_screen, [sx, sy, 1.0])[:2]
    photo = cv2.resize(screen[sy - 200:sy + 200, sx - 300:sx + 300], (1200, 800), interpolation=cv2.INTER_CUBIC)
    viewer = show(display, screen, tmp_path)
    monkeypatch.setenv("DISPLAY", display)

    def snapshot(request):
        return {"document": {"width": 1200, "height": 800}, "view": view if gives_view else None,
                "buffers": [rgb8("image", pixels)]}

    engine = PhoneEngine(tiny_model, tmp_path / "outbox", screenshot=grab_screen)
    editor = Editor(engine.port, snapshot=snapshot)
    try:
        with engine.phone() as phone:
            fields = phone.phone_paste(new_cut(phone), rgb8("photo", photo)).fields
        assert fields["status"] == "placed" and fields["through"] == "screen", fields
        (request,) = editor.requests
        spec, _ = request.buffer("cutout")
        centre = (fields["x"] + spec.width / 2 - 0.5, fields["y"] + spec.height / 2 - 0.5)
        assert np.hypot(centre[0] - target[0], centre[1] - target[1]) <= 3, (centre, target, fields)
    finally:
        editor.close()
        engine.stop()
        viewer.kill()
