"""What travels between a plug-in and the engine: the protocol, the blocking client and the
client's settings (token file, port).

Layer rule (import-linter, ``pyproject.toml``): the standard library only, and no other
Softcut layer. Editor plug-ins vendor this package whole (``softcut install-plugin`` copies
it into the plug-in as ``wire/``), so it must run in GIMP's and Krita's own Pythons.

- :mod:`wire.protocol`: messages, schemas, the frame codec, errors, the handshake's HMAC;
- :mod:`wire.client`: the blocking client over the vendored python-websockets client;
- :mod:`wire._vendor`: third-party code the plug-ins carry (python-websockets, pinned, unmodified);
- :mod:`wire.editor`: what every editor plug-in does alike (each action's requests, failure
  texts, phone answers, plate files), so the plug-ins keep only document I/O and widgets;
- :mod:`wire.config`: where the token file lives, the default port.
"""
