"""The ``softcut`` command: the CLI's commands (:mod:`softcut_app.commands` for the local
matting commands, :mod:`softcut_app.cli` for the entry point, the engine and its client),
``install-plugin``, token management and Photoshop's COM placement.

Layer rule (import-linter, ``pyproject.toml``): the application sits on top; it is the only
layer that imports :mod:`core`, :mod:`engine_server` and :mod:`wire` together, and nothing
imports it.
"""
