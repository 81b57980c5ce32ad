"""The model choice every editor offers, from the engine's model list (``welcome.models`` or a
``models`` reply).

- :func:`model_choices`: what the choice lists: the engine's default first, then the other
  models whose files are on the engine's machine, then the absent ones (not selectable, with a
  hint saying where their file would go);
- :func:`pick`: the model to send with a request, given what the user picked before (kept for
  the editor session), or the default when that model is not selectable any more.

Engines before model choice sent no ``default`` flag: their one ``loaded`` model is the default.
Standard library only (plug-ins vendor this package).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ABSENT_HINT = ("not on the engine's machine: put its file in rembg's model folder ($U2NET_HOME or ~/.u2net; "
               "`softcut models list` says where), then reconnect")


@dataclass(frozen=True)
class ModelChoice:
    """One entry of an editor's model choice: ``name`` (what requests send), ``label`` (what the
    user reads), ``enabled`` (selectable: the default or present), ``hint`` (a tooltip)."""

    name: str
    label: str
    enabled: bool
    hint: str
    default: bool = False


def _is_default(model: Mapping[str, Any], models: list[Mapping[str, Any]]) -> bool:
    if any("default" in m for m in models):
        return bool(model.get("default"))
    return bool(model.get("loaded"))  # an engine that runs only its loaded model


def model_choices(models: Iterable[Mapping[str, Any]]) -> list[ModelChoice]:
    """The entries of the model choice, in order: the default, the present others, the absent ones."""
    models = [m for m in models if isinstance(m, Mapping) and m.get("name")]
    default, present, absent = [], [], []
    for model in models:
        name = str(model["name"])
        about = ", ".join(str(model[k]) for k in ("description", "licence") if model.get(k))
        if _is_default(model, models):
            default.append(ModelChoice(name, f"{name} (default)", True, about, default=True))
        elif model.get("present", model.get("loaded", False)):
            present.append(ModelChoice(name, name, True, about))
        else:
            absent.append(ModelChoice(name, f"{name} (not installed)", False, f"{name}: {ABSENT_HINT}"))
    return default[:1] + present + absent


def pick(choices: Iterable[ModelChoice], wanted: str | None) -> str | None:
    """The model to request: ``wanted`` when it is selectable, else the default's name (None when
    the list is empty: the engine then runs its default)."""
    choices = list(choices)
    if wanted and any(c.name == wanted and c.enabled for c in choices):
        return wanted
    return next((c.name for c in choices if c.default), None)
