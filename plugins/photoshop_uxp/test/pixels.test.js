"use strict";
// src/pixels.js alone: engine colours to layer pixels.

const { test } = require("node:test");
const assert = require("node:assert/strict");

const { layerPixels, splitRgba } = require("../src/pixels");

test("layerPixels: rgb8 colours become opaque RGBA, or grey + alpha for a greyscale document", () => {
  const rgb = Uint8Array.from([10, 20, 30, 200, 100, 0]);
  assert.deepEqual(layerPixels(rgb, false, 3), { data: Uint8Array.from([10, 20, 30, 255, 200, 100, 0, 255]), components: 4 });
  assert.deepEqual(layerPixels(rgb, true, 3), { data: Uint8Array.from([20, 255, 100, 255]), components: 2 });
  assert.throws(() => layerPixels(new Uint8Array(4), false, 3), /rgb8: length 4 is not a multiple of 3/);
});

test("layerPixels: an rgba8 cut-out keeps its alpha; for an RGB document it goes as it is", () => {
  const rgba = Uint8Array.from([10, 20, 30, 40, 200, 100, 1, 0]);
  const colour = layerPixels(rgba, false);
  assert.equal(colour.data, rgba, "no copy");
  assert.equal(colour.components, 4);
  assert.deepEqual(layerPixels(rgba, true), { data: Uint8Array.from([20, 40, 100, 0]), components: 2 });
  assert.throws(() => layerPixels(rgba, false, 2), /channels: expected 3 or 4/);
});

test("splitRgba: a soft segment's rgba8 becomes its colours (rgb8) and its mask (grey8)", () => {
  const rgba = Uint8Array.from([10, 20, 30, 40, 200, 100, 1, 0]);
  assert.deepEqual(splitRgba(rgba), { foreground: Uint8Array.from([10, 20, 30, 200, 100, 1]), alpha: Uint8Array.from([40, 0]) });
  assert.throws(() => splitRgba(new Uint8Array(6)), /not a multiple of 4/);
});
