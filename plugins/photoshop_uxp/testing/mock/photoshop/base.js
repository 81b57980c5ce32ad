/**
 * The Photoshop stand-in's shared parts (see ../photoshop.js): the `constants` the panel reads,
 * the record of calls, the modal-scope depth, and the pixel-rectangle helpers the document
 * model and `imaging` share.
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
/** How deep in `core.executeAsModal` scopes the calls are (0: outside any). */
const modal = { depth: 0 };

function fail(message) {
  throw new Error(`Photoshop (mock): ${message}`);
}

function requireModal(what) {
  if (modal.depth === 0) fail(`${what} changes the document and must run inside core.executeAsModal`);
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

module.exports = { constants, DEPTHS, FULL, calls, modal, fail, requireModal, typedFor, rectOf, meet, blit };
