"""Softcut for Krita: Select Subject (also with a clean plate), Remove Background, Cut Out, Refine Selection and
Soft Segment Layers.

Installed by ``softcut install-plugin krita``, which also puts the engine's
standard-library client (``client``, ``protocol``, ``config``) inside this
package. Outside Krita (unit tests of :mod:`.pixels`) nothing is registered.
"""

try:
    from krita import DockWidgetFactory, DockWidgetFactoryBase, Krita
except ImportError:  # not running inside Krita
    Krita = None

if Krita is not None:
    from .docker import SoftcutDocker
    from .extension import SoftcutExtension

    _app = Krita.instance()
    softcut_extension = SoftcutExtension(_app)
    _app.addExtension(softcut_extension)
    softcut_extension.setup()
    SoftcutDocker.controller = softcut_extension.controller
    _app.addDockWidgetFactory(DockWidgetFactory("softcut_docker", DockWidgetFactoryBase.DockRight, SoftcutDocker))
