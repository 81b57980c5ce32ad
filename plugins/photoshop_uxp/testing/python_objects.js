/**
 * Test helper: Object Selection as the Python plug-ins make it (wire.editor.flows.select_object through
 * the blocking Python client, wire.client.SoftcutClient) against a running engine, for comparing the
 * panel's alpha with the Python client's.
 */
"use strict";

const { execFile } = require("node:child_process");
const { REPO_ROOT, pythonPath } = require("./engine");

const SCRIPT = [
  "import base64, json, sys",
  "from types import SimpleNamespace",
  "from wire.client import SoftcutClient",
  "from wire.editor import flows",
  "s = json.load(sys.stdin)",
  "raw = lambda key: base64.b64decode(s[key]) if s.get(key) else None",
  "source = SimpleNamespace(width=s['width'], height=s['height'], rgba=raw('rgba'))",
  "prompts = flows.ObjectPrompts(box=tuple(s['box']) if s.get('box') else None,",
  "                              points=tuple((p['x'], p['y'], p['positive']) for p in s.get('points', [])), rough=raw('rough'))",
  "options = flows.MatteOptions(output=s['output'], quality=s['quality'], edges=s.get('edges', {}), decontaminate=s.get('decontaminate', 1.0))",
  "coverage = (lambda: raw('previous_coverage')) if s.get('previous_coverage') else None",
  "with SoftcutClient(port=s['port'], token=s['token']) as client:",
  "    result = flows.select_object(client.request, source, prompts, options, mode=s['mode'], previous=s.get('previous'),",
  "                                 previous_coverage=coverage)",
  "print(json.dumps({'fields': {k: result.fields.get(k) for k in ('image', 'prepared', 'result')},",
  "                  'alpha': base64.b64encode(result.buffers['alpha']).decode()}))",
].join("\n");

const b64 = (bytes) => (bytes ? Buffer.from(bytes).toString("base64") : null);

/**
 * One Object Selection by the Python flow on `engine`.
 * @param {{port: number, token: string}} engine
 * @param {object} spec width, height, rgba (rgba8 Uint8Array, 0–255), mode, output ("selection", "mask",
 *   "layer"), quality ("fast", "best"); optional box [x0, y0, x1, y1], points [{x, y, positive}], rough
 *   (grey8 Uint8Array, the rough mask), previous (a result id), previous_coverage (grey8 Uint8Array), edges.
 * @returns {Promise<{fields: {image: string, prepared: boolean, result: string}, alpha: Uint8Array}>}
 *   alpha: grey8, width × height, 0–255.
 */
function pythonSelectObject(engine, spec) {
  const input = JSON.stringify({
    ...spec, port: engine.port, token: engine.token,
    rgba: b64(spec.rgba), rough: b64(spec.rough), previous_coverage: b64(spec.previous_coverage),
  });
  return new Promise((resolve, reject) => {
    const child = execFile(pythonPath(), ["-c", SCRIPT], { cwd: REPO_ROOT, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`the Python client failed: ${error.message}\n${stderr}`));
        return;
      }
      const out = JSON.parse(stdout);
      resolve({ fields: out.fields, alpha: new Uint8Array(Buffer.from(out.alpha, "base64")) });
    });
    child.stdin.end(input);
  });
}

module.exports = { pythonSelectObject };
