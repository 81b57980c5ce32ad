"use strict";
/**
 * Softcut protocol v2's constants and limits (docs/protocol.md): the version, the default
 * port, the buffer formats and how many buffers a message may carry. The codec, the client
 * and the requests share them; `protocol.js` exports them to the panel and the phone page.
 */

/** The protocol version this client speaks (`v` and `hello.protocol`). */
const PROTOCOL_VERSION = 2;
/** The port `softcut serve` listens on by default. */
const DEFAULT_PORT = 47841;
/** Buffer formats and the channels of the raw ones (png and jpeg have none: their size is the file's). */
const RAW_CHANNELS = Object.freeze({ rgba8: 4, rgb8: 3, grey8: 1 });
const BUFFER_FORMATS = Object.freeze(["rgba8", "rgb8", "grey8", "png", "jpeg"]);
/** At most this many buffers (binary frames) follow one message. */
const MAX_BUFFERS = 10;
const MAX_NAME_LENGTH = 128;
const ENVELOPE_KEYS = Object.freeze(["v", "type", "id", "ref", "buffers"]);
const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

module.exports = { PROTOCOL_VERSION, DEFAULT_PORT, RAW_CHANNELS, BUFFER_FORMATS, MAX_BUFFERS, MAX_NAME_LENGTH, ENVELOPE_KEYS, ID_PATTERN };
