"use strict";
/**
 * A program squatting on the engine's port, for the tests: a real loopback TCP listener that
 * speaks just enough WebSocket (RFC 6455: the upgrade, unfragmented frames) to record every
 * text frame a client sends and to answer each `hello` the way an impostor would — with a
 * `challenge` whose proof it cannot make right, since it does not hold the token.
 */

const crypto = require("node:crypto");
const net = require("node:net");

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** One unmasked server → client text frame. */
function textFrame(text) {
  const payload = Buffer.from(text, "utf8");
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x81, length]) : Buffer.from([0x81, 126, length >> 8, length & 255]);
  return Buffer.concat([header, payload]);
}

/**
 * Parse the complete client frames at the start of `buffer`.
 * @returns {{frames: Array<{opcode: number, payload: Buffer}>, rest: Buffer}}
 */
function readFrames(buffer) {
  const frames = [];
  let offset = 0;
  while (buffer.length - offset >= 2) {
    const opcode = buffer[offset] & 15;
    let length = buffer[offset + 1] & 127;
    let at = offset + 2;
    if (length === 126) {
      if (buffer.length < at + 2) break;
      length = buffer.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      if (buffer.length < at + 8) break;
      length = Number(buffer.readBigUInt64BE(at));
      at += 8;
    }
    const masked = (buffer[offset + 1] & 128) !== 0;
    const mask = masked ? buffer.subarray(at, at + 4) : null;
    if (masked) at += 4;
    if (buffer.length < at + length) break;
    const payload = Buffer.from(buffer.subarray(at, at + length));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    frames.push({ opcode, payload });
    offset = at + length;
  }
  return { frames, rest: buffer.subarray(offset) };
}

/**
 * Start the impostor on a free loopback port.
 * @returns {Promise<{port: number, received: string[], close: () => Promise<void>}>} `received`: every
 *   text frame (and every raw byte, as latin-1, of each connection's upgrade request) it got
 */
async function startFakeEngine() {
  const received = [];
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString("latin1");
        received.push(head);
        buffer = buffer.subarray(end + 4);
        const key = /sec-websocket-key:\s*(\S+)/i.exec(head)[1];
        const accept = crypto.createHash("sha1").update(key + GUID).digest("base64");
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        upgraded = true;
      }
      const { frames, rest } = readFrames(buffer);
      buffer = rest;
      for (const { opcode, payload } of frames) {
        if (opcode === 8) {
          socket.end(Buffer.from([0x88, 0]));
          continue;
        }
        if (opcode !== 1) continue;
        const text = payload.toString("utf8");
        received.push(text);
        const message = JSON.parse(text);
        if (message.type === "hello") {
          const nonce = crypto.randomBytes(32).toString("hex");
          const proof = crypto.randomBytes(32).toString("hex"); // it cannot know the right one
          socket.write(textFrame(JSON.stringify({ v: 2, type: "challenge", id: "e1", ref: message.id, nonce, proof })));
        }
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: server.address().port,
    received,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

module.exports = { startFakeEngine };
