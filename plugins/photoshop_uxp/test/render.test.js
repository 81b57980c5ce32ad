/**
 * The shipped panel page in headless Chromium, at the panel's minimum size, against a real
 * engine: pairing (refused, then accepted), Select Subject on the in-memory Photoshop
 * document, a live Edges slider, Soft Segment Layers, Cancel, the engine stopping; Select
 * Subject with Clean Plate (a plate layer, a plate of another scene, no plate, a plate file,
 * the engine stopped); Object Selection (Object, Subtract from Subject, Add to Subject);
 * screenshots, layout checks and no console errors.
 *
 * The page is index.html as shipped, served over loopback by testing/panel_page.js with two
 * scripts put in front of its own: a small CommonJS `require` (UXP has one; browsers do not)
 * that hands out the stand-ins of testing/mock for `photoshop` and `uxp`, and the document set-up.
 */
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const { startEngine, occupyEngine, modelZoo } = require("../testing/engine");
const { plateInputs } = require("../testing/plate");
const { EngineClient } = require("../src/client");
const { SKIP, launchChromium, screenshotDir, consoleErrors } = require("../testing/browser");
const { SEGMENTS } = require("../src/protocol");
const { servePanel } = require("../testing/panel_page");

const PLUGIN = path.resolve(__dirname, "..");
const MANIFEST = JSON.parse(fs.readFileSync(path.join(PLUGIN, "manifest.json"), "utf8"));
const MIN = MANIFEST.entrypoints[0].minimumSize;
const SCREENSHOT_DIR = screenshotDir("panel");

let engine;
let server;
let browser;

before(async () => {
  if (SKIP) return;
  server = await servePanel();
  const origin = `http://127.0.0.1:${server.address().port}`;
  engine = await startEngine({ extraArgs: ["--allow-origin", origin] });
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (engine) await engine.stop();
  if (server) server.close();
});

async function statusText(page) {
  return page.textContent("#engine-status");
}

/** The layout at the panel's minimum size: nothing sticks out sideways, controls are whole and apart. */
async function checkLayout(page) {
  const layout = await page.evaluate(() => {
    const controls = [...document.querySelectorAll("button, select, input")].filter((e) => e.offsetParent !== null);
    const boxes = controls.map((e) => ({ id: e.id, r: e.getBoundingClientRect(), clipped: e.scrollWidth > e.clientWidth + 1 && e.tagName === "BUTTON" }));
    const overlaps = [];
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i].r, b = boxes[j].r;
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) overlaps.push(`${boxes[i].id}/${boxes[j].id}`);
    }
    return {
      scrollWidth: document.documentElement.scrollWidth,
      outside: boxes.filter((b) => b.r.left < 0 || b.r.right > window.innerWidth + 0.5).map((b) => b.id),
      tiny: boxes.filter((b) => b.r.width < 16 || b.r.height < 12).map((b) => b.id),
      clipped: boxes.filter((b) => b.clipped).map((b) => b.id),
      overlaps,
      count: boxes.length,
      ids: boxes.map((b) => b.id),
    };
  });
  assert.ok(layout.count >= 17, `expected the panel's controls; saw ${layout.count}`);
  for (const id of ["segment-count", "soft-segments", "plate", "plate-subject"]) assert.ok(layout.ids.includes(id), `${id} is shown`);
  assert.ok(layout.scrollWidth <= MIN.width, `horizontal overflow: ${layout.scrollWidth}px in ${MIN.width}px`);
  assert.deepEqual(layout.outside, []);
  assert.deepEqual(layout.tiny, []);
  assert.deepEqual(layout.clipped, []);
  assert.deepEqual(layout.overlaps, []);
}

test("the panel at its minimum size: pair, select, adjust, cancel, engine stop; no console errors", { skip: SKIP }, async () => {
  const page = await browser.newPage({ viewport: { width: MIN.width, height: MIN.height } });
  page.setDefaultTimeout(180_000); // a cold engine compiles its numeric kernels on the first job
  const problems = consoleErrors(page);
  await page.goto(`http://127.0.0.1:${server.address().port}/`);

  // Not paired yet: the pairing box is open and says what to do.
  await page.waitForFunction(() => document.getElementById("engine-status").textContent === "Not paired");
  assert.match(await page.textContent("#message"), /pairing code/);
  assert.ok(await page.isVisible("#pair-input"));
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "panel-unpaired.png") });

  // A wrong code is refused by the engine.
  await page.fill("#port", String(engine.port));
  const wrong = engine.pairingCode === "000000" ? "111111" : "000000";
  await page.fill("#pair-input", wrong);
  await page.click("#pair");
  await page.waitForFunction(() => document.getElementById("engine-status").textContent === "Pairing refused");
  assert.match(await page.textContent("#message"), /refused the code/);

  // The code the engine printed pairs, and the token lands in the data folder.
  await page.fill("#pair-input", engine.pairingCode.replace(/(\d{3})(\d{3})/, "$1 $2"));
  await page.click("#pair");
  await page.waitForFunction(() => /^Connected: /.test(document.getElementById("engine-status").textContent));
  assert.match(await statusText(page), /on cpu$/);
  const saved = await page.evaluate(async () => {
    const folder = await require("uxp").storage.localFileSystem.getDataFolder();
    return JSON.parse(await (await folder.getEntry("softcut-engine.json")).read());
  });
  assert.match(saved.token, /^t[0-9a-f]{16}\./, "a scoped credential of its own");
  assert.ok(!saved.token.includes(engine.token), "never the engine's master token");
  assert.equal(await page.isVisible("#pair-input"), false, "the pairing box closes once paired");

  // Select Subject into a selection of the document.
  await page.click("#select-subject");
  await page.waitForFunction(() => /^Done/.test(document.getElementById("message").textContent));
  const selected = await page.evaluate(() => {
    const doc = window.softcutTestDocument;
    return { history: doc.history.map((h) => h.name), centre: doc.selection[24 * 64 + 30], corner: doc.selection[0] };
  });
  assert.deepEqual(selected.history, ["Open", "Softcut: Select Subject"]);
  assert.ok(selected.centre > 200 && selected.corner < 50, JSON.stringify(selected));

  // A slider change re-applies the edges to the same selection, one more history state.
  await page.$eval("#edge-feather", (slider) => {
    slider.value = "4";
    slider.dispatchEvent(new Event("input"));
    slider.dispatchEvent(new Event("change"));
  });
  await page.waitForFunction(() => /^Edges adjusted/.test(document.getElementById("message").textContent));
  assert.equal(await page.textContent("#edge-feather-value"), "4");
  assert.deepEqual(await page.evaluate(() => window.softcutTestDocument.history.map((h) => h.name)),
    ["Open", "Softcut: Select Subject", "Softcut: Adjust Edges"]);

  // Soft Segment Layers: the whole image as 3 soft layers in a new group at the top, one more history state.
  assert.equal(await page.getAttribute("#segment-count", "max"), String(SEGMENTS.max));
  await page.fill("#segment-count", "3");
  await page.click("#soft-segments");
  await page.waitForFunction(() => /^Done: 3 soft layers/.test(document.getElementById("message").textContent));
  const grouped = await page.evaluate(() => {
    const doc = window.softcutTestDocument;
    const [group] = doc.layers;
    return { top: group.name, kind: group.kind, children: group.layers.map((l) => [l.name, Boolean(l.mask)]), count: doc.layers.length,
      history: doc.history.map((h) => h.name) };
  });
  assert.deepEqual(grouped, {
    top: "Soft segments", kind: "group", count: 2,
    children: [["Segment 3", true], ["Segment 2", true], ["Segment 1", true]],
    history: ["Open", "Softcut: Select Subject", "Softcut: Adjust Edges", "Softcut: Soft Segments"],
  });
  const listed = (await plateOptions(page)).map(([label]) => label);
  assert.ok(listed.includes("Soft segments › Segment 1"), `the Clean plate list follows the new layers: ${listed}`);
  await page.fill("#segment-count", "40");
  await page.$eval("#segment-count", (input) => input.dispatchEvent(new Event("change")));
  assert.equal(await page.inputValue("#segment-count"), String(SEGMENTS.max), "the count is kept within what the engine can answer");
  await page.evaluate(() => { const doc = window.softcutTestDocument; doc.pick(doc.layers.find((l) => l.name === "Photo")); });

  // Without --lan the engine has no phone link: the panel says how to get one.
  await page.click("#phone-link");
  await page.waitForFunction(() => /not on the local network/.test(document.getElementById("message").textContent));
  assert.match(await page.textContent("#message"), /softcut serve --lan/);
  assert.equal(await page.isVisible("#phone-qr"), false);

  // Layout at the minimum size: nothing sticks out sideways, controls are whole and apart.
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "panel-minimum-size.png"), fullPage: true });
  await checkLayout(page);

  // Cancel: a job waiting behind another client's big job is cancelled from the panel.
  const busy = await occupyEngine(engine); // the action's job will wait in the queue
  await page.click("#remove-background");
  await page.waitForFunction(() => !document.getElementById("cancel").disabled);
  await page.click("#cancel");
  await page.waitForFunction(() => /^cancelled/.test(document.getElementById("message").textContent));
  assert.match(await page.textContent("#message"), /the document was not changed/);
  assert.equal(await page.evaluate(() => window.softcutTestDocument.layers.find((l) => l.name === "Photo").mask), null);
  await busy.finished();

  assert.deepEqual(problems, [], "console errors");

  // The engine stops: the status line says so.
  await engine.stop();
  await page.waitForFunction(() => /^Engine stopped/.test(document.getElementById("engine-status").textContent));
  await page.close();
});

test("Paste from phone… shows the engine's phone link and its QR code (softcut serve --lan)", { skip: SKIP }, async () => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  const lan = await startEngine({ extraArgs: ["--lan", "--allow-origin", origin] });
  const page = await browser.newPage({ viewport: { width: MIN.width, height: MIN.height } });
  page.setDefaultTimeout(180_000);
  const problems = consoleErrors(page);
  try {
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => document.getElementById("engine-status").textContent === "Not paired");
    await page.fill("#port", String(lan.port));
    await page.fill("#pair-input", lan.pairingCode);
    await page.click("#pair");
    await page.waitForFunction(() => /^Connected: /.test(document.getElementById("engine-status").textContent));
    await page.click("#phone-link");
    await page.waitForFunction(() => /^Scan the code/.test(document.getElementById("message").textContent));
    assert.match(await page.textContent("#phone-url"), /^http:\/\/[\d.]+:\d+\/phone#t=[\w-]{20,}$/);
    const qr = await page.$eval("#phone-qr", (img) => ({ width: img.naturalWidth, height: img.naturalHeight, shown: img.getBoundingClientRect().width }));
    assert.ok(qr.width >= 21 && qr.width === qr.height, `a square QR image: ${JSON.stringify(qr)}`);
    assert.ok(qr.shown > 100 && qr.shown <= MIN.width);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "panel-phone-link.png"), fullPage: true });
    assert.deepEqual(problems, [], "console errors");
  } finally {
    await page.close();
    await lan.stop();
  }
});

/** The clean-plate scene as the page's document: the plate, another scene, and the scene on top (picked). */
function openPlateDocument(page, inputs) {
  return page.evaluate(({ width, height, scene, plate, other }) => {
    const { app, action } = require("photoshop");
    const { paint, rgbaImage } = require("./testing/paint");
    const doc = app.newDocument({ width, height, title: "Shoot" });
    const rect = { left: 0, top: 0, width, height };
    doc.addLayer({ name: "Clean plate", rect, data: paint(doc, rect, rgbaImage(plate, width)) });
    doc.addLayer({ name: "Elsewhere", rect, data: paint(doc, rect, rgbaImage(other, width)) });
    doc.addLayer({ name: "Scene", rect, data: paint(doc, rect, rgbaImage(scene, width)) });
    window.softcutTestDocument = doc;
    action.notify("open"); // Photoshop tells the panel a document was opened
  }, { width: inputs.width, height: inputs.height, scene: Array.from(inputs.scene), plate: Array.from(inputs.plate), other: Array.from(inputs.other) });
}

/** What a failed action must leave as it was: every layer's pixels, mask, the selection, the history. */
function documentState(page) {
  return page.evaluate(() => {
    const doc = window.softcutTestDocument;
    const sum = (data) => data.reduce((a, v, i) => (a + v * ((i % 251) + 1)) % 1000000007, 0);
    return {
      layers: doc._all().map((l) => [l.name, sum(l.data), l.mask && sum(l.mask.data)]),
      selection: doc.selection && sum(doc.selection),
      history: doc.history.map((h) => h.name),
    };
  });
}

async function plateOptions(page) {
  return page.$$eval("#plate option", (options) => options.map((o) => [o.textContent, o.selected]));
}

async function messageAfter(page, click, pattern) {
  await page.$eval("#message", (m) => { m.textContent = ""; });
  await page.click(click);
  await page.waitForFunction((source) => new RegExp(source).test(document.getElementById("message").textContent), pattern.source);
  return page.textContent("#message");
}

test("Select Subject with Clean Plate in the panel: a plate layer, another scene, no plate, a plate file, a stopped engine", { skip: SKIP }, async () => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  const inputs = await plateInputs();
  const plateEngine = await startEngine({ extraArgs: ["--allow-origin", origin] });
  const direct = new EngineClient({ port: plateEngine.port, WebSocket });
  const page = await browser.newPage({ viewport: { width: MIN.width, height: MIN.height } });
  page.setDefaultTimeout(180_000);
  const problems = consoleErrors(page);
  try {
    await direct.connect(plateEngine.token);
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => document.getElementById("engine-status").textContent === "Not paired");
    // The start-up document has one layer: nothing to offer but None and From file….
    assert.deepEqual(await plateOptions(page), [["None", true], ["From file…", false]]);
    await page.fill("#port", String(plateEngine.port));
    await page.fill("#pair-input", plateEngine.pairingCode);
    await page.click("#pair");
    await page.waitForFunction(() => /^Connected: /.test(document.getElementById("engine-status").textContent));

    // A document opens: the list follows it, and picks the layer named "plate" (not the one below the picked layer).
    await openPlateDocument(page, inputs);
    assert.deepEqual(await plateOptions(page), [["None", false], ["Elsewhere", false], ["Clean plate", true], ["From file…", false]]);

    // Select Subject with Clean Plate into a layer mask: the engine's own answer, one history step.
    await page.selectOption("#output", "mask");
    await page.selectOption("#quality", "fast");
    const done = await messageAfter(page, "#plate-subject", /^Done|; the document was not changed/);
    assert.match(done, /^Done: the result is in the document as a layer mask \(one history step\); the plate lined up on \d+ of \d+ features and covers \d+% of the image/);
    const { width, height } = inputs;
    const image = { name: "image", format: "rgba8", width, height, data: inputs.scene };
    /** Assert the page's `actual` matte is the engine's own plate_matte answer with `plate`, within 1/255. */
    const assertEngineAnswer = async (actual, plate, what) => {
      const want = await direct.request("plate_matte", { outputs: ["alpha"], format: "raw", refine: "fast", edges: {}, decontaminate: 1 }, { buffers: [image, plate] }).promise;
      let worst = 0;
      want.buffers.alpha.data.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - actual[i])); });
      assert.ok(worst <= 1, `${what} differs from the engine's answer by up to ${worst}/255`);
    };
    const masked = await page.evaluate(() => {
      const doc = window.softcutTestDocument;
      const scene = doc.layers.find((l) => l.name === "Scene");
      return { mask: Array.from(scene.mask.data), history: doc.history.map((h) => h.name), plateMask: doc.layers.find((l) => l.name === "Clean plate").mask };
    });
    await assertEngineAnswer(masked.mask, { name: "plate", format: "rgba8", width, height, data: inputs.plate }, "the mask");
    assert.deepEqual(masked.history, ["Open", "Softcut: Select Subject with Clean Plate"]);
    assert.equal(masked.plateMask, null);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "panel-clean-plate.png"), fullPage: true });
    await checkLayout(page);

    // A plate of another scene: the engine's explanation, and nothing changes.
    await page.selectOption("#output", "selection");
    await page.selectOption("#plate", { label: "Elsewhere" });
    const before = await documentState(page);
    const failed = await messageAfter(page, "#plate-subject", /the document was not changed|^Done/);
    assert.match(failed, /^the clean plate does not match the image: .*features.*; the document was not changed$/);
    assert.equal(await page.getAttribute("#message", "class"), "message error");
    assert.deepEqual(await documentState(page), before);

    // No plate: the message, and no request reaches the engine.
    const jobs = (await direct.status()).jobs_done;
    await page.selectOption("#plate", { label: "None" });
    assert.match(await messageAfter(page, "#plate-subject", /clean plate/), /^Choose a clean plate first: a layer of the scene without the subject, or From file…\.$/);
    assert.equal((await direct.status()).jobs_done, jobs, "the engine ran nothing");
    assert.deepEqual(await documentState(page), before);

    // From file…: the picker's PNG becomes the plate; a cancelled picker keeps it.
    await page.evaluate((bytes) => require("uxp").chooseFile({ name: "plate.png", bytes: Uint8Array.from(bytes) }), Array.from(inputs.platePng));
    await page.selectOption("#plate", "pick-file");
    await page.waitForFunction(() => /^Clean plate: plate\.png/.test(document.getElementById("message").textContent));
    assert.match(await page.textContent("#message"), /\(320 × 240\)/);
    assert.deepEqual((await plateOptions(page)).filter(([, selected]) => selected), [["File: plate.png", true]]);
    await page.evaluate(() => require("uxp").chooseFile(null));
    await page.selectOption("#plate", "pick-file");
    await page.waitForFunction(() => document.getElementById("plate").value === "file");
    assert.match(await messageAfter(page, "#plate-subject", /^Done|; the document was not changed/), /^Done: the result is in the document as a selection \(one history step\); the plate lined up/);
    const selected = await page.evaluate(() => {
      const doc = window.softcutTestDocument;
      return { selection: Array.from(doc.selection), history: doc.history.map((h) => h.name) };
    });
    await assertEngineAnswer(selected.selection, { name: "plate", format: "png", width, height, data: inputs.platePng }, "the selection");
    assert.deepEqual(selected.history, ["Open", "Softcut: Select Subject with Clean Plate", "Softcut: Select Subject with Clean Plate"]);
    assert.deepEqual(await page.evaluate(() => require("uxp").pickerCalls), [{ types: ["png", "jpg", "jpeg"] }, { types: ["png", "jpg", "jpeg"] }]);

    assert.deepEqual(problems, [], "console errors");

    // The engine stops: the panel says how to start it, and the document stays as it was.
    const after = await documentState(page);
    await plateEngine.stop();
    await page.waitForFunction(() => /^Engine stopped/.test(document.getElementById("engine-status").textContent));
    assert.match(await messageAfter(page, "#plate-subject", /softcut serve/), /^Start the engine with `softcut serve`, then press Connect\.$/);
    assert.deepEqual(await documentState(page), after);
    // Chromium itself logs the refused connection; nothing else may appear.
    assert.deepEqual(problems.filter((p) => !/^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/' failed/.test(p)), [], "console errors");
  } finally {
    direct.close();
    await page.close();
    await plateEngine.stop();
  }
});

test("the Model list offers the engine's models and the one picked is the one the engine runs", { skip: SKIP }, async () => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  const zoo = await modelZoo();
  const zooEngine = await startEngine({ extraArgs: ["--allow-origin", origin], env: { U2NET_HOME: zoo.folder } });
  const direct = new EngineClient({ port: zooEngine.port, WebSocket });
  const page = await browser.newPage({ viewport: { width: MIN.width, height: MIN.height } });
  page.setDefaultTimeout(180_000);
  const problems = consoleErrors(page);
  try {
    await direct.connect(zooEngine.token);
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => document.getElementById("engine-status").textContent === "Not paired");
    await page.fill("#port", String(zooEngine.port));
    await page.fill("#pair-input", zooEngine.pairingCode);
    await page.click("#pair");
    await page.waitForFunction(() => /^Connected: /.test(document.getElementById("engine-status").textContent));

    // The default first and chosen; the stand-in selectable; models without a file shown, disabled, with a hint.
    const options = await page.$$eval("#model option", (all) => all.map((o) => ({ value: o.value, disabled: o.disabled, selected: o.selected, title: o.title })));
    assert.deepEqual({ ...options[0], title: undefined }, { value: "tiny", disabled: false, selected: true, title: undefined });
    assert.equal(options.find((o) => o.value === zoo.model).disabled, false);
    const absent = options.find((o) => o.value === "birefnet-general");
    assert.ok(absent.disabled && /rembg's model folder/.test(absent.title), JSON.stringify(absent));

    // Picked, it is sent with Select Subject: the stand-in sees the blue ground as the subject, the default the red disc.
    await page.selectOption("#model", zoo.model);
    await page.click("#select-subject");
    await page.waitForFunction(() => /^Done/.test(document.getElementById("message").textContent));
    const selected = await page.evaluate(() => {
      const doc = window.softcutTestDocument;
      return { centre: doc.selection[24 * 64 + 30], corner: doc.selection[0] };
    });
    assert.ok(selected.centre < 50 && selected.corner > 200, `the chosen model's matte: ${JSON.stringify(selected)}`);
    const models = (await direct.request("models.list", {}).promise).fields.models;
    assert.deepEqual(models.filter((m) => m.loaded).map((m) => m.name).sort(), [zoo.model, "tiny"].sort(), "the engine ran it");
    assert.equal(await page.inputValue("#model"), zoo.model, "the pick is kept for the next request");
    assert.deepEqual(problems, [], "console errors");
  } finally {
    direct.close();
    await page.close();
    await zooEngine.stop();
  }
});

test("Object Selection in the panel: Object from a marquee, then Subtract from and Add to it in the same selection", { skip: SKIP }, async () => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  const objectEngine = await startEngine({ extraArgs: ["--allow-origin", origin] }); // the first test stopped the shared one
  const page = await browser.newPage({ viewport: { width: MIN.width, height: MIN.height } });
  page.setDefaultTimeout(180_000);
  const problems = consoleErrors(page);
  try {
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => document.getElementById("engine-status").textContent === "Not paired");
    await page.fill("#port", String(objectEngine.port));
    await page.fill("#pair-input", objectEngine.token); // the master token pairs too
    await page.click("#pair");
    await page.waitForFunction(() => /^Connected: /.test(document.getElementById("engine-status").textContent));
    /** Select the rectangle [x0, x1) × [y0, y1) of the 64 × 48 document, as the marquee does. */
    const marquee = (x0, y0, x1, y1) => page.evaluate(([a, b, c, d]) => {
      const plane = new Uint8Array(64 * 48);
      for (let y = b; y < d; y++) plane.fill(255, y * 64 + a, y * 64 + c);
      window.softcutTestDocument.setSelection(plane);
    }, [x0, y0, x1, y1]);
    const state = () => page.evaluate(() => {
      const doc = window.softcutTestDocument;
      return { history: doc.history.map((h) => h.name).filter((n) => n.startsWith("Softcut")), left: doc.selection[24 * 64 + 22], right: doc.selection[24 * 64 + 38] };
    });

    assert.match(await messageAfter(page, "#add-to-subject", /the document was not changed/), /^there is no earlier Softcut result on "Photo" to correct/);
    await marquee(12, 6, 50, 44);
    assert.match(await messageAfter(page, "#select-object", /^Done|not changed/), /^Done: the object, in the document as a selection \(one history step\)\. To correct it/);
    const object = await state();
    assert.ok(object.left > 200 && object.right > 200, JSON.stringify(object));
    await marquee(4, 0, 30, 48); // roughly the left of the disc
    assert.match(await messageAfter(page, "#subtract-from-subject", /^Done|not changed/), /^Done: the part taken from the last result, in the document as a selection/);
    const subtracted = await state();
    assert.ok(subtracted.left < 50 && subtracted.right > 150, JSON.stringify(subtracted));
    await marquee(4, 0, 30, 48);
    assert.match(await messageAfter(page, "#add-to-subject", /^Done|not changed/), /^Done: the part added to the last result/);
    assert.deepEqual((await state()).history, ["Softcut: Object", "Softcut: Subtract from Subject", "Softcut: Add to Subject"]);
    assert.ok((await state()).left > 200, "added back");
    assert.deepEqual(problems, [], "console errors");
  } finally {
    await page.close();
    await objectEngine.stop();
  }
});
