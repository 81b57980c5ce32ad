"""The engine's phone side: the page it serves (``index.html``, ``phone.css`` and the scripts
``modules.js``, ``view.js``, ``pairing.js``, ``cut_paste.js``, ``phone.js``), the HTTP routes, the
outbox of cut-outs waiting for an editor and their delivery, the screen grab.
"""
