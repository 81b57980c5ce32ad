/**
 * The panel's settings, kept as JSON in the plug-in's own data folder (UXP storage):
 * the engine's host and port and the credential to authenticate with (`token`: the scoped
 * "<id>.<secret>" pairing handed out, or the engine's master token typed in; never sent itself).
 */
"use strict";

const { storage } = require("uxp");
const { DEFAULT_PORT } = require("./protocol");

const FILE_NAME = "softcut-engine.json";
const DELIVERED_FILE = "softcut-delivered.json";
const DELIVERED_KEPT = 500; // the most recent delivery ids remembered
const DEFAULTS = Object.freeze({ host: "127.0.0.1", port: DEFAULT_PORT, token: null });

/**
 * The saved settings, or the defaults when none were saved (or the file cannot be read).
 * @returns {Promise<{host: string, port: number, token: string|null}>}
 */
async function load() {
  const folder = await storage.localFileSystem.getDataFolder();
  let text;
  try {
    text = await (await folder.getEntry(FILE_NAME)).read();
  } catch (missing) {
    return { ...DEFAULTS };
  }
  try {
    const saved = JSON.parse(text);
    return {
      host: typeof saved.host === "string" ? saved.host : DEFAULTS.host,
      port: Number.isInteger(saved.port) ? saved.port : DEFAULTS.port,
      token: typeof saved.token === "string" ? saved.token : null,
    };
  } catch (corrupt) {
    return { ...DEFAULTS };
  }
}

/**
 * Save `settings` (host, port, token) in the data folder, replacing what was there.
 * @returns {Promise<void>}
 */
async function save(settings) {
  const folder = await storage.localFileSystem.getDataFolder();
  const file = await folder.createFile(FILE_NAME, { overwrite: true });
  await file.write(JSON.stringify({ host: settings.host, port: settings.port, token: settings.token }));
}

/**
 * What the user typed in the pairing box: a 6-digit code (spaces and dashes allowed) or a token.
 * @returns {{code: string}|{token: string}|null}
 */
function parsePairingInput(text) {
  const trimmed = String(text || "").trim();
  if (!trimmed) return null;
  const digits = trimmed.replace(/[\s-]/g, "");
  if (/^\d{6}$/.test(digits)) return { code: digits };
  return { token: trimmed };
}

async function readDelivered(folder) {
  try {
    const ids = JSON.parse(await (await folder.getEntry(DELIVERED_FILE)).read());
    return Array.isArray(ids) ? ids.filter((id) => typeof id === "string") : [];
  } catch (missingOrCorrupt) {
    return [];
  }
}

/**
 * Whether the phone cut-out `delivery` was already placed (ids kept in the data folder).
 * @returns {Promise<boolean>}
 */
async function wasDelivered(delivery) {
  const folder = await storage.localFileSystem.getDataFolder();
  return (await readDelivered(folder)).includes(delivery);
}

/**
 * Remember that `delivery` was placed (the last 500 ids are kept).
 * @returns {Promise<void>}
 */
async function markDelivered(delivery) {
  const folder = await storage.localFileSystem.getDataFolder();
  const ids = (await readDelivered(folder)).filter((id) => id !== delivery);
  ids.push(delivery);
  const file = await folder.createFile(DELIVERED_FILE, { overwrite: true });
  await file.write(JSON.stringify(ids.slice(-DELIVERED_KEPT)));
}

module.exports = { FILE_NAME, DEFAULTS, load, save, parsePairingInput, wasDelivered, markDelivered };
