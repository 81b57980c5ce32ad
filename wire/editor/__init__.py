"""What every editor plug-in does the same way; the plug-ins keep only document I/O and widgets.

The GIMP and Krita plug-ins (which vendor this package with the rest of :mod:`wire`) read
the document, call these, and write the answer back, so that the same user action makes the
same engine requests and says the same things in both:

- :mod:`.flows`: the requests behind each action (Select Subject into a selection, a mask or a
  new layer; with a clean plate; Refine Selection as ``refine`` then ``adjust_edges``; soft
  segments; live edge edits) and the model a request names;
- :mod:`.texts`: how to start the engine and what a failed or refused action tells the user;
- :mod:`.layers`: soft segments as named layers (colours and mask) in their group;
- :mod:`.plate`: the clean plate's buffer, from an image file or a layer's pixels;
- :mod:`.phone`: the answers to the engine's phone requests (``canvas_snapshot``,
  ``place_layer``) and the delivery ids kept so that a cut-out is placed once.

Layer rule: standard library and the rest of :mod:`wire` only.
"""

from .flows import (OUTPUTS, MatteOptions, active_edges, adjust_edges, check_guide, guide_buffer, image_buffer,
                    outputs_for, refine_selection, requested_model, select_subject, soft_segments)
from .layers import SEGMENT_GROUP, SEGMENT_LAYER, checked_count, segment_layers, split_rgba, stored_count
from .phone import Deliveries, PhoneAnswers, answer_place_layer, answer_snapshot, snapshot_size
from .plate import PLATE, plate_file, plate_pixels
from .texts import (LAN_COMMAND, NOT_ON_LAN, NOTHING_SELECTED, START_COMMAND, Refused, failure, not_inserted,
                    not_reachable)

__all__ = [
    "LAN_COMMAND", "NOTHING_SELECTED", "NOT_ON_LAN", "OUTPUTS", "PLATE", "SEGMENT_GROUP", "SEGMENT_LAYER",
    "START_COMMAND", "Deliveries", "MatteOptions", "PhoneAnswers", "Refused", "active_edges", "adjust_edges",
    "answer_place_layer", "answer_snapshot", "check_guide", "checked_count", "failure", "guide_buffer",
    "image_buffer", "not_inserted", "not_reachable", "outputs_for", "plate_file", "plate_pixels", "refine_selection",
    "requested_model", "segment_layers", "select_subject", "snapshot_size", "soft_segments", "split_rgba",
    "stored_count",
]
