/**
 * The phone page (engine_server/phone/, issue 7): its pure helpers (image headers, the pairing
 * fragment, paste outcomes), then the page as `softcut serve --lan` serves it, in headless
 * Chromium at a phone's size, against a real engine with the tiny model (reddish pixels are the
 * subject): pairing through the printed URL (and a used link refused), a cut with its preview,
 * a paste with no editor (kept), the kept cut-out delivered to an editor that connects, a paste
 * with that editor connected (snapshot, then placed), the engine stopping mid-job. Screenshots
 * of each step, layout checks at 360 px and no console errors.
 */
"use strict";

const { test, describe, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { execFile } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const { REPO_ROOT, pythonPath, startEngine, occupyEngine } = require("../testing/engine");
const { SKIP, launchChromium, screenshotDir, consoleErrors } = require("../testing/browser");
const { EngineClient } = require("../src/client");
const images = require("../src/image_size");
const protocol = require("../src/protocol");
const phone = require(path.join(REPO_ROOT, "engine_server", "phone", "phone.js"));
const phoneModules = require(path.join(REPO_ROOT, "engine_server", "phone", "modules.js"));

const SCREENSHOT_DIR = screenshotDir("phone");
const PHONE = { viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const JOB_TIMEOUT_MS = 180_000; // a cold engine compiles its numeric kernels on the first job

/**
 * Python (PIL) that writes the test images into the folder argv[1]:
 * - cut.jpg: 320x240 red disc on blue, EXIF orientation 6 (shown 240x320), stored 320x240;
 * - progressive.jpg: 200x150 progressive JPEG; baseline.jpg: 64x40; thumb.jpg: 16x8;
 * - disc.png: 90x70 RGB PNG;
 * - document.png: 400x300 busy "document" the editor shows; screen.jpg: a photo of its middle.
 */
const FIXTURES = String.raw`
import sys, random
from pathlib import Path
from PIL import Image, ImageDraw
out = Path(sys.argv[1])

def disc(w, h):
    im = Image.new("RGB", (w, h), (30, 40, 200))
    r = min(w, h) * 0.3
    ImageDraw.Draw(im).ellipse((w / 2 - r, h / 2 - r, w / 2 + r, h / 2 + r), fill=(230, 30, 30))
    return im

exif = Image.Exif()
exif[0x0112] = 6
disc(320, 240).save(out / "cut.jpg", quality=92, exif=exif.tobytes())
disc(200, 150).save(out / "progressive.jpg", quality=85, progressive=True)
disc(64, 40).save(out / "baseline.jpg", quality=85)
disc(16, 8).save(out / "thumb.jpg", quality=85)
disc(90, 70).save(out / "disc.png")

rng = random.Random(7)
doc = Image.new("RGB", (400, 300), (245, 245, 240))
draw = ImageDraw.Draw(doc)
for _ in range(140):
    x, y = rng.randrange(400), rng.randrange(300)
    s = rng.randrange(8, 40)
    colour = tuple(rng.randrange(256) for _ in range(3))
    if rng.random() < 0.5:
        draw.rectangle((x, y, x + s, y + s // 2), fill=colour)
    else:
        draw.ellipse((x, y, x + s, y + s), fill=colour)
doc.save(out / "document.png")
doc.crop((100, 75, 300, 225)).resize((400, 300), Image.LANCZOS).save(out / "screen.jpg", quality=90)
`;

let fixtures = null; // folder with the images FIXTURES writes

/**
 * Write the test images (once).
 * @returns {Promise<string>} their folder
 */
async function fixtureDir() {
  if (fixtures === null) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "softcut-phone-images-"));
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    await new Promise((resolve, reject) => {
      execFile(pythonPath(), ["-c", FIXTURES, dir], (error, _stdout, stderr) => {
        if (error) reject(new Error(`writing the test images failed: ${error.message}\n${stderr}`));
        else resolve();
      });
    });
    fixtures = dir;
  }
  return fixtures;
}

/**
 * @param {string} name a file FIXTURES wrote
 * @returns {Promise<Uint8Array>}
 */
async function fixture(name) {
  return new Uint8Array(fs.readFileSync(path.join(await fixtureDir(), name)));
}

/**
 * A JPEG with an extra EXIF (APP1) segment right after SOI that carries another whole JPEG
 * (a thumbnail, as cameras write it), whose frame header must not be taken for the image's.
 * @param {Uint8Array} jpeg the image
 * @param {Uint8Array} thumbnail a smaller JPEG
 * @returns {Uint8Array}
 */
function withExifThumbnail(jpeg, thumbnail) {
  const tiff = [0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08]; // big-endian TIFF header
  const body = new Uint8Array([...Buffer.from("Exif\0\0", "latin1"), ...tiff, ...thumbnail]);
  const length = body.length + 2;
  return new Uint8Array([0xff, 0xd8, 0xff, 0xe1, length >> 8, length & 0xff, ...body, ...jpeg.subarray(2)]);
}

/**
 * Bytes of a JPEG made of the given segments (marker, body) after SOI, then SOS and EOI.
 * @param {Array<[number, number[]]>} segments
 * @returns {Uint8Array}
 */
function jpegOf(segments) {
  const bytes = [0xff, 0xd8];
  for (const [marker, body] of segments) bytes.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  bytes.push(0xff, 0xda, 0x00, 0x02, 0xff, 0xd9);
  return new Uint8Array(bytes);
}

/** A SOF body: 8-bit precision, height, width, one component. */
function sofBody(width, height) {
  return [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0];
}

describe("the phone page's helpers", () => {
  test("sniffImageType reads the magic numbers, not the name", async () => {
    assert.equal(images.sniffImageType(await fixture("baseline.jpg")), "jpeg");
    assert.equal(images.sniffImageType(await fixture("disc.png")), "png");
    const heic = new Uint8Array([0, 0, 0, 0x18, ...Buffer.from("ftypheic", "latin1"), 0, 0, 0, 0]);
    assert.equal(images.sniffImageType(heic), null);
    assert.equal(images.sniffImageType(new Uint8Array(Buffer.from("GIF89a\x01\x00", "latin1"))), null);
    assert.equal(images.sniffImageType(new Uint8Array(Buffer.from("RIFF\0\0\0\0WEBPVP8 ", "latin1"))), null);
    assert.equal(images.sniffImageType(new Uint8Array([0xff, 0xd8])), null, "too short for a JPEG");
    assert.equal(images.sniffImageType(new Uint8Array(0)), null);
  });

  test("jpegSize: baseline, progressive and EXIF-bearing files give their stored size", async () => {
    assert.deepEqual(images.jpegSize(await fixture("baseline.jpg")), { width: 64, height: 40 });
    const progressive = await fixture("progressive.jpg");
    assert.ok(progressive.some((b, i) => b === 0xff && progressive[i + 1] === 0xc2), "PIL wrote a SOF2 (progressive) marker");
    assert.deepEqual(images.jpegSize(progressive), { width: 200, height: 150 });
    // EXIF orientation 6 shows the photo turned; the buffer spec wants the stored size.
    assert.deepEqual(images.jpegSize(await fixture("cut.jpg")), { width: 320, height: 240 });
    const camera = withExifThumbnail(await fixture("baseline.jpg"), await fixture("thumb.jpg"));
    assert.deepEqual(images.jpegSize(camera), { width: 64, height: 40 }, "not the thumbnail's 16x8");
    assert.deepEqual(images.imageInfo(camera), { format: "jpeg", width: 64, height: 40 });
  });

  test("jpegSize: fill bytes, standalone markers and every SOF kind; damaged files are BadImage", () => {
    assert.deepEqual(images.jpegSize(jpegOf([[0xe0, [1, 2, 3]], [0xc0, sofBody(4000, 3000)]])), { width: 4000, height: 3000 });
    for (const marker of [0xc1, 0xc2, 0xc3, 0xc9, 0xca, 0xcf]) {
      assert.deepEqual(images.jpegSize(jpegOf([[marker, sofBody(7, 5)]])), { width: 7, height: 5 }, marker.toString(16));
    }
    // DHT (C4) and DAC (CC) are not frame headers, although they sit among them.
    assert.deepEqual(images.jpegSize(jpegOf([[0xc4, sofBody(1, 1)], [0xcc, [0, 0]], [0xc0, sofBody(9, 8)]])), { width: 9, height: 8 });
    const filled = new Uint8Array([0xff, 0xd8, 0xff, 0xff, 0xff, 0xd0, 0xff, 0xc0, 0, 11, ...sofBody(3, 2)]);
    assert.deepEqual(images.jpegSize(filled), { width: 3, height: 2 });

    const bad = (bytes, pattern) => assert.throws(() => images.jpegSize(bytes), (error) => {
      assert.ok(error instanceof images.BadImage, error);
      assert.match(error.message, pattern);
      return true;
    });
    bad(jpegOf([[0xe0, [1]]]), /no frame header/);
    bad(jpegOf([[0xc0, sofBody(640, 0)]]), /DNL/);
    bad(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 1, 2]), /ends before/);
    bad(new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 8, 0]), /cut short/);
    bad(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 1, 2, 0x12, 0x34, 0, 0]), /no marker at byte 8/);
    bad(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 1, 2]), /segment length 1/);
    bad(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), /not a JPEG/);
  });

  test("pngSize reads IHDR; imageInfo names the format or refuses the file", async () => {
    const png = await fixture("disc.png");
    assert.deepEqual(images.pngSize(png), { width: 90, height: 70 });
    assert.deepEqual(images.imageInfo(png), { format: "png", width: 90, height: 70 });
    const wide = png.slice(0, 33);
    wide.set([0x00, 0x01, 0x00, 0x00], 16); // 65536 wide: all four bytes count
    assert.deepEqual(images.pngSize(wide), { width: 65536, height: 70 });
    const headless = png.slice(0, 33);
    headless.set(Buffer.from("IDAT", "latin1"), 12);
    assert.throws(() => images.pngSize(headless), /no header chunk/);
    assert.throws(() => images.pngSize(png.slice(0, 20)), /no header chunk/);
    assert.throws(() => images.imageInfo(new Uint8Array(Buffer.from("GIF89a\x01\x00\x01\x00", "latin1"))), (error) => {
      assert.ok(error instanceof images.BadImage);
      assert.match(error.message, /not a JPEG or PNG/);
      return true;
    });
  });

  test("the page and the panel read image headers alike: what photoFile takes, imageInfo takes", async () => {
    const sevenByteSof = new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x07, 8, 0, 2, 0, 3, 0xff, 0xd9]);
    assert.deepEqual(images.jpegSize(sevenByteSof), { width: 3, height: 2 }, "a SOF length of 7 is enough, as for the engine's codec");
    const png = await fixture("disc.png");
    assert.throws(() => images.pngSize(png.slice(0, 32)), /no header chunk/, "an IHDR chunk cut short");
    const files = [png, png.slice(0, 32), await fixture("cut.jpg"), sevenByteSof, jpegOf([[0xc0, sofBody(640, 0)]]),
      jpegOf([[0xe0, [1]]]), new Uint8Array([0xff, 0xd8, 0x00, 0xc0]), new Uint8Array(Buffer.from("GIF89a\x01\x00\x01\x00", "latin1"))];
    for (const bytes of files) {
      let info = null;
      try {
        info = images.imageInfo(bytes);
      } catch (error) {
        assert.ok(error instanceof images.BadImage, error);
      }
      if (info === null) assert.throws(() => protocol.photoFile("plate", bytes), /not a PNG or JPEG file/);
      else assert.deepEqual(protocol.photoFile("plate", bytes), { name: "plate", ...info, data: bytes });
    }
  });

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

// ---------------------------------------------------------------------- the page in Chromium

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
