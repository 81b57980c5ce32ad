"use strict";
/**
 * The phone page's cut & paste (issue 7): a photo goes to the engine as it is (JPEG or PNG,
 * its kind and size read by wire/js/image_size.js), as `phone_cut` (step 1: the preview comes
 * back) or `phone_paste` (step 2: the photo of the screen places the cut-out), with its
 * progress and the outcome or failure in words. The methods are PhonePage's (phone.js puts
 * them together).
 */
(function register(root, factory) {
  if (typeof module === "object" && module !== null && module.exports) module.exports = factory(require("./view.js"));
  else (root.softcutPhoneScripts = root.softcutPhoneScripts || {}).cutPaste = factory(root.softcutPhoneScripts.view);
})(globalThis, function cutPaste({ renderText }) {
  /** The layer name the pasted cut-out gets. */
  const LAYER_NAME = "Phone cut-out";

  /** The page has no working connection to the engine; the message says why (as the connection line does). */
  class NotConnected extends Error {
    /** @param {string} message */
    constructor(message) {
      super(message);
      this.name = "NotConnected";
    }
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

  /** PhonePage's methods that run the jobs. */
  const methods = {
    /**
     * The status line for a failed job.
     * @param {Error} error
     * @param {string} during e.g. "the cut"
     * @returns {string}
     */
    failureText(error, during) {
      const { EngineUnavailable, EngineError, JobCancelled } = this.modules.client;
      const { BadImage } = this.modules.images;
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
        if (error.code === "bad_image") return `Softcut could not read this photo: ${error.detail}`;
        if (error.code === "not_found" && during === "the paste") return `Softcut no longer has this cut-out (${error.detail}): cut it again.`;
        return `Softcut refused ${during}: ${error.detail}`;
      }
      return `Something went wrong during ${during}: ${error.message}`;
    },

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
        const { format, width, height } = this.modules.images.imageInfo(data);
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
    },

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
    },

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
    },
  };

  return { LAYER_NAME, NotConnected, pasteOutcome, progressText, methods };
});
