/**
 * What a panel button does: read the document, ask the engine, insert the result (a
 * selection, a mask, a layer, or a group of soft segment layers).
 *
 * The document is only read until the engine's answer is in; the answer is then written
 * as one history state (see `photoshop_document.js`). A refused document, a missing,
 * failing or cancelled engine leave the document exactly as it was, and the error's
 * message says so.
 */
"use strict";

const document_ = require("./photoshop_document");
const pixels = require("./pixels");
const { requests, segmentNames, isSegmentCount, SEGMENTS } = require("./protocol");
const { EngineUnavailable, EngineError, JobCancelled } = require("./client");

const UNCHANGED = "the document was not changed";
const START_COMMAND = "softcut serve";
const OUTPUTS = ["selection", "mask", "layer"];
const HISTORY_NAMES = {
  selection: "Softcut: Select Subject",
  mask: "Softcut: Remove Background",
  layer: "Softcut: Cut Out",
};
const EDGE_KEYS = ["smooth", "feather", "contrast", "shift_edge"];
const PLATE_HISTORY_NAME = "Softcut: Select Subject with Clean Plate";
const NO_PLATE = "choose a clean plate first: a layer of the scene without the subject, or From file…";

/**
 * The user's message for any failure of an action.
 * @param {Error} error what the action threw.
 * @param {string} [unchanged] what happened to the document.
 * @returns {string}
 */
function describeFailure(error, unchanged = UNCHANGED) {
  if (error instanceof document_.Refused) return `${error.message}; ${unchanged}`;
  if (error instanceof JobCancelled) return `cancelled; ${unchanged}`;
  if (error instanceof EngineUnavailable) {
    return `the Softcut engine is not reachable (${error.message}): start it with \`${START_COMMAND}\`, then Connect; ${unchanged}`;
  }
  if (error instanceof EngineError) {
    if (error.code === "unauthorized") return `the engine refused the pairing: pair again with the code \`${START_COMMAND}\` prints; ${unchanged}`;
    if (error.code === "alignment_failed") return `${String(error.detail).replace(/[.\s]+$/, "")}; ${unchanged}`; // says what is wrong with the plate
    return `the engine could not do it (${error.code}: ${error.detail}); ${unchanged}`;
  }
  return `could not write the result (${error && error.message ? error.message : error}); ${unchanged}`;
}

/**
 * How the engine lined the plate up, in a few words for the status line.
 * @param {{inliers?: number, matches?: number, coverage?: number}|null} alignment the result's `alignment`.
 * @returns {string} e.g. "the plate lined up on 212 of 340 features and covers 97% of the image"; "" when unknown.
 */
function describeAlignment(alignment) {
  if (!alignment || !Number.isFinite(alignment.inliers)) return "";
  let text = `the plate lined up on ${alignment.inliers}${Number.isFinite(alignment.matches) ? ` of ${alignment.matches}` : ""} features`;
  if (Number.isFinite(alignment.coverage)) {
    const percent = Math.floor(alignment.coverage * 100);
    text += ` and covers ${percent}% of the image`;
    if (percent < 90) text += " (the model fills in the rest)";
  }
  return text;
}

/** Only the edge controls that change something (the engine treats absent ones as 0). */
function activeEdges(edges) {
  const out = {};
  for (const key of EDGE_KEYS) if (edges && edges[key]) out[key] = Number(edges[key]);
  return out;
}

function wantedOutputs(output) {
  return output === "layer" ? ["alpha", "foreground"] : ["alpha"];
}

function unpack(result) {
  const buffers = {};
  const specs = {};
  for (const [name, entry] of Object.entries(result.buffers)) {
    buffers[name] = entry.data;
    specs[name] = entry.spec;
  }
  return { id: result.fields.result, fields: result.fields, buffers, specs };
}

/**
 * Run one engine request (built by `protocol.requests`), reporting its progress and handing
 * the job to `onJob` (for Cancel).
 * @returns {Promise<{id: string, fields: object, buffers: Object<string, Uint8Array>, specs: Object<string, object>}>}
 */
async function ask(client, request, hooks) {
  const job = client.send(request, { onProgress: hooks.onProgress });
  if (hooks.onJob) hooks.onJob(job);
  return unpack(await job.promise);
}

/** The source's pixels as the request's `image` buffer. */
function imageBuffer(source) {
  const { format, width, height, data } = source.image;
  return { name: "image", format, width, height, data };
}

function checkOutput(output) {
  if (!OUTPUTS.includes(output)) throw new TypeError(`output: expected one of ${OUTPUTS.join(", ")}`);
}

/** What Select Subject (and Select Subject with Clean Plate) sends for `source` with the panel's options. */
function matteRequest(source, options) {
  return {
    image: imageBuffer(source),
    edges: activeEdges(options.edges),
    decontaminate: options.decontaminate === undefined ? 1 : Number(options.decontaminate),
    outputs: wantedOutputs(options.output),
  };
}

/**
 * Select Subject (or Refine Selection) into `options.output`, as one history state.
 * @param client a connected `EngineClient`.
 * @param {{output: string, merged: boolean, quality: string, edges: object, decontaminate: number, model?: string|null}} options
 *   `model`: the model Select Subject asks for (null: the engine's default; Refine Selection runs none)
 * @param {{refineSelection?: boolean, onProgress?: function(number, string), onJob?: function(object)}} hooks
 * @returns {Promise<{resultId: string, target: object}>} what `adjust` needs for live edge edits.
 */
async function run(client, options, hooks = {}) {
  checkOutput(options.output);
  const source = await document_.readSource(options.merged);
  let guide = null;
  if (hooks.refineSelection) {
    guide = await document_.readSelection(source);
    if (pixels.isBlank(guide)) {
      throw new document_.Refused("nothing is selected over the layer: draw a rough selection around the subject first");
    }
  }
  if (options.output === "mask") await document_.checkCanTakeMask(source);

  const { width, height } = source.image;
  const { image, edges, decontaminate, outputs } = matteRequest(source, options);
  let answer;
  if (guide) {
    answer = await ask(client, requests.refine(image, { name: "guide", format: "grey8", width, height, data: guide },
      { mode: options.quality, outputs }), hooks);
    if (Object.keys(edges).length || decontaminate !== 1) {
      answer = await ask(client, requests.adjustEdges(answer.id, { edges, decontaminate, outputs }), hooks);
    }
  } else {
    answer = await ask(client, requests.selectSubject(image, { outputs, refine: options.quality, edges, decontaminate, model: options.model }), hooks);
  }
  const name = hooks.refineSelection ? "Softcut: Refine Selection" : HISTORY_NAMES[options.output];
  const target = await document_.insert(source, options.output, answer.buffers, name);
  return { resultId: answer.id, target };
}

/**
 * Select Subject with Clean Plate into `options.output`, as one history state: the image is
 * what Select Subject sends, the plate a layer of the same document (read whole, at its own
 * bounds) or a PNG/JPEG file.
 * @param client a connected `EngineClient`.
 * @param {{output: string, merged: boolean, quality: string, edges: object, decontaminate: number,
 *   plate: ({layerID: number}|{file: {name: string, buffer: object}}|null)}} options
 * @param {{onProgress?: function(number, string), onJob?: function(object)}} hooks
 * @returns {Promise<{resultId: string, target: object, alignment: object}>} as `run`, and the
 *   engine's `alignment` of the plate.
 */
async function plateMatte(client, options, hooks = {}) {
  checkOutput(options.output);
  const plate = options.plate;
  if (!plate || (plate.layerID === undefined && !plate.file)) throw new document_.Refused(NO_PLATE);
  const source = await document_.readSource(options.merged);
  if (options.output === "mask") await document_.checkCanTakeMask(source);
  const plateBuffer = plate.file ? plate.file.buffer : await document_.readPlateLayer(source, plate.layerID);

  const { image, edges, decontaminate, outputs } = matteRequest(source, options);
  const answer = await ask(client, requests.plateMatte(image, plateBuffer, { outputs, refine: options.quality, edges, decontaminate, model: options.model }), hooks);
  const target = await document_.insert(source, options.output, answer.buffers, PLATE_HISTORY_NAME);
  return { resultId: answer.id, target, alignment: answer.fields.alignment || null };
}

/**
 * Re-apply edge controls to the last result and rewrite what it inserted (live sliders).
 * @param last what `run` returned.
 * @returns {Promise<void>}
 */
async function adjust(client, last, edges, decontaminate, hooks = {}) {
  const options = { edges: activeEdges(edges), decontaminate: Number(decontaminate), outputs: wantedOutputs(last.target.output) };
  const answer = await ask(client, requests.adjustEdges(last.resultId, options), hooks);
  await document_.rewrite(last.target, answer.buffers, "Softcut: Adjust Edges");
}

/**
 * The segments of a soft_segments answer, bottom first, as colours and masks; an answer that
 * lacks a segment or has one of the wrong size throws (before anything is written).
 * @returns {Array<{foreground: Uint8Array, alpha: Uint8Array}>}
 */
function segmentsOf(answer, count, width, height) {
  const made = Number.isInteger(answer.fields.count) ? answer.fields.count : count;
  return segmentNames(made).map((name) => {
    const spec = answer.specs[name];
    if (!spec) throw new Error(`the engine's answer has no ${name}`);
    if (spec.format !== "rgba8" || spec.width !== width || spec.height !== height) {
      throw new Error(`the engine's ${name} is ${spec.format} ${spec.width}x${spec.height}; expected rgba8 ${width}x${height}`);
    }
    return pixels.splitRgba(answer.buffers[name]);
  });
}

/**
 * Soft Segment Layers: the document's composite as `count` soft layers, inserted as one history
 * state: a new group "Soft segments" at the top, one pixel layer with a mask a segment.
 * @param client a connected `EngineClient`.
 * @param {{count?: number, model?: string|null}} options how many layers (SEGMENTS.min to SEGMENTS.max; default 5)
 *   and the model (null: the engine's default).
 * @param {{onProgress?: function(number, string), onJob?: function(object)}} hooks
 * @returns {Promise<{count: number, documentID: number, groupID: number, layerIDs: number[]}>} layerIDs bottom first.
 */
async function softSegments(client, options = {}, hooks = {}) {
  const count = options.count === undefined ? SEGMENTS.default : Number(options.count);
  if (!isSegmentCount(count)) {
    throw new document_.Refused(`choose ${SEGMENTS.min} to ${SEGMENTS.max} layers`);
  }
  const source = await document_.readSource(true);
  const { width, height } = source.image;
  const answer = await ask(client, requests.softSegments(imageBuffer(source), { count, model: options.model }), hooks);
  const segments = segmentsOf(answer, count, width, height);
  const made = await document_.insertSegments(source, segments, "Softcut: Soft Segments");
  return { count: segments.length, ...made };
}

module.exports = {
  // For the Clean plate list, as photoshop_document has them (the panel reaches Photoshop only through here):
  // the layers that can serve as a clean plate and the suggested one, and a listener for layer changes.
  plateLayers: document_.plateLayers,
  onLayersChanged: document_.onLayersChanged,
  START_COMMAND, PLATE_HISTORY_NAME, NO_PLATE, describeFailure, run, plateMatte, adjust, softSegments, describeAlignment,
};
