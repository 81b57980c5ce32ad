"use strict";
// src/hmac.js (SHA-256, HMAC-SHA256, the handshake's proofs) against node:crypto and the Python twin's vectors.

const { test } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");

const hmac = require("../src/hmac");

test("sha256 equals node:crypto at every padding boundary and beyond", () => {
  for (const length of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 100_000]) {
    const data = crypto.randomBytes(length);
    assert.equal(hmac.toHex(hmac.sha256(data)), crypto.createHash("sha256").update(data).digest("hex"), `length ${length}`);
  }
  assert.equal(hmac.toHex(hmac.sha256(hmac.utf8("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("hmacSha256 equals node:crypto for short, block-sized and long keys", () => {
  for (const keyLength of [0, 1, 32, 63, 64, 65, 200]) {
    for (const messageLength of [0, 1, 64, 150]) {
      const key = crypto.randomBytes(keyLength);
      const message = crypto.randomBytes(messageLength);
      assert.equal(hmac.toHex(hmac.hmacSha256(key, message)), crypto.createHmac("sha256", key).update(message).digest("hex"), `${keyLength}/${messageLength}`);
    }
  }
});

test("utf8 equals Buffer's encoding, astral characters included", () => {
  for (const text of ["", "abc", "é", "→ ✓", "😀x", "\u0000", "a\u07ff\u0800\uffff"]) {
    assert.deepEqual(Buffer.from(hmac.utf8(text)), Buffer.from(text, "utf8"), text);
  }
});

test("the proofs are HMAC-SHA256 over label + client nonce + newline + engine nonce, with distinct labels", () => {
  const secret = "Xh3kq0Zp7vQe2mB9sLw4TnYc8RdFu1Ga5JiOx6Vb-E_";
  const client = crypto.randomBytes(32).toString("hex");
  const engine = crypto.randomBytes(32).toString("hex");
  const expected = (label) => crypto.createHmac("sha256", secret).update(`${label}\n${client}\n${engine}`).digest("hex");
  assert.equal(hmac.engineProof(secret, client, engine), expected("softcut-engine-proof"));
  assert.equal(hmac.clientProof(secret, client, engine), expected("softcut-client-proof"));
  assert.notEqual(hmac.engineProof(secret, client, engine), hmac.clientProof(secret, client, engine));
  // The value wire.protocol.auth.engine_proof("s", "a", "b") gives in Python.
  assert.equal(hmac.engineProof("s", "a", "b"), "6ad81e3dd9d3b9208a2b76768df1b5685a9bdc8f84612529e9362da164636028");
});

test("proofMatches compares whole strings only", () => {
  const proof = "ab".repeat(32);
  assert.equal(hmac.proofMatches(proof, proof), true);
  assert.equal(hmac.proofMatches(proof.slice(0, 63) + "c", proof), false);
  assert.equal(hmac.proofMatches(proof.slice(0, 63), proof), false);
  assert.equal(hmac.proofMatches(undefined, proof), false);
  assert.equal(hmac.proofMatches(42, proof), false);
});

test("randomHex uses crypto.getRandomValues, and refuses to run without it", () => {
  const a = hmac.randomHex();
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(a, hmac.randomHex());
  assert.equal(hmac.isHex256(a), true);
  let asked = 0;
  assert.equal(hmac.randomHex(2, { getRandomValues: (bytes) => { asked++; bytes.set([1, 255]); return bytes; } }), "01ff");
  assert.equal(asked, 1);
  for (const missing of [null, {}, { getRandomValues: 1 }]) {
    assert.throws(() => hmac.randomHex(32, missing), /no crypto\.getRandomValues/);
  }
});

test("parseCredential: a master token, or '<id>.<secret>'", () => {
  assert.deepEqual(hmac.parseCredential("3q2-7Yh0aU1xVbB9kq4PZg"), { key: "master", secret: "3q2-7Yh0aU1xVbB9kq4PZg" });
  assert.deepEqual(hmac.parseCredential(" t5c1f0e7d9a2b4c68.se.cret \n"), { key: "t5c1f0e7d9a2b4c68", secret: "se.cret" });
  for (const bad of ["", "  ", ".secret", "t1.", "master.x", "a b.c", `${"t".repeat(65)}.x`, null]) {
    assert.throws(() => hmac.parseCredential(bad), RangeError, String(bad));
  }
});
