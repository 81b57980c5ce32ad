/**
 * Test helper: the engine's own verdict on client → engine messages
 * (wire.protocol.schemas.check_from_client, the checks `softcut serve` runs on every request).
 */
"use strict";

const { execFileSync } = require("node:child_process");
const { REPO_ROOT, pythonPath } = require("./engine");

const VERDICTS = [
  "import json, sys",
  "from wire.protocol import schemas",
  "from wire.protocol.errors import ProtocolError",
  "for line in sys.stdin.read().splitlines():",
  "    try:",
  "        schemas.check_from_client(json.loads(line))",
  "        print('ok')",
  "    except ProtocolError as exc:",
  "        print(f'{exc.code}: {exc.message}')",
].join("\n");

/**
 * The engine's verdict on each message.
 * @param {string[]} texts JSON texts of messages (e.g. the first frame `encode` gives)
 * @returns {string[]} "ok" or "code: message" for each
 */
function engineVerdicts(texts) {
  return execFileSync(pythonPath(), ["-c", VERDICTS], { cwd: REPO_ROOT, input: texts.join("\n"), encoding: "utf8" }).trim().split("\n");
}

module.exports = { engineVerdicts };
