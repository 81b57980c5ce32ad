/**
 * Select Subject with Clean Plate end to end: the shipped modules (actions → photoshop_document
 * → imaging, plate_file → uxp) against a real engine, with Photoshop and UXP replaced by the
 * in-memory stand-ins of testing/mock/.
 *
 * The scene is the Python tests' own (tests/editor_files.py `write_plate_inputs`: a red disc
 * over a textured ground, and a handheld retake of that ground). What lands in the selection,
 * mask or layer must equal the engine's own plate_matte answer for the same pixels (asked
 * directly through the same client) within 1/255, in one history state, with the image and
 * plate layers untouched; failures must say why and leave the document as it was.
 */
"use strict";

const { photoshop, uxp } = require("../testing/mock/install");
const { test, before, beforeEach } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const actions = require("../src/actions");
const plateFile = require("../src/plate_file");
const { photoFile } = require("../src/protocol");
const { sharedEngine, goneEngineClient } = require("../testing/engine");
const { paint, rgbaImage, engineImage } = require("../testing/paint");
const { plateInputs } = require("../testing/plate");

const { app, constants, calls, FULL } = photoshop;
const GREY = constants.DocumentMode.GRAYSCALE;
const BASE = { output: "selection", merged: false, quality: "best", edges: {}, decontaminate: 1 };

const shared = sharedEngine();
let scene = null; // the clean-plate scene's files (testing/plate.js)

before(async () => {
  scene = await plateInputs();
});

beforeEach(() => app.reset());

/**
 * The scene as a document: the plate layer (named `plateName`, at `plateRect`) under the scene
 * layer, which is picked.
 */
function plateDocument({ mode, depth = 8, plateName = "Clean plate", plateRect = null } = {}) {
  const { width, height } = scene;
  const doc = app.newDocument({ width, height, mode, depth, title: "Shoot" });
  const prect = plateRect || { left: 0, top: 0, width, height };
  const plate = doc.addLayer({ name: plateName, rect: prect, data: paint(doc, prect, rgbaImage(scene.plate, width, prect.left, prect.top)) });
  const all = { left: 0, top: 0, width, height };
  const subject = doc.addLayer({ name: "Scene", rect: all, data: paint(doc, all, rgbaImage(scene.scene, width)) });
  return { doc, plate, subject };
}

/** A whole layer's pixels as the engine buffer `name` (what the panel should send for it). */
function engineBuffer(doc, layer, name) {
  return engineImage(doc, layer.data, layer.rect, layer.rect, name);
}

/** The engine's plate_matte answer, asked directly: {id, alignment, <buffer name>: bytes}. */
async function direct(imageBuffer, plateBuffer, fields) {
  const result = await shared.client.request("plate_matte", { format: "raw", ...fields }, { buffers: [imageBuffer, plateBuffer] }).promise;
  const out = { id: result.fields.result, alignment: result.fields.alignment };
  for (const [name, entry] of Object.entries(result.buffers)) out[name] = entry.data;
  return out;
}

/** Assert `actual` (doc depth, covering the canvas) equals `expected` (0–255, the canvas's size) within 1/255. */
function assertMatte(doc, actual, expected) {
  const full = FULL[doc.depth];
  assert.equal(actual.length, doc.width * doc.height);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] / full - expected[i] / 255));
  assert.ok(worst <= 1 / 255 + 1e-9, `largest difference ${(worst * 255).toFixed(2)}/255`);
}

/** Pixels where two grey8 mattes differ by more than 10/255. */
function differing(a, b) {
  let count = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 10) count++;
  return count;
}

/** Everything about the layers that a failed action must leave as it was. */
function layerState(doc) {
  return doc._all().map((l) => ({ id: l.id, name: l.name, rect: { ...l.rect }, data: Array.from(l.data),
    mask: l.mask && Array.from(l.mask.data), background: l.isBackgroundLayer }));
}

function untouched(doc, before) {
  assert.deepEqual(layerState(doc), before);
  assert.equal(doc.selection, null);
  assert.deepEqual(doc.history.map((h) => h.name), ["Open"]);
  assert.deepEqual(calls.filter((c) => /^put/.test(c.api) || c.api === "executeAsModal"), [], "nothing was written");
}

async function jobsDone() {
  return (await shared.client.status()).jobs_done;
}

test("selection: the engine's plate_matte answer, one history state; the plate layer, read whole at its own bounds (past the canvas), is untouched", async () => {
  // The plate layer is offset and reaches past the canvas: all of it is the plate.
  const plateRect = { left: -12, top: 7, width: scene.width, height: scene.height };
  const { doc, plate, subject } = plateDocument({ plateRect });
  const before = layerState(doc);
  const imageBuffer = engineBuffer(doc, subject, "image");
  const plateBuffer = engineBuffer(doc, plate, "plate");
  const want = await direct(imageBuffer, plateBuffer, { outputs: ["alpha"], refine: "best", edges: {}, decontaminate: 1 });
  const plain = await shared.client.request("select_subject", { format: "raw", outputs: ["alpha"], refine: "best" }, { buffers: [imageBuffer] }).promise;
  assert.ok(differing(want.alpha, plain.buffers.alpha.data) > 500, "the plate changes the matte (else this test could not tell it was sent)");

  const progress = [];
  const made = await actions.plateMatte(shared.client, { ...BASE, plate: { layerID: plate.id } },
    { onProgress: (fraction, stage) => progress.push(stage) });
  assertMatte(doc, doc.selection, want.alpha);
  assert.ok(progress.length > 0, "progress is reported");
  assert.deepEqual(made.alignment, want.alignment);
  assert.match(actions.describeAlignment(made.alignment), /^the plate lined up on \d+ of \d+ features and covers \d+% of the image/);

  // The plate layer was read whole, at its own bounds.
  const reads = calls.filter((c) => c.api === "getPixels");
  assert.equal(reads.length, 2, "the image (as Select Subject reads it) and the plate");
  assert.deepEqual(reads[0].options, { documentID: doc.id, sourceBounds: { left: 0, top: 0, right: scene.width, bottom: scene.height }, componentSize: 8, layerID: subject.id });
  assert.deepEqual(reads[1].options, { documentID: doc.id, layerID: plate.id, componentSize: 8,
    sourceBounds: { left: -12, top: 7, right: scene.width - 12, bottom: scene.height + 7 } });

  // One history state in one modal scope; the layers' pixels are as they were.
  assert.deepEqual(doc.history.map((h) => h.name), ["Open", "Softcut: Select Subject with Clean Plate"]);
  assert.equal(calls.filter((c) => c.api === "executeAsModal").length, 1);
  assert.deepEqual(layerState(doc), before);
  doc.undo();
  assert.equal(doc.selection, null);
  doc.redo();
  assertMatte(doc, doc.selection, want.alpha);
});

test("layer mask in a 16-bit document with Fast and Edges; a live Edges change rewrites the same mask", async () => {
  const { doc, plate, subject } = plateDocument({ depth: 16 });
  const pixelsBefore = Array.from(subject.data);
  const platePixels = Array.from(plate.data);
  const edges = { feather: 1.5, shift_edge: 10 };
  const want = await direct(engineBuffer(doc, subject, "image"), engineBuffer(doc, plate, "plate"),
    { outputs: ["alpha"], refine: "fast", edges, decontaminate: 1 });

  const made = await actions.plateMatte(shared.client, { ...BASE, output: "mask", quality: "fast", edges: { ...edges, smooth: 0, contrast: 0 }, plate: { layerID: plate.id } });
  assert.ok(subject.mask.data instanceof Uint16Array);
  assertMatte(doc, subject.mask.data, want.alpha);
  assert.equal(plate.mask, null, "the plate gets no mask");
  assert.deepEqual(Array.from(subject.data), pixelsBefore, "the image layer's pixels are untouched");
  assert.deepEqual(Array.from(plate.data), platePixels, "the plate layer is untouched");
  assert.deepEqual(doc.history.map((h) => h.name), ["Open", "Softcut: Select Subject with Clean Plate"]);
  const sent = calls.find((c) => c.api === "getPixels" && c.options.layerID === plate.id);
  assert.equal(sent.options.componentSize, 16);

  // Edges after the result: adjust_edges on the plate result, into the same mask, one more state.
  const adjusted = await shared.client.request("adjust_edges", { format: "raw", result: want.id, edges: { feather: 4 }, decontaminate: 1, outputs: ["alpha"] }).promise;
  await actions.adjust(shared.client, made, { feather: 4, shift_edge: 0, smooth: 0, contrast: 0 }, 1);
  assertMatte(doc, subject.mask.data, adjusted.buffers.alpha.data);
  assert.deepEqual(doc.history.map((h) => h.name), ["Open", "Softcut: Select Subject with Clean Plate", "Softcut: Adjust Edges"]);
});

test("new layer in a Grayscale document: decontaminated colours and the matte as its mask, above the image layer", async () => {
  const { doc, plate, subject } = plateDocument({ mode: GREY, plateName: "Background" });
  const before = layerState(doc);
  const imageBuffer = engineBuffer(doc, subject, "image");
  assert.equal(imageBuffer.format, "grey8");
  const want = await direct(imageBuffer, engineBuffer(doc, plate, "plate"), { outputs: ["alpha", "foreground"], refine: "best", edges: {}, decontaminate: 1 });

  await actions.plateMatte(shared.client, { ...BASE, output: "layer", plate: { layerID: plate.id } });
  assert.equal(doc.layers.length, 3);
  const [cut] = doc.layers;
  assert.equal(cut.name, "Scene (cut-out)");
  assert.deepEqual(doc.layers.slice(1).map((l) => l.id), [subject.id, plate.id], "directly above the image layer");
  assertMatte(doc, cut.mask.data, want.alpha);
  let worst = 0;
  for (let i = 0; i < scene.width * scene.height; i++) {
    const fg = want.foreground.subarray(3 * i, 3 * i + 3);
    worst = Math.max(worst, Math.abs(cut.data[2 * i] - Math.round((fg[0] + fg[1] + fg[2]) / 3)));
    assert.equal(cut.data[2 * i + 1], 255);
  }
  assert.ok(worst <= 1, `colours differ by up to ${worst}/255`);
  assert.deepEqual(layerState(doc).slice(1), before, "the image and plate layers are untouched");
  assert.deepEqual(doc.history.map((h) => h.name), ["Open", "Softcut: Select Subject with Clean Plate"]);
  doc.undo();
  assert.deepEqual(layerState(doc), before);
});

test("a plate from a file (the picker, PNG and JPEG): the file's bytes go to the engine as they are", async () => {
  const { doc, subject } = plateDocument();
  const before = layerState(doc);
  const imageBuffer = engineBuffer(doc, subject, "image");

  for (const [name, bytes, format] of [["plate.png", scene.platePng, "png"], ["Plate shot.JPG", scene.plateJpeg, "jpeg"]]) {
    uxp.chooseFile({ name, bytes });
    const picked = await plateFile.pickPlateFile();
    assert.deepEqual(uxp.pickerCalls.at(-1), { types: ["png", "jpg", "jpeg"] });
    assert.equal(picked.name, name);
    assert.deepEqual({ ...picked.buffer, data: null }, { name: "plate", format, width: scene.width, height: scene.height, data: null });
    assert.deepEqual(picked.buffer.data, bytes);

    doc.selection = null;
    const want = await direct(imageBuffer, photoFile("plate", bytes), { outputs: ["alpha"], refine: "best", edges: {}, decontaminate: 1 });
    const made = await actions.plateMatte(shared.client, { ...BASE, plate: { file: picked } });
    assertMatte(doc, doc.selection, want.alpha);
    assert.deepEqual(made.alignment, want.alignment);
  }
  assert.deepEqual(layerState(doc), before);
  assert.equal(calls.filter((c) => c.api === "getPixels").length, 2, "only the image is read from the document");

  // A cancelled picker is no plate; a file that is no PNG or JPEG is refused with its name.
  uxp.chooseFile(null);
  assert.equal(await plateFile.pickPlateFile(), null);
  uxp.chooseFile({ name: "notes.png", bytes: new TextEncoder().encode("not an image at all, just some words") });
  await assert.rejects(plateFile.pickPlateFile(), (e) => e instanceof plateFile.NotAnImage && /"notes\.png" is not a PNG or JPEG/.test(e.message));
});

test("a plate of another scene: the engine's alignment message, and the document untouched", async () => {
  const { doc, subject } = plateDocument();
  const all = { left: 0, top: 0, width: scene.width, height: scene.height };
  const other = doc.addLayer({ name: "Other plate", rect: all, data: paint(doc, all, rgbaImage(scene.other, scene.width)) });
  doc.pick(subject);
  const before = layerState(doc);
  calls.length = 0;

  await assert.rejects(actions.plateMatte(shared.client, { ...BASE, output: "mask", plate: { layerID: other.id } }), (e) => {
    assert.equal(e.code, "alignment_failed");
    const message = actions.describeFailure(e);
    assert.match(message, /^the clean plate does not match the image: [^;]*; the document was not changed$/);
    assert.ok(message.includes(e.detail.replace(/[.\s]+$/, "")), "the engine's own explanation is shown");
    assert.match(e.detail, /features/);
    assert.match(message, /; the document was not changed$/);
    return true;
  });
  untouched(doc, before);
});

test("engine gone: a clear message, and the document untouched", async () => {
  const lonely = await goneEngineClient();
  const { doc, plate } = plateDocument();
  const before = layerState(doc);
  calls.length = 0;
  await assert.rejects(actions.plateMatte(lonely, { ...BASE, output: "layer", plate: { layerID: plate.id } }), (e) => {
    assert.match(actions.describeFailure(e), /not reachable.*softcut serve.*the document was not changed$/);
    return true;
  });
  untouched(doc, before);
});

test("no plate, the image layer itself, a gone or a non-pixel plate layer: a message before any request", async () => {
  const { doc, plate, subject } = plateDocument();
  const smart = doc.addLayer({ name: "Placed plate", kind: constants.LayerKind.SMARTOBJECT, rect: { left: 0, top: 0, width: 0, height: 0 } });
  doc.pick(subject);
  const before = layerState(doc);
  const done = await jobsDone();
  calls.length = 0;

  const refusals = [
    [{ plate: null }, /^choose a clean plate first: a layer of the scene without the subject, or From file…; the document was not changed$/],
    [{ plate: {} }, /^choose a clean plate first/],
    [{ plate: { layerID: subject.id } }, /^the clean plate "Scene" is the layer being cut out: pick the subject's layer, or choose another layer \(or a file\) as the plate; the document was not changed$/],
    [{ plate: { layerID: 987654 } }, /^the clean plate layer is no longer in the document: choose the plate again; /],
    [{ plate: { layerID: smart.id } }, /^the clean plate "Placed plate" is not a pixel layer: rasterize it \(Layer › Rasterize\) or choose From file…; /],
  ];
  for (const [options, pattern] of refusals) {
    await assert.rejects(actions.plateMatte(shared.client, { ...BASE, ...options }), (e) => {
      assert.match(actions.describeFailure(e), pattern);
      return true;
    });
  }
  assert.deepEqual(calls.filter((c) => c.api === "getPixels" && c.options.layerID !== subject.id), [], "no plate was read");
  untouched(doc, before);
  assert.equal(await jobsDone(), done, "the engine ran nothing");

  // With Source: Whole image the active layer may be the plate (the image is the composite).
  doc.layers.splice(doc.layers.indexOf(smart), 1);
  doc.pick(plate);
  const composite = doc.composite();
  const want = await direct({ name: "image", format: "rgba8", width: scene.width, height: scene.height, data: composite },
    engineBuffer(doc, plate, "plate"), { outputs: ["alpha"], refine: "fast", edges: {}, decontaminate: 1 });
  await actions.plateMatte(shared.client, { ...BASE, merged: true, quality: "fast", plate: { layerID: plate.id } });
  assertMatte(doc, doc.selection, want.alpha);
});

test("the plate list: other layers (groups' too, not groups), a layer named plate first, else the layer below", async () => {
  assert.deepEqual(actions.plateLayers(), { documentID: null, layers: [], suggested: null }, "no document: nothing to list");
  const doc = app.newDocument({ width: 8, height: 8 });
  const rect = { left: 0, top: 0, width: 8, height: 8 };
  const layer = (name, kind) => doc.addLayer({ name, kind, rect, data: paint(doc, rect, () => [1, 2, 3, 255]) });
  const bottom = layer("Bottom");
  const middle = layer("Middle");
  const top = layer("Top");
  doc.pick(top);
  assert.deepEqual(actions.plateLayers(), {
    documentID: doc.id, suggested: middle.id,
    layers: [{ id: middle.id, name: "Middle", label: "Middle", pixels: true }, { id: bottom.id, name: "Bottom", label: "Bottom", pixels: true }],
  }, "the picked layer is not listed; the layer below it is suggested");
  doc.pick(bottom);
  assert.equal(actions.plateLayers().suggested, null, "nothing below the bottom layer");
  doc.pick(middle, top);
  assert.equal(actions.plateLayers().layers.length, 3, "several layers picked: all are listed");

  // A pixel layer named …plate… (any case) anywhere wins, also inside a group; groups are not listed.
  await photoshop.core.executeAsModal(async () => {
    doc.pick(bottom);
    await doc.createLayerGroup({ name: "Shots", fromLayers: [bottom] });
  }, { commandName: "set-up" });
  bottom.name = "BG CleanPLATE";
  const text = layer("plate label", constants.LayerKind.TEXT);
  doc.pick(top);
  const listed = actions.plateLayers();
  assert.equal(listed.suggested, bottom.id);
  assert.deepEqual(listed.layers.map((l) => [l.label, l.pixels]), [["plate label", false], ["Middle", true], ["Shots › BG CleanPLATE", true]]);
  assert.ok(!listed.layers.some((l) => l.id === text.id && l.pixels));
});

test("the manifest lets the panel open the file picker", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "manifest.json"), "utf8"));
  assert.equal(manifest.requiredPermissions.localFileSystem, "request", "getFileForOpening needs localFileSystem: request");
});

test("the status line's account of the alignment", () => {
  assert.equal(actions.describeAlignment({ inliers: 268, matches: 285, coverage: 0.9705 }), "the plate lined up on 268 of 285 features and covers 97% of the image");
  assert.equal(actions.describeAlignment({ inliers: 105, matches: 120, coverage: 0.6076 }),
    "the plate lined up on 105 of 120 features and covers 60% of the image (the model fills in the rest)");
  assert.equal(actions.describeAlignment(null), "");
  assert.equal(actions.describeAlignment({}), "");
});
