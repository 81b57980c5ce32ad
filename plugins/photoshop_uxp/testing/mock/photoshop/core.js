/**
 * The Photoshop stand-in's `core.executeAsModal` (see ../photoshop.js): the modal scope that
 * document writes need, and history suspension (one state per suspension, rolled back on
 * `resumeHistory(id, false)` or an exception).
 * Plain JavaScript with no Node modules, so the browser can load it too.
 */
"use strict";

const { calls, modal, fail } = require("./base");
const { documentById } = require("./document");

const core = {
  async executeAsModal(fn, options) {
    calls.push({ api: "executeAsModal", options });
    if (!options || !options.commandName) fail("executeAsModal: commandName is required");
    const opened = [];
    const context = {
      isCancelled: false,
      reportProgress() {},
      hostControl: {
        async suspendHistory({ documentID, name }) {
          const doc = documentById(documentID);
          const suspension = { doc, name, dirty: false, state: doc._snapshot() };
          doc._suspensions.push(suspension);
          opened.push(suspension);
          return opened.length - 1;
        },
        async resumeHistory(id, commit = true) {
          const suspension = opened[id];
          if (!suspension || suspension.closed) fail("resumeHistory: unknown suspension");
          suspension.closed = true;
          const doc = suspension.doc;
          doc._suspensions.splice(doc._suspensions.indexOf(suspension), 1);
          if (!commit) doc._restore(suspension.state);
          else if (suspension.dirty) doc._changed(suspension.name);
        },
      },
    };
    modal.depth++;
    try {
      return await fn(context, options.descriptor);
    } catch (error) {
      for (const s of opened.filter((x) => !x.closed).reverse()) await context.hostControl.resumeHistory(opened.indexOf(s), false);
      throw error;
    } finally {
      for (const s of opened.filter((x) => !x.closed)) await context.hostControl.resumeHistory(opened.indexOf(s), true);
      modal.depth--;
    }
  },
};

module.exports = { core };
