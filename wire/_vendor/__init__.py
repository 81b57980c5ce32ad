"""Third-party code that the plug-ins carry with ``wire`` (GIMP's and Krita's Pythons have no pip).

``websockets``: python-websockets 16.1.1, the modules its synchronous client imports, unmodified.
See README.md here for the version, its source and licence, and how to update it.
"""
