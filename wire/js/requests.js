"use strict";
/**
 * The requests the panel sends, built as `{type, fields, buffers}` for `EngineClient.send`
 * (docs/protocol.md), with the soft_segments limits the panel's controls show.
 */

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

module.exports = { SEGMENTS, SEGMENT_MASKS, isSegmentCount, segmentNames, requests };
