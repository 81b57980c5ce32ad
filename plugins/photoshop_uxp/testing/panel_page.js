/**
 * Test helper: the shipped panel page (index.html) served over loopback for headless Chromium
 * (render.test.js), with two scripts put in front of its own: a small CommonJS `require` (UXP
 * has one; browsers do not) that hands out the stand-ins of testing/mock for `photoshop` and
 * `uxp`, and the document set-up (`window.softcutTestDocument`).
 */
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");

const PLUGIN = path.resolve(__dirname, "..");

/** A CommonJS `require` for the page: synchronous loads from this server, stand-ins for the host modules. */
const LOADER = `(() => {
  const standIns = { photoshop: "/testing/mock/photoshop.js", uxp: "/testing/mock/uxp.js" };
  const cache = {};
  function resolve(dir, request) {
    if (standIns[request]) return standIns[request];
    let p = new URL(request, location.origin + dir).pathname;
    return p.endsWith(".js") ? p : p + ".js";
  }
  function load(file) {
    if (cache[file]) return cache[file].exports;
    const xhr = new XMLHttpRequest();
    xhr.open("GET", file, false);
    xhr.send();
    if (xhr.status !== 200) throw new Error("cannot load " + file);
    const module = { exports: {} };
    cache[file] = module;
    const dir = file.slice(0, file.lastIndexOf("/") + 1);
    new Function("require", "module", "exports", xhr.responseText + "\\n//# sourceURL=" + file)(
      (request) => load(resolve(dir, request)), module, module.exports);
    return module.exports;
  }
  window.require = (request) => load(resolve("/", request));
})();`;

/** An RGB document with one layer: a red disc (the test model's subject) on blue. */
const DOCUMENT = `(() => {
  const { app } = require("photoshop");
  const { disc, paint } = require("./testing/paint");
  const doc = app.newDocument({ width: 64, height: 48, title: "Portrait" });
  const rect = { left: 0, top: 0, width: 64, height: 48 };
  doc.addLayer({ name: "Photo", rect, data: paint(doc, rect, (x, y) => disc(x, y, 30, 24, 14)) });
  window.softcutTestDocument = doc;
})();`;

/**
 * Serve the plug-in folder, index.html with the loader and the document set-up in front of its own scripts.
 * @returns {Promise<import("node:http").Server>} listening on a free loopback port
 */
function servePanel() {
  return new Promise((resolve) => {
    const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".png": "image/png" };
    const srv = http.createServer((req, res) => {
      const url = new URL(req.url, "http://127.0.0.1");
      if (url.pathname === "/" || url.pathname === "/index.html") {
        const page = fs.readFileSync(path.join(PLUGIN, "index.html"), "utf8").replace(
          '<script src="index.js"></script>',
          `<script>${LOADER}</script><script>${DOCUMENT}</script><script src="index.js"></script>`);
        assert.notEqual(page.indexOf("softcutTestDocument"), -1, "index.html should load index.js");
        res.writeHead(200, { "content-type": types[".html"] });
        res.end(page);
        return;
      }
      if (url.pathname === "/favicon.ico") {
        res.writeHead(204);
        res.end();
        return;
      }
      const file = path.join(PLUGIN, path.normalize(url.pathname));
      if (!file.startsWith(PLUGIN) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
      res.end(fs.readFileSync(file));
    });
    srv.listen(0, "127.0.0.1", () => resolve(srv));
  });
}

module.exports = { servePanel };
