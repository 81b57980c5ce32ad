"use strict";
/**
 * The phone page's screen (issue 7): its elements, the connection and status lines, the two
 * steps (cut, paste), the preview and the progress bar, and which controls can be used now.
 * These are PhonePage's methods (phone.js puts them together); they touch the DOM only.
 */
(function register(root, factory) {
  if (typeof module === "object" && module !== null && module.exports) module.exports = factory();
  else (root.softcutPhoneScripts = root.softcutPhoneScripts || {}).view = factory();
})(globalThis, function view() {
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

  /** PhonePage's methods that show things. */
  const methods = {
    /**
     * The connection line at the top.
     * @param {"connecting"|"paired"|"unpaired"|"error"} state
     * @param {string} text
     */
    showConnection(state, text) {
      this.connectionText = text;
      this.el.connection.dataset.state = state;
      renderText(this.el.connection, text);
    },

    /**
     * The status line under the steps (progress and failures).
     * @param {string} text empty to clear it
     * @param {"info"|"error"} [state="info"]
     */
    showStatus(text, state = "info") {
      this.statusText = text;
      this.el.status.dataset.state = state;
      renderText(this.el.status, text);
    },

    // -------------------------------------------------------------- controls

    /** Wire the inputs and buttons. */
    bindControls() {
      this.el["photo-input"].addEventListener("change", (event) => this.takeFile(event.target, (file) => this.cutPhoto(file)));
      this.el["screen-input"].addEventListener("change", (event) => this.takeFile(event.target, (file) => this.pastePhoto(file)));
      this.el["to-paste"].addEventListener("click", () => this.showStep("paste"));
      this.el["cut-another"].addEventListener("click", () => this.resetCut());
      this.updateControls();
    },

    /**
     * Hand an input's chosen file to `use`, then clear the input so that the same photo can be chosen again.
     * @param {HTMLInputElement} input
     * @param {(file: File) => Promise<void>} use
     */
    takeFile(input, use) {
      const file = input.files && input.files[0];
      input.value = "";
      if (file) use(file);
    },

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
    },

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
    },

    /** "Cut another": forget the cut and go back to step 1. */
    resetCut() {
      this.cut = null;
      this.pasted = false;
      this.setPreview(null);
      this.showStep("cut");
      this.updateControls();
    },

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
    },

    /**
     * Show a job's progress bar (fraction in 0–1), or hide it (null).
     * @param {number|null} fraction
     */
    setProgress(fraction) {
      this.el["progress-box"].hidden = fraction === null;
      if (fraction !== null) this.el.progress.value = fraction;
    },
  };

  return { findElements, renderText, methods };
});
