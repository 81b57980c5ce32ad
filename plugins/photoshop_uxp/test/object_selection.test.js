/**
 * Object Selection in the shipped panel modules (actions → objects.js → photoshop_document) against a
 * real engine, with Photoshop replaced by the in-memory document model of testing/mock/photoshop.js.
 *
 * Each test builds a document (a red disc A and a smaller red disc B on blue: the test model's
 * subjects), marks it as a user would (a selection, colour samplers, a "Softcut points" path), runs
 * Object, Add to Subject or Subtract from Subject as the panel does, and checks the requests sent
 * (the image's key first, its pixels only when asked; previous by id, else as pixels), what landed
 * in the selection, mask or layer (one history state), and that it equals within 1/255 what the
 * Python plug-ins' flow (wire.editor.flows.select_object) gets from the same engine for the same prompts.
 */
"use strict";

const { photoshop } = require("../testing/mock/install");
const { test, beforeEach } = require("node:test");
const assert = require("node:assert/strict");

const actions = require("../src/actions");
const { bufferKey } = require("../src/protocol");
const { sharedEngine, goneEngineClient } = require("../testing/engine");
const { pythonSelectObject } = require("../testing/python_objects");
const { disc, paint, engineImage } = require("../testing/paint");

const { app, calls, FULL } = photoshop;
const BASE = { output: "selection", merged: false, quality: "best", edges: {}, decontaminate: 1 };
const LOST = "0123456789abcdef0123456789abcdef"; // a result id this engine never made, as after a restart

const shared = sharedEngine();

beforeEach(() => app.reset());

/** Two red discs on blue, as 8-bit RGBA: A at (22, 28) r 11, B at (58, 28) r 8 (document pixels). */
function twoDiscs(x, y) {
  const a = disc(x, y, 22, 28, 11);
  return a[0] > 60 ? a : disc(x, y, 58, 28, 8);
}

/**
 * An 8-bit RGB document with one layer "Photo" of two discs at `rect`.
 * @returns {{doc, layer, part, image: {name: "image", format: "rgba8", width: number, height: number, data: Uint8Array}}}
 *   part: the layer's part on the canvas (the source rectangle); image: what the panel sends for it.
 */
function scene({ width = 80, height = 56, rect = { left: 0, top: 0, width, height } } = {}) {
  const doc = app.newDocument({ width, height });
  const data = paint(doc, rect, twoDiscs);
  const layer = doc.addLayer({ name: "Photo", rect, data });
  const part = { left: Math.max(0, rect.left), top: Math.max(0, rect.top) };
  part.width = Math.min(width, rect.left + rect.width) - part.left;
  part.height = Math.min(height, rect.top + rect.height) - part.top;
  return { doc, layer, part, image: engineImage(doc, data, rect, part) };
}

/** Select the rectangle `r` (document pixels) at `value` (0–255) as the marquee does (one history state; 8-bit documents). */
function select(doc, r, value = 255) {
  const plane = new Uint8Array(doc.width * doc.height);
  for (let y = r.top; y < r.top + r.height; y++) plane.fill(value, y * doc.width + r.left, y * doc.width + r.left + r.width);
  doc.setSelection(plane);
}

/** `part` of a canvas-size plane (doc depth) as 8-bit grey, as the panel reads it. */
function crop(doc, plane, part) {
  const out = new Uint8Array(part.width * part.height);
  for (let y = 0; y < part.height; y++) {
    for (let x = 0; x < part.width; x++) out[y * part.width + x] = Math.round((plane[(y + part.top) * doc.width + x + part.left] * 255) / FULL[doc.depth]);
  }
  return out;
}

/** A client that records each request the actions send, and sends it on. */
function watched() {
  const sent = [];
  return { sent, client: { send: (request, options) => { sent.push(request); return shared.client.send(request, options); } } };
}

/** What each request carried: its image key (null: the pixels), its previous id and its buffers' names. */
const carried = (sent) => sent.map((r) => [r.fields.image || null, r.fields.previous || null, r.buffers.map((b) => b.name)]);

/** Assert the canvas-size `plane` (doc depth) equals `want` (grey8 over `part`) within 1/255 there, 0 elsewhere. */
function assertMatte(doc, plane, want, part) {
  const got = crop(doc, plane, { left: 0, top: 0, width: doc.width, height: doc.height });
  let worst = 0;
  for (let y = 0; y < doc.height; y++) {
    for (let x = 0; x < doc.width; x++) {
      const inside = x >= part.left && x < part.left + part.width && y >= part.top && y < part.top + part.height;
      const expected = inside ? want[(y - part.top) * part.width + x - part.left] : 0;
      worst = Math.max(worst, Math.abs(got[y * doc.width + x] - expected));
    }
  }
  assert.ok(worst <= 1, `largest difference ${worst}/255`);
}

/** The mean (0–255) of grey8 `alpha` (`width` a row) around (cx, cy), ±2 pixels. */
function around(alpha, width, cx, cy) {
  let sum = 0;
  for (let y = cy - 2; y <= cy + 2; y++) for (let x = cx - 2; x <= cx + 2; x++) sum += alpha[y * width + x];
  return sum / 25;
}

test("Object → selection on an offset layer: the box around the selection and the marks as clicks; the key first, then the pixels", async () => {
  const { doc, part, image } = scene({ width: 84, height: 60, rect: { left: -4, top: 4, width: 88, height: 52 } });
  select(doc, { left: 6, top: 14, width: 30, height: 30 });
  doc.addColorSampler(22, 28); // on A: positive
  doc.addPath("Work Path", [[[70, 40]]]); // not the clicks' path
  doc.addPath("softcut points", [[[18, 26]], [[58, 30]]]); // first subpath on A (positive), second on B (negative)
  doc.addColorSampler(90, 10); // off the canvas: left out
  const original = doc.selection.slice();
  const before = doc.history.length;
  const { sent, client } = watched();

  const made = await actions.selectObject(client, "object", BASE);
  const key = bufferKey(image);
  assert.deepEqual(carried(sent), [[key, null, []], [null, null, ["image"]]], "the key, then (not_found) the pixels");
  const points = [{ x: 22, y: 24, positive: true }, { x: 18, y: 22, positive: true }, { x: 58, y: 26, positive: false }];
  assert.deepEqual(sent[1].fields, { points, box: [6, 10, 36, 40], mode: "new", refine: "best", outputs: ["alpha"], format: "raw", edges: {}, decontaminate: 1 });
  assert.deepEqual(sent[0].fields, { image: key, ...sent[1].fields });
  assert.equal(doc.history.length, before + 1);
  assert.equal(doc.history.at(-1).name, "Softcut: Object");
  assert.deepEqual(made.target.rect, part);

  const python = await pythonSelectObject(shared.engine, { width: part.width, height: part.height, rgba: image.data, mode: "new",
    box: [6, 10, 36, 40], points, output: "selection", quality: "best" });
  assert.deepEqual([python.fields.image, python.fields.prepared], [key, false], "the Python client named the same image, already prepared");
  assertMatte(doc, doc.selection, python.alpha, part);
  assert.ok(around(python.alpha, part.width, 22, 24) > 200 && around(python.alpha, part.width, 58, 24) < 30, "disc A, not B");

  doc.undo();
  assert.deepEqual(Array.from(doc.selection), Array.from(original), "one undo step gives the rectangle back");
});

test("Add to Subject → the Object's layer mask, rewritten in place: the image by its key alone, previous by id", async () => {
  const { doc, layer, part, image } = scene();
  select(doc, { left: 8, top: 14, width: 30, height: 30 });
  const results = new Map();
  const first = await actions.selectObject(shared.client, "object", { ...BASE, output: "mask", results });
  results.set(first.target.documentID, first);
  assert.equal(doc.history.at(-1).name, "Softcut: Object");
  assert.ok(around(first.alpha, part.width, 58, 28) < 30, "the Object left B out");
  select(doc, { left: 46, top: 16, width: 24, height: 24 }); // roughly around B
  const rough = crop(doc, doc.selection, part);
  const before = doc.history.length;
  const { sent, client } = watched();

  const added = await actions.selectObject(client, "add", { ...BASE, output: "mask", results });
  assert.deepEqual(carried(sent), [[bufferKey(image), first.resultId, ["mask"]]]);
  assert.equal(sent[0].fields.mode, "add");
  assert.deepEqual(Array.from(sent[0].buffers[0].data), Array.from(rough), "the selection is the rough mask");
  assert.equal(added.target, first.target, "the same mask");
  assert.deepEqual(doc.layers, [layer]);
  assert.equal(doc.history.length, before + 1);
  assert.equal(doc.history.at(-1).name, "Softcut: Add to Subject");

  const python = await pythonSelectObject(shared.engine, { width: part.width, height: part.height, rgba: image.data, mode: "add",
    rough, previous: first.resultId, output: "mask", quality: "best" });
  assertMatte(doc, layer.mask.data, python.alpha, part);
  assert.ok(around(python.alpha, part.width, 22, 28) > 200 && around(python.alpha, part.width, 58, 28) > 200, "A and B");

  doc.undo();
  assertMatte(doc, layer.mask.data, first.alpha, part);
});

test("Subtract from Subject → the cut-out layer, rewritten; the engine lost the result: its mask as painted goes as pixels", async () => {
  const { doc, part, image } = scene();
  select(doc, { left: 8, top: 14, width: 30, height: 30 });
  const results = new Map();
  const first = await actions.selectObject(shared.client, "object", { ...BASE, output: "layer", results });
  const cut = doc.layers[0];
  assert.equal(cut.name, "Photo (cut-out)");
  assert.deepEqual(doc.activeLayers, [cut], "Cut Out's layer is the active one: Subtract works on the layer it was cut from");
  for (let y = 0; y < doc.height; y++) cut.mask.data[y * doc.width + 20] = 0; // the user painted a line on the mask
  const painted = crop(doc, cut.mask.data, part);
  results.set(doc.id, { ...first, resultId: LOST });
  select(doc, { left: 6, top: 14, width: 16, height: 30 }); // roughly the left half of A
  const rough = crop(doc, doc.selection, part);
  const { sent, client } = watched();

  await actions.selectObject(client, "subtract", { ...BASE, output: "layer", results });
  const key = bufferKey(image);
  assert.deepEqual(carried(sent), [[key, LOST, ["mask"]], [key, null, ["mask", "previous"]]], "previous: not_found, then the pixels");
  assert.deepEqual(Array.from(sent[1].buffers[1].data), Array.from(painted), "the mask as it is in the document");
  assert.deepEqual(sent[1].fields.outputs, ["alpha", "foreground"]);
  assert.equal(doc.layers.length, 2, "no new layer");
  assert.equal(doc.history.at(-1).name, "Softcut: Subtract from Subject");

  const python = await pythonSelectObject(shared.engine, { width: part.width, height: part.height, rgba: image.data, mode: "subtract",
    rough, previous: LOST, previous_coverage: painted, output: "layer", quality: "best" });
  assertMatte(doc, cut.mask.data, python.alpha, part);
  assert.ok(around(python.alpha, part.width, 14, 28) < 30 && around(python.alpha, part.width, 28, 28) > 150, "the left of A taken away, the right kept");
});

test("a selection result the engine lost goes back as the matte the panel wrote (Whole image, fast)", async () => {
  const { doc, image } = scene();
  const all = { left: 0, top: 0, width: doc.width, height: doc.height };
  select(doc, { left: 8, top: 14, width: 30, height: 30 });
  const options = { ...BASE, merged: true, quality: "fast" };
  const first = await actions.selectObject(shared.client, "object", options);
  select(doc, { left: 46, top: 16, width: 24, height: 24 });
  const { sent, client } = watched();

  const made = await actions.selectObject(client, "add", { ...options, results: new Map([[doc.id, { ...first, resultId: LOST }]]) });
  assert.deepEqual(carried(sent), [[bufferKey(image), LOST, ["mask"]], [bufferKey(image), null, ["mask", "previous"]]]);
  assert.deepEqual(Array.from(sent[1].buffers[1].data), Array.from(first.alpha), "the selection it wrote, kept by the panel");
  assert.equal(sent[1].fields.refine, "fast");
  assertMatte(doc, doc.selection, made.alpha, all);
  assert.ok(around(made.alpha, doc.width, 22, 28) > 200 && around(made.alpha, doc.width, 58, 28) > 200);
});

test("refusals: no marks, a tiny box, too many clicks, no selection, an empty selection, no earlier result; nothing is asked or written", async () => {
  const { doc, layer } = scene();
  const jobs = (await shared.client.status()).jobs_done;
  const refused = async (kind, options, pattern) => {
    await assert.rejects(actions.selectObject(shared.client, kind, { ...BASE, ...options }), (e) => {
      assert.match(actions.describeFailure(e), pattern);
      assert.match(actions.describeFailure(e), /; the document was not changed$/);
      return true;
    });
  };
  doc.addColorSampler(82, 10); // off the canvas
  await refused("object", {}, /nothing is selected over the layer and no colour sampler or "Softcut points" path marks an object/);
  select(doc, { left: 10, top: 10, width: 1, height: 6 });
  await refused("object", {}, /smaller than 2 × 2 pixels/);
  select(doc, { left: 8, top: 14, width: 30, height: 30 });
  layer.mask = { data: new Uint8Array(doc.width * doc.height).fill(255) };
  await refused("object", { output: "mask" }, /"Photo" already has a layer mask/);
  layer.mask = null;
  doc.addPath("Softcut points", [Array.from({ length: 70 }, (_, i) => [i, 20])]);
  await refused("object", {}, /make 70 clicks on the layer; at most 64/);

  await refused("add", {}, /no earlier Softcut result on "Photo" to correct: run Object or Select Subject on it first/);
  const other = doc.addLayer({ name: "Other", rect: layer.rect, data: layer.data.slice() });
  const elsewhere = { resultId: LOST, alpha: new Uint8Array(80 * 56), source: { merged: false, layerID: other.id },
    target: { documentID: doc.id, output: "selection", rect: { left: 0, top: 0, width: 80, height: 56 } } };
  doc.pick(layer);
  await refused("subtract", { results: new Map([[doc.id, elsewhere]]) }, /no earlier Softcut result on "Photo"/);
  const mine = { ...elsewhere, source: { merged: false, layerID: layer.id } };
  doc.selection = null;
  await refused("add", { results: new Map([[doc.id, mine]]) }, /nothing is selected over the layer: select roughly the part to add or take away/);
  select(doc, { left: 8, top: 14, width: 30, height: 30 }, 100);
  await refused("subtract", { results: new Map([[doc.id, mine]]) }, /the selection is empty: no pixel is selected 50% or more/);

  assert.equal((await shared.client.status()).jobs_done, jobs, "the engine ran nothing");
  assert.equal(calls.filter((c) => /^put/.test(c.api)).length, 0);
  assert.deepEqual(doc.history.filter((h) => h.name.startsWith("Softcut")), []);
});

test("engine gone: a clear message, and the document as it was", async () => {
  const lonely = await goneEngineClient();
  const { doc } = scene();
  select(doc, { left: 8, top: 14, width: 30, height: 30 });
  const before = doc.selection.slice();
  await assert.rejects(actions.selectObject(lonely, "object", BASE), (e) => {
    assert.match(actions.describeFailure(e), /^the Softcut engine is not reachable .*start it with `softcut serve`, then Connect; the document was not changed$/);
    return true;
  });
  assert.deepEqual(Array.from(doc.selection), Array.from(before));
  assert.equal(doc.history.length, 2, "Open and the marquee");
});
