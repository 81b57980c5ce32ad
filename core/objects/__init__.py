"""Object Selection: a box, clicks or a rough lasso pick an object or correct a matte.

Two steps, as segment-anything's predictor: :class:`ObjectSelector` does the expensive work once
per image (the working image, the model on the whole frame), and its ``predict`` turns prompts
into a soft alpha at full size, running the model again only on crops it has not seen.

- :mod:`.prompts`: checks the prompts and maps them to the working size;
- :mod:`.graphcut`: the colour graph cut (OpenCV's GrabCut) seeded by the model and the prompts;
- :mod:`.combine`: how a prediction meets the matte it corrects (new, add, subtract, intersect);
- :mod:`.sam`: rembg's Segment Anything files, an optional backend (``ObjectOptions(backend="sam")``);
- :mod:`.selector`: :class:`ObjectSelector`, :class:`ObjectOptions`.
"""

from core.objects.combine import MODES
from core.objects.selector import ObjectOptions, ObjectSelector

__all__ = ["MODES", "ObjectOptions", "ObjectSelector"]
