#!/usr/bin/env python3
"""Softcut for GIMP 3: the file GIMP runs (a fresh process for every call).

It only registers the procedures; :mod:`softcut_plugin.procedures` says what
they are and :mod:`softcut_plugin.actions` what they do.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gimp  # noqa: E402

from softcut_plugin import phone, procedures  # noqa: E402


class Softcut(Gimp.PlugIn):
    """Select Subject (also with a clean plate), Refine Selection, Object, Add to and Subtract from Subject,
    Remove Background, Cut Out, Soft Segment Layers and phone cut-outs, through the Softcut engine."""

    def do_query_procedures(self):
        return [*procedures.PROCEDURES, phone.NAME]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        return phone.create(self) if name == phone.NAME else procedures.create(self, name)


if __name__ == "__main__":
    Gimp.main(Softcut.__gtype__, sys.argv)
