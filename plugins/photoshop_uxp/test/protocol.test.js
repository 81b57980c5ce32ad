"use strict";
// The codec alone: frames in, frames out, no sockets.

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const { execFileSync } = require("node:child_process");

const protocol = require("../src/protocol");
const { Decoder, ProtocolError, encode, idGenerator, isValidId, photoFile, rawImage, requests, segmentNames, SEGMENTS } = protocol;
const { REPO_ROOT, pythonPath } = require("../testing/engine");
const { engineVerdicts } = require("../testing/schemas");

const DOCS = path.resolve(__dirname, "..", "..", "..", "docs", "protocol.md");

/** The one-line ```json examples of docs/protocol.md (not the schemas). */
function documentedExamples() {
  const text = fs.readFileSync(DOCS, "utf8");
  return [...text.matchAll(/^```json\n(.*)\n```$/gm)].map((m) => m[1]);
}

/** Feed frames to a fresh decoder; returns the messages it completed. */
function decodeAll(frames) {
  const decoder = new Decoder();
  return frames.map((f) => decoder.feed(f)).filter((m) => m !== null);
}

/** The start of a PNG file of width × height: signature and IHDR chunk (all a size needs). */
function tinyPng(width, height) {
  const out = new Uint8Array(33);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(out.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  out.set([8, 6, 0, 0, 0], 24);
  return out;
}

/** The start of a JPEG file of width × height: SOI, an APP0 segment, a fill byte, then a baseline frame header. */
function tinyJpeg(width, height) {
  return Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 4, 1, 2, 0xff, 0xff, 0xc0, 0, 11, 8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0, 0xff, 0xd9);
}

const pixels = (n, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe("constants and ids", () => {
  test("version and default port", () => {
    assert.equal(protocol.PROTOCOL_VERSION, 2);
    assert.equal(protocol.DEFAULT_PORT, 47841);
  });

  test("an id generator counts per connection", () => {
    const a = idGenerator();
    const b = idGenerator("c");
    assert.deepEqual([a(), a(), a()], ["p1", "p2", "p3"]);
    assert.equal(b(), "c1");
    assert.equal(idGenerator()(), "p1");
  });

  test("valid ids are 1-64 characters from A-Za-z0-9_.:-", () => {
    for (const id of ["a", "p1", "A-Z_a.z:0", "x".repeat(64)]) assert.ok(isValidId(id), id);
    for (const id of ["", "x".repeat(65), "a b", "é", "a/b", 1, null, undefined]) assert.ok(!isValidId(id), String(id));
    assert.throws(() => idGenerator("bad prefix"), RangeError);
  });
});

describe("encode", () => {
  test("text frame: envelope keys first, then fields, compact", () => {
    const frames = encode({ type: "status", id: "p7" });
    assert.deepEqual(frames, ['{"v":2,"type":"status","id":"p7"}']);
    const [text] = encode({ edges: { feather: 1.5 }, id: "p2", type: "adjust_edges", result: "r1", ref: "e4" });
    assert.equal(text, '{"v":2,"type":"adjust_edges","id":"p2","ref":"e4","edges":{"feather":1.5},"result":"r1"}');
  });

  test("buffers become specs with their size and follow as binary frames, in order", () => {
    const image = rawImage("image", "rgba8", 3, 2, pixels(24));
    const guide = rawImage("guide", "grey8", 3, 2, pixels(6, 9));
    const frames = encode({ type: "refine", id: "p3", guide: "mask", buffers: [image, guide] });
    assert.equal(frames.length, 3);
    assert.deepEqual(JSON.parse(frames[0]).buffers, [
      { name: "image", format: "rgba8", width: 3, height: 2, size: 24 },
      { name: "guide", format: "grey8", width: 3, height: 2, size: 6 },
    ]);
    assert.equal(Object.keys(JSON.parse(frames[0])).join(), "v,type,id,buffers,guide");
    assert.equal(frames[1], image.data, "payloads are not copied");
    assert.equal(frames[2], guide.data);
  });

  test("payloads given as ArrayBuffer or other typed arrays go out as Uint8Array views", () => {
    const words = new Uint16Array(4); // 8 bytes = 2x1 rgba8
    words[0] = 0x0201;
    const [, a] = encode({ type: "trimap", id: "p1", buffers: [{ name: "image", format: "rgba8", width: 2, height: 1, data: words }] });
    assert.ok(a instanceof Uint8Array);
    assert.equal(a.byteLength, 8);
    assert.equal(a.buffer, words.buffer);
    const [, b] = encode({ type: "trimap", id: "p1", buffers: [{ name: "image", format: "grey8", width: 2, height: 1, data: new ArrayBuffer(2) }] });
    assert.ok(b instanceof Uint8Array);
  });

  test("raw sizes must be width*height*channels", () => {
    const cases = [["rgba8", 4], ["rgb8", 3], ["grey8", 1]];
    for (const [format, channels] of cases) {
      assert.doesNotThrow(() => rawImage("image", format, 5, 3, new Uint8Array(15 * channels)));
      assert.throws(() => rawImage("image", format, 5, 3, new Uint8Array(15 * channels - 1)), /needs width\*height\*/);
      assert.throws(
        () => encode({ type: "trimap", id: "p1", buffers: [{ name: "image", format, width: 5, height: 3, data: new Uint8Array(15 * channels + 1) }] }),
        RangeError,
      );
    }
  });

  test("png payloads take their file's length", () => {
    const png = new Uint8Array(100);
    const [text] = encode({ type: "trimap", id: "p1", buffers: [{ name: "image", format: "png", width: 640, height: 480, data: png }] });
    assert.equal(JSON.parse(text).buffers[0].size, 100);
    assert.throws(() => rawImage("image", "png", 1, 1, png), /format/);
  });

  test("bad buffers are refused", () => {
    const ok = { name: "image", format: "grey8", width: 1, height: 1, data: new Uint8Array(1) };
    const bad = [
      [{ ...ok, name: "" }, /name/],
      [{ ...ok, format: "rgb16" }, /format/],
      [{ ...ok, width: 0 }, /width/],
      [{ ...ok, height: 1.5 }, /height/],
      [{ ...ok, data: [0] }, /data/],
      [{ ...ok, format: "png", data: new Uint8Array(0) }, /empty/],
    ];
    for (const [buffer, pattern] of bad) {
      assert.throws(() => encode({ type: "trimap", id: "p1", buffers: [buffer] }), pattern);
    }
    assert.throws(() => encode({ type: "refine", id: "p1", buffers: [ok, ok] }), /unique/);
    assert.throws(() => encode({ type: "refine", id: "p1", buffers: Array(protocol.MAX_BUFFERS + 1).fill(ok) }), new RegExp(`at most ${protocol.MAX_BUFFERS}`));
  });

  test("NaN and Infinity are not JSON", () => {
    assert.throws(() => encode({ type: "select_subject", id: "p1", edges: { feather: NaN } }), /feather: NaN is not JSON/);
    assert.throws(() => encode({ type: "select_subject", id: "p1", band: Infinity }), /band: Infinity/);
    assert.throws(() => encode({ type: "select_subject", id: "p1", list: [1, -Infinity] }), /-Infinity/);
  });

  test("bad envelopes are refused", () => {
    assert.throws(() => encode({ id: "p1" }), /type/);
    assert.throws(() => encode({ type: "status", id: "no spaces" }), /id/);
    assert.throws(() => encode({ type: "status" }), /id/);
    assert.throws(() => encode({ type: "status", id: "p1", ref: "" }), /ref/);
    assert.throws(() => encode({ type: "status", id: "p1", v: 1 }), /protocol 2/);
    assert.throws(() => encode(null), TypeError);
  });
});

/** A payload for a documented buffer spec: a PNG header with the spec's size for png, else bytes. */
function payloadFor(spec) {
  const data = pixels(spec.size);
  if (spec.format === "png") {
    data.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    new DataView(data.buffer, data.byteOffset).setUint32(16, spec.width);
    new DataView(data.buffer, data.byteOffset).setUint32(20, spec.height);
  }
  return data;
}

describe("Decoder", () => {
  test("a text-only message is complete at once; other keys are its fields", () => {
    const message = new Decoder().feed('{"v":2,"type":"accepted","id":"e2","ref":"c2","position":3}');
    assert.deepEqual(message, { type: "accepted", id: "e2", ref: "c2", fields: { position: 3 }, buffers: {} });
  });

  test("ref is null when absent or null", () => {
    const decoder = new Decoder();
    assert.equal(decoder.feed('{"v":2,"type":"error","id":"e1","code":"bad_message","message":"x"}').ref, null);
    assert.equal(decoder.feed('{"v":2,"type":"error","id":"e2","ref":null,"code":"bad_message","message":"x"}').ref, null);
  });

  test("round trip: buffers arrive as binary frames (ArrayBuffer or Uint8Array)", () => {
    const alpha = rawImage("alpha", "grey8", 4, 3, pixels(12));
    const cutout = rawImage("cutout", "rgba8", 4, 3, pixels(48, 5));
    const frames = encode({ type: "result", id: "e4", ref: "c2", result: "r7", confidence: 0.97, buffers: [alpha, cutout] });
    const decoder = new Decoder();
    assert.equal(decoder.feed(frames[0]), null);
    assert.equal(decoder.pending, "e4");
    assert.equal(decoder.feed(frames[1].slice().buffer), null, "an ArrayBuffer, as the WebSocket delivers it");
    const message = decoder.feed(frames[2]);
    assert.equal(decoder.pending, null);
    assert.equal(message.type, "result");
    assert.equal(message.ref, "c2");
    assert.deepEqual(message.fields, { result: "r7", confidence: 0.97 });
    assert.deepEqual(Object.keys(message.buffers), ["alpha", "cutout"]);
    assert.deepEqual(message.buffers.alpha.spec, { name: "alpha", format: "grey8", width: 4, height: 3, size: 12 });
    assert.deepEqual(message.buffers.alpha.data, alpha.data);
    assert.deepEqual(message.buffers.cutout.data, cutout.data);
  });

  test("a binary frame nobody announced is refused; its followers are dropped up to the next text frame", () => {
    const decoder = new Decoder();
    assert.throws(() => decoder.feed(new Uint8Array(3)), (e) => e instanceof ProtocolError && e.code === "bad_message" && /no message announced/.test(e.message));
    assert.equal(decoder.feed(new Uint8Array(3)), null);
    assert.equal(decoder.droppedFrames, 1);
    assert.equal(decoder.feed('{"v":2,"type":"status","id":"e1","ref":"p1","jobs":{}}').type, "status");
    assert.throws(() => decoder.feed(new ArrayBuffer(1)), ProtocolError, "a new stray frame is refused again");
  });

  test("a binary frame of the wrong size is refused", () => {
    const decoder = new Decoder();
    decoder.feed('{"v":2,"type":"result","id":"e1","ref":"p1","result":"r","buffers":[{"name":"alpha","format":"grey8","width":2,"height":2,"size":4}]}');
    assert.throws(() => decoder.feed(new Uint8Array(5)), (e) => e.code === "bad_message" && e.ref === "p1" && /expected 4 bytes; got a frame of 5/.test(e.message));
    assert.equal(decoder.pending, null);
  });

  test("a text frame while buffers are due is refused", () => {
    const decoder = new Decoder();
    decoder.feed('{"v":2,"type":"result","id":"e1","ref":"p1","result":"r","buffers":[{"name":"alpha","format":"grey8","width":1,"height":1,"size":1}]}');
    assert.throws(() => decoder.feed('{"v":2,"type":"status","id":"e2","ref":"p2"}'), (e) => e.ref === "p1" && /got a text frame/.test(e.message));
    assert.equal(decoder.feed(new Uint8Array(1)), null, "the broken message's buffer is dropped");
    assert.equal(decoder.feed('{"v":2,"type":"status","id":"e3","ref":"p3"}').id, "e3");
  });

  test("broken JSON and envelopes are refused", () => {
    const cases = [
      ["{", /not valid JSON/],
      ["[1]", /JSON object; got array/],
      ['"x"', /JSON object; got string/],
      ['{"v":2,"type":"status"}', /id: required field is missing/],
      ['{"v":2,"type":"status","id":"a b"}', /id: expected/],
      ['{"type":"status","id":"e1"}', /v: required/],
      ['{"v":2,"id":"e1"}', /type: expected/],
      ['{"v":2,"type":"status","id":"e1","ref":7}', /ref: expected/],
      ['{"v":2,"type":"x","id":"e1","buffers":{}}', /buffers: expected an array/],
      ['{"v":2,"type":"x","id":"e1","buffers":[{"name":"a","format":"grey8","width":2,"height":2,"size":5}]}', /size: expected width\*height\*1 = 4/],
      ['{"v":2,"type":"x","id":"e1","buffers":[{"name":"a","format":"bmp","width":2,"height":2,"size":4}]}', /format/],
      ['{"v":2,"type":"x","id":"e1","buffers":[{"name":"a","format":"png","width":2,"height":0,"size":4}]}', /height/],
      ['{"v":2,"type":"x","id":"e1","buffers":[{"name":"a","format":"png","width":2,"height":2,"size":4},{"name":"a","format":"png","width":2,"height":2,"size":4}]}', /repeated/],
    ];
    for (const [frame, pattern] of cases) {
      assert.throws(() => new Decoder().feed(frame), (e) => e instanceof ProtocolError && e.code === "bad_message" && pattern.test(e.message), frame);
    }
    assert.throws(() => new Decoder().feed('{"v":1,"type":"status","id":"e1","ref":"p1"}'), (e) => e.code === "unsupported_version" && e.ref === "p1");
    assert.throws(() => new Decoder().feed(42), TypeError);
  });

  test("png buffers: the header must match the spec", () => {
    const png = payloadFor({ format: "png", width: 7, height: 5, size: 40 });
    const spec = (w, h) => `{"v":2,"type":"result","id":"e1","ref":"p1","result":"r","buffers":[{"name":"cutout","format":"png","width":${w},"height":${h},"size":40}]}`;
    const decoder = new Decoder();
    decoder.feed(spec(7, 5));
    assert.equal(decoder.feed(png).buffers.cutout.data, png);
    decoder.feed(spec(7, 6));
    assert.throws(() => decoder.feed(png), (e) => e.code === "bad_image" && /the PNG is 7x5/.test(e.message));
    decoder.feed(spec(7, 5));
    assert.throws(() => decoder.feed(new Uint8Array(40)), (e) => e.code === "bad_image" && /not a PNG/.test(e.message));
  });

  test("a grey buffer within a larger image (crop_alpha) comes out whole; one that does not fit is refused", () => {
    const header = (within, format = "grey8") => `{"v":2,"type":"result","id":"e1","ref":"p1","result":"r","buffers":[{"name":"alpha","format":"${format}","width":3,"height":2,"size":${format === "grey8" ? 6 : 18},"within":${JSON.stringify(within)}}]}`;
    const decoder = new Decoder();
    decoder.feed(header([4, 1, 8, 5]));
    const { spec, data } = decoder.feed(Uint8Array.from([1, 2, 3, 4, 5, 6])).buffers.alpha;
    assert.deepEqual(spec, { name: "alpha", format: "grey8", width: 8, height: 5, size: 40 });
    const want = new Uint8Array(40);
    want.set([1, 2, 3], 12);
    want.set([4, 5, 6], 20);
    assert.deepEqual(data, want);
    for (const [within, format] of [[[6, 1, 8, 5]], [[4, 4, 8, 5]], [[0, 0, 8]], [[-1, 0, 8, 5]], [[0, 0, 2 ** 15, 2 ** 15]], [[0, 0, 8, 5], "rgb8"]]) {
      assert.throws(() => new Decoder().feed(header(within, format)), (e) => e.code === "bad_message" && /within/.test(e.message), JSON.stringify(within));
    }
  });
});

describe("the examples of docs/protocol.md", () => {
  const examples = documentedExamples();

  test("there are examples of hello, welcome, select_subject, result, cancel and error", () => {
    const types = new Set(examples.map((text) => JSON.parse(text).type));
    for (const type of ["hello", "welcome", "select_subject", "result", "adjust_edges", "cancel", "cancelled", "error", "progress"]) {
      assert.ok(types.has(type), type);
    }
  });

  for (const text of examples) {
    const { type, id } = JSON.parse(text);
    test(`${type} ${id} decodes, and encodes back to the same JSON`, () => {
      const specs = JSON.parse(text).buffers || [];
      const payloads = specs.map(payloadFor);
      const [message] = decodeAll([text, ...payloads]);
      assert.equal(message.type, type);
      assert.equal(message.id, id);
      assert.deepEqual(Object.keys(message.buffers), specs.map((s) => s.name));
      specs.forEach((s, i) => assert.equal(message.buffers[s.name].data, payloads[i]));
      const buffers = Object.values(message.buffers).map(({ spec, data }) => ({ ...spec, data }));
      const frames = encode({ type, id, ref: message.ref ?? undefined, buffers, ...message.fields });
      // The same JSON, keys in the same order (JavaScript writes Python's 0.0 as 0).
      assert.equal(frames[0], text.replace(/(\d)\.0(?=[,}\]])/g, "$1"));
      assert.equal(frames.length, 1 + specs.length);
    });
  }
});

/** The engine's schema facts the panel mirrors. */
function engineFacts() {
  const script = [
    "import json",
    "from wire.protocol import schemas",
    "count = schemas.REQUEST_SCHEMAS['soft_segments']['properties']['count']",
    "masks = schemas.REQUEST_SCHEMAS['soft_segments']['properties']['masks']",
    "print(json.dumps({'count': count, 'masks': masks['enum'], 'masks_default': masks['default'], 'max_buffers': schemas.MAX_BUFFERS}))",
  ].join("\n");
  return JSON.parse(execFileSync(pythonPath(), ["-c", script], { cwd: REPO_ROOT, encoding: "utf8" }));
}

describe("the panel's requests against the engine's own schemas", () => {
  const image = rawImage("image", "rgba8", 4, 3, pixels(48));
  const grey = rawImage("image", "grey8", 4, 3, pixels(12));
  const guide = rawImage("guide", "grey8", 4, 3, pixels(12, 3));
  const texts = (built) => built.map((b, i) => encode({ ...b.fields, type: b.type, id: `p${i + 1}`, buffers: b.buffers })[0]);

  test("select_subject, refine, adjust_edges and soft_segments, as the panel builds them, are valid requests", () => {
    const built = [
      requests.selectSubject(image, { outputs: ["alpha"], refine: "best", edges: { feather: 2, shift_edge: -10 }, decontaminate: 0.5 }),
      requests.selectSubject(grey, { outputs: ["alpha", "foreground"], refine: "fast" }),
      requests.refine(image, guide, { outputs: ["alpha"], mode: "fast" }),
      requests.adjustEdges("r1", { outputs: ["alpha", "foreground"], edges: { smooth: 30 }, decontaminate: 1 }),
      requests.softSegments(image),
      requests.softSegments(grey, { count: SEGMENTS.min, masks: "soft" }),
      requests.softSegments(image, { count: SEGMENTS.max }),
    ];
    assert.deepEqual(engineVerdicts(texts(built)), built.map(() => "ok"));
    const soft = JSON.parse(texts([requests.softSegments(image)])[0]);
    assert.deepEqual(soft, {
      v: 2, type: "soft_segments", id: "p1", buffers: [{ name: "image", format: "rgba8", width: 4, height: 3, size: 48 }],
      count: 5, masks: "stacked", format: "raw",
    });
  });

  test("plate_matte as the panel builds it (raw plate of another size, PNG and JPEG files) is a valid request", () => {
    const plate = rawImage("plate", "rgba8", 5, 2, pixels(40, 7));
    const png = photoFile("plate", tinyPng(7, 5));
    const jpeg = photoFile("plate", tinyJpeg(9, 4));
    const built = [
      requests.plateMatte(image, plate, { outputs: ["alpha"], refine: "best", edges: { feather: 2 }, decontaminate: 0.5 }),
      requests.plateMatte(grey, png, { outputs: ["alpha", "foreground"], refine: "fast" }),
      requests.plateMatte(image, jpeg, { outputs: ["alpha"], refine: "best" }),
    ];
    assert.deepEqual(engineVerdicts(texts(built)), built.map(() => "ok"));
    assert.deepEqual(JSON.parse(texts([built[0]])[0]), {
      v: 2, type: "plate_matte", id: "p1",
      buffers: [{ name: "image", format: "rgba8", width: 4, height: 3, size: 48 }, { name: "plate", format: "rgba8", width: 5, height: 2, size: 40 }],
      outputs: ["alpha"], format: "raw", refine: "best", edges: { feather: 2 }, decontaminate: 0.5,
    });
    // The buffers must be the image and the plate, in that order (the engine refuses anything else too).
    assert.throws(() => requests.plateMatte(plate, image, { outputs: ["alpha"], refine: "best" }), /image: expected the buffer named "image"/);
    assert.throws(() => requests.plateMatte(image, guide, { outputs: ["alpha"], refine: "best" }), /plate: expected the buffer named "plate"/);
    const swapped = { ...built[0], buffers: [built[0].buffers[1], built[0].buffers[0]] };
    assert.match(engineVerdicts(texts([swapped]))[0], /^bad_parameter: buffers/);
  });

  test("photoFile: a PNG's or JPEG's size from its header; anything else is refused", () => {
    assert.deepEqual({ ...photoFile("plate", tinyPng(640, 480)), data: null }, { name: "plate", format: "png", width: 640, height: 480, data: null });
    assert.deepEqual({ ...photoFile("plate", tinyJpeg(4032, 3024)), data: null }, { name: "plate", format: "jpeg", width: 4032, height: 3024, data: null });
    const bytes = tinyJpeg(3, 2);
    assert.equal(photoFile("plate", bytes.buffer).data.byteLength, bytes.byteLength, "an ArrayBuffer (what UXP's read gives) works");
    for (const bad of [new Uint8Array(0), new TextEncoder().encode("GIF89a................................."),
      tinyPng(0, 5), tinyJpeg(3, 2).subarray(0, 12), Uint8Array.of(0xff, 0xd8, 0xff, 0xda, 0, 2)]) {
      assert.throws(() => photoFile("plate", bad), /not a PNG or JPEG file/);
    }
  });

  test("soft_segments: what the builder refuses, the engine refuses too", () => {
    const good = requests.softSegments(image);
    const bad = [
      [{ count: SEGMENTS.max + 1 }, /count/],
      [{ count: SEGMENTS.min - 1 }, /count/],
      [{ count: 2.5 }, /count/],
      [{ masks: "hard" }, /masks/],
    ];
    for (const [fields, pattern] of bad) {
      assert.throws(() => requests.softSegments(image, fields), pattern);
      const [verdict] = engineVerdicts(texts([{ ...good, fields: { ...good.fields, ...fields } }]));
      assert.match(verdict, /^bad_parameter: /, JSON.stringify(fields));
      assert.match(verdict, pattern);
    }
    assert.match(engineVerdicts(texts([{ ...good, buffers: [] }]))[0], /^bad_parameter: buffers/, "the image is required");
  });

  test("SEGMENTS mirrors soft_segments' count, and answers fit in one message", () => {
    const facts = engineFacts();
    assert.deepEqual([SEGMENTS.min, SEGMENTS.max, SEGMENTS.default], [facts.count.minimum, facts.count.maximum, facts.count.default]);
    assert.deepEqual([...protocol.SEGMENT_MASKS], facts.masks);
    assert.equal(facts.masks_default, "stacked");
    assert.equal(protocol.MAX_BUFFERS, facts.max_buffers);
    assert.ok(protocol.MAX_BUFFERS >= SEGMENTS.max, "one answer buffer a layer");
    assert.deepEqual(segmentNames(3), ["segment0", "segment1", "segment2"]);
  });
});
