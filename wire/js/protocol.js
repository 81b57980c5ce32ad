"use strict";
/**
 * Softcut protocol v2 codec: messages ⇄ WebSocket frames, with no I/O.
 *
 * The JavaScript twin of wire/protocol/codec.py, for the client side
 * (docs/protocol.md). A message is one text frame (a JSON object) followed by
 * one binary frame per entry of its `buffers` list, in order. `encode` builds
 * the frames of a request; a `Decoder` turns the engine's frames back into
 * messages. `requests` builds the requests the panel sends (type, fields and buffers).
 * Nothing here touches a socket.
 */

/** The protocol version this client speaks (`v` and `hello.protocol`). */
const PROTOCOL_VERSION = 2;
/** The port `softcut serve` listens on by default. */
const DEFAULT_PORT = 47841;
/** Buffer formats and the channels of the raw ones (png and jpeg have none: their size is the file's). */
const RAW_CHANNELS = Object.freeze({ rgba8: 4, rgb8: 3, grey8: 1 });
const BUFFER_FORMATS = Object.freeze(["rgba8", "rgb8", "grey8", "png", "jpeg"]);
/** At most this many buffers (binary frames) follow one message. */
const MAX_BUFFERS = 10;
const MAX_NAME_LENGTH = 128;
const ENVELOPE_KEYS = Object.freeze(["v", "type", "id", "ref", "buffers"]);
const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_HEADER_BYTES = 33; // signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC)

/** A frame or message broke the protocol; `code` is a protocol error code such as `bad_message`. */
class ProtocolError extends Error {
  /**
   * @param {string} message what was wrong, naming the field
   * @param {{code?: string, ref?: (string|null)}} [options] the error code (default `bad_message`) and the message's id
   */
  constructor(message, { code = "bad_message", ref = null } = {}) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
    this.ref = ref;
  }
}

/**
 * Whether `value` is a valid message id: 1–64 characters from A–Z a–z 0–9 _ . : -
 * @param {unknown} value
 * @returns {boolean}
 */
function isValidId(value) {
  return typeof value === "string" && ID_PATTERN.test(value);
}

/**
 * Sequential message ids for one connection: `p1`, `p2`, … (ids must be unique per
 * sender for a connection's lifetime, so make one generator per connection).
 * @param {string} [prefix="p"] characters from A–Z a–z 0–9 _ . : -
 * @returns {() => string} a function returning the next id
 */
function idGenerator(prefix = "p") {
  if (!isValidId(prefix + "0") || prefix.length > 48) {
    throw new RangeError(`prefix: expected up to 48 characters from A-Z a-z 0-9 _ . : -; got ${JSON.stringify(prefix)}`);
  }
  let counter = 0;
  return () => `${prefix}${++counter}`;
}

/**
 * Bytes of a binary payload as a Uint8Array over the same memory (no copy).
 * @param {ArrayBuffer|ArrayBufferView} data
 * @param {string} what the parameter's name, for the error
 * @returns {Uint8Array}
 */
function asBytes(data, what) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${what}: expected an ArrayBuffer or a typed array; got ${describe(data)}`);
}

function describe(value) {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor ? value.constructor.name : "object";
  return typeof value;
}

function isPositiveInteger(value) {
  return Number.isSafeInteger(value) && value > 0;
}

/**
 * Check a buffer's name, format and size; returns its payload as bytes.
 * @param {{name: string, format: string, width: number, height: number, data: ArrayBuffer|ArrayBufferView}} buffer
 * @param {string} where e.g. `buffers[0]`
 * @returns {Uint8Array}
 */
function checkBuffer(buffer, where) {
  if (buffer === null || typeof buffer !== "object") {
    throw new TypeError(`${where}: expected {name, format, width, height, data}; got ${describe(buffer)}`);
  }
  const { name, format, width, height } = buffer;
  if (typeof name !== "string" || name.length < 1 || name.length > MAX_NAME_LENGTH) {
    throw new RangeError(`${where}.name: expected a string of 1 to ${MAX_NAME_LENGTH} characters; got ${JSON.stringify(name)}`);
  }
  if (!BUFFER_FORMATS.includes(format)) {
    throw new RangeError(`${where}.format: expected one of ${BUFFER_FORMATS.join(", ")}; got ${JSON.stringify(format)}`);
  }
  for (const [key, value] of [["width", width], ["height", height]]) {
    if (!isPositiveInteger(value)) throw new RangeError(`${where}.${key}: expected an integer > 0; got ${value}`);
  }
  const data = asBytes(buffer.data, `${where}.data`);
  const channels = RAW_CHANNELS[format];
  if (channels !== undefined && data.byteLength !== width * height * channels) {
    throw new RangeError(
      `${where} (${name}): ${format} ${width}x${height} needs width*height*${channels} = ${width * height * channels} bytes; got ${data.byteLength}`,
    );
  }
  if (data.byteLength === 0) throw new RangeError(`${where} (${name}): the payload is empty`);
  return data;
}

/**
 * A raw-pixel buffer for a request (8 bits per channel, row-major, top-down, no padding).
 * @param {string} name e.g. `image` or `guide`
 * @param {"rgba8"|"rgb8"|"grey8"} format straight (not premultiplied) alpha for rgba8
 * @param {number} width
 * @param {number} height
 * @param {ArrayBuffer|ArrayBufferView} data width*height*channels bytes
 * @returns {{name: string, format: string, width: number, height: number, data: Uint8Array}}
 * @throws {RangeError} when the format is not raw or the size does not match
 */
function rawImage(name, format, width, height, data) {
  if (RAW_CHANNELS[format] === undefined) {
    throw new RangeError(`format: expected one of ${Object.keys(RAW_CHANNELS).join(", ")}; got ${JSON.stringify(format)}`);
  }
  const buffer = { name, format, width, height, data };
  buffer.data = checkBuffer(buffer, name === undefined ? "image" : String(name));
  return buffer;
}

function refuseNonFinite(key, value) {
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new RangeError(`${key || "message"}: ${value} is not JSON (NaN and Infinity are refused)`);
  }
  return value;
}

/**
 * The frames that carry a message: its JSON text, then one Uint8Array per buffer.
 *
 * The JSON is compact with the keys in the order v, type, id, ref, buffers (specs with
 * `size` filled in from each payload), then the fields. Payloads are not copied.
 * @param {{type: string, id: string, ref?: string, buffers?: Array<{name: string, format: string, width: number, height: number, data: ArrayBuffer|ArrayBufferView}>, [field: string]: unknown}} message
 * @returns {Array<string|Uint8Array>} `[json, payload0, payload1, …]`
 * @throws {RangeError|TypeError} for an invalid type, id or ref, a `v` other than PROTOCOL_VERSION,
 *   a buffer whose size disagrees with its spec, repeated buffer names, or NaN/Infinity
 */
function encode(message) {
  if (message === null || typeof message !== "object") throw new TypeError(`message: expected an object; got ${describe(message)}`);
  const { type, id, ref, buffers = [] } = message;
  if (typeof type !== "string" || type.length === 0) throw new RangeError(`type: expected a non-empty string; got ${JSON.stringify(type)}`);
  if (!isValidId(id)) throw new RangeError(`id: expected 1 to 64 characters from A-Z a-z 0-9 _ . : -; got ${JSON.stringify(id)}`);
  if (ref !== undefined && !isValidId(ref)) throw new RangeError(`ref: expected a message id; got ${JSON.stringify(ref)}`);
  if (message.v !== undefined && message.v !== PROTOCOL_VERSION) {
    throw new RangeError(`v: this client speaks protocol ${PROTOCOL_VERSION}; got ${JSON.stringify(message.v)}`);
  }
  if (!Array.isArray(buffers)) throw new TypeError(`buffers: expected an array; got ${describe(buffers)}`);
  if (buffers.length > MAX_BUFFERS) throw new RangeError(`buffers: at most ${MAX_BUFFERS}; got ${buffers.length}`);
  const payloads = buffers.map((buffer, i) => checkBuffer(buffer, `buffers[${i}]`));
  const names = new Set(buffers.map((b) => b.name));
  if (names.size !== buffers.length) throw new RangeError("buffers: names must be unique within a message");

  const envelope = { v: PROTOCOL_VERSION, type, id };
  if (ref !== undefined) envelope.ref = ref;
  if (buffers.length > 0) {
    envelope.buffers = buffers.map((b, i) => ({ name: b.name, format: b.format, width: b.width, height: b.height, size: payloads[i].byteLength }));
  }
  for (const [key, value] of Object.entries(message)) {
    if (!ENVELOPE_KEYS.includes(key) && value !== undefined) envelope[key] = value;
  }
  return [JSON.stringify(envelope, refuseNonFinite), ...payloads];
}

/**
 * Check the envelope's buffer specs (before any payload arrives).
 * @returns {Array<{name: string, format: string, width: number, height: number, size: number}>}
 */
function readSpecs(value, ref) {
  const fail = (text) => new ProtocolError(`buffers${text}`, { ref });
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw fail(`: expected an array; got ${describe(value)}`);
  if (value.length > MAX_BUFFERS) throw fail(`: at most ${MAX_BUFFERS} entries; got ${value.length}`);
  const names = new Set();
  return value.map((spec, i) => {
    if (spec === null || typeof spec !== "object" || Array.isArray(spec)) throw fail(`[${i}]: expected an object`);
    const { name, format, width, height, size } = spec;
    if (typeof name !== "string" || name.length < 1 || name.length > MAX_NAME_LENGTH) throw fail(`[${i}].name: expected a string of 1 to ${MAX_NAME_LENGTH} characters`);
    if (names.has(name)) throw fail(`[${i}].name: ${JSON.stringify(name)} is repeated`);
    names.add(name);
    if (!BUFFER_FORMATS.includes(format)) throw fail(`[${i}].format: expected one of ${BUFFER_FORMATS.join(", ")}; got ${JSON.stringify(format)}`);
    for (const [key, v] of [["width", width], ["height", height], ["size", size]]) {
      if (!isPositiveInteger(v)) throw fail(`[${i}].${key}: expected an integer > 0; got ${JSON.stringify(v)}`);
    }
    const channels = RAW_CHANNELS[format];
    if (channels !== undefined && size !== width * height * channels) {
      throw fail(`[${i}].size: expected width*height*${channels} = ${width * height * channels} for ${format}; got ${size}`);
    }
    return { name, format, width, height, size };
  });
}

/** The size a PNG file's header (IHDR) states, zero included; null when it is not a PNG. */
function pngHeaderSize(data) {
  const header = data.byteLength >= PNG_HEADER_BYTES && PNG_SIGNATURE.every((b, i) => data[i] === b) && String.fromCharCode(...data.subarray(12, 16)) === "IHDR";
  if (!header) return null;
  const view = new DataView(data.buffer, data.byteOffset + 16, 8);
  return { width: view.getUint32(0), height: view.getUint32(4) };
}

function checkPng(data, spec, where, ref) {
  const size = pngHeaderSize(data);
  if (!size) throw new ProtocolError(`${where}: not a PNG file`, { code: "bad_image", ref });
  const { width, height } = size;
  if (width !== spec.width || height !== spec.height) {
    throw new ProtocolError(`${where}: the PNG is ${width}x${height}; the spec says ${spec.width}x${spec.height}`, { code: "bad_image", ref });
  }
}

/**
 * Turns one connection's incoming frames into messages (the engine → client direction).
 *
 * A text frame starts a message; the binary frames it announces follow. Each broken
 * message throws one ProtocolError; the decoder then drops binary frames up to the
 * next text frame (the rest of the broken message) and stays usable.
 */
class Decoder {
  constructor() {
    this._header = null; // the message whose buffers are due
    this._specs = [];
    this._payloads = [];
    this._skipping = false;
    /** Binary frames dropped after a broken message. */
    this.droppedFrames = 0;
  }

  /** The id of the message whose buffers are still due, else null. */
  get pending() {
    return this._header === null ? null : this._header.id;
  }

  /**
   * Take one frame.
   * @param {string|ArrayBuffer|ArrayBufferView} frame a text frame (string) or a binary frame
   * @returns {{type: string, id: string, ref: (string|null), fields: Object<string, unknown>, buffers: Object<string, {spec: {name: string, format: string, width: number, height: number, size: number}, data: Uint8Array}>}|null}
   *   a complete message, or null while its buffers are still due (or a dropped frame)
   * @throws {ProtocolError} for a malformed message: bad JSON, a missing or invalid envelope
   *   field, an unannounced binary frame, a binary frame of the wrong size, or a text frame
   *   while buffers are due
   * @throws {TypeError} when the frame is neither a string nor binary data
   */
  feed(frame) {
    if (typeof frame === "string") return this._text(frame);
    const data = asBytes(frame, "frame");
    if (this._header !== null) return this._binary(data);
    if (this._skipping) {
      this.droppedFrames += 1;
      return null;
    }
    this._skipping = true;
    throw new ProtocolError("unexpected binary frame: no message announced a buffer");
  }

  _fail(message, options) {
    this._header = null;
    this._specs = [];
    this._payloads = [];
    this._skipping = true;
    return new ProtocolError(message, options);
  }

  _text(frame) {
    if (this._header !== null) {
      const { id } = this._header;
      const index = this._payloads.length;
      throw this._fail(
        `expected binary frame ${index + 1} of ${this._specs.length} (buffer ${JSON.stringify(this._specs[index].name)}) of message ${JSON.stringify(id)}; got a text frame`,
        { ref: this._header.ref },
      );
    }
    this._skipping = false;
    let obj;
    try {
      obj = JSON.parse(frame);
    } catch (error) {
      throw this._fail(`text frame is not valid JSON: ${error.message}`);
    }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
      throw this._fail(`expected a JSON object; got ${Array.isArray(obj) ? "array" : describe(obj)}`);
    }
    const ref = isValidId(obj.ref) ? obj.ref : null;
    if (!isValidId(obj.id)) {
      throw this._fail(`id: ${"id" in obj ? `expected 1 to 64 characters from A-Z a-z 0-9 _ . : -; got ${JSON.stringify(obj.id)}` : "required field is missing"}`, { ref });
    }
    if (!("v" in obj)) throw this._fail("v: required field is missing", { ref });
    if (obj.v !== PROTOCOL_VERSION) {
      throw this._fail(`v: this client speaks protocol ${PROTOCOL_VERSION}; got ${JSON.stringify(obj.v)}`, { code: "unsupported_version", ref });
    }
    if (typeof obj.type !== "string" || obj.type.length === 0) throw this._fail(`type: expected a non-empty string; got ${JSON.stringify(obj.type)}`, { ref });
    if (obj.ref !== undefined && obj.ref !== null && ref === null) throw this._fail(`ref: expected a message id or null; got ${JSON.stringify(obj.ref)}`);
    let specs;
    try {
      specs = readSpecs(obj.buffers, ref);
    } catch (error) {
      throw this._fail(error.message, { ref });
    }
    this._header = { ...obj, ref };
    this._specs = specs;
    this._payloads = [];
    return specs.length === 0 ? this._finish() : null;
  }

  _binary(data) {
    const header = this._header;
    const index = this._payloads.length;
    const spec = this._specs[index];
    const where = `buffers[${index}] (${JSON.stringify(spec.name)}) of message ${JSON.stringify(header.id)}`;
    if (data.byteLength !== spec.size) {
      throw this._fail(`${where}: expected ${spec.size} bytes; got a frame of ${data.byteLength}`, { ref: header.ref });
    }
    if (spec.format === "png") {
      try {
        checkPng(data, spec, where, header.ref);
      } catch (error) {
        throw this._fail(error.message, { code: error.code, ref: header.ref });
      }
    }
    this._payloads.push(data);
    return this._payloads.length < this._specs.length ? null : this._finish();
  }

  _finish() {
    const { type, id, ref } = this._header;
    const fields = {};
    for (const [key, value] of Object.entries(this._header)) {
      if (!ENVELOPE_KEYS.includes(key)) fields[key] = value;
    }
    const buffers = {};
    this._specs.forEach((spec, i) => {
      buffers[spec.name] = { spec, data: this._payloads[i] };
    });
    this._header = null;
    this._specs = [];
    this._payloads = [];
    return { type, id, ref, fields, buffers };
  }
}

// ------------------------------------------------------------------ image files

/** JPEG start-of-frame markers (SOF0–SOF15 but DHT, JPG and DAC), and markers without a length. */
const JPEG_SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
const JPEG_STANDALONE = new Set([0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0x01]);

/**
 * The stored size of a JPEG file, from its frame header (no decoding; the engine's codec reads
 * it the same way and checks it against the buffer's spec). Null when it is not a JPEG or ends
 * before its frame header.
 * @param {Uint8Array} data
 * @returns {{width: number, height: number}|null}
 */
function jpegSize(data) {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) return null;
  let i = 2;
  while (i + 4 <= data.length) {
    if (data[i] !== 0xff) return null;
    const marker = data[i + 1];
    if (marker === 0xff) { i += 1; continue; } // fill byte
    if (JPEG_STANDALONE.has(marker)) { i += 2; continue; }
    if (marker === 0xd9 || marker === 0xda) return null; // EOI, or the scan before any frame header
    const length = (data[i + 2] << 8) | data[i + 3];
    if (length < 2) return null;
    if (JPEG_SOF.has(marker)) {
      if (i + 9 > data.length || length < 7) return null;
      const height = (data[i + 5] << 8) | data[i + 6];
      const width = (data[i + 7] << 8) | data[i + 8];
      return width > 0 && height > 0 ? { width, height } : null;
    }
    i += 2 + length;
  }
  return null;
}

/** The size in a PNG file's header, or null when it is not a PNG or states a zero size. */
function pngSize(data) {
  const size = pngHeaderSize(data);
  return size && size.width > 0 && size.height > 0 ? size : null;
}

/**
 * A PNG or JPEG file as a request buffer (sent as it is: the engine decodes it), its size read
 * from the file's header.
 * @param {string} name the buffer's name, e.g. `plate`.
 * @param {ArrayBuffer|ArrayBufferView} bytes the whole file.
 * @returns {{name: string, format: "png"|"jpeg", width: number, height: number, data: Uint8Array}}
 * @throws {RangeError} when the bytes are neither a PNG nor a JPEG with a readable size
 */
function photoFile(name, bytes) {
  const data = asBytes(bytes, name);
  const png = pngSize(data);
  if (png) return { name, format: "png", ...png, data };
  const jpeg = jpegSize(data);
  if (jpeg) return { name, format: "jpeg", ...jpeg, data };
  throw new RangeError("not a PNG or JPEG file");
}

// ------------------------------------------------------------------ the panel's requests

/** soft_segments' `count`: 2–10 layers, 5 by default (the answer carries one buffer a layer). */
const SEGMENTS = Object.freeze({ min: 2, max: 10, default: 5 });
/** soft_segments' `masks`: "stacked" (the layers stack back into the image) or "soft" (each segment's own alpha). */
const SEGMENT_MASKS = Object.freeze(["stacked", "soft"]);

/**
 * Whether soft_segments can answer `count` layers (an integer from SEGMENTS.min to SEGMENTS.max).
 * @param {*} count
 * @returns {boolean}
 */
function isSegmentCount(count) {
  return Number.isInteger(count) && count >= SEGMENTS.min && count <= SEGMENTS.max;
}

/**
 * The names of soft_segments' answer buffers, bottom layer first: segment0, segment1, …
 * @param {number} count
 * @returns {string[]}
 */
function segmentNames(count) {
  return Array.from({ length: count }, (_, k) => `segment${k}`);
}

/**
 * A request for `EngineClient.send`: its type, fields and buffers. Every result comes as raw
 * buffers (`format: "raw"`: the panel has no PNG decoder).
 * @typedef {{type: string, fields: object, buffers: Array<{name: string, format: string, width: number, height: number, data: Uint8Array}>}} Request
 */
/** `fields` with `model` when one is named (absent: the engine's default). */
function withModel(fields, model) {
  if (model !== null && model !== undefined) {
    if (typeof model !== "string" || !model) throw new RangeError(`model: expected a model name; got ${JSON.stringify(model)}`);
    fields.model = model;
  }
  return fields;
}

const requests = Object.freeze({
  /**
   * select_subject: the model's matte of `image`, refined, with edge controls.
   * @param image the `image` buffer (rgba8, rgb8 or grey8).
   * @param {{outputs: string[], refine: string, edges?: object, decontaminate?: number, model?: string|null}} options
   *   `model`: a present model of the engine's list (absent or null: the engine's default)
   * @returns {Request}
   */
  selectSubject(image, { outputs, refine, edges = {}, decontaminate = 1, model = null }) {
    return { type: "select_subject", fields: withModel({ outputs, format: "raw", refine, edges, decontaminate }, model), buffers: [image] };
  },

  /**
   * plate_matte: Select Subject helped by a clean plate (the same scene without the subject);
   * the fields are select_subject's. The answer's `alignment` says how the plate was aligned; a
   * plate the engine cannot align is error `alignment_failed`.
   * @param image the `image` buffer (rgba8, rgb8 or grey8), as for selectSubject.
   * @param plate the `plate` buffer: raw (rgba8, rgb8, grey8) or a png/jpeg file (`photoFile`), any size.
   * @param {{outputs: string[], refine: string, edges?: object, decontaminate?: number, model?: string|null}} options
   * @returns {Request}
   * @throws {RangeError} when a buffer is not named `image` and `plate`
   */
  plateMatte(image, plate, { outputs, refine, edges = {}, decontaminate = 1, model = null }) {
    if (!image || image.name !== "image") throw new RangeError(`image: expected the buffer named "image"; got ${JSON.stringify(image && image.name)}`);
    if (!plate || plate.name !== "plate") throw new RangeError(`plate: expected the buffer named "plate"; got ${JSON.stringify(plate && plate.name)}`);
    return { type: "plate_matte", fields: withModel({ outputs, format: "raw", refine, edges, decontaminate }, model), buffers: [image, plate] };
  },

  /**
   * refine: a rough mask (`guide`, grey8 of the image's size) refined into a matte.
   * @param {{outputs: string[], mode: string}} options
   * @returns {Request}
   */
  refine(image, guide, { outputs, mode }) {
    return { type: "refine", fields: { guide: "mask", mode, outputs, format: "raw" }, buffers: [image, guide] };
  },

  /**
   * adjust_edges: edge controls re-applied to the cached result `result`.
   * @param {string} result the `result` id of an earlier answer on this connection.
   * @param {{outputs: string[], edges: object, decontaminate: number}} options
   * @returns {Request}
   */
  adjustEdges(result, { outputs, edges, decontaminate }) {
    return { type: "adjust_edges", fields: { result, edges, decontaminate, outputs, format: "raw" }, buffers: [] };
  },

  /**
   * soft_segments: `image` as `count` soft layers; the answer's buffers segment0… are rgba8 of
   * the image's size, bottom layer first: decontaminated colours, and the layer's mask as alpha.
   * @param {{count?: number, masks?: string, model?: string|null}} [options]
   * @returns {Request}
   * @throws {RangeError} for a count outside SEGMENTS.min–SEGMENTS.max or unknown masks
   */
  softSegments(image, { count = SEGMENTS.default, masks = "stacked", model = null } = {}) {
    if (!isSegmentCount(count)) {
      throw new RangeError(`count: expected an integer from ${SEGMENTS.min} to ${SEGMENTS.max}; got ${JSON.stringify(count)}`);
    }
    if (!SEGMENT_MASKS.includes(masks)) throw new RangeError(`masks: expected one of ${SEGMENT_MASKS.join(", ")}; got ${JSON.stringify(masks)}`);
    return { type: "soft_segments", fields: withModel({ count, masks, format: "raw" }, model), buffers: [image] };
  },
});

module.exports = {
  PROTOCOL_VERSION,
  DEFAULT_PORT,
  RAW_CHANNELS,
  BUFFER_FORMATS,
  MAX_BUFFERS,
  ProtocolError,
  isValidId,
  idGenerator,
  rawImage,
  photoFile,
  encode,
  Decoder,
  SEGMENTS,
  SEGMENT_MASKS,
  isSegmentCount,
  segmentNames,
  requests,
};
