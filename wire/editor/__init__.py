"""What every editor plug-in does alike, so that the same user action makes the same engine requests
and says the same things in GIMP and Krita (which vendor :mod:`wire`), whose plug-ins keep only
document I/O and widgets: each action's requests (:mod:`.flows`), the user's texts (:mod:`.texts`),
Object Selection's prompts (:mod:`.prompts`), soft segment layers (:mod:`.layers`), the clean plate
(:mod:`.plate`), phone answers (:mod:`.phone`).

Layer rule: the standard library and the rest of :mod:`wire` only.
"""

from .flows import (OUTPUTS, MatteOptions, ObjectPrompts, active_edges, adjust_edges, check_guide,  # noqa: F401
                    outputs_for, refine_selection, requested_model, select_object, select_subject, soft_segments)
from .layers import SEGMENT_GROUP, SEGMENT_LAYER, checked_count, segment_layers, split_rgba, stored_count  # noqa: F401
from .phone import Deliveries, PhoneAnswers, snapshot_size  # noqa: F401
from .plate import PLATE, plate_file, plate_pixels  # noqa: F401
from .prompts import POINTS_PATH, clicks, is_points_path, object_prompts, rough_prompts, selection_box  # noqa: F401
from .texts import (FAINT_ROUGH, LAN_COMMAND, NOT_ON_LAN, NOTHING_ROUGH, NOTHING_SELECTED, START_COMMAND,  # noqa: F401
                    Refused, failure, no_previous, not_inserted, not_reachable)
