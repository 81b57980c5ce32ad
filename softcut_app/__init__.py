"""The ``softcut`` command: :mod:`softcut_app.cli` (the entry point and its one parser),
:mod:`softcut_app.commands` (a module per command group: local matting, video, eval, models, the
engine and its client, tokens, editors), :mod:`softcut_app.console` (what the command prints),
``install-plugin`` (:mod:`softcut_app.plugin_install`) and Photoshop's COM placement.

Layer rule (import-linter, ``pyproject.toml``): the application sits on top; it is the only
layer that imports :mod:`core`, :mod:`engine_server` and :mod:`wire` together, and nothing
imports it.
"""
