"use strict";
/**
 * Test helper: headless Chromium for the page tests (render.test.js: the panel page;
 * phone_page.test.js: the phone page).
 */

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { chromium } = require("playwright-core");

const CHROMIUM = process.env.SOFTCUT_CHROMIUM || "/usr/bin/chromium";
/** Why the page tests are skipped (Chromium is missing; never in CI, which installs it), else false. */
const SKIP = !fs.existsSync(CHROMIUM) && !process.env.CI ? `needs Chromium at ${CHROMIUM} (apt-get install chromium)` : false;

/** @returns {Promise<import("playwright-core").Browser>} a headless Chromium with nothing running in the background */
function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Where a test's screenshots go: $SOFTCUT_SCREENSHOT_DIR, else a new temporary folder.
 * @param {string} name part of the temporary folder's name, e.g. "panel"
 * @returns {string}
 */
function screenshotDir(name) {
  return process.env.SOFTCUT_SCREENSHOT_DIR || fs.mkdtempSync(path.join(os.tmpdir(), `softcut-${name}-`));
}

/**
 * Record a page's console errors and uncaught exceptions.
 * @param {import("playwright-core").Page} page
 * @returns {string[]} filled as they happen
 */
function consoleErrors(page) {
  const problems = [];
  page.on("console", (message) => { if (message.type() === "error") problems.push(message.text()); });
  page.on("pageerror", (error) => problems.push(String(error)));
  return problems;
}

module.exports = { SKIP, launchChromium, screenshotDir, consoleErrors };
