"""Runs inside a real GIMP 3 (called by scenarios.py): phone cut & paste while Receive Phone Cut-outs
runs on an image."""

import os
import sys
import threading
import time

from gimp_scenario_kit import OUT, SPEC, add_layer, new_image, scenario


def run_phone_scenario():
    """A phone (a client on a thread here) cuts out an object and pastes it with a photo of the screen
    while Receive Phone Cut-outs runs on the image (it stops after one cut-out)."""
    poster = tuple(SPEC["poster_size"])
    outcome = {}

    def make():
        image = new_image(size=poster)
        layer = add_layer(image, "poster.rgba", poster, name="poster")
        return image, [layer], None

    def phone_side():
        try:
            sys.path.insert(0, os.path.expanduser("~/.config/GIMP/3.0/plug-ins/softcut_gimp"))
            from softcut_plugin.wire.client import SoftcutClient, raw_image

            ow, oh = SPEC["object_size"]
            side = SPEC["photo_side"]
            with open(os.path.join(OUT, "object.rgba"), "rb") as f:
                thing = f.read()
            with open(os.path.join(OUT, "photo.rgb"), "rb") as f:
                photo = f.read()
            with SoftcutClient("127.0.0.1", SPEC["port"], name="softcut-phone", timeout=120) as phone:
                cut = phone.phone_cut(raw_image(ow, oh, "rgba8", thing)).fields["cut"]
                deadline = time.monotonic() + 60
                while phone.status()["clients"] < 2 and time.monotonic() < deadline:  # this phone and GIMP's link
                    time.sleep(0.1)
                pasted = phone.phone_paste(cut, raw_image(side, side, "rgb8", photo, name="photo"), name="Phone mug")
            outcome.update({k: v for k, v in pasted.fields.items() if k != "timings"})
        except Exception as exc:  # reported in the facts
            outcome["error"] = repr(exc)

    thread = threading.Thread(target=phone_side, daemon=True)
    thread.start()

    def keep(image, facts):
        thread.join(60)
        facts["phone"] = outcome

    scenario("phone_paste", "softcut-phone-link", make, keep=keep, max_deliveries=1, timeout=90.0)
