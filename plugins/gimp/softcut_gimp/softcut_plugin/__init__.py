"""Softcut's GIMP 3 plug-in package: GIMP's document I/O and dialogs only.

``procedures`` registers the PDB procedures and their dialog, ``actions`` runs
one (read, request, insert), ``objects`` runs Object Selection's (Object, Add to and
Subtract from Subject), ``phone`` receives phone cut-outs, ``document`` is the only
code that reads or writes GIMP images' pixels, ``last_result`` keeps the image's last
Softcut result (a parasite) for the corrections, ``pixels`` holds pure byte-layout helpers.
What every plug-in does alike (the requests of each action, failure texts, Object
Selection's prompts, phone answers, plate files) comes from ``wire.editor``: ``wire`` is the standard-library
package ``softcut install-plugin gimp`` copies in (a link to it in the checkout).
"""
