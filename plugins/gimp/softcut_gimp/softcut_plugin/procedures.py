"""The PDB procedures, their parameters and their dialog.

Every procedure is an :class:`Entry` (menu, label, blurb) of a :class:`Job`, the
family that says which parameters it takes, how its dialog lays them out and
what a run does. All of them take ``engine-host`` and ``engine-port``; a script
can call any of them non-interactively with the values the dialog would offer.

- :data:`SUBJECT`: Select Subject, Refine Selection, Remove Background, Cut Out
  (the same parameters; they differ in the menu, the default output and whether
  the selection is the guide);
- :data:`PLATE`: Select Subject with Clean Plate (Select Subject's parameters after
  ``plate-layer`` and ``plate-file``);
- :data:`OBJECT`: Object, Add to Subject, Subtract from Subject (Select Subject's parameters;
  the prompts come from the image: :mod:`.objects`);
- :data:`SEGMENTS`: Soft Segment Layers (``count``).

All but Refine Selection's guide take ``model``: a model the engine offers (its ``models``
list; empty: the engine's default). GIMP keeps the last value per procedure; the dialog lists
the engine's present models (:func:`_model_combo`) when the engine answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import GLib, GObject, Gimp  # noqa: E402

from . import actions, document, objects  # noqa: E402
from .wire import config  # noqa: E402
from .wire.client.models import model_choices, pick  # noqa: E402
from .wire.editor import MatteOptions, requested_model  # noqa: E402
from .wire.protocol.schemas import DEFAULT_SEGMENTS, SEGMENTS_MAX, SEGMENTS_MIN  # noqa: E402

READWRITE = GObject.ParamFlags.READWRITE
# GIMP_PARAM_DONT_SERIALIZE as gimpparamspecs.h defines it (introspection hands out its shift, 2):
# such an argument is never restored from the last run. The plate belongs to this image, and a
# file kept from an earlier run would silently win over the layer the dialog offers.
DONT_SERIALIZE = 1 << (1 + GObject.PARAM_USER_SHIFT)
PER_RUN = GObject.ParamFlags(READWRITE | DONT_SERIALIZE)
SLIDER_MAX = 50.0  # feather's slider span in the dialog (pixels); larger values are typed
# Mnemonics are unique within the dialog, whose buttons take h, r, c, o, s and l.
EDGES = (  # name, label, help, min, max
    ("smooth", "S_mooth", "Round off jagged contours (0–100)", 0.0, 100.0),
    ("feather", "_Feather", "Soften the edge: Gaussian sigma in pixels", 0.0, 1000.0),
    ("contrast", "Co_ntrast", "Harden soft edges, % (100: a hard edge)", 0.0, 100.0),
    ("shift-edge", "Shift _edge", "Move the edge outwards (+) or inwards (−), %", -100.0, 100.0),
)


def _choice(*items: tuple) -> Gimp.Choice:
    choice = Gimp.Choice.new()
    for number, (nick, label, help_text) in enumerate(items):
        choice.add(nick, number, label, help_text)
    return choice


def add_engine_arguments(procedure: Gimp.Procedure) -> None:
    """``engine-host`` and ``engine-port``, which every Softcut procedure takes."""
    procedure.add_string_argument("engine-host", "Engine hos_t", "Where `softcut serve` listens",
                                  config.DEFAULT_HOST, READWRITE)
    procedure.add_int_argument("engine-port", "Eng_ine port", "The engine's port", 1, 65535,
                               config.DEFAULT_PORT, READWRITE)


def add_model_argument(procedure: Gimp.Procedure) -> None:
    """``model``: the model the engine runs (a name from its list; empty: its default)."""
    procedure.add_string_argument("model", "_Model", "The model that finds the subject: a name the engine lists "
                                  "(softcut models list); empty: the engine's default", "", READWRITE)


def engine_address(settings) -> actions.Engine:
    """Where the run's ``engine-host`` and ``engine-port`` say the engine listens."""
    get = settings.get_property
    return actions.Engine(host=get("engine-host") or config.DEFAULT_HOST, port=int(get("engine-port")))


class Job:
    """A family of procedures: its parameters (:meth:`add_arguments`), its dialog's rows above
    the engine's (:meth:`dialog_rows`), what a run does (:meth:`run`, raising
    :class:`actions.Refused`)."""

    def add_arguments(self, procedure: Gimp.Procedure, entry: Entry) -> None:
        raise NotImplementedError

    def dialog_rows(self, dialog) -> list:
        raise NotImplementedError

    def prepare(self, image, drawables, settings) -> None:
        """Before the dialog, or a run with the last values: fill in what depends on the image."""

    def run(self, image, drawables, settings, entry: Entry) -> None:
        raise NotImplementedError


class SubjectJob(Job):
    """Select Subject and its kin: a matte into the selection, a layer mask or a new layer."""

    def add_arguments(self, procedure: Gimp.Procedure, entry: Entry) -> None:
        procedure.add_choice_argument(
            "output", "Out_put to", "Where the result goes",
            _choice(("selection", "Selection", "replace the selection"),
                    ("mask", "Layer mask", "a new layer mask on the layer"),
                    ("layer", "New layer", "a new layer with the cleaned colours and a mask")),
            entry.output, READWRITE)
        procedure.add_boolean_argument("sample-merged", "Sample mer_ged", "Work on the visible image, not the layer",
                                       False, READWRITE)
        procedure.add_choice_argument(
            "quality", "_Quality", "Edge refinement",
            _choice(("best", "Best", "matting solver: hair and fur"), ("fast", "Fast", "guided filter")),
            "best", READWRITE)
        for key, label, help_text, low, high in EDGES:
            procedure.add_double_argument(key, label, help_text, low, high, 0.0, READWRITE)
        procedure.add_double_argument("decontaminate", "_Decontaminate colours",
                                      "How much the new layer's colours are cleaned of the background (0–1)",
                                      0.0, 1.0, 1.0, READWRITE)
        add_model_argument(procedure)

    def dialog_rows(self, dialog) -> list:
        for key, _label, _help, _low, high in EDGES:
            scale = dialog.get_scale_entry(key, 1.0)
            if high > SLIDER_MAX:  # the slider covers the useful range; the number field takes the rest
                scale.set_bounds(0.0, SLIDER_MAX, False)
        dialog.get_scale_entry("decontaminate", 1.0)
        dialog.fill_box("edge-box", [key for key, *_ in EDGES])
        dialog.get_label("edge-title", "Edges", False, False)
        dialog.fill_frame("edge-frame", "edge-title", False, "edge-box")
        return ["output", "sample-merged", "quality", "model", "edge-frame", "decontaminate"]

    def run(self, image, drawables, settings, entry: Entry) -> None:
        actions.run(image, drawables, options(settings), guided=entry.refine_selection)


class PlateJob(SubjectJob):
    """Select Subject with Clean Plate: Select Subject helped by a photo of the same scene
    without the subject, from a layer (of any open image) or a file (which wins)."""

    def add_arguments(self, procedure: Gimp.Procedure, entry: Entry) -> None:
        procedure.add_layer_argument(
            "plate-layer", "Plate la_yer",
            "The clean plate: the same scene without the subject (any layer of any open image, read whole)",
            True, PER_RUN)
        procedure.add_file_argument(
            "plate-file", "Or pl_ate file", "A clean plate in an image file; when given, it is used instead of the layer",
            Gimp.FileChooserAction.OPEN, True, None, PER_RUN)
        super().add_arguments(procedure, entry)

    def dialog_rows(self, dialog) -> list:
        return ["plate-layer", "plate-file", *super().dialog_rows(dialog)]

    def prepare(self, image, drawables, settings) -> None:
        """Before the dialog (or a run with the last values): guess the plate layer when none is set."""
        layer = settings.get_property("plate-layer")
        if layer is None or not layer.is_valid():
            settings.set_property("plate-layer", document.default_plate(image, drawables))

    def run(self, image, drawables, settings, entry: Entry) -> None:
        get = settings.get_property
        actions.run_plate(image, drawables, options(settings), layer=get("plate-layer"), file=get("plate-file"))


class ObjectJob(SubjectJob):
    """Object Selection: the object the selection's bounds and a path's anchors mark (Object), or the
    selection as a rough correction of the image's last Softcut result (Add to Subject, Subtract from
    Subject); Select Subject's parameters and outputs."""

    def run(self, image, drawables, settings, entry: Entry) -> None:
        objects.run(image, drawables, options(settings), entry.mode)


class SegmentsJob(Job):
    """Soft Segment Layers: the image as ``count`` soft layers in a new layer group."""

    def add_arguments(self, procedure: Gimp.Procedure, entry: Entry) -> None:
        procedure.add_int_argument("count", "La_yers", "How many soft layers the image is split into",
                                   SEGMENTS_MIN, SEGMENTS_MAX, DEFAULT_SEGMENTS, READWRITE)
        add_model_argument(procedure)

    def dialog_rows(self, dialog) -> list:
        dialog.get_scale_entry("count", 1.0)
        return ["count", "model"]

    def run(self, image, drawables, settings, entry: Entry) -> None:
        actions.run_segments(image, drawables, int(settings.get_property("count")), engine_address(settings),
                             settings.get_property("model") or None)


SUBJECT = SubjectJob()
PLATE = PlateJob()
OBJECT = ObjectJob()
SEGMENTS = SegmentsJob()


@dataclass(frozen=True)
class Entry:
    menu: str
    label: str
    blurb: str
    job: Job = SUBJECT
    output: str = "selection"  # SUBJECT, PLATE: the default output
    refine_selection: bool = False  # SUBJECT: the selection is the guide
    mode: str = "new"  # OBJECT: select_object's mode (new: Object; add, subtract: a correction)


PROCEDURES = {
    "softcut-select-subject": Entry(
        "<Image>/Select/", "Su_bject (Softcut)…",
        "Select the main subject of the layer as a soft selection (hair and fur kept)", output="selection"),
    "softcut-refine-selection": Entry(
        "<Image>/Select/", "Refine Selection (Softcut)…",
        "Turn a rough selection around the subject into a soft, precise one", output="selection",
        refine_selection=True),
    "softcut-select-subject-plate": Entry(
        "<Image>/Select/", "Subject with Clean _Plate (Softcut)…",
        "Select the main subject with the help of a clean plate: a photo of the same scene without the subject",
        job=PLATE, output="selection"),
    "softcut-select-object": Entry(
        "<Image>/Select/", "Object (Softcut)…",
        "Select the object inside the selection's bounds, or marked by a path's anchors, as a soft selection",
        job=OBJECT, output="selection"),
    "softcut-add-to-subject": Entry(
        "<Image>/Select/", "Add to Subject (Softcut)…",
        "Add the part roughly selected to the image's last Softcut result", job=OBJECT, output="selection",
        mode="add"),
    "softcut-subtract-from-subject": Entry(
        "<Image>/Select/", "Subtract from Subject (Softcut)…",
        "Take the part roughly selected away from the image's last Softcut result", job=OBJECT,
        output="selection", mode="subtract"),
    "softcut-remove-background": Entry(
        "<Image>/Layer/", "Remove Background (Softcut)…",
        "Hide the layer's background with a layer mask holding the subject's soft matte", output="mask"),
    "softcut-cut-out": Entry(
        "<Image>/Layer/", "Cut Out to New Layer (Softcut)…",
        "Put the subject, its colours cleaned of the background, on a new layer with a mask", output="layer"),
    "softcut-soft-segments": Entry(
        "<Image>/Layer/", "Soft Segment Layers (Softcut)…",
        "Split the visible image into soft layers (a new layer group) that stack back into it", job=SEGMENTS),
}


def create(plugin: Gimp.PlugIn, name: str) -> Gimp.Procedure:
    entry = PROCEDURES[name]
    procedure = Gimp.ImageProcedure.new(plugin, name, Gimp.PDBProcType.PLUGIN, _run, entry)
    procedure.set_image_types("*")
    # several or no layers selected: allowed, for Sample merged (the call says what it needs otherwise)
    procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE | Gimp.ProcedureSensitivityMask.DRAWABLES
                                   | Gimp.ProcedureSensitivityMask.NO_DRAWABLES)
    procedure.set_menu_label(entry.label)
    procedure.add_menu_path(entry.menu)
    procedure.set_documentation(entry.blurb, entry.blurb + ". Needs the Softcut engine (`softcut serve`).", name)
    procedure.set_attribution("Softcut", "Softcut", "2026")
    entry.job.add_arguments(procedure, entry)
    add_engine_arguments(procedure)
    return procedure


def options(settings) -> actions.Options:
    """The parameters of a Select Subject run, read from its ``Gimp.ProcedureConfig``."""
    get = settings.get_property
    matte = MatteOptions(output=get("output"), quality=get("quality"),
                         edges={key.replace("-", "_"): float(get(key)) for key, *_ in EDGES},
                         decontaminate=float(get("decontaminate")), model=get("model") or None)
    return actions.Options(matte=matte, merged=bool(get("sample-merged")), engine=engine_address(settings))


def _dialog(procedure, settings, entry: Entry, title: str) -> bool:
    gi.require_version("GimpUi", "3.0")
    from gi.repository import GimpUi

    GimpUi.init("softcut_gimp")
    dialog = GimpUi.ProcedureDialog.new(procedure, settings, title)
    rows = entry.job.dialog_rows(dialog)
    combo, choices = _model_combo(GimpUi, settings) if "model" in rows else (None, [])
    if combo is not None:  # the engine's list instead of the text field
        rows = [row for row in rows if row != "model"]
    dialog.fill_box("engine-box", ["engine-host", "engine-port"])
    dialog.get_label("engine-title", "Engine (softcut serve)", False, False)
    dialog.fill_frame("engine-frame", "engine-title", True, "engine-box")
    dialog.fill([*rows, "engine-frame"])
    if combo is not None:
        dialog.get_content_area().pack_start(combo, False, False, 0)
        combo.show_all()
    try:
        ok = bool(dialog.run())
    finally:
        dialog.destroy()
    if ok and choices:  # the engine's default is asked for by naming none, as every editor does
        settings.set_property("model", requested_model(choices, settings.get_property("model")) or "")
    return ok


def _model_combo(GimpUi, settings):
    """A "Model" row listing the engine's models (the default first; only those present: the tooltip
    says where the others' files go), bound to ``model``, and the choices it lists; (None, []) when
    the engine does not answer (the dialog then shows the text field)."""
    from gi.repository import Gtk

    try:
        choices = model_choices(actions.engine_models(engine_address(settings)))
    except actions.Refused:
        return None, []
    if not choices:
        return None, []
    settings.set_property("model", pick(choices, settings.get_property("model")) or "")
    store = Gtk.ListStore(str, str)
    for choice in choices:
        if choice.enabled:
            store.append([choice.name, choice.label])
    combo = GimpUi.prop_string_combo_box_new(settings, "model", store, 0, 1)
    absent = [c.name for c in choices if not c.enabled]
    combo.set_tooltip_text("The model that finds the subject" + (
        f". Not on the engine's machine: {', '.join(absent)}; put their files in rembg's model folder "
        "($U2NET_HOME or ~/.u2net)" if absent else ""))
    row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=6)
    label = Gtk.Label.new_with_mnemonic("_Model")
    label.set_mnemonic_widget(combo)
    row.pack_start(label, False, False, 0)
    row.pack_start(combo, True, True, 0)
    row.set_border_width(6)
    return row, choices


def _run(procedure, run_mode, image, drawables, settings, entry: Entry):
    title = entry.label.replace("_", "").rstrip("…")
    if run_mode != Gimp.RunMode.NONINTERACTIVE:
        entry.job.prepare(image, drawables, settings)
    if run_mode == Gimp.RunMode.INTERACTIVE and not _dialog(procedure, settings, entry, title):
        return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
    try:
        entry.job.run(image, drawables, settings, entry)
    except actions.Refused as exc:
        return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(f"Softcut: {exc}"))
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)
