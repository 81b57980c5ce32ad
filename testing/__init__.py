"""Test support that ships with nothing: the engine launcher and synthetic scene generators
(phone photos, clean plates, videos with their true alpha).

Layer rule (import-linter, ``pyproject.toml``): only ``tests/`` and ``bench/`` import it.
"""
