"""Runs inside real Krita (called by scenarios.py): phone cut & paste. A phone (a client on a thread
here) cuts out an object and pastes it with a photo of the screen, which the plug-in's phone link
answers on Krita's GUI thread; the docker's "Paste from phone..." shows the engine's phone link and
its QR code (LAN engine), or the advice to start the engine with --lan."""

import threading
import time

from krita_scenario_kit import (
    app,
    ctl,
    image_bytes,
    new_document,
    qapp,
    record,
    requests_seen,
    run,
    settle,
    snapshot,
    softcut_docker,
    spec,
    undo_index,
)
from softcut_krita.wire.client import SoftcutClient, raw_image


def run_phone_scenarios():
    """Every scenario of this module, in order."""
    PW, PH = spec["poster_size"]
    doc = new_document("phone", "RGBA", "U8", [("poster", 0, 0, PW, PH, "poster.rgba")], PW, PH)
    before = snapshot(doc)
    undo_before = undo_index()
    outcome = {}

    def phone_side():
        try:
            ow, oh = spec["object_size"]
            side = spec["photo_side"]
            with SoftcutClient("127.0.0.1", spec["port"], token=spec["token"], name="softcut-phone") as phone:
                cut = phone.phone_cut(raw_image(ow, oh, "rgba8", image_bytes("object.rgba"))).fields["cut"]
                pasted = phone.phone_paste(cut, raw_image(side, side, "rgb8", image_bytes("photo.rgb"), name="photo"),
                                         name="Phone mug")
            outcome.update({k: v for k, v in pasted.fields.items() if k != "timings"})
        except Exception as exc:  # reported in the facts
            outcome["error"] = repr(exc)

    seen = requests_seen()
    phone_thread = threading.Thread(target=phone_side, daemon=True)
    phone_thread.start()
    deadline = time.monotonic() + 180
    while phone_thread.is_alive() and time.monotonic() < deadline:
        qapp.processEvents()
        time.sleep(0.01)
    settle(doc)
    after = snapshot(doc)
    old = {tuple(n[:3]) for n in before["nodes"]}
    added = [n[1:7] for n in after["nodes"] if tuple(n[:3]) not in old]
    top = doc.topLevelNodes()[-1]
    facts = {"phone": outcome, "added": added, "top": top.name(), "undo_steps": undo_index() - undo_before,
             "requests": [seen, requests_seen()]}
    b = top.bounds()
    layer_bytes = bytes(top.pixelData(b.x(), b.y(), b.width(), b.height()))
    app.action("edit_undo").trigger()
    settle(doc)
    facts["undo_restores"] = snapshot(doc) == before
    record("phone", facts, layer=layer_bytes)

    # The docker's "Paste from phone...": the engine's phone link and its QR code (LAN engine), or the
    # advice to start the engine with --lan.
    link = {"no_lan": run(call=softcut_docker.phone.click)}
    ctl.worker.configure("127.0.0.1", spec["lan_port"], spec["token"])
    link["lan"] = run(call=softcut_docker.phone.click)
    ctl.worker.configure("127.0.0.1", spec["port"], spec["token"])
    pixmap = softcut_docker.qr.pixmap()
    link.update({"qr_visible": softcut_docker.qr.isVisible(), "qr_size": [pixmap.width(), pixmap.height()] if pixmap else None,
                 "url": softcut_docker.phone_url.text()})
    record("phone_link", link)
