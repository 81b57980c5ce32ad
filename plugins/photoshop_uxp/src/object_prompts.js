/**
 * What a Photoshop document gives Object Selection, with no Photoshop code: the box around the
 * selection, the clicks its colour samplers and its "Softcut points" path mark, and whether a
 * selection can serve as a rough mask. Coordinates are image pixels: 0 at the left and top of the
 * source rectangle (the picked layer's part on the canvas, or the canvas).
 *
 * The rule for clicks: every colour sampler is a positive click (on the object). The anchors of
 * the path named "Softcut points" (any case) are clicks too: those of its first subpath positive,
 * those of every later subpath negative (on what is not the object). Marks outside the source
 * rectangle are left out.
 */
"use strict";

/** The name of the path whose anchors are clicks (compared without regard to case). */
const POINTS_PATH = "Softcut points";
/** A selection value (0–255) at or above which a pixel is inside a rough mask (the engine takes a mask at 0.5). */
const INSIDE = 128;

/**
 * Whether `name` names the clicks' path.
 * @param {*} name a path's name
 * @returns {boolean}
 */
function isPointsPath(name) {
  return typeof name === "string" && name.trim().toLowerCase() === POINTS_PATH.toLowerCase();
}

/**
 * The clicks the document's marks make, by the rule above, in image pixels.
 * @param {{samplers: Array<{x: number, y: number}>, subpaths: Array<Array<{x: number, y: number}>>}} marks
 *   in document pixels: the colour samplers' positions, and the anchors of each subpath of the
 *   "Softcut points" path (none: []).
 * @param {{left: number, top: number, width: number, height: number}} rect the source rectangle.
 * @returns {{points: Array<{x: number, y: number, positive: boolean}>, outside: number}} the clicks
 *   inside `rect` (samplers first, then the path's anchors in order), and how many marks were outside.
 */
function clicks(marks, rect) {
  const marked = [
    ...marks.samplers.map((at) => ({ ...at, positive: true })),
    ...marks.subpaths.flatMap((anchors, k) => anchors.map((at) => ({ ...at, positive: k === 0 }))),
  ];
  const points = [];
  for (const { x, y, positive } of marked) {
    const ix = x - rect.left, iy = y - rect.top;
    if (ix >= 0 && iy >= 0 && ix < rect.width && iy < rect.height) points.push({ x: ix, y: iy, positive });
  }
  return { points, outside: marked.length - points.length };
}

/**
 * The box around the selected pixels (any value above 0, as Photoshop's selection bounds).
 * @param {Uint8Array} selection grey8 over the source rectangle, `width × height`, 0–255 (0: not selected).
 * @param {number} width
 * @param {number} height
 * @returns {number[]|null} [x0, y0, x1, y1] in image pixels (pixel corners: x1 = last column + 1);
 *   null when nothing is selected.
 */
function selectionBox(selection, width, height) {
  let x0 = width, y0 = height, x1 = 0, y1 = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (selection[row + x] === 0) continue;
      if (x < x0) x0 = x;
      if (x >= x1) x1 = x + 1;
      if (y < y0) y0 = y;
      y1 = y + 1;
    }
  }
  return x1 > x0 ? [x0, y0, x1, y1] : null;
}

/**
 * What a selection is worth as a rough mask.
 * @param {Uint8Array} selection grey8, 0–255.
 * @returns {"none"|"faint"|"mask"} none: nothing selected; faint: no pixel selected 50% or more
 *   (the engine would find the mask empty); mask: usable.
 */
function roughMaskState(selection) {
  let any = false;
  for (let i = 0; i < selection.length; i++) {
    if (selection[i] >= INSIDE) return "mask";
    if (selection[i] !== 0) any = true;
  }
  return any ? "faint" : "none";
}

module.exports = { POINTS_PATH, INSIDE, isPointsPath, clicks, selectionBox, roughMaskState };
