"use strict";
/**
 * Test helper: start a real `softcut serve` on a free loopback port with the tiny
 * test model (tests/tiny_models.py: reddish pixels are the subject), as
 * testing/launcher.py does for the Python tests.
 */

const { spawn, execFile } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const readline = require("node:readline");

/** The repository root (plugins/photoshop_uxp/test → ../../..). */
const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const READY = /ready on ws:\/\/[^:]+:(\d+)/;
const PAIRING_CODE = /pairing code: (\d{6})/;
/** The phone page's pairing URL that `softcut serve --lan` prints (a new one after each use). */
const PHONE_URL = /phone: (http:\/\/\S+)/;
const START_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;

/**
 * The Python that runs the engine: $SOFTCUT_PYTHON, else the repository's .venv, else python3.
 * @returns {string}
 */
function pythonPath() {
  if (process.env.SOFTCUT_PYTHON) return process.env.SOFTCUT_PYTHON;
  const venvs = [path.join(REPO_ROOT, ".venv", "bin", "python"), path.join(REPO_ROOT, ".venv", "Scripts", "python.exe")];
  return venvs.find((venv) => fs.existsSync(venv)) || "python3";
}

let tinyModel = null; // Promise<string>: built once per process

const BUILD_MODEL = [
  "import sys",
  "from pathlib import Path",
  'sys.path.insert(0, "tests")',
  "from tiny_models import build_tiny_model, write_sidecar",
  "p = build_tiny_model(Path(sys.argv[1]))",
  "write_sidecar(p)",
].join("\n");

/**
 * The tiny ONNX model (with its sidecar), built on first use in a temp folder.
 * @returns {Promise<string>} the .onnx path
 */
function tinyModelPath() {
  if (tinyModel === null) {
    tinyModel = new Promise((resolve, reject) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "softcut-model-"));
      process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
      const out = path.join(dir, "tiny.onnx");
      execFile(pythonPath(), ["-c", BUILD_MODEL, out], { cwd: REPO_ROOT }, (error, _stdout, stderr) => {
        if (error) reject(new Error(`building the tiny test model failed: ${error.message}\n${stderr}`));
        else resolve(out);
      });
    });
    tinyModel.catch(() => {
      tinyModel = null; // let a later call try again
    });
  }
  return tinyModel;
}

const BUILD_ZOO = [
  "import sys",
  "from pathlib import Path",
  'sys.path.insert(0, "tests")',
  "from editor_files import CHOSEN_MODEL, write_model_zoo",
  "write_model_zoo(Path(sys.argv[1]))",
  "print(CHOSEN_MODEL)",
].join("\n");

/**
 * rembg's model folder with the editor tests' chosen model (tests/editor_files.py: a stand-in that sees the
 * blue ground as the subject, where the tiny default model sees the red disc), built in a temp folder.
 * @returns {Promise<{folder: string, model: string}>} the folder (an engine's U2NET_HOME) and the model's name
 */
function modelZoo() {
  return new Promise((resolve, reject) => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "softcut-u2net-"));
    process.once("exit", () => fs.rmSync(folder, { recursive: true, force: true }));
    execFile(pythonPath(), ["-c", BUILD_ZOO, folder], { cwd: REPO_ROOT }, (error, stdout, stderr) => {
      if (error) reject(new Error(`building the model stand-in failed: ${error.message}\n${stderr}`));
      else resolve({ folder, model: stdout.trim() });
    });
  });
}

/**
 * Start a real engine (`python -m softcut_app.cli serve --port 0`) with the tiny model on the CPU,
 * a fresh config folder (its own token) and a fresh SOFTCUT_HOME.
 * @param {{extraArgs?: string[], model?: string, home?: string, env?: object}} [options] further `softcut serve`
 *   arguments; `model`: a model name or .onnx path instead of the tiny test model; `home`: the
 *   SOFTCUT_HOME to use (its model cache) instead of a fresh one, kept at stop(); `env`: further
 *   environment variables (e.g. U2NET_HOME: `modelZoo()`)
 * @returns {Promise<{port: number, token: string, readonly pairingCode: (string|null), readonly phoneUrl: (string|null), nextPairingCode: (previous?: string|null, timeoutMs?: number) => Promise<string>, log: string[], process: import("node:child_process").ChildProcess, stop: () => Promise<void>}>}
 *   pairingCode is the latest code the engine printed (null before any; the first comes just after
 *   the "ready" line); phoneUrl is the latest phone pairing URL it printed (null without --lan);
 *   stop() ends the engine (SIGTERM, SIGKILL after 10 s) and removes its folders
 * @throws {Error} with the engine's log when it exits or does not listen within 120 s
 */
async function startEngine({ extraArgs = [], model = null, home: givenHome = null, env = {} } = {}) {
  model = model || await tinyModelPath();
  const config = fs.mkdtempSync(path.join(os.tmpdir(), "softcut-config-"));
  const home = givenHome || fs.mkdtempSync(path.join(os.tmpdir(), "softcut-home-"));
  const child = spawn(
    pythonPath(),
    // --jobs 2: two jobs run at once, so occupyEngine's two big jobs make the next job wait in the queue
    ["-m", "softcut_app.cli", "serve", "--port", "0", "--model", model, "--device", "cpu", "--jobs", "2", ...extraArgs],
    { cwd: REPO_ROOT, env: { ...process.env, ...env, SOFTCUT_CONFIG: config, SOFTCUT_HOME: home }, stdio: ["ignore", "ignore", "pipe"] },
  );
  const log = [];
  let pairingCode = null;
  let phoneUrl = null;
  let exited = false;
  const exit = new Promise((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
  });

  async function stop() {
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exit;
      clearTimeout(timer);
    }
    for (const dir of givenHome ? [config] : [config, home]) fs.rmSync(dir, { recursive: true, force: true });
  }

  let settled = false;
  const port = await new Promise((resolve, reject) => {
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop().then(() => reject(new Error(`the engine did not start (${why}):\n${log.join("\n")}`)));
    };
    const timer = setTimeout(() => fail(`no "ready" line within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    child.once("error", (error) => fail(error.message));
    exit.then(() => fail(`it exited with code ${child.exitCode}, signal ${child.signalCode}`));
    readline.createInterface({ input: child.stderr }).on("line", (line) => {
      log.push(line);
      const code = PAIRING_CODE.exec(line);
      if (code) pairingCode = code[1];
      const phone = PHONE_URL.exec(line);
      if (phone) phoneUrl = phone[1];
      const ready = READY.exec(line);
      if (ready && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve(Number(ready[1]));
      }
    });
  });
  const token = fs.readFileSync(path.join(config, "token"), "utf8").trim();

  /**
   * Wait until the engine has printed a pairing code other than `previous`.
   * @param {string|null} [previous] a code already used
   * @param {number} [timeoutMs=10000]
   * @returns {Promise<string>}
   */
  async function nextPairingCode(previous = null, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (pairingCode === null || pairingCode === previous) {
      if (Date.now() > deadline || exited) throw new Error(`the engine printed no new pairing code:\n${log.join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return pairingCode;
  }

  return {
    port,
    token,
    get pairingCode() {
      return pairingCode;
    },
    get phoneUrl() {
      return phoneUrl;
    },
    nextPairingCode,
    log,
    process: child,
    stop,
  };
}

/**
 * Keep every job runner of a running engine busy, so that the next job anyone sends waits in
 * the queue (for testing Cancel without a race). Sends, from a second connection, one big
 * job per runner (each image different, so the engine's model-output cache cannot answer),
 * and resolves once the engine reports them all running.
 * @param {{port: number, token: string}} engine
 * @param {{runners?: number, side?: number}} [options] the engine's runners (softcut serve runs 2)
 * @returns {Promise<{finished: () => Promise<void>}>} finished() waits for the big jobs and closes the connection
 */
async function occupyEngine(engine, { runners = 2, side = 2000 } = {}) {
  const { EngineClient } = require("../src/client");
  const other = new EngineClient({ port: engine.port, WebSocket });
  await other.connect(engine.token);
  const jobs = [];
  for (let i = 0; i < runners; i++) {
    const data = new Uint8Array(side * side).fill(90 + i);
    jobs.push(other.request("select_subject", { outputs: ["alpha"], refine: "best", format: "raw" },
      { buffers: [{ name: "image", format: "grey8", width: side, height: side, data }] }));
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await other.status();
    if (status.jobs.running >= runners) break;
    if (Date.now() > deadline) throw new Error(`the engine did not start ${runners} jobs: ${JSON.stringify(status.jobs)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    async finished() {
      await Promise.all(jobs.map((job) => job.promise));
      other.close();
    },
  };
}

/**
 * One engine and one connected client for a test file: registers node:test `before` (start the
 * engine, connect an `EngineClient` with its token) and `after` (close the client, stop the engine).
 * @param {object} [options] as for `startEngine`.
 * @returns {{readonly engine: object, readonly client: import("../src/client").EngineClient}} both
 *   set once `before` has run (read them inside tests).
 */
function sharedEngine(options) {
  const { before, after } = require("node:test");
  const { EngineClient } = require("../src/client");
  let engine = null;
  let client = null;
  before(async () => {
    engine = await startEngine(options);
    client = new EngineClient({ port: engine.port, WebSocket });
    await client.connect(engine.token);
  });
  after(async () => {
    if (client) client.close();
    if (engine) await engine.stop();
  });
  return {
    get engine() {
      return engine;
    },
    get client() {
      return client;
    },
  };
}

/**
 * A client whose engine has gone: connected to a fresh engine, which was then stopped.
 * @returns {Promise<import("../src/client").EngineClient>}
 */
async function goneEngineClient() {
  const { EngineClient } = require("../src/client");
  const doomed = await startEngine();
  const client = new EngineClient({ port: doomed.port, WebSocket });
  await client.connect(doomed.token);
  await doomed.stop();
  return client;
}

module.exports = { REPO_ROOT, pythonPath, startEngine, occupyEngine, sharedEngine, goneEngineClient, modelZoo };
