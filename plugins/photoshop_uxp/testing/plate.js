"use strict";
/**
 * Test helper: the clean-plate scene, made by the Python tests' own generator
 * (tests/editor_files.py `write_plate_inputs`: a red disc over a textured ground, and a
 * handheld retake of that ground, and a plate of another scene), plus that plate as PNG and
 * JPEG files, written once per process into a temporary folder by the Python that runs the
 * engine.
 */

const { execFile } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const { REPO_ROOT, pythonPath } = require("./engine");

const WRITE_INPUTS = [
  "import json, sys",
  "from pathlib import Path",
  'sys.path.insert(0, "tests")',
  "import cv2",
  "import numpy as np",
  "from editor_files import PLATE_SIZE, write_plate_inputs",
  "out = Path(sys.argv[1])",
  "write_plate_inputs(out)",
  "w, h = PLATE_SIZE",
  'plate = np.frombuffer((out / "plate.rgba").read_bytes(), np.uint8).reshape(h, w, 4)',
  "bgr = cv2.cvtColor(np.ascontiguousarray(plate[..., :3]), cv2.COLOR_RGB2BGR)",
  'assert cv2.imwrite(str(out / "plate.png"), bgr)',
  'assert cv2.imwrite(str(out / "plate.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])',
  'print(json.dumps({"width": w, "height": h}))',
].join("\n");

let made = null; // Promise, once per process

/**
 * The clean-plate scene's files.
 * @returns {Promise<{width: number, height: number, scene: Uint8Array, plate: Uint8Array,
 *   platePng: Uint8Array, plateJpeg: Uint8Array, other: Uint8Array}>} scene, plate and other:
 *   rgba8 (alpha 255) of width × height; platePng and plateJpeg: the plate as files.
 */
function plateInputs() {
  if (made === null) {
    made = new Promise((resolve, reject) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "softcut-plate-"));
      process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
      execFile(pythonPath(), ["-c", WRITE_INPUTS, dir], { cwd: REPO_ROOT }, (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`writing the clean-plate scene failed: ${error.message}\n${stderr}`));
          return;
        }
        const { width, height } = JSON.parse(stdout);
        const read = (name) => new Uint8Array(fs.readFileSync(path.join(dir, name)));
        resolve({
          width, height,
          scene: read("scene.rgba"), plate: read("plate.rgba"), other: read("other.rgba"),
          platePng: read("plate.png"), plateJpeg: read("plate.jpg"),
        });
      });
    });
    made.catch(() => {
      made = null;
    });
  }
  return made;
}

module.exports = { plateInputs };
