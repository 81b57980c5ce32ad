/**
 * The Photoshop stand-in's documents (see ../photoshop.js): `app`, `Document` and `Layer` with
 * pixel layers, user masks, layer groups, the selection, the composite, and the history
 * (states, suspensions, undo and redo), plus the look-ups by id that `imaging`, `action` and
 * `core` share.
 * Plain JavaScript with no Node modules, so the browser can load it too.
 */
"use strict";

const { constants, DEPTHS, FULL, calls, modal, fail, requireModal, typedFor, meet } = require("./base");

let nextId = 1;

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
    this.colorSamplers = []; // ColorSampler-like {position: {x, y}} in document pixels (addColorSampler)
    this.pathItems = []; // PathItem-like {name, subPathItems: [{closed, pathPoints: [{anchor: [x, y]}]}]} (addPath)
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

  /**
   * Test set-up (not Photoshop API): make `selection` (canvas-size, the doc's depth; null: none) the
   * selection as a selection tool does, one history state named `name`.
   */
  setSelection(selection, name = "Rectangular Marquee") {
    this.selection = selection;
    this.history.push({ name, state: this._snapshot() });
  }

  /** Test set-up (not Photoshop API): a colour sampler at (x, y) in document pixels, as the Color Sampler tool puts one. */
  addColorSampler(x, y) {
    this.colorSamplers.push({ position: { x, y }, docId: this.id, typename: "ColorSampler" });
  }

  /**
   * Test set-up (not Photoshop API): a path named `name` drawn with the Pen tool, one open
   * subpath of corner points a list of [x, y] anchors (document pixels).
   */
  addPath(name, subpaths) {
    const point = ([x, y]) => ({ anchor: [x, y], leftDirection: [x, y], rightDirection: [x, y], typename: "PathPoint" });
    this.pathItems.push({ name, docId: this.id, typename: "PathItem",
      subPathItems: subpaths.map((anchors) => ({ closed: false, pathPoints: anchors.map(point), typename: "SubPathItem" })) });
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
    modal.depth = 0;
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

module.exports = { Layer, Document, app, documentById, layerById };
