"""Softcut for Krita: Select Subject (also with a clean plate), Remove Background, Cut Out, Refine Selection and
Soft Segment Layers.

Krita's document I/O, dialogs and docker only: what every plug-in does alike (the requests
of each action, failure texts, phone answers, plate files) comes from ``wire.editor``.
Installed by ``softcut install-plugin krita``, which also copies the standard-library
``wire`` package (protocol, client, editor; a link to it in the checkout) inside this
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
