/**
 * The phone page's pure helpers (engine_server/phone/, issue 7): modules.js loading wire/js into
 * the page, the pairing fragment and the engine's address, paste outcomes and progress text.
 */
"use strict";

const { test, describe } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const { REPO_ROOT } = require("../testing/engine");
const { fixture } = require("../testing/phone_images");
const protocol = require("../src/protocol");
const phone = require(path.join(REPO_ROOT, "engine_server", "phone", "phone.js"));
const phoneModules = require(path.join(REPO_ROOT, "engine_server", "phone", "modules.js"));

describe("the phone page's helpers", () => {
  test("modules.js loads every file of wire/js into the page, each after what it requires", async () => {
    const wireJs = path.join(REPO_ROOT, "wire", "js");
    assert.deepEqual([...phoneModules.SHARED_MODULES].sort(), fs.readdirSync(wireJs).filter((f) => f.endsWith(".js")).map((f) => f.slice(0, -3)).sort());
    const asked = [];
    const serve = (files) => async (url, options) => {
      asked.push(url);
      assert.deepEqual(options, { cache: "no-store" });
      const name = url.replace(/^\/phone\//, "");
      const file = path.join(wireJs, name);
      return files.has(name) ? { ok: true, status: 200, text: async () => fs.readFileSync(file, "utf8") } : { ok: false, status: 404 };
    };
    const all = new Set(phoneModules.SHARED_MODULES.map((name) => `${name}.js`));
    const loaded = await phoneModules.loadEngineModules(serve(all));
    assert.deepEqual(asked, phoneModules.SHARED_MODULES.map((name) => `/phone/${name}.js`));
    assert.deepEqual(Object.keys(loaded.protocol), Object.keys(protocol), "the page's protocol module is the panel's");
    assert.equal(typeof loaded.client.EngineClient, "function");
    assert.equal(typeof loaded.hmac.hmacSha256, "function");
    assert.deepEqual(loaded.images.imageInfo(await fixture("disc.png")), { format: "png", width: 90, height: 70 });

    all.delete("hmac.js");
    await assert.rejects(phoneModules.loadEngineModules(serve(all)), /^Error: \/phone\/hmac\.js: HTTP 404$/);
  });

  test("fragmentToken and engineAddress read the page's address", () => {
    assert.equal(phone.fragmentToken("#t=AbC-_12"), "AbC-_12");
    assert.equal(phone.fragmentToken("t=xyz"), "xyz");
    assert.equal(phone.fragmentToken(""), null);
    assert.equal(phone.fragmentToken("#t="), null);
    assert.equal(phone.fragmentToken("#other=1"), null);
    assert.deepEqual(phone.engineAddress({ hostname: "192.168.1.20", port: "47841", protocol: "http:" }), { host: "192.168.1.20", port: 47841 });
    assert.deepEqual(phone.engineAddress({ hostname: "[fd00::2]", port: "5000", protocol: "http:" }), { host: "fd00::2", port: 5000 });
    assert.deepEqual(phone.engineAddress({ hostname: "10.0.0.2", port: "", protocol: "http:" }), { host: "10.0.0.2", port: 80 });
  });

  test("pasteOutcome: green only when placed; the engine's message, capitalised", () => {
    assert.deepEqual(phone.pasteOutcome({ status: "placed", message: "pasted into softcut-krita at (12, 40)", editor: "softcut-krita", x: 12, y: 40 }),
      { state: "ok", text: "Pasted into softcut-krita at (12, 40)" });
    assert.deepEqual(phone.pasteOutcome({ status: "placed", editor: "softcut-gimp", x: 0, y: -3 }),
      { state: "ok", text: "Pasted into softcut-gimp at (0, -3)" });
    assert.deepEqual(phone.pasteOutcome({ status: "placed_at_centre", x: null, y: null }),
      { state: "warn", text: "Screen not found — pasted at centre" });
    assert.deepEqual(phone.pasteOutcome({ status: "kept" }),
      { state: "warn", text: "No editor connected — kept, will paste when one connects" });
    assert.deepEqual(phone.pasteOutcome({ status: "queued_somewhere" }), { state: "warn", text: "Finished: queued_somewhere" });
    assert.equal(phone.progressText("Cutting out", 0.554), "Cutting out… 55 %");
    assert.equal(phone.progressText("Pasting", 1.2), "Pasting… 100 %");
  });
});
