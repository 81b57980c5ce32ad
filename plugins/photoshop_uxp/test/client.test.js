"use strict";
// EngineClient over Node's built-in WebSocket against a real `softcut serve`
// (the tiny test model: reddish pixels are the subject).

const { after, before, describe, test } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");

const { CLIENT_VERSION, EngineClient, EngineError, EngineImpostor, EngineUnavailable, JobCancelled, ProtocolError } = require("../src/client");
const { clientProof, engineProof } = require("../src/hmac");
const { rawImage } = require("../src/protocol");
const { startEngine, occupyEngine } = require("../testing/engine");
const { startFakeEngine } = require("../testing/fake_engine");

/** An rgba8 image, red on the left half and blue on the right. */
function redBlue(width, height) {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i + (x < width / 2 ? 0 : 2)] = 255;
      data[i + 3] = 255;
    }
  }
  return rawImage("image", "rgba8", width, height, data);
}

/** Mean of a grey8 buffer's columns [x0, x1). */
function columnMean({ spec, data }, x0, x1) {
  let sum = 0;
  for (let y = 0; y < spec.height; y++) for (let x = x0; x < x1; x++) sum += data[y * spec.width + x];
  return sum / (spec.height * (x1 - x0));
}

/** A loopback port nothing listens on. */
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("the client's version is package.json's", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8"));
  assert.equal(CLIENT_VERSION, pkg.version);
  assert.deepEqual(new EngineClient().client, { name: "softcut-photoshop", version: pkg.version });
});

test("nothing listening: EngineUnavailable naming the address and `softcut serve`", async () => {
  const port = await freePort();
  const client = new EngineClient({ port });
  await assert.rejects(client.connect("any"), (error) => {
    assert.ok(error instanceof EngineUnavailable, error);
    assert.match(error.message, new RegExp(`engine at ws://127\\.0\\.0\\.1:${port} is not reachable`));
    assert.match(error.message, /softcut serve/);
    return true;
  });
  assert.equal(client.connected, false);
});

test("a server that never answers the upgrade: EngineUnavailable after connectTimeoutMs", async () => {
  const sockets = [];
  const server = net.createServer((socket) => sockets.push(socket)); // accepts, says nothing
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const client = new EngineClient({ port: server.address().port, connectTimeoutMs: 300 });
    const started = Date.now();
    await assert.rejects(client.connect("any"), (error) => error instanceof EngineUnavailable && /did not answer within 300 ms/.test(error.message));
    assert.ok(Date.now() - started < 3000);
    assert.equal(client.connected, false);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

test("a request before connect rejects with EngineUnavailable", async () => {
  const client = new EngineClient({ port: await freePort() });
  await assert.rejects(client.request("status").promise, (error) => error instanceof EngineUnavailable && /connect first/.test(error.message));
  await assert.rejects(client.status(), EngineUnavailable);
});

/** A scripted stand-in for the WebSocket constructor: records what is sent, answers through `reply`. */
function scriptedSocket(answer) {
  const sockets = [];
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      sockets.push(this);
      setTimeout(() => this.onopen(), 0);
    }
    send(data) {
      this.sent.push(data);
      answer(this, typeof data === "string" ? JSON.parse(data) : data);
    }
    close() {
      this.closed = true;
    }
    reply(...frames) {
      setTimeout(() => frames.forEach((frame) => this.onmessage({ data: frame })), 0);
    }
  }
  return { FakeSocket, sockets };
}

const WELCOME = (ref) => JSON.stringify({ v: 2, type: "welcome", id: "e1", ref, protocol: 2, device: "cpu", models: [], capabilities: [], limits: {} });
const ENGINE_NONCE = "ab".repeat(32);

/**
 * Answer a scripted socket's handshake as an engine holding `secret` would (true when `message` was part of it).
 * The auth's proof is checked: a wrong one gets `unauthorized`.
 */
function answerHandshake(socket, message, secret = "t") {
  if (message.type === "hello") {
    socket.clientNonce = message.nonce;
    const proof = engineProof(secret, message.nonce, ENGINE_NONCE);
    socket.reply(JSON.stringify({ v: 2, type: "challenge", id: "e0", ref: message.id, nonce: ENGINE_NONCE, proof }));
    return true;
  }
  if (message.type === "auth") {
    const right = message.ref === "e0" && message.proof === clientProof(secret, socket.clientNonce, ENGINE_NONCE);
    socket.reply(right ? WELCOME(message.id) : JSON.stringify({ v: 2, type: "error", id: "e9", ref: message.id, code: "unauthorized", message: "wrong proof" }));
    return true;
  }
  return false;
}

test("a message's frames go out back to back: JSON text, then each payload as an ArrayBuffer", async () => {
  const { FakeSocket, sockets } = scriptedSocket((socket, message) => {
    answerHandshake(socket, message, "t0k3n");
  });
  const client = new EngineClient({ port: 1234, WebSocket: FakeSocket });
  await client.connect("t0k3n");
  const [socket] = sockets;
  assert.equal(socket.url, "ws://127.0.0.1:1234/");
  assert.equal(socket.binaryType, "arraybuffer");
  const backing = new Uint8Array(100).fill(7);
  const image = rawImage("image", "grey8", 4, 2, backing.subarray(10, 18)); // a view into a larger buffer
  const guide = rawImage("guide", "grey8", 4, 2, new Uint8Array(8));
  const job = client.request("select_subject", { refine: "fast" }, { buffers: [image, guide] });
  const [hello, auth, text, first, second] = socket.sent;
  const { nonce, ...rest } = JSON.parse(hello);
  assert.deepEqual(rest, { v: 2, type: "hello", id: "p1", protocol: 2, client: { name: "softcut-photoshop", version: CLIENT_VERSION }, key: "master" });
  assert.match(nonce, /^[0-9a-f]{64}$/);
  assert.deepEqual(JSON.parse(auth), { v: 2, type: "auth", id: "p2", ref: "e0", proof: clientProof("t0k3n", nonce, ENGINE_NONCE) });
  assert.ok(!socket.sent.some((frame) => typeof frame === "string" && frame.includes("t0k3n")), "the token never goes out");
  assert.equal(JSON.parse(text).id, "p3");
  assert.deepEqual(JSON.parse(text).buffers.map((b) => b.size), [8, 8]);
  assert.ok(first instanceof ArrayBuffer && second instanceof ArrayBuffer);
  assert.equal(first.byteLength, 8, "only the view's bytes");
  assert.deepEqual(new Uint8Array(first), new Uint8Array(8).fill(7));
  assert.equal(second, guide.data.buffer, "a payload that spans its buffer goes without a copy");
  client.close();
  await assert.rejects(job.promise, (error) => error instanceof EngineUnavailable && /closed by the client/.test(error.message));
});

test("an engine that breaks the protocol: pending requests reject with ProtocolError, onClose is called", async () => {
  const { FakeSocket, sockets } = scriptedSocket((socket, message) => {
    answerHandshake(socket, message);
    if (message.type === "status") socket.reply(new Uint8Array(3).buffer); // a binary frame nobody announced
  });
  const closes = [];
  const client = new EngineClient({ WebSocket: FakeSocket, onClose: (event) => closes.push(event) });
  await client.connect("t");
  await assert.rejects(client.status(), (error) => error instanceof ProtocolError && /no message announced/.test(error.message));
  assert.equal(client.connected, false);
  assert.equal(sockets[0].closed, true);
  assert.equal(closes.length, 1);
  assert.match(closes[0].reason, /protocol error/);
});

test("requests the engine sends: announced in hello, answered by the handlers (or with an error)", async () => {
  const { FakeSocket, sockets } = scriptedSocket((socket, message) => {
    answerHandshake(socket, message);
  });
  const seen = [];
  const client = new EngineClient({
    WebSocket: FakeSocket,
    hello: { cutout_format: "rgba8" },
    accepts: {
      place_layer: async (message) => {
        seen.push([message.fields.delivery, message.buffers.cutout.data.length]);
        return { fields: { delivery: message.fields.delivery, ok: true, message: "placed" } };
      },
      canvas_snapshot: async () => {
        const error = new Error("no document is open");
        error.code = "not_found";
        throw error;
      },
    },
  });
  await client.connect("t");
  const [socket] = sockets;
  assert.deepEqual(JSON.parse(socket.sent[0]).accepts, ["place_layer", "canvas_snapshot"]);
  assert.equal(JSON.parse(socket.sent[0]).cutout_format, "rgba8");
  const sentBefore = socket.sent.length;
  socket.reply(
    JSON.stringify({ v: 2, type: "place_layer", id: "e5", buffers: [{ name: "cutout", format: "rgba8", width: 2, height: 1, size: 8 }], delivery: "d9", name: "Mug", x: 3, y: 4 }),
    new Uint8Array(8).buffer,
    JSON.stringify({ v: 2, type: "canvas_snapshot", id: "e6", max_side: 800 }),
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  const answers = socket.sent.slice(sentBefore).map((frame) => JSON.parse(frame));
  assert.deepEqual(seen, [["d9", 8]]);
  assert.deepEqual(answers.map((a) => [a.type, a.ref]), [["placed", "e5"], ["error", "e6"]]);
  assert.deepEqual([answers[0].delivery, answers[0].ok], ["d9", true]);
  assert.deepEqual([answers[1].code, answers[1].message], ["not_found", "no document is open"]);
  assert.throws(() => new EngineClient({ WebSocket: FakeSocket, accepts: { make_coffee: () => ({}) } }), /engine sends no request "make_coffee"/);
  client.close();
});

test("an impostor on the port: EngineImpostor, and nothing but hello (no secret) was sent to it", async () => {
  const fake = await startFakeEngine();
  try {
    for (const credential of ["the-master-token", "t0123456789abcdef.the-scoped-secret"]) {
      const client = new EngineClient({ port: fake.port, accepts: { canvas_snapshot: async () => ({ fields: {} }) } });
      await assert.rejects(client.connect(credential), (error) => {
        assert.ok(error instanceof EngineImpostor && error instanceof EngineUnavailable, error);
        assert.match(error.message, new RegExp(`the program on 127\\.0\\.0\\.1:${fake.port} could not prove it knows the token: it is not the Softcut engine, or the token is not this engine's`));
        return true;
      });
      assert.equal(client.connected, false);
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // anything sent after the challenge would have arrived
    const texts = fake.received.filter((frame) => frame.startsWith("{"));
    assert.deepEqual(texts.map((frame) => JSON.parse(frame).type), ["hello", "hello"]);
    for (const frame of fake.received) {
      for (const secret of ["the-master-token", "the-scoped-secret"]) assert.ok(!frame.includes(secret), `${secret} reached the impostor`);
    }
    assert.equal(JSON.parse(texts[1]).key, "t0123456789abcdef", "the key id, which is not secret");
  } finally {
    await fake.close();
  }
});

test("a scripted engine that skips the challenge (welcome at once) is an impostor too, and engine requests before auth are not answered", async () => {
  const { FakeSocket, sockets } = scriptedSocket((socket, message) => {
    if (message.type === "hello") {
      socket.reply(JSON.stringify({ v: 2, type: "canvas_snapshot", id: "e5" }), WELCOME(message.id));
    }
  });
  const snapshots = [];
  const client = new EngineClient({ WebSocket: FakeSocket, accepts: { canvas_snapshot: async () => snapshots.push(1) && { fields: {} } } });
  await assert.rejects(client.connect("t"), EngineImpostor);
  assert.deepEqual(snapshots, []);
  assert.deepEqual(sockets[0].sent.map((frame) => JSON.parse(frame).type), ["hello"]);
});

describe("against a running engine", () => {
  let engine;
  const clients = [];

  before(async () => {
    engine = await startEngine();
  });

  after(async () => {
    for (const client of clients) client.close();
    if (engine) await engine.stop();
  });

  /** A client connected with the engine's token (closed after the tests). */
  async function connected(options = {}) {
    const client = new EngineClient({ port: engine.port, ...options });
    clients.push(client);
    await client.connect(engine.token);
    return client;
  }

  test("connect with the token: welcome with device, models and capabilities", async () => {
    const client = new EngineClient({ port: engine.port });
    clients.push(client);
    assert.equal(client.connected, false);
    const welcome = await client.connect(engine.token);
    assert.equal(client.connected, true);
    assert.equal(welcome.protocol, 2);
    assert.equal(welcome.engine.name, "softcut");
    assert.equal(welcome.device, "cpu");
    assert.deepEqual(welcome.models.filter((m) => m.loaded).map((m) => m.name), ["tiny"]);
    for (const type of ["select_subject", "adjust_edges", "cancel", "status"]) assert.ok(welcome.capabilities.includes(type), type);
    assert.ok(welcome.limits.max_pixels > 0);
    assert.equal(client.welcome, welcome);

    const status = await client.status();
    assert.equal(status.model, "tiny");
    assert.ok(status.clients >= 1);

    await assert.rejects(client.connect(engine.token), /already connected/);
    client.close();
    assert.equal(client.connected, false);
    await assert.rejects(client.status(), EngineUnavailable);
    await client.connect(engine.token); // a closed client connects again
    assert.equal((await client.status()).model, "tiny");
  });

  test("a wrong token: the engine's proof does not match it (EngineImpostor), and no connection", async () => {
    let closes = 0;
    const client = new EngineClient({ port: engine.port, onClose: () => closes++ });
    await assert.rejects(client.connect("not-the-token"), (error) => {
      assert.ok(error instanceof EngineImpostor, error);
      assert.match(error.message, /could not prove it knows the token/);
      return true;
    });
    assert.equal(client.connected, false);
    assert.equal(closes, 0, "onClose is for connections that were up");
    // An id the engine never issued: unauthorized at hello.
    await assert.rejects(client.connect("t0000000000000000.secret"), (error) => error instanceof EngineError && error.code === "unauthorized");
  });

  test("select_subject: the red half is the subject; progress never decreases", async () => {
    const client = await connected();
    const fractions = [];
    const positions = [];
    const job = client.request(
      "select_subject",
      { outputs: ["alpha", "cutout"], refine: "fast" },
      { buffers: [redBlue(64, 48)], onProgress: (fraction, stage) => fractions.push([fraction, stage]), onAccepted: (p) => positions.push(p) },
    );
    assert.match(job.id, /^p\d+$/);
    const result = await job.promise;
    assert.equal(result.type, "result");
    assert.equal(result.ref, job.id);
    assert.match(result.fields.result, /^[A-Za-z0-9_.:-]+$/);
    const { alpha, cutout } = result.buffers;
    assert.deepEqual(alpha.spec, { name: "alpha", format: "grey8", width: 64, height: 48, size: 64 * 48 });
    assert.ok(alpha.data instanceof Uint8Array);
    assert.equal(cutout.spec.format, "rgba8");
    assert.equal(cutout.data.byteLength, 64 * 48 * 4);
    assert.ok(columnMean(alpha, 0, 24) > 200, `left ${columnMean(alpha, 0, 24)}`);
    assert.ok(columnMean(alpha, 40, 64) < 55, `right ${columnMean(alpha, 40, 64)}`);

    assert.deepEqual(positions, [0]);
    assert.ok(fractions.length >= 1, "at least one progress report");
    for (const [fraction, stage] of fractions) {
      assert.ok(fraction >= 0 && fraction <= 1, String(fraction));
      assert.equal(typeof stage, "string");
    }
    for (let i = 1; i < fractions.length; i++) assert.ok(fractions[i][0] >= fractions[i - 1][0], JSON.stringify(fractions));
  });

  test("adjust_edges on the result id: a feathered alpha of the same size", async () => {
    const client = await connected();
    const first = await client.request("select_subject", { refine: "fast" }, { buffers: [redBlue(64, 48)] }).promise;
    const adjusted = await client.request("adjust_edges", { result: first.fields.result, edges: { feather: 6 } }).promise;
    const before = first.buffers.alpha;
    const after = adjusted.buffers.alpha;
    assert.deepEqual(after.spec, before.spec);
    assert.notDeepEqual(after.data, before.data);
    // Feathering softens the edge: the columns next to it move towards grey.
    assert.ok(columnMean(after, 28, 32) < columnMean(before, 28, 32), "inside the edge gets darker");
    assert.ok(columnMean(after, 32, 36) > columnMean(before, 32, 36), "outside the edge gets lighter");

    await assert.rejects(
      client.request("adjust_edges", { result: "no-such-result" }).promise,
      (error) => error instanceof EngineError && error.code === "not_found",
    );
    await assert.rejects(
      client.request("adjust_edges", { result: first.fields.result, edges: { feather: -1 } }).promise,
      (error) => error instanceof EngineError && error.code === "bad_parameter" && /feather/.test(error.message),
    );
  });

  test("cancel a queued batch job: JobCancelled; the job ahead of it finishes", async () => {
    const client = await connected();
    const busy = await occupyEngine(engine); // both runners busy: the two jobs below wait in the queue
    const first = client.request("select_subject", { priority: "batch" }, { buffers: [redBlue(1024, 1024)] });
    const second = client.request("select_subject", { priority: "batch" }, { buffers: [redBlue(64, 48)] });
    second.cancel();
    await assert.rejects(second.promise, (error) => {
      assert.ok(error instanceof JobCancelled, error);
      assert.equal(error.job, second.id);
      assert.match(error.by, /^p\d+$/);
      return true;
    });
    const result = await first.promise;
    assert.equal(result.buffers.alpha.spec.width, 1024);
    second.cancel(); // an ended job: nothing is sent, nothing breaks
    first.cancel();
    await busy.finished();
    assert.equal((await client.status()).jobs.queued, 0);
  });

  test("pairing: the printed code works once; a used or wrong code is unauthorized", async () => {
    const probe = await connected();
    assert.ok(probe.welcome.capabilities.includes("pair"), "softcut serve offers pairing codes");
    const code = await engine.nextPairingCode();
    const client = new EngineClient({ port: engine.port });
    clients.push(client);
    const { credential, scope, welcome } = await client.pair(code);
    assert.match(credential, /^t[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
    assert.ok(!credential.includes(engine.token), "a scoped token of its own, never the master token");
    assert.equal(scope, "editor");
    assert.equal(welcome.device, "cpu");
    assert.equal(client.connected, true);
    assert.equal((await client.status()).model, "tiny");

    const again = new EngineClient({ port: engine.port });
    await assert.rejects(again.pair(code), (error) => error instanceof EngineError && error.code === "unauthorized");
    assert.equal(again.connected, false);
    const fresh = await engine.nextPairingCode(code);
    const wrong = String((Number(fresh) + 1) % 1_000_000).padStart(6, "0");
    await assert.rejects(again.pair(wrong), (error) => error instanceof EngineError && error.code === "unauthorized");

    const later = new EngineClient({ port: engine.port }); // the credential it got works for later connections
    clients.push(later);
    assert.equal((await later.connect(credential)).device, "cpu");
  });
});

describe("an engine that dies mid-request", () => {
  let engine;
  before(async () => {
    engine = await startEngine();
  });
  after(async () => {
    if (engine) await engine.stop();
  });

  test("the job rejects with EngineUnavailable and onClose is called", async () => {
    const closes = [];
    const client = new EngineClient({ port: engine.port, onClose: (event) => closes.push(event) });
    await client.connect(engine.token);
    const job = client.request("select_subject", {}, { buffers: [redBlue(1024, 1024)], onAccepted: () => engine.process.kill("SIGKILL") });
    await assert.rejects(job.promise, (error) => {
      assert.ok(error instanceof EngineUnavailable, error);
      assert.match(error.message, /connection to the Softcut engine at ws:\/\/127\.0\.0\.1:\d+ was lost/);
      return true;
    });
    assert.equal(closes.length, 1);
    assert.equal(typeof closes[0].code, "number");
    assert.equal(client.connected, false);
    await assert.rejects(client.request("status").promise, EngineUnavailable);
    await assert.rejects(client.connect(engine.token), EngineUnavailable);
  });
});
