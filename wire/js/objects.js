"use strict";
/**
 * Object Selection's requests as a client makes them (the twin of wire/client/objects.py): the
 * image named by its key, its pixels sent only when the engine does not hold it prepared; a
 * previous result the engine let go of, sent as pixels. No I/O of its own: `ask` sends.
 */

const { bufferKey } = require("./buffers");
const { requests } = require("./requests");

/** The most requests one selectObject sends: the key, then the pixels, then the previous matte's pixels, then once more. */
const MAX_TRIES = 4;

/**
 * Whether `error` says the engine does not hold what the request named: error `not_found` whose
 * message starts with `what` ("image " for an image key, "previous:" for a result id;
 * docs/protocol.md, Object Selection).
 * @param {*} error what `ask` rejected with (an EngineError has `code` and `detail`, the engine's message)
 * @param {string} what
 * @returns {boolean}
 */
function notHeld(error, what) {
  return Boolean(error) && error.code === "not_found" && typeof error.detail === "string" && error.detail.startsWith(what);
}

/**
 * One select_object through `ask`, the image's pixels sent only when the engine asks for them.
 *
 * The first request names the image by its key (`bufferKey(image)`); an engine that does not
 * hold it prepared answers not_found ("image …"), and the request goes again with the pixels.
 * With `previous` a result id the engine no longer holds (restarted, or its cache full: not_found
 * "previous: …"), `previousPixels()` gives that matte to send instead (without it, the error is
 * thrown). Any other error is thrown as it came.
 * @param {function(object): Promise<*>} ask sends a request built by `requests` and resolves with
 *   its result (rejects with the client's errors: EngineError, EngineUnavailable, JobCancelled).
 * @param {{name: "image", format: string, width: number, height: number, data: Uint8Array}} image the
 *   image buffer (rgba8, rgb8 or grey8 pixels 0–255, row-major, top-down; or png/jpeg).
 * @param {object} [options] as `requests.selectObject`'s, and:
 * @param {string|object|null} [options.previous] the matte to correct: a result id, or a buffer
 *   named `previous` (grey8 of the image's size, 0–255).
 * @param {(function(): (object|Promise<object>))|null} [options.previousPixels] the previous matte as a
 *   buffer named `previous` (grey8 of the image's size, 0–255), read only when the engine no longer holds the id.
 * @returns {Promise<*>} what `ask` resolved with
 */
async function selectObject(ask, image, { points = [], box = null, mask = null, mode = "new", previous = null,
  previousPixels = null, refine = "fast", outputs = ["alpha"], edges = {}, decontaminate = 1, model = null } = {}) {
  let source = bufferKey(image);
  let matte = previous;
  const build = () => requests.selectObject(source, { points, box, mask, mode, previous: matte, refine, outputs, edges, decontaminate, model });
  for (let tries = 1; ; tries++) {
    const request = build(); // built before sending: a bad prompt throws here, before anything goes
    try {
      return await ask(request);
    } catch (error) {
      if (tries >= MAX_TRIES) throw error;
      if (notHeld(error, "image ") && typeof source === "string") {
        source = image;
      } else if (notHeld(error, "previous:") && typeof matte === "string" && typeof previousPixels === "function") {
        matte = await previousPixels();
      } else {
        throw error;
      }
    }
  }
}

module.exports = { notHeld, selectObject };
