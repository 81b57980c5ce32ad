/**
 * The panel's answers during a phone paste (src/phone_paste.js) over the in-memory Photoshop
 * document: the snapshot the engine locates the phone photo on, and the cut-out placed as a
 * new layer, once per delivery.
 */
"use strict";

const { photoshop, uxp } = require("../testing/mock/install");
const { test, beforeEach, after } = require("node:test");
const assert = require("node:assert/strict");

const phonePaste = require("../src/phone_paste");
const { EngineClient } = require("../src/client");
const { startEngine } = require("../testing/engine");
const { paint } = require("../testing/paint");

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
  doc.addLayer({ name: "Half", rect, data: paint(doc, rect, () => [128, 128, 128, 255]) });

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

/** A document with features to locate: blocks and discs of many colours on a gradient, 8-bit RGBA. */
function texturedDocument(width, height) {
  const data = new Uint8Array(width * height * 4);
  let seed = 11;
  const random = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([(x * 255) / width, 120, (y * 255) / height, 255], (y * width + x) * 4);
  }
  for (let k = 0; k < 160; k++) {
    const cx = random() * width, cy = random() * height, r = 4 + random() * 22;
    const colour = [random() * 255, random() * 255, random() * 255];
    const square = random() < 0.5;
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(height, cy + r); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(width, cx + r); x++) {
        if (square || Math.hypot(x - cx, y - cy) < r) data.set([...colour, 255], (y * width + x) * 4);
      }
    }
  }
  return data;
}

/** A "phone photo" of the screen: the part of the document around (cx, cy), enlarged 1.5×, as rgb8. */
function photoOf(doc, width, cx, cy, side) {
  const out = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const sx = Math.round(cx + (x - side / 2) / 1.5), sy = Math.round(cy + (y - side / 2) / 1.5);
      const at = (Math.max(0, sy) * width + Math.max(0, sx)) * 4;
      out.set(doc.subarray(at, at + 3), (y * side + x) * 3);
    }
  }
  return out;
}

test("a phone paste through a real engine lands in the panel's document where the photo points", async () => {
  const engine = await startEngine();
  const panel = new EngineClient({
    port: engine.port, WebSocket, hello: { cutout_format: "rgba8" },
    client: { name: "softcut-photoshop", version: "0.1.0" },
    accepts: { canvas_snapshot: phonePaste.answerSnapshot, place_layer: (m) => phonePaste.answerPlaceLayer(m) },
  });
  const phone = new EngineClient({ port: engine.port, WebSocket, client: { name: "softcut-phone", version: "0.1.0" } });
  try {
    const width = 480, height = 360;
    const pixels = texturedDocument(width, height);
    const doc = app.newDocument({ width, height, title: "Poster" });
    doc.addLayer({ name: "Poster", rect: { left: 0, top: 0, width, height }, data: pixels });
    await panel.connect(engine.token);
    await phone.connect(engine.token);

    const object = new Uint8Array(64 * 48 * 4);
    for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) {
      object.set(Math.hypot(x - 32, y - 24) < 16 ? [230, 30, 30, 255] : [30, 30, 220, 255], (y * 64 + x) * 4);
    }
    const cut = await phone.request("phone_cut", {}, { buffers: [{ name: "image", format: "rgba8", width: 64, height: 48, data: object }] }).promise;
    const photo = photoOf(pixels, width, 300, 140, 400);
    const pasted = await phone.request("phone_paste", { cut: cut.fields.cut, name: "Mug" },
      { buffers: [{ name: "photo", format: "rgb8", width: 400, height: 400, data: photo }] }).promise;

    assert.equal(pasted.fields.status, "placed", pasted.fields.message);
    assert.equal(doc.layers.length, 2);
    const layer = doc.layers[0];
    assert.equal(layer.name, "Mug");
    const { width: w, height: h } = layer.rect; // the disc (32 px across) cropped out of the 64 x 48 photo
    assert.ok(w >= 32 && w < 64 && h >= 32 && h < 48, JSON.stringify(layer.rect));
    const centre = [layer.rect.left + w / 2, layer.rect.top + h / 2];
    assert.ok(Math.hypot(centre[0] - 300, centre[1] - 140) <= 6, `centre at ${centre}, expected near (300, 140)`);
    assert.deepEqual([pasted.fields.x, pasted.fields.y], [layer.rect.left, layer.rect.top]);
    assert.equal(doc.history.at(-1).name, "Softcut: Mug");
    const middle = (Math.floor(h / 2) * w + Math.floor(w / 2)) * 4;
    assert.ok(layer.data[middle] > 150 && layer.data[middle + 3] > 200, "the red disc, opaque, in the middle");
    assert.ok(layer.data[3] < 80, "the blue corner cut away");
  } finally {
    panel.close();
    phone.close();
    await engine.stop();
  }
});
