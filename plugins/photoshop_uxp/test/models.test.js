/**
 * The panel's model choice (src/models.js) follows the same rules as the Python plug-ins'
 * (wire/client/models.py): the same lists give the same entries and the same picks.
 */
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const { execFileSync } = require("node:child_process");

const { modelChoices, pick } = require("../src/models");
const { REPO_ROOT, pythonPath } = require("../testing/engine");

const LISTS = [
  [ // an engine with model choice: the default is not first in its list
    { name: "isnet", default: false, loaded: false, present: false, licence: "MIT", description: "IS-Net" },
    { name: "u2netp", default: false, loaded: true, present: true, licence: "Apache-2.0" },
    { name: "silueta", default: false, loaded: false, present: true },
    { name: "tiny", default: true, loaded: true, present: true, licence: "user-provided" },
  ],
  [{ name: "isnet", loaded: true, licence: "MIT" }], // an engine before model choice
  [],
];
const WANTED = [null, "silueta", "isnet", "nope", "tiny"];

const PYTHON = `
import json, sys
sys.path.insert(0, ".")
from wire.client.models import model_choices, pick
out = []
for models in json.loads(sys.argv[1]):
    choices = model_choices(models)
    out.append({"choices": [[c.name, c.label, c.enabled, c.hint, c.default] for c in choices],
                "picks": [pick(choices, w) for w in json.loads(sys.argv[2])]})
print(json.dumps(out))
`;

test("the model choice lists and picks as the Python plug-ins' does", () => {
  const python = JSON.parse(execFileSync(pythonPath(), ["-c", PYTHON, JSON.stringify(LISTS), JSON.stringify(WANTED)],
    { cwd: REPO_ROOT, encoding: "utf8" }));
  const ours = LISTS.map((models) => {
    const choices = modelChoices(models);
    return { choices: choices.map((c) => [c.name, c.label, c.enabled, c.hint, c.isDefault]), picks: WANTED.map((w) => pick(choices, w)) };
  });
  assert.deepEqual(ours, python);
  const [first] = ours;
  assert.deepEqual(first.choices.map(([name, , enabled]) => [name, enabled]),
    [["tiny", true], ["u2netp", true], ["silueta", true], ["isnet", false]]);
  assert.deepEqual(first.picks, ["tiny", "silueta", "tiny", "tiny", "tiny"]);
});
