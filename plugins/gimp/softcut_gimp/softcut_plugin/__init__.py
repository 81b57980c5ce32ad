"""Softcut's GIMP 3 plug-in package.

``procedures`` registers the PDB procedures and their dialog, ``actions`` runs
one (read, request, insert), ``document`` is the only code that reads or writes
GIMP images, ``pixels`` holds pure byte-layout helpers. ``config``,
``protocol`` and ``client`` are the engine's standard-library client, copied in
by ``softcut install-plugin gimp``.
"""
