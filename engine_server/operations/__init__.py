"""One module per operation, and the registry the server looks requests up in.

Every module here that declares ``TYPES`` is an operation. It declares:

- ``TYPES``: the request types it answers;
- ``KIND``: how its jobs run (:class:`engine_server.jobs.Kind`): ``INSTANT`` (at once, answered
  with a message of its own or not at all), ``QUEUED`` (on the job queue: ``accepted``,
  ``progress``…, ``result``) or ``STREAM`` (queued, but holds no runner: fed by later requests);
- ``async def run(ctx, job, request)``: the work. ``ctx`` is the engine server (its ``engine``,
  ``deliveries``, ``queue``, ``clients``); ``request`` has every default of its schema filled in
  (:func:`wire.protocol.schemas.with_defaults`), so no operation restates one. It returns a
  :class:`~engine_server.operations.common.Reply` (the job's ``result``), another message to
  send, or None; it raises :data:`engine_server.errors.ANSWERED` errors for the client to see,
  and reports progress through the job, which also stops the work when it is cancelled;
- optionally ``prepare(ctx, job, request)``, called before the job is queued (a stream opens
  there, so that its frames may come while it waits), and ``CAPABILITIES``, named in ``welcome``.
"""

from __future__ import annotations

import pkgutil
from functools import cache
from importlib import import_module
from types import ModuleType


@cache
def registry() -> dict[str, ModuleType]:
    """Request type → the module of its operation: every module of this package that declares ``TYPES``."""
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        module = import_module(f"{__name__}.{info.name}")
        for type_ in getattr(module, "TYPES", ()):
            if type_ in found:
                raise RuntimeError(f"request type {type_!r} is registered twice (operations.{info.name})")
            found[type_] = module
    return found


def capabilities() -> list[str]:
    """What ``welcome`` says this engine does: every registered request type and the modules' ``CAPABILITIES``."""
    modules = registry().values()
    return sorted({*registry(), *(name for module in modules for name in getattr(module, "CAPABILITIES", ()))})
