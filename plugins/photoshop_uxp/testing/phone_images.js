"use strict";
/**
 * Test helper: the images the phone tests read (test/image_size.test.js, test/phone_helpers.test.js,
 * test/phone_page.test.js), written once per test process by Python (PIL) into a temporary folder
 * that goes when the process exits.
 */

const { execFile } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const { pythonPath } = require("./engine");

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

module.exports = { fixtureDir, fixture };
