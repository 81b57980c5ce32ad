/**
 * An in-memory stand-in for UXP's `uxp` module: the plug-in data folder
 * (`storage.localFileSystem.getDataFolder`) with files that can be written and read back.
 * Missing entries throw, as UXP's `getEntry` does.
 * Plain JavaScript with no Node modules, so the browser can load it too.
 */
"use strict";

class MemoryFile {
  constructor(name) {
    this.name = name;
    this.isFile = true;
    this.text = "";
  }

  async read() {
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

module.exports = {
  storage: {
    localFileSystem: {
      async getDataFolder() {
        return dataFolder;
      },
    },
  },
  /** Test helper (not UXP API). */
  dataFolder,
};
