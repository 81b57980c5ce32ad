/**
 * The panel's answers during a phone paste (src/phone_paste.js) over the in-memory Photoshop
 * document: the snapshot the engine locates the phone photo on, and the cut-out placed as a
 * new layer, once per delivery.
 */
"use strict";

const { photoshop, uxp } = require("./mock/install");
const { test, beforeEach } = require("node:test");
const assert = require("node:assert/strict");

const phonePaste = require("../src/phone_paste");

const { app, constants, FULL } = photoshop;

beforeEach(() => {
  app.reset();
  uxp.dataFolder.entries.clear();
});

function request(type, fields, buffers = {}) {
  const wrapped = {};
  for (const [name, b] of Object.entries(buffers)) {
    wrapped[name] = { spec: { name, format: b.format, width: b.width, height: b.height, size: b.data.length }, data: b.data };
  }
  return { type, id: "e7", ref: null, fields, buffers: wrapped };
}

function cutout(width, height) {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([200, 40 + (i % 50), 30, i % 2 ? 255 : 128], 4 * i);
  return { format: "rgba8", width, height, data };
}

test("snapshot: the composite matted on white, 8-bit RGB, scaled to max_side; the document's full size", async () => {
  const doc = app.newDocument({ width: 400, height: 300, mode: constants.DocumentMode.GRAYSCALE, depth: 16 });
  const rect = { left: 0, top: 0, width: 200, height: 300 }; // left half: mid grey, opaque; right half: nothing
  const data = new Uint16Array(200 * 300 * 2);
  for (let i = 0; i < 200 * 300; i++) data.set([FULL[16] / 2, FULL[16]], 2 * i);
  doc.addLayer({ name: "Half", rect, data });

  const answer = await phonePaste.answerSnapshot(request("canvas_snapshot", { max_side: 100 }));
  assert.deepEqual(answer.fields, { document: { width: 400, height: 300 }, view: null });
  const [image] = answer.buffers;
  assert.deepEqual([image.name, image.format, image.width, image.height], ["image", "rgb8", 100, 75]);
  const at = (x, y) => Array.from(image.data.subarray((y * 100 + x) * 3, (y * 100 + x) * 3 + 3));
  assert.deepEqual(at(10, 30), [128, 128, 128]);
  assert.deepEqual(at(90, 30), [255, 255, 255], "transparent areas are matted on white");
});

test("snapshot without a document: an error the client answers with code not_found", async () => {
  await assert.rejects(phonePaste.answerSnapshot(request("canvas_snapshot", {})), (e) => e.code === "not_found" && /open a document/.test(e.message));
});

test("place_layer: a new top layer at (x, y), one history state, and the same delivery is not placed twice", async () => {
  const doc = app.newDocument({ width: 64, height: 48 });
  const base = doc.addLayer({ name: "Photo", rect: { left: 0, top: 0, width: 64, height: 48 }, data: new Uint8Array(64 * 48 * 4).fill(255) });
  doc.addLayer({ name: "Top", rect: { left: 0, top: 0, width: 4, height: 4 }, data: new Uint8Array(64).fill(9) });
  doc.pick(base); // the cut-out still goes to the top of the stack
  const cut = cutout(20, 10);
  const message = request("place_layer", { delivery: "d1", name: "Phone cut-out", x: 50, y: -3 }, { cutout: cut });
  const placedEvents = [];

  const answer = await phonePaste.answerPlaceLayer(message, (p) => placedEvents.push(p));
  assert.deepEqual(answer.fields, { delivery: "d1", ok: true, message: "placed at (50, -3)" });
  assert.equal(doc.layers.length, 3);
  const layer = doc.layers[0];
  assert.equal(layer.name, "Phone cut-out");
  assert.deepEqual(layer.rect, { left: 50, top: -3, width: 20, height: 10 }, "partly off the canvas is allowed");
  assert.deepEqual(Array.from(layer.data), Array.from(cut.data));
  assert.equal(doc.history.at(-1).name, "Softcut: Phone cut-out");
  assert.equal(doc.history.length, 2);
  assert.deepEqual(placedEvents, [{ name: "Phone cut-out", x: 50, y: -3 }]);

  const again = await phonePaste.answerPlaceLayer(message);
  assert.deepEqual(again.fields, { delivery: "d1", ok: true, message: "already placed" });
  assert.equal(doc.layers.length, 3, "a repeated delivery places nothing");

  doc.undo();
  assert.equal(doc.layers.length, 2);
});

test("place_layer without a position is centred; a greyscale 16-bit document gets grey + alpha", async () => {
  const doc = app.newDocument({ width: 40, height: 30, mode: constants.DocumentMode.GRAYSCALE, depth: 16 });
  const cut = cutout(10, 6);
  const answer = await phonePaste.answerPlaceLayer(request("place_layer", { delivery: "d2", name: "Mug", x: null, y: null }, { cutout: cut }));
  assert.equal(answer.fields.ok, true);
  const layer = doc.layers[0];
  assert.deepEqual(layer.rect, { left: 15, top: 12, width: 10, height: 6 });
  assert.ok(layer.data instanceof Uint16Array);
  for (let i = 0; i < 60; i++) {
    const [r, g, b, a] = cut.data.subarray(4 * i, 4 * i + 4);
    assert.equal(layer.data[2 * i], Math.round((Math.round((r + g + b) / 3) * FULL[16]) / 255));
    assert.equal(layer.data[2 * i + 1], Math.round((a * FULL[16]) / 255));
  }
});

test("place_layer failures answer ok: false with the reason and change nothing", async () => {
  const noDocument = await phonePaste.answerPlaceLayer(request("place_layer", { delivery: "d3", name: "X", x: 0, y: 0 }, { cutout: cutout(2, 2) }));
  assert.equal(noDocument.fields.ok, false);
  assert.match(noDocument.fields.message, /open a document first/);

  const doc = app.newDocument({ width: 8, height: 8 });
  const png = await phonePaste.answerPlaceLayer(request("place_layer", { delivery: "d4", name: "X", x: 0, y: 0 },
    { cutout: { format: "png", width: 2, height: 2, data: new Uint8Array(8) } }));
  assert.equal(png.fields.ok, false);
  assert.match(png.fields.message, /rgba8/);
  assert.equal(doc.layers.length, 0);
  assert.equal(doc.history.length, 1);
  // a failed delivery is not remembered: it may be placed when it comes again
  const retry = await phonePaste.answerPlaceLayer(request("place_layer", { delivery: "d3", name: "X", x: 0, y: 0 }, { cutout: cutout(2, 2) }));
  assert.equal(retry.fields.ok, true);
});
