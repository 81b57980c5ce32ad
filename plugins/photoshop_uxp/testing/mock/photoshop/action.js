/**
 * The Photoshop stand-in's `action` API (see ../photoshop.js): the few `batchPlay` descriptors the
 * panel sends (any other throws) and notification listeners, called by the test helper
 * `action.notify(event)`.
 * Plain JavaScript with no Node modules, so the browser can load it too.
 */
"use strict";

const { FULL, calls, fail, requireModal, typedFor } = require("./base");
const { documentById, layerById } = require("./document");

function targetLayer(doc, target) {
  const ref = target.find((t) => t._ref === "layer");
  if (!ref || ref._id === undefined) fail("batchPlay: descriptor without a layer _id");
  return layerById(doc, ref._id);
}

function targetDocument(target) {
  const ref = (target || []).find((t) => t._ref === "document");
  return documentById(ref ? ref._id : undefined);
}

const listeners = []; // {events: string[], notifier}

const action = {
  /** action.addNotificationListener(events: string[], notifier(event, descriptor)). */
  async addNotificationListener(events, notifier) {
    if (!Array.isArray(events) || !events.length || events.some((e) => typeof e !== "string")) {
      fail("addNotificationListener: events must be a non-empty array of event names");
    }
    if (typeof notifier !== "function") fail("addNotificationListener: the notifier must be a function");
    calls.push({ api: "addNotificationListener", events });
    listeners.push({ events: events.slice(), notifier });
  },

  /** Test helper (not Photoshop API): Photoshop reports `event` (e.g. "make" after a layer was made). */
  notify(event, descriptor = {}) {
    for (const l of listeners) if (l.events.includes(event)) l.notifier(event, descriptor);
  },

  async batchPlay(descriptors, options) {
    const replies = [];
    for (const d of descriptors) {
      calls.push({ api: "batchPlay", descriptor: d, options });
      const doc = targetDocument(d._target);
      if (d._obj === "get" && d._target[0]._property === "hasUserMask") {
        replies.push({ hasUserMask: Boolean(targetLayer(doc, d._target).mask) });
      } else if (d._obj === "select" && d._target[0]._ref === "layer") {
        requireModal("select layer");
        doc._active = [targetLayer(doc, d._target).id];
        replies.push({});
      } else if (d._obj === "make" && d.new && d.new._class === "channel" && d.at && d.at._value === "mask") {
        requireModal("add layer mask");
        const layer = doc.activeLayers[0];
        if (!layer || layer.isBackgroundLayer || layer.mask) fail("add layer mask: the command is not available");
        const value = d.using && d.using._value === "hideAll" ? 0 : FULL[doc.depth];
        layer.mask = { data: typedFor(doc.depth, doc.width * doc.height).fill(value) };
        doc._changed();
        replies.push({});
      } else if (d._obj === "set" && d.to && d.to._obj === "layer" && d._target.length === 1 && d._target[0]._property === "background") {
        // Layer from Background: the document's Background becomes a normal layer (same id, still active).
        requireModal("layer from background");
        const layer = doc._all().find((l) => l.isBackgroundLayer);
        if (!layer) fail("layer from background: the command is not available (no Background layer)");
        layer.isBackgroundLayer = false;
        layer.name = d.to.name || "Layer 0";
        doc._changed();
        replies.push({});
      } else {
        fail(`batchPlay: descriptor not modelled: ${JSON.stringify(d)}`);
      }
    }
    return replies;
  },
};

module.exports = { action };
