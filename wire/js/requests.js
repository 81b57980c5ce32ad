"use strict";
/**
 * The requests the panel sends, built as `{type, fields, buffers}` for `EngineClient.send`
 * (docs/protocol.md), with the soft_segments and select_object limits the panel keeps to.
 */

const { isValidId } = require("./codec");
const { isHex256 } = require("./hmac");

/** soft_segments' `count`: 2–10 layers, 5 by default (the answer carries one buffer a layer). */
const SEGMENTS = Object.freeze({ min: 2, max: 10, default: 5 });
/** soft_segments' `masks`: "stacked" (the layers stack back into the image) or "soft" (each segment's own alpha). */
const SEGMENT_MASKS = Object.freeze(["stacked", "soft"]);

/** select_object's `mode`: the object alone ("new"), or taken into the `previous` matte. */
const OBJECT_MODES = Object.freeze(["new", "add", "subtract", "intersect"]);
/** The most clicks (`points`) one select_object request may carry. */
const OBJECT_POINTS_MAX = 64;

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
 * buffers (`format: "raw"`: the panel has no PNG decoder); the client asks for a matte's alpha as its
 * box (`crop_alpha`) where the engine can, and the decoder gives it back whole.
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

/**
 * Throw unless `buffer` is a buffer named `name` (its pixels are checked when it is sent).
 * @param {*} buffer
 * @param {string} name
 * @throws {RangeError}
 */
function checkNamed(buffer, name) {
  if (!buffer || typeof buffer !== "object" || buffer.name !== name) {
    throw new RangeError(`${name}: expected the buffer named "${name}"; got ${JSON.stringify(buffer && buffer.name)}`);
  }
}

/**
 * select_object's `points`, checked: at most OBJECT_POINTS_MAX clicks {x, y, positive}, x and y ≥ 0 in image pixels.
 * @param {Array<{x: number, y: number, positive: boolean}>} points
 * @returns {Array<{x: number, y: number, positive: boolean}>} fresh objects with only those keys
 * @throws {RangeError}
 */
function objectPoints(points) {
  if (!Array.isArray(points) || points.length > OBJECT_POINTS_MAX) {
    throw new RangeError(`points: expected an array of at most ${OBJECT_POINTS_MAX} clicks; got ${Array.isArray(points) ? `${points.length} clicks` : typeof points}`);
  }
  return points.map((point, i) => {
    const { x, y, positive } = point || {};
    if (!(Number.isFinite(x) && x >= 0 && Number.isFinite(y) && y >= 0 && typeof positive === "boolean")) {
      throw new RangeError(`points[${i}]: expected {x, y, positive}: x, y ≥ 0 in image pixels, positive true or false; got ${JSON.stringify(point)}`);
    }
    return { x, y, positive };
  });
}

/**
 * select_object's `box`, checked: [x0, y0, x1, y1] in image pixels (pixel corners), each ≥ 0; null for none.
 * @param {number[]|null} box
 * @returns {number[]|null}
 * @throws {RangeError}
 */
function objectBox(box) {
  if (box === null || box === undefined) return null;
  if (!Array.isArray(box) || box.length !== 4 || box.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new RangeError(`box: expected [x0, y0, x1, y1] in image pixels, each ≥ 0; got ${JSON.stringify(box)}`);
  }
  return box.slice();
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
   * select_object: the object that clicks, a box or a rough mask pick, taken with `mode` into
   * `previous`. The image comes once: its buffer, or the key of an image the engine prepared (an
   * earlier reply's `image`, or `bufferKey(image)`); `objects.selectObject` does the key first and
   * the pixels only when the engine asks (docs/protocol.md, Object Selection).
   * @param {string|{name: "image", format: string, width: number, height: number, data: Uint8Array}} image
   *   the `image` buffer (rgba8, rgb8, grey8, png or jpeg) or its 64-hex key.
   * @param {object} [options]
   * @param {Array<{x: number, y: number, positive: boolean}>} [options.points] clicks in image pixels
   *   (positive: on the object; not: on what is not), at most OBJECT_POINTS_MAX.
   * @param {number[]|null} [options.box] [x0, y0, x1, y1] in image pixels: the object is inside it.
   * @param {object|null} [options.mask] a buffer named `mask`: grey8 of the image's size, 0–255, ≥ 128 inside (a rough region).
   * @param {string} [options.mode] one of OBJECT_MODES.
   * @param {string|object|null} [options.previous] the matte to correct: a result id, or a buffer named
   *   `previous` (grey8 of the image's size, 0–255).
   * @param {string} [options.refine] the soft edge: "none", "fast" or "best".
   * @param {string[]} [options.outputs] e.g. ["alpha"], ["alpha", "foreground"].
   * @param {object} [options.edges] edge controls (absent ones: 0).
   * @param {number} [options.decontaminate] 0–1, for a foreground.
   * @param {string|null} [options.model] a present model of the engine's list (null: its default).
   * @returns {Request} buffers in the order image, mask, previous (those given)
   * @throws {RangeError} for a malformed image, key, prompt, mode or previous, or no prompt at all
   */
  selectObject(image, { points = [], box = null, mask = null, mode = "new", previous = null, refine = "fast",
    outputs = ["alpha"], edges = {}, decontaminate = 1, model = null } = {}) {
    const keyed = typeof image === "string";
    if (keyed && !isHex256(image)) throw new RangeError(`image: expected a buffer named "image" or a key of 64 lowercase hex digits; got ${JSON.stringify(image)}`);
    if (!keyed) checkNamed(image, "image");
    if (!OBJECT_MODES.includes(mode)) throw new RangeError(`mode: expected one of ${OBJECT_MODES.join(", ")}; got ${JSON.stringify(mode)}`);
    const clicks = objectPoints(points);
    const frame = objectBox(box);
    if (mask !== null) checkNamed(mask, "mask");
    const byId = typeof previous === "string";
    if (byId && !isValidId(previous)) throw new RangeError(`previous: expected a result id; got ${JSON.stringify(previous)}`);
    if (previous !== null && !byId) checkNamed(previous, "previous");
    if (!clicks.length && frame === null && mask === null) throw new RangeError("select_object needs a prompt: points, a box or a mask");
    const fields = keyed ? { image } : {};
    fields.points = clicks;
    if (frame !== null) fields.box = frame;
    fields.mode = mode;
    if (byId) fields.previous = previous;
    Object.assign(fields, { refine, outputs, format: "raw", edges, decontaminate });
    const buffers = [keyed ? null : image, mask, byId ? null : previous].filter((buffer) => buffer !== null);
    return { type: "select_object", fields: withModel(fields, model), buffers };
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

module.exports = { SEGMENTS, SEGMENT_MASKS, OBJECT_MODES, OBJECT_POINTS_MAX, isSegmentCount, segmentNames, requests };
