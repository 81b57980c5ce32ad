"""The engine's phone side: the page it serves (``index.html``, ``phone.js``, ``phone.css``), the
HTTP routes, the outbox of cut-outs waiting for an editor and their delivery, the screen grab.
"""
