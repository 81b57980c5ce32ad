"use strict";
// Object Selection's shared JS with no engine running: bufferKey (against node:crypto and the engine's
// buffer_key), requests.selectObject (against the engine's own schema checks), objects.selectObject's
// key-first and fallback steps with scripted engine answers, and the panel's prompt rules.

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const { execFileSync } = require("node:child_process");

const { bufferKey, encode, photoFile, rawImage, requests, OBJECT_MODES, OBJECT_POINTS_MAX } = require("../src/protocol");
const objects = require("../src/objects");
const { EngineError, EngineUnavailable } = require("../src/client");
const prompts = require("../src/object_prompts");
const { REPO_ROOT, pythonPath } = require("../testing/engine");
const { engineVerdicts } = require("../testing/schemas");

/** `n` bytes counting up from `start` (wrapping at 256). */
function bytes(n, start = 0) {
  return Uint8Array.from({ length: n }, (_, i) => (start + i * 7) % 256);
}

/** The first frame (the JSON text) of each built request, as the client would send it. */
function texts(built) {
  return built.map((b, i) => encode({ ...b.fields, type: b.type, id: `p${i + 1}`, buffers: b.buffers })[0]);
}

/** Run a Python snippet in the repository; its stdout parsed as JSON. */
function python(script, input = "") {
  return JSON.parse(execFileSync(pythonPath(), ["-c", script], { cwd: REPO_ROOT, input, encoding: "utf8" }));
}

const image = rawImage("image", "rgba8", 6, 4, bytes(96));
const grey = (name, start = 1) => rawImage(name, "grey8", 6, 4, bytes(24, start));

describe("bufferKey: the key select_object names a prepared image by", () => {
  test("sha256 over the format, the size and the payload, as the engine's buffer_key computes it", () => {
    const buffers = [image, rawImage("image", "rgb8", 5, 3, bytes(45, 3)), rawImage("image", "grey8", 1, 1, Uint8Array.of(0)),
      rawImage("image", "rgba8", 300, 200, bytes(240000, 11))];
    const mine = buffers.map(bufferKey);
    for (const [i, buffer] of buffers.entries()) {
      const want = crypto.createHash("sha256").update(`${buffer.format}\n${buffer.width}\n${buffer.height}\n`).update(buffer.data).digest("hex");
      assert.equal(mine[i], want);
    }
    const engine = python([
      "import base64, json, sys",
      "from wire.protocol.messages import buffer, buffer_key",
      "print(json.dumps([buffer_key(buffer('image', base64.b64decode(b['data']), format=b['format'], width=b['width'], height=b['height']))",
      "                  for b in json.load(sys.stdin)]))",
    ].join("\n"), JSON.stringify(buffers.map((b) => ({ ...b, data: Buffer.from(b.data).toString("base64") }))));
    assert.deepEqual(mine, engine);
    assert.notEqual(bufferKey(rawImage("image", "grey8", 4, 6, bytes(24))), bufferKey(rawImage("image", "grey8", 6, 4, bytes(24))), "the size is part of the key");
    assert.throws(() => bufferKey({ ...image, data: bytes(95) }), /needs width\*height\*4/);
  });
});

describe("select_object as the panel builds it", () => {
  const key = bufferKey(image);

  test("buffers or keys, clicks, boxes, masks and previous mattes make valid requests", () => {
    const built = [
      requests.selectObject(image, { box: [0, 0, 6, 4] }),
      requests.selectObject(key, { points: [{ x: 1, y: 2, positive: true }, { x: 4.5, y: 0, positive: false }], refine: "best", model: "u2net" }),
      requests.selectObject(key, { mask: grey("mask"), mode: "add", previous: "0f3a9c", outputs: ["alpha", "foreground"], edges: { feather: 2 }, decontaminate: 0.5 }),
      requests.selectObject(image, { mask: grey("mask"), mode: "subtract", previous: grey("previous", 9) }),
      requests.selectObject(photoFile("image", pngHeader(6, 4)), { box: [1, 1, 5, 3], mode: "intersect", previous: "r1" }),
    ];
    assert.deepEqual(engineVerdicts(texts(built)), built.map(() => "ok"));
    assert.deepEqual(JSON.parse(texts([built[2]])[0]), {
      v: 2, type: "select_object", id: "p1", buffers: [{ name: "mask", format: "grey8", width: 6, height: 4, size: 24 }],
      image: key, points: [], mode: "add", previous: "0f3a9c", refine: "fast", outputs: ["alpha", "foreground"], format: "raw",
      edges: { feather: 2 }, decontaminate: 0.5,
    });
    assert.deepEqual(built[3].buffers.map((b) => b.name), ["image", "mask", "previous"]);
    assert.equal("previous" in built[3].fields, false, "a previous buffer is not named in the fields too");
    assert.equal("image" in built[0].fields, false, "the image buffer, not its key");
  });

  test("what the builder refuses, the engine refuses too", () => {
    const good = requests.selectObject(key, { points: [{ x: 1, y: 1, positive: true }] });
    const many = Array.from({ length: OBJECT_POINTS_MAX + 1 }, (_, i) => ({ x: i % 6, y: 1, positive: true }));
    const bad = [
      [{ mode: "union" }, /mode/],
      [{ points: many }, /points/],
      [{ points: [{ x: -1, y: 1, positive: true }] }, /points/],
      [{ points: [{ x: 1, y: 1, positive: 1 }] }, /points/],
      [{ box: [0, 0, 4] }, /box/],
    ];
    for (const [options, pattern] of bad) {
      assert.throws(() => requests.selectObject(key, { points: good.fields.points, ...options }), pattern);
      const [verdict] = engineVerdicts(texts([{ ...good, fields: { ...good.fields, ...options } }]));
      assert.match(verdict, /^bad_parameter: /, JSON.stringify(options).slice(0, 80));
      assert.match(verdict, pattern);
    }
    assert.throws(() => requests.selectObject("ABC", { box: [0, 0, 2, 2] }), /image: expected a buffer named "image" or a key/);
    assert.match(engineVerdicts(texts([{ ...good, fields: { ...good.fields, image: "ABC" } }]))[0], /^bad_parameter: image/);
    assert.match(engineVerdicts(texts([{ ...good, buffers: [image] }]))[0], /both given/, "the image comes once");
    assert.throws(() => requests.selectObject(key), /needs a prompt: points, a box or a mask/);
    assert.throws(() => requests.selectObject(key, { mask: grey("guide") }), /mask: expected the buffer named "mask"/);
    assert.throws(() => requests.selectObject(key, { box: [0, 0, 2, 2], previous: grey("mask") }), /previous: expected the buffer named "previous"/);
  });

  test("OBJECT_MODES and OBJECT_POINTS_MAX mirror the engine's schema", () => {
    const facts = python([
      "import json",
      "from wire.protocol import schemas",
      "p = schemas.REQUEST_SCHEMAS['select_object']['properties']",
      "print(json.dumps({'modes': p['mode']['enum'], 'points': p['points']['maxItems']}))",
    ].join("\n"));
    assert.deepEqual([...OBJECT_MODES], facts.modes);
    assert.equal(OBJECT_POINTS_MAX, facts.points);
  });
});

/** The start of a PNG file of width × height: signature and IHDR chunk (all its size needs). */
function pngHeader(width, height) {
  const data = new Uint8Array(33);
  data.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(data.buffer).setUint32(16, width);
  new DataView(data.buffer).setUint32(20, height);
  data.set([8, 6, 0, 0, 0], 24);
  return data;
}

describe("objects.selectObject: the key first, the pixels when asked", () => {
  const key = bufferKey(image);
  /** An `ask` that answers each request with the next of `answers` (an Error is thrown), recording the requests. */
  function scripted(answers) {
    const sent = [];
    const ask = async (request) => {
      sent.push(request);
      const answer = answers.shift();
      if (answer instanceof Error) throw answer;
      return answer;
    };
    return { sent, ask };
  }
  const notHeldImage = () => new EngineError("not_found", `image ${key.slice(0, 12)}…: not prepared on this engine (or let go to make room); send the image buffer again`);
  const notHeldPrevious = () => new EngineError("not_found", "previous: result 'r9' is unknown or expired; send the matte as a buffer");

  test("an image the engine holds goes as its key alone", async () => {
    const { sent, ask } = scripted([{ id: "r1" }]);
    assert.deepEqual(await objects.selectObject(ask, image, { box: [0, 0, 6, 4], refine: "best" }), { id: "r1" });
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0].buffers, []);
    assert.equal(sent[0].fields.image, key);
    assert.deepEqual(sent[0].fields.box, [0, 0, 6, 4]);
  });

  test("not_found for the image: the same request again with the pixels", async () => {
    const { sent, ask } = scripted([notHeldImage(), { id: "r2" }]);
    await objects.selectObject(ask, image, { points: [{ x: 1, y: 1, positive: true }] });
    assert.deepEqual(sent.map((r) => r.buffers.map((b) => b.name)), [[], ["image"]]);
    assert.equal(sent[1].buffers[0], image);
    assert.equal("image" in sent[1].fields, false);
    assert.deepEqual(sent[1].fields.points, sent[0].fields.points);
  });

  test("a previous result the engine let go of goes as the matte's pixels, read only then", async () => {
    const matte = grey("previous", 5);
    let reads = 0;
    const previousPixels = async () => { reads++; return matte; };
    const { sent, ask } = scripted([notHeldImage(), notHeldPrevious(), { id: "r3" }]);
    await objects.selectObject(ask, image, { mask: grey("mask"), mode: "add", previous: "r9", previousPixels });
    assert.equal(reads, 1);
    assert.deepEqual(sent.map((r) => [r.fields.previous, r.buffers.map((b) => b.name)]),
      [["r9", ["mask"]], ["r9", ["image", "mask"]], [undefined, ["image", "mask", "previous"]]]);
    assert.equal(sent[2].buffers[2], matte);

    const held = scripted([{ id: "r4" }]);
    await objects.selectObject(held.ask, image, { mask: grey("mask"), mode: "add", previous: "r9", previousPixels });
    assert.equal(reads, 1, "not read while the engine holds the result");
  });

  test("any other error, or a lost previous with no pixels to send, is thrown as it came", async () => {
    for (const error of [new EngineError("busy", "the queue is full"), new EngineUnavailable("gone"),
      new EngineError("not_found", "model 'x' is not on this engine")]) {
      const { sent, ask } = scripted([error]);
      await assert.rejects(objects.selectObject(ask, image, { box: [0, 0, 6, 4] }), (e) => e === error);
      assert.equal(sent.length, 1);
    }
    const lost = notHeldPrevious();
    const { sent, ask } = scripted([lost]);
    await assert.rejects(objects.selectObject(ask, image, { mask: grey("mask"), mode: "add", previous: "r9" }), (e) => e === lost);
    assert.equal(sent.length, 1);
    const again = scripted([notHeldImage(), notHeldImage()]);
    await assert.rejects(objects.selectObject(again.ask, image, { box: [0, 0, 6, 4] }), /not_found: image/, "pixels are sent once");
    assert.equal(again.sent.length, 2);
  });
});

describe("the panel's prompt rules (object_prompts.js)", () => {
  test("colour samplers are positive clicks; the Softcut points path: first subpath positive, later ones negative", () => {
    const rect = { left: 10, top: 5, width: 20, height: 10 };
    const marks = {
      samplers: [{ x: 12, y: 6 }, { x: 40, y: 6 }],
      subpaths: [[{ x: 15.5, y: 9 }], [{ x: 25, y: 14 }, { x: 30, y: 14 }], [{ x: 10, y: 5 }]],
    };
    assert.deepEqual(prompts.clicks(marks, rect), {
      points: [{ x: 2, y: 1, positive: true }, { x: 5.5, y: 4, positive: true }, { x: 15, y: 9, positive: false }, { x: 0, y: 0, positive: false }],
      outside: 2,
    });
    assert.deepEqual(prompts.clicks({ samplers: [], subpaths: [] }, rect), { points: [], outside: 0 });
    for (const name of ["Softcut points", "softcut POINTS", " Softcut points "]) assert.equal(prompts.isPointsPath(name), true, name);
    for (const name of ["Work Path", "Softcut", "Softcut points 2", null]) assert.equal(prompts.isPointsPath(name), false, String(name));
  });

  test("the box around a selection: any selected pixel counts, corners as the engine takes them", () => {
    const selection = new Uint8Array(6 * 4);
    assert.equal(prompts.selectionBox(selection, 6, 4), null);
    selection[1 * 6 + 2] = 1;
    selection[2 * 6 + 4] = 255;
    assert.deepEqual(prompts.selectionBox(selection, 6, 4), [2, 1, 5, 3]);
    selection.fill(9);
    assert.deepEqual(prompts.selectionBox(selection, 6, 4), [0, 0, 6, 4]);
  });

  test("a selection as a rough mask: none, faint (no pixel selected 50%) or a mask", () => {
    assert.equal(prompts.roughMaskState(new Uint8Array(8)), "none");
    assert.equal(prompts.roughMaskState(Uint8Array.of(0, 127, 3, 0)), "faint");
    assert.equal(prompts.roughMaskState(Uint8Array.of(0, 0, 128, 0)), "mask");
  });
});
