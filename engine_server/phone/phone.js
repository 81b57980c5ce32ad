"use strict";
/**
 * Softcut's phone page (issue 7): cut an object out of a photo, then paste it into the
 * editor the phone's camera points at.
 *
 * The engine serves this file at /phone/phone.js together with the Photoshop panel's
 * protocol codec and EngineClient (/phone/protocol.js, /phone/client.js: CommonJS
 * modules, loaded here by a small loader). In Node the file only exports its pure
 * helpers (for the tests); in a browser it runs the page.
 */
(function main(root, factory) {
  const api = factory();
  if (typeof module === "object" && module !== null && module.exports) {
    module.exports = api;
  } else {
    api.boot(root);
  }
})(globalThis, function factory() {
  /** Who the phone is in `pair` and `hello`. */
  const CLIENT = Object.freeze({ name: "softcut-phone", version: "0.1.0" });
  /** Where the phone's credential ("<id>.<secret>", scope phone) is kept (localStorage is per engine origin: ip:port). */
  const TOKEN_KEY = "softcut.phone.token";
  /** The layer name the pasted cut-out gets. */
  const LAYER_NAME = "Phone cut-out";
  const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  /** SOF markers (frame headers) of every JPEG coding process: C0–CF but DHT (C4), JPG (C8), DAC (CC). */
  const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
  /** Markers that stand alone (no length field): TEM and RST0–RST7. */
  const STANDALONE_MARKERS = new Set([0x01, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7]);
  const SOS = 0xda;
  const EOI = 0xd9;

  /** An image file this page cannot send: not JPEG or PNG, or a damaged header. */
  class BadImage extends Error {
    /** @param {string} message what is wrong with the file */
    constructor(message) {
      super(message);
      this.name = "BadImage";
    }
  }

  /** The page has no working connection to the engine; the message says why (as the connection line does). */
  class NotConnected extends Error {
    /** @param {string} message */
    constructor(message) {
      super(message);
      this.name = "NotConnected";
    }
  }

  // ------------------------------------------------------------------ pure helpers

  /**
   * The kind of image file from its first bytes (the magic numbers), whatever its name says.
   * @param {Uint8Array} bytes the file's bytes (at least its first 8)
   * @returns {"jpeg"|"png"|null} null for anything else (HEIC, WebP, GIF, not an image)
   */
  function sniffImageType(bytes) {
    if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
    if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return "png";
    return null;
  }

  /**
   * Big-endian unsigned 16-bit integer at `offset`.
   * @param {Uint8Array} bytes
   * @param {number} offset
   * @returns {number}
   */
  function uint16(bytes, offset) {
    return (bytes[offset] << 8) | bytes[offset + 1];
  }

  /**
   * Big-endian unsigned 32-bit integer at `offset`.
   * @param {Uint8Array} bytes
   * @param {number} offset
   * @returns {number}
   */
  function uint32(bytes, offset) {
    return ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3];
  }

  /**
   * The stored dimensions of a JPEG: those of its frame header (SOF marker), before any EXIF
   * rotation. Segments are skipped by their lengths, so a thumbnail inside an EXIF (APP1)
   * segment is never mistaken for the image.
   * @param {Uint8Array} bytes the whole file, or at least everything up to its SOF segment
   * @returns {{width: number, height: number}}
   * @throws {BadImage} not a JPEG, truncated before its frame header, or a frame header that
   *   leaves the height to a later DNL marker (height 0)
   */
  function jpegSize(bytes) {
    if (sniffImageType(bytes) !== "jpeg") throw new BadImage("not a JPEG file (it does not start with FF D8 FF)");
    let offset = 2;
    for (;;) {
      while (offset < bytes.length && bytes[offset] === 0xff && bytes[offset + 1] === 0xff) offset += 1; // fill bytes
      if (offset + 4 > bytes.length) throw new BadImage("the JPEG ends before its frame header (SOF)");
      if (bytes[offset] !== 0xff) throw new BadImage(`the JPEG is damaged: no marker at byte ${offset}`);
      const marker = bytes[offset + 1];
      if (STANDALONE_MARKERS.has(marker)) {
        offset += 2;
        continue;
      }
      if (marker === SOS || marker === EOI) throw new BadImage("the JPEG has no frame header (SOF) before its image data");
      const length = uint16(bytes, offset + 2);
      if (length < 2) throw new BadImage(`the JPEG is damaged: segment length ${length} at byte ${offset}`);
      if (SOF_MARKERS.has(marker)) return frameSize(bytes, offset + 4, length);
      offset += 2 + length;
    }
  }

  /**
   * Width and height from a SOF segment's body: precision (1 byte), height (2), width (2).
   * @param {Uint8Array} bytes
   * @param {number} body offset of the segment's body (after the marker and the length)
   * @param {number} length the segment's length field
   * @returns {{width: number, height: number}}
   */
  function frameSize(bytes, body, length) {
    if (length < 8 || body + 5 > bytes.length) throw new BadImage("the JPEG's frame header (SOF) is cut short");
    const height = uint16(bytes, body + 1);
    const width = uint16(bytes, body + 3);
    if (width === 0 || height === 0) throw new BadImage(`the JPEG's frame header says ${width}x${height} (a height set later by DNL is not supported)`);
    return { width, height };
  }

  /**
   * The dimensions in a PNG's header (IHDR, the first chunk).
   * @param {Uint8Array} bytes at least the first 24 bytes of the file
   * @returns {{width: number, height: number}}
   * @throws {BadImage} not a PNG, or no IHDR chunk first, or a zero dimension
   */
  function pngSize(bytes) {
    if (sniffImageType(bytes) !== "png") throw new BadImage("not a PNG file (no PNG signature)");
    const chunk = String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]);
    if (bytes.length < 24 || chunk !== "IHDR") throw new BadImage("the PNG has no header chunk (IHDR) first");
    const width = uint32(bytes, 16);
    const height = uint32(bytes, 20);
    if (width === 0 || height === 0) throw new BadImage(`the PNG's header says ${width}x${height}`);
    return { width, height };
  }

  /**
   * Format and stored dimensions of an image file, as its BufferSpec needs them.
   * @param {Uint8Array} bytes the whole file
   * @returns {{format: "jpeg"|"png", width: number, height: number}}
   * @throws {BadImage} for anything but a readable JPEG or PNG
   */
  function imageInfo(bytes) {
    const format = sniffImageType(bytes);
    if (format === "jpeg") return { format, ...jpegSize(bytes) };
    if (format === "png") return { format, ...pngSize(bytes) };
    throw new BadImage("this file is not a JPEG or PNG photo");
  }

  /**
   * The one-time pairing token of a page address's fragment (`#t=…`).
   * @param {string} hash `location.hash`, e.g. `#t=abc`
   * @returns {string|null}
   */
  function fragmentToken(hash) {
    const token = new URLSearchParams(String(hash).replace(/^#/, "")).get("t");
    return token ? token : null;
  }

  /**
   * Where the engine's WebSocket is: the host and port that served this page.
   * @param {{hostname: string, port: string, protocol: string}} location the page's location
   * @returns {{host: string, port: number}} the host without IPv6 brackets
   */
  function engineAddress(location) {
    const host = location.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = location.port ? Number(location.port) : location.protocol === "https:" ? 443 : 80;
    return { host, port };
  }

  /**
   * @param {string} text
   * @returns {string} the text with its first letter in upper case
   */
  function capitalise(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  /**
   * What to show for a `phone_paste` result.
   * @param {{status?: string, message?: string, editor?: string, x?: (number|null), y?: (number|null)}} fields
   * @returns {{state: "ok"|"warn", text: string}} ok (green) when placed, warn (amber) otherwise
   */
  function pasteOutcome(fields) {
    const { status, message } = fields;
    const composed = {
      placed: `pasted into ${fields.editor || "the editor"} at (${fields.x}, ${fields.y})`,
      placed_at_centre: "screen not found — pasted at centre",
      kept: "no editor connected — kept, will paste when one connects",
    }[status];
    const text = typeof message === "string" && message ? message : composed || `finished: ${status}`;
    return { state: status === "placed" ? "ok" : "warn", text: capitalise(text) };
  }

  /**
   * A progress line for a running job.
   * @param {string} verb e.g. "Cutting out"
   * @param {number} fraction 0–1
   * @returns {string}
   */
  function progressText(verb, fraction) {
    return `${verb}… ${Math.round(Math.max(0, Math.min(1, fraction)) * 100)} %`;
  }

  // ------------------------------------------------------------------ the page

  /**
   * Load a CommonJS module the engine serves: fetch its text and run it with its own
   * `module`, `exports` and `require`, so that its top-level names stay private.
   * @param {string} url e.g. /phone/protocol.js
   * @param {(name: string) => object} require what the module's require() returns
   * @returns {Promise<object>} its exports
   */
  async function loadModule(url, require) {
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    const source = await response.text();
    const module = { exports: {} };
    new Function("require", "module", "exports", `${source}\n//# sourceURL=${url}`)(require, module, module.exports);
    return module.exports;
  }

  /**
   * The protocol codec, the handshake's HMAC and the EngineClient module, client.js's
   * `require("./protocol")` and `require("./hmac")` wired up.
   * @returns {Promise<{protocol: object, hmac: object, client: object}>}
   */
  async function loadEngineModules() {
    const standalone = (file) => (name) => {
      throw new Error(`${file} requires ${name}`);
    };
    const protocol = await loadModule("/phone/protocol.js", standalone("protocol.js"));
    const hmac = await loadModule("/phone/hmac.js", standalone("hmac.js"));
    const client = await loadModule("/phone/client.js", (name) => {
      if (name === "./protocol" || name === "./protocol.js") return protocol;
      if (name === "./hmac" || name === "./hmac.js") return hmac;
      throw new Error(`client.js requires ${name}`);
    });
    return { protocol, hmac, client };
  }

  /**
   * The page's elements by id.
   * @param {Document} document
   * @returns {Object<string, HTMLElement>}
   */
  function findElements(document) {
    const ids = ["connection", "status", "cut-step", "photo-input", "take-label", "progress-box", "progress",
      "preview-box", "preview", "cut-actions", "paste-step", "screen-input", "screen-label", "paste-result", "cut-another", "to-paste"];
    const elements = {};
    for (const id of ids) {
      elements[id] = document.getElementById(id);
      if (elements[id] === null) throw new Error(`the page has no #${id}`);
    }
    return elements;
  }

  /**
   * The page's state and behaviour.
   */
  class PhonePage {
    /**
     * @param {Window} window
     * @param {{protocol: object, client: object}|null} modules null when they could not be loaded
     */
    constructor(window, modules) {
      this.window = window;
      this.el = findElements(window.document);
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

    // -------------------------------------------------------------- status lines

    /**
     * The connection line at the top.
     * @param {"connecting"|"paired"|"unpaired"|"error"} state
     * @param {string} text
     */
    showConnection(state, text) {
      this.connectionText = text;
      this.el.connection.dataset.state = state;
      renderText(this.el.connection, text);
    }

    /**
     * The status line under the steps (progress and failures).
     * @param {string} text empty to clear it
     * @param {"info"|"error"} [state="info"]
     */
    showStatus(text, state = "info") {
      this.statusText = text;
      this.el.status.dataset.state = state;
      renderText(this.el.status, text);
    }

    /** @returns {string} the line for an engine that cannot be reached */
    unreachableText() {
      return `Can't reach Softcut on ${this.host} — is \`softcut serve --lan\` running and the phone on the same network?`;
    }

    /**
     * The status line for a failed job.
     * @param {Error} error
     * @param {string} during e.g. "the cut"
     * @returns {string}
     */
    failureText(error, during) {
      const { EngineUnavailable, EngineError, JobCancelled } = this.modules.client;
      if (error instanceof BadImage) return `Bad image: ${error.message}. Take the photo again.`;
      if (error instanceof NotConnected) return error.message;
      if (error instanceof EngineUnavailable) {
        return /was lost/.test(error.message)
          ? `The connection to Softcut on ${this.host} was lost during ${during} — check that \`softcut serve --lan\` is still running, then try again.`
          : this.unreachableText();
      }
      if (error instanceof JobCancelled || (error instanceof EngineError && error.code === "cancelled")) {
        return `Softcut on ${this.host} dropped ${during} (is it shutting down?) — check that \`softcut serve --lan\` is running, then try again.`;
      }
      if (error instanceof EngineError) {
        if (error.code === "bad_image") return `Softcut could not read this photo: ${engineMessage(error)}`;
        if (error.code === "not_found" && during === "the paste") return `Softcut no longer has this cut-out (${engineMessage(error)}): cut it again.`;
        return `Softcut refused ${during}: ${engineMessage(error)}`;
      }
      return `Something went wrong during ${during}: ${error.message}`;
    }

    // -------------------------------------------------------------- connection

    /** Connect on load: with the fragment's one-time token, else with a saved token. */
    async start() {
      this.bindControls();
      if (this.modules === null) {
        this.showConnection("error", this.unreachableText());
        return;
      }
      const oneTime = fragmentToken(this.window.location.hash);
      if (oneTime !== null) {
        this.window.history.replaceState(null, "", this.window.location.pathname + this.window.location.search);
        await this.pair(oneTime);
      } else {
        await this.reconnect();
      }
      this.window.document.addEventListener("visibilitychange", () => {
        if (this.window.document.visibilityState === "visible" && !this.busy) this.reconnect();
      });
    }

    /** @returns {object} a new EngineClient for the engine that served the page */
    newClient() {
      const { host, port } = engineAddress(this.window.location);
      const client = new this.modules.client.EngineClient({
        host,
        port,
        WebSocket: this.window.WebSocket,
        client: CLIENT,
        onClose: () => {
          if (this.client === client) this.connectionLost();
        },
      });
      return client;
    }

    /**
     * Trade the one-time token for a phone-scoped credential of this phone's own (kept in localStorage).
     * @param {string} oneTime the fragment's token
     */
    async pair(oneTime) {
      this.showConnection("connecting", `Pairing with Softcut on ${this.host}…`);
      const client = this.newClient();
      try {
        const { credential } = await client.pair(oneTime);
        this.window.localStorage.setItem(TOKEN_KEY, credential);
        this.connected(client);
      } catch (error) {
        if (this.isUnauthorized(error)) {
          // An old link on a phone that is paired already: its saved token still does.
          if (this.window.localStorage.getItem(TOKEN_KEY) && (await this.reconnect())) return;
          this.showConnection("unpaired", "Not paired: this link was already used or has expired — scan the new QR code `softcut serve --lan` shows.");
        } else {
          this.connectionFailed(error);
        }
      }
    }

    /**
     * Connect with the saved token unless already connected (one attempt at a time).
     * @returns {Promise<boolean>} whether the page is connected now
     */
    reconnect() {
      if (this.client !== null && this.client.connected) return Promise.resolve(true);
      if (this.connecting === null) {
        this.connecting = this.connectWithSavedToken().finally(() => {
          this.connecting = null;
        });
      }
      return this.connecting;
    }

    /**
     * Connect with the saved token; the connection line says how it went.
     * @returns {Promise<boolean>} whether the page is connected now
     */
    async connectWithSavedToken() {
      const token = this.window.localStorage.getItem(TOKEN_KEY);
      if (!token) {
        this.showConnection("unpaired", "Not paired: scan the QR code `softcut serve --lan` shows.");
        return false;
      }
      this.showConnection("connecting", `Connecting to Softcut on ${this.host}…`);
      const client = this.newClient();
      try {
        await client.connect(token);
        this.connected(client);
        return true;
      } catch (error) {
        if (this.isUnauthorized(error)) {
          this.window.localStorage.removeItem(TOKEN_KEY);
          this.showConnection("unpaired", "Not paired: Softcut no longer knows this phone — scan the QR code `softcut serve --lan` shows.");
        } else {
          this.connectionFailed(error);
        }
        return false;
      }
    }

    /** @returns {boolean} whether the engine refused the token (or the one-time token) */
    isUnauthorized(error) {
      return error instanceof this.modules.client.EngineError && error.code === "unauthorized";
    }

    /** @param {object} client the EngineClient that completed its handshake */
    connected(client) {
      this.client = client;
      this.showConnection("paired", `Paired with Softcut on ${this.host}`);
      this.updateControls();
    }

    /** @param {Error} error why connecting failed */
    connectionFailed(error) {
      const { EngineImpostor, EngineUnavailable } = this.modules.client;
      const unavailable = error instanceof EngineUnavailable && !(error instanceof EngineImpostor);
      this.showConnection("error", unavailable ? this.unreachableText() : `Softcut on ${this.host} refused the connection: ${error.message}`);
      this.updateControls();
    }

    /** The engine closed an established connection. */
    connectionLost() {
      this.showConnection("error", `The connection to Softcut on ${this.host} was lost — it reconnects when you take the next photo.`);
      this.updateControls();
    }

    // -------------------------------------------------------------- controls

    /** Wire the inputs and buttons. */
    bindControls() {
      this.el["photo-input"].addEventListener("change", (event) => this.takeFile(event.target, (file) => this.cutPhoto(file)));
      this.el["screen-input"].addEventListener("change", (event) => this.takeFile(event.target, (file) => this.pastePhoto(file)));
      this.el["to-paste"].addEventListener("click", () => this.showStep("paste"));
      this.el["cut-another"].addEventListener("click", () => this.resetCut());
      this.updateControls();
    }

    /**
     * Hand an input's chosen file to `use`, then clear the input so that the same photo can be chosen again.
     * @param {HTMLInputElement} input
     * @param {(file: File) => Promise<void>} use
     */
    takeFile(input, use) {
      const file = input.files && input.files[0];
      input.value = "";
      if (file) use(file);
    }

    /** Enable what can be used now. */
    updateControls() {
      const idle = !this.busy && this.modules !== null;
      this.el["photo-input"].disabled = !idle;
      this.el["screen-input"].disabled = !idle || this.pasted;
      this.el["screen-label"].hidden = this.pasted;
      this.el["to-paste"].disabled = !idle || this.cut === null;
      this.el["cut-another"].disabled = !idle;
      for (const label of this.window.document.querySelectorAll("label.button")) {
        label.setAttribute("aria-disabled", String(!idle));
      }
    }

    /**
     * Show step 1 (cut) or step 2 (paste).
     * @param {"cut"|"paste"} step
     */
    showStep(step) {
      this.el["cut-step"].hidden = step !== "cut";
      this.el["paste-step"].hidden = step !== "paste";
      if (step === "paste") {
        this.el["paste-result"].textContent = "";
        this.el["paste-result"].dataset.state = "";
      }
      this.showStatus("");
      this.window.scrollTo(0, 0);
    }

    /** "Cut another": forget the cut and go back to step 1. */
    resetCut() {
      this.cut = null;
      this.pasted = false;
      this.setPreview(null);
      this.showStep("cut");
      this.updateControls();
    }

    /**
     * Show a preview PNG, or hide the preview (null).
     * @param {Uint8Array|null} png
     */
    setPreview(png) {
      if (this.previewUrl !== null) URL.revokeObjectURL(this.previewUrl);
      this.previewUrl = png === null ? null : URL.createObjectURL(new Blob([png], { type: "image/png" }));
      if (this.previewUrl === null) this.el.preview.removeAttribute("src");
      else this.el.preview.src = this.previewUrl;
      this.el["preview-box"].hidden = png === null;
      this.el["cut-actions"].hidden = png === null;
      this.el["take-label"].hidden = png !== null;
    }

    /**
     * Show a job's progress bar (fraction in 0–1), or hide it (null).
     * @param {number|null} fraction
     */
    setProgress(fraction) {
      this.el["progress-box"].hidden = fraction === null;
      if (fraction !== null) this.el.progress.value = fraction;
    }

    // -------------------------------------------------------------- jobs

    /**
     * Send a job with one image file and report its progress.
     * @param {{type: string, fields: object, bufferName: string, file: File, verb: string, during: string}} job
     * @returns {Promise<object|null>} the result message, or null when it failed (the status line says why)
     */
    async runJob({ type, fields, bufferName, file, verb, during }) {
      this.busy = true;
      this.updateControls();
      this.showStatus("Reading the photo…");
      this.setProgress(0);
      try {
        const data = new Uint8Array(await file.arrayBuffer());
        const { format, width, height } = imageInfo(data);
        if (!(await this.reconnect())) throw new NotConnected(this.connectionText);
        this.showStatus("Sending the photo to Softcut…");
        const job = this.client.request(type, fields, {
          buffers: [{ name: bufferName, format, width, height, data }],
          onAccepted: (position) => this.showStatus(position > 0 ? `Waiting for Softcut (${position} ahead)…` : progressText(verb, 0)),
          onProgress: (fraction) => {
            this.setProgress(fraction);
            this.showStatus(progressText(verb, fraction));
          },
        });
        const result = await job.promise;
        this.showStatus("");
        return result;
      } catch (error) {
        this.showStatus(this.failureText(error, during), "error");
        return null;
      } finally {
        this.busy = false;
        this.setProgress(null);
        this.updateControls();
      }
    }

    /**
     * Step 1: cut the photo's subject out; show the preview.
     * @param {File} file the photo
     */
    async cutPhoto(file) {
      const result = await this.runJob({ type: "phone_cut", fields: {}, bufferName: "image", file, verb: "Cutting out", during: "the cut" });
      if (result === null) return;
      this.cut = result.fields.cut;
      this.pasted = false;
      this.setPreview(result.buffers.preview.data);
      this.showStatus(`Cut out ${result.fields.width} × ${result.fields.height}. Paste it into your editor, or retake.`);
      this.updateControls();
    }

    /**
     * Step 2: paste the cut where the photo of the screen points; show the outcome.
     * @param {File} file the photo of the screen
     */
    async pastePhoto(file) {
      const resultLine = this.el["paste-result"];
      resultLine.textContent = "";
      resultLine.dataset.state = "";
      const result = await this.runJob({
        type: "phone_paste", fields: { cut: this.cut, name: LAYER_NAME }, bufferName: "photo", file, verb: "Pasting", during: "the paste",
      });
      if (result === null) {
        resultLine.dataset.state = "error";
        renderText(resultLine, this.statusText);
        this.showStatus("");
        return;
      }
      const outcome = pasteOutcome(result.fields);
      resultLine.dataset.state = outcome.state;
      resultLine.textContent = outcome.text;
      this.pasted = true;
      this.updateControls();
    }
  }

  /**
   * Show a text in an element, its `backquoted` parts as code (commands to type).
   * @param {HTMLElement} element
   * @param {string} text
   */
  function renderText(element, text) {
    const document = element.ownerDocument;
    element.replaceChildren(...text.split("`").map((part, i) => {
      if (i % 2 === 0) return document.createTextNode(part);
      const code = document.createElement("code");
      code.textContent = part;
      return code;
    }));
  }

  /**
   * The engine's own explanation of an EngineError (its message without the code prefix).
   * @param {{code: string, message: string}} error
   * @returns {string}
   */
  function engineMessage(error) {
    const prefix = `${error.code}: `;
    return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  }

  /**
   * Start the page once the document is parsed.
   * @param {Window} window
   */
  function boot(window) {
    const run = async () => {
      let modules = null;
      try {
        modules = await loadEngineModules();
      } catch (error) {
        console.warn(`Softcut's page scripts could not be loaded: ${error.message}`);
      }
      const page = new PhonePage(window, modules);
      window.softcutPhone = page;
      await page.start();
    };
    if (window.document.readyState === "loading") window.document.addEventListener("DOMContentLoaded", run);
    else run();
  }

  return {
    TOKEN_KEY,
    BadImage,
    sniffImageType,
    jpegSize,
    pngSize,
    imageInfo,
    fragmentToken,
    engineAddress,
    pasteOutcome,
    progressText,
    boot,
  };
});
