"use strict";
/**
 * The kind and stored size of a PNG or JPEG file, read from its header (no decoding).
 *
 * The engine's codec (wire/protocol/codec.py) reads them the same way and checks them against
 * a buffer's spec, so a file refused here would be refused there. The panel's `photoFile` and
 * the message decoder use these, and so does the phone page, which shows a BadImage's message
 * to the user.
 */

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_HEADER_BYTES = 33; // signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC)
/** SOF markers (frame headers) of every JPEG coding process: C0–CF but DHT (C4), JPG (C8), DAC (CC). */
const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
/** Markers that stand alone (no length field): TEM and RST0–RST7. */
const STANDALONE_MARKERS = new Set([0x01, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7]);
const SOS = 0xda;
const EOI = 0xd9;

/** An image file that cannot be sent: not JPEG or PNG, or a damaged header; the message says why. */
class BadImage extends Error {
  /** @param {string} message what is wrong with the file */
  constructor(message) {
    super(message);
    this.name = "BadImage";
  }
}

/**
 * The kind of image file from its first bytes (the magic numbers), whatever its name says.
 * @param {Uint8Array} bytes the file's bytes (at least its first 8)
 * @returns {"jpeg"|"png"|null} null for anything else (HEIC, WebP, GIF, not an image)
 */
function sniffImageType(bytes) {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return "png";
  return null;
}

/**
 * Big-endian unsigned 16-bit integer at `offset`.
 * @param {Uint8Array} bytes
 * @param {number} offset
 * @returns {number}
 */
function uint16(bytes, offset) {
  return (bytes[offset] << 8) | bytes[offset + 1];
}

/**
 * The stored dimensions of a JPEG: those of its frame header (SOF marker), before any EXIF
 * rotation. Segments are skipped by their lengths, so a thumbnail inside an EXIF (APP1)
 * segment is never mistaken for the image.
 * @param {Uint8Array} bytes the whole file, or at least everything up to its SOF segment
 * @returns {{width: number, height: number}}
 * @throws {BadImage} not a JPEG, truncated before its frame header, or a frame header that
 *   leaves the height to a later DNL marker (height 0)
 */
function jpegSize(bytes) {
  if (sniffImageType(bytes) !== "jpeg") throw new BadImage("not a JPEG file (it does not start with FF D8 FF)");
  let offset = 2;
  for (;;) {
    while (offset < bytes.length && bytes[offset] === 0xff && bytes[offset + 1] === 0xff) offset += 1; // fill bytes
    if (offset + 4 > bytes.length) throw new BadImage("the JPEG ends before its frame header (SOF)");
    if (bytes[offset] !== 0xff) throw new BadImage(`the JPEG is damaged: no marker at byte ${offset}`);
    const marker = bytes[offset + 1];
    if (STANDALONE_MARKERS.has(marker)) {
      offset += 2;
      continue;
    }
    if (marker === SOS || marker === EOI) throw new BadImage("the JPEG has no frame header (SOF) before its image data");
    const length = uint16(bytes, offset + 2);
    if (length < 2) throw new BadImage(`the JPEG is damaged: segment length ${length} at byte ${offset}`);
    if (SOF_MARKERS.has(marker)) return frameSize(bytes, offset + 4, length);
    offset += 2 + length;
  }
}

/**
 * Width and height from a SOF segment's body: precision (1 byte), height (2), width (2).
 * @param {Uint8Array} bytes
 * @param {number} body offset of the segment's body (after the marker and the length)
 * @param {number} length the segment's length field (at least 7, as the engine's codec asks)
 * @returns {{width: number, height: number}}
 */
function frameSize(bytes, body, length) {
  if (length < 7 || body + 5 > bytes.length) throw new BadImage("the JPEG's frame header (SOF) is cut short");
  const height = uint16(bytes, body + 1);
  const width = uint16(bytes, body + 3);
  if (width === 0 || height === 0) throw new BadImage(`the JPEG's frame header says ${width}x${height} (a height set later by DNL is not supported)`);
  return { width, height };
}

/**
 * The size a PNG file's header (IHDR) states, zero included.
 * @param {Uint8Array} data
 * @returns {{width: number, height: number}|null} null when it is not a PNG whose first chunk is a whole IHDR
 */
function pngHeaderSize(data) {
  const header = data.byteLength >= PNG_HEADER_BYTES && PNG_SIGNATURE.every((b, i) => data[i] === b) && String.fromCharCode(...data.subarray(12, 16)) === "IHDR";
  if (!header) return null;
  const view = new DataView(data.buffer, data.byteOffset + 16, 8);
  return { width: view.getUint32(0), height: view.getUint32(4) };
}

/**
 * The dimensions in a PNG's header (IHDR, the first chunk).
 * @param {Uint8Array} bytes at least the first 33 bytes of the file (signature and IHDR)
 * @returns {{width: number, height: number}}
 * @throws {BadImage} not a PNG, or no IHDR chunk first, or a zero dimension
 */
function pngSize(bytes) {
  if (sniffImageType(bytes) !== "png") throw new BadImage("not a PNG file (no PNG signature)");
  const size = pngHeaderSize(bytes);
  if (size === null) throw new BadImage("the PNG has no header chunk (IHDR) first");
  const { width, height } = size;
  if (width === 0 || height === 0) throw new BadImage(`the PNG's header says ${width}x${height}`);
  return { width, height };
}

/**
 * Format and stored dimensions of an image file, as its buffer spec needs them.
 * @param {Uint8Array} bytes the whole file
 * @returns {{format: "jpeg"|"png", width: number, height: number}}
 * @throws {BadImage} for anything but a readable JPEG or PNG
 */
function imageInfo(bytes) {
  const format = sniffImageType(bytes);
  if (format === "jpeg") return { format, ...jpegSize(bytes) };
  if (format === "png") return { format, ...pngSize(bytes) };
  throw new BadImage("this file is not a JPEG or PNG photo");
}

module.exports = { BadImage, sniffImageType, jpegSize, pngSize, pngHeaderSize, imageInfo };
