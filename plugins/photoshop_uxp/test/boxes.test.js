"use strict";
// A grey request buffer sent as the box where it is non-zero (wire/js/buffers.js croppedGrey, nonzeroBox)
// and given back whole by the decoder: against a brute-force box on random masks, and the cases that stay whole.
const { test } = require("node:test");
const assert = require("node:assert/strict");
const { croppedGrey, nonzeroBox } = require("../src/buffers");
const { Decoder, encode } = require("../src/codec");

function bruteBox(data, width, height) {
  let box = null;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x] === 0) continue;
      box = box ? [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x + 1), Math.max(box[3], y + 1)] : [x, y, x + 1, y + 1];
    }
  }
  return box;
}

test("nonzeroBox and croppedGrey agree with a brute-force box, and the decoder gives the mask back whole", () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let trial = 0; trial < 500; trial++) {
    const width = 1 + Math.floor(random() * 12), height = 1 + Math.floor(random() * 12);
    const data = new Uint8Array(width * height);
    const dots = Math.floor(random() * 4);
    for (let k = 0; k < dots; k++) data[Math.floor(random() * data.length)] = 1 + Math.floor(random() * 255);
    assert.deepEqual(nonzeroBox(data, width, height), bruteBox(data, width, height));
    const sent = croppedGrey({ name: "mask", format: "grey8", width, height, data });
    const [text, payload] = encode({ type: "result", id: "e1", ref: "p1", result: "r", buffers: [sent] });
    const decoder = new Decoder();
    decoder.feed(text);
    const got = decoder.feed(payload).buffers.mask;
    assert.deepEqual([got.spec.width, got.spec.height], [width, height]);
    assert.deepEqual(got.data, data);
  }
});

test("a mask non-zero out to its sides, a placed one and a colour buffer go as they are; an empty one as one pixel", () => {
  const full = { name: "mask", format: "grey8", width: 2, height: 2, data: Uint8Array.from([1, 0, 0, 1]) };
  assert.equal(croppedGrey(full), full);
  const placed = { ...full, within: [0, 0, 2, 2] };
  assert.equal(croppedGrey(placed), placed);
  const rgb = { name: "mask", format: "rgb8", width: 1, height: 1, data: new Uint8Array(3) };
  assert.equal(croppedGrey(rgb), rgb);
  const empty = croppedGrey({ name: "mask", format: "grey8", width: 3, height: 2, data: new Uint8Array(6) });
  assert.deepEqual(empty, { name: "mask", format: "grey8", width: 1, height: 1, data: new Uint8Array(1), within: [0, 0, 3, 2] });
});
