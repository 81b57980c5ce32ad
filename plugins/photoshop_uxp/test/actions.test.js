/**
 * The shipped panel modules (actions → photoshop_document → imaging) against a real engine,
 * with Photoshop replaced by the in-memory document model of testing/mock/photoshop.js.
 *
 * Each test builds a document, runs an action as the panel does, and compares what landed in
 * the selection, mask or layer with the engine's own answer for the same pixels (asked
 * directly through the same client), within 1/255.
 */
"use strict";

const { photoshop } = require("../testing/mock/install");
const { test, beforeEach } = require("node:test");
const assert = require("node:assert/strict");

const actions = require("../src/actions");
const { occupyEngine, sharedEngine, goneEngineClient } = require("../testing/engine");
const { disc, paint, engineImage } = require("../testing/paint");

const { app, constants, calls, FULL } = photoshop;
const GREY = constants.DocumentMode.GRAYSCALE;
const BASE = { output: "selection", merged: false, quality: "best", edges: {}, decontaminate: 1 };

const shared = sharedEngine();

beforeEach(() => app.reset());

async function direct(type, fields, buffers = []) {
  const result = await shared.client.request(type, { format: "raw", ...fields }, { buffers }).promise;
  const out = { id: result.fields.result };
  for (const [name, entry] of Object.entries(result.buffers)) out[name] = entry.data;
  return out;
}

/** Assert `actual` (doc depth, covering the canvas) equals `expected` (0–255) inside `part`, `outside` elsewhere. */
function assertMatte(doc, actual, expected, part, outside = 0) {
  const full = FULL[doc.depth];
  let worst = 0, inside = 0;
  for (let y = 0; y < doc.height; y++) {
    for (let x = 0; x < doc.width; x++) {
      const inPart = x >= part.left && x < part.left + part.width && y >= part.top && y < part.top + part.height;
      const want = inPart ? expected[(y - part.top) * part.width + x - part.left] / 255 : outside;
      worst = Math.max(worst, Math.abs(actual[y * doc.width + x] / full - want));
      if (inPart) inside++;
    }
  }
  assert.ok(inside > 0);
  assert.ok(worst <= 1 / 255 + 1e-9, `largest difference ${(worst * 255).toFixed(2)}/255`);
}

function histogramSpread(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return hi - lo;
}

test("Select Subject → selection: an offset layer partly off the canvas, 8-bit RGB", async () => {
  const doc = app.newDocument({ width: 64, height: 48 });
  const rect = { left: -8, top: 4, width: 56, height: 40 };
  const data = paint(doc, rect, (x, y) => disc(x, y, 24, 24, 12));
  doc.addLayer({ name: "Photo", rect, data });
  const part = { left: 0, top: 4, width: 48, height: 40 };
  const want = await direct("select_subject", { outputs: ["alpha"], refine: "best" }, [engineImage(doc, data, rect, part)]);
  assert.ok(histogramSpread(want.alpha) > 200, "the engine should find the red disc");

  const before = doc.history.length;
  const last = await actions.run(shared.client, BASE);
  assertMatte(doc, doc.selection, want.alpha, part);
  assert.equal(doc.history.length, before + 1);
  assert.equal(doc.history.at(-1).name, "Softcut: Select Subject");
  assert.equal(last.target.output, "selection");
  const sent = calls.find((c) => c.api === "getPixels");
  assert.deepEqual(sent.options.sourceBounds, { left: 0, top: 0, right: 64, bottom: 48 });

  doc.undo();
  assert.equal(doc.selection, null, "one undo step takes the selection away");
  doc.redo();
  assertMatte(doc, doc.selection, want.alpha, part);
});

test("Remove Background → layer mask on a 16-bit Background layer (made a normal layer in the same step)", async () => {
  const doc = app.newDocument({ width: 40, height: 32, depth: 16 });
  const rect = { left: 0, top: 0, width: 40, height: 32 };
  const data = paint(doc, rect, (x, y) => disc(x, y, 18, 15, 9));
  const layer = doc.addLayer({ name: "Background", rect, data, isBackgroundLayer: true });
  const want = await direct("select_subject", { outputs: ["alpha"], refine: "best" }, [engineImage(doc, data, rect, rect)]);

  const before = doc.history.length;
  await actions.run(shared.client, { ...BASE, output: "mask" });
  assert.equal(layer.isBackgroundLayer, false);
  assert.equal(layer.name, "Layer 0", "named as Photoshop's Layer from Background names it");
  assert.ok(layer.mask.data instanceof Uint16Array);
  assertMatte(doc, layer.mask.data, want.alpha, rect);
  assert.equal(doc.history.length, before + 1);
  assert.equal(doc.history.at(-1).name, "Softcut: Remove Background");
  assert.deepEqual(Array.from(layer.data.subarray(0, 8)), Array.from(data.subarray(0, 8)), "the layer's pixels are untouched");

  doc.undo();
  assert.equal(layer.mask, null);
  assert.equal(layer.isBackgroundLayer, true);
  assert.equal(layer.name, "Background");
});

test("Cut Out → new layer above the source: decontaminated colours and the matte as its mask, greyscale 8-bit", async () => {
  const doc = app.newDocument({ width: 48, height: 40, mode: GREY });
  const bottom = doc.addLayer({ name: "Paper", rect: { left: 0, top: 0, width: 48, height: 40 },
    data: paint(doc, { left: 0, top: 0, width: 48, height: 40 }, () => [128, 128, 128, 255]) });
  const rect = { left: 6, top: 5, width: 36, height: 30 };
  // greyscale loses red versus blue; the test model sees grey as R=G=B, so give it a bright/dark pattern
  const data = paint(doc, rect, (x, y) => disc(x, y, 24, 20, 10));
  const source = doc.addLayer({ name: "Subject", rect, data });
  const want = await direct("select_subject", { outputs: ["alpha", "foreground"], refine: "best" }, [engineImage(doc, data, rect, rect)]);

  const before = doc.history.length;
  await actions.run(shared.client, { ...BASE, output: "layer" });
  assert.equal(doc.layers.length, 3);
  const cut = doc.layers[0];
  assert.equal(cut.name, "Subject (cut-out)");
  assert.deepEqual(doc.layers.slice(1), [source, bottom], "inserted directly above the source");
  assert.deepEqual(cut.rect, rect);
  for (let i = 0; i < rect.width * rect.height; i++) {
    const fg = want.foreground.subarray(3 * i, 3 * i + 3);
    assert.ok(Math.abs(cut.data[2 * i] - Math.round((fg[0] + fg[1] + fg[2]) / 3)) <= 1);
    assert.equal(cut.data[2 * i + 1], 255);
  }
  assertMatte(doc, cut.mask.data, want.alpha, rect);
  assert.equal(doc.history.length, before + 1);
  doc.undo();
  assert.equal(doc.layers.length, 2);
});

test("Remove Background on an offset layer of a 16-bit greyscale document: the mask hides all but the matte", async () => {
  const doc = app.newDocument({ width: 40, height: 30, mode: GREY, depth: 16 });
  const rect = { left: 12, top: -6, width: 24, height: 30 };
  const data = paint(doc, rect, (x, y) => { const v = 60 + ((x * 7 + y * 3) % 150); return [v, v, v, 255]; });
  const layer = doc.addLayer({ name: "Grey", rect, data });
  const part = { left: 12, top: 0, width: 24, height: 24 };
  const want = await direct("select_subject", { outputs: ["alpha"], refine: "best" }, [engineImage(doc, data, rect, part)]);
  assert.equal(engineImage(doc, data, rect, part).format, "grey8");

  await actions.run(shared.client, { ...BASE, output: "mask" });
  assert.ok(layer.mask.data instanceof Uint16Array);
  assertMatte(doc, layer.mask.data, want.alpha, part, 0);
  const sent = calls.find((c) => c.api === "putLayerMask").options;
  assert.deepEqual(sent.targetBounds, { left: 12, top: 0 });
  assert.equal(sent.imageData.componentSize, 16);
});

test("Select Subject from the whole image (merged) of two layers, 16-bit RGB", async () => {
  const doc = app.newDocument({ width: 40, height: 30, depth: 16 });
  const all = { left: 0, top: 0, width: 40, height: 30 };
  doc.addLayer({ name: "Blue", rect: all, data: paint(doc, all, () => [30, 30, 200, 255]) });
  const rect = { left: 10, top: 5, width: 20, height: 20 };
  doc.addLayer({ name: "Disc", rect, data: paint(doc, rect, (x, y) => { const [r, g, b] = disc(x, y, 20, 15, 8); return [r, g, b, r > 120 ? 255 : 0]; }) });
  doc.pick(...doc.layers); // two layers picked: only Whole image can work
  await assert.rejects(actions.run(shared.client, BASE), /select exactly one layer/);

  const composite = doc.composite();
  const want = await direct("select_subject", { outputs: ["alpha"], refine: "best" }, [engineImage(doc, composite, all, all)]);
  await actions.run(shared.client, { ...BASE, merged: true });
  assertMatte(doc, doc.selection, want.alpha, all);
});

test("Refine Selection: the rough selection guides the engine; edges are applied after", async () => {
  const doc = app.newDocument({ width: 48, height: 40 });
  const rect = { left: 0, top: 0, width: 48, height: 40 };
  const data = paint(doc, rect, (x, y) => disc(x, y, 22, 20, 11));
  doc.addLayer({ name: "Photo", rect, data });
  const rough = new Uint8Array(48 * 40);
  for (let y = 6; y < 34; y++) for (let x = 8; x < 36; x++) rough[y * 48 + x] = 255;
  doc.selection = rough.slice();
  const image = engineImage(doc, data, rect, rect);
  const refined = await direct("refine", { guide: "mask", mode: "fast", outputs: ["alpha"] },
    [image, { name: "guide", format: "grey8", width: 48, height: 40, data: rough }]);
  const want = await direct("adjust_edges", { result: refined.id, edges: { feather: 2 }, decontaminate: 1, outputs: ["alpha"] });

  await actions.run(shared.client, { ...BASE, quality: "fast", edges: { feather: 2 } }, { refineSelection: true });
  assertMatte(doc, doc.selection, want.alpha, rect);
  assert.equal(doc.history.at(-1).name, "Softcut: Refine Selection");

  doc.selection = null;
  await assert.rejects(actions.run(shared.client, BASE, { refineSelection: true }), /nothing is selected/);
});

test("live edges: adjust rewrites the same mask from the cached result, one history state each", async () => {
  const doc = app.newDocument({ width: 40, height: 32 });
  const rect = { left: 0, top: 0, width: 40, height: 32 };
  const data = paint(doc, rect, (x, y) => disc(x, y, 20, 16, 9));
  const layer = doc.addLayer({ name: "Photo", rect, data });
  const last = await actions.run(shared.client, { ...BASE, output: "mask" });
  const want = await direct("adjust_edges", { result: last.resultId, edges: { feather: 3, shift_edge: 20 }, decontaminate: 1, outputs: ["alpha"] });

  const before = doc.history.length;
  await actions.adjust(shared.client, last, { feather: 3, shift_edge: 20, smooth: 0 }, 1);
  assertMatte(doc, layer.mask.data, want.alpha, rect);
  assert.equal(doc.history.length, before + 1);
  assert.equal(doc.history.at(-1).name, "Softcut: Adjust Edges");
  assert.equal(doc.layers.length, 1, "no new layer");
});

test("refused documents: nothing is asked of the engine and nothing changes", async () => {
  await assert.rejects(actions.run(shared.client, BASE), (e) => /open a document first/.test(actions.describeFailure(e)));

  const doc = app.newDocument({ width: 16, height: 16 });
  const rect = { left: 0, top: 0, width: 16, height: 16 };
  const layer = doc.addLayer({ name: "Masked", rect, data: paint(doc, rect, () => [200, 20, 20, 255]) });
  layer.mask = { data: new Uint8Array(256).fill(255) };
  const jobsBefore = (await shared.client.status()).jobs_done;
  await assert.rejects(actions.run(shared.client, { ...BASE, output: "mask" }), /already has a layer mask/);
  const group = doc.addLayer({ name: "Group", kind: constants.LayerKind.GROUP, rect: { left: 0, top: 0, width: 0, height: 0 } });
  await assert.rejects(actions.run(shared.client, BASE), /"Group" is not a pixel layer/);
  group.kind = constants.LayerKind.NORMAL;
  doc.layers.shift();
  doc.pick(layer);

  const thirtyTwo = app.newDocument({ width: 8, height: 8 });
  thirtyTwo.bitsPerChannel = constants.BitsPerChannelType.THIRTYTWO;
  await assert.rejects(actions.run(shared.client, BASE), /32-bit documents are not supported/);
  const cmyk = app.newDocument({ width: 8, height: 8 });
  cmyk.mode = constants.DocumentMode.CMYK;
  await assert.rejects(actions.run(shared.client, BASE), /convert to RGB Color or Grayscale/);

  assert.equal((await shared.client.status()).jobs_done, jobsBefore, "the engine ran nothing");
  assert.equal(calls.filter((c) => /^put/.test(c.api)).length, 0);
  assert.equal(doc.history.length, 1);
});

test("cancel while queued: the job ends cancelled and the document is untouched", async () => {
  const doc = app.newDocument({ width: 32, height: 32 });
  const rect = { left: 0, top: 0, width: 32, height: 32 };
  doc.addLayer({ name: "Photo", rect, data: paint(doc, rect, (x, y) => disc(x, y, 16, 16, 8)) });
  const busy = await occupyEngine(shared.engine); // the action's job will wait in the queue
  let job = null;
  const running = actions.run(shared.client, BASE, { onJob: (j) => { job = j; j.cancel(); } });
  await assert.rejects(running, (e) => {
    assert.match(actions.describeFailure(e), /^cancelled; the document was not changed/);
    return true;
  });
  assert.ok(job);
  assert.equal(doc.selection, null);
  assert.equal(doc.history.length, 1);
  await busy.finished();
});

test("a write that fails part-way is rolled back: the layer vanished while the engine worked", async () => {
  const doc = app.newDocument({ width: 24, height: 24 });
  const rect = { left: 0, top: 0, width: 24, height: 24 };
  doc.addLayer({ name: "Keep", rect, data: paint(doc, rect, () => [20, 20, 200, 255]) });
  const layer = doc.addLayer({ name: "Photo", rect, data: paint(doc, rect, (x, y) => disc(x, y, 12, 12, 6)) });
  const running = actions.run(shared.client, { ...BASE, output: "layer" }, {
    onJob: () => { doc.layers.splice(doc.layers.indexOf(layer), 1); doc.pick(doc.layers[0]); },
  });
  await assert.rejects(running, (e) => {
    assert.match(actions.describeFailure(e), /could not write the result .*the document was not changed/);
    return true;
  });
  assert.equal(doc.layers.length, 1, "the half-made cut-out layer was rolled back");
  assert.equal(doc.history.length, 1);
});

test("engine gone: a clear message, and nothing written", async () => {
  const lonely = await goneEngineClient();
  const doc = app.newDocument({ width: 16, height: 16 });
  const rect = { left: 0, top: 0, width: 16, height: 16 };
  doc.addLayer({ name: "Photo", rect, data: paint(doc, rect, () => [200, 20, 20, 255]) });
  await assert.rejects(actions.run(lonely, BASE), (e) => {
    const message = actions.describeFailure(e);
    assert.match(message, /not reachable/);
    assert.match(message, /softcut serve/);
    assert.match(message, /the document was not changed$/);
    return true;
  });
  assert.equal(doc.selection, null);
  assert.equal(doc.history.length, 1);
});

test("the stand-in enforces Photoshop's rule: document changes outside executeAsModal throw", async () => {
  const doc = app.newDocument({ width: 4, height: 4 });
  const grey = await photoshop.imaging.createImageDataFromBuffer(new Uint8Array(16), { width: 4, height: 4, components: 1, colorSpace: "Grayscale" });
  await assert.rejects(photoshop.imaging.putSelection({ documentID: doc.id, imageData: grey }), /executeAsModal/);
});
