"use strict";
/**
 * Softcut's phone page (issue 7): cut an object out of a photo, then paste it into the
 * editor the phone's camera points at.
 *
 * index.html loads the page's scripts in order: modules.js (loads the Photoshop panel's
 * protocol modules and EngineClient that the engine serves from wire/js), view.js (the
 * screen), pairing.js (pairing and the connection), cut_paste.js (the two jobs), then this
 * file, which puts PhonePage together from their methods and starts it. In Node the scripts
 * only export their pure helpers (for the tests); in a browser this one runs the page.
 */
(function main(root, factory) {
  if (typeof module === "object" && module !== null && module.exports) {
    module.exports = factory({
      modules: require("./modules.js"), view: require("./view.js"), pairing: require("./pairing.js"), cutPaste: require("./cut_paste.js"),
    });
  } else {
    factory(root.softcutPhoneScripts).boot(root);
  }
})(globalThis, function factory({ modules, view, pairing, cutPaste }) {
  /**
   * The page's state; its behaviour is the methods of view.js, pairing.js and cut_paste.js.
   */
  class PhonePage {
    /**
     * @param {Window} window
     * @param {{protocol: object, client: object, images: object}|null} modules null when they could not be loaded
     */
    constructor(window, modules) {
      this.window = window;
      this.el = view.findElements(window.document);
      this.host = window.location.host;
      this.modules = modules;
      this.client = null;
      /** The connection attempt under way (a promise of whether it succeeded), else null. */
      this.connecting = null;
      /** The id of the current cut (phone_cut's `cut`), null before one. */
      this.cut = null;
      /** Whether the current cut went to the engine's outbox (placed or kept): it cannot be pasted again. */
      this.pasted = false;
      this.previewUrl = null;
      this.busy = false;
      /** The texts last shown on the connection and status lines (with their `code` marks). */
      this.connectionText = "";
      this.statusText = "";
    }
  }
  for (const part of [view, pairing, cutPaste]) {
    for (const name of Object.keys(part.methods)) {
      if (name in PhonePage.prototype) throw new Error(`PhonePage.${name} is defined twice`);
    }
    Object.assign(PhonePage.prototype, part.methods);
  }

  /**
   * Start the page once the document is parsed.
   * @param {Window} window
   */
  function boot(window) {
    const run = async () => {
      let shared = null;
      try {
        shared = await modules.loadEngineModules();
      } catch (error) {
        console.warn(`Softcut's page scripts could not be loaded: ${error.message}`);
      }
      const page = new PhonePage(window, shared);
      window.softcutPhone = page;
      await page.start();
    };
    if (window.document.readyState === "loading") window.document.addEventListener("DOMContentLoaded", run);
    else run();
  }

  return {
    TOKEN_KEY: pairing.TOKEN_KEY,
    fragmentToken: pairing.fragmentToken,
    engineAddress: pairing.engineAddress,
    pasteOutcome: cutPaste.pasteOutcome,
    progressText: cutPaste.progressText,
    boot,
  };
});
