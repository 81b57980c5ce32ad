"use strict";
/**
 * Softcut protocol v2 for the client side (docs/protocol.md), with no I/O: what the panel,
 * client.js and the phone page require as `./protocol`.
 *
 * The parts, one job each: constants.js (version, port, formats, limits), codec.js (messages
 * ⇄ frames: `encode`, `Decoder`, message ids), buffers.js (a buffer's checks, `rawImage`,
 * `photoFile`, `bufferKey`), image_size.js (a PNG's or JPEG's size from its header) and requests.js (the
 * requests the panel sends). Nothing here touches a socket.
 */

const { PROTOCOL_VERSION, DEFAULT_PORT, RAW_CHANNELS, BUFFER_FORMATS, MAX_BUFFERS } = require("./constants");
const { ProtocolError, isValidId, idGenerator, encode, Decoder } = require("./codec");
const { rawImage, photoFile, bufferKey } = require("./buffers");
const { SEGMENTS, SEGMENT_MASKS, OBJECT_MODES, OBJECT_POINTS_MAX, isSegmentCount, segmentNames, requests } = require("./requests");

module.exports = {
  PROTOCOL_VERSION,
  DEFAULT_PORT,
  RAW_CHANNELS,
  BUFFER_FORMATS,
  MAX_BUFFERS,
  ProtocolError,
  isValidId,
  idGenerator,
  rawImage,
  photoFile,
  bufferKey,
  encode,
  Decoder,
  SEGMENTS,
  SEGMENT_MASKS,
  isSegmentCount,
  segmentNames,
  OBJECT_MODES,
  OBJECT_POINTS_MAX,
  requests,
};
