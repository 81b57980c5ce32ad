"""The ``softcut`` commands, one module per group; each ``add_*`` function adds one command to the
parser :func:`softcut_app.cli.build_parser` builds, and each ``cmd_*`` runs it with ``(args, console)``.

- :mod:`.images`: ``cut``, ``refine``, ``trimap``, ``layers`` (still images, on this machine);
- :mod:`.batch_job`: ``batch`` (whole folders, resumable, locally or on Ray; its parts in :mod:`softcut_app.batchjob`);
- :mod:`.video`: ``video`` (resumable);
- :mod:`.evaluate`: ``eval``;
- :mod:`.models`: ``models``, ``doctor``;
- :mod:`.sample`, :mod:`.locate`: ``sample``, ``locate``;
- :mod:`.serve`: ``serve`` (the engine); :mod:`.client`: ``client select-subject|video``;
- :mod:`.tokens`: ``tokens list|revoke``; :mod:`.editors`: ``install-plugin``, ``photoshop-place``;
- :mod:`.common`: the flags and the model loading several commands share.

``python -m softcut_app.commands`` runs ``softcut``.
"""
