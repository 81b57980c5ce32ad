"use strict";
/**
 * Softcut protocol v2 codec: messages ⇄ WebSocket frames, with no I/O.
 *
 * The JavaScript twin of wire/protocol/codec.py, for the client side
 * (docs/protocol.md). A message is one text frame (a JSON object) followed by
 * one binary frame per entry of its `buffers` list, in order. `encode` builds
 * the frames of a request; a `Decoder` turns the engine's frames back into
 * messages. Nothing here touches a socket.
 */

const { PROTOCOL_VERSION, RAW_CHANNELS, BUFFER_FORMATS, MAX_BUFFERS, MAX_NAME_LENGTH, ENVELOPE_KEYS, ID_PATTERN } = require("./constants");
const { asBytes, checkBuffer, describe, isPositiveInteger } = require("./buffers");
const { pngHeaderSize } = require("./image_size");

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
    envelope.buffers = buffers.map((b, i) => ({
      name: b.name, format: b.format, width: b.width, height: b.height, size: payloads[i].byteLength,
      ...(b.within === undefined ? {} : { within: b.within }),
    }));
  }
  for (const [key, value] of Object.entries(message)) {
    if (!ENVELOPE_KEYS.includes(key) && value !== undefined) envelope[key] = value;
  }
  return [JSON.stringify(envelope, refuseNonFinite), ...payloads];
}

/** The most pixels a buffer's whole image (`within`'s full size) may have: what this client will allocate. */
const MAX_WHOLE_PIXELS = 2 ** 28;

/**
 * Check a grey8 buffer's `within` ([x, y, full_width, full_height]: its payload is that rectangle of a
 * larger image, 0 elsewhere).
 * @returns {number[]} the four integers
 */
function readWithin(within, format, width, height, fail) {
  if (format !== "grey8") throw fail(`.within: only a grey8 buffer can be part of a larger image; got ${format}`);
  const ok = Array.isArray(within) && within.length === 4 && within.every(Number.isSafeInteger)
    && within[0] >= 0 && within[1] >= 0 && within[2] >= 1 && within[3] >= 1;
  if (!ok) throw fail(`.within: expected [x, y, full_width, full_height] integers; got ${JSON.stringify(within)}`);
  const [x, y, fullWidth, fullHeight] = within;
  if (x + width > fullWidth || y + height > fullHeight) {
    throw fail(`.within: the ${width}x${height} rectangle at (${x}, ${y}) does not lie inside ${fullWidth}x${fullHeight}`);
  }
  if (fullWidth * fullHeight > MAX_WHOLE_PIXELS) throw fail(`.within: ${fullWidth}x${fullHeight} is more than ${MAX_WHOLE_PIXELS} pixels`);
  return [x, y, fullWidth, fullHeight];
}

/**
 * A decoded buffer as the whole image it is: one `within` a larger image placed in it, 0 around it.
 * @returns {{spec: object, data: Uint8Array}}
 */
function whole(spec, data) {
  if (spec.within === undefined) return { spec, data };
  const [x, y, fullWidth, fullHeight] = spec.within;
  const out = new Uint8Array(fullWidth * fullHeight);
  for (let row = 0; row < spec.height; row++) {
    out.set(data.subarray(row * spec.width, (row + 1) * spec.width), (y + row) * fullWidth + x);
  }
  return { spec: { name: spec.name, format: spec.format, width: fullWidth, height: fullHeight, size: out.byteLength }, data: out };
}

/**
 * Check the envelope's buffer specs (before any payload arrives).
 * @returns {Array<{name: string, format: string, width: number, height: number, size: number, within?: number[]}>}
 */
function readSpecs(value, ref) {
  const fail = (text) => new ProtocolError(`buffers${text}`, { ref });
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw fail(`: expected an array; got ${describe(value)}`);
  if (value.length > MAX_BUFFERS) throw fail(`: at most ${MAX_BUFFERS} entries; got ${value.length}`);
  const names = new Set();
  return value.map((spec, i) => {
    if (spec === null || typeof spec !== "object" || Array.isArray(spec)) throw fail(`[${i}]: expected an object`);
    const { name, format, width, height, size, within } = spec;
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
    if (within !== undefined) {
      return { name, format, width, height, size, within: readWithin(within, format, width, height, (text) => fail(`[${i}]${text}`)) };
    }
    return { name, format, width, height, size };
  });
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
      buffers[spec.name] = whole(spec, this._payloads[i]);  // a cropped alpha (crop_alpha) at the image's size
    });
    this._header = null;
    this._specs = [];
    this._payloads = [];
    return { type, id, ref, fields, buffers };
  }
}

module.exports = { ProtocolError, isValidId, idGenerator, encode, Decoder, whole };
