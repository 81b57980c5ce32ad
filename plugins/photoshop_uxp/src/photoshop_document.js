/**
 * The only module that touches Photoshop: reads the source pixels, the selection, the marks
 * that are Object Selection's clicks (colour samplers, the "Softcut points" path), layer masks
 * and clean plate layers, lists the layers a plate can come from, writes
 * selections, layer masks, new layers and groups of soft segment layers.
 *
 * Reads happen before the engine is asked; every write happens inside `core.executeAsModal`
 * with the document's history suspended, so one action is one history state, and a failure
 * part-way rolls the document back to where it was.
 *
 * Images handed in and out are engine images (see `pixels.js`): Uint8Array, 0–255,
 * `rect = {left, top, width, height}` in document pixels.
 */
"use strict";

const { app, core, imaging, action, constants } = require("photoshop");
const pixels = require("./pixels");
const prompts = require("./object_prompts");

/** The action did nothing; the message is for the user. */
class Refused extends Error {}

const GREY_MASK = { components: 1, chunky: true, colorSpace: "Grayscale", colorProfile: "Gray Gamma 2.2" };

/** The active document, or Refused. */
function activeDocument() {
  const doc = app.activeDocument;
  if (!doc) throw new Refused("open a document first");
  return doc;
}

/** The document's bits per component: 8 or 16 (32-bit documents are refused). */
function depthOf(doc) {
  const bits = doc.bitsPerChannel;
  if (bits === constants.BitsPerChannelType.EIGHT) return 8;
  if (bits === constants.BitsPerChannelType.SIXTEEN) return 16;
  throw new Refused("32-bit documents are not supported: convert to 16 Bits/Channel (Image › Mode) first");
}

/** True for a greyscale document, false for RGB; other modes are refused. */
function isGrey(doc) {
  if (doc.mode === constants.DocumentMode.GRAYSCALE) return true;
  if (doc.mode === constants.DocumentMode.RGB) return false;
  throw new Refused(`${doc.mode} documents are not supported: convert to RGB Color or Grayscale (Image › Mode) first`);
}

function canvasOf(doc) {
  return { left: 0, top: 0, width: doc.width, height: doc.height };
}

function boundsOf(rect) {
  return { left: rect.left, top: rect.top, right: rect.left + rect.width, bottom: rect.top + rect.height };
}

/**
 * The pixels the engine works on: the picked layer's part on the canvas, or the whole
 * composite image (`merged`).
 * @param {boolean} merged use the document composite instead of the picked layer.
 * @param {number} [layerID] read this layer of the active document instead of the picked one.
 * @returns {Promise<{doc, layer, merged: boolean, rect, depth: number, grey: boolean,
 *   image: {format: string, width: number, height: number, data: Uint8Array}}>}
 *   `layer` is the picked layer (null when merged without exactly one picked layer).
 */
async function readSource(merged, layerID) {
  const doc = activeDocument();
  const depth = depthOf(doc);
  const grey = isGrey(doc);
  const picked = layerID === undefined ? doc.activeLayers : allLayers(doc).filter((l) => l.layer.id === layerID).map((l) => l.layer);
  let layer = picked.length === 1 ? picked[0] : null;
  if (!merged) {
    if (!layer) throw new Refused("select exactly one layer, or choose Source: Whole image");
    if (layer.kind !== constants.LayerKind.NORMAL) {
      throw new Refused(`"${layer.name}" is not a pixel layer; pick a pixel layer or choose Source: Whole image`);
    }
  } else if (layer && layer.kind !== constants.LayerKind.NORMAL) {
    layer = null;
  }
  const options = { documentID: doc.id, sourceBounds: boundsOf(canvasOf(doc)), componentSize: depth };
  if (!merged) options.layerID = layer.id;
  const { rect, image } = await readPixels(options, "the layer has no pixels on the canvas");
  return { doc, layer, merged, rect, depth, grey, image };
}

/**
 * `imaging.getPixels(options)` as an 8-bit engine image (see `pixels.engineImage`) and the
 * rectangle it covers; Refused with `emptyMessage` when that is empty.
 * @returns {Promise<{rect, image: {format: string, width: number, height: number, data: Uint8Array}}>}
 */
async function readPixels(options, emptyMessage) {
  const got = await imaging.getPixels(options);
  try {
    const rect = pixels.rectFromBounds(got.sourceBounds);
    if (rect.width <= 0 || rect.height <= 0) throw new Refused(emptyMessage);
    const data = await got.imageData.getData({ chunky: true });
    const image = pixels.engineImage(pixels.toEightBit(data), got.imageData.components);
    return { rect, image: { ...image, width: rect.width, height: rect.height } };
  } finally {
    got.imageData.dispose();
  }
}

/**
 * The selection over the source's rectangle, as a grey8 image of that size (0 = not selected).
 * @returns {Promise<Uint8Array>}
 */
async function readSelection(source) {
  const got = await imaging.getSelection({ documentID: source.doc.id, sourceBounds: boundsOf(source.rect) });
  if (!got || !got.imageData) return new Uint8Array(source.rect.width * source.rect.height);
  try {
    const data = pixels.toEightBit(await got.imageData.getData({ chunky: true }));
    return pixels.place(data, pixels.rectFromBounds(got.sourceBounds), source.rect);
  } finally {
    got.imageData.dispose();
  }
}

/**
 * Where the source's document marks clicks for Object Selection (see `object_prompts.js`): its
 * colour samplers' positions and, for the path named "Softcut points" (any case; none: []), the
 * anchors of each subpath; all in document pixels.
 * @param source what `readSource` returned.
 * @returns {{samplers: Array<{x: number, y: number}>, subpaths: Array<Array<{x: number, y: number}>>}}
 */
function readMarks(source) {
  const { doc } = source;
  const each = (collection, fn) => Array.from({ length: collection ? collection.length : 0 }, (_, i) => fn(collection[i]));
  const samplers = each(doc.colorSamplers, (sampler) => ({ x: sampler.position.x, y: sampler.position.y }));
  const path = each(doc.pathItems, (item) => item).find((item) => prompts.isPointsPath(item.name));
  const subpaths = path ? each(path.subPathItems, (sub) => each(sub.pathPoints, (point) => ({ x: point.anchor[0], y: point.anchor[1] }))) : [];
  return { samplers, subpaths };
}

/** Every layer of the document, the children of groups included, top first (the Layers panel's order, expanded). */
function allLayers(doc) {
  const out = [];
  const walk = (layers, path) => {
    for (const layer of layers) {
      out.push({ layer, path });
      if (layer.kind === constants.LayerKind.GROUP && layer.layers) walk(layer.layers, [...path, layer.name]);
    }
  };
  walk(doc.layers, []);
  return out;
}

/**
 * The layers that can serve as a clean plate: every layer of the active document but groups
 * and the one picked layer (the subject's), top first, and the suggested one: the top-most
 * pixel layer whose name contains "plate" (any case), else the pixel layer just below the
 * picked one, else none.
 * @returns {{documentID: (number|null), layers: Array<{id: number, name: string, label: string, pixels: boolean}>, suggested: (number|null)}}
 *   `label` names the groups a layer is in ("Group › Layer"); `pixels` is false for layers
 *   that must be rasterized first (smart objects, text…). No document: no layers.
 */
function plateLayers() {
  const doc = app.activeDocument;
  if (!doc) return { documentID: null, layers: [], suggested: null };
  const picked = doc.activeLayers;
  const activeID = picked.length === 1 ? picked[0].id : null;
  const all = allLayers(doc).filter(({ layer }) => layer.kind !== constants.LayerKind.GROUP);
  const layers = all.filter(({ layer }) => layer.id !== activeID).map(({ layer, path }) => ({
    id: layer.id, name: layer.name, label: [...path, layer.name].join(" › "), pixels: layer.kind === constants.LayerKind.NORMAL,
  }));
  const named = layers.find((l) => l.pixels && /plate/i.test(l.name));
  let suggested = named ? named.id : null;
  if (suggested === null && activeID !== null) {
    const at = all.findIndex(({ layer }) => layer.id === activeID);
    const below = all.slice(at + 1).find(({ layer }) => layer.kind === constants.LayerKind.NORMAL);
    if (below) suggested = below.layer.id;
  }
  return { documentID: doc.id, layers, suggested };
}

/** The Photoshop events after which the plate list may have changed (layers made, deleted, renamed, picked; documents). */
const LAYER_EVENTS = ["select", "make", "delete", "set", "move", "duplicate", "open", "close", "placeEvent", "rasterizeLayer", "historyStateChanged"];

/**
 * Call `callback` after Photoshop events that may change the document's layers (where the host
 * has `action.addNotificationListener`).
 * @param {function(string): void} callback gets the event's name.
 * @returns {Promise<boolean>} whether the listener was registered.
 */
async function onLayersChanged(callback) {
  if (typeof action.addNotificationListener !== "function") return false;
  await action.addNotificationListener(LAYER_EVENTS, (event) => callback(event));
  return true;
}

/**
 * A layer of the source's document as the `plate` buffer for plate_matte: its pixels at its
 * own bounds (the whole layer, also where it reaches past the canvas), 8-bit, rgba8 (grey8 in
 * a Grayscale document). Refused when the layer is gone, is the layer being cut out, is not a
 * pixel layer or is empty.
 * @param source what `readSource` returned.
 * @param {number} layerID
 * @returns {Promise<{name: "plate", format: string, width: number, height: number, data: Uint8Array}>}
 */
async function readPlateLayer(source, layerID) {
  const found = allLayers(source.doc).find(({ layer }) => layer.id === layerID);
  if (!found) throw new Refused("the clean plate layer is no longer in the document: choose the plate again");
  const { layer } = found;
  if (!source.merged && source.layer && source.layer.id === layer.id) {
    throw new Refused(`the clean plate "${layer.name}" is the layer being cut out: pick the subject's layer, or choose another layer (or a file) as the plate`);
  }
  if (layer.kind !== constants.LayerKind.NORMAL) {
    throw new Refused(`the clean plate "${layer.name}" is not a pixel layer: rasterize it (Layer › Rasterize) or choose From file…`);
  }
  const empty = `the clean plate "${layer.name}" is empty`;
  const bounds = pixels.rectFromBounds(layer.bounds);
  if (bounds.width <= 0 || bounds.height <= 0) throw new Refused(empty);
  const { image } = await readPixels({ documentID: source.doc.id, layerID: layer.id, sourceBounds: boundsOf(bounds), componentSize: source.depth }, empty);
  return { name: "plate", ...image };
}

async function hasUserMask(doc, layer) {
  const [reply] = await action.batchPlay([{
    _obj: "get",
    _target: [{ _property: "hasUserMask" }, { _ref: "layer", _id: layer.id }, { _ref: "document", _id: doc.id }],
  }], {});
  return Boolean(reply && reply.hasUserMask);
}

/** Refused unless `source.layer` can take a new layer mask (checked before the engine runs). */
async function checkCanTakeMask(source) {
  if (!source.layer) throw new Refused("select the one layer the mask belongs to");
  if (await hasUserMask(source.doc, source.layer)) {
    throw new Refused(`"${source.layer.name}" already has a layer mask: apply or delete it first`);
  }
}

/** Select `layer` and give it a mask that hides everything (so only the matte shows). */
async function addHidingMask(doc, layer) {
  await action.batchPlay([
    { _obj: "select", _target: [{ _ref: "layer", _id: layer.id }, { _ref: "document", _id: doc.id }], makeVisible: false },
    {
      _obj: "make",
      new: { _class: "channel" },
      at: { _ref: "channel", _enum: "channel", _value: "mask" },
      using: { _enum: "userMaskEnabled", _value: "hideAll" },
    },
  ], {});
}

/**
 * The Background layer as a normal layer (a Background cannot have a mask), as Photoshop's
 * Layer › New › Layer from Background records it (named "Layer 0", as Photoshop names it);
 * returns the layer. `layer` is the picked, so active, layer of the active document.
 */
async function unlockBackground(doc, layer) {
  if (!layer.isBackgroundLayer) return layer;
  await action.batchPlay([{
    _obj: "set",
    _target: [{ _ref: "layer", _property: "background" }],
    to: { _obj: "layer", opacity: { _unit: "percentUnit", _value: 100 }, mode: { _enum: "blendMode", _value: "normal" } },
  }], {});
  return doc.activeLayers[0];
}

async function imageData(data, width, height, options, depth) {
  return imaging.createImageDataFromBuffer(pixels.fromEightBit(data, depth), { width, height, ...options });
}

async function putGrey(put, target, grey, rect, depth, extra) {
  const data = await imageData(grey, rect.width, rect.height, GREY_MASK, depth);
  try {
    await put({ documentID: target.documentID, imageData: data, targetBounds: { left: rect.left, top: rect.top }, ...extra });
  } finally {
    data.dispose();
  }
}

/**
 * Replace a layer's pixels with engine colours (see `pixels.layerPixels`) covering `rect`.
 * @param {{documentID: number, layerID: number}} target
 * @param {Uint8Array} colours rgba8 or rgb8 (`channels` 4 or 3).
 */
async function putLayerPixels(target, colours, channels, rect, depth, grey) {
  const layer = pixels.layerPixels(colours, grey, channels);
  const data = await imageData(layer.data, rect.width, rect.height,
    { components: layer.components, chunky: true, colorSpace: grey ? "Grayscale" : "RGB" }, depth);
  try {
    await imaging.putPixels({
      documentID: target.documentID, layerID: target.layerID, imageData: data, replace: true,
      targetBounds: { left: rect.left, top: rect.top },
    });
  } finally {
    data.dispose();
  }
}

/**
 * Write `buffers` into an existing target (a selection, a layer's mask, a cut-out layer).
 * Must run inside a modal scope.
 */
async function writeInto(target, buffers) {
  const { rect, depth } = target;
  if (target.output === "selection") {
    await putGrey(imaging.putSelection, target, buffers.alpha, rect, depth, { replace: true });
    return;
  }
  if (target.output === "layer" && buffers.foreground) {
    await putLayerPixels(target, buffers.foreground, 3, rect, depth, target.grey);
  }
  await putGrey(imaging.putLayerMask, target, buffers.alpha, rect, depth, { layerID: target.layerID, kind: "user", replace: false });
}

/**
 * Run `body(context)` in a modal scope with the document's history suspended: one history
 * state named `name`, rolled back when `body` throws.
 */
async function asOneStep(doc, name, body) {
  return core.executeAsModal(async (context) => {
    const suspension = await context.hostControl.suspendHistory({ documentID: doc.id, name });
    let result;
    try {
      result = await body(context);
    } catch (error) {
      await context.hostControl.resumeHistory(suspension, false);
      throw error;
    }
    await context.hostControl.resumeHistory(suspension, true);
    return result;
  }, { commandName: name });
}

/**
 * Insert an engine result as one history state.
 * @param source what `readSource` returned.
 * @param {"selection"|"mask"|"layer"} output
 * @param {{alpha: Uint8Array, foreground?: Uint8Array}} buffers grey8 alpha (and rgb8
 *   decontaminated colours for "layer"), both of `source.rect`'s size.
 * @param {string} name the history state's name.
 * @returns {Promise<object>} the target, for later edits with `rewrite`.
 */
async function insert(source, output, buffers, name) {
  const { doc, rect, depth, grey } = source;
  const target = { documentID: doc.id, output, rect, depth, grey, layerID: null };
  await asOneStep(doc, name, async () => {
    if (output === "mask") {
      const layer = await unlockBackground(doc, source.layer);
      target.layerID = layer.id;
      await addHidingMask(doc, layer);
    } else if (output === "layer") {
      const baseName = source.layer && !source.merged ? source.layer.name : doc.title;
      const layer = await newMaskedLayer(doc, `${baseName} (cut-out)`, source.layer);
      target.layerID = layer.id;
    }
    await writeInto(target, buffers);
  });
  return target;
}

/**
 * A new pixel layer named `name` directly above `below` (where Photoshop puts it when null),
 * with a mask that hides everything, ready for `writeInto` as an output "layer" target.
 * Must run inside a modal scope.
 */
async function newMaskedLayer(doc, name, below) {
  const layer = await doc.createPixelLayer({ name });
  if (below && below !== layer) await layer.move(below, constants.ElementPlacement.PLACEBEFORE);
  await addHidingMask(doc, layer);
  return layer;
}

/** The name of the group that soft segment layers go into. */
const SEGMENT_GROUP = "Soft segments";

/**
 * Insert soft segments as one history state: a new group "Soft segments" at the top of the
 * document holding one pixel layer a segment ("Segment 1"… from the bottom up), each with its
 * colours and its mask, so that the group stacked with normal blending gives back the image.
 * @param source what `readSource(true)` returned (the composite: `rect` is the canvas).
 * @param {Array<{foreground: Uint8Array, alpha: Uint8Array}>} segments bottom first: rgb8
 *   decontaminated colours and the grey8 mask, both of `source.rect`'s size.
 * @param {string} name the history state's name.
 * @returns {Promise<{documentID: number, groupID: number, layerIDs: number[]}>} layerIDs bottom first.
 */
async function insertSegments(source, segments, name) {
  const { doc, rect, depth, grey } = source;
  const made = { documentID: doc.id, groupID: null, layerIDs: [] };
  await asOneStep(doc, name, async () => {
    const layers = [];
    let below = doc.layers.length ? doc.layers[0] : null; // each segment goes on top of the one before
    for (let k = 0; k < segments.length; k++) {
      const layer = await newMaskedLayer(doc, `Segment ${k + 1}`, below);
      await writeInto({ documentID: doc.id, output: "layer", rect, depth, grey, layerID: layer.id }, segments[k]);
      layers.push(layer);
      below = layer;
    }
    const group = await doc.createLayerGroup({ name: SEGMENT_GROUP, fromLayers: layers });
    made.groupID = group.id;
    made.layerIDs = layers.map((layer) => layer.id);
  });
  return made;
}

/** The open document with id `documentID`, or null. */
function documentWithId(documentID) {
  for (let i = 0; i < app.documents.length; i++) if (app.documents[i].id === documentID) return app.documents[i];
  return null;
}

/** The layer a mask or layer target wrote (null when the document or the layer is gone). */
function targetLayer(target) {
  const doc = documentWithId(target.documentID);
  const found = doc && target.layerID !== null ? allLayers(doc).find(({ layer }) => layer.id === target.layerID) : null;
  return found ? { doc, layer: found.layer } : null;
}

/**
 * Whether `rewrite` can write into `target` again: a selection while its document is open; a
 * mask or a cut-out layer while the layer is there with its mask.
 * @returns {Promise<boolean>}
 */
async function canRewrite(target) {
  if (target.output === "selection") return documentWithId(target.documentID) !== null;
  const found = targetLayer(target);
  return found !== null && hasUserMask(found.doc, found.layer);
}

/**
 * The mask a mask or layer target holds now (the user may have painted on it), over `target.rect`.
 * @returns {Promise<Uint8Array|null>} grey8 of `target.rect`'s size, 0–255; null for a selection
 *   target (the selection may hold something else by now) or when the layer or its mask is gone.
 */
async function readMask(target) {
  if (target.output === "selection" || !(await canRewrite(target))) return null;
  const got = await imaging.getLayerMask({ documentID: target.documentID, layerID: target.layerID, kind: "user", sourceBounds: boundsOf(target.rect) });
  try {
    const data = pixels.toEightBit(await got.imageData.getData({ chunky: true }));
    return pixels.place(data, pixels.rectFromBounds(got.sourceBounds), target.rect);
  } finally {
    got.imageData.dispose();
  }
}

/** Replace what `insert` put in `target` with new `buffers` (live edge edits), as one history state. */
async function rewrite(target, buffers, name) {
  const doc = documentWithId(target.documentID);
  if (!doc) throw new Refused("the document of the last result was closed");
  await asOneStep(doc, name, () => writeInto(target, buffers));
}

/**
 * The active document's composite as displayed, for locating a phone photo on it.
 * @param {number} maxSide longest side of the returned image.
 * @returns {Promise<{document: {width: number, height: number}, image: {width: number, height: number, data: Uint8Array}}>}
 *   image: rgb8 (transparency matted on white, converted to RGB by Photoshop), scaled to fit maxSide.
 */
async function snapshot(maxSide) {
  const doc = activeDocument();
  const size = pixels.fitWithin(doc.width, doc.height, maxSide);
  const got = await imaging.getPixels({
    documentID: doc.id, targetSize: size, componentSize: 8, colorSpace: "RGB", applyAlpha: true,
  });
  try {
    const data = await got.imageData.getData({ chunky: true });
    if (got.imageData.components !== 3) throw new Error(`expected RGB snapshot pixels; got ${got.imageData.components} components`);
    return { document: { width: doc.width, height: doc.height }, image: { width: got.imageData.width, height: got.imageData.height, data } };
  } finally {
    got.imageData.dispose();
  }
}

/**
 * A new layer at the top of the active document holding an engine cut-out, as one history state.
 * @param {{name: string, x: number|null, y: number|null, width: number, height: number, rgba: Uint8Array}} cut
 *   rgba8 pixels (straight alpha) with their top-left at (x, y) in document pixels; x and y null: centred.
 * @returns {Promise<{x: number, y: number, layerID: number}>} where it went.
 */
async function placeLayer(cut) {
  const doc = activeDocument();
  const depth = depthOf(doc);
  const grey = isGrey(doc);
  const x = cut.x === null || cut.x === undefined ? Math.round((doc.width - cut.width) / 2) : cut.x;
  const y = cut.y === null || cut.y === undefined ? Math.round((doc.height - cut.height) / 2) : cut.y;
  let layerID = null;
  await asOneStep(doc, `Softcut: ${cut.name}`, async () => {
    const layers = doc.layers;
    const top = layers.length ? layers[0] : null;
    const layer = await doc.createPixelLayer({ name: cut.name });
    if (top && top !== layer) await layer.move(top, constants.ElementPlacement.PLACEBEFORE);
    layerID = layer.id;
    const rect = { left: x, top: y, width: cut.width, height: cut.height };
    await putLayerPixels({ documentID: doc.id, layerID }, cut.rgba, 4, rect, depth, grey);
  });
  return { x, y, layerID };
}

module.exports = {
  Refused, SEGMENT_GROUP, readSource, readSelection, readMarks, plateLayers, onLayersChanged, readPlateLayer, checkCanTakeMask,
  insert, insertSegments, canRewrite, readMask, rewrite, snapshot, placeLayer,
};
