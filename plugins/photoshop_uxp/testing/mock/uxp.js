/**
 * An in-memory stand-in for UXP's `uxp` module: the plug-in data folder
 * (`storage.localFileSystem.getDataFolder`) with files that can be written and read back, and
 * the file picker (`getFileForOpening`), which hands out the files a test chose beforehand.
 * Missing entries throw, as UXP's `getEntry` does.
 * Plain JavaScript with no Node modules, so the browser can load it too.
 */
"use strict";

/** `storage.formats`: how `File.read` returns the file (text by default). */
const formats = Object.freeze({ utf8: "utf8", binary: "binary" });

class MemoryFile {
  constructor(name) {
    this.name = name;
    this.isFile = true;
    this.isFolder = false;
    this.text = "";
    this.bytes = null; // a picked file's contents (Uint8Array)
  }

  async read(options = {}) {
    const format = options.format || formats.utf8;
    if (format !== formats.utf8 && format !== formats.binary) throw new TypeError(`uxp (mock): unknown read format ${String(format)}`);
    if (format === formats.binary) {
      const bytes = this.bytes || new TextEncoder().encode(this.text);
      return bytes.slice().buffer; // UXP hands out an ArrayBuffer
    }
    if (this.bytes) throw new Error(`uxp (mock): ${this.name} is binary; read it with {format: storage.formats.binary}`);
    return this.text;
  }

  async write(text) {
    if (typeof text !== "string") throw new TypeError("uxp (mock): write expects a string here");
    this.text = text;
  }
}

class MemoryFolder {
  constructor() {
    this.entries = new Map();
  }

  async getEntry(name) {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`uxp (mock): no entry named ${name}`);
    return entry;
  }

  async createFile(name, options = {}) {
    if (this.entries.has(name) && !options.overwrite) throw new Error(`uxp (mock): ${name} exists`);
    const file = new MemoryFile(name);
    this.entries.set(name, file);
    return file;
  }
}

const dataFolder = new MemoryFolder();

/** What the file picker was asked (its options, in order); test helper, not UXP API. */
const pickerCalls = [];
/** What the next pickers answer, in order: a file, or null for a cancelled picker. */
const picks = [];

/**
 * Test helper (not UXP API): the file the user will pick in the next file picker (`name`,
 * `bytes`), or null to cancel it.
 * @param {{name: string, bytes: Uint8Array}|null} file
 */
function chooseFile(file) {
  if (file === null) {
    picks.push(null);
    return;
  }
  const picked = new MemoryFile(file.name);
  picked.bytes = Uint8Array.from(file.bytes);
  picks.push(picked);
}

module.exports = {
  storage: {
    formats,
    localFileSystem: {
      async getDataFolder() {
        return dataFolder;
      },
      /**
       * The file picker: resolves with the chosen File, or undefined when the user cancels (as UXP
       * does, "empty"). Only single-file picking is modelled.
       */
      async getFileForOpening(options = {}) {
        pickerCalls.push(options);
        if (options.allowMultiple) throw new Error("uxp (mock): allowMultiple is not modelled");
        if (!Array.isArray(options.types) || options.types.some((t) => typeof t !== "string")) {
          throw new TypeError("uxp (mock): getFileForOpening: types must be an array of file extensions");
        }
        if (!picks.length) throw new Error("uxp (mock): a file picker opened that no test expected (chooseFile first)");
        const file = picks.shift();
        if (file && !options.types.some((t) => file.name.toLowerCase().endsWith(`.${t.replace(/^\./, "").toLowerCase()}`))) {
          throw new Error(`uxp (mock): ${file.name} is not one of the picker's types ${options.types.join(", ")}`);
        }
        return file || undefined;
      },
    },
  },
  /** Test helpers (not UXP API). */
  dataFolder,
  chooseFile,
  pickerCalls,
};
