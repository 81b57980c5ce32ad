"use strict";
/**
 * SHA-256, HMAC-SHA256 and the handshake's proofs (docs/protocol.md, protocol 2), in plain JS.
 *
 * UXP and a phone page served over plain http (not a secure context) have no crypto.subtle,
 * so the digest is computed here (FIPS 180-4; checked against node:crypto in the tests).
 * Only the nonces need the platform: crypto.getRandomValues, which browsers offer in insecure
 * contexts too; where it is missing, randomHex throws rather than fall back to Math.random.
 * The Python twin is wire/protocol/auth.py.
 */

/** The key id of the master token (the engine's token file). */
const MASTER_KEY = "master";
const NONCE_BYTES = 32;
const ENGINE_LABEL = "softcut-engine-proof\n";
const CLIENT_LABEL = "softcut-client-proof\n";
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const HEX256_PATTERN = /^[0-9a-f]{64}$/;

// prettier-ignore
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/**
 * UTF-8 bytes of a string (lone surrogates become U+FFFD, as TextEncoder does).
 * @param {string} text
 * @returns {Uint8Array}
 */
function utf8(text) {
  const out = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/**
 * Lowercase hex of bytes.
 * @param {Uint8Array} bytes
 * @returns {string}
 */
function toHex(bytes) {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/**
 * SHA-256 of `data`, or of several parts one after the other (hashed as their concatenation,
 * without making it first: an image key hashes a short header and a whole image buffer).
 * @param {...Uint8Array} parts
 * @returns {Uint8Array} 32 bytes
 */
function sha256(...parts) {
  let length = 0;
  for (const part of parts) length += part.length;
  const bitLength = length * 8;
  const padded = new Uint8Array(Math.ceil((length + 9) / 64) * 64);
  let at = 0;
  for (const part of parts) {
    padded.set(part, at);
    at += part.length;
  }
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLength / 0x100000000));
  view.setUint32(padded.length - 4, bitLength >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let block = 0; block < padded.length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + 4 * t);
    for (let t = 16; t < 64; t++) {
      const s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      const s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, k] = h;
    for (let t = 0; t < 64; t++) {
      const t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) outView.setUint32(4 * i, h[i]);
  return out;
}

/**
 * HMAC-SHA256 (RFC 2104) of `message` under `key`.
 * @param {Uint8Array} key any length (longer than 64 bytes: hashed first)
 * @param {Uint8Array} message
 * @returns {Uint8Array} 32 bytes
 */
function hmacSha256(key, message) {
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? sha256(key) : key);
  const inner = new Uint8Array(64 + message.length);
  const outer = new Uint8Array(64 + 32);
  for (let i = 0; i < 64; i++) {
    inner[i] = block[i] ^ 0x36;
    outer[i] = block[i] ^ 0x5c;
  }
  inner.set(message, 64);
  outer.set(sha256(inner), 64);
  return sha256(outer);
}

function proof(label, secret, clientNonce, engineNonce) {
  return toHex(hmacSha256(utf8(secret), utf8(`${label}${clientNonce}\n${engineNonce}`)));
}

/**
 * The engine's proof in `challenge`: HMAC-SHA256(secret, "softcut-engine-proof\n" + clientNonce + "\n" + engineNonce), hex.
 * @param {string} secret the master token or a scoped token's secret
 * @param {string} clientNonce hello.nonce (64 hex digits)
 * @param {string} engineNonce challenge.nonce (64 hex digits)
 * @returns {string} 64 hex digits
 */
function engineProof(secret, clientNonce, engineNonce) {
  return proof(ENGINE_LABEL, secret, clientNonce, engineNonce);
}

/**
 * The client's proof in `auth`: HMAC-SHA256(secret, "softcut-client-proof\n" + clientNonce + "\n" + engineNonce), hex.
 * @param {string} secret
 * @param {string} clientNonce
 * @param {string} engineNonce
 * @returns {string} 64 hex digits
 */
function clientProof(secret, clientNonce, engineNonce) {
  return proof(CLIENT_LABEL, secret, clientNonce, engineNonce);
}

/**
 * Whether two strings are equal, in time that does not depend on where they differ.
 * @param {unknown} a
 * @param {string} b
 * @returns {boolean}
 */
function proofMatches(a, b) {
  if (typeof a !== "string" || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Whether `value` has the wire form of a nonce or a proof (64 lowercase hex digits).
 * @param {unknown} value
 * @returns {boolean}
 */
function isHex256(value) {
  return typeof value === "string" && HEX256_PATTERN.test(value);
}

/**
 * `bytes` random bytes as hex, from crypto.getRandomValues.
 * @param {number} [bytes=32]
 * @param {{getRandomValues?: Function}} [source=globalThis.crypto] where the randomness comes from
 * @returns {string}
 * @throws {Error} when no crypto.getRandomValues exists (never falls back to Math.random)
 */
function randomHex(bytes = NONCE_BYTES, source = globalThis.crypto) {
  if (!source || typeof source.getRandomValues !== "function") {
    throw new Error("this host offers no crypto.getRandomValues, so it cannot make the handshake's nonce safely; update Photoshop (or the browser)");
  }
  const out = new Uint8Array(bytes);
  source.getRandomValues(out);
  return toHex(out);
}

/**
 * The key id and secret of a credential: "<id>.<secret>" for a scoped token, else the master token.
 * @param {string} credential
 * @returns {{key: string, secret: string}}
 * @throws {RangeError} for an empty credential or a malformed id
 */
function parseCredential(credential) {
  const text = typeof credential === "string" ? credential.trim() : "";
  if (!text) throw new RangeError("credential: expected the engine's token or a paired '<id>.<secret>'; got nothing");
  const dot = text.indexOf(".");
  if (dot < 0) return { key: MASTER_KEY, secret: text };
  const key = text.slice(0, dot);
  const secret = text.slice(dot + 1);
  if (!KEY_ID_PATTERN.test(key) || key === MASTER_KEY || !secret) {
    throw new RangeError(`credential: expected '<id>.<secret>' with an id of 1 to 64 characters from A-Z a-z 0-9 _ -; got an id of ${key.length} characters`);
  }
  return { key, secret };
}

module.exports = { MASTER_KEY, NONCE_BYTES, utf8, toHex, sha256, hmacSha256, engineProof, clientProof, proofMatches, isHex256, randomHex, parseCredential };
