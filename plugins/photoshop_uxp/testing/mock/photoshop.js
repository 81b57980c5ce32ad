/**
 * An in-memory stand-in for Photoshop's `photoshop` module, for running the shipped panel
 * modules outside Photoshop (Node tests, the headless-Chromium render).
 *
 * It models what the panel uses, with Photoshop's documented rules: documents of RGB or
 * Grayscale mode at 8 or 16 bits (16-bit components 0–32768), pixel layers with bounds and an
 * optional user mask, layer groups (`Document.createLayerGroup`; `doc.layers` is the top level,
 * a group's `layers` its children, top first; a layer's `parent` is its group or null), the selection, `imaging` reads and writes, `core.executeAsModal` (writes
 * outside a modal scope throw, as in Photoshop), history suspension (one state per
 * suspension, rolled back on `resumeHistory(id, false)` or an exception), and the few
 * `batchPlay` descriptors the panel sends; any other descriptor throws, so nothing the model
 * does not know can pass silently; notification listeners (`action.addNotificationListener`)
 * are kept and called by the test helper `action.notify(event)`. Every imaging and batchPlay
 * call is recorded in `calls`.
 * Plain JavaScript with no Node modules, so the browser can load it too.
 */
"use strict";

const constants = {
  DocumentMode: { RGB: "RGBColorMode", GRAYSCALE: "grayscaleMode", CMYK: "CMYKColorMode", LAB: "labColorMode" },
  BitsPerChannelType: { EIGHT: "bitDepth8", SIXTEEN: "bitDepth16", THIRTYTWO: "bitDepth32" },
  LayerKind: { NORMAL: "pixel", GROUP: "group", TEXT: "text", SMARTOBJECT: "smartObject" },
  BlendMode: { NORMAL: "normal", PASSTHROUGH: "passThrough" },
  ElementPlacement: { PLACEBEFORE: "placeBefore", PLACEAFTER: "placeAfter" },
};

const DEPTHS = { 8: constants.BitsPerChannelType.EIGHT, 16: constants.BitsPerChannelType.SIXTEEN, 32: constants.BitsPerChannelType.THIRTYTWO };
const FULL = { 8: 255, 16: 32768 };

const calls = [];
let modalDepth = 0;
let nextId = 1;

function fail(message) {
  throw new Error(`Photoshop (mock): ${message}`);
}

function requireModal(what) {
  if (modalDepth === 0) fail(`${what} changes the document and must run inside core.executeAsModal`);
}

function typedFor(depth, length) {
  return depth === 16 ? new Uint16Array(length) : new Uint8Array(length);
}

function rectOf(b) {
  const width = b.width !== undefined ? b.width : b.right - b.left;
  const height = b.height !== undefined ? b.height : b.bottom - b.top;
  return { left: b.left, top: b.top, width, height };
}

function meet(a, b) {
  const left = Math.max(a.left, b.left), top = Math.max(a.top, b.top);
  const right = Math.min(a.left + a.width, b.left + b.width), bottom = Math.min(a.top + a.height, b.top + b.height);
  return { left, top, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
}

/** Copy the part `part` of `src` (covering `srcRect`, `n` values a pixel) into `dst` (covering `dstRect`). */
function blit(src, srcRect, dst, dstRect, part, n) {
  for (let y = 0; y < part.height; y++) {
    const from = ((part.top - srcRect.top + y) * srcRect.width + part.left - srcRect.left) * n;
    const to = ((part.top - dstRect.top + y) * dstRect.width + part.left - dstRect.left) * n;
    dst.set(src.subarray(from, from + part.width * n), to);
  }
}

class ImageData {
  constructor(data, { width, height, components, colorSpace, colorProfile = "" }) {
    this.width = width;
    this.height = height;
    this.components = components;
    this.colorSpace = colorSpace;
    this.colorProfile = colorProfile;
    this.componentSize = data instanceof Uint16Array ? 16 : data instanceof Float32Array ? 32 : 8;
    this.hasAlpha = components === 2 || components === 4;
    this.isChunky = true;
    this._data = data;
    this.disposed = false;
  }

  async getData(options = {}) {
    if (this.disposed) fail("getData after dispose");
    if (options.chunky === false) fail("planar data is not modelled");
    return this._data.slice();
  }

  dispose() {
    this.disposed = true;
  }
}

class Layer {
  constructor(doc, { name, kind = constants.LayerKind.NORMAL, rect = null, data = null, isBackgroundLayer = false }) {
    this.id = nextId++;
    this._doc = doc;
    this.name = name;
    this.kind = kind;
    this.isBackgroundLayer = isBackgroundLayer;
    this.rect = rect || { left: 0, top: 0, width: 0, height: 0 };
    this.data = data || typedFor(doc.depth, 0);
    this.mask = null; // {data: canvas-size typed array of the doc's depth}
    this.parent = null; // the group this layer is in, null at the top level
    this.layers = kind === constants.LayerKind.GROUP ? [] : null; // a group's children, top first
    this.blendMode = kind === constants.LayerKind.GROUP ? constants.BlendMode.PASSTHROUGH : constants.BlendMode.NORMAL;
  }

  get bounds() {
    const r = this.rect;
    return { left: r.left, top: r.top, right: r.left + r.width, bottom: r.top + r.height };
  }

  /** The list this layer is in: its group's children, or the document's top level. */
  get _siblings() {
    return this.parent ? this.parent.layers : this._doc.layers;
  }

  async move(relative, placement) {
    requireModal("Layer.move");
    if (placement !== constants.ElementPlacement.PLACEBEFORE && placement !== constants.ElementPlacement.PLACEAFTER) {
      fail(`move: placement ${placement} is not modelled`);
    }
    if (!relative || relative._doc !== this._doc || !this._doc._all().includes(relative)) fail("move: the relative layer is not in this document");
    for (let up = relative; up; up = up.parent) if (up === this) fail("move: a group cannot go inside itself");
    this._siblings.splice(this._siblings.indexOf(this), 1);
    const layers = relative._siblings;
    const at = layers.indexOf(relative);
    layers.splice(placement === constants.ElementPlacement.PLACEBEFORE ? at : at + 1, 0, this);
    this.parent = relative.parent;
    this._doc._changed();
  }
}

class Document {
  constructor({ width, height, mode = constants.DocumentMode.RGB, depth = 8, title = "Untitled-1" }) {
    this.id = nextId++;
    this.title = title;
    this.width = width;
    this.height = height;
    this.mode = mode;
    this.depth = depth;
    this.bitsPerChannel = DEPTHS[depth];
    this.layers = []; // top first
    this.selection = null; // canvas-size typed array of the doc's depth, or null
    this._active = [];
    this.history = [{ name: "Open", state: null }];
    this._suspensions = [];
    this.history[0].state = this._snapshot();
  }

  get channels() {
    return this.mode === constants.DocumentMode.GRAYSCALE ? 2 : 4; // colour + alpha
  }

  get activeLayers() {
    const all = this._all();
    return this._active.map((id) => all.find((l) => l.id === id)).filter(Boolean);
  }

  /** Every layer, groups' children included, top first (not Photoshop API). */
  _all() {
    const out = [];
    const walk = (layers) => {
      for (const layer of layers) {
        out.push(layer);
        if (layer.layers) walk(layer.layers);
      }
    };
    walk(this.layers);
    return out;
  }

  /** Test set-up (not Photoshop API): add a pixel layer, `data` of the doc's depth with alpha. */
  addLayer(options) {
    const layer = new Layer(this, options);
    if (layer.data.length !== layer.rect.width * layer.rect.height * this.channels) fail("addLayer: data size");
    this.layers.unshift(layer);
    this._active = [layer.id];
    this.history[this.history.length - 1].state = this._snapshot();
    return layer;
  }

  /** Test set-up: pick layers as the Layers panel would. */
  pick(...layers) {
    this._active = layers.map((l) => l.id);
  }

  async createPixelLayer(options = {}) {
    requireModal("createPixelLayer");
    const layer = new Layer(this, { name: options.name || "Layer" });
    const above = this.activeLayers[0]; // the new layer goes directly above it, in the same list
    const siblings = above ? above._siblings : this.layers;
    siblings.splice(above ? siblings.indexOf(above) : 0, 0, layer);
    layer.parent = above ? above.parent : null;
    this._active = [layer.id];
    this._changed();
    return layer;
  }

  /**
   * Document.createLayerGroup (GroupLayerCreateOptions): a new group, holding `fromLayers` (in
   * their stacking order) in the place of the top-most of them, else above the active layer;
   * the group becomes the active layer. Its blend mode is Pass Through, as in Photoshop.
   */
  async createLayerGroup(options = {}) {
    requireModal("createLayerGroup");
    const known = ["name", "fromLayers", "opacity", "blendMode", "color", "group", "mode"];
    for (const key of Object.keys(options)) if (!known.includes(key)) fail(`createLayerGroup: unknown option ${key}`);
    for (const key of ["opacity", "blendMode", "color", "group", "mode"]) {
      if (options[key] !== undefined) fail(`createLayerGroup: option ${key} is not modelled`);
    }
    const members = options.fromLayers === undefined ? [] : [].concat(options.fromLayers);
    const all = this._all();
    for (const m of members) if (!all.includes(m)) fail("createLayerGroup: fromLayers holds a layer of no such document");
    if (new Set(members).size !== members.length) fail("createLayerGroup: a layer is given twice");
    if (members.some((m) => m._siblings !== members[0]._siblings)) fail("createLayerGroup: layers from different groups are not modelled");
    if (members.some((m) => m.isBackgroundLayer)) fail("createLayerGroup: the Background layer cannot go into a group");
    const group = new Layer(this, { name: options.name || `Group ${all.filter((l) => l.layers).length + 1}`, kind: constants.LayerKind.GROUP });
    const anchor = members.length ? members[0] : this.activeLayers[0];
    const siblings = anchor ? anchor._siblings : this.layers;
    const ordered = members.slice().sort((a, b) => siblings.indexOf(a) - siblings.indexOf(b));
    const at = anchor ? siblings.indexOf(members.length ? ordered[0] : anchor) : 0;
    for (const m of ordered) siblings.splice(siblings.indexOf(m), 1);
    siblings.splice(at, 0, group);
    group.parent = anchor ? anchor.parent : null;
    group.layers = ordered;
    for (const m of ordered) m.parent = group;
    this._active = [group.id];
    this._changed();
    return group;
  }

  _snapshot() {
    const save = (l) => ({ layer: l, name: l.name, rect: { ...l.rect }, data: l.data.slice(),
      mask: l.mask && { data: l.mask.data.slice() }, isBackgroundLayer: l.isBackgroundLayer,
      children: l.layers && l.layers.map(save) });
    return {
      layers: this.layers.map(save),
      selection: this.selection && this.selection.slice(),
      active: this._active.slice(),
    };
  }

  _restore(state) {
    const load = (s, parent) => {
      Object.assign(s.layer, { name: s.name, rect: { ...s.rect }, data: s.data.slice(),
        mask: s.mask && { data: s.mask.data.slice() }, isBackgroundLayer: s.isBackgroundLayer, parent });
      if (s.children) s.layer.layers = s.children.map((c) => load(c, s.layer));
      return s.layer;
    };
    this.layers = state.layers.map((s) => load(s, null));
    this.selection = state.selection && state.selection.slice();
    this._active = state.active.slice();
  }

  _changed(name = "Softcut (mock step)") {
    if (this._suspensions.length) {
      this._suspensions[this._suspensions.length - 1].dirty = true;
      return;
    }
    this.history.push({ name, state: this._snapshot() });
  }

  /** Test helper: Edit › Undo (step back one history state). */
  undo() {
    if (this.history.length < 2) fail("nothing to undo");
    this._redo = this._redo || [];
    this._redo.push(this.history.pop());
    this._restore(this.history[this.history.length - 1].state);
  }

  /** Test helper: Edit › Redo. */
  redo() {
    const step = this._redo && this._redo.pop();
    if (!step) fail("nothing to redo");
    this.history.push(step);
    this._restore(step.state);
  }

  /**
   * Test helper: the composite (alpha-over of the layers bottom to top, masks applied; a group's
   * children composite in place, as Pass Through does for normal layers), doc depth with alpha.
   */
  composite() {
    const n = this.channels, full = FULL[this.depth];
    const out = new Float64Array(this.width * this.height * n);
    const all = this._all();
    for (const group of all.filter((l) => l.layers)) {
      if (group.blendMode !== constants.BlendMode.PASSTHROUGH || group.mask) fail("composite: only Pass Through groups without a mask are modelled");
    }
    for (const layer of all.filter((l) => !l.layers).reverse()) {
      const part = meet(layer.rect, { left: 0, top: 0, width: this.width, height: this.height });
      for (let y = part.top; y < part.top + part.height; y++) {
        for (let x = part.left; x < part.left + part.width; x++) {
          const src = ((y - layer.rect.top) * layer.rect.width + x - layer.rect.left) * n;
          const dst = (y * this.width + x) * n;
          let a = layer.data[src + n - 1] / full;
          if (layer.mask) a *= layer.mask.data[y * this.width + x] / full;
          const under = out[dst + n - 1];
          const outA = a + under * (1 - a);
          for (let c = 0; c < n - 1; c++) {
            out[dst + c] = outA > 0 ? (layer.data[src + c] * a + out[dst + c] * under * (1 - a)) / outA : 0;
          }
          out[dst + n - 1] = outA;
        }
      }
    }
    const result = typedFor(this.depth, out.length);
    for (let i = 0; i < out.length; i++) result[i] = Math.round((i % n === n - 1) ? out[i] * full : out[i]);
    return result;
  }
}

const app = {
  documents: [],
  activeDocument: null,
  /** Test set-up (not Photoshop API): open a new empty document and make it active. */
  newDocument(options) {
    const doc = new Document(options);
    this.documents.push(doc);
    this.activeDocument = doc;
    return doc;
  },
  /** Test set-up: close every document and forget recorded calls. */
  reset() {
    this.documents.length = 0;
    this.activeDocument = null;
    calls.length = 0;
    modalDepth = 0;
  },
};

function documentById(id) {
  const doc = id === undefined || id < 0 ? app.activeDocument : app.documents.find((d) => d.id === id);
  if (!doc) fail(`no document with id ${id}`);
  return doc;
}

function layerById(doc, id) {
  const layer = doc._all().find((l) => l.id === id);
  if (!layer) fail(`no layer with id ${id}`);
  return layer;
}

function checkImageData(doc, imageData, components, what) {
  if (!(imageData instanceof ImageData) || imageData.disposed) fail(`${what}: imageData is not live image data`);
  if (imageData.componentSize !== doc.depth) fail(`${what}: ${imageData.componentSize}-bit data into a ${doc.depth}-bit document (conversion not modelled)`);
  if (imageData.components !== components) fail(`${what}: expected ${components} components; got ${imageData.components}`);
}

/** The rectangle `options.imageData` covers when put at `options.targetBounds` (default the origin). */
function targetRect(options) {
  const at = options.targetBounds || { left: 0, top: 0 };
  return { left: at.left, top: at.top, width: options.imageData.width, height: options.imageData.height };
}

/** Put one-component image data into `plane` (canvas-size), clipped to the canvas; one document change. */
function putOnCanvas(doc, options, plane) {
  const canvas = { left: 0, top: 0, width: doc.width, height: doc.height };
  const rect = targetRect(options);
  blit(options.imageData._data, rect, plane, canvas, meet(rect, canvas), 1);
  doc._changed(options.commandName);
}

function colourSpaceOf(doc) {
  return doc.mode === constants.DocumentMode.GRAYSCALE ? "Grayscale" : "RGB";
}

/**
 * What getPixels returns when asked for 8-bit RGB, matted on white (applyAlpha) and scaled to
 * targetSize (an area average, standing in for Photoshop's pyramid levels).
 */
function converted(doc, data, part, options) {
  if (options.componentSize !== 8 || options.colorSpace !== "RGB" || !options.applyAlpha) {
    fail("getPixels: only 8-bit RGB with applyAlpha is modelled as a conversion");
  }
  const n = doc.channels, full = FULL[doc.depth];
  const target = options.targetSize || { width: part.width, height: part.height };
  const out = new Uint8Array(target.width * target.height * 3);
  const sx = part.width / target.width, sy = part.height / target.height;
  for (let ty = 0; ty < target.height; ty++) {
    for (let tx = 0; tx < target.width; tx++) {
      const sum = [0, 0, 0];
      let count = 0;
      for (let y = Math.floor(ty * sy); y < Math.max(Math.floor((ty + 1) * sy), Math.floor(ty * sy) + 1); y++) {
        for (let x = Math.floor(tx * sx); x < Math.max(Math.floor((tx + 1) * sx), Math.floor(tx * sx) + 1); x++) {
          const at = (y * part.width + x) * n;
          const a = data[at + n - 1] / full;
          for (let c = 0; c < 3; c++) sum[c] += (data[at + (n === 2 ? 0 : c)] / full) * a + (1 - a);
          count++;
        }
      }
      for (let c = 0; c < 3; c++) out[(ty * target.width + tx) * 3 + c] = Math.round((sum[c] / count) * 255);
    }
  }
  return new ImageData(out, { width: target.width, height: target.height, components: 3, colorSpace: "RGB" });
}

const imaging = {
  async getPixels(options) {
    calls.push({ api: "getPixels", options });
    const doc = documentById(options.documentID);
    const converting = options.targetSize || options.applyAlpha || (options.colorSpace && options.colorSpace !== colourSpaceOf(doc))
      || (options.componentSize !== undefined && options.componentSize !== -1 && options.componentSize !== doc.depth);
    const canvas = { left: 0, top: 0, width: doc.width, height: doc.height };
    const wanted = options.sourceBounds ? rectOf(options.sourceBounds) : canvas;
    const n = doc.channels;
    let source, sourceRect;
    if (options.layerID !== undefined) {
      if (converting) fail("getPixels: conversions are modelled for the composite only");
      const layer = layerById(doc, options.layerID);
      if (layer.kind !== constants.LayerKind.NORMAL) fail("getPixels: not a pixel layer");
      source = layer.data;
      sourceRect = layer.rect;
    } else {
      source = doc.composite();
      sourceRect = canvas;
    }
    const part = meet(wanted, sourceRect);
    const data = typedFor(doc.depth, part.width * part.height * n);
    blit(source, sourceRect, data, part, part, n);
    const sourceBounds = { left: part.left, top: part.top, right: part.left + part.width, bottom: part.top + part.height };
    if (converting) return { imageData: converted(doc, data, part, options), sourceBounds, level: 0 };
    return {
      imageData: new ImageData(data, { width: part.width, height: part.height, components: n, colorSpace: colourSpaceOf(doc) }),
      sourceBounds,
      level: 0,
    };
  },

  async getSelection(options) {
    calls.push({ api: "getSelection", options });
    const doc = documentById(options.documentID);
    const canvas = { left: 0, top: 0, width: doc.width, height: doc.height };
    const part = meet(options.sourceBounds ? rectOf(options.sourceBounds) : canvas, canvas);
    const data = typedFor(doc.depth, part.width * part.height);
    if (doc.selection) blit(doc.selection, canvas, data, part, part, 1);
    return {
      imageData: new ImageData(data, { width: part.width, height: part.height, components: 1, colorSpace: "Grayscale" }),
      sourceBounds: { left: part.left, top: part.top, right: part.left + part.width, bottom: part.top + part.height },
    };
  },

  async putSelection(options) {
    calls.push({ api: "putSelection", options });
    requireModal("putSelection");
    const doc = documentById(options.documentID);
    checkImageData(doc, options.imageData, 1, "putSelection");
    if (options.replace !== false || !doc.selection) doc.selection = typedFor(doc.depth, doc.width * doc.height);
    putOnCanvas(doc, options, doc.selection);
  },

  async putLayerMask(options) {
    calls.push({ api: "putLayerMask", options });
    requireModal("putLayerMask");
    const doc = documentById(options.documentID);
    const layer = layerById(doc, options.layerID);
    if (layer.isBackgroundLayer) fail("putLayerMask: a Background layer cannot have a mask");
    checkImageData(doc, options.imageData, 1, "putLayerMask");
    if (options.replace !== false || !layer.mask) {
      layer.mask = { data: typedFor(doc.depth, doc.width * doc.height).fill(FULL[doc.depth]) };
    }
    putOnCanvas(doc, options, layer.mask.data);
  },

  async putPixels(options) {
    calls.push({ api: "putPixels", options });
    requireModal("putPixels");
    const doc = documentById(options.documentID);
    const layer = layerById(doc, options.layerID);
    if (layer.kind !== constants.LayerKind.NORMAL) fail("putPixels: not a pixel layer");
    checkImageData(doc, options.imageData, doc.channels, "putPixels");
    if (options.replace === false) fail("putPixels: replace=false is not modelled");
    layer.rect = targetRect(options);
    layer.data = options.imageData._data.slice();
    doc._changed(options.commandName);
  },

  async createImageDataFromBuffer(data, options) {
    calls.push({ api: "createImageDataFromBuffer", options });
    const { width, height, components, colorSpace } = options;
    if (!(data instanceof Uint8Array || data instanceof Uint16Array || data instanceof Float32Array)) {
      fail("createImageDataFromBuffer: expected a Uint8Array, Uint16Array or Float32Array");
    }
    if (!colorSpace) fail("createImageDataFromBuffer: colorSpace is required");
    if (options.chunky === false) fail("createImageDataFromBuffer: planar data is not modelled");
    if (data.length !== width * height * components) {
      fail(`createImageDataFromBuffer: ${data.length} values for ${width}×${height}×${components}`);
    }
    return new ImageData(data.slice(), options);
  },
};

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
    modalDepth++;
    try {
      return await fn(context, options.descriptor);
    } catch (error) {
      for (const s of opened.filter((x) => !x.closed).reverse()) await context.hostControl.resumeHistory(opened.indexOf(s), false);
      throw error;
    } finally {
      for (const s of opened.filter((x) => !x.closed)) await context.hostControl.resumeHistory(opened.indexOf(s), true);
      modalDepth--;
    }
  },
};

module.exports = { app, core, imaging, action, constants, calls, FULL };
