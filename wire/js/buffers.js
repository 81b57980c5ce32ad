"use strict";
/**
 * A message's buffers (docs/protocol.md): the checks a buffer passes before it is sent (name,
 * format, size against its payload), the request buffers the panel builds from raw pixels
 * (`rawImage`) or from a PNG or JPEG file (`photoFile`), and a buffer's content key
 * (`bufferKey`, what select_object names a prepared image by).
 */

const { BUFFER_FORMATS, MAX_NAME_LENGTH, RAW_CHANNELS } = require("./constants");
const { BadImage, imageInfo } = require("./image_size");
const { sha256, toHex, utf8 } = require("./hmac");

/**
 * What a value is, for an error message: `null`, its class's name, or its typeof.
 * @param {unknown} value
 * @returns {string}
 */
function describe(value) {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor ? value.constructor.name : "object";
  return typeof value;
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

/**
 * @param {unknown} value
 * @returns {boolean} whether it is a safe integer > 0
 */
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
  let info;
  try {
    info = imageInfo(data);
  } catch (error) {
    if (error instanceof BadImage) throw new RangeError("not a PNG or JPEG file");
    throw error;
  }
  return { name, ...info, data };
}

/**
 * A buffer's content key: SHA-256 over "{format}\n{width}\n{height}\n" and its payload, as 64
 * lowercase hex digits (the engine's `buffer_key`, wire/protocol/envelope.py). select_object
 * keeps a prepared image under its image buffer's key, so a client that computes it sends the
 * pixels once.
 * @param {{name: string, format: string, width: number, height: number, data: ArrayBuffer|ArrayBufferView}} buffer
 *   any valid buffer, e.g. an `image` of rgba8, rgb8 or grey8 pixels (0–255, row-major, top-down).
 * @returns {string} 64 lowercase hex digits
 * @throws {RangeError|TypeError} for a buffer `checkBuffer` refuses
 */
function bufferKey(buffer) {
  const data = checkBuffer(buffer, "buffer");
  return toHex(sha256(utf8(`${buffer.format}\n${buffer.width}\n${buffer.height}\n`), data));
}

/**
 * The box around the non-zero pixels of a grey8 image: [x0, y0, x1, y1] (x1 = last column + 1), or null
 * when every pixel is 0. Each row is read from its two ends only as far as its first and last non-zero.
 * @param {Uint8Array} data width*height bytes
 * @returns {number[]|null}
 */
function nonzeroBox(data, width, height) {
  let x0 = width, y0 = height, x1 = 0, y1 = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let first = 0;
    while (first < width && data[row + first] === 0) first++;
    if (first === width) continue;
    let last = width - 1;
    while (data[row + last] === 0) last--;
    x0 = Math.min(x0, first);
    x1 = Math.max(x1, last + 1);
    if (y0 === height) y0 = y;
    y1 = y + 1;
  }
  return x1 > x0 ? [x0, y0, x1, y1] : null;
}

/**
 * A whole grey8 request buffer as the box where it is non-zero, placed by its `within` (docs/protocol.md,
 * BufferSpec); all zero: its top-left pixel. A buffer already placed, not grey8, or non-zero out to its
 * four sides, as it is. The twin of wire/protocol/boxes.py's `cropped`.
 * @param {{name: string, format: string, width: number, height: number, data: Uint8Array, within?: number[]}} buffer
 * @returns {{name: string, format: string, width: number, height: number, data: Uint8Array, within?: number[]}}
 */
function croppedGrey(buffer) {
  if (buffer.format !== "grey8" || buffer.within !== undefined) return buffer;
  const { width, height } = buffer;
  const data = asBytes(buffer.data, buffer.name);
  const [x0, y0, x1, y1] = nonzeroBox(data, width, height) || [0, 0, 1, 1];
  if (x1 - x0 === width && y1 - y0 === height) return buffer;
  const box = new Uint8Array((x1 - x0) * (y1 - y0));
  for (let y = y0; y < y1; y++) box.set(data.subarray(y * width + x0, y * width + x1), (y - y0) * (x1 - x0));
  return { name: buffer.name, format: "grey8", width: x1 - x0, height: y1 - y0, data: box, within: [x0, y0, width, height] };
}

module.exports = { describe, asBytes, isPositiveInteger, checkBuffer, rawImage, photoFile, bufferKey, nonzeroBox, croppedGrey };
