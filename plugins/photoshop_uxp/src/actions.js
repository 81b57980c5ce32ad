/**
 * What a panel button does: read the document, ask the engine, insert the result (a
 * selection, a mask, a layer, or a group of soft segment layers). Object Selection (Object, Add
 * to Subject, Subtract from Subject) takes its prompts from the selection and the document's
 * marks (`object_prompts.js`) and names the image by its key (`objects.js`).
 *
 * The document is only read until the engine's answer is in; the answer is then written
 * as one history state (see `photoshop_document.js`). A refused document, a missing,
 * failing or cancelled engine leave the document exactly as it was, and the error's
 * message says so.
 */
"use strict";

const document_ = require("./photoshop_document");
const pixels = require("./pixels");
const prompts = require("./object_prompts");
const objects = require("./objects");
const { requests, segmentNames, isSegmentCount, SEGMENTS, OBJECT_POINTS_MAX } = require("./protocol");
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
/** Object Selection's actions: the engine's mode and the history state's name. */
const OBJECT_ACTIONS = Object.freeze({
  object: { mode: "new", history: "Softcut: Object" },
  add: { mode: "add", history: "Softcut: Add to Subject" },
  subtract: { mode: "subtract", history: "Softcut: Subtract from Subject" },
});
const NOTHING_MARKED = `nothing is selected over the layer and no colour sampler or "${prompts.POINTS_PATH}" path marks an object on it: draw a rectangle around the object (or put colour samplers on it) first`;
const SMALL_BOX = "the selection over the layer is smaller than 2 × 2 pixels: draw a rectangle around the object";
const NOTHING_ROUGH = "nothing is selected over the layer: select roughly the part to add or take away first";
const FAINT_SELECTION = "the selection is empty: no pixel is selected 50% or more; select roughly the part to add or take away";

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
 * @returns {Promise<{resultId: string, target: object, alpha: Uint8Array, source: object}>} what `adjust`
 *   needs for live edge edits, and Add to Subject and Subtract from Subject to correct it (see `made`).
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
  return made(source, answer, target);
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
  return { ...made(source, answer, target), alignment: answer.fields.alignment || null };
}

/**
 * Re-apply edge controls to the last result and rewrite what it inserted (live sliders); `last.alpha`
 * becomes the matte written.
 * @param last what `run` (or another action) returned.
 * @returns {Promise<void>}
 */
async function adjust(client, last, edges, decontaminate, hooks = {}) {
  const options = { edges: activeEdges(edges), decontaminate: Number(decontaminate), outputs: wantedOutputs(last.target.output) };
  const answer = await ask(client, requests.adjustEdges(last.resultId, options), hooks);
  await document_.rewrite(last.target, answer.buffers, "Softcut: Adjust Edges");
  last.alpha = answer.buffers.alpha;
}

// ── Object Selection ─────────────────────────────────────────────────────────

/**
 * What an action leaves for the next: the engine's result id and where it went (live edges), the
 * matte it wrote and the source it was made from (Add to Subject and Subtract from Subject correct it).
 * @returns {{resultId: string, target: object, alpha: Uint8Array, source: {merged: boolean, layerID: (number|null)}}}
 *   alpha: grey8 of `target.rect`'s size, 0–255, as written (edges applied).
 */
function made(source, answer, target) {
  return { resultId: answer.id, target, alpha: answer.buffers.alpha, source: sourceOf(source) };
}

/** Which pixels a source is: the composite, or one layer's. */
function sourceOf(source) {
  return { merged: source.merged, layerID: source.merged ? null : source.layer.id };
}

/** Whether `last` (what an action returned, or null) was made from the same pixels as `source`, at the same place. */
function sameSource(last, source) {
  if (!last || last.target.documentID !== source.doc.id) return false;
  const { merged, layerID } = sourceOf(source);
  const a = last.target.rect, b = source.rect;
  return last.source.merged === merged && last.source.layerID === layerID
    && a.left === b.left && a.top === b.top && a.width === b.width && a.height === b.height;
}

/** Whether `source` is the cut-out layer `last` made (Add and Subtract then correct it from the layer it was cut from). */
function cutFrom(last, source) {
  return Boolean(last) && !source.merged && last.target.output === "layer" && last.target.layerID === source.layer.id
    && last.target.documentID === source.doc.id && last.source.layerID !== null;
}

/**
 * Object's prompts: the box around the selection and the document's clicks (`object_prompts.js`).
 * @returns {Promise<{points: object[], box: (number[]|null), mask: null}>} image pixels; Refused when neither marks anything.
 */
async function objectPrompts(source, selection) {
  const { width, height } = source.image;
  const box = selectionBoxOf(selection, width, height);
  const { points } = prompts.clicks(await document_.readMarks(source), source.rect);
  if (points.length > OBJECT_POINTS_MAX) {
    throw new document_.Refused(`the colour samplers and the "${prompts.POINTS_PATH}" path make ${points.length} clicks on the layer; at most ${OBJECT_POINTS_MAX} can be sent`);
  }
  if (box === null && points.length === 0) throw new document_.Refused(NOTHING_MARKED);
  return { points, box, mask: null };
}

/** The box around the selection (null for none); Refused for one under 2 × 2 pixels, which the engine refuses. */
function selectionBoxOf(selection, width, height) {
  const box = prompts.selectionBox(selection, width, height);
  if (box !== null && (box[2] - box[0] < 2 || box[3] - box[1] < 2)) throw new document_.Refused(SMALL_BOX);
  return box;
}

/**
 * Add and Subtract's prompt: the selection as a rough mask.
 * @param {Uint8Array} selection grey8 over the source, 0–255.
 * @returns {{points: [], box: null, mask: {name: "mask", format: "grey8", width: number, height: number, data: Uint8Array}}}
 */
function roughPrompts(source, selection) {
  const state = prompts.roughMaskState(selection);
  if (state === "none") throw new document_.Refused(NOTHING_ROUGH);
  if (state === "faint") throw new document_.Refused(FAINT_SELECTION);
  const { width, height } = source.image;
  return { points: [], box: null, mask: { name: "mask", format: "grey8", width, height, data: selection } };
}

/** Add and Subtract refuse without an earlier result of the same source to correct. */
function noPrevious(source) {
  const where = source.merged ? "the whole image" : `"${source.layer.name}"`;
  return new document_.Refused(`there is no earlier Softcut result on ${where} to correct: run Object or Select Subject on it first`);
}

/**
 * The previous matte as pixels, for an engine that no longer holds `last.resultId`: the mask a
 * mask or layer target holds now, else the matte the panel wrote (a selection target: the
 * selection now holds the rough mask).
 * @returns {Promise<{name: "previous", format: "grey8", width: number, height: number, data: Uint8Array}>} 0–255, the target's size.
 */
async function previousMatte(last) {
  const { width, height } = last.target.rect;
  const data = (await document_.readMask(last.target)) || last.alpha;
  return { name: "previous", format: "grey8", width, height, data };
}

/**
 * Object Selection into `options.output`, as one history state. `kind` "object": the object
 * inside the box around the selection, picked by the document's clicks (colour samplers, the
 * "Softcut points" path); "add" and "subtract": the selection as a rough mask, taken into the
 * last Softcut result of the same layer (`options.results`), which is rewritten in place when the
 * output is the same kind and still there. With a cut-out layer Softcut made picked (Cut Out makes
 * it the active layer), Add and Subtract work on the layer it was cut from.
 * @param client a connected `EngineClient`.
 * @param {"object"|"add"|"subtract"} kind
 * @param {{output: string, merged: boolean, quality: string, edges: object, decontaminate: number,
 *   model?: string|null, results?: Map<number, object>}} options `results`: the last result of each
 *   document (what the actions returned), by document id.
 * @param {{onProgress?: function(number, string), onJob?: function(object)}} hooks
 * @returns {Promise<{resultId: string, target: object, alpha: Uint8Array, source: object}>} as `run`.
 */
async function selectObject(client, kind, options, hooks = {}) {
  const how = OBJECT_ACTIONS[kind];
  if (!how) throw new TypeError(`kind: expected one of ${Object.keys(OBJECT_ACTIONS).join(", ")}`);
  checkOutput(options.output);
  let source = await document_.readSource(options.merged);
  let last = null, into = null;
  if (how.mode !== "new") {
    last = options.results ? options.results.get(source.doc.id) : null;
    if (cutFrom(last, source)) source = await document_.readSource(false, last.source.layerID);
    if (!sameSource(last, source)) throw noPrevious(source);
    if (last.target.output === options.output && await document_.canRewrite(last.target)) into = last.target;
  }
  const selection = await document_.readSelection(source);
  const { points, box, mask } = how.mode === "new" ? await objectPrompts(source, selection) : roughPrompts(source, selection);
  if (!into && options.output === "mask") await document_.checkCanTakeMask(source);

  const answer = await objects.selectObject((request) => ask(client, request, hooks), imageBuffer(source), {
    points, box, mask, mode: how.mode, previous: last && last.resultId, previousPixels: last && (() => previousMatte(last)),
    refine: options.quality, outputs: wantedOutputs(options.output), edges: activeEdges(options.edges),
    decontaminate: options.decontaminate === undefined ? 1 : Number(options.decontaminate), model: options.model === undefined ? null : options.model,
  });
  if (into) {
    await document_.rewrite(into, answer.buffers, how.history);
    return made(source, answer, into);
  }
  return made(source, answer, await document_.insert(source, options.output, answer.buffers, how.history));
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
  START_COMMAND, PLATE_HISTORY_NAME, NO_PLATE, OBJECT_ACTIONS, describeFailure, run, plateMatte, adjust, selectObject, softSegments,
  describeAlignment,
};
