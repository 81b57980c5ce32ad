/**
 * The Photoshop stand-in's `imaging` API (see ../photoshop.js): image data, pixel, selection and
 * layer-mask reads and writes, and the one conversion the panel asks for (8-bit RGB matted on
 * white, scaled down).
 * Plain JavaScript with no Node modules, so the browser can load it too.
 */
"use strict";

const { constants, FULL, calls, fail, requireModal, typedFor, rectOf, meet, blit } = require("./base");
const { documentById, layerById } = require("./document");

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

  /** imaging.getLayerMask: a layer's user mask (one grey component, doc depth) over `sourceBounds`, clipped to the canvas. */
  async getLayerMask(options) {
    calls.push({ api: "getLayerMask", options });
    const doc = documentById(options.documentID);
    const layer = layerById(doc, options.layerID);
    if (options.kind !== undefined && options.kind !== "user") fail("getLayerMask: only user masks are modelled");
    if (options.targetSize) fail("getLayerMask: targetSize is not modelled");
    if (!layer.mask) fail("getLayerMask: the layer has no user mask");
    const canvas = { left: 0, top: 0, width: doc.width, height: doc.height };
    const part = meet(options.sourceBounds ? rectOf(options.sourceBounds) : canvas, canvas);
    const data = typedFor(doc.depth, part.width * part.height);
    blit(layer.mask.data, canvas, data, part, part, 1);
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

module.exports = { ImageData, imaging };
