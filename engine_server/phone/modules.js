"use strict";
/**
 * The phone page's share of wire/js (issue 7): the engine serves the Photoshop panel's protocol
 * modules, handshake HMAC and EngineClient under /phone/ (CommonJS modules, http.py's
 * SHARED_JS); this loads them into the page, each with its own `module`, `exports` and
 * `require`, so that their top-level names stay private.
 */
(function register(root, factory) {
  if (typeof module === "object" && module !== null && module.exports) module.exports = factory();
  else (root.softcutPhoneScripts = root.softcutPhoneScripts || {}).modules = factory();
})(globalThis, function modules() {
  /** The wire/js modules the page loads, each after the ones it requires. */
  const SHARED_MODULES = Object.freeze(["constants", "image_size", "hmac", "buffers", "codec", "requests", "protocol", "client", "objects"]);
  /** A require() name a shared module may use for another: ./name or ./name.js */
  const SIBLING = /^\.\/([a-z_]+?)(?:\.js)?$/;

  /**
   * Run a CommonJS module's source with its own `module`, `exports` and `require`.
   * @param {string} url where it came from (for the stack traces' file name)
   * @param {string} source
   * @param {(name: string) => object} require what the module's require() returns
   * @returns {object} its exports
   */
  function runModule(url, source, require) {
    const module = { exports: {} };
    new Function("require", "module", "exports", `${source}\n//# sourceURL=${url}`)(require, module, module.exports);
    return module.exports;
  }

  /**
   * Fetch the shared modules (all at once), then run them in order, each one's require()
   * answered with the modules run before it.
   * @param {typeof fetch} [fetch] the page's fetch
   * @returns {Promise<{protocol: object, hmac: object, client: object, images: object}>}
   *   images: image_size.js (a photo's kind and size, BadImage)
   */
  async function loadEngineModules(fetch = globalThis.fetch) {
    const sources = await Promise.all(SHARED_MODULES.map(async (name) => {
      const url = `/phone/${name}.js`;
      const response = await fetch(url, { cache: "no-store" });
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      return response.text();
    }));
    const loaded = new Map();
    SHARED_MODULES.forEach((name, i) => {
      const require = (wanted) => {
        const sibling = SIBLING.exec(wanted);
        if (sibling !== null && loaded.has(sibling[1])) return loaded.get(sibling[1]);
        throw new Error(`${name}.js requires ${wanted}`);
      };
      loaded.set(name, runModule(`/phone/${name}.js`, sources[i], require));
    });
    return { protocol: loaded.get("protocol"), hmac: loaded.get("hmac"), client: loaded.get("client"), images: loaded.get("image_size") };
  }

  return { SHARED_MODULES, loadEngineModules };
});
