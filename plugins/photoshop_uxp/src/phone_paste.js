/**
 * The panel's answers to what the engine asks during a phone paste: `canvas_snapshot` (the
 * document as displayed, so the engine can find where the phone points) and `place_layer`
 * (a phone cut-out to put in as a new layer, one history state).
 *
 * Each delivery is placed at most once: its id is remembered in the data folder, and a
 * delivery that comes again (the engine did not hear the answer) is answered without placing.
 * The phone link's QR code (a PNG the engine sends) is shown through `pngDataUrl`.
 */
"use strict";

const document_ = require("./photoshop_document");
const settings = require("./settings");

const DEFAULT_MAX_SIDE = 1600;

/** An error whose `code` the client sends back in its `error` answer. */
function answerError(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

/**
 * Answer `canvas_snapshot` {max_side}.
 * @returns {Promise<{fields: object, buffers: Array}>} `snapshot` fields (document size; view null:
 *   UXP does not tell where the canvas is on the screen) and an rgb8 `image`.
 * @throws an error with code `not_found` when no document is open.
 */
async function answerSnapshot(message) {
  const maxSide = Number(message.fields.max_side) || DEFAULT_MAX_SIDE;
  let shot;
  try {
    shot = await document_.snapshot(maxSide);
  } catch (error) {
    if (error instanceof document_.Refused) throw answerError("not_found", error.message);
    throw error;
  }
  const { width, height, data } = shot.image;
  return {
    fields: { document: shot.document, view: null },
    buffers: [{ name: "image", format: "rgb8", width, height, data }],
  };
}

/**
 * Answer `place_layer` {delivery, name, x, y} with an rgba8 `cutout`: a new top layer.
 * @param message the engine's request, as the client decoded it.
 * @param {function(object): void} [onPlaced] told {name, x, y} after a layer went in.
 * @returns {Promise<{fields: {delivery: string, ok: boolean, message: string}}>}
 */
async function answerPlaceLayer(message, onPlaced) {
  const { delivery, name, x, y } = message.fields;
  const cutout = message.buffers.cutout;
  if (await settings.wasDelivered(delivery)) {
    return { fields: { delivery, ok: true, message: "already placed" } };
  }
  if (!cutout || cutout.spec.format !== "rgba8") {
    return { fields: { delivery, ok: false, message: "expected the cut-out as an rgba8 buffer named cutout" } };
  }
  try {
    const where = await document_.placeLayer({
      name: name || "Phone cut-out", x, y, width: cutout.spec.width, height: cutout.spec.height, rgba: cutout.data,
    });
    await settings.markDelivered(delivery);
    if (onPlaced) onPlaced({ name, x: where.x, y: where.y });
    return { fields: { delivery, ok: true, message: `placed at (${where.x}, ${where.y})` } };
  } catch (error) {
    return { fields: { delivery, ok: false, message: error.message } };
  }
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * A data: URL of PNG file bytes, for an <img> (standard base64; UXP may lack btoa).
 * @param {Uint8Array} bytes a whole PNG file.
 * @returns {string} "data:image/png;base64,…"
 */
function pngDataUrl(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
    out += BASE64[(n >> 18) & 63] + BASE64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? BASE64[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? BASE64[n & 63] : "=";
  }
  return `data:image/png;base64,${out}`;
}

module.exports = { answerSnapshot, answerPlaceLayer, pngDataUrl };
