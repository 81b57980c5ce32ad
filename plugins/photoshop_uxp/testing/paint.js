/**
 * Test helper: paint the in-memory Photoshop documents of testing/mock/photoshop.js, and say
 * what the panel should send the engine for painted pixels.
 * Plain JavaScript with no Node modules, so the browser can load it too (render.test.js).
 */
"use strict";

const { FULL } = require("./mock/photoshop");

/** Red disc (the test model's subject) on blue, with a soft edge, as 8-bit RGBA values. */
function disc(x, y, cx, cy, r) {
  const d = Math.hypot(x - cx, y - cy);
  const t = Math.max(0, Math.min(1, (r - d) / 3 + 0.5)); // soft edge
  return [Math.round(40 + 190 * t), 30, Math.round(200 - 170 * t), 255];
}

/**
 * A painter for `paint`: the rgba8 image `bytes` (`width` pixels a row) with its top-left at
 * (left, top) in document coordinates.
 */
function rgbaImage(bytes, width, left = 0, top = 0) {
  return (x, y) => {
    const at = ((y - top) * width + (x - left)) * 4;
    return [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
  };
}

/**
 * Layer data at the document's depth and mode from an 8-bit RGBA painter `fn(x, y)` (document
 * coordinates); a greyscale document gets the mean of R, G, B.
 * @returns {Uint8Array|Uint16Array} `rect.width × rect.height` pixels, colour + alpha.
 */
function paint(doc, rect, fn) {
  const n = doc.channels, full = FULL[doc.depth];
  const data = doc.depth === 16 ? new Uint16Array(rect.width * rect.height * n) : new Uint8Array(rect.width * rect.height * n);
  for (let y = 0; y < rect.height; y++) {
    for (let x = 0; x < rect.width; x++) {
      const [r, g, b, a] = fn(x + rect.left, y + rect.top);
      const values = n === 2 ? [Math.round((r + g + b) / 3), a] : [r, g, b, a];
      values.forEach((v, c) => { data[(y * rect.width + x) * n + c] = Math.round((v * full) / 255); });
    }
  }
  return data;
}

/**
 * What the engine should receive for `part` of layer data `data` (at the document's depth,
 * covering `rect`): 8-bit values, each converted on its own; rgba8, or grey8 (alpha dropped)
 * for a greyscale document.
 * @returns {{name: string, format: "rgba8"|"grey8", width: number, height: number, data: Uint8Array}}
 */
function engineImage(doc, data, rect, part = rect, name = "image") {
  const n = doc.channels, full = FULL[doc.depth];
  const channels = n === 2 ? 1 : 4;
  const out = new Uint8Array(part.width * part.height * channels);
  for (let y = 0; y < part.height; y++) {
    for (let x = 0; x < part.width; x++) {
      const at = ((y + part.top - rect.top) * rect.width + x + part.left - rect.left) * n;
      for (let c = 0; c < channels; c++) out[(y * part.width + x) * channels + c] = Math.round((data[at + c] * 255) / full);
    }
  }
  return { name, format: channels === 1 ? "grey8" : "rgba8", width: part.width, height: part.height, data: out };
}

module.exports = { disc, rgbaImage, paint, engineImage };
