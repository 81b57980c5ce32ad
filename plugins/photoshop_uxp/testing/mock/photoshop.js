/**
 * An in-memory stand-in for Photoshop's `photoshop` module, for running the shipped panel
 * modules outside Photoshop (Node tests, the headless-Chromium render).
 *
 * It models what the panel uses, with Photoshop's documented rules: documents of RGB or
 * Grayscale mode at 8 or 16 bits (16-bit components 0–32768), pixel layers with bounds and an
 * optional user mask, layer groups (`Document.createLayerGroup`; `doc.layers` is the top level,
 * a group's `layers` its children, top first; a layer's `parent` is its group or null), the selection, colour samplers and
 * paths (`colorSamplers`, `pathItems`: positions and anchors, read only), `imaging` reads and writes, `core.executeAsModal` (writes
 * outside a modal scope throw, as in Photoshop), history suspension (one state per
 * suspension, rolled back on `resumeHistory(id, false)` or an exception), and the few
 * `batchPlay` descriptors the panel sends; any other descriptor throws, so nothing the model
 * does not know can pass silently; notification listeners (`action.addNotificationListener`)
 * are kept and called by the test helper `action.notify(event)`. Every imaging and batchPlay
 * call is recorded in `calls`.
 * Plain JavaScript with no Node modules, so the browser can load it too.
 */
"use strict";

// The parts, one job each, under photoshop/: base (constants, the call record, the modal depth,
// pixel rectangles), document (app, Document, Layer, history), imaging, action (batchPlay,
// notifications) and core (executeAsModal).
const { constants, calls, FULL } = require("./photoshop/base");
const { app } = require("./photoshop/document");
const { imaging } = require("./photoshop/imaging");
const { action } = require("./photoshop/action");
const { core } = require("./photoshop/core");

module.exports = { app, core, imaging, action, constants, calls, FULL };
