"""Clean-plate matting: align a photo of the empty scene to the image, then matte with it.

- :mod:`core.plate.align`: homography and photometric match of the plate to the image;
- :mod:`core.plate.matte`: trimap and alpha prior from the known background;
- :mod:`core.plate.pipeline`: Select Subject with a clean plate, :func:`plate_matte`.

(Test composites with handheld plates live in :mod:`testing.plate_synthetic`.)
"""
