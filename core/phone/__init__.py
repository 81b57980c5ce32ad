"""The phone's geometry (after AR Cut & Paste): where a phone photo shows the screen, and where
a cut-out lands in the document.

- :mod:`core.phone.homography`: 3×3 homographies and their helpers;
- :mod:`core.phone.locate`: feature matching of a photo against a screen or document;
- :mod:`core.phone.placement`: from a located point to a layer's position and scale.
"""
