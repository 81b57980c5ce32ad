"use strict";
/**
 * EngineClient: one WebSocket connection to the Softcut engine (docs/protocol.md).
 *
 * The WebSocket constructor is injected: UXP's browser-like global in Photoshop,
 * Node's global (`node --experimental-websocket`) in the tests. Requests are
 * pipelined; replies are matched to requests by `ref`.
 */

const { PROTOCOL_VERSION, DEFAULT_PORT, ProtocolError, Decoder, encode, idGenerator } = require("./protocol");
const { clientProof, engineProof, parseCredential, proofMatches, randomHex } = require("./hmac");
const { croppedGrey } = require("./buffers");

/** This panel's version, sent in `hello.client` (kept equal to package.json's by a test). */
const CLIENT_VERSION = "0.1.0";
const CLIENT_NAME = "softcut-photoshop";

/** The engine cannot be reached, or the connection to it was lost. */
class EngineUnavailable extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "EngineUnavailable";
  }
}

/**
 * What answers on the engine's port could not prove that it holds the key (another program, or an
 * engine whose token is not this one): the connection is closed and nothing but `hello`, which
 * carries no secret, was sent to it.
 */
class EngineImpostor extends EngineUnavailable {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "EngineImpostor";
  }
}

/**
 * The engine answered a request with an `error` message; `code` is its error code (e.g.
 * `unauthorized`, `alignment_failed`) and `detail` the engine's own explanation (the message
 * is "code: detail").
 */
class EngineError extends Error {
  /**
   * @param {string} code the protocol error code
   * @param {string} message the engine's explanation
   * @param {string|null} [ref] the id of the request it answers
   */
  constructor(code, message, ref = null) {
    super(`${code}: ${message}`);
    this.name = "EngineError";
    this.code = code;
    this.detail = message;
    this.ref = ref;
  }
}

/** A job ended with `cancelled` (by this client's cancel, or by the engine); `by` is the cancel request's id. */
class JobCancelled extends Error {
  /**
   * @param {string} job the job's request id
   * @param {string|null} by the cancel request's id (null when the engine cancelled on its own)
   */
  constructor(job, by = null) {
    super(`job ${job} was cancelled`);
    this.name = "JobCancelled";
    this.job = job;
    this.by = by;
  }
}

/** Replies that do not end a request: it goes on until another message with its ref arrives. */
const INTERIM_TYPES = new Set(["accepted", "progress"]);
/** The requests whose alpha may come back as its box (`crop_alpha`; docs/protocol.md, BufferSpec `within`). */
const CROPPED_REQUESTS = Object.freeze(["select_subject", "refine", "select_object", "adjust_edges"]);
/** The request buffers sent as their box: select_object's rough mask and previous matte. */
const SENT_AS_BOXES = Object.freeze(["mask", "previous"]);
/** The requests the engine may send to a client, and the type of the answer to each. */
const ANSWERS = Object.freeze({ place_layer: "placed", canvas_snapshot: "snapshot" });

/** Copy-free ArrayBuffer for a payload when it spans its whole buffer, else an exact copy. */
function wireBytes(frame) {
  if (typeof frame === "string") return frame;
  if (frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength) return frame.buffer;
  return frame.slice().buffer;
}

/** Call a user callback; an exception it throws surfaces asynchronously instead of breaking the dispatch. */
function callSafely(callback, ...args) {
  if (typeof callback !== "function") return;
  try {
    callback(...args);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/**
 * One connection to the engine.
 *
 * Lifecycle: `connect(credential)` (or `pair(code)`) opens the socket and completes the
 * handshake (hello → challenge, whose proof is checked before anything else is sent → auth →
 * welcome; the credential itself never goes on the wire); then `request()`, `status()`; `close()` ends it. When the connection
 * drops after a successful handshake (the engine stopped), every pending request
 * rejects with EngineUnavailable and `onClose({code, reason})` is called. A closed
 * client can connect again. An exception thrown by onClose, onProgress or onAccepted
 * is rethrown from a microtask (an uncaught error) so that it cannot stall the client.
 */
class EngineClient {
  /**
   * @param {object} [options]
   * @param {string} [options.host="127.0.0.1"]
   * @param {number} [options.port=47841]
   * @param {Function} [options.WebSocket=globalThis.WebSocket] a browser-like WebSocket constructor
   * @param {{name: string, version: string}} [options.client] who this client is, sent in hello and pair
   * @param {number} [options.connectTimeoutMs=5000] for opening the socket and the handshake
   * @param {(event: {code: number, reason: string}) => void} [options.onClose] called when an established
   *   connection ends other than by close()
   * @param {Object<string, (message: object) => Promise<{fields?: object, buffers?: Array}>>} [options.accepts]
   *   handlers for requests the engine sends (`place_layer`, `canvas_snapshot`), announced in hello;
   *   a handler's {fields, buffers} become the answer (`placed`, `snapshot`); a handler that throws
   *   is answered with `error` {code: error.code or "internal", message}
   * @param {object} [options.hello] further hello fields, e.g. {cutout_format: "rgba8"} (how place_layer's
   *   cut-out should come)
   */
  constructor({
    host = "127.0.0.1",
    port = DEFAULT_PORT,
    WebSocket = globalThis.WebSocket,
    client = { name: CLIENT_NAME, version: CLIENT_VERSION },
    connectTimeoutMs = 5000,
    onClose = null,
    accepts = {},
    hello = {},
  } = {}) {
    if (typeof WebSocket !== "function") {
      throw new TypeError("WebSocket: no WebSocket constructor (in Node 20, run with --experimental-websocket)");
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port: expected an integer in [0, 65535]; got ${port}`);
    this.host = host;
    this.port = port;
    this.client = client;
    this.connectTimeoutMs = connectTimeoutMs;
    /** Called with {code, reason} when an established connection ends other than by close(). */
    this.onClose = onClose;
    for (const type of Object.keys(accepts)) {
      if (!ANSWERS[type]) throw new RangeError(`accepts: the engine sends no request ${JSON.stringify(type)}; known: ${Object.keys(ANSWERS).join(", ")}`);
    }
    /** Handlers for the requests the engine sends, by type. */
    this.accepts = accepts;
    this.helloFields = hello;
    /** The `welcome` fields of the current connection (null before the handshake). */
    this.welcome = null;
    this._WebSocket = WebSocket;
    this._socket = null;
    this._ready = false;
    this._authenticated = false;
    this._pending = new Map(); // request id → {resolve, reject, onProgress, onAccepted}
    this._cancels = new Set(); // ids of cancel requests whose answer may be `error not_found`
    this._decoder = null;
    this._nextId = null;
  }

  /** The engine's address, e.g. ws://127.0.0.1:47841 */
  get url() {
    const host = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `ws://${host}:${this.port}`;
  }

  /** Whether the socket is open and the handshake succeeded. */
  get connected() {
    return this._ready && this._socket !== null;
  }

  /**
   * Open the connection and authenticate with a credential (challenge–response: it is never sent).
   * @param {string} credential the engine's master token (its `token` file) or a paired "<id>.<secret>"
   * @returns {Promise<object>} the `welcome` fields: protocol, engine, device, models, capabilities, limits
   * @throws {EngineImpostor} what answers on the port could not prove it holds the key (not the engine,
   *   or another engine's token); the connection is closed
   * @throws {EngineUnavailable} nothing listens, the connection closed, or no answer within connectTimeoutMs
   * @throws {EngineError} the engine refused (code `unauthorized` for an unknown or revoked key)
   * @throws {ProtocolError} the peer sent frames that break the protocol (it is not a Softcut engine)
   * @throws {Error} the host has no crypto.getRandomValues for the nonce
   */
  async connect(credential) {
    return this._handshake(async () => this._hello(credential));
  }

  /**
   * Trade the pairing code `softcut serve` prints (or a phone link's one-time token) for a scoped
   * token of this client's own, then authenticate with it on the same connection.
   * @param {string} code the six digits the engine printed, or a phone link's one-time token
   * @returns {Promise<{credential: string, scope: string, welcome: object}>} keep the credential
   *   ("<id>.<secret>") for later connect() calls; scope is "editor" (a code) or "phone" (a link)
   * @throws {EngineImpostor|EngineUnavailable} as for connect()
   * @throws {EngineError} code `unauthorized` for a wrong, used or expired code
   */
  async pair(code) {
    return this._handshake(async () => {
      const paired = await this._call("pair", { code, client: this.client });
      if (paired.type !== "paired") throw new EngineImpostor(`the program on ${this.host}:${this.port} answered pair with ${paired.type}: it is not the Softcut engine`);
      const { credential, scope } = paired.fields;
      return { credential, scope, welcome: await this._hello(credential) };
    });
  }

  /**
   * Send a request. Job requests (select_subject, plate_matte, trimap, refine, adjust_edges, soft_segments) end with
   * `result`; others (status, models.list) with their reply message.
   * @param {string} type the request type
   * @param {object} [fields] its fields (see docs/protocol.md)
   * @param {object} [options]
   * @param {Array<{name: string, format: string, width: number, height: number, data: Uint8Array}>} [options.buffers] e.g. rawImage("image", …)
   * @param {(fraction: number, stage: string) => void} [options.onProgress]
   * @param {(position: number) => void} [options.onAccepted] jobs ahead of this one when it was queued
   * @returns {{id: (string|null), promise: Promise<{type: string, id: string, ref: string, fields: object, buffers: object}>, cancel: () => void}}
   *   id is the request's id (null when not connected: the promise rejects with EngineUnavailable);
   *   the promise resolves with the final message ({fields, buffers: {name: {spec, data}}}) and rejects
   *   with EngineError, JobCancelled or EngineUnavailable; cancel() asks the engine to cancel the job
   *   (a no-op once it has ended; a cancel that comes too late lets the result through)
   * @throws {RangeError|TypeError} when the message cannot be encoded (bad buffers, NaN)
   */
  request(type, fields = {}, { buffers = [], onProgress, onAccepted } = {}) {
    if (!this.connected) {
      const promise = Promise.reject(new EngineUnavailable(`not connected to the Softcut engine at ${this.url}: connect first`));
      return { id: null, promise, cancel: () => {} };
    }
    const boxed = this._withBoxes(type, fields, buffers);
    const { id, promise } = this._send(type, boxed.fields, boxed.buffers, { onProgress, onAccepted });
    return { id, promise, cancel: () => this._cancel(id) };
  }

  /**
   * The request as it goes to an engine that says it takes boxes (`crop_alpha` in `welcome`'s
   * capabilities): a request that makes a matte asks for the alpha as its box, and select_object's mask
   * and previous matte go as theirs (`croppedGrey`); the decoder gives the alpha back whole. The twin
   * of wire/protocol/boxes.py's `with_boxes`.
   */
  _withBoxes(type, fields, buffers) {
    const can = this.welcome && Array.isArray(this.welcome.capabilities) && this.welcome.capabilities.includes("crop_alpha");
    if (!can || !CROPPED_REQUESTS.includes(type)) return { fields, buffers };
    return {
      fields: "crop_alpha" in fields ? fields : { ...fields, crop_alpha: true },
      buffers: buffers.map((b) => (SENT_AS_BOXES.includes(b.name) ? croppedGrey(b) : b)),
    };
  }

  /**
   * Send a request built by `protocol.requests` (`{type, fields, buffers}`); as `request()`.
   * @param {{type: string, fields?: object, buffers?: Array}} built
   * @param {{onProgress?: Function, onAccepted?: Function}} [options]
   * @returns {{id: (string|null), promise: Promise<object>, cancel: () => void}}
   */
  send(built, { onProgress, onAccepted } = {}) {
    return this.request(built.type, built.fields || {}, { buffers: built.buffers || [], onProgress, onAccepted });
  }

  /**
   * The engine's state (the `status` request).
   * @returns {Promise<object>} the status fields: device, model, jobs {queued, running}, jobs_done, clients, uptime_s, cache_bytes
   */
  async status() {
    const reply = await this.request("status").promise;
    return reply.fields;
  }

  /** Close the connection; pending requests reject with EngineUnavailable. onClose is not called. */
  close() {
    const socket = this._socket;
    if (socket === null) return;
    this._teardown(new EngineUnavailable(`the connection to the Softcut engine at ${this.url} was closed by the client`));
    try {
      socket.close(1000, "client closed");
    } catch {
      // already closing
    }
  }

  // ------------------------------------------------------------------ internals

  async _handshake(exchange) {
    if (this._socket !== null) throw new Error("already connected: close() first");
    let timer = null;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new EngineUnavailable(`the Softcut engine at ${this.url} did not answer within ${this.connectTimeoutMs} ms: is it running? Start it with \`softcut serve\``)),
        this.connectTimeoutMs,
      );
    });
    const work = this._open().then(exchange);
    work.catch(() => {}); // when the timeout wins, the exchange's own rejection is not news
    try {
      const answer = await Promise.race([work, timeout]);
      this._ready = true;
      return answer;
    } catch (error) {
      this.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The handshake on the open socket: hello, the engine's proof checked, auth, welcome. */
  async _hello(credential) {
    const { key, secret } = parseCredential(credential);
    const nonce = randomHex();
    const accepts = Object.keys(this.accepts);
    const challenge = await this._call("hello", {
      ...this.helloFields, protocol: PROTOCOL_VERSION, client: this.client, key, nonce, ...(accepts.length ? { accepts } : {}),
    });
    const engineNonce = String(challenge.fields.nonce);
    if (challenge.type !== "challenge" || !proofMatches(challenge.fields.proof, engineProof(secret, nonce, engineNonce))) {
      throw new EngineImpostor(
        `the program on ${this.host}:${this.port} could not prove it knows the token: it is not the Softcut engine, or the token is not this engine's (nothing secret was sent to it)`,
      );
    }
    const reply = await this._call("auth", { ref: challenge.id, proof: clientProof(secret, nonce, engineNonce) });
    if (reply.type !== "welcome") throw new EngineImpostor(`the engine on ${this.host}:${this.port} answered auth with ${reply.type}, not welcome`);
    this._authenticated = true;
    this.welcome = reply.fields;
    return reply.fields;
  }

  _call(type, fields) {
    return this._send(type, fields, [], {}).promise;
  }

  /** Open the socket; resolves once it is open. */
  _open() {
    return new Promise((resolve, reject) => {
      let socket;
      try {
        socket = new this._WebSocket(`${this.url}/`);
      } catch (error) {
        reject(new EngineUnavailable(`the Softcut engine at ${this.url} is not reachable (${error.message}): start it with \`softcut serve\``));
        return;
      }
      socket.binaryType = "arraybuffer";
      this._socket = socket;
      this._decoder = new Decoder();
      this._nextId = idGenerator("p");
      let opened = false;
      socket.onopen = () => {
        opened = true;
        resolve();
      };
      // Browsers follow an error with a close event; Node 20's WebSocket may not (a refused
      // connection only errors), so whichever comes first ends the connection.
      const lost = (code, reason) => {
        if (this._socket !== socket) return; // already torn down (close(), or the other event)
        const detail = `close code ${code}${reason ? `, ${reason}` : ""}`;
        const error = opened
          ? new EngineUnavailable(`the connection to the Softcut engine at ${this.url} was lost (${detail}): restart it with \`softcut serve\``)
          : new EngineUnavailable(`the Softcut engine at ${this.url} is not reachable: start it with \`softcut serve\``);
        this._lose(error, { code, reason });
        if (!opened) reject(error);
      };
      socket.onerror = () => {
        lost(1006, "");
        try {
          socket.close();
        } catch {
          // never opened
        }
      };
      socket.onclose = (event) => lost(event.code, event.reason);
      socket.onmessage = (event) => this._receive(event.data);
    });
  }

  /** Encode and send a message; registers its pending entry. */
  _send(type, fields, buffers, callbacks) {
    const id = this._nextId();
    const frames = encode({ ...fields, type, id, buffers });
    const promise = new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject, ...callbacks });
    });
    for (const frame of frames) this._socket.send(wireBytes(frame));
    return { id, promise };
  }

  _cancel(jobId) {
    if (!this._pending.has(jobId) || this._socket === null) return; // already ended
    const id = this._nextId();
    this._cancels.add(id);
    const [frame] = encode({ type: "cancel", id, job: jobId });
    this._socket.send(frame);
  }

  _receive(data) {
    let message;
    try {
      message = this._decoder.feed(data);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      // The engine broke the protocol: nothing it sends can be trusted to match up any more.
      const socket = this._socket;
      this._lose(error, { code: 1000, reason: `protocol error: ${error.message}` });
      socket.close(1000, "protocol error");
      return;
    }
    if (message !== null) this._dispatch(message);
  }

  _dispatch(message) {
    const { type, ref, fields } = message;
    if (ref === null && Object.prototype.hasOwnProperty.call(this.accepts, type)) {
      if (this._authenticated) this._answer(message); // never to a peer that has not proved itself
      return;
    }
    if (type === "cancelled" && typeof fields.by === "string") this._cancels.delete(fields.by);
    if (type === "error" && this._cancels.delete(ref)) return; // cancel of a job that had ended: not_found
    const entry = ref === null ? undefined : this._pending.get(ref);
    if (entry === undefined) return; // an error about a message with no readable id, or a late event
    if (type === "accepted") {
      callSafely(entry.onAccepted, fields.position);
    } else if (type === "progress") {
      callSafely(entry.onProgress, fields.fraction, fields.stage);
    }
    if (INTERIM_TYPES.has(type)) return;
    this._pending.delete(ref);
    if (type === "error") {
      entry.reject(new EngineError(fields.code, fields.message, ref));
    } else if (type === "cancelled") {
      entry.reject(new JobCancelled(ref, fields.by ?? null));
    } else {
      entry.resolve(message);
    }
  }

  /** Run the handler for a request the engine sent, and send its answer (or an error) back. */
  async _answer(message) {
    const socket = this._socket;
    let reply;
    try {
      const answer = (await this.accepts[message.type](message)) || {};
      reply = { ...(answer.fields || {}), type: ANSWERS[message.type], buffers: answer.buffers || [] };
    } catch (error) {
      reply = { type: "error", code: (error && error.code) || "internal", message: String((error && error.message) || error) };
    }
    if (this._socket !== socket || socket === null) return; // the connection ended meanwhile
    const frames = encode({ ...reply, id: this._nextId(), ref: message.id });
    for (const frame of frames) socket.send(wireBytes(frame));
  }

  /** The connection ended other than by close(): tear it down, and tell onClose if it was up. */
  _lose(error, event) {
    const wasReady = this._ready;
    this._teardown(error);
    if (wasReady) callSafely(this.onClose, event);
  }

  /** Forget the connection: reject everything pending with `error`. */
  _teardown(error) {
    const socket = this._socket;
    this._socket = null;
    this._ready = false;
    this._authenticated = false;
    this._decoder = null;
    this._cancels.clear();
    if (socket !== null) {
      socket.onopen = null;
      socket.onmessage = null;
    }
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const entry of pending) entry.reject(error);
  }
}

module.exports = { CLIENT_VERSION, EngineClient, EngineUnavailable, EngineImpostor, EngineError, JobCancelled, ProtocolError };
