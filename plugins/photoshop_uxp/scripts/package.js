/**
 * `npm run package`: build dist/softcut-photoshop.ccx, the installable UXP package.
 *
 * A .ccx is a ZIP archive of the plug-in with manifest.json at its root. The files are the
 * ones package.json's "files" lists (folders taken whole, hidden files left out), the same
 * list `softcut install-plugin photoshop` zips when no package was built. Written with
 * Node's own zlib (deflate and CRC-32); no dependencies.
 */
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const zlib = require("node:zlib");

const ROOT = path.resolve(__dirname, "..");
const OUTPUT = path.join(ROOT, "dist", "softcut-photoshop.ccx");

/**
 * The archive's entries: paths relative to `root`, forward slashes, manifest.json first.
 * @param {string} root the plug-in folder.
 * @param {string[]} listed package.json "files": files or folders (a trailing slash is allowed).
 * @returns {string[]}
 */
function packageFiles(root, listed) {
  const out = [];
  const walk = (relative) => {
    const full = path.join(root, relative);
    if (!fs.existsSync(full)) throw new Error(`package.json lists ${relative}, which does not exist`);
    if (fs.statSync(full).isDirectory()) {
      for (const name of fs.readdirSync(full).sort()) if (!name.startsWith(".")) walk(path.posix.join(relative, name));
    } else {
      out.push(relative);
    }
  };
  for (const entry of listed) walk(entry.replace(/\/+$/, ""));
  if (!out.includes("manifest.json")) throw new Error("package.json's files must list manifest.json");
  return ["manifest.json", ...out.filter((f) => f !== "manifest.json")];
}

function dosTime(date) {
  const time = (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2);
  const day = ((date.getFullYear() - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate();
  return { time, day };
}

/**
 * The fields a local header (from byte 4) and a central directory entry (from byte 6) share:
 * version needed 2.0, UTF-8 names, deflate, DOS time and date, CRC-32, sizes, name length.
 */
function writeEntryFields(buffer, at, { time, day, crc, packedSize, size, nameLength }) {
  buffer.writeUInt16LE(20, at);
  buffer.writeUInt16LE(0x0800, at + 2);
  buffer.writeUInt16LE(8, at + 4);
  buffer.writeUInt16LE(time, at + 6);
  buffer.writeUInt16LE(day, at + 8);
  buffer.writeUInt32LE(crc, at + 10);
  buffer.writeUInt32LE(packedSize, at + 14);
  buffer.writeUInt32LE(size, at + 18);
  buffer.writeUInt16LE(nameLength, at + 22);
}

/**
 * A ZIP archive (deflated entries, no ZIP64) of `files` read from `root`.
 * @returns {Buffer}
 */
function zip(root, files) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const name of files) {
    const data = fs.readFileSync(path.join(root, name));
    const packed = zlib.deflateRawSync(data, { level: 9 });
    const crc = zlib.crc32(data);
    const { time, day } = dosTime(fs.statSync(path.join(root, name)).mtime);
    const fileName = Buffer.from(name, "utf8");
    const fields = { time, day, crc, packedSize: packed.length, size: data.length, nameLength: fileName.length };
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    writeEntryFields(header, 4, fields);
    locals.push(header, fileName, packed);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4); // made by: version 2.0
    writeEntryFields(entry, 6, fields);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, fileName);
    offset += header.length + fileName.length + packed.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** Build the package; returns its path and entries. */
function build(root = ROOT, output = OUTPUT) {
  const listed = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).files;
  const files = packageFiles(root, listed);
  fs.mkdirSync(path.dirname(output), { recursive: true });
  fs.writeFileSync(output, zip(root, files));
  return { output, files };
}

if (require.main === module) {
  const { output, files } = build();
  console.log(`wrote ${path.relative(process.cwd(), output)} (${files.length} files): install it by double-clicking it, or load manifest.json in the UXP Developer Tool`);
}

module.exports = { packageFiles, zip, build };
