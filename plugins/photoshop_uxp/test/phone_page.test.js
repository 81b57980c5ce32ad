/**
 * The phone page (engine_server/phone/, issue 7) as `softcut serve --lan` serves it, in headless
 * Chromium at a phone's size, against a real engine with the tiny model (reddish pixels are the
 * subject): pairing through the printed URL (and a used link refused), a cut with its preview,
 * a paste with no editor (kept), the kept cut-out delivered to an editor that connects, a paste
 * with that editor connected (snapshot, then placed), the engine stopping mid-job. Screenshots
 * of each step, layout checks at 360 px and no console errors. (Its pure helpers:
 * image_size.test.js and phone_helpers.test.js.)
 */
"use strict";

const { test, describe, before, after } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const { REPO_ROOT, startEngine, occupyEngine } = require("../testing/engine");
const { SKIP, launchChromium, screenshotDir, consoleErrors } = require("../testing/browser");
const { fixtureDir, fixture } = require("../testing/phone_images");
const { EngineClient } = require("../src/client");
const phone = require(path.join(REPO_ROOT, "engine_server", "phone", "phone.js"));

const SCREENSHOT_DIR = screenshotDir("phone");
const PHONE = { viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const JOB_TIMEOUT_MS = 180_000; // a cold engine compiles its numeric kernels on the first job

/**
 * Wait until `read()` returns something other than null/undefined.
 * @template T
 * @param {() => T} read
 * @param {string} what for the error
 * @param {number} [timeoutMs=15000]
 * @returns {Promise<T>}
 */
async function until(read, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * The width and height in a PNG's header.
 * @param {Uint8Array} png
 * @returns {{width: number, height: number, colourType: number}}
 */
function pngHeader(png) {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20), colourType: png[25] };
}

/**
 * A stand-in editor: an EngineClient that says it accepts place_layer and canvas_snapshot,
 * shows `document` (a PNG) and records what the engine asks of it.
 * @param {{port: number, token: string}} engine
 * @param {{png: Uint8Array, width: number, height: number}} document
 * @returns {{client: EngineClient, requests: Array<{type: string, fields: object, buffers: object}>}}
 */
function testEditor(engine, document) {
  const requests = [];
  const client = new EngineClient({
    port: engine.port,
    WebSocket,
    client: { name: "softcut-krita", version: "0.1.0" },
    accepts: {
      async canvas_snapshot(message) {
        requests.push(message);
        return {
          fields: { document: { width: document.width, height: document.height }, view: null },
          buffers: [{ name: "image", format: "png", width: document.width, height: document.height, data: document.png }],
        };
      },
      async place_layer(message) {
        requests.push(message);
        return { fields: { delivery: message.fields.delivery, ok: true, message: "placed" } };
      },
    },
  });
  return { client, requests };
}

/**
 * Layout at the phone's width: no sideways overflow, every visible control ≥ 44 px tall.
 * @param {import("playwright-core").Page} page
 * @returns {Promise<{scrollWidth: number, small: string[], outside: string[], count: number}>}
 */
function layout(page) {
  return page.evaluate(() => {
    const controls = [...document.querySelectorAll("button, label.button")].filter((e) => e.offsetParent !== null);
    const boxes = controls.map((e) => ({ name: e.id || e.textContent.trim(), r: e.getBoundingClientRect() }));
    return {
      scrollWidth: document.documentElement.scrollWidth,
      small: boxes.filter((b) => b.r.height < 44).map((b) => `${b.name}: ${b.r.height}px`),
      outside: boxes.filter((b) => b.r.left < 0 || b.r.right > window.innerWidth + 0.5).map((b) => b.name),
      count: boxes.length,
    };
  });
}

/**
 * Check the layout at 360 px and take a screenshot.
 * @param {import("playwright-core").Page} page
 * @param {string} name the screenshot's file name, without .png
 */
async function checkStep(page, name) {
  const seen = await layout(page);
  assert.ok(seen.count >= 1, `${name}: no controls visible`);
  assert.ok(seen.scrollWidth <= PHONE.viewport.width, `${name}: horizontal overflow, ${seen.scrollWidth}px in ${PHONE.viewport.width}px`);
  assert.deepEqual(seen.small, [], `${name}: touch targets under 44 px`);
  assert.deepEqual(seen.outside, [], `${name}: controls outside the screen`);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `phone-${name}.png`), fullPage: true });
}

/**
 * A phone-sized page that records console errors.
 * @param {import("playwright-core").Browser} browser
 * @returns {Promise<{page: import("playwright-core").Page, problems: string[], context: import("playwright-core").BrowserContext}>}
 */
async function phonePage(browser) {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  page.setDefaultTimeout(JOB_TIMEOUT_MS);
  return { page, problems: consoleErrors(page), context };
}

/** The connection line's text once it matches `pattern`. */
async function connectionLine(page, pattern) {
  await page.waitForFunction((source) => new RegExp(source).test(document.getElementById("connection").textContent), pattern.source);
  return page.textContent("#connection");
}

/** The preview image's size and its pixels' alpha: [transparent, opaque] counts and the centre's alpha. */
function previewPixels(page) {
  return page.evaluate(() => {
    const img = document.getElementById("preview");
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(img, 0, 0);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let transparent = 0;
    let opaque = 0;
    for (let i = 3; i < data.length; i += 4) {
      if (data[i] < 30) transparent += 1;
      else if (data[i] > 225) opaque += 1;
    }
    const centre = ((canvas.height >> 1) * canvas.width + (canvas.width >> 1)) * 4 + 3;
    return { width: canvas.width, height: canvas.height, transparent, opaque, centre: data[centre], corner: data[3] };
  });
}

describe("the phone page against softcut serve --lan", { skip: SKIP }, () => {
  let engine;
  let browser;
  let editor = null;

  before(async () => {
    await fixtureDir();
    engine = await startEngine({ extraArgs: ["--lan"] });
    browser = await launchChromium();
  });

  after(async () => {
    if (editor) editor.client.close();
    if (browser) await browser.close();
    if (engine) await engine.stop();
  });

  test("pair, cut, paste kept, delivered to an editor, paste placed, engine lost", async () => {
    const firstUrl = await until(() => engine.phoneUrl, `a "phone: http://…" line in the engine's log:\n${engine.log.join("\n")}`);
    assert.match(firstUrl, /^http:\/\/[^/]+\/phone#t=[A-Za-z0-9_-]{20,64}$/);
    const pageUrl = firstUrl.replace(/#.*$/, "");
    const host = new URL(firstUrl).host;

    // Without a token the page says how to pair.
    const stranger = await phonePage(browser);
    await stranger.page.goto(pageUrl);
    assert.equal(await connectionLine(stranger.page, /^Not paired/), "Not paired: scan the QR code softcut serve --lan shows.");
    assert.equal(await stranger.page.textContent("#connection code"), "softcut serve --lan", "the command is set as code");
    await checkStep(stranger.page, "unpaired");

    // The printed link pairs: the token is kept, the fragment leaves the address bar.
    const { page, problems, context } = await phonePage(browser);
    await page.goto(firstUrl);
    assert.equal(await connectionLine(page, /^Paired/), `Paired with Softcut on ${host}`);
    assert.equal(page.url(), pageUrl, "the one-time token is removed from the URL");
    const kept = await page.evaluate((key) => localStorage.getItem(key), phone.TOKEN_KEY);
    assert.match(kept, /^t[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/, "a phone-scoped credential of its own");
    assert.ok(!kept.includes(engine.token), "never the engine's master token");
    await checkStep(page, "paired");

    // The same link a second time is refused (single use); the engine prints a new one.
    await stranger.context.close();
    const late = await phonePage(browser);
    await late.page.goto(firstUrl);
    assert.match(await connectionLine(late.page, /^Not paired/), /already used or has expired — scan the new QR code/);
    await checkStep(late.page, "link-used");
    await late.context.close();
    await until(() => (engine.phoneUrl !== firstUrl ? engine.phoneUrl : null), "a new phone URL after the pairing");

    // A reload connects with the saved token.
    await page.reload();
    assert.equal(await connectionLine(page, /^Paired/), `Paired with Softcut on ${host}`);

    // Not an image: a clear status, nothing sent.
    await page.setInputFiles("#photo-input", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
    await page.waitForFunction(() => document.getElementById("status").dataset.state === "error");
    assert.match(await page.textContent("#status"), /^Bad image: this file is not a JPEG or PNG photo/);

    // Cut: the photo's JPEG bytes go as they are; the preview comes back over the checkerboard.
    await page.setInputFiles("#photo-input", { name: "photo.jpg", mimeType: "image/jpeg", buffer: Buffer.from(await fixture("cut.jpg")) });
    await page.waitForSelector("#preview-box:not([hidden])");
    await page.waitForFunction(() => document.getElementById("preview").complete && document.getElementById("preview").naturalWidth > 0);
    const preview = await previewPixels(page);
    assert.deepEqual([preview.width, preview.height], [240, 320], "the preview is the photo turned by its EXIF orientation");
    assert.ok(preview.transparent > 0.2 * preview.width * preview.height, JSON.stringify(preview));
    assert.ok(preview.opaque > 0.1 * preview.width * preview.height, JSON.stringify(preview));
    assert.ok(preview.centre > 200 && preview.corner < 30, `the red disc is the subject: ${JSON.stringify(preview)}`);
    assert.match(await page.textContent("#status"), /Cut out 240 × 320/);
    const cut = await page.evaluate(() => window.softcutPhone.cut);
    assert.equal(typeof cut, "string");
    assert.equal(await page.isVisible("text=Retake"), true);
    await checkStep(page, "cut-preview");

    // Paste with no editor connected: kept for later.
    await page.click("#to-paste");
    await page.waitForSelector("#paste-step:not([hidden])");
    await checkStep(page, "paste-step");
    const screen = { name: "screen.jpg", mimeType: "image/jpeg", buffer: Buffer.from(await fixture("screen.jpg")) };
    await page.setInputFiles("#screen-input", screen);
    await page.waitForFunction(() => document.getElementById("paste-result").textContent !== "");
    assert.equal(await page.getAttribute("#paste-result", "data-state"), "warn");
    assert.equal(await page.textContent("#paste-result"), "No editor connected — kept, will paste when one connects");
    assert.equal(await page.isVisible("#screen-label"), false, "a cut goes to the outbox once");
    await checkStep(page, "paste-kept");

    // An editor connects: the kept cut-out is delivered to it, and acknowledged.
    const documentPng = await fixture("document.png");
    editor = testEditor(engine, { png: documentPng, ...pngHeader(documentPng) });
    await editor.client.connect(engine.token);
    const delivered = await until(() => editor.requests.find((m) => m.type === "place_layer"), "the pending place_layer");
    assert.equal(delivered.fields.name, "Phone cut-out");
    assert.equal(delivered.fields.delivery, cut);
    assert.deepEqual([delivered.fields.x, delivered.fields.y], [null, null], "kept without a place: centred");
    const cutout = delivered.buffers.cutout;
    assert.equal(cutout.spec.format, "png");
    const header = pngHeader(cutout.data); // the full-resolution RGBA cut-out, cropped to the disc (about 144 px across)
    assert.equal(header.colourType, 6);
    assert.ok(header.width > 120 && header.width < 200 && header.height > 120 && header.height < 200, JSON.stringify(header));

    // Cut another (a PNG this time), then paste it with the editor connected: the editor is
    // asked for a snapshot, then places the layer.
    await page.click("#cut-another");
    await page.waitForSelector("#cut-step:not([hidden])");
    assert.equal(await page.evaluate(() => window.softcutPhone.cut), null);
    assert.equal(await page.isVisible("#preview-box"), false);
    assert.equal(await page.isVisible("#take-label"), true);
    await page.setInputFiles("#photo-input", { name: "disc.png", mimeType: "image/png", buffer: Buffer.from(await fixture("disc.png")) });
    await page.waitForFunction(() => /^Cut out 90 × 70/.test(document.getElementById("status").textContent));
    const secondCut = await page.evaluate(() => window.softcutPhone.cut);
    assert.notEqual(secondCut, cut);
    await page.click("#to-paste");
    await page.waitForSelector("#screen-label:visible");
    assert.equal(await page.textContent("#paste-result"), "", "the last outcome is cleared");
    editor.requests.length = 0;
    await page.setInputFiles("#screen-input", screen);
    await page.waitForFunction(() => document.getElementById("paste-result").textContent !== "");
    assert.deepEqual(editor.requests.map((m) => m.type), ["canvas_snapshot", "place_layer"]);
    const placed = editor.requests[1].fields;
    assert.equal(placed.delivery, secondCut);
    // The photo shows the document's middle (200, 150): the cut-out (the disc cropped out of the
    // 90x70 photo) is centred there.
    const size = pngHeader(editor.requests[1].buffers.cutout.data);
    assert.ok(size.width < 90 && size.height < 70, JSON.stringify(size));
    const centre = [placed.x + size.width / 2, placed.y + size.height / 2];
    assert.ok(Math.abs(centre[0] - 200) <= 4 && Math.abs(centre[1] - 150) <= 4, JSON.stringify({ placed, size }));
    assert.equal(await page.getAttribute("#paste-result", "data-state"), "ok");
    assert.equal(await page.textContent("#paste-result"), `Pasted into softcut-krita at (${placed.x}, ${placed.y})`);
    await checkStep(page, "paste-placed");

    await page.click("#cut-another");
    await page.waitForSelector("#cut-step:not([hidden])");

    assert.deepEqual(problems, [], "console errors");

    // The engine stops during a cut (queued behind another client's big jobs): the page says so.
    const busy = await occupyEngine(engine);
    busy.finished().catch(() => {}); // its jobs end with the engine
    await page.setInputFiles("#photo-input", { name: "photo.jpg", mimeType: "image/jpeg", buffer: Buffer.from(await fixture("cut.jpg")) });
    await page.waitForFunction(() => /^(Cutting out|Waiting for Softcut)/.test(document.getElementById("status").textContent));
    await engine.stop();
    await page.waitForFunction(() => document.getElementById("status").dataset.state === "error");
    assert.match(await page.textContent("#status"), new RegExp(`(was lost during the cut|Softcut on ${host} dropped the cut)`));
    assert.match(await connectionLine(page, /lost/), /The connection to Softcut on .* was lost/);
    await checkStep(page, "engine-lost");

    // The next photo finds nothing to talk to.
    await page.setInputFiles("#photo-input", { name: "photo.jpg", mimeType: "image/jpeg", buffer: Buffer.from(await fixture("cut.jpg")) });
    await page.waitForFunction(() => /^Can't reach/.test(document.getElementById("status").textContent));
    assert.equal(await page.textContent("#status"),
      `Can't reach Softcut on ${host} — is softcut serve --lan running and the phone on the same network?`);
    await context.close();
  });
});
