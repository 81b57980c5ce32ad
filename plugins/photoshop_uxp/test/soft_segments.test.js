/**
 * Soft Segment Layers end to end: the shipped modules (actions → photoshop_document → imaging)
 * against a real engine, with Photoshop replaced by the in-memory document of
 * testing/mock/photoshop.js.
 *
 * The document's composite goes to the engine's soft_segments; what comes back must land as one
 * new group "Soft segments" at the top holding one pixel layer with a mask a segment (segment0
 * at the bottom), in one history state, and the group's layers stacked with normal blending
 * (computed here from the layers' pixels and masks) must give back the image.
 */
"use strict";

const { photoshop } = require("../testing/mock/install");
const { test, beforeEach } = require("node:test");
const assert = require("node:assert/strict");

const actions = require("../src/actions");
const { SEGMENTS } = require("../src/protocol");
const { occupyEngine, sharedEngine, goneEngineClient } = require("../testing/engine");
const { disc, paint } = require("../testing/paint");

const { app, constants, calls, FULL } = photoshop;
const TOLERANCE = 6 / 255;

const shared = sharedEngine();

beforeEach(() => app.reset());

/** A document of two layers: a soft gradient and, above it, an offset red disc reaching past the canvas. */
function twoLayerDocument(options) {
  const doc = app.newDocument(options);
  const all = { left: 0, top: 0, width: doc.width, height: doc.height };
  doc.addLayer({ name: "Sky", rect: all, data: paint(doc, all, (x, y) => [30 + 2 * x, 60 + 3 * y, 190, 255]) });
  const rect = { left: 14, top: -4, width: 36, height: 30 };
  doc.addLayer({ name: "Disc", rect, data: paint(doc, rect, (x, y) => disc(x, y, 30, 12, 9)) });
  return doc;
}

/**
 * The group's layers stacked bottom to top with normal blending, each layer's alpha times its
 * mask, over transparency: 0–1 colour components and alpha a pixel (computed here, not by the mock).
 */
function stack(doc, group) {
  const n = doc.channels, full = FULL[doc.depth], size = doc.width * doc.height;
  const colour = new Float64Array(size * (n - 1));
  const alpha = new Float64Array(size);
  for (const layer of [...group.layers].reverse()) {
    assert.equal(layer.kind, constants.LayerKind.NORMAL);
    assert.deepEqual(layer.rect, { left: 0, top: 0, width: doc.width, height: doc.height }, `${layer.name} covers the canvas`);
    assert.ok(layer.mask, `${layer.name} has a layer mask`);
    for (let i = 0; i < size; i++) {
      const a = (layer.data[i * n + n - 1] / full) * (layer.mask.data[i] / full);
      const under = alpha[i];
      const out = a + under * (1 - a);
      for (let c = 0; c < n - 1; c++) {
        const mixed = (layer.data[i * n + c] / full) * a + colour[i * (n - 1) + c] * under * (1 - a);
        colour[i * (n - 1) + c] = out > 0 ? mixed / out : 0;
      }
      alpha[i] = out;
    }
  }
  return { colour, alpha };
}

/** The largest difference (0–1) between the stacked group and the document's original composite. */
function worstDifference(doc, stacked, original) {
  const n = doc.channels, full = FULL[doc.depth];
  let worst = 0;
  for (let i = 0; i < doc.width * doc.height; i++) {
    worst = Math.max(worst, Math.abs(stacked.alpha[i] - original[i * n + n - 1] / full));
    for (let c = 0; c < n - 1; c++) worst = Math.max(worst, Math.abs(stacked.colour[i * (n - 1) + c] - original[i * n + c] / full));
  }
  return worst;
}

function layerState(doc) {
  return doc._all().map((l) => ({ id: l.id, name: l.name, parent: l.parent && l.parent.id, rect: { ...l.rect },
    data: Array.from(l.data), mask: l.mask && Array.from(l.mask.data) }));
}

test("Soft Segment Layers: one group at the top, K masked layers that stack back into the image, one history state", async () => {
  const doc = twoLayerDocument({ width: 56, height: 40, title: "Scene" });
  const [disc_, sky] = doc.layers;
  const original = doc.composite();
  const before = layerState(doc);
  const progress = [];
  let job = null;

  const made = await actions.softSegments(shared.client, { count: 4 }, {
    onProgress: (fraction, stage) => progress.push([fraction, stage]),
    onJob: (j) => { job = j; },
  });
  assert.ok(job && job.id, "the job is handed out for Cancel");
  assert.ok(progress.length > 0, "progress is reported");

  // One new group, at the top; the layers that were there are untouched, in the same order.
  assert.equal(doc.layers.length, 3);
  const [group] = doc.layers;
  assert.deepEqual(doc.layers.slice(1), [disc_, sky]);
  assert.equal(group.kind, constants.LayerKind.GROUP);
  assert.equal(group.name, "Soft segments");
  assert.equal(group.id, made.groupID);
  assert.deepEqual(layerState(doc).filter((l) => l.id === disc_.id || l.id === sky.id), before);

  // K pixel layers, Segment 1 (segment0) at the bottom.
  assert.equal(made.count, 4);
  assert.deepEqual(group.layers.map((l) => l.name), ["Segment 4", "Segment 3", "Segment 2", "Segment 1"]);
  assert.deepEqual(group.layers.map((l) => l.id), [...made.layerIDs].reverse());
  assert.ok(group.layers.every((l) => l.parent === group));

  // What landed is the engine's own answer (colours opaque, the alpha as the layer's mask) …
  const image = { name: "image", format: "rgba8", width: 56, height: 40, data: original };
  const direct = await shared.client.request("soft_segments", { count: 4, format: "raw" }, { buffers: [image] }).promise;
  group.layers.slice().reverse().forEach((layer, k) => {
    const want = direct.buffers[`segment${k}`].data;
    let worst = 0;
    for (let i = 0; i < 56 * 40; i++) {
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(layer.data[4 * i + c] - want[4 * i + c]));
      worst = Math.max(worst, Math.abs(layer.mask.data[i] - want[4 * i + 3]));
      assert.equal(layer.data[4 * i + 3], 255);
    }
    assert.ok(worst <= 1, `${layer.name}: largest difference ${worst}/255 from the engine's segment${k}`);
  });
  // … with masks that really split the image (not one layer doing all the work).
  const covering = group.layers.filter((l) => l.mask.data.some((v) => v > 128) && l.mask.data.some((v) => v < 128));
  assert.ok(covering.length >= 2, "at least two layers show only part of the image");

  // Stacked bottom to top with normal blending, the group gives back the image.
  const worst = worstDifference(doc, stack(doc, group), original);
  assert.ok(worst <= TOLERANCE, `the stacked group differs from the image by up to ${(worst * 255).toFixed(2)}/255`);
  assert.ok(worstDifference(doc, stack(doc, group), doc.composite()) <= TOLERANCE, "and so does the document");

  // One history state, in one modal scope; one undo takes it all away.
  assert.deepEqual(doc.history.map((h) => h.name), ["Open", "Softcut: Soft Segments"]);
  assert.equal(calls.filter((c) => c.api === "executeAsModal").length, 1);
  assert.equal(calls.filter((c) => c.api === "putLayerMask").length, 4);
  assert.equal(calls.filter((c) => c.api === "putPixels").length, 4);
  doc.undo();
  assert.deepEqual(doc.layers, [disc_, sky]);
  assert.deepEqual(layerState(doc), before);
  doc.redo();
  assert.equal(doc.layers[0], group);
  assert.equal(group.layers.length, 4);
  assert.ok(worstDifference(doc, stack(doc, group), original) <= TOLERANCE);
});

test("Soft Segment Layers in a 16-bit greyscale document, the default count", async () => {
  const doc = twoLayerDocument({ width: 40, height: 32, mode: constants.DocumentMode.GRAYSCALE, depth: 16 });
  const original = doc.composite();
  const made = await actions.softSegments(shared.client, {});
  assert.equal(made.count, SEGMENTS.default);
  const [group] = doc.layers;
  assert.equal(group.name, "Soft segments");
  assert.equal(group.layers.length, SEGMENTS.default);
  assert.ok(group.layers.every((l) => l.data instanceof Uint16Array && l.mask.data instanceof Uint16Array));
  const sent = calls.find((c) => c.api === "putLayerMask").options;
  assert.equal(sent.imageData.componentSize, 16);
  const worst = worstDifference(doc, stack(doc, group), original);
  assert.ok(worst <= TOLERANCE, `the stacked group differs from the image by up to ${(worst * 255).toFixed(2)}/255`);
  assert.equal(doc.history.length, 2);
});

test("Soft Segment Layers: a dead engine, a cancel, a bad count and a failed write leave the document as it was", async () => {
  const doc = twoLayerDocument({ width: 32, height: 24 });
  const before = layerState(doc);
  const untouched = () => {
    assert.deepEqual(layerState(doc), before);
    assert.equal(doc.layers.length, 2);
    assert.deepEqual(doc.history.map((h) => h.name), ["Open"]);
  };

  // The engine has stopped.
  const lonely = await goneEngineClient();
  await assert.rejects(actions.softSegments(lonely, { count: 3 }), (e) => {
    assert.match(actions.describeFailure(e), /not reachable.*softcut serve.*the document was not changed$/);
    return true;
  });
  untouched();

  // A count the engine cannot answer is refused before anything is read or sent.
  for (const count of [1, SEGMENTS.max + 1, 2.5]) {
    await assert.rejects(actions.softSegments(shared.client, { count }), (e) => {
      assert.match(actions.describeFailure(e), new RegExp(`^choose ${SEGMENTS.min} to ${SEGMENTS.max} layers; the document was not changed$`));
      return true;
    });
  }
  assert.equal(calls.filter((c) => c.api === "getPixels").length, 1, "only the dead engine's attempt read the document");

  // Cancelled while queued behind another client's jobs.
  const busy = await occupyEngine(shared.engine);
  await assert.rejects(actions.softSegments(shared.client, { count: 3 }, { onJob: (job) => job.cancel() }), (e) => {
    assert.match(actions.describeFailure(e), /^cancelled; the document was not changed$/);
    return true;
  });
  await busy.finished();
  untouched();

  // The group cannot be made after the layers were: the half-made layers are rolled back.
  doc.createLayerGroup = async () => { throw new Error("no groups today"); };
  await assert.rejects(actions.softSegments(shared.client, { count: 3 }), (e) => {
    assert.match(actions.describeFailure(e), /^could not write the result \(no groups today\); the document was not changed$/);
    return true;
  });
  assert.ok(calls.some((c) => c.api === "putLayerMask"), "layers were written before the failure");
  untouched();
  assert.deepEqual(doc.composite(), twoLayerDocument({ width: 32, height: 24 }).composite());
});
