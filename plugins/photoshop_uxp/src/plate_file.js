/**
 * A clean plate from a file: UXP's file picker (PNG or JPEG), the file's bytes sent to the
 * engine as they are (it decodes them), the size read from the file's header.
 */
"use strict";

const { storage } = require("uxp");
const { photoFile } = require("./protocol");

/** The file types the picker offers: what the protocol carries as a file (png, jpeg). */
const PLATE_TYPES = Object.freeze(["png", "jpg", "jpeg"]);

/** The picked file is not a PNG or JPEG the engine can take; the message is for the user. */
class NotAnImage extends Error {}

/**
 * Ask the user for a clean plate file.
 * @returns {Promise<{name: string, buffer: {name: "plate", format: string, width: number, height: number, data: Uint8Array}}|null>}
 *   the file's name and its `plate` buffer; null when the picker was cancelled.
 * @throws {NotAnImage} when the file is not a PNG or JPEG with a readable size.
 */
async function pickPlateFile() {
  const file = await storage.localFileSystem.getFileForOpening({ types: [...PLATE_TYPES] });
  const picked = Array.isArray(file) ? file[0] : file;
  if (!picked) return null;
  const bytes = await picked.read({ format: storage.formats.binary });
  try {
    return { name: picked.name, buffer: photoFile("plate", bytes) };
  } catch (error) {
    throw new NotAnImage(`"${picked.name}" is not a PNG or JPEG file the engine can read`);
  }
}

module.exports = { PLATE_TYPES, NotAnImage, pickPlateFile };
