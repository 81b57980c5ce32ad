"""The Softcut engine process: the asyncio server over :mod:`wire.protocol`, connections, jobs
and their memory budget, security (tokens, pairing, scopes), one module per operation in
:mod:`engine_server.operations`, the phone side in :mod:`engine_server.phone`.

Layer rule (import-linter, ``pyproject.toml``): imports :mod:`core` and :mod:`wire`, never
:mod:`softcut_app` or :mod:`testing`.
"""
