/**
 * Pixel layouts between Photoshop's imaging API and the engine (pure JavaScript, no Photoshop).
 *
 * Engine images are Uint8Array, row-major, top-down, channels interleaved: `grey8` one byte a
 * pixel (0–255), `rgb8` three, `rgba8` four (straight alpha). Photoshop image data is chunky
 * and has the document's depth: 8-bit components 0–255 in a Uint8Array, 16-bit components
 * 0–32768 in a Uint16Array (Photoshop's own 16-bit range). Rectangles are
 * `{left, top, width, height}` in document pixels.
 */
"use strict";

/** Photoshop's largest 16-bit component value (its 16-bit range is 0–32768). */
const MAX16 = 32768;

/**
 * The part of rectangle `a` inside rectangle `b` (width and height 0 when they do not meet).
 * @param {{left:number, top:number, width:number, height:number}} a
 * @param {{left:number, top:number, width:number, height:number}} b
 */
function intersect(a, b) {
  const left = Math.max(a.left, b.left);
  const top = Math.max(a.top, b.top);
  const right = Math.min(a.left + a.width, b.left + b.width);
  const bottom = Math.min(a.top + a.height, b.top + b.height);
  return { left, top, width: Math.max(right - left, 0), height: Math.max(bottom - top, 0) };
}

/**
 * A rectangle from Photoshop bounds `{left, top, right, bottom}` (or `{left, top, width, height}`).
 * @returns {{left:number, top:number, width:number, height:number}}
 */
function rectFromBounds(bounds) {
  const width = bounds.width !== undefined ? bounds.width : bounds.right - bounds.left;
  const height = bounds.height !== undefined ? bounds.height : bounds.bottom - bounds.top;
  return { left: bounds.left, top: bounds.top, width, height };
}

/**
 * Components of any depth as 8-bit values.
 * @param {Uint8Array|Uint16Array} data Photoshop components: 0–255 (Uint8Array) or 0–32768 (Uint16Array).
 * @returns {Uint8Array} the same components, 0–255 (the input itself when it is already 8-bit).
 */
function toEightBit(data) {
  if (data instanceof Uint8Array) return data;
  if (!(data instanceof Uint16Array)) {
    throw new TypeError("only 8- and 16-bit pixel data can be sent to the engine");
  }
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    out[i] = v >= MAX16 ? 255 : Math.round((v * 255) / MAX16);
  }
  return out;
}

/**
 * 8-bit components at a document depth.
 * @param {Uint8Array} data components 0–255.
 * @param {number} componentSize 8 or 16.
 * @returns {Uint8Array|Uint16Array} 0–255 (8) or 0–32768 (16).
 */
function fromEightBit(data, componentSize) {
  if (componentSize === 8) return data;
  if (componentSize !== 16) throw new TypeError(`unsupported component size ${componentSize}`);
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.round((data[i] * MAX16) / 255);
  return out;
}

/**
 * Photoshop pixels (already 8-bit) as an engine image.
 * @param {Uint8Array} data chunky 8-bit components.
 * @param {number} components 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA).
 * @returns {{format: string, data: Uint8Array}} grey8 for greyscale (alpha dropped: the engine
 *   ignores it), rgb8 or rgba8 for colour, the bytes shared with `data` where no copy is needed.
 */
function engineImage(data, components) {
  switch (components) {
    case 1:
      return { format: "grey8", data };
    case 2: {
      const out = new Uint8Array(data.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = data[2 * i];
      return { format: "grey8", data: out };
    }
    case 3:
      return { format: "rgb8", data };
    case 4:
      return { format: "rgba8", data };
    default:
      throw new TypeError(`unsupported pixel layout: ${components} components`);
  }
}

/**
 * Layer pixels from engine colours: rgba8 (a cut-out, its alpha kept) or rgb8 (decontaminated
 * colours, made opaque).
 * @param {Uint8Array} colours rgba8 (straight alpha) or rgb8, 0–255.
 * @param {boolean} grey true for a greyscale document: grey (the mean of R, G, B) + alpha.
 * @param {3|4} [channels=4] 4 for rgba8, 3 for rgb8 (alpha 255).
 * @returns {{data: Uint8Array, components: number}} RGBA (4) or grey + alpha (2); rgba8 for
 *   an RGB document is returned as it is.
 */
function layerPixels(colours, grey, channels = 4) {
  if (channels !== 3 && channels !== 4) throw new RangeError(`channels: expected 3 or 4; got ${channels}`);
  const count = colours.length / channels;
  if (!Number.isInteger(count)) throw new RangeError(`${channels === 3 ? "rgb8" : "rgba8"}: length ${colours.length} is not a multiple of ${channels}`);
  if (!grey && channels === 4) return { data: colours, components: 4 };
  const components = grey ? 2 : 4;
  const out = new Uint8Array(count * components);
  // Plain index writes: this runs once a pixel on whole images (no per-pixel allocations).
  for (let i = 0, from = 0, to = 0; i < count; i++, from += channels, to += components) {
    const r = colours[from], g = colours[from + 1], b = colours[from + 2];
    const alpha = channels === 4 ? colours[from + 3] : 255;
    if (grey) {
      out[to] = Math.round((r + g + b) / 3);
      out[to + 1] = alpha;
    } else {
      out[to] = r;
      out[to + 1] = g;
      out[to + 2] = b;
      out[to + 3] = alpha;
    }
  }
  return { data: out, components };
}

/**
 * An rgba8 image split into its colours (rgb8) and its alpha (grey8), e.g. a soft segment's
 * decontaminated colours and its mask.
 * @param {Uint8Array} rgba width*height*4 bytes, straight alpha.
 * @returns {{foreground: Uint8Array, alpha: Uint8Array}} rgb8 and grey8 of the same size.
 */
function splitRgba(rgba) {
  const count = rgba.length / 4;
  if (!Number.isInteger(count)) throw new RangeError(`rgba8: length ${rgba.length} is not a multiple of 4`);
  const foreground = new Uint8Array(count * 3);
  const alpha = new Uint8Array(count);
  for (let i = 0, from = 0, to = 0; i < count; i++, from += 4, to += 3) {
    foreground[to] = rgba[from];
    foreground[to + 1] = rgba[from + 1];
    foreground[to + 2] = rgba[from + 2];
    alpha[i] = rgba[from + 3];
  }
  return { foreground, alpha };
}

/**
 * The size of an image scaled down (never up) so its longest side is at most `maxSide`.
 * @returns {{width: number, height: number}}
 */
function fitWithin(width, height, maxSide) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * An image covering `canvas`: `data` (covering `rect`) where they meet, zeros elsewhere.
 * @param {Uint8Array} data `rect.width × rect.height × bpp` bytes.
 * @param {{left:number, top:number, width:number, height:number}} rect where `data` lies.
 * @param {{left:number, top:number, width:number, height:number}} canvas the area wanted.
 * @param {number} [bpp=1] bytes a pixel.
 * @returns {Uint8Array} `canvas.width × canvas.height × bpp` bytes.
 */
function place(data, rect, canvas, bpp = 1) {
  if (data.length !== rect.width * rect.height * bpp) {
    throw new RangeError(`place: expected ${rect.width * rect.height * bpp} bytes; got ${data.length}`);
  }
  const same = rect.left === canvas.left && rect.top === canvas.top
    && rect.width === canvas.width && rect.height === canvas.height;
  if (same) return data;
  const out = new Uint8Array(canvas.width * canvas.height * bpp);
  const inside = intersect(rect, canvas);
  const row = inside.width * bpp;
  for (let y = 0; y < inside.height; y++) {
    const from = ((inside.top - rect.top + y) * rect.width + (inside.left - rect.left)) * bpp;
    const to = ((inside.top - canvas.top + y) * canvas.width + (inside.left - canvas.left)) * bpp;
    out.set(data.subarray(from, from + row), to);
  }
  return out;
}

/** True when every value of a grey image is 0. */
function isBlank(grey) {
  for (let i = 0; i < grey.length; i++) if (grey[i] !== 0) return false;
  return true;
}

module.exports = {
  MAX16, intersect, rectFromBounds, toEightBit, fromEightBit, engineImage, layerPixels, splitRgba, fitWithin, place, isBlank,
};
