/**
 * The panel's controls: engine status and pairing, the four actions, Object Selection (Object,
 * Add to Subject, Subtract from Subject), Select Subject with Clean
 * Plate (the Clean plate list: another layer or a file), Soft Segment Layers, live edge
 * sliders, progress and Cancel. It holds no Photoshop or pixel code: buttons call `actions.js`,
 * the engine is reached through `client.js`, settings live in `settings.js`, the plate file
 * picker is `plate_file.js`.
 */
"use strict";

const actions = require("./actions");
const settingsStore = require("./settings");
const { EngineClient, EngineImpostor, EngineUnavailable, EngineError } = require("./client");
const { SEGMENTS } = require("./protocol");
const phonePaste = require("./phone_paste");
const plateFile = require("./plate_file");
const { modelChoices, pick } = require("./models");

const { START_COMMAND } = actions;
/** The Clean plate list's values besides layers ("layer:ID"): none, the picked file, and the item that opens the picker. */
const PLATE = Object.freeze({ none: "none", file: "file", pick: "pick-file" });
const BUTTONS = {
  "select-subject": { output: null, refineSelection: false },
  "refine-selection": { output: null, refineSelection: true },
  "remove-background": { output: "mask", refineSelection: false },
  "cut-out": { output: "layer", refineSelection: false },
};
/** Object Selection's buttons and the action each runs (`actions.selectObject`'s kind). */
const OBJECT_BUTTONS = Object.freeze({ "select-object": "object", "add-to-subject": "add", "subtract-from-subject": "subtract" });

class Panel {
  /**
   * @param {Document} page the panel's HTML document.
   * @param {{WebSocket?: Function}} [options] the WebSocket constructor (UXP's global by default).
   */
  constructor(page, { WebSocket = globalThis.WebSocket } = {}) {
    this.page = page;
    this.WebSocket = WebSocket;
    this.settings = { ...settingsStore.DEFAULTS };
    this.client = null;
    this.welcome = null;
    this.job = null;
    this.busy = false;
    this.last = null; // what the last action inserted, for live edge edits
    this.results = new Map(); // document id → the last result inserted there, which Add and Subtract correct
    this.pendingAdjust = false;
    this.plateFile = null; // the clean plate picked From file…: {name, buffer}
    this.plateChoices = new Map(); // document id → the Clean plate value the user picked there
    this.plateDocument = null; // the id of the document whose layers the Clean plate list shows
    this.plateList = null; // what the Clean plate list shows now (to rebuild it only when it changes)
    this.models = []; // the engine's model choice (models.js), the default first; empty until connected
    this.chosenModel = null; // the model the user picked, kept while the panel is open (null: the engine's default)
    this.el = (id) => page.getElementById(id);
  }

  /** Wire the controls, load the settings and connect when a token is known. */
  async start() {
    for (const [id, how] of Object.entries(BUTTONS)) {
      this.el(id).addEventListener("click", () => this.runAction(how));
    }
    for (const [id, kind] of Object.entries(OBJECT_BUTTONS)) this.el(id).addEventListener("click", () => this.objectAction(kind));
    this.el("soft-segments").addEventListener("click", () => this.softSegments());
    this.el("model").addEventListener("change", () => { this.chosenModel = this.el("model").value || null; });
    this.el("plate-subject").addEventListener("click", () => this.plateSubject());
    const plate = this.el("plate");
    plate.addEventListener("change", () => this.plateChanged());
    // The layers may have changed since the list was made: refresh it as it opens (a no-op when nothing changed).
    for (const event of ["focus", "mousedown"]) plate.addEventListener(event, () => this.refreshPlates());
    this.refreshPlates();
    actions.onLayersChanged(() => this.refreshPlates()).catch(() => {}); // without notifications, focus and each job refresh it
    const count = this.el("segment-count");
    count.setAttribute("max", String(SEGMENTS.max));
    count.addEventListener("change", () => { count.value = String(this.segmentCount()); });
    this.el("connect").addEventListener("click", () => this.connect());
    this.el("pair").addEventListener("click", () => this.pair());
    this.el("show-pairing").addEventListener("click", () => this.showPairing(!this.el("pairing").classList.contains("open")));
    this.el("cancel").addEventListener("click", () => this.cancel());
    this.el("phone-link").addEventListener("click", () => this.showPhoneLink());
    for (const slider of this.page.querySelectorAll(".edges input")) {
      slider.addEventListener("input", () => this.showSliderValue(slider));
      slider.addEventListener("change", () => this.adjust());
    }
    this.settings = await settingsStore.load();
    this.el("port").value = String(this.settings.port);
    if (this.settings.token) {
      await this.connect();
    } else {
      this.setStatus("Not paired", "bad");
      this.showPairing(true);
      this.say(`Pair with the engine: run \`${START_COMMAND}\` and enter the pairing code it prints.`);
    }
  }

  // ── engine ────────────────────────────────────────────────────────────────

  newClient() {
    if (this.client) this.client.close();
    const port = Number(this.el("port").value) || this.settings.port;
    this.settings.port = port;
    this.client = new EngineClient({
      host: this.settings.host, port, WebSocket: this.WebSocket,
      hello: { cutout_format: "rgba8" }, // the panel has no PNG decoder
      accepts: {
        canvas_snapshot: phonePaste.answerSnapshot,
        place_layer: (message) => phonePaste.answerPlaceLayer(message, (placed) => {
          this.say(`Phone cut-out "${placed.name}" pasted at (${placed.x}, ${placed.y}) as a new layer (one history step).`);
        }),
      },
      onClose: () => {
        this.welcome = null;
        this.setStatus(`Engine stopped: start \`${START_COMMAND}\`, then Connect`, "bad");
      },
    });
    return this.client;
  }

  /** Connect with the saved token; the status line says how it went. */
  async connect() {
    if (!this.settings.token) {
      this.showPairing(true);
      this.say(`Not paired yet: enter the pairing code that \`${START_COMMAND}\` prints.`, true);
      return false;
    }
    this.setStatus(`Connecting to ${this.settings.host}:${this.el("port").value}…`);
    try {
      this.connected(await this.newClient().connect(this.settings.token));
      await settingsStore.save(this.settings);
      return true;
    } catch (error) {
      this.connectFailed(error);
      return false;
    }
  }

  /** Pair with the code (or token) typed in, keep the token, and connect. */
  async pair() {
    const typed = settingsStore.parsePairingInput(this.el("pair-input").value);
    if (!typed) {
      this.say(`Enter the 6-digit pairing code that \`${START_COMMAND}\` prints, or the engine's token.`, true);
      return false;
    }
    this.setStatus("Pairing…");
    try {
      const client = this.newClient();
      if (typed.code) {
        const paired = await client.pair(typed.code);
        this.settings.token = paired.credential; // a scoped "<id>.<secret>", never the engine's master token
        this.connected(paired.welcome);
      } else {
        this.connected(await client.connect(typed.token));
        this.settings.token = typed.token;
      }
      await settingsStore.save(this.settings);
      this.el("pair-input").value = "";
      this.showPairing(false);
      this.say("Paired: the panel remembers the engine from now on.");
      return true;
    } catch (error) {
      this.connectFailed(error);
      return false;
    }
  }

  connected(welcome) {
    this.welcome = welcome;
    this.showModels(modelChoices(welcome.models));
    const model = this.models.find((m) => m.isDefault);
    this.setStatus(`Connected: ${model ? model.name : "?"} on ${welcome.device}`, "ok");
  }

  /** Fill the Model list: present models selectable (the default first), absent ones disabled with a hint. */
  showModels(choices) {
    this.models = choices;
    const select = this.el("model");
    const picked = pick(choices, this.chosenModel);
    select.textContent = "";
    if (!choices.length) choices = [{ name: "", label: "Engine default", enabled: true, hint: "" }];
    for (const choice of choices) {
      const option = this.page.createElement("option");
      option.value = choice.name;
      option.textContent = choice.label;
      option.title = choice.hint;
      option.disabled = !choice.enabled;
      option.selected = choice.name === (picked || "");
      select.appendChild(option);
    }
  }

  /** The model requests name: the user's pick while the engine offers it, else its default. */
  model() {
    return pick(this.models, this.chosenModel);
  }

  connectFailed(error) {
    this.welcome = null;
    if (error instanceof EngineError && error.code === "unauthorized") {
      this.setStatus("Pairing refused", "bad");
      this.showPairing(true);
      this.say(`The engine refused the ${error.message.includes("code") ? "code" : "token"}: enter the current pairing code that \`${START_COMMAND}\` prints.`, true);
    } else if (error instanceof EngineError && error.code === "busy") {
      this.setStatus("Pairing refused", "bad");
      this.showPairing(true);
      this.say(`The engine did not look at the code: ${error.message}.`, true);
    } else if (error instanceof EngineImpostor) {
      this.setStatus("Not the Softcut engine", "bad");
      this.showPairing(true);
      this.say(`${error.message}. Nothing secret was sent. If the engine was given a new token, enter the pairing code that \`${START_COMMAND}\` prints.`, true);
    } else if (error instanceof EngineUnavailable) {
      this.setStatus("Engine not running", "bad");
      this.say(`Start the engine with \`${START_COMMAND}\`, then press Connect.`, true);
    } else {
      this.setStatus("Not connected", "bad");
      this.say(`Could not connect: ${error.message}`, true);
    }
  }

  // ── actions ───────────────────────────────────────────────────────────────

  options(output) {
    const edges = {};
    for (const slider of this.page.querySelectorAll(".edges input[data-edge]")) edges[slider.getAttribute("data-edge")] = Number(slider.value);
    return {
      output: output || this.el("output").value,
      merged: this.el("source").value === "merged",
      quality: this.el("quality").value,
      edges,
      decontaminate: Number(this.el("edge-decontaminate").value) / 100,
      plate: this.chosenPlate(),
      model: this.model(),
    };
  }

  hooks(extra = {}) {
    return {
      ...extra,
      onJob: (job) => { this.job = job; this.el("cancel").disabled = false; },
      onProgress: (fraction, stage) => this.progress(fraction, stage),
    };
  }

  /**
   * Run one job of the panel: connect if need be, busy while it runs (progress, Cancel), and
   * say how it went. `work()` does it and resolves with the message for the user.
   * @param {() => Promise<string>} work
   * @returns {Promise<boolean>} true when the document got the result.
   */
  async perform(work) {
    if (this.busy) return false;
    if (!this.welcome && !(await this.connect())) return false;
    this.setBusy(true);
    try {
      this.say(await work());
      return true;
    } catch (error) {
      this.say(actions.describeFailure(error), true);
      return false;
    } finally {
      this.setBusy(false);
      this.refreshPlates(); // the job may have made a layer
    }
  }

  /** Run one of the panel's actions; resolves true when the document got the result. */
  async runAction({ output, refineSelection }) {
    return this.perform(async () => {
      const chosen = this.options(output);
      this.remember(await actions.run(this.client, chosen, this.hooks({ refineSelection })));
      return `Done: the result is in the document as a ${OUTPUT_NAMES[chosen.output]} (one history step). Move the Edges sliders to adjust it.`;
    });
  }

  /**
   * Select Subject with Clean Plate into the chosen Output, with the Edges and Quality of
   * Select Subject; resolves true when the document got the result. Without a plate it only
   * says so (no engine request).
   */
  async plateSubject() {
    if (this.busy) return false;
    if (!this.chosenPlate()) {
      this.say(`${actions.NO_PLATE[0].toUpperCase()}${actions.NO_PLATE.slice(1)}.`, true);
      return false;
    }
    return this.perform(async () => {
      const chosen = this.options();
      const made = await actions.plateMatte(this.client, chosen, this.hooks());
      this.remember(made);
      const how = actions.describeAlignment(made.alignment);
      return `Done: the result is in the document as a ${OUTPUT_NAMES[chosen.output]} (one history step)${how ? `; ${how}` : ""}. Move the Edges sliders to adjust it.`;
    });
  }

  /** Object Selection ("object", "add", "subtract") into the chosen Output, with Select Subject's Source, Quality, Model and Edges. */
  async objectAction(kind) {
    return this.perform(async () => {
      const chosen = { ...this.options(), results: this.results };
      this.remember(await actions.selectObject(this.client, kind, chosen, this.hooks()));
      return `Done: ${OBJECT_DONE[kind]}, in the document as a ${OUTPUT_NAMES[chosen.output]} (one history step). ${OBJECT_NEXT}`;
    });
  }

  /** Keep what an action inserted: for live edge edits, and as the document's result that Add and Subtract correct. */
  remember(made) {
    this.last = made;
    this.results.set(made.target.documentID, made);
  }

  // ── clean plate ───────────────────────────────────────────────────────────

  /** The plate the Clean plate list shows: {layerID}, {file}, or null (none). */
  chosenPlate() {
    const value = this.el("plate").value;
    if (value.startsWith("layer:")) return { layerID: Number(value.slice("layer:".length)) };
    if (value === PLATE.file && this.plateFile) return { file: this.plateFile };
    return null;
  }

  /**
   * Fill the Clean plate list from the active document: None, its other layers, the picked
   * file, From file…; keep the user's pick for this document while it is there, else show the
   * suggested layer (named "plate", else the one below the active layer).
   */
  refreshPlates() {
    let listed;
    try {
      listed = actions.plateLayers();
    } catch (error) {
      listed = { documentID: null, layers: [], suggested: null };
    }
    this.plateDocument = listed.documentID;
    const entries = [{ value: PLATE.none, label: "None" }];
    for (const layer of listed.layers) {
      entries.push({ value: `layer:${layer.id}`, label: layer.pixels ? layer.label : `${layer.label} (rasterize first)` });
    }
    if (this.plateFile) entries.push({ value: PLATE.file, label: `File: ${this.plateFile.name}` });
    entries.push({ value: PLATE.pick, label: "From file…" });
    const picked = this.plateChoices.get(listed.documentID);
    let value = listed.suggested === null ? PLATE.none : `layer:${listed.suggested}`;
    if (picked !== undefined && entries.some((e) => e.value === picked)) value = picked;
    this.showPlates(entries, value);
  }

  showPlates(entries, value) {
    const shown = JSON.stringify([entries, value]);
    const select = this.el("plate");
    if (shown === this.plateList && select.value === value) return;
    this.plateList = shown;
    while (select.firstChild) select.removeChild(select.firstChild);
    for (const entry of entries) {
      const option = this.page.createElement("option");
      option.value = entry.value;
      option.textContent = entry.label;
      if (entry.value === value) option.selected = true;
      select.appendChild(option);
    }
    select.value = value;
  }

  /** The user picked in the Clean plate list: remember it for this document; From file… opens the picker. */
  async plateChanged() {
    const value = this.el("plate").value;
    const documentID = this.plateDocument; // the list was filled for it (no document: null)
    if (value !== PLATE.pick) {
      this.plateChoices.set(documentID, value);
      return true;
    }
    let picked = null;
    try {
      picked = await plateFile.pickPlateFile();
    } catch (error) {
      this.say(error instanceof plateFile.NotAnImage
        ? `${error.message}: choose a PNG or JPEG of the scene without the subject.`
        : `Could not open the file: ${error && error.message ? error.message : error}`, true);
    }
    if (picked) {
      this.plateFile = picked;
      this.plateChoices.set(documentID, PLATE.file);
      this.say(`Clean plate: ${picked.name} (${picked.buffer.width} × ${picked.buffer.height}).`);
    }
    this.refreshPlates(); // it shows "From file…" now: show the file, or the earlier pick when cancelled
    return Boolean(picked);
  }

  /** The Layers count, a whole number from 2 to SEGMENTS.max. */
  segmentCount() {
    const typed = Math.round(Number(this.el("segment-count").value));
    return Number.isFinite(typed) ? Math.max(SEGMENTS.min, Math.min(SEGMENTS.max, typed)) : SEGMENTS.default;
  }

  /** Soft Segment Layers: the whole image as that many soft layers in a new group; resolves true when inserted. */
  async softSegments() {
    return this.perform(async () => {
      const made = await actions.softSegments(this.client, { count: this.segmentCount(), model: this.model() }, this.hooks());
      return `Done: ${made.count} soft layers in the new group "Soft segments" at the top (one history step); stacked, they give back the image.`;
    });
  }

  /** Re-apply the Edges sliders to the last result (latest values win while one runs). */
  async adjust() {
    if (!this.last) return false;
    if (this.busy) {
      this.pendingAdjust = true;
      return false;
    }
    this.setBusy(true);
    let ok = false;
    try {
      const chosen = this.options(this.last.target.output);
      await actions.adjust(this.client, this.last, chosen.edges, chosen.decontaminate, this.hooks());
      this.say("Edges adjusted (one history step).");
      ok = true;
    } catch (error) {
      this.say(actions.describeFailure(error), true);
    } finally {
      this.setBusy(false);
    }
    if (this.pendingAdjust) {
      this.pendingAdjust = false;
      return this.adjust();
    }
    return ok;
  }

  cancel() {
    if (this.job) this.job.cancel();
  }

  /** Ask the engine for the phone's pairing link and show it with its QR code. */
  async showPhoneLink() {
    if (!this.welcome && !(await this.connect())) return false;
    try {
      const reply = await this.client.request("phone_link").promise;
      this.el("phone-qr").src = phonePaste.pngDataUrl(reply.buffers.qr.data);
      this.el("phone-url").textContent = reply.fields.url;
      this.el("phone-box").classList.add("open");
      this.say("Scan the code with the phone, take a photo of an object, then aim the phone at this document: the cut-out lands where it points.");
      return true;
    } catch (error) {
      this.el("phone-box").classList.remove("open");
      if (error instanceof EngineError && error.code === "not_found") {
        this.say(`The engine is not on the local network: restart it with \`${START_COMMAND} --lan\` to paste from a phone.`, true);
      } else {
        this.say(actions.describeFailure(error, "nothing was changed"), true);
      }
      return false;
    }
  }

  // ── display ───────────────────────────────────────────────────────────────

  setBusy(busy) {
    this.busy = busy;
    for (const button of this.page.querySelectorAll("button.action")) button.disabled = busy;
    if (!busy) {
      this.job = null;
      this.el("cancel").disabled = true;
      this.progress(0, "");
    }
  }

  progress(fraction, stage) {
    this.el("progress-fill").style.width = `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
    this.el("stage").textContent = stage ? `${stage}… ${Math.round(fraction * 100)}%` : "";
  }

  setStatus(text, state = "") {
    this.el("engine-status").textContent = text;
    this.el("engine-dot").className = `dot ${state}`;
  }

  say(text, isError = false) {
    const message = this.el("message");
    message.textContent = text;
    message.className = isError ? "message error" : "message";
  }

  showPairing(open) {
    const box = this.el("pairing").classList; // add/remove: UXP's classList may lack toggle's second argument
    if (open) box.add("open");
    else box.remove("open");
  }

  showSliderValue(slider) {
    this.el(`${slider.id}-value`).textContent = slider.value;
  }
}

const OUTPUT_NAMES = Object.freeze({ selection: "selection", mask: "layer mask", layer: "new layer" });
const OBJECT_DONE = Object.freeze({ object: "the object", add: "the part added to the last result", subtract: "the part taken from the last result" });
const OBJECT_NEXT = "To correct it, select roughly a part it missed (or holds wrongly) and press Add to Subject (or Subtract from Subject).";

module.exports = { Panel };
