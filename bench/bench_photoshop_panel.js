/**
 * The Photoshop panel's round trip at 12 MP with the real default model, in Node: the shipped
 * panel modules over the in-memory Photoshop stand-in, against the engine called directly
 * through the same JavaScript client.
 *
 *   cd plugins/photoshop_uxp && node --experimental-websocket ../../bench/bench_photoshop_panel.js [--repeat 3]
 *
 * What it shows is the panel's own cost (reading and converting pixels, the request, writing
 * results); the stand-in's getPixels/put* are memory copies, so Photoshop's own imaging time
 * is not in these figures. Every call gets a different first pixel, so the engine's cache of
 * model outputs (by image content) never answers. Prints one JSON line per case (median seconds over --repeat runs).
 */
"use strict";

const path = require("node:path");
const os = require("node:os");

const PLUGIN = path.resolve(__dirname, "..", "plugins", "photoshop_uxp");
const { photoshop } = require(path.join(PLUGIN, "testing", "mock", "install"));
const actions = require(path.join(PLUGIN, "src", "actions"));
const pixels = require(path.join(PLUGIN, "src", "pixels"));
const { EngineClient } = require(path.join(PLUGIN, "src", "client"));
const { startEngine } = require(path.join(PLUGIN, "testing", "engine"));

const WIDTH = 4000;
const HEIGHT = 3000;
const repeat = Number((process.argv.find((a, i) => process.argv[i - 1] === "--repeat")) || 3);

/** A photo-like 12 MP RGBA layer at `depth`: a warm blob on a cool gradient, with noise. */
function photo(depth) {
  const full = depth === 16 ? 32768 : 255;
  const data = depth === 16 ? new Uint16Array(WIDTH * HEIGHT * 4) : new Uint8Array(WIDTH * HEIGHT * 4);
  let seed = 7;
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const noise = (seed % 21) - 10;
      const inside = Math.hypot((x - 2000) / 900, (y - 1600) / 1200) < 1 ? 1 : 0;
      const rgb = inside ? [200, 120, 90] : [60 + (x * 80) / WIDTH, 110, 170 + (y * 60) / HEIGHT];
      const at = (y * WIDTH + x) * 4;
      for (let c = 0; c < 3; c++) data[at + c] = Math.round((Math.max(0, Math.min(255, rgb[c] + noise)) * full) / 255);
      data[at + 3] = full;
    }
  }
  return data;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function time(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function main() {
  const home = process.env.SOFTCUT_HOME || path.join(os.homedir(), ".cache", "softcut");
  const engine = await startEngine({ model: "isnet", home });
  const client = new EngineClient({ port: engine.port, WebSocket });
  await client.connect(engine.token);
  const rect = { left: 0, top: 0, width: WIDTH, height: HEIGHT };
  try {
    for (const depth of [8, 16]) {
      const data = photo(depth);
      const full = depth === 16 ? 32768 : 255;
      let fresh = 0;
      // The engine caches the model stage by image content: each call gets a different first pixel.
      const freshen = () => { fresh += 1; data[0] = Math.round((((fresh * 37) % 256) * full) / 255); };
      const direct = [];
      const convert = [];
      const outputs = { selection: [], mask: [], layer: [] };
      let last = null;
      const adjusts = [];
      for (let run = 0; run < repeat; run++) {
        freshen();
        const image = { name: "image", format: "rgba8", width: WIDTH, height: HEIGHT, data: pixels.toEightBit(data) };
        direct.push(await time(() => client.request("select_subject", { outputs: ["alpha"], format: "raw" }, { buffers: [image] }).promise));
        convert.push(await time(async () => pixels.toEightBit(data)));
        for (const output of Object.keys(outputs)) {
          freshen();
          photoshop.app.reset();
          const doc = photoshop.app.newDocument({ width: WIDTH, height: HEIGHT, depth });
          doc.history = [{ name: "Open", state: null }]; // the stand-in's undo copies are not Photoshop's cost
          doc._snapshot = () => null;
          doc._restore = () => {};
          doc.addLayer({ name: "Photo", rect, data });
          outputs[output].push(await time(async () => {
            last = await actions.run(client, { output, merged: false, quality: "best", edges: {}, decontaminate: 1 });
          }));
        }
        adjusts.push(await time(() => actions.adjust(client, last, { feather: 3 }, 1)));
      }
      const line = {
        megapixels: (WIDTH * HEIGHT) / 1e6, depth, repeat,
        engine_direct_s: median(direct),
        panel_select_subject_s: median(outputs.selection),
        panel_remove_background_s: median(outputs.mask),
        panel_cut_out_s: median(outputs.layer),
        panel_adjust_edges_cut_out_s: median(adjusts),
        to_8_bit_s: median(convert),
        device: client.welcome ? client.welcome.device : "?",
      };
      console.log(JSON.stringify(line));
    }
  } finally {
    client.close();
    await engine.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
